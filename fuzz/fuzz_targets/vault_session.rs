//! Session cookies (`SessionSigner`): the signing-key parser and the cookie verifier on arbitrary
//! text. Never panics; errors are the documented variants; a cookie that verifies is exactly what
//! the signer writes for its payload (one spelling per cookie), its payload is JSON, and the expiry
//! check agrees with the payload's numeric `exp`; whatever we sign verifies back iff it is JSON,
//! and no one-byte edit of a signed cookie verifies.
//!
//! Input: `<signing key>\n<cookie>` (the key is parsed and, if accepted, the cookie is verified
//! under it too, so seeds of real key + cookie pairs reach the accepting path), or a single line
//! used as both. The key line is also taken as `ENCRYPTION_KEY`, which the key-separation check
//! decodes leniently (any alphabet, whitespace, padding or trailing bits): the same text as the
//! signing key is then always refused, and the cookie line as a signing key gets a documented
//! answer.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sealkit_vault::{EncryptionKey, MIN_SIGNING_KEY_LEN, SessionSigner, VaultError};
use time::OffsetDateTime;

/// The `ENCRYPTION_KEY` the signing key must differ from.
const ENCRYPTION_KEY: &str = "fuzz-encryption-key-0123456789abcdef";
/// The fixed signer's key: bytes 0..=31, standard padded base64.
const SIGNING_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// "Now" for the expiry check (2025-06-03T17:00:00Z).
const NOW: i64 = 1_748_970_000;

struct Setup {
    encryption_key: EncryptionKey,
    signer: SessionSigner,
    now: OffsetDateTime,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let encryption_key = EncryptionKey::new(ENCRYPTION_KEY);
        let signer = SessionSigner::new(SIGNING_KEY, &encryption_key).expect("fixed signing key");
        Setup {
            encryption_key,
            signer,
            now: OffsetDateTime::from_unix_timestamp(NOW).unwrap(),
        }
    })
}

/// The errors `SessionSigner::new` documents for a signing key it refuses.
fn is_signing_key_refusal(error: &VaultError) -> bool {
    matches!(
        error,
        VaultError::SigningKeyEqualsEncryptionKey
            | VaultError::SigningKeyTooShort { .. }
            | VaultError::SigningKeyNotBase64
    )
}

/// `verify` and `verify_unexpired` on one cookie, with the invariants that tie them together.
fn check_cookie(signer: &SessionSigner, cookie: &str, now: OffsetDateTime) -> bool {
    match signer.verify(cookie) {
        Ok(json) => {
            let value: serde_json::Value =
                serde_json::from_str(&json).expect("a verified payload is JSON");
            assert_eq!(
                signer.sign(&json),
                cookie,
                "a verified cookie must be the signer's own spelling of its payload"
            );
            let exp = value.get("exp").and_then(serde_json::Value::as_f64);
            match signer.verify_unexpired(cookie, now) {
                Ok(again) => {
                    assert_eq!(again, json);
                    assert!(
                        exp.is_some_and(|exp| exp > NOW as f64),
                        "expired cookie accepted"
                    );
                }
                Err(VaultError::CookieExpired) => {
                    assert!(
                        exp.is_some_and(|exp| exp <= NOW as f64),
                        "live cookie refused"
                    );
                }
                Err(VaultError::CookiePayload(_)) => assert!(exp.is_none()),
                Err(e) => panic!("verify_unexpired: unexpected error {e:?} after verify passed"),
            }
            true
        }
        Err(e) => {
            assert!(
                matches!(
                    e,
                    VaultError::CookieMalformed
                        | VaultError::CookieSignature
                        | VaultError::CookiePayload(_)
                ),
                "verify: unexpected error {e:?}"
            );
            assert!(signer.verify_unexpired(cookie, now).is_err());
            false
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let setup = setup();
    let (key_text, cookie) = text.split_once('\n').unwrap_or((text, text));

    // Key parsing.
    match SessionSigner::new(key_text, &setup.encryption_key) {
        Ok(signer) => {
            assert_ne!(key_text, ENCRYPTION_KEY);
            // 32 bytes are at least 44 padded base64 characters.
            assert!(key_text.len() >= 44, "short signing key accepted");
            check_cookie(&signer, cookie, setup.now);
            let signed = signer.sign(cookie);
            assert_eq!(
                signer.verify(&signed).is_ok(),
                serde_json::from_str::<serde_json::Value>(cookie).is_ok()
            );
        }
        Err(VaultError::SigningKeyTooShort { got }) => assert!(got < MIN_SIGNING_KEY_LEN),
        Err(VaultError::SigningKeyNotBase64 | VaultError::SigningKeyEqualsEncryptionKey) => {}
        Err(e) => panic!("SessionSigner::new: unexpected error {e:?}"),
    }

    // The key line as `ENCRYPTION_KEY`: the lenient decoder of the key-separation check on
    // arbitrary text. The same secret as the signing key is never accepted.
    let as_encryption_key = EncryptionKey::new(key_text);
    match SessionSigner::new(key_text, &as_encryption_key) {
        Ok(_) => panic!("a signing key equal to ENCRYPTION_KEY accepted"),
        Err(e) => assert!(
            is_signing_key_refusal(&e),
            "SessionSigner::new (same key): unexpected error {e:?}"
        ),
    }
    match SessionSigner::new(cookie, &as_encryption_key) {
        Ok(_) => assert_ne!(cookie, key_text),
        Err(e) => assert!(
            is_signing_key_refusal(&e),
            "SessionSigner::new (cookie line): unexpected error {e:?}"
        ),
    }

    // Arbitrary cookies under the fixed signer (the fuzzer cannot forge the HMAC, so only
    // the parsing in front of it is reached this way)...
    check_cookie(&setup.signer, cookie, setup.now);

    // ...and genuine cookies for the input as payload, which reach the JSON and expiry checks.
    let signed = setup.signer.sign(cookie);
    let is_json = serde_json::from_str::<serde_json::Value>(cookie).is_ok();
    match setup.signer.verify(&signed) {
        Ok(payload) => {
            assert!(is_json);
            assert_eq!(payload, cookie);
        }
        Err(VaultError::CookiePayload(_)) => assert!(!is_json),
        Err(e) => panic!("our own cookie refused: {e:?}"),
    }
    assert_eq!(check_cookie(&setup.signer, &signed, setup.now), is_json);

    // One edit of the genuine cookie: position and replacement byte from the input.
    if let [a, b, value, ..] = data {
        let mut edited = signed.into_bytes();
        let at = usize::from(u16::from_le_bytes([*a, *b])) % edited.len();
        if edited[at] != *value {
            edited[at] = *value;
            if let Ok(edited) = String::from_utf8(edited) {
                assert!(
                    setup.signer.verify(&edited).is_err(),
                    "an edited cookie verified"
                );
            }
        }
    }
});
