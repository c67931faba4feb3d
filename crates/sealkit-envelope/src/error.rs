//! The crate's one error type.
//!
//! Two audiences. Registry and key-configuration errors are for the operator who deploys the
//! service: they name the scope and, where it helps, the key id (never key material, never an
//! environment variable's value). Key ids come from configuration nobody validated, so they are
//! shown only through [`ReportedKeyId`], which replaces anything that does not look like a key id
//! by its length. Envelope and decryption errors may reach whoever submitted the
//! envelope: they never reveal how many keys the registry holds, which ids it knows, or where keys
//! come from. The detail an operator needs after a failed decryption is in the
//! [`DecryptionTelemetry`](crate::DecryptionTelemetry) the error carries, not in its message.

use std::fmt;

use crate::telemetry::DecryptionTelemetry;

/// The longest key id an error shows.
const MAX_SHOWN_KEY_ID_LEN: usize = 64;

/// [`ReportedKeyId::would_show`]'s rule in words, for the errors that refuse an id by it.
pub(crate) const KEY_ID_RULE: &str =
    "a key ID is at most 64 bytes, without whitespace, control characters or a PEM header";

// The registry refuses every id an error would not show (see `KeyRegistry::from_document`); that
// must also keep out every id too long for an envelope to carry.
const _: () = assert!(MAX_SHOWN_KEY_ID_LEN <= crate::envelope::MAX_KEY_ID_LEN);

/// A key id as an error reports it: quoted when it looks like a key id, otherwise only its length.
///
/// Ids come from registry JSON and the environment, which nothing validates: an "id" may be a PEM
/// or another secret pasted into `{SCOPE}_ACTIVE_KEY_ID` or written on the wrong side of a flat
/// registry entry, or a newline that would let a registry forge lines in a one-line error. Shown:
/// at most 64 bytes, no whitespace or control characters, no `-----BEGIN`. Anything else is not
/// even kept, so the error holds no copy of it (`Debug` prints what `Display` prints).
#[derive(Clone, PartialEq, Eq)]
pub struct ReportedKeyId(Shown);

#[derive(Clone, PartialEq, Eq)]
enum Shown {
    Id(String),
    Withheld { len: usize },
}

impl ReportedKeyId {
    pub(crate) fn new(id: &str) -> Self {
        Self(if Self::would_show(id) {
            Shown::Id(id.to_owned())
        } else {
            Shown::Withheld { len: id.len() }
        })
    }

    /// Whether `id` looks like a key id, i.e. whether a report of it shows it.
    pub(crate) fn would_show(id: &str) -> bool {
        !id.is_empty()
            && id.len() <= MAX_SHOWN_KEY_ID_LEN
            && !id.chars().any(|c| c.is_control() || c.is_whitespace())
            && !id.contains("-----BEGIN")
    }

    /// The id, if it is one an error shows; `None` when it was withheld.
    pub fn shown(&self) -> Option<&str> {
        match &self.0 {
            Shown::Id(id) => Some(id),
            Shown::Withheld { .. } => None,
        }
    }
}

impl fmt::Display for ReportedKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Shown::Id(id) => write!(f, "\"{id}\""),
            Shown::Withheld { len } => write!(f, "(a key id of {len} bytes that is not shown)"),
        }
    }
}

impl fmt::Debug for ReportedKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why one decryption candidate failed (the "last cause" of a failed open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureCause {
    /// RSA-OAEP decoding failed: the data key was not wrapped for this key (or was altered).
    KeyUnwrap,
    /// The unwrapped data key was not 32 bytes.
    KeyLength,
    /// AES-GCM authentication failed: body, IV or bound context altered, or the wrong data key.
    Authentication,
}

impl FailureCause {
    /// A short description, also used as the telemetry `reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::KeyUnwrap => "RSA-OAEP unwrap failed",
            Self::KeyLength => "unwrapped data key is not 32 bytes",
            Self::Authentication => "AES-GCM authentication failed",
        }
    }
}

