//! [`RecordSealer`]: seals and opens the records of one stream under one key.

use std::sync::atomic::{AtomicU64, Ordering};

use rand::Rng as _;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use zeroize::Zeroize as _;

use crate::cipher::StreamCipher;
use crate::error::StreamError;
use crate::identity::{MAX_ENCODED_LEN, StreamIdentity};
use crate::key::EncryptionKey;
use crate::primitive::{RecordCipher, TAG_LEN};
use crate::record::{RecordFormat, inspect};
use crate::schedule::{KeyCheck, derive};

/// Domain-separation label at the start of every record's associated data.
const AD_LABEL: &[u8] = b"sealkit-stream/v1/record";
/// Presence byte and big-endian u64 of an optional sequence number.
const SEQ_FIELD_LEN: usize = 1 + 8;
const MAX_AD_LEN: usize = AD_LABEL.len() + 1 + MAX_ENCODED_LEN + SEQ_FIELD_LEN;

/// Seals and opens the records of one stream under one client key.
///
/// Build it once per (key, stream) and reuse it: construction runs the HKDF key schedule and keys
/// the cipher; sealing and opening then only generate a nonce and run the AEAD. It is `Send + Sync`,
/// so one sealer can serve concurrent appends and reads of its stream.
///
/// **What to seal.** A record's plaintext is one byte string: S2 encrypts a record's headers and
/// body together, and a server does the same by sealing its serialisation of the whole record,
/// never the body alone with headers stored in clear beside it.
///
/// Every record is bound, through both the derived key and the associated data, to the stream's
/// identity and cipher, and — when the caller passes one — to its sequence number, so a record
/// replayed at another position of the same stream fails too.
///
/// **Record limit.** AES-256-GCM with random 96-bit nonces is safe for 2^32 encryptions per key
/// (the key is derived per stream). Pass each record's sequence number and positions beyond 2^32
/// are refused. Besides, this sealer counts every record it seals, with or without a sequence
/// number, and refuses the 2^32nd + 1: a count only as good as the sealer's lifetime. Across
/// lifetimes only the positions bound the budget, so sealing the same position again (a retried
/// append, a rewrite) draws a fresh nonce from it uncounted: a server that re-seals positions often
/// should count them or give the stream a new incarnation.
///
/// **Nonces, fork and VM snapshots.** A nonce is the thread-local CSPRNG's output (fast: no system
/// call per record) XORed with a mask this sealer drew from the operating system when it was
/// built. The thread-local generator's state is copied into every process a `fork` or a VM
/// snapshot restore makes, and would then repeat its output there; the mask keeps the nonces of
/// sealers built afterwards apart. So build sealers after forking, and after a restore drop the
/// sealers built before it: a sealer in use on both sides of a fork or restore can repeat nonces.
pub struct RecordSealer {
    format: RecordFormat,
    cipher: RecordCipher,
    key_check: KeyCheck,
    /// `AD_LABEL ‖ format ‖ identity ‖ 0x00`, computed once: the whole AD of a record sealed without
    /// a sequence number; with one, the last byte becomes `0x01` followed by the number.
    ad_unsequenced: Vec<u8>,
    /// Records this sealer has sealed (only counted for bounded ciphers): each one drew a nonce
    /// from the key's budget, whatever position it was given.
    sealed: AtomicU64,
    /// XORed into every nonce; from the operating system, so it differs in each copy of a process
    /// that builds its sealer after a fork or snapshot (see the type's documentation).
    nonce_mask: [u8; MAX_NONCE_LEN],
}

/// The longest nonce of any stream cipher (AEGIS-256's).
const MAX_NONCE_LEN: usize = 32;
const _: () = {
    let mut i = 0;
    while i < StreamCipher::ALL.len() {
        assert!(StreamCipher::ALL[i].nonce_len() <= MAX_NONCE_LEN);
        i += 1;
    }
};

