//! The stream cipher setting: which AEAD a stream's records are sealed with.

use std::fmt;
use std::str::FromStr;

use crate::error::StreamError;

/// The cipher a stream captures from its basin when it is created; it never changes afterwards.
///
/// The wire strings are S2's: `aegis-256` and `aes-256-gcm`. Parsing is case-insensitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum StreamCipher {
    /// AEGIS-256: 256-bit key, 256-bit random nonce, 128-bit tag. Recommended; effectively unlimited
    /// records per key.
    Aegis256,
    /// AES-256-GCM: 256-bit key, 96-bit random nonce, 128-bit tag. At most 2^32 records per key,
    /// because random 96-bit nonces collide too soon beyond that.
    Aes256Gcm,
}

impl StreamCipher {
    /// Every supported cipher.
    pub const ALL: [StreamCipher; 2] = [StreamCipher::Aegis256, StreamCipher::Aes256Gcm];

    /// The exact wire string (`aegis-256`, `aes-256-gcm`).
    pub const fn as_str(self) -> &'static str {
        match self {
            StreamCipher::Aegis256 => "aegis-256",
            StreamCipher::Aes256Gcm => "aes-256-gcm",
        }
    }

    /// How many records one derived key may seal: 2^32 for AES-256-GCM, 2^64 for AEGIS-256.
    pub const fn max_records(self) -> u128 {
        match self {
            StreamCipher::Aegis256 => 1 << 64,
            StreamCipher::Aes256Gcm => 1 << 32,
        }
    }

    /// The highest sequence number a record may be sealed at (`max_records() - 1`).
    pub const fn max_seq_num(self) -> u64 {
        match self {
            StreamCipher::Aegis256 => u64::MAX,
            StreamCipher::Aes256Gcm => u32::MAX as u64,
        }
    }

    /// The longest plaintext one record may hold: 2^36 − 32 bytes for AES-256-GCM (its limit per
    /// nonce), `u64::MAX` for AEGIS-256 (whose own limit, 2^61 bytes, no buffer reaches).
    pub const fn max_record_len(self) -> u64 {
        match self {
            StreamCipher::Aegis256 => u64::MAX,
            StreamCipher::Aes256Gcm => (1 << 36) - 32,
        }
    }

    /// The random nonce length in bytes (32 for AEGIS-256, 12 for AES-256-GCM).
    pub const fn nonce_len(self) -> usize {
        match self {
            StreamCipher::Aegis256 => 32,
            StreamCipher::Aes256Gcm => 12,
        }
    }
}

impl fmt::Display for StreamCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StreamCipher {
    type Err = StreamError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StreamCipher::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| StreamError::UnknownCipher {
                given: looks_like_a_name(s).then(|| s.to_owned()),
                len: s.chars().count(),
            })
    }
}

/// Whether an unrecognised cipher value may be repeated in an error: short, made of what names are
/// made of, with few digits and no lowercase letter followed by a capital (`AES-256-GCM` and
/// `aegis-128l` pass). A key pasted into the cipher field (44 base64 characters) never does, nor
/// does most of a random string cut short.
fn looks_like_a_name(s: &str) -> bool {
    let bytes = s.as_bytes();
    (1..=24).contains(&bytes.len())
        && bytes[0].is_ascii_alphabetic()
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && bytes.iter().filter(|b| b.is_ascii_digit()).count() <= 4
        && !bytes
            .windows(2)
            .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
}

impl serde::Serialize for StreamCipher {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for StreamCipher {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = StreamCipher;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"aegis-256\" or \"aes-256-gcm\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<StreamCipher, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}