impl std::fmt::Display for FailureCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every way an envelope operation can fail.
///
/// `Debug` prints the variant, its code and its `Display` message, and nothing else (see the impl).
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // --- registry configuration (operator-facing) ---
    /// The registry JSON does not parse.
    #[error("{scope} key registry: JSON is invalid")]
    RegistryJsonInvalid {
        /// Scope label, e.g. `data-at-rest`.
        scope: &'static str,
    },
    /// The registry JSON parses but is not an object.
    #[error("{scope} key registry: JSON must be an object")]
    RegistryNotObject {
        /// Scope label.
        scope: &'static str,
    },
    /// No entry with a non-blank id and a non-blank string key.
    #[error("{scope} key registry: does not contain any usable keys")]
    RegistryNoUsableKeys {
        /// Scope label.
        scope: &'static str,
    },
    /// The active key id names no key in the registry.
    #[error("{scope} key registry: active key ID {key_id} is not present in registry")]
    ActiveKeyNotInRegistry {
        /// Scope label.
        scope: &'static str,
        /// The configured active key id.
        key_id: ReportedKeyId,
    },
    /// A registry id (a `keys` entry's name, or the legacy `{SCOPE}_KEY_ID`) that does not look
    /// like a key id: over 64 bytes, blank, or holding whitespace, control characters or
    /// `-----BEGIN`. Ids reach telemetry, logs and `Debug` unfiltered once registered, so one that
    /// may be a pasted secret is refused here, and the error shows only its length.
    #[error("{scope} key registry: key ID {key_id} is not usable: {KEY_ID_RULE}")]
    RegistryKeyIdInvalid {
        /// Scope label.
        scope: &'static str,
        /// The refused id (withheld: never shown).
        key_id: ReportedKeyId,
    },
    /// Neither a registry nor a legacy single key is configured.
    #[error("{scope} key registry: no decryption keys are configured")]
    RegistryNotConfigured {
        /// Scope label.
        scope: &'static str,
    },
    /// Legacy single-key mode has a private key but no key id.
    #[error("{scope} key registry: a legacy private key is configured without its key ID")]
    LegacyKeyIdMissing {
        /// Scope label.
        scope: &'static str,
    },
    /// A registry entry is not a PKCS#8 PEM RSA private key.
    #[error("{scope} key registry: the key under ID {key_id} is not a PKCS#8 PEM RSA private key")]
    InvalidPrivateKey {
        /// Scope label.
        scope: &'static str,
        /// The entry's id.
        key_id: ReportedKeyId,
    },
    /// A registry entry is an RSA key below 2048 bits.
    #[error(
        "{scope} key registry: the key under ID {key_id} is {bits}-bit RSA; at least 2048 bits are required"
    )]
    RegistryKeyTooSmall {
        /// Scope label.
        scope: &'static str,
        /// The entry's id.
        key_id: ReportedKeyId,
        /// Its modulus size.
        bits: usize,
    },
    /// The write-side public key does not belong to the private key registered under its id.
    #[error(
        "{scope} key registry: the public key configured for ID {key_id} does not match the private key registered under that ID"
    )]
    PublicKeyMismatch {
        /// Scope label.
        scope: &'static str,
        /// The write-side key id.
        key_id: ReportedKeyId,
    },
    /// The write-side key id has no private key in the registry, so new writes could not be read.
    #[error("{scope} key registry: the write key ID {key_id} has no private key in the registry")]
    WriteKeyNotInRegistry {
        /// Scope label.
        scope: &'static str,
        /// The write-side key id.
        key_id: ReportedKeyId,
    },
    /// A write-side public key is configured without a key id (or the other way round).
    #[error("{scope} write key: the public key and the key ID must be configured together")]
    WriteKeyIncomplete {
        /// Scope label.
        scope: &'static str,
    },
    /// The operation needs an active key and the registry has none.
    #[error("{scope} key registry: no active key is configured")]
    NoActiveKey {
        /// Scope label.
        scope: &'static str,
    },
    /// A key id cannot be used (blank, or characters that cannot be stored).
    #[error("key ID is invalid: {reason}")]
    InvalidKeyId {
        /// What is wrong with it.
        reason: &'static str,
    },

    // --- keys ---
    /// Not an SPKI PEM RSA public key.
    #[error("not an SPKI PEM RSA public key")]
    InvalidPublicKey,
    /// Not a PKCS#8 PEM RSA private key.
    #[error("not a PKCS#8 PEM RSA private key")]
    InvalidPrivateKeyPem,
    /// RSA key below 2048 bits.
    #[error("{bits}-bit RSA key refused: at least 2048 bits are required")]
    KeyTooSmall {
        /// Its modulus size.
        bits: usize,
    },
    /// Key generation asked for an unsupported size.
    #[error("unsupported RSA key size {bits}: use 2048, 3072 or 4096")]
    UnsupportedKeySize {
        /// The size asked for.
        bits: usize,
    },
    /// Key generation or the OS random source failed.
    #[error("key generation failed")]
    KeyGeneration,

    // --- envelope shape (may reach whoever submitted the envelope) ---
    /// The record or metadata is not an envelope (missing or non-string fields, not JSON).
    #[error("the record is not an encryption envelope")]
    NotAnEnvelope,
    /// `algorithm` is not exactly `RSA-OAEP-AES-256-GCM`.
    #[error("unsupported envelope algorithm")]
    UnsupportedAlgorithm,
    /// `encryptionVersion` is not one this library reads.
    #[error("unsupported envelope encryption version")]
    UnsupportedVersion,
    /// The envelope version is readable but refused by the open policy (e.g. unbound `1.0`).
    #[error("envelope version not allowed by policy")]
    VersionNotAllowed,
    /// A base64 field is malformed.
    #[error("envelope field {field} is not valid base64url")]
    InvalidEncoding {
        /// The field's name as stored.
        field: &'static str,
    },
    /// A base64 field is longer than it may be.
    #[error("envelope field {field} is too long")]
    FieldTooLong {
        /// The field's name as stored.
        field: &'static str,
    },
    /// `dataIv` does not decode to 12 bytes.
    #[error("envelope IV must be 12 bytes")]
    InvalidIvLength,
    /// `keyId` is blank.
    #[error("envelope key ID is blank")]
    BlankKeyId,
    /// A body too short to hold the GCM tag.
    #[error("ciphertext is shorter than the authentication tag")]
    CiphertextTooShort,

    // --- decryption ---
    /// No candidate key could open the envelope. Deliberately vague; see [`Error::telemetry`].
    #[error("the envelope could not be decrypted")]
    DecryptionFailed {
        /// The telemetry record of the failed attempt (attempt count, last cause).
        telemetry: Box<DecryptionTelemetry>,
        /// Why the last candidate failed (`None` if policy allowed no attempt).
        last_cause: Option<FailureCause>,
    },
    /// The decrypted payload is not UTF-8 JSON.
    #[error("the decrypted payload is not valid JSON")]
    PlaintextNotJson,
    /// Encoding a payload as JSON failed.
    #[error("the payload could not be encoded as JSON")]
    PayloadNotSerializable,
    /// A context was given to a sealer that writes `1.0` envelopes, which cannot bind one: the
    /// envelope would open under any context. Seal with a bound sealer ([`Sealer::bound`]), or
    /// pass an empty context to write a reference-compatible `1.0` envelope.
    ///
    /// [`Sealer::bound`]: crate::Sealer::bound
    #[error(
        "a context was given, but 1.0 envelopes do not bind one: write the bound version, or pass no context"
    )]
    ContextNotBound,
    /// Sealing failed (RSA-OAEP wrap or AES-GCM refused the input).
    #[error("sealing failed")]
    SealFailed,
}

