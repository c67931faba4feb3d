//! Deciding, per request, whether a stream's records are plain or encrypted — S2's rules plus the
//! cases S2 gets wrong.

use crate::cipher::StreamCipher;
use crate::error::StreamError;
use crate::identity::StreamIdentity;
use crate::key::{EncryptionKey, KeyParseError};
use crate::schedule::KeyCheck;
use crate::sealer::RecordSealer;

/// The S2 operations, and whether each needs the stream key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Create a basin (sets `stream_cipher` for streams created later).
    CreateBasin,
    /// Reconfigure a basin (affects only streams created afterwards).
    ReconfigureBasin,
    /// Create a stream (it copies the basin's cipher, for good).
    CreateStream,
    /// Append records.
    Append,
    /// Read records.
    Read,
    /// Check the tail (positions only).
    CheckTail,
    /// List streams (each with its cipher).
    ListStreams,
}

impl Operation {
    /// Whether the operation touches record contents and so needs the key on an encrypted stream.
    pub const fn requires_key(self) -> bool {
        matches!(self, Operation::Append | Operation::Read)
    }
}

/// A stream's encryption setting, captured from its basin when the stream is created and never
/// changed afterwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct StreamSpec {
    cipher: Option<StreamCipher>,
}

/// What a data-plane request resolved to.
#[derive(Debug)]
pub enum StreamProtection {
    /// The stream is not encrypted and no key was sent.
    Plain,
    /// The stream is encrypted and a well-formed key was sent.
    Encrypted {
        /// The stream's cipher.
        cipher: StreamCipher,
        /// The parsed key.
        key: EncryptionKey,
    },
}

impl StreamSpec {
    /// A stream created while its basin's `stream_cipher` was `basin_cipher`.
    pub const fn created_with(basin_cipher: Option<StreamCipher>) -> Self {
        Self {
            cipher: basin_cipher,
        }
    }

    /// An unencrypted stream.
    pub const fn plain() -> Self {
        Self { cipher: None }
    }

    /// An encrypted stream.
    pub const fn encrypted(cipher: StreamCipher) -> Self {
        Self {
            cipher: Some(cipher),
        }
    }

    /// The stream's cipher, if it is encrypted.
    pub const fn cipher(self) -> Option<StreamCipher> {
        self.cipher
    }

    /// Resolves the key a data-plane request (append, read) carries — the `s2-encryption-key`
    /// header value, or `None` when the header is absent.
    ///
    /// A blank value (empty or whitespace, as an unset-by-emptying `S2_ENCRYPTION_KEY=` sends) is
    /// no key, on either kind of stream:
    /// - encrypted stream, key absent or blank → [`StreamError::MissingKey`];
    /// - encrypted stream, key not padded standard base64 → [`StreamError::InvalidKey`];
    /// - encrypted stream, key not 32 bytes → [`StreamError::InvalidKeyLength`];
    /// - unencrypted stream, a key that is not blank → [`StreamError::KeyForUnencryptedStream`]
    ///   (S2 ignores it, and its sender believes its data encrypted).
    pub fn resolve(self, key_header: Option<&str>) -> Result<StreamProtection, StreamError> {
        match (self.cipher, key_header) {
            (None, None) => Ok(StreamProtection::Plain),
            (None, Some(value)) if value.trim().is_empty() => Ok(StreamProtection::Plain),
            (None, Some(_)) => Err(StreamError::KeyForUnencryptedStream),
            (Some(cipher), None) => Err(StreamError::MissingKey { cipher }),
            (Some(cipher), Some(value)) => {
                let key = EncryptionKey::parse(value).map_err(|e| match e {
                    KeyParseError::Missing => StreamError::MissingKey { cipher },
                    KeyParseError::InvalidLength(len) => {
                        StreamError::InvalidKeyLength { cipher, len }
                    }
                    _ => StreamError::InvalidKey { cipher },
                })?;
                Ok(StreamProtection::Encrypted { cipher, key })
            }
        }
    }

    /// Everything a server does before touching a record of `identity`: resolve the key, check it
    /// against the stream's stored key-check value (when there is one), and build the sealer.
    ///
    /// Returns `None` for a plain stream. For an encrypted stream without a stored key-check value,
    /// store [`RecordSealer::key_check`] of the returned sealer with the stream's first append —
    /// after the record is sealed, before it is committed — and never on a read: a read of a
    /// stream that holds no records proves nothing about the key, and storing its value would lock
    /// the stream to whatever key that reader sent. Store it only if none is stored yet
    /// (create-if-absent) and compare when one is: of two concurrent first appends with different
    /// keys, the second then fails with [`StreamError::WrongKey`] instead of committing a record
    /// no reader could open.
    ///
    /// # Panics
    /// Only if the operating system cannot provide random bytes.
    pub fn sealer(
        self,
        key_header: Option<&str>,
        identity: &StreamIdentity,
        stored_key_check: Option<&KeyCheck>,
    ) -> Result<Option<RecordSealer>, StreamError> {
        match self.resolve(key_header)? {
            StreamProtection::Plain => Ok(None),
            StreamProtection::Encrypted { cipher, key } => match stored_key_check {
                Some(stored) => {
                    RecordSealer::with_key_check(cipher, &key, identity, stored).map(Some)
                }
                None => Ok(Some(RecordSealer::new(cipher, &key, identity))),
            },
        }
    }
}
