//! sealkit-vault: the settings vault, byte-compatible with the Olympus SDK.
//!
//! - [`SettingsVault`] encrypts short settings values into `v2:<iv>:<tag>:<ct>` (AES-256-GCM under
//!   HKDF-SHA256 of `ENCRYPTION_KEY`) and decrypts every format any SDK version wrote: `v2`, legacy
//!   (SHA-256 key, 12- or 16-byte IV), plain text passed through. One detector ([`classify`]) decides
//!   the format for both `decrypt` and [`is_encrypted_format`]. Previous keys allow rotation.
//! - [`StartupValidator`] runs the three-tier key validation with analytics events.
//! - [`SessionSigner`] signs and verifies the reference's admin session cookies under a separate key.
//! - [`migrate`] moves stored rows to `v2` under the current key (SQLite or PostgreSQL), with
//!   compare-and-swap batches.
//!
//! ```
//! use sealkit_vault::{EncryptionKey, SettingsVault};
//!
//! let vault = SettingsVault::new(&EncryptionKey::new("q4A8pB0hYxV3n1Jd6mZ0cWl2tR9sE5uK7oG+fH/iLwM="))?;
//! let stored = vault.encrypt("smtp-password")?;
//! assert!(stored.starts_with("v2:"));
//! assert_eq!(vault.decrypt(&stored)?.as_str(), "smtp-password");
//! // Rows written before encryption existed pass through; so do URLs with two colons.
//! assert_eq!(vault.decrypt("http://localhost:3000")?.as_str(), "http://localhost:3000");
//! # Ok::<(), sealkit_vault::VaultError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
pub mod format;
mod key;
pub mod migrate;
mod session;
mod startup;
mod vault;

/// The `rusqlite` crate whose `Connection` [`migrate::sqlite::SqliteStore::from_connection`]
/// takes: use this path rather than a dependency of your own, so the types are always the same.
#[cfg(feature = "sqlite")]
pub use rusqlite;

/// The `postgres` crate whose `Client` [`migrate::postgres::PostgresStore::from_client`] takes
/// (and [`migrate::postgres::PostgresTls::connect`] returns): use this path rather than a
/// dependency of your own, so the types are always the same.
#[cfg(feature = "postgres")]
pub use postgres;

pub use error::{FormatError, VaultError};
pub use format::{classify, is_encrypted_format};
pub use key::{ENCRYPTION_KEY_VAR, EncryptionKey, V2_HKDF_INFO};
pub use session::{MIN_SIGNING_KEY_LEN, SESSION_SIGNING_KEY_VAR, SessionSigner};
pub use startup::{
    AnalyticsEvent, AnalyticsSink, BLOCKLIST, DEFAULT_ENVIRONMENT_VAR, MIN_KEY_LEN, StartupCode,
    StartupError, StartupSuccess, StartupValidator, StdoutJsonLines, is_blocklisted, is_degenerate,
    is_production, names_a_secret,
};
pub use vault::{Rewrap, SettingsVault};
// Test-only seam (see its docs): not public API, and not built without the `test-seams` feature.
#[cfg(feature = "test-seams")]
#[doc(hidden)]
pub use vault::{
    legacy_open_raw_key_test_only, legacy_seal_raw_key_test_only, v2_seal_with_iv_test_only,
};
