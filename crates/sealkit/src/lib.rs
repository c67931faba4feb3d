//! sealkit: crypto for services that keep secrets at rest.
//!
//! One dependency, one feature per component; each component is its own crate and is re-exported
//! here under a short name:
//!
//! | feature | module | what it does |
//! | --- | --- | --- |
//! | `stream` | [`stream`] | per-stream record encryption (AEGIS-256 / AES-256-GCM) with a client-supplied key |
//! | `vault` | [`vault`] | Olympus-compatible `v2:` settings vault, startup key validation, migration |
//! | `vault-sqlite`, `vault-postgres` | [`vault`] | the migration's SQLite / PostgreSQL stores (each brings its client library) |
//! | `envelope` | [`envelope`] | Striae-compatible RSA-OAEP + AES-256-GCM envelopes with a key registry |
//! | `token` | [`token`] | scoped, expiring, revocable access tokens |
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "envelope")]
pub use sealkit_envelope as envelope;
#[cfg(feature = "stream")]
pub use sealkit_stream as stream;
#[cfg(feature = "token")]
pub use sealkit_token as token;
#[cfg(feature = "vault")]
pub use sealkit_vault as vault;
