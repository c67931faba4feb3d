//! The `ENCRYPTION_KEY` material and the two AES-256 keys derived from it.
//!
//! The key material is the UTF-8 bytes of the string exactly as configured: never trimmed, never
//! base64-decoded (a trailing newline is part of the key), because that is what every Olympus SDK
//! version hashed. Both derived keys are computed once, when the vault is built, and live only inside
//! the AES-GCM cipher states, which wipe themselves on drop.

use std::ffi::OsString;
use std::fmt;

use aes_gcm::aes::Aes256;
use aes_gcm::{Aes256Gcm, AesGcm, KeyInit};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// HKDF `info` of the `v2` key: domain separation from any other key derived from the same secret.
pub const V2_HKDF_INFO: &[u8] = b"olympus-settings-aes-256-gcm";

/// The environment variable the reference reads the key from.
pub const ENCRYPTION_KEY_VAR: &str = "ENCRYPTION_KEY";

/// AES-256-GCM with the 16-byte IV written by SDK versions before 1.0.27 (and still by one service).
pub(crate) type Aes256Gcm16 = AesGcm<Aes256, aes_gcm::aead::consts::U16>;

/// The raw `ENCRYPTION_KEY` string. Wiped on drop; `Debug` never shows it.
#[derive(Clone)]
pub struct EncryptionKey {
    raw: Zeroizing<String>,
}

impl EncryptionKey {
    /// Key material from the configured string, exactly as given (not trimmed, not decoded).
    pub fn new(raw: impl Into<String>) -> Self {
        Self {
            raw: Zeroizing::new(raw.into()),
        }
    }

    /// Key material from raw bytes, decoded lossily as UTF-8 (invalid sequences become U+FFFD),
    /// which is what Node does with a non-UTF-8 environment value.
    pub fn from_bytes_lossy(raw: &[u8]) -> Self {
        // Sized once: `into_owned` of a repaired string would grow, freeing copies unwiped.
        let mut text = Zeroizing::new(String::with_capacity(raw.len() * 3));
        for chunk in raw.utf8_chunks() {
            text.push_str(chunk.valid());
            if !chunk.invalid().is_empty() {
                text.push(char::REPLACEMENT_CHARACTER);
            }
        }
        Self { raw: text }
    }

    /// Reads `ENCRYPTION_KEY` from the process environment (lossily for non-UTF-8, never
    /// trimmed); `None` when unset.
    pub fn from_env() -> Option<Self> {
        Self::from_env_var(ENCRYPTION_KEY_VAR)
    }

    /// Reads the key from the named environment variable; `None` when unset.
    pub fn from_env_var(name: &str) -> Option<Self> {
        std::env::var_os(name).map(Self::from_os_string)
    }

    /// Key material from an environment value, read as [`EncryptionKey::from_env_var`] reads it.
    pub(crate) fn from_os_string(value: OsString) -> Self {
        Self {
            raw: lossy_env_text(value),
        }
    }

    /// Byte length of the UTF-8 key string (what the startup validation measures).
    pub fn len_bytes(&self) -> usize {
        self.raw.len()
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The key string. Crate-private: only derivation, validation and key-separation checks see it.
    pub(crate) fn expose(&self) -> &str {
        &self.raw
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey([REDACTED])")
    }
}

/// An environment value as text, lossily for non-UTF-8 (as Node reads it), in a buffer wiped on
/// drop: any value read beside the key may turn out to be a copy of it.
pub(crate) fn lossy_env_text(value: OsString) -> Zeroizing<String> {
    // Taken over without a copy when it is UTF-8; otherwise the raw bytes are wiped.
    match value.into_string() {
        Ok(text) => Zeroizing::new(text),
        Err(raw) => EncryptionKey::from_bytes_lossy(&Zeroizing::new(raw.into_encoded_bytes())).raw,
    }
}

/// The key text without surrounding whitespace and one matching pair of `"` or `'` (then without
/// whitespace inside them). `.env` loaders strip such quoting, `docker --env-file` and many secret
/// stores keep it literally, so one secret arrives in both spellings. For checks that must
/// recognise a key however it was written (blocklist, key separation); never for the key
/// material itself, which is used exactly as given.
pub(crate) fn normalise_spelling(raw: &str) -> &str {
    let trimmed = raw.trim();
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|&q| trimmed.strip_prefix(q)?.strip_suffix(q))
        .unwrap_or(trimmed);
    unquoted.trim()
}