impl RecordSealer {
    /// Derives this stream's keys from `key` and builds the sealer.
    ///
    /// Use this for the first append to a new stream, then store [`RecordSealer::key_check`] in the
    /// stream's metadata; afterwards use [`RecordSealer::with_key_check`].
    ///
    /// # Panics
    /// Only if the operating system cannot provide random bytes.
    pub fn new(cipher: StreamCipher, key: &EncryptionKey, identity: &StreamIdentity) -> Self {
        let format = RecordFormat::for_cipher(cipher);
        let mut ad_prefix = Vec::with_capacity(MAX_AD_LEN);
        ad_prefix.extend_from_slice(AD_LABEL);
        ad_prefix.push(format.byte());
        let identity_start = ad_prefix.len();
        identity.encode_into(&mut ad_prefix);
        let keys = derive(key, cipher, &ad_prefix[identity_start..]);
        ad_prefix.push(0);
        let mut nonce_mask = [0; MAX_NONCE_LEN];
        UnwrapErr(SysRng).fill_bytes(&mut nonce_mask);
        Self {
            format,
            cipher: RecordCipher::new(cipher, &keys.record_key),
            key_check: keys.key_check,
            ad_unsequenced: ad_prefix,
            sealed: AtomicU64::new(0),
            nonce_mask,
        }
    }

    /// Builds the sealer only if `key` matches the stream's stored key-check value; otherwise fails
    /// with [`StreamError::WrongKey`] before any record is sealed or opened.
    ///
    /// # Panics
    /// Only if the operating system cannot provide random bytes.
    pub fn with_key_check(
        cipher: StreamCipher,
        key: &EncryptionKey,
        identity: &StreamIdentity,
        stored: &KeyCheck,
    ) -> Result<Self, StreamError> {
        let sealer = Self::new(cipher, key, identity);
        if sealer.key_check != *stored {
            return Err(StreamError::WrongKey);
        }
        Ok(sealer)
    }

    /// The key-check value to store beside the stream's metadata.
    pub fn key_check(&self) -> &KeyCheck {
        &self.key_check
    }

    /// The stream's cipher.
    pub fn cipher(&self) -> StreamCipher {
        self.format.cipher()
    }

    /// The format this sealer writes.
    pub fn format(&self) -> RecordFormat {
        self.format
    }

    /// The sealed length of a plaintext of `plaintext_len` bytes.
    pub fn sealed_len(&self, plaintext_len: usize) -> usize {
        self.format.sealed_len(plaintext_len)
    }

    /// Seals one record into a new buffer.
    pub fn seal(&self, plaintext: &[u8], seq_num: Option<u64>) -> Result<Vec<u8>, StreamError> {
        let mut out = Vec::with_capacity(self.sealed_len(plaintext.len()));
        self.seal_into(plaintext, seq_num, &mut out)?;
        Ok(out)
    }

    /// Appends one sealed record to `out`; allocates nothing when `out` has the capacity.
    pub fn seal_into(
        &self,
        plaintext: &[u8],
        seq_num: Option<u64>,
        out: &mut Vec<u8>,
    ) -> Result<(), StreamError> {
        self.admit([plaintext.len()], seq_num)?;
        // All the room at once: growing `out` after the plaintext is in it would leave a copy of
        // the plaintext in the freed block.
        out.reserve(self.sealed_len(plaintext.len()));
        let start = out.len();
        let header = self.format.header_len();
        out.resize(start + header, 0);
        out.extend_from_slice(plaintext);
        out.extend_from_slice(&[0; TAG_LEN]);
        self.seal_reserved(&mut out[start..], seq_num);
        Ok(())
    }

