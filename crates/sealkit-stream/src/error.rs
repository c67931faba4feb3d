//! The one error type of this crate, with S2's codes and HTTP statuses.

use crate::cipher::StreamCipher;

/// Everything that can go wrong resolving a key, sealing or opening a record.
///
/// Messages never contain key material: a refused key is described by its cipher and, for a length
/// error, by its decoded length only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The stream is encrypted and no key was supplied.
    #[error("missing encryption key for stream cipher '{cipher}'")]
    MissingKey {
        /// The stream's cipher.
        cipher: StreamCipher,
    },
    /// The key is not standard padded base64.
    #[error("invalid encryption key for stream cipher '{cipher}': invalid base64")]
    InvalidKey {
        /// The stream's cipher.
        cipher: StreamCipher,
    },
    /// The key decodes to something other than 32 bytes.
    #[error("invalid encryption key length for stream cipher '{cipher}': {len}")]
    InvalidKeyLength {
        /// The stream's cipher.
        cipher: StreamCipher,
        /// The real decoded length.
        len: usize,
    },
    /// A key was supplied for a stream that has no cipher. S2 silently ignores it, which lets a
    /// client believe its data is encrypted when it is stored in plain text.
    #[error(
        "an encryption key was supplied, but this stream is not encrypted; its records would be \
         stored in plain text (create the stream in a basin with a stream cipher)"
    )]
    KeyForUnencryptedStream,
    /// The key does not match the stream's key-check value: it is not the key the stream was first
    /// written with. Nothing was sealed or opened.
    #[error("wrong encryption key: this stream was written with a different key")]
    WrongKey,
    /// A record did not authenticate: wrong key, a record from another stream or position, or an
    /// altered record.
    #[error("record failed to decrypt: wrong key, wrong stream or position, or altered data")]
    DecryptionFailed,
    /// The derived key has sealed as many records as its cipher allows.
    #[error("max assignable sequence number is {max}; attempted {attempted}")]
    RecordLimit {
        /// The highest sequence number the cipher allows.
        max: u64,
        /// The sequence number that was attempted.
        attempted: u128,
    },
    /// A stored record is structurally broken (empty, or too short for its nonce and tag).
    #[error("stored record is malformed: {0}")]
    MalformedRecord(&'static str),
    /// A stored record starts with a format byte this version does not know.
    #[error("stored record has unknown format byte {found:#04x}")]
    UnknownRecordFormat {
        /// The byte found.
        found: u8,
    },
    /// A stored record was sealed with another cipher than its stream's. Refused before any
    /// decryption, so a record cannot be downgraded to a weaker cipher.
    #[error("stored record is sealed with {found}, but the stream uses {expected}")]
    CipherMismatch {
        /// The stream's cipher.
        expected: StreamCipher,
        /// The cipher the record names.
        found: StreamCipher,
    },
    /// A cipher name that is neither `aegis-256` nor `aes-256-gcm`.
    #[error(
        "unknown stream cipher {}: expected \"aegis-256\" or \"aes-256-gcm\"",
        GivenCipher { given: given.as_deref(), len: *len }
    )]
    UnknownCipher {
        /// What was given, when it looks like a name (1 to 24 ASCII letters, digits, `-`, `_` or
        /// `.`, starting with a letter); `None` otherwise: a longer or stranger value may be a key
        /// pasted into the wrong field, and is never repeated.
        given: Option<String>,
        /// The length of what was given, in characters.
        len: usize,
    },
    /// A plaintext longer than one record of the stream's cipher may hold (AES-256-GCM encrypts at
    /// most 2^36 − 32 bytes under one nonce). Nothing was sealed.
    #[error("record of {len} bytes is longer than {cipher} allows ({max} bytes)")]
    RecordTooLarge {
        /// The stream's cipher.
        cipher: StreamCipher,
        /// The plaintext's length.
        len: u64,
        /// The longest plaintext the cipher seals.
        max: u64,
    },
    /// A basin name, stream name or incarnation that is empty or too long.
    #[error("{what} must be 1 to {max} bytes long, got {len}")]
    InvalidIdentity {
        /// Which part of the identity.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A stored key-check value that is not 64 lowercase hex digits.
    #[error("key-check value must be 64 lowercase hex digits")]
    MalformedKeyCheck,
}

impl StreamError {
    /// The machine-readable error code, as S2 reports it where S2 has the case.
    pub fn code(&self) -> &'static str {
        match self {
            StreamError::MissingKey { .. }
            | StreamError::InvalidKey { .. }
            | StreamError::InvalidKeyLength { .. }
            | StreamError::RecordLimit { .. }
            | StreamError::UnknownCipher { .. }
            | StreamError::RecordTooLarge { .. }
            | StreamError::InvalidIdentity { .. } => "invalid",
            StreamError::KeyForUnencryptedStream => "key_for_unencrypted_stream",
            StreamError::WrongKey => "wrong_key",
            StreamError::DecryptionFailed => "decryption_failed",
            StreamError::MalformedRecord(_) => "malformed_record",
            StreamError::UnknownRecordFormat { .. } => "unknown_record_format",
            StreamError::CipherMismatch { .. } => "cipher_mismatch",
            StreamError::MalformedKeyCheck => "malformed_key_check",
        }
    }

    /// The HTTP status a server should answer with: 422 for bad requests, 400 for key and
    /// authentication failures (as S2), 500 for records and key-check values that are broken in
    /// storage (nothing the client can fix).
    pub fn http_status(&self) -> u16 {
        match self {
            StreamError::WrongKey | StreamError::DecryptionFailed => 400,
            StreamError::MalformedRecord(_)
            | StreamError::UnknownRecordFormat { .. }
            | StreamError::CipherMismatch { .. }
            | StreamError::MalformedKeyCheck => 500,
            _ => 422,
        }
    }
}

/// An unrecognised cipher value as an error shows it: quoted when it looks like a name, otherwise
/// by its length only.
struct GivenCipher<'a> {
    given: Option<&'a str>,
    len: usize,
}

impl std::fmt::Display for GivenCipher<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.given {
            Some(name) => write!(f, "{name:?}"),
            None => write!(f, "(a value of {} characters, not shown)", self.len),
        }
    }
}
