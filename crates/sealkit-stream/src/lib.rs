//! Per-stream record encryption under a key the client supplies on every request — S2's stream
//! encryption as a library, with the weak spots fixed.
//!
//! A stream captures a [`StreamCipher`] (AEGIS-256 or AES-256-GCM) when it is created. Each append or
//! read carries the key (S2's `s2-encryption-key` header); [`StreamSpec::resolve`] parses it exactly
//! as S2 does. [`RecordSealer`] then seals and opens records in [record format v1](record).
//!
//! Beyond S2:
//! - a **key-check value** ([`KeyCheck`]) stored beside the stream refuses a wrong key on append *and*
//!   read, before any record is touched ([`StreamError::WrongKey`]), instead of letting a wrong key
//!   poison the stream;
//! - a **per-stream subkey** (HKDF-SHA256 of the client key and the stream identity), so the
//!   AES-256-GCM bound of 2^32 records holds per stream however many streams share a key;
//! - a **stream identity** of basin, stream and incarnation, length-prefixed, so records do not open in
//!   a re-created stream of the same name;
//! - a key sent to an unencrypted stream is an error ([`StreamError::KeyForUnencryptedStream`]);
//! - the cipher is keyed once per (key, stream), and sealing can run in place without allocating.
//!
//! ```
//! use sealkit_stream::{EncryptionKey, RecordSealer, StreamCipher, StreamIdentity, StreamSpec};
//!
//! # fn main() -> Result<(), sealkit_stream::StreamError> {
//! let header = EncryptionKey::generate().to_base64(); // what the client sends
//! let spec = StreamSpec::encrypted(StreamCipher::Aegis256);
//! let identity = StreamIdentity::new("secure-events", "audit-log")?.with_incarnation(*b"c-0001")?;
//!
//! // First append: no key-check value stored yet; keep the one the sealer derived.
//! let sealer = spec.sealer(Some(&header), &identity, None)?.expect("encrypted stream");
//! let stored_check = *sealer.key_check();
//! let record = sealer.seal(b"top secret\n", Some(0))?;
//!
//! // Later requests are checked against it before any record is touched.
//! let reader = spec.sealer(Some(&header), &identity, Some(&stored_check))?.unwrap();
//! assert_eq!(reader.open(&record, Some(0))?, b"top secret\n");
//! assert_eq!(sealkit_stream::record::inspect(&record)?.plaintext_len, 11);
//!
//! let other = EncryptionKey::generate().to_base64();
//! let err = spec.sealer(Some(&other), &identity, Some(&stored_check)).unwrap_err();
//! assert_eq!((err.code(), err.http_status()), ("wrong_key", 400));
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cipher;
mod error;
mod identity;
mod key;
pub mod primitive;
pub mod record;
mod schedule;
mod sealer;
mod spec;

pub use cipher::StreamCipher;
pub use error::StreamError;
pub use identity::{MAX_BASIN_LEN, MAX_INCARNATION_LEN, MAX_STREAM_LEN, StreamIdentity};
pub use key::{EncryptionKey, KEY_LEN, KeyParseError, MAX_KEY_CHARS};
pub use record::{RecordFormat, RecordInfo};
pub use schedule::{KEY_CHECK_LEN, KeyCheck};
pub use sealer::RecordSealer;
pub use spec::{Operation, StreamProtection, StreamSpec};
