//! Behaviour of the vault beyond the vectors: round trips, tamper rejection, rotation, secrets kept
//! out of every message.

mod legacy;

use aes_gcm::{AeadInOut, KeyInit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use legacy::legacy_encrypt;
use proptest::prelude::*;
use sealkit_vault::{EncryptionKey, Rewrap, SettingsVault, VaultError, is_encrypted_format};

const KEY: &str = "q4A8pB0hYxV3n1Jd6mZ0cWl2tR9sE5uK7oG+fH/iLwM=";
const OLD_KEY: &str = "an-old-production-key-from-2024!!";

fn vault(key: &str) -> SettingsVault {
    SettingsVault::new(&EncryptionKey::new(key)).unwrap()
}

#[test]
fn empty_string_both_ways() {
    let v = vault(KEY);
    assert_eq!(v.encrypt("").unwrap(), "");
    assert_eq!(v.decrypt("").unwrap().as_str(), "");
    assert!(!is_encrypted_format(""));
}

#[test]
fn empty_key_is_refused() {
    assert!(matches!(
        SettingsVault::new(&EncryptionKey::new("")),
        Err(VaultError::EmptyKey)
    ));
}

#[test]
fn encrypt_layout_is_v2_iv12_tag16_ct_len() {
    let v = vault(KEY);
    let value = v.encrypt("日本語").unwrap();
    let parts: Vec<&str> = value.split(':').collect();
    assert_eq!(parts[0], "v2");
    assert_eq!(parts.len(), 4);
    assert_eq!(STANDARD.decode(parts[1]).unwrap().len(), 12);
    assert_eq!(STANDARD.decode(parts[2]).unwrap().len(), 16);
    assert_eq!(STANDARD.decode(parts[3]).unwrap().len(), "日本語".len());
    // Fresh IV per call.
    assert_ne!(v.encrypt("日本語").unwrap(), value);
}

#[test]
fn key_is_not_trimmed_a_trailing_newline_is_part_of_it() {
    let with_newline = vault("test-encryption-key-exactly-32b!\n");
    let without = vault("test-encryption-key-exactly-32b!");
    let value = with_newline.encrypt("x").unwrap();
    assert!(matches!(without.decrypt(&value), Err(VaultError::Decrypt)));
}

#[test]
fn legacy_values_with_both_iv_lengths_decrypt() {
    let v = vault(KEY);
    for iv_len in [12, 16] {
        let value = legacy_encrypt(KEY, "postgres://u:p@h:5432/db", iv_len, 5);
        assert!(is_encrypted_format(&value));
        assert_eq!(
            v.decrypt(&value).unwrap().as_str(),
            "postgres://u:p@h:5432/db"
        );
    }
}

#[test]
fn legacy_value_under_wrong_key_is_an_error_not_plain_text() {
    let value = legacy_encrypt(OLD_KEY, "secret", 16, 5);
    assert!(matches!(
        vault(KEY).decrypt(&value),
        Err(VaultError::Decrypt)
    ));
}

#[test]
fn non_utf8_plaintext_is_an_error() {
    // Encrypt raw bytes under the v2 key by hand.
    let k = {
        let mut okm = [0u8; 32];
        hkdf::Hkdf::<sha2::Sha256>::new(None, KEY.as_bytes())
            .expand(sealkit_vault::V2_HKDF_INFO, &mut okm)
            .unwrap();
        okm
    };
    let mut buf = vec![0xff, 0xfe, 0x41];
    let iv = [7u8; 12];
    let tag = aes_gcm::Aes256Gcm::new(&k.into())
        .encrypt_inout_detached(&iv.into(), &[], buf.as_mut_slice().into())
        .unwrap();
    let value = format!(
        "v2:{}:{}:{}",
        STANDARD.encode(iv),
        STANDARD.encode(tag),
        STANDARD.encode(&buf)
    );
    assert!(matches!(
        vault(KEY).decrypt(&value),
        Err(VaultError::NotUtf8)
    ));
}

#[test]
fn previous_keys_decrypt_and_rewrap_moves_everything_to_the_current_key() {
    let old = vault(OLD_KEY);
    let rotated = vault(KEY)
        .with_previous_key(&EncryptionKey::new(OLD_KEY))
        .unwrap();
    let current_only = vault(KEY);
    let v2_old = old.encrypt("from-the-old-key").unwrap();
    let legacy_old = legacy_encrypt(OLD_KEY, "legacy-old", 12, 5);
    let legacy_current = legacy_encrypt(KEY, "legacy-current", 16, 5);
    let v2_current = current_only.encrypt("already-current").unwrap();

    for (value, plain) in [
        (&v2_old, "from-the-old-key"),
        (&legacy_old, "legacy-old"),
        (&legacy_current, "legacy-current"),
    ] {
        assert_eq!(rotated.decrypt(value).unwrap().as_str(), plain);
        let Rewrap::Rewrapped(new) = rotated.rewrap(value).unwrap() else {
            panic!("{plain}")
        };
        assert!(new.starts_with("v2:"));
        assert_eq!(current_only.decrypt(&new).unwrap().as_str(), plain);
    }
    assert_eq!(rotated.rewrap(&v2_current).unwrap(), Rewrap::Current);
    assert_eq!(rotated.rewrap("").unwrap(), Rewrap::Empty);
    assert_eq!(
        rotated.rewrap("http://localhost:3000").unwrap(),
        Rewrap::Plain
    );
    assert!(matches!(
        current_only.rewrap(&v2_old),
        Err(VaultError::Decrypt)
    ));
}

#[test]
fn no_key_material_in_debug_or_error_output() {
    let secret = "Zq9-very-secret-key-material-XYZ-0123456789";
    let key = EncryptionKey::new(secret);
    let v = SettingsVault::new(&key)
        .unwrap()
        .with_previous_key(&key)
        .unwrap();
    let mut shown = vec![format!("{key:?}"), format!("{v:?}")];
    // Not merely absent: the Debug output says it was withheld.
    for debug in &shown {
        assert!(debug.contains("[REDACTED]"), "{debug}");
    }
    let value = v.encrypt("plaintext-setting-value").unwrap();
    shown.push(format!("{:?}", v.rewrap(&value).unwrap()));
    for bad in ["v2:a:b", "v2:AAAA:AAAA:AAAA", &value.replace("v2:", "v2:x")] {
        let e = v.decrypt(bad).unwrap_err();
        shown.push(format!("{e} {e:?}"));
    }
    let e = vault("another-key-entirely-0123456789abc")
        .decrypt(&value)
        .unwrap_err();
    shown.push(format!("{e} {e:?}"));
    for text in &shown {
        assert!(!text.contains("very-secret"), "{text}");
        assert!(!text.contains("plaintext-setting"), "{text}");
        assert!(!text.contains(&value[3..19]), "{text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn round_trip_any_string(plain in any::<String>()) {
        let v = vault(KEY);
        let value = v.encrypt(&plain).unwrap();
        let out = v.decrypt(&value).unwrap();
        prop_assert_eq!(out.as_str(), plain.as_str());
        prop_assert_eq!(is_encrypted_format(&value), !plain.is_empty());
    }

    #[test]
    fn plain_values_that_are_not_ciphertext_pass_through(plain in "[^:]*(:[^:]*){0,4}") {
        let v = vault(KEY);
        if !is_encrypted_format(&plain) {
            let out = v.decrypt(&plain).unwrap();
            prop_assert_eq!(out.as_str(), plain.as_str());
        } else {
            prop_assert!(v.decrypt(&plain).is_err());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Flip every single bit of the decoded IV, tag and ciphertext of a `v2` value: each flipped
    /// value must be rejected (never decrypted, never passed through).
    #[test]
    fn every_bit_flip_of_a_v2_value_is_rejected(plain in ".{1,40}") {
        let v = vault(KEY);
        let value = v.encrypt(&plain).unwrap();
        let parts: Vec<Vec<u8>> =
            value[3..].split(':').map(|p| STANDARD.decode(p).unwrap()).collect();
        for part in 0..3 {
            for bit in 0..parts[part].len() * 8 {
                let mut flipped = parts.clone();
                flipped[part][bit / 8] ^= 1 << (bit % 8);
                let text = format!(
                    "v2:{}:{}:{}",
                    STANDARD.encode(&flipped[0]),
                    STANDARD.encode(&flipped[1]),
                    STANDARD.encode(&flipped[2])
                );
                prop_assert!(matches!(v.decrypt(&text), Err(VaultError::Decrypt)), "part {} bit {}", part, bit);
            }
        }
        // And every bit of the stored text itself (prefix, separators, base64 characters).
        for i in 0..value.len() {
            for bit in 0..8 {
                let mut bytes = value.clone().into_bytes();
                bytes[i] ^= 1 << bit;
                let Ok(text) = String::from_utf8(bytes) else { continue };
                // Either rejected, or no longer recognisable as ciphertext and passed through.
                if let Ok(out) = v.decrypt(&text) {
                    prop_assert!(out.as_str() == text && !text.starts_with("v2:"),
                        "byte {} bit {} decrypted", i, bit);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// As for `v2`, for legacy values with both IV lengths (the SDKs wrote 12 and 16 bytes): every
    /// single-bit flip of the decoded IV, tag and ciphertext is a decryption error. A flipped value
    /// is still well-formed legacy ciphertext, so it must never be passed through as plain text
    /// (the fail-open some reference versions had) nor decrypt to anything.
    #[test]
    fn every_bit_flip_of_a_legacy_value_is_rejected(
        plain in ".{1,40}",
        iv_len in prop_oneof![Just(12usize), Just(16usize)],
        seed in any::<u8>(),
    ) {
        let v = vault(KEY);
        let value = legacy_encrypt(KEY, &plain, iv_len, seed);
        let decrypted = v.decrypt(&value).unwrap();
        prop_assert_eq!(decrypted.as_str(), plain.as_str());
        let parts: Vec<Vec<u8>> = value.split(':').map(|p| STANDARD.decode(p).unwrap()).collect();
        prop_assert_eq!(parts[0].len(), iv_len);
        for part in 0..3 {
            for bit in 0..parts[part].len() * 8 {
                let mut flipped = parts.clone();
                flipped[part][bit / 8] ^= 1 << (bit % 8);
                let text = format!(
                    "{}:{}:{}",
                    STANDARD.encode(&flipped[0]),
                    STANDARD.encode(&flipped[1]),
                    STANDARD.encode(&flipped[2])
                );
                prop_assert!(is_encrypted_format(&text), "part {} bit {}", part, bit);
                let result = v.decrypt(&text);
                prop_assert!(
                    matches!(result, Err(VaultError::Decrypt)),
                    "part {} bit {}: {:?}", part, bit, result.map(|p| p.len())
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The same bytes spelt another way are not the same value: a `v2` value whose IV, tag or
    /// ciphertext is re-spelt (padding dropped, the URL-safe alphabet, whitespace, leftover bits
    /// set) is a format error. It is never decrypted, never passed through as plain text.
    #[test]
    fn respelt_v2_values_are_format_errors(plain in ".{1,40}") {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let v = vault(KEY);
        let value = v.encrypt(&plain).unwrap();
        let parts: Vec<&str> = value[3..].split(':').collect();
        let mut tried = 0;
        for part in 0..3 {
            let original = parts[part];
            let unpadded = original.trim_end_matches('=');
            let mut variants = vec![
                unpadded.to_owned(),
                original.replace('+', "-").replace('/', "_"),
                format!(" {original}"),
                format!("{}\n{}", &original[..2], &original[2..]),
            ];
            // Leftover bits: the last character before the padding carries 2 (`=`) or 4 (`==`)
            // bits that a canonical encoder leaves zero.
            let padding = original.len() - unpadded.len();
            if padding > 0 {
                let last = unpadded.as_bytes()[unpadded.len() - 1];
                let index = ALPHABET.iter().position(|&c| c == last).unwrap();
                let mask = if padding == 2 { 0b1111 } else { 0b11 };
                let respelt = char::from(ALPHABET[index | mask]);
                variants.push(format!("{}{respelt}{}", &unpadded[..unpadded.len() - 1], &original[unpadded.len()..]));
            }
            for variant in variants.into_iter().filter(|v| v != original) {
                let mut respelt = parts.clone();
                respelt[part] = &variant;
                let text = format!("v2:{}", respelt.join(":"));
                tried += 1;
                let result = v.decrypt(&text);
                prop_assert!(
                    matches!(result, Err(VaultError::Format(_))),
                    "part {} as {:?}: {:?}", part, variant, result.map(|p| p.len())
                );
            }
        }
        // Whitespace twice per part, and the tag (16 bytes) is always padded: at least 8 tries.
        prop_assert!(tried >= 8, "{}", tried);
    }
}
