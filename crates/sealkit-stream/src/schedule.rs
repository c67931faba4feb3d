//! The per-stream key schedule. The client key never encrypts anything itself: HKDF-SHA256 turns it
//! and the stream's identity into a record key (so the AES-256-GCM nonce bound of 2^32 records holds
//! per stream, however many streams share one client key) and a key-check value (so a wrong key is
//! refused before it can poison a stream).

use std::fmt;
use std::str::FromStr;

use hkdf::Hkdf;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::cipher::StreamCipher;
use crate::error::StreamError;
use crate::key::{EncryptionKey, KEY_LEN};

/// HKDF salt: names the scheme and its version, so these keys can never equal keys derived from the
/// same client key by anything else.
const HKDF_SALT: &[u8] = b"sealkit-stream/v1";
const RECORD_KEY_INFO: &[u8] = b"record-key";
const KEY_CHECK_INFO: &[u8] = b"key-check";

/// Length of a key-check value in bytes.
pub const KEY_CHECK_LEN: usize = 32;

/// A value derived from a stream key and the stream's identity that proves which key a stream was
/// first written with, without revealing anything about the key (it is a PRF output).
///
/// Store it in the stream's metadata when the first record is appended; on every later append and
/// read, build the sealer with [`crate::RecordSealer::with_key_check`], which refuses any other key
/// with [`StreamError::WrongKey`] before a single record is touched.
///
/// Displayed and parsed as 64 lowercase hex digits. Comparison is constant-time.
#[derive(Clone, Copy)]
pub struct KeyCheck([u8; KEY_CHECK_LEN]);

impl KeyCheck {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_CHECK_LEN] {
        &self.0
    }

    /// Wraps raw bytes read back from storage.
    pub fn from_bytes(bytes: [u8; KEY_CHECK_LEN]) -> Self {
        Self(bytes)
    }
}

impl PartialEq for KeyCheck {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for KeyCheck {}

impl fmt::Display for KeyCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for KeyCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyCheck({self})")
    }
}

impl FromStr for KeyCheck {
    type Err = StreamError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.as_bytes();
        if s.len() != 2 * KEY_CHECK_LEN {
            return Err(StreamError::MalformedKeyCheck);
        }
        let mut out = [0u8; KEY_CHECK_LEN];
        for (byte, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
            *byte = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
        }
        Ok(Self(out))
    }
}

fn hex_digit(c: u8) -> Result<u8, StreamError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(StreamError::MalformedKeyCheck),
    }
}

/// What one (client key, stream) pair derives.
pub(crate) struct StreamKeys {
    /// On the heap, written there directly: the keys are returned by value.
    pub(crate) record_key: Box<Zeroizing<[u8; KEY_LEN]>>,
    pub(crate) key_check: KeyCheck,
}

/// Runs the schedule once: one HKDF-Extract, two Expands.
///
/// The record key's info also names the cipher, so the same client key on a stream of the same
/// identity under another cipher (possible only across incarnations) never reuses key material.
pub(crate) fn derive(
    key: &EncryptionKey,
    cipher: StreamCipher,
    encoded_identity: &[u8],
) -> StreamKeys {
    let hkdf = Hkdf::<Sha256>::new(Some(HKDF_SALT), key.expose());
    let mut record_key = Box::new(Zeroizing::new([0u8; KEY_LEN]));
    let cipher_name = cipher.as_str().as_bytes();
    hkdf.expand_multi_info(
        &[
            RECORD_KEY_INFO,
            &[cipher_name.len() as u8],
            cipher_name,
            encoded_identity,
        ],
        &mut record_key[..],
    )
    .expect("32 bytes is a valid HKDF-SHA256 output length");
    let mut check = [0u8; KEY_CHECK_LEN];
    hkdf.expand_multi_info(&[KEY_CHECK_INFO, encoded_identity], &mut check)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    StreamKeys {
        record_key,
        key_check: KeyCheck(check),
    }
}