    /// Seals in place. `record` must be laid out as the sealed record will be —
    /// `[header_len bytes of any value] ‖ plaintext ‖ [16 bytes of any value]`, i.e.
    /// [`RecordSealer::sealed_len`] long with the plaintext at offset [`RecordFormat::header_len`] —
    /// and is overwritten with the sealed record. Allocates nothing.
    pub fn seal_in_place(
        &self,
        record: &mut [u8],
        seq_num: Option<u64>,
    ) -> Result<(), StreamError> {
        if record.len() < self.format.overhead() {
            return Err(StreamError::MalformedRecord(
                "buffer is shorter than a record's overhead",
            ));
        }
        self.admit([record.len() - self.format.overhead()], seq_num)?;
        self.seal_reserved(record, seq_num);
        Ok(())
    }

    /// Seals a batch, all or nothing: either every record fits under the record limit (and every
    /// plaintext within [`StreamCipher::max_record_len`]) or none is sealed. With `first_seq_num`,
    /// record `i` is bound to `first_seq_num + i`.
    pub fn seal_batch<P: AsRef<[u8]>>(
        &self,
        plaintexts: &[P],
        first_seq_num: Option<u64>,
    ) -> Result<Vec<Vec<u8>>, StreamError> {
        self.admit(
            plaintexts.iter().map(|plaintext| plaintext.as_ref().len()),
            first_seq_num,
        )?;
        Ok(plaintexts
            .iter()
            .enumerate()
            .map(|(i, plaintext)| {
                let plaintext = plaintext.as_ref();
                let mut record = vec![0; self.sealed_len(plaintext.len())];
                let header = self.format.header_len();
                record[header..header + plaintext.len()].copy_from_slice(plaintext);
                self.seal_reserved(&mut record, first_seq_num.map(|s| s + i as u64));
                record
            })
            .collect())
    }

    /// Opens one record into a new buffer.
    pub fn open(&self, record: &[u8], seq_num: Option<u64>) -> Result<Vec<u8>, StreamError> {
        let mut out = Vec::new();
        self.open_into(record, seq_num, &mut out)?;
        Ok(out)
    }

