//! Everything that must not open: altered records (every single-bit flip), truncated or extended
//! records, records of another stream, basin or incarnation, another key, another position — and a
//! refused open never leaves plaintext behind.

use proptest::prelude::*;
use sealkit_stream::{EncryptionKey, RecordSealer, StreamCipher, StreamError, StreamIdentity};

fn key(byte: u8) -> EncryptionKey {
    EncryptionKey::from_bytes([byte; 32])
}

fn identity(basin: &str, stream: &str) -> StreamIdentity {
    StreamIdentity::new(basin, stream).unwrap()
}

fn sealer(cipher: StreamCipher) -> RecordSealer {
    RecordSealer::new(cipher, &key(1), &identity("basin", "stream"))
}

/// Checks that `record` is refused by every open entry point with an error `accept`s, and that no
/// entry point leaves the plaintext behind.
fn assert_refused(
    sealer: &RecordSealer,
    record: &[u8],
    seq: Option<u64>,
    plaintext: &[u8],
    accept: impl Fn(&StreamError) -> bool,
) {
    let err = sealer.open(record, seq).unwrap_err();
    assert!(accept(&err), "unexpected error {err:?}");

    let mut out = b"kept".to_vec();
    assert_eq!(sealer.open_into(record, seq, &mut out).unwrap_err(), err);
    assert_eq!(out, b"kept", "open_into changed its output on failure");

    let mut buf = record.to_vec();
    assert_eq!(sealer.open_in_place(&mut buf, seq).unwrap_err(), err);
    assert_no_plaintext_left(&buf, record, plaintext);

    assert_eq!(sealer.open_batch(&[record], seq).unwrap_err(), err);
}

/// After a failed in-place open the buffer holds the record as it was, or the record with its body
/// zeroed; never the plaintext.
fn assert_no_plaintext_left(buf: &[u8], record: &[u8], plaintext: &[u8]) {
    let Ok(info) = sealkit_stream::record::inspect(record) else {
        assert_eq!(buf, record, "a malformed record was modified");
        return;
    };
    let header = info.format.header_len();
    let body = &buf[header..header + info.plaintext_len];
    assert_eq!(&buf[..header], &record[..header]);
    // Either is plaintext-free. Comparing with the plaintext directly would be flaky: a short
    // ciphertext can equal its plaintext by chance (a one-byte body, 1 time in 256).
    assert!(
        body == &record[header..header + info.plaintext_len] || body.iter().all(|&b| b == 0),
        "the body is neither the ciphertext nor zeros after a failed open (plaintext {} bytes)",
        plaintext.len()
    );
}

fn is_decryption_failed(e: &StreamError) -> bool {
    *e == StreamError::DecryptionFailed
}

/// Flips every bit of `record` in turn; each flipped record must be refused: a flip in the format
/// byte as an unknown format or a cipher mismatch, any other as a decryption failure.
fn assert_every_bit_flip_refused(
    sealer: &RecordSealer,
    record: &[u8],
    seq: Option<u64>,
    plaintext: &[u8],
) {
    assert_eq!(
        sealer.open(record, seq).unwrap(),
        plaintext,
        "the unaltered record opens"
    );
    let mut flipped = record.to_vec();
    for byte in 0..record.len() {
        for bit in 0..8 {
            flipped[byte] ^= 1 << bit;
            if byte == 0 {
                assert_refused(sealer, &flipped, seq, plaintext, |e| {
                    matches!(
                        e,
                        StreamError::UnknownRecordFormat { .. }
                            | StreamError::CipherMismatch { .. }
                    )
                });
            } else {
                assert_refused(sealer, &flipped, seq, plaintext, is_decryption_failed);
            }
            flipped[byte] ^= 1 << bit;
        }
    }
}