impl Error {
    /// A stable snake_case code for scripts and the CLI.
    pub fn code(&self) -> &'static str {
        match self {
            Self::RegistryJsonInvalid { .. } => "registry_json_invalid",
            Self::RegistryNotObject { .. } => "registry_not_object",
            Self::RegistryNoUsableKeys { .. } => "registry_no_usable_keys",
            Self::ActiveKeyNotInRegistry { .. } => "active_key_not_in_registry",
            Self::RegistryKeyIdInvalid { .. } => "registry_key_id_invalid",
            Self::RegistryNotConfigured { .. } => "registry_not_configured",
            Self::LegacyKeyIdMissing { .. } => "legacy_key_id_missing",
            Self::InvalidPrivateKey { .. } => "invalid_private_key",
            Self::RegistryKeyTooSmall { .. } => "key_too_small",
            Self::PublicKeyMismatch { .. } => "public_key_mismatch",
            Self::WriteKeyNotInRegistry { .. } => "write_key_not_in_registry",
            Self::WriteKeyIncomplete { .. } => "write_key_incomplete",
            Self::NoActiveKey { .. } => "no_active_key",
            Self::InvalidKeyId { .. } => "invalid_key_id",
            Self::InvalidPublicKey => "invalid_public_key",
            Self::InvalidPrivateKeyPem => "invalid_private_key",
            Self::KeyTooSmall { .. } => "key_too_small",
            Self::UnsupportedKeySize { .. } => "unsupported_key_size",
            Self::KeyGeneration => "key_generation_failed",
            Self::NotAnEnvelope => "not_an_envelope",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::UnsupportedVersion => "unsupported_version",
            Self::VersionNotAllowed => "version_not_allowed",
            Self::InvalidEncoding { .. } => "invalid_encoding",
            Self::FieldTooLong { .. } => "field_too_long",
            Self::InvalidIvLength => "invalid_iv_length",
            Self::BlankKeyId => "blank_key_id",
            Self::CiphertextTooShort => "ciphertext_too_short",
            Self::DecryptionFailed { .. } => "decryption_failed",
            Self::PlaintextNotJson => "plaintext_not_json",
            Self::PayloadNotSerializable => "payload_not_serializable",
            Self::ContextNotBound => "context_not_bound",
            Self::SealFailed => "seal_failed",
        }
    }

    /// The telemetry record of a failed decryption, for the operator's logs.
    pub fn telemetry(&self) -> Option<&DecryptionTelemetry> {
        match self {
            Self::DecryptionFailed { telemetry, .. } => Some(telemetry),
            _ => None,
        }
    }

    /// For a failed decryption: how many candidate keys were tried (an operator detail, kept out of
    /// the message).
    pub fn attempts(&self) -> Option<usize> {
        self.telemetry().map(|t| t.attempt_count)
    }

    /// For a failed decryption: why the last candidate failed.
    pub fn last_cause(&self) -> Option<FailureCause> {
        match self {
            Self::DecryptionFailed { last_cause, .. } => *last_cause,
            _ => None,
        }
    }
}