    /// Appends one record's plaintext to `out`; allocates nothing when `out` has the capacity.
    /// On failure `out` is left as it was.
    pub fn open_into(
        &self,
        record: &[u8],
        seq_num: Option<u64>,
        out: &mut Vec<u8>,
    ) -> Result<(), StreamError> {
        let plaintext_len = self.check_format(record)?;
        let header = self.format.header_len();
        let start = out.len();
        grow_wiping(out, plaintext_len);
        out.extend_from_slice(&record[header..header + plaintext_len]);
        let tag = record[header + plaintext_len..]
            .try_into()
            .expect("16-byte tag");
        let result = self.decrypt(&record[1..header], seq_num, &mut out[start..], tag);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    /// Opens in place and returns the plaintext, a sub-slice of `record`. Allocates nothing.
    ///
    /// On failure no plaintext is left in `record` (it holds the ciphertext, or zeros).
    pub fn open_in_place<'r>(
        &self,
        record: &'r mut [u8],
        seq_num: Option<u64>,
    ) -> Result<&'r mut [u8], StreamError> {
        let plaintext_len = self.check_format(record)?;
        let header = self.format.header_len();
        let (head, rest) = record.split_at_mut(header);
        let (body, tag) = rest.split_at_mut(plaintext_len);
        let tag: &[u8; TAG_LEN] = (&*tag).try_into().expect("16-byte tag");
        self.decrypt(&head[1..], seq_num, body, tag)?;
        Ok(body)
    }

    /// Opens a batch; with `first_seq_num`, record `i` must have been sealed at `first_seq_num + i`.
    /// Fails on the first record that does not open; the plaintexts of the records before it are
    /// wiped, not handed back.
    pub fn open_batch<R: AsRef<[u8]>>(
        &self,
        records: &[R],
        first_seq_num: Option<u64>,
    ) -> Result<Vec<Vec<u8>>, StreamError> {
        let mut opened: Vec<Vec<u8>> = Vec::with_capacity(records.len());
        for (i, record) in records.iter().enumerate() {
            let seq = match first_seq_num {
                Some(first) => {
                    first
                        .checked_add(i as u64)
                        .map(Some)
                        .ok_or(StreamError::RecordLimit {
                            max: self.cipher().max_seq_num(),
                            attempted: u128::from(first) + i as u128,
                        })
                }
                None => Ok(None),
            };
            match seq.and_then(|seq| self.open(record.as_ref(), seq)) {
                Ok(plaintext) => opened.push(plaintext),
                Err(e) => {
                    // The records opened so far are plaintext the caller never receives: wipe
                    // them rather than free them as they are.
                    opened.iter_mut().for_each(|plaintext| plaintext.zeroize());
                    return Err(e);
                }
            }
        }
        Ok(opened)
    }

    /// The checks every way of sealing makes before it draws a nonce: each plaintext length fits
    /// the cipher, then the records fit the record limit. In that order, so a refused length takes
    /// nothing from the sealer's count of records (a batch is all or nothing).
    fn admit(
        &self,
        plaintext_lens: impl IntoIterator<Item = usize>,
        first_seq_num: Option<u64>,
    ) -> Result<(), StreamError> {
        let mut count = 0u64;
        for len in plaintext_lens {
            self.check_len(len)?;
            count += 1;
        }
        self.reserve(first_seq_num, count)
    }

    /// Checks that one record may hold `len` bytes of plaintext under this cipher.
    fn check_len(&self, len: usize) -> Result<(), StreamError> {
        let cipher = self.cipher();
        let (len, max) = (len as u64, cipher.max_record_len());
        if len > max {
            return Err(StreamError::RecordTooLarge { cipher, len, max });
        }
        Ok(())
    }

    /// Checks that `count` more records may be sealed, starting at `seq_num` if given.
    fn reserve(&self, seq_num: Option<u64>, count: u64) -> Result<(), StreamError> {
        let cipher = self.cipher();
        let max = cipher.max_seq_num();
        if count == 0 {
            return Ok(());
        }
        if let Some(first) = seq_num {
            let last = u128::from(first) + u128::from(count) - 1;
            if last > u128::from(max) {
                // Name the first sequence number past the limit, as S2 does.
                let attempted = u128::from(first).max(u128::from(max) + 1);
                return Err(StreamError::RecordLimit { max, attempted });
            }
        }
        // 2^64 records cannot be sealed in practice; only bounded ciphers need counting. Every
        // seal counts, so mixing sealing with and without positions cannot exceed the budget.
        if cipher.max_records() <= u128::from(u64::MAX) {
            let limit = cipher.max_records() as u64;
            self.sealed
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |sealed| {
                    sealed.checked_add(count).filter(|&total| total <= limit)
                })
                // The count is this sealer's own numbering of its records: the one it refuses
                // is the first past the limit.
                .map_err(|_| StreamError::RecordLimit {
                    max,
                    attempted: u128::from(limit),
                })?;
        }
        Ok(())
    }

    /// Writes the format byte, a fresh nonce and the tag into a correctly sized record whose middle
    /// holds the plaintext. The limit must already be reserved.
    fn seal_reserved(&self, record: &mut [u8], seq_num: Option<u64>) {
        let header = self.format.header_len();
        let (head, rest) = record.split_at_mut(header);
        let body_len = rest.len() - TAG_LEN;
        let (body, tag_out) = rest.split_at_mut(body_len);
        head[0] = self.format.byte();
        let nonce = &mut head[1..];
        // The one use of the thread-local generator in our libraries (clippy.toml forbids the
        // rest): a system call per record would cost more than sealing it. The mask keeps sealers
        // built after a fork or snapshot restore apart (see the type's documentation).
        #[allow(clippy::disallowed_methods)]
        rand::rng().fill_bytes(nonce);
        for (byte, mask) in nonce.iter_mut().zip(&self.nonce_mask) {
            *byte ^= mask;
        }
        let tag =
            self.with_associated_data(seq_num, |ad| self.cipher.encrypt_in_place(nonce, ad, body));
        tag_out.copy_from_slice(&tag);
    }

    fn decrypt(
        &self,
        nonce: &[u8],
        seq_num: Option<u64>,
        body: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), StreamError> {
        self.with_associated_data(seq_num, |ad| {
            self.cipher.decrypt_in_place(nonce, ad, body, tag)
        })
        .map_err(|_| StreamError::DecryptionFailed)
    }

    /// Checks the format byte against this stream's cipher before anything is decrypted, and
    /// returns the plaintext length.
    fn check_format(&self, record: &[u8]) -> Result<usize, StreamError> {
        let info = inspect(record)?;
        if info.format != self.format {
            return Err(StreamError::CipherMismatch {
                expected: self.cipher(),
                found: info.format.cipher(),
            });
        }
        Ok(info.plaintext_len)
    }

    /// Runs `f` with the record's associated data: the precomputed one, or — with a sequence number —
    /// a stack copy with the sequence field filled in (so the common path copies nothing).
    fn with_associated_data<R>(&self, seq_num: Option<u64>, f: impl FnOnce(&[u8]) -> R) -> R {
        let Some(seq) = seq_num else {
            return f(&self.ad_unsequenced);
        };
        let presence = self.ad_unsequenced.len() - 1;
        let mut buf = [0u8; MAX_AD_LEN];
        buf[..presence].copy_from_slice(&self.ad_unsequenced[..presence]);
        buf[presence] = 1;
        buf[presence + 1..presence + SEQ_FIELD_LEN].copy_from_slice(&seq.to_be_bytes());
        f(&buf[..presence + SEQ_FIELD_LEN])
    }
}

