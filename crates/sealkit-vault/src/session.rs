//! [`SessionSigner`]: the reference's admin session cookie,
//! `b64url(json) + "." + b64url(HMAC-SHA256(K, ascii(b64url(json))))` with
//! K = base64-decode(`SESSION_SIGNING_KEY`), under a key that must be separate from
//! `ENCRYPTION_KEY` and at least 32 bytes.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64ct::{Base64, Base64Unpadded, Encoding as _};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::VaultError;
use crate::key::{EncryptionKey, normalise_spelling};

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
    /// the signing key (as a string or decoded) equal to the encryption key as given, to the
    /// encryption key without surrounding whitespace and quotes, or to the encryption key's
    /// base64 decoding in either alphabet, padded or not.
    pub fn new(signing_key_b64: &str, encryption_key: &EncryptionKey) -> Result<Self, VaultError> {
        // Blank is "no key", whatever ENCRYPTION_KEY is (an unset one is blank too).
        if signing_key_b64.trim().is_empty() {
            return Err(VaultError::SigningKeyTooShort { got: 0 });
        }
        let spellings = EncryptionKeySpellings::of(encryption_key);
        if bool::from(spellings.matches_text(signing_key_b64)) {
            return Err(VaultError::SigningKeyEqualsEncryptionKey);
        }
        // Decoded (strictly, in constant time: it is key material) into a wiped buffer sized
        // once for any input: a growing or temporary buffer would drop a partly decoded key
        // unwiped on error.
        let mut key = Zeroizing::new(vec![0u8; signing_key_b64.len().div_ceil(4) * 3]);
        let len = Base64::decode(signing_key_b64, key.as_mut_slice())
            .map_err(|_| VaultError::SigningKeyNotBase64)?
            .len();
        key.truncate(len);
        if bool::from(spellings.matches_bytes(&key)) {
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
    /// The signature only, as the reference does: a cookie once signed verifies here for as long
    /// as the key is in use. Unless the caller checks an expiry in the payload itself, use
    /// [`SessionSigner::verify_unexpired`].
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

/// The forms in which the `ENCRYPTION_KEY` secret could reappear as the signing key. The raw string
/// is what the vault hashes, but operators copy keys between `.env` files, `docker --env-file`
/// (which keeps quotes literally), shells and secret stores, so the same 32 random bytes also show
/// up with a trailing newline, in quotes, unpadded or in the URL-safe alphabet. Comparing only the
/// exact string would let one secret serve both purposes, which is what SPEC §2 forbids.
struct EncryptionKeySpellings<'k> {
    /// Exactly as configured.
    raw: &'k str,
    /// Without surrounding whitespace and one pair of quotes.
    normalised: &'k str,
    /// The lenient base64 decoding of `normalised`, when it is base64 at all.
    decoded: Option<Zeroizing<Vec<u8>>>,
}

impl<'k> EncryptionKeySpellings<'k> {
    fn of(key: &'k EncryptionKey) -> Self {
        let raw = key.expose();
        let normalised = normalise_spelling(raw);
        Self {
            raw,
            normalised,
            decoded: decode_leniently(normalised),
        }
    }

    /// The signing key's string equals a textual spelling (constant time in the contents; every
    /// comparison runs, so the time does not say which spelling matched).
    fn matches_text(&self, signing_key: &str) -> Choice {
        let s = signing_key.as_bytes();
        s.ct_eq(self.raw.as_bytes()) | s.ct_eq(self.normalised.as_bytes())
    }

    /// The signing key's decoded bytes equal any spelling (constant time, as above).
    fn matches_bytes(&self, signing_key: &[u8]) -> Choice {
        let decoded = self
            .decoded
            .as_ref()
            .map_or(Choice::from(0), |d| signing_key.ct_eq(d.as_slice()));
        signing_key.ct_eq(self.raw.as_bytes())
            | signing_key.ct_eq(self.normalised.as_bytes())
            | decoded
    }
}

/// Decodes a base64 key however it was spelled: either alphabet (even mixed), whitespace anywhere
/// (line-wrapped `openssl rand -base64` output), padding optional, non-zero trailing bits allowed.
/// Only the key-separation check uses it, to recognise the same secret written differently; a key
/// that is actually used is always decoded strictly. `None` when it is not base64 at all, or
/// decodes to nothing (a key of only quotes or whitespace is no secret to keep apart, and an empty
/// signing key then still gets its accurate error, too short).
///
/// The decoding is base64ct's, constant time in the contents, as key material needs. It decodes
/// only canonical unpadded text, so the leniency is arranged around it: the alphabet and
/// whitespace are folded, the padding stripped, and a final partial block is completed with `A`s
/// (zero bits) and decoded as a whole block, its surplus bytes then cut off. Trailing bits of the
/// last character, which a canonical encoding leaves zero, so end up in the cut-off part, and a
/// non-canonical spelling of a key decodes to the same bytes as the canonical one.
fn decode_leniently(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    // The copy holds key text, so it is wiped; sized once up front (with room for the completing
    // `A`s), since a `collect` would grow by reallocating and leave unwiped copies.
    let mut folded = Zeroizing::new(String::with_capacity(text.len() + 3));
    folded.extend(
        text.chars()
            .filter(|c| !c.is_ascii_whitespace())
            .map(|c| match c {
                '-' => '+',
                '_' => '/',
                c => c,
            }),
    );
    let unpadded = folded.trim_end_matches('=').len();
    folded.truncate(unpadded);
    // A last block of 2 characters carries 1 byte, of 3 characters 2 bytes; of 1 it is no base64.
    let tail_bytes = match unpadded % 4 {
        0 => 0,
        1 => return None,
        r => r - 1,
    };
    if tail_bytes > 0 {
        folded.extend(std::iter::repeat_n('A', 4 - unpadded % 4));
    }
    let len = unpadded / 4 * 3 + tail_bytes;
    // Decoded into a buffer that is wiped even when decoding fails halfway.
    let mut buffer = Zeroizing::new(vec![0u8; folded.len() / 4 * 3]);
    Base64Unpadded::decode(folded.as_bytes(), &mut buffer).ok()?;
    buffer.truncate(len);
    (len > 0).then_some(buffer)
}

impl fmt::Debug for SessionSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionSigner([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    #[test]
    fn lenient_decoding_matches_strict_decoding_of_the_canonical_spelling() {
        for len in 1..=35usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 151 + 7) as u8).collect();
            let canonical = Base64::encode_string(&bytes);
            let unpadded = canonical.trim_end_matches('=');
            // The trailing bits a canonical last character leaves zero: 4 after 2 characters of
            // a block, 2 after 3, none after a full block.
            let unused = match unpadded.len() % 4 {
                2 => 4,
                3 => 2,
                _ => 0,
            };
            let (head, last) = unpadded.split_at(unpadded.len() - 1);
            let last = STANDARD
                .iter()
                .position(|&c| c == last.as_bytes()[0])
                .unwrap();
            for trailing in 0..(1 << unused) {
                let spelled = format!("{head}{}", char::from(STANDARD[last | trailing]));
                for text in [
                    spelled.clone(),
                    format!("{spelled}{}", &canonical[unpadded.len()..]),
                    format!(" {}\n", spelled.replace('+', "-").replace('/', "_")),
                ] {
                    let decoded = decode_leniently(&text).unwrap();
                    assert_eq!(decoded.as_slice(), bytes.as_slice(), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn lenient_decoding_refuses_what_is_not_base64_at_all() {
        for text in [
            "", "=", "==", " \n", "A", "AAAAA", "AB!D", "AB=D", "ÄÄÄÄ", "\"AAAA\"",
        ] {
            assert!(decode_leniently(text).is_none(), "{text:?}");
        }
    }
}
