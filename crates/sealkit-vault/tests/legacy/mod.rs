//! Writes legacy settings values the way Olympus SDK versions before `v2` did: key = SHA-256 of the
//! `ENCRYPTION_KEY` bytes, AES-256-GCM with a 12- or 16-byte IV, `b64(iv):b64(tag):b64(ct)`. Shared by
//! the test binaries that need old ciphertext to read or migrate.

use aes_gcm::{AeadInOut, KeyInit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::Digest;

/// A legacy value of `plaintext` under `key`, with a deterministic IV of `iv_len` bytes derived from
/// `seed` (distinct seeds give distinct IVs).
pub fn legacy_encrypt(key: &str, plaintext: &str, iv_len: usize, seed: u8) -> String {
    let k: [u8; 32] = sha2::Sha256::digest(key.as_bytes()).into();
    let mut buf = plaintext.as_bytes().to_vec();
    let iv: Vec<u8> = (0..iv_len as u8)
        .map(|i| i.wrapping_mul(31).wrapping_add(seed))
        .collect();
    let tag = if iv_len == 12 {
        aes_gcm::Aes256Gcm::new(&k.into())
            .encrypt_inout_detached(
                iv.as_slice().try_into().unwrap(),
                &[],
                buf.as_mut_slice().into(),
            )
            .unwrap()
    } else {
        aes_gcm::AesGcm::<aes_gcm::aes::Aes256, aes_gcm::aead::consts::U16>::new(&k.into())
            .encrypt_inout_detached(
                iv.as_slice().try_into().unwrap(),
                &[],
                buf.as_mut_slice().into(),
            )
            .unwrap()
    };
    format!(
        "{}:{}:{}",
        STANDARD.encode(&iv),
        STANDARD.encode(tag),
        STANDARD.encode(&buf)
    )
}