#[test]
fn every_single_bit_flip_of_a_small_record_is_refused() {
    for cipher in StreamCipher::ALL {
        let sealer = sealer(cipher);
        for plaintext in [
            &b""[..],
            b"x",
            b"sixteen bytes!!!",
            b"a record spanning three AES blocks",
        ] {
            for seq in [None, Some(0), Some(7)] {
                let record = sealer.seal(plaintext, seq).unwrap();
                assert_every_bit_flip_refused(&sealer, &record, seq, plaintext);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_single_bit_flip_of_a_random_small_record_is_refused(
        aegis in any::<bool>(),
        plaintext in proptest::collection::vec(any::<u8>(), 0..=40),
        seq in proptest::option::of(0u64..=u64::from(u32::MAX)),
    ) {
        let cipher = if aegis { StreamCipher::Aegis256 } else { StreamCipher::Aes256Gcm };
        let sealer = sealer(cipher);
        let record = sealer.seal(&plaintext, seq).unwrap();
        assert_every_bit_flip_refused(&sealer, &record, seq, &plaintext);
    }

    #[test]
    fn opening_at_another_sequence_number_is_refused(
        aegis in any::<bool>(),
        plaintext in proptest::collection::vec(any::<u8>(), 1..=64),
        sealed_at in proptest::option::of(0u64..=u64::from(u32::MAX)),
        opened_at in proptest::option::of(0u64..=u64::from(u32::MAX)),
    ) {
        prop_assume!(sealed_at != opened_at);
        let cipher = if aegis { StreamCipher::Aegis256 } else { StreamCipher::Aes256Gcm };
        let sealer = sealer(cipher);
        let record = sealer.seal(&plaintext, sealed_at).unwrap();
        assert_refused(&sealer, &record, opened_at, &plaintext, is_decryption_failed);
    }
}

#[test]
fn every_truncation_of_a_record_is_refused() {
    for cipher in StreamCipher::ALL {
        let sealer = sealer(cipher);
        let plaintext = b"truncate me at every length";
        let record = sealer.seal(plaintext, Some(5)).unwrap();
        let overhead = sealer.sealed_len(0);
        for len in 0..record.len() {
            let truncated = &record[..len];
            if len < overhead {
                assert_refused(&sealer, truncated, Some(5), plaintext, |e| {
                    matches!(e, StreamError::MalformedRecord(_))
                });
            } else {
                assert_refused(&sealer, truncated, Some(5), plaintext, is_decryption_failed);
            }
        }
        // Dropping bytes from the front is refused too.
        for cut in 1..record.len() {
            let err = sealer.open(&record[cut..], Some(5)).unwrap_err();
            assert!(
                matches!(
                    err,
                    StreamError::DecryptionFailed
                        | StreamError::MalformedRecord(_)
                        | StreamError::UnknownRecordFormat { .. }
                        | StreamError::CipherMismatch { .. }
                ),
                "{cipher}: cut {cut}: {err:?}"
            );
        }
    }
}

#[test]
fn extended_record_is_refused() {
    for cipher in StreamCipher::ALL {
        let sealer = sealer(cipher);
        let plaintext = b"no trailing bytes allowed";
        let record = sealer.seal(plaintext, None).unwrap();
        for extra in [&[0u8][..], &[0, 0, 0, 0], &record[1..17]] {
            let extended = [&record[..], extra].concat();
            assert_refused(&sealer, &extended, None, plaintext, is_decryption_failed);
        }
    }
}

#[test]
fn sealed_with_a_sequence_number_does_not_open_without_and_vice_versa() {
    for cipher in StreamCipher::ALL {
        let sealer = sealer(cipher);
        let plaintext = b"positioned";
        let with = sealer.seal(plaintext, Some(0)).unwrap();
        assert_refused(&sealer, &with, None, plaintext, is_decryption_failed);
        let without = sealer.seal(plaintext, None).unwrap();
        for seq in [0, 1, u64::from(u32::MAX)] {
            assert_refused(
                &sealer,
                &without,
                Some(seq),
                plaintext,
                is_decryption_failed,
            );
        }
    }
}

#[test]
fn batch_opened_at_another_position_or_reordered_is_refused() {
    for cipher in StreamCipher::ALL {
        let sealer = sealer(cipher);
        let plaintexts: [&[u8]; 3] = [b"first", b"second", b"third"];
        let records = sealer.seal_batch(&plaintexts, Some(10)).unwrap();
        assert_eq!(sealer.open_batch(&records, Some(10)).unwrap(), plaintexts);
        for first in [Some(9), Some(11), None] {
            assert_eq!(
                sealer.open_batch(&records, first).unwrap_err(),
                StreamError::DecryptionFailed
            );
        }
        let swapped = [records[1].clone(), records[0].clone(), records[2].clone()];
        assert_eq!(
            sealer.open_batch(&swapped, Some(10)).unwrap_err(),
            StreamError::DecryptionFailed
        );
        // Dropping a record from the middle shifts the rest and is detected.
        let dropped = [records[0].clone(), records[2].clone()];
        assert_eq!(
            sealer.open_batch(&dropped, Some(10)).unwrap_err(),
            StreamError::DecryptionFailed
        );
    }
}

/// Identities that must never open each other's records.
fn distinct_identities() -> Vec<(&'static str, StreamIdentity)> {
    let with = |id: StreamIdentity, inc: &[u8]| id.with_incarnation(inc.to_vec()).unwrap();
    vec![
        ("basin/stream", identity("basin", "stream")),
        ("another basin", identity("basin2", "stream")),
        ("another stream", identity("basin", "stream2")),
        ("incarnation 1", with(identity("basin", "stream"), b"1")),
        ("incarnation 2", with(identity("basin", "stream"), b"2")),
        ("incarnation 11", with(identity("basin", "stream"), b"11")),
        ("ab|c", identity("ab", "c")),
        ("a|bc", identity("a", "bc")),
        ("a/b|c", identity("a/b", "c")),
        ("a|b/c", identity("a", "b/c")),
        ("a|b|inc c", with(identity("a", "b"), b"c")),
        ("a|bc|inc d", with(identity("a", "bc"), b"d")),
        ("a|b|inc cd", with(identity("a", "b"), b"cd")),
        ("a|b|inc 00", with(identity("a", "b"), &[0u8])),
        ("a|b", identity("a", "b")),
        ("a|b\\0", identity("a", "b\0")),
    ]
}

#[test]
fn record_of_another_stream_basin_or_incarnation_is_refused() {
    let identities = distinct_identities();
    for cipher in StreamCipher::ALL {
        let sealers: Vec<_> = identities
            .iter()
            .map(|(_, id)| RecordSealer::new(cipher, &key(1), id))
            .collect();
        for (i, ((name, _), sealer)) in identities.iter().zip(&sealers).enumerate() {
            let plaintext = format!("record of {name}");
            let record = sealer.seal(plaintext.as_bytes(), Some(0)).unwrap();
            assert_eq!(sealer.open(&record, Some(0)).unwrap(), plaintext.as_bytes());
            for (j, ((other_name, other_id), other)) in identities.iter().zip(&sealers).enumerate()
            {
                if i == j {
                    continue;
                }
                assert_eq!(
                    other.open(&record, Some(0)).unwrap_err(),
                    StreamError::DecryptionFailed,
                    "{cipher}: record of {name} opened as {other_name}"
                );
                assert_ne!(
                    sealer.key_check(),
                    other.key_check(),
                    "{name} vs {other_name}"
                );
                assert_eq!(
                    RecordSealer::with_key_check(cipher, &key(1), other_id, sealer.key_check())
                        .unwrap_err(),
                    StreamError::WrongKey,
                    "{cipher}: key check of {name} admitted {other_name}"
                );
            }
        }
    }
}

#[test]
fn record_opened_with_another_key_is_refused() {
    let id = identity("basin", "stream");
    for cipher in StreamCipher::ALL {
        let right = RecordSealer::new(cipher, &key(1), &id);
        let plaintext = b"only for key 1";
        let record = right.seal(plaintext, Some(3)).unwrap();
        let mut almost = [1u8; 32];
        almost[31] ^= 1;
        for other in [key(2), key(0), EncryptionKey::from_bytes(almost)] {
            let wrong = RecordSealer::new(cipher, &other, &id);
            assert_refused(&wrong, &record, Some(3), plaintext, is_decryption_failed);
            // With the stored key-check value the wrong key never gets a sealer at all.
            assert_eq!(
                RecordSealer::with_key_check(cipher, &other, &id, right.key_check()).unwrap_err(),
                StreamError::WrongKey
            );
        }
    }
}

#[test]
fn same_key_and_identity_under_the_other_cipher_does_not_open() {
    let id = identity("basin", "stream");
    let aegis = RecordSealer::new(StreamCipher::Aegis256, &key(1), &id);
    let aes = RecordSealer::new(StreamCipher::Aes256Gcm, &key(1), &id);
    let record = aegis.seal(b"aegis record", None).unwrap();
    assert!(matches!(
        aes.open(&record, None),
        Err(StreamError::CipherMismatch { .. })
    ));
    let record = aes.seal(b"aes record", None).unwrap();
    assert!(matches!(
        aegis.open(&record, None),
        Err(StreamError::CipherMismatch { .. })
    ));
}

/// A batch whose later record fails returns that record's error, not the plaintexts opened before
/// it: those are wiped before the error is returned (which no safe test can observe), and the same
/// records minus the bad one still open.
#[test]
fn batch_with_a_tampered_record_after_good_ones_returns_the_error() {
    for cipher in StreamCipher::ALL {
        let sealer = sealer(cipher);
        let records = sealer
            .seal_batch(&[&b"good"[..], b"also good", b"tampered"], Some(5))
            .unwrap();
        assert_eq!(
            sealer.open_batch(&records, Some(5)).unwrap(),
            [&b"good"[..], b"also good", b"tampered"]
        );
        let mut tampered = records.clone();
        let last = tampered[2].len() - 1;
        tampered[2][last] ^= 1;
        for batch in [&tampered[1..], &tampered[..]] {
            let first = Some(5 + 3 - batch.len() as u64);
            assert_eq!(
                sealer.open_batch(batch, first).unwrap_err(),
                StreamError::DecryptionFailed,
                "{cipher}"
            );
        }
        // A record of the other cipher after a good one is refused before decrypting, likewise.
        let other = StreamCipher::ALL
            .into_iter()
            .find(|&c| c != cipher)
            .unwrap();
        let foreign = RecordSealer::new(other, &key(1), &identity("basin", "stream"))
            .seal(b"foreign", Some(6))
            .unwrap();
        assert_eq!(
            sealer
                .open_batch(&[records[0].clone(), foreign], Some(5))
                .unwrap_err(),
            StreamError::CipherMismatch {
                expected: cipher,
                found: other
            }
        );
    }
}