/// The ciphers of one `ENCRYPTION_KEY`: HKDF-SHA256 for `v2`, bare SHA-256 for legacy values.
///
/// Handed out boxed: the AES key schedules (whose first round keys are the keys themselves) then
/// stay where they are while a vault moves and its list of previous keys grows; only the value
/// built before boxing is left on the stack unwiped (Rust has no in-place construction).
pub(crate) struct DerivedKeys {
    pub(crate) v2: Aes256Gcm,
    pub(crate) legacy12: Aes256Gcm,
    pub(crate) legacy16: Aes256Gcm16,
}

impl DerivedKeys {
    pub(crate) fn derive(key: &EncryptionKey) -> Box<Self> {
        let ikm = key.expose().as_bytes();
        let mut v2 = Zeroizing::new([0u8; 32]);
        v2_key_bytes(ikm, &mut v2);
        let mut legacy = Zeroizing::new([0u8; 32]);
        legacy_key_bytes(ikm, &mut legacy);
        Self::from_key_bytes(&v2, &legacy)
    }

    /// The ciphers for already derived AES keys. [`DerivedKeys::derive`] goes through here, and
    /// so does the test-only seam that runs raw-key AES-GCM vectors through the legacy path.
    pub(crate) fn from_key_bytes(v2: &[u8; 32], legacy: &[u8; 32]) -> Box<Self> {
        Box::new(Self {
            v2: Aes256Gcm::new(v2.into()),
            legacy12: Aes256Gcm::new(legacy.into()),
            legacy16: Aes256Gcm16::new(legacy.into()),
        })
    }
}

/// HKDF-SHA256(IKM = key bytes, salt = none, info = [`V2_HKDF_INFO`], L = 32), written into
/// `okm` (the caller's wiped buffer: a returned array would leave copies on the stack).
pub(crate) fn v2_key_bytes(ikm: &[u8], okm: &mut [u8; 32]) {
    Hkdf::<Sha256>::new(None, ikm)
        .expand(V2_HKDF_INFO, okm)
        .expect("32 bytes is far below HKDF-SHA256's 8160-byte limit");
}

/// SHA-256(key bytes): the legacy AES key, written into `out`.
pub(crate) fn legacy_key_bytes(ikm: &[u8], out: &mut [u8; 32]) {
    let mut hash = Sha256::new();
    hash.update(ikm);
    hash.finalize_into(out.into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_check_values() {
        let key = b"test-encryption-key-exactly-32b!";
        let (mut v2, mut legacy) = ([0u8; 32], [0u8; 32]);
        v2_key_bytes(key, &mut v2);
        legacy_key_bytes(key, &mut legacy);
        assert_eq!(
            hex::encode(v2),
            "d79118592eb0bb7c362f52377e4e9531b60f0e0bf4db158c4c005e89e4af784e"
        );
        assert_eq!(
            hex::encode(legacy),
            "37a1864ab4b552832ff2227ec7f206731617b3fb4511de921216f3da132619ae"
        );
        // Lossy reading matches `String::from_utf8_lossy`, which Node's reading mirrors.
        for raw in [&b"plain"[..], b"\xff\xfekey\xc3", b"\xe2\x82", b""] {
            assert_eq!(
                EncryptionKey::from_bytes_lossy(raw).expose(),
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn debug_is_redacted() {
        let key = EncryptionKey::new("super-secret-key-material-0123456789");
        let shown = format!("{key:?}");
        assert!(!shown.contains("super-secret"), "{shown}");
        assert!(shown.contains("[REDACTED]"));
    }

    #[test]
    fn lossy_non_utf8_and_no_trimming() {
        let key = EncryptionKey::from_bytes_lossy(b"ab\xffcd\n");
        assert_eq!(key.expose(), "ab\u{fffd}cd\n");
        assert_eq!(key.len_bytes(), 2 + 3 + 2 + 1);
    }
}
