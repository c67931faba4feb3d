//! Hybrid RSA-OAEP + AES-256-GCM envelopes with a rotating key registry, byte-compatible with
//! Striae's `RSA-OAEP-AES-256-GCM` / `"1.0"` data-at-rest envelopes.
//!
//! - [`Sealer`] writes envelopes: a fresh 32-byte data key and 12-byte IV per object, the payload
//!   under AES-256-GCM, the data key wrapped with RSA-OAEP (SHA-256, MGF1-SHA-256, empty label).
//!   Object-store form ([`SealedObject`]: [`EnvelopeMetadata`] + raw body) or KV form
//!   ([`KvRecord`], one JSON string with the fields in the reference's order).
//! - [`KeyRegistry`] holds a scope's private keys (from the environment or JSON, nested, flat or
//!   legacy single-key), parsed once; [`Opener`] tries the record's key, the active key, then the
//!   rest, and returns a [`DecryptionTelemetry`] record with every result.
//! - Beyond the reference: an opt-in [`EnvelopeVersion::Bound`] that authenticates the metadata and
//!   a caller context; a bound on decryption attempts and an authoritative-key-id mode
//!   ([`CandidatePolicy`]); [`Opener::rewrap`]; a [`DataKeyCache`]; write-key validation
//!   ([`KeyRegistry::validate_write_key`]); RSA keys below 2048 bits refused; blinded RSA only.
//!
//! # Panics
//!
//! Every call that seals, wraps, opens, rewraps or reseals draws from the operating system's
//! CSPRNG on each use (data keys, IVs, OAEP padding, RSA blinding; never a thread-local generator,
//! whose state a `fork` or VM snapshot would copy) and panics only if the operating system cannot
//! provide random bytes. [`keys::generate_key_id`] returns an error instead.
//!
//! ```
//! use std::sync::Arc;
//! use sealkit_envelope::{generate_key_pair, KeyRegistry, Opener, Outcome, Scope, Sealer};
//!
//! let pair = generate_key_pair(2048)?;
//! let sealer = Sealer::from_public_key_pem(&pair.key_id, &pair.public_key_pem)?;
//! let record = sealer.seal_kv(b"{\"uid\":\"u1\"}", b"")?;
//!
//! let registry = KeyRegistry::legacy(Scope::UserKv, &pair.key_id, &pair.private_key_pem, None)?;
//! let opener = Opener::new(Arc::new(registry)).with_cache(1024);
//! let opened = opener.open_kv(&record, b"")?;
//! assert_eq!(&opened.plaintext[..], b"{\"uid\":\"u1\"}");
//! assert_eq!(opened.telemetry.outcome, Outcome::PrimaryHit);
//! # Ok::<(), sealkit_envelope::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
mod binding;
mod cache;
pub mod candidates;
pub mod content;
pub mod encoding;
mod envelope;
mod error;
pub mod flags;
mod json;
pub mod keys;
mod open;
pub mod registry;
mod rewrap;
mod seal;
mod telemetry;

/// The `rsa` crate whose key types this API takes and returns (`RsaPublicKey`, `RsaPrivateKey`),
/// pinned to the release with the Marvin fix: use these paths rather than a dependency of your own,
/// so the types are always the same ones.
pub use rsa;

pub use cache::DataKeyCache;
pub use candidates::CandidatePolicy;
pub use envelope::{
    ALGORITHM, DATA_KEY_LEN, EnvelopeMetadata, EnvelopeVersion, IV_LEN, KvRecord, TAG_LEN,
    ValidatedEnvelope,
};
pub use error::{Error, FailureCause, ReportedKeyId, Result};
pub use keys::{GeneratedKeyPair, generate_key_pair};
pub use open::{OpenPolicy, Opened, Opener};
pub use registry::{EnvLookup, KeyRegistry, ProcessEnv, RegistryDocument, Scope};
pub use seal::{SealedObject, Sealer};
pub use telemetry::{DecryptionTelemetry, Outcome};