/// Written by hand so that `Debug` can never say more than `Display`: `{err:?}` ends up wherever
/// `{err}` would not be trusted to go (panic messages, `unwrap`, a framework's catch-all error
/// body). A derived `Debug` would print the telemetry `DecryptionFailed` carries — the record's key
/// id, the scope, the attempt count (the registry's size under the default policy) and the last
/// cause — which the caller-facing message deliberately withholds. That detail is for the
/// operator's logs, through [`Error::telemetry`] and [`Error::last_cause`].
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = f.debug_struct(self.variant_name());
        shown
            .field("code", &self.code())
            .field("message", &self.to_string());
        if let Self::DecryptionFailed { .. } = self {
            shown
                .field("telemetry", &"[REDACTED]")
                .field("last_cause", &"[REDACTED]");
        }
        shown.finish()
    }
}

impl Error {
    /// The variant's name, for `Debug` (codes are not unique per variant).
    fn variant_name(&self) -> &'static str {
        match self {
            Self::RegistryJsonInvalid { .. } => "RegistryJsonInvalid",
            Self::RegistryNotObject { .. } => "RegistryNotObject",
            Self::RegistryNoUsableKeys { .. } => "RegistryNoUsableKeys",
            Self::ActiveKeyNotInRegistry { .. } => "ActiveKeyNotInRegistry",
            Self::RegistryKeyIdInvalid { .. } => "RegistryKeyIdInvalid",
            Self::RegistryNotConfigured { .. } => "RegistryNotConfigured",
            Self::LegacyKeyIdMissing { .. } => "LegacyKeyIdMissing",
            Self::InvalidPrivateKey { .. } => "InvalidPrivateKey",
            Self::RegistryKeyTooSmall { .. } => "RegistryKeyTooSmall",
            Self::PublicKeyMismatch { .. } => "PublicKeyMismatch",
            Self::WriteKeyNotInRegistry { .. } => "WriteKeyNotInRegistry",
            Self::WriteKeyIncomplete { .. } => "WriteKeyIncomplete",
            Self::NoActiveKey { .. } => "NoActiveKey",
            Self::InvalidKeyId { .. } => "InvalidKeyId",
            Self::InvalidPublicKey => "InvalidPublicKey",
            Self::InvalidPrivateKeyPem => "InvalidPrivateKeyPem",
            Self::KeyTooSmall { .. } => "KeyTooSmall",
            Self::UnsupportedKeySize { .. } => "UnsupportedKeySize",
            Self::KeyGeneration => "KeyGeneration",
            Self::NotAnEnvelope => "NotAnEnvelope",
            Self::UnsupportedAlgorithm => "UnsupportedAlgorithm",
            Self::UnsupportedVersion => "UnsupportedVersion",
            Self::VersionNotAllowed => "VersionNotAllowed",
            Self::InvalidEncoding { .. } => "InvalidEncoding",
            Self::FieldTooLong { .. } => "FieldTooLong",
            Self::InvalidIvLength => "InvalidIvLength",
            Self::BlankKeyId => "BlankKeyId",
            Self::CiphertextTooShort => "CiphertextTooShort",
            Self::DecryptionFailed { .. } => "DecryptionFailed",
            Self::PlaintextNotJson => "PlaintextNotJson",
            Self::PayloadNotSerializable => "PayloadNotSerializable",
            Self::ContextNotBound => "ContextNotBound",
            Self::SealFailed => "SealFailed",
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_key_ids_are_shown_quoted() {
        for id in [
            "k1",
            "a1b2c3d4e5",
            "2025-01/data_at-rest.v2",
            "clé",
            &"x".repeat(64),
        ] {
            let reported = ReportedKeyId::new(id);
            assert_eq!(reported.to_string(), format!("\"{id}\""));
            assert_eq!(format!("{reported:?}"), format!("\"{id}\""));
            assert_eq!(reported.shown(), Some(id));
        }
    }

    #[test]
    fn anything_else_is_only_measured() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
        for id in [
            pem,
            "-----BEGIN PRIVATE KEY-----MIIEvQIBADAN",
            "k1\nforged line",
            "k1\rk2",
            "k1\u{1b}[2J",
            "k1\u{85}k2",
            "k1\u{2028}k2",
            "two words",
            "tab\there",
            &"x".repeat(65),
            "",
        ] {
            let reported = ReportedKeyId::new(id);
            let expected = format!("(a key id of {} bytes that is not shown)", id.len());
            assert_eq!(reported.to_string(), expected);
            assert_eq!(format!("{reported:?}"), expected);
            assert_eq!(reported.shown(), None);
        }
    }

