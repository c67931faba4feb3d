//! [`SessionSigner`]: the reference's admin session cookie,
//! `b64url(json) + "." + b64url(HMAC-SHA256(K, ascii(b64url(json))))` with
//! K = base64-decode(`SESSION_SIGNING_KEY`), under a key that must be separate from
//! `ENCRYPTION_KEY` and at least 32 bytes.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::VaultError;
use crate::key::EncryptionKey;

/// The environment variable the reference reads the signing key from.
pub const SESSION_SIGNING_KEY_VAR: &str = "SESSION_SIGNING_KEY";
/// Minimum decoded length of the signing key.
pub const MIN_SIGNING_KEY_LEN: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// Signs and verifies session cookies. The HMAC state is keyed once and wiped on drop.
#[derive(Clone)]
pub struct SessionSigner {
    mac: HmacSha256,
}

impl SessionSigner {
    /// Builds a signer from the `SESSION_SIGNING_KEY` string (standard padded base64) and the
    /// `ENCRYPTION_KEY` it must differ from.
    ///
    /// # Errors
    /// [`VaultError::SigningKeyNotBase64`], [`VaultError::SigningKeyTooShort`] (under 32 decoded
    /// bytes), [`VaultError::SigningKeyEqualsEncryptionKey`] when the two keys are the same secret:
    /// equal strings, or the decoded signing key equal to the encryption key's bytes or to their
    /// base64 decoding.
    pub fn new(signing_key_b64: &str, encryption_key: &EncryptionKey) -> Result<Self, VaultError> {
        let enc = encryption_key.expose().as_bytes();
        if bool::from(signing_key_b64.as_bytes().ct_eq(enc)) {
            return Err(VaultError::SigningKeyEqualsEncryptionKey);
        }
        let key = Zeroizing::new(
            STANDARD
                .decode(signing_key_b64)
                .map_err(|_| VaultError::SigningKeyNotBase64)?,
        );
        if bool::from(key.as_slice().ct_eq(enc)) {
            return Err(VaultError::SigningKeyEqualsEncryptionKey);
        }
        if let Ok(enc_decoded) = STANDARD.decode(enc).map(Zeroizing::new)
            && bool::from(key.as_slice().ct_eq(enc_decoded.as_slice()))
        {
            return Err(VaultError::SigningKeyEqualsEncryptionKey);
        }
        if key.len() < MIN_SIGNING_KEY_LEN {
            return Err(VaultError::SigningKeyTooShort { got: key.len() });
        }
        let mac = HmacSha256::new_from_slice(&key).map_err(|_| VaultError::SigningKeyNotBase64)?;
        Ok(Self { mac })
    }

    /// Signs a JSON payload (the exact bytes are signed, as the reference signs
    /// `JSON.stringify(session)`).
    pub fn sign(&self, payload_json: &str) -> String {
        let mut cookie = String::with_capacity(payload_json.len().div_ceil(3) * 4 + 44);
        URL_SAFE_NO_PAD.encode_string(payload_json.as_bytes(), &mut cookie);
        let mut mac = self.mac.clone();
        mac.update(cookie.as_bytes());
        let signature = mac.finalize().into_bytes();
        cookie.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut cookie);
        cookie
    }

    /// Verifies a cookie's signature (constant time) and returns its JSON payload.
    ///
    /// # Errors
    /// [`VaultError::CookieMalformed`], [`VaultError::CookieSignature`],
    /// [`VaultError::CookiePayload`] when the signed payload is not UTF-8 JSON.
    pub fn verify(&self, cookie: &str) -> Result<String, VaultError> {
        let (payload_b64, signature_b64) =
            cookie.split_once('.').ok_or(VaultError::CookieMalformed)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| VaultError::CookieMalformed)?;
        // Decoding the payload first also rejects a second '.' (not in the base64url alphabet).
        let payload = URL_SAFE_NO_PAD
            .decode(payload_b64)
            .map_err(|_| VaultError::CookieMalformed)?;
        let mut mac = self.mac.clone();
        mac.update(payload_b64.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| VaultError::CookieSignature)?;
        let json = String::from_utf8(payload).map_err(|_| VaultError::CookiePayload(""))?;
        serde_json::from_str::<serde_json::Value>(&json)
            .map_err(|_| VaultError::CookiePayload(""))?;
        Ok(json)
    }

    /// As [`SessionSigner::verify`], and also enforces expiry: the payload must be a JSON object
    /// with a numeric `exp` (seconds since the Unix epoch, as in JWT) later than `now`.
    ///
    /// # Errors
    /// As [`SessionSigner::verify`], plus [`VaultError::CookieExpired`], and
    /// [`VaultError::CookiePayload`] when `exp` is missing or not a number.
    pub fn verify_unexpired(
        &self,
        cookie: &str,
        now: OffsetDateTime,
    ) -> Result<String, VaultError> {
        let json = self.verify(cookie)?;
        let value: serde_json::Value =
            serde_json::from_str(&json).map_err(|_| VaultError::CookiePayload(""))?;
        let exp = value.get("exp").and_then(serde_json::Value::as_f64).ok_or(
            VaultError::CookiePayload(" with a numeric `exp` (expiry is enforced)"),
        )?;
        if (now.unix_timestamp() as f64) >= exp {
            return Err(VaultError::CookieExpired);
        }
        Ok(json)
    }

    /// [`SessionSigner::verify_unexpired`] against the system clock.
    ///
    /// # Errors
    /// As [`SessionSigner::verify_unexpired`].
    pub fn verify_unexpired_now(&self, cookie: &str) -> Result<String, VaultError> {
        self.verify_unexpired(cookie, OffsetDateTime::now_utc())
    }
}

impl fmt::Debug for SessionSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionSigner([REDACTED])")
    }
}
