//! Record format v1, the bytes a stream stores for each record:
//!
//! ```text
//! format (1 byte) ‖ nonce (32 for AEGIS-256, 12 for AES-256-GCM) ‖ ciphertext ‖ tag (16)
//! ```
//!
//! `0x01` is AEGIS-256 v1 and `0x02` AES-256-GCM v1. The ciphertext is as long as the plaintext, so a
//! server can read a record's plaintext length without the key (for tail and metering); nothing else
//! is readable without it.

use crate::cipher::StreamCipher;
use crate::error::StreamError;
use crate::primitive::TAG_LEN;

/// The first byte of every sealed record: which cipher and which version of the format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RecordFormat {
    /// `0x01`: AEGIS-256, format v1.
    Aegis256V1,
    /// `0x02`: AES-256-GCM, format v1.
    Aes256GcmV1,
}

impl RecordFormat {
    /// The format a stream of `cipher` writes.
    pub const fn for_cipher(cipher: StreamCipher) -> Self {
        match cipher {
            StreamCipher::Aegis256 => RecordFormat::Aegis256V1,
            StreamCipher::Aes256Gcm => RecordFormat::Aes256GcmV1,
        }
    }

    /// The format byte.
    pub const fn byte(self) -> u8 {
        match self {
            RecordFormat::Aegis256V1 => 0x01,
            RecordFormat::Aes256GcmV1 => 0x02,
        }
    }

    /// The format a byte names, if any.
    pub const fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0x01 => Some(RecordFormat::Aegis256V1),
            0x02 => Some(RecordFormat::Aes256GcmV1),
            _ => None,
        }
    }

    /// The cipher records of this format are sealed with.
    pub const fn cipher(self) -> StreamCipher {
        match self {
            RecordFormat::Aegis256V1 => StreamCipher::Aegis256,
            RecordFormat::Aes256GcmV1 => StreamCipher::Aes256Gcm,
        }
    }

    /// Bytes before the ciphertext: the format byte and the nonce.
    pub const fn header_len(self) -> usize {
        1 + self.cipher().nonce_len()
    }

    /// Bytes a sealed record adds to its plaintext.
    pub const fn overhead(self) -> usize {
        self.header_len() + TAG_LEN
    }

    /// The sealed length of a plaintext of `plaintext_len` bytes.
    pub const fn sealed_len(self, plaintext_len: usize) -> usize {
        plaintext_len + self.overhead()
    }
}

/// What can be read from a sealed record without its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordInfo {
    /// The record's format (and so its cipher).
    pub format: RecordFormat,
    /// Length of the plaintext it holds.
    pub plaintext_len: usize,
}

/// Reads a sealed record's format and plaintext length, without the key.
///
/// Fails on an empty record, an unknown format byte, or a record too short to hold a nonce and tag.
pub fn inspect(record: &[u8]) -> Result<RecordInfo, StreamError> {
    let (&first, _) = record
        .split_first()
        .ok_or(StreamError::MalformedRecord("empty record"))?;
    let format =
        RecordFormat::from_byte(first).ok_or(StreamError::UnknownRecordFormat { found: first })?;
    let plaintext_len =
        record
            .len()
            .checked_sub(format.overhead())
            .ok_or(StreamError::MalformedRecord(
                "record is shorter than its nonce and tag",
            ))?;
    Ok(RecordInfo {
        format,
        plaintext_len,
    })
}