/// Makes room in `out` for `additional` more bytes without freeing any of its contents unwiped.
///
/// `out` may already hold plaintext (of earlier `open_into` calls, or left in its spare capacity
/// by a caller that cleared it to reuse it), and `Vec::reserve` would copy that into a new block
/// and free the old one as it is. So when the room is short the contents move to a new buffer by
/// hand and the old block — its whole capacity — is wiped before it is freed. The new capacity at
/// least doubles, so appending record after record still grows `out` only logarithmically often.
fn grow_wiping(out: &mut Vec<u8>, additional: usize) {
    if out.capacity() - out.len() >= additional {
        return;
    }
    let mut bigger =
        Vec::with_capacity(out.capacity().saturating_mul(2).max(out.len() + additional));
    bigger.extend_from_slice(out);
    let mut old = std::mem::replace(out, bigger);
    old.zeroize();
}

impl std::fmt::Debug for RecordSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordSealer")
            .field("cipher", &self.cipher())
            .field("key", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each sealer draws its own nonce mask from the operating system, also for the same key and
    /// stream: that is what keeps sealers built after a fork apart (equal by chance: 2^-256).
    #[test]
    fn every_sealer_draws_its_own_nonce_mask() {
        let key = EncryptionKey::from_bytes([7; 32]);
        let identity = StreamIdentity::new("basin", "stream").unwrap();
        for cipher in StreamCipher::ALL {
            let a = RecordSealer::new(cipher, &key, &identity);
            let b = RecordSealer::new(cipher, &key, &identity);
            assert_ne!(a.nonce_mask, [0; MAX_NONCE_LEN]);
            assert_ne!(a.nonce_mask, b.nonce_mask);
            // Same key and stream otherwise: each opens what the other sealed.
            let record = a.seal(b"record", Some(1)).unwrap();
            assert_eq!(b.open(&record, Some(1)).unwrap(), b"record");
        }
    }

    /// AES-256-GCM encrypts at most 2^36 − 32 bytes under one nonce: a longer plaintext is a
    /// typed error (the cipher itself would panic), checked before the record budget is touched.
    /// No test can allocate 64 GiB, so the public `seal*` methods cannot be handed such a
    /// plaintext; every one of them admits its records through `admit`, which is driven here with
    /// the lengths alone, and the budget it leaves is then spent through `seal`.
    #[test]
    fn a_plaintext_beyond_the_cipher_limit_is_refused_before_sealing() {
        let key = EncryptionKey::from_bytes([7; 32]);
        let identity = StreamIdentity::new("basin", "stream").unwrap();
        let aes = RecordSealer::new(StreamCipher::Aes256Gcm, &key, &identity);
        let max = (1u64 << 36) - 32;
        assert_eq!(StreamCipher::Aes256Gcm.max_record_len(), max);
        assert_eq!(aes.check_len(max as usize), Ok(()));
        let too_large = StreamError::RecordTooLarge {
            cipher: StreamCipher::Aes256Gcm,
            len: max + 1,
            max,
        };
        let err = aes.check_len(max as usize + 1).unwrap_err();
        assert_eq!(err, too_large);
        assert_eq!((err.code(), err.http_status()), ("invalid", 422));

        // One record left in the budget: a refused length, alone or anywhere in a batch, leaves
        // it there, with or without a position.
        let limit = StreamCipher::Aes256Gcm.max_records() as u64;
        aes.sealed.store(limit - 1, Ordering::Relaxed);
        let big = max as usize + 1;
        for (lens, seq) in [
            (vec![big], None),
            (vec![big], Some(0)),
            (vec![1, big], Some(0)),
            (vec![big, 1], None),
        ] {
            assert_eq!(
                aes.admit(lens.clone(), seq),
                Err(too_large.clone()),
                "{lens:?}"
            );
            assert_eq!(aes.sealed.load(Ordering::Relaxed), limit - 1, "{lens:?}");
        }
        aes.seal(b"the last one", None).unwrap();
        assert_eq!(aes.sealed.load(Ordering::Relaxed), limit);
        // With the budget spent the length is still what is reported: it is checked first.
        assert_eq!(aes.admit([big], None), Err(too_large));
        assert!(matches!(
            aes.admit([1], None),
            Err(StreamError::RecordLimit { .. })
        ));

        let aegis = RecordSealer::new(StreamCipher::Aegis256, &key, &identity);
        assert_eq!(aegis.check_len(usize::MAX), Ok(()));
    }

    /// The count of seals is shared by both ways of sealing: a sealer that has used up the
    /// AES-GCM budget refuses sealing with a position too, not only without one, and a batch that
    /// would cross the limit takes nothing from it.
    #[test]
    fn every_seal_counts_against_the_aes_gcm_budget() {
        let key = EncryptionKey::from_bytes([7; 32]);
        let identity = StreamIdentity::new("basin", "stream").unwrap();
        let sealer = RecordSealer::new(StreamCipher::Aes256Gcm, &key, &identity);
        let limit = StreamCipher::Aes256Gcm.max_records() as u64;
        sealer.sealed.store(limit - 2, Ordering::Relaxed);
        sealer.seal(b"with a position", Some(7)).unwrap();
        let err = sealer
            .seal_batch(&[b"a", b"b"], None)
            .expect_err("two more would cross the limit");
        assert_eq!(
            err.to_string(),
            "max assignable sequence number is 4294967295; attempted 4294967296"
        );
        sealer.seal(b"the last one", None).unwrap();
        assert_eq!(sealer.sealed.load(Ordering::Relaxed), limit);
        for seq in [None, Some(0), Some(42)] {
            let err = sealer.seal(b"one too many", seq).unwrap_err();
            assert!(matches!(err, StreamError::RecordLimit { .. }), "{err:?}");
        }
        let mut out = Vec::new();
        assert!(sealer.seal_into(b"x", Some(1), &mut out).is_err());
        assert!(out.is_empty());

        // AEGIS-256 is not counted: its budget (2^64) cannot be reached.
        let aegis = RecordSealer::new(StreamCipher::Aegis256, &key, &identity);
        aegis.seal(b"record", Some(1)).unwrap();
        assert_eq!(aegis.sealed.load(Ordering::Relaxed), 0);
    }
}
