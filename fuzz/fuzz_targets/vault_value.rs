//! Fuzzes the one parser of stored settings values and the decrypt path built on it.
//!
//! Invariants: never panics; a parsed ciphertext re-encodes to exactly the input (canonical
//! base64, so there is one spelling per value); `is_encrypted_format` agrees with `decrypt`
//! (claimed values either decrypt or fail, unclaimed ones pass through unchanged); and an arbitrary
//! value never authenticates under the key.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sealkit_vault::format::StoredValue;
use sealkit_vault::{EncryptionKey, SettingsVault, classify, is_encrypted_format};

fn vault() -> &'static SettingsVault {
    static VAULT: OnceLock<SettingsVault> = OnceLock::new();
    VAULT.get_or_init(|| {
        SettingsVault::new(&EncryptionKey::new("fuzz-encryption-key-0123456789abcdef"))
            .expect("non-empty key")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let class = classify(value);
    if let StoredValue::Encrypted(Ok(sealed)) = &class {
        assert_eq!(sealed.encode(), value, "parse/encode must round-trip");
    }
    let claimed = is_encrypted_format(value);
    assert_eq!(claimed, matches!(class, StoredValue::Encrypted(_)));
    match vault().decrypt(value) {
        Ok(plain) => {
            assert!(!claimed, "a fuzzed value authenticated");
            assert_eq!(
                plain.as_str(),
                value,
                "unclaimed values pass through unchanged"
            );
        }
        Err(_) => assert!(claimed, "only claimed values may fail"),
    }
    // Whatever we encrypt decrypts back.
    let sealed = vault().encrypt(value).expect("encrypt");
    assert_eq!(
        vault().decrypt(&sealed).expect("round trip").as_str(),
        value
    );
});