    #[test]
    fn registry_errors_carry_no_unshown_id() {
        let secret = "-----BEGIN PRIVATE KEY-----\nMIIEsecret\n-----END PRIVATE KEY-----";
        for err in [
            Error::ActiveKeyNotInRegistry {
                scope: "data-at-rest",
                key_id: ReportedKeyId::new(secret),
            },
            Error::InvalidPrivateKey {
                scope: "data-at-rest",
                key_id: ReportedKeyId::new(secret),
            },
            Error::RegistryKeyTooSmall {
                scope: "data-at-rest",
                key_id: ReportedKeyId::new(secret),
                bits: 1024,
            },
            Error::PublicKeyMismatch {
                scope: "data-at-rest",
                key_id: ReportedKeyId::new(secret),
            },
            Error::WriteKeyNotInRegistry {
                scope: "data-at-rest",
                key_id: ReportedKeyId::new(secret),
            },
            Error::RegistryKeyIdInvalid {
                scope: "data-at-rest",
                key_id: ReportedKeyId::new(secret),
            },
        ] {
            let text = format!("{err} {err:?}");
            assert!(
                !text.contains("MIIEsecret") && !text.contains('\n'),
                "{text}"
            );
            assert!(
                text.contains("(a key id of 64 bytes that is not shown)"),
                "{text}"
            );
        }
    }
}
