//! RSA key handling: PEM normalisation and parsing (with the 2048-bit floor), key generation, key
//! ids, and the two RSA-OAEP operations the envelopes use (SHA-256, MGF1-SHA-256).

use std::fmt;

use rand::TryRng as _;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The smallest RSA modulus we accept, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// Key sizes `generate` offers.
pub const SUPPORTED_GENERATED_BITS: [usize; 3] = [2048, 3072, 4096];

/// Length of generated key ids.
pub const KEY_ID_LEN: usize = 10;

/// Normalises a PEM value as the reference does on import: trim, strip one surrounding `'` or `"`
/// at each end, and turn the two characters `\n` into a newline.
pub fn normalize_pem(raw: &str) -> Zeroizing<String> {
    let trimmed = crate::registry::js_trim(raw);
    let unquoted = trimmed.strip_prefix(['\'', '"']).unwrap_or(trimmed);
    let unquoted = unquoted.strip_suffix(['\'', '"']).unwrap_or(unquoted);
    // Sized once (the result is never longer than the input), so no reallocation leaves part of a
    // private key behind in freed memory.
    let mut pem = Zeroizing::new(String::with_capacity(unquoted.len()));
    for (i, piece) in unquoted.split("\\n").enumerate() {
        if i > 0 {
            pem.push('\n');
        }
        pem.push_str(piece);
    }
    pem
}

fn modulus_bits(key: &impl PublicKeyParts) -> usize {
    key.n().as_ref().bit_width_vartime() as usize
}

/// Parses a PKCS#8 PEM RSA private key (after [`normalize_pem`]), refusing keys below 2048 bits.
pub fn parse_private_key_pem(pem: &str) -> Result<RsaPrivateKey> {
    let normalized = normalize_pem(pem);
    let key = RsaPrivateKey::from_pkcs8_pem(normalized.trim())
        .map_err(|_| Error::InvalidPrivateKeyPem)?;
    let bits = modulus_bits(&key);
    if bits < MIN_RSA_BITS {
        return Err(Error::KeyTooSmall { bits });
    }
    Ok(key)
}

/// Parses an SPKI PEM RSA public key (after [`normalize_pem`]), refusing keys below 2048 bits.
pub fn parse_public_key_pem(pem: &str) -> Result<RsaPublicKey> {
    let normalized = normalize_pem(pem);
    let key = RsaPublicKey::from_public_key_pem(normalized.trim())
        .map_err(|_| Error::InvalidPublicKey)?;
    let bits = modulus_bits(&key);
    if bits < MIN_RSA_BITS {
        return Err(Error::KeyTooSmall { bits });
    }
    Ok(key)
}

/// SHA-256 of the key's SPKI DER encoding (a stable public fingerprint).
pub fn spki_sha256(key: &RsaPublicKey) -> Result<[u8; 32]> {
    let der = key
        .to_public_key_der()
        .map_err(|_| Error::InvalidPublicKey)?;
    Ok(Sha256::digest(der.as_bytes()).into())
}

/// The modulus size of a public key, in bits.
pub fn public_key_bits(key: &RsaPublicKey) -> usize {
    modulus_bits(key)
}

/// A fresh key id: 10 characters from `[a-z0-9]`, drawn from the OS CSPRNG by rejection sampling
/// (bytes ≥ 252 are discarded so each character is exactly uniform).
pub fn generate_key_id() -> Result<String> {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut id = String::with_capacity(KEY_ID_LEN);
    let mut buf = [0u8; 32];
    while id.len() < KEY_ID_LEN {
        SysRng
            .try_fill_bytes(&mut buf)
            .map_err(|_| Error::KeyGeneration)?;
        for &b in &buf {
            if b < 252 && id.len() < KEY_ID_LEN {
                id.push(char::from(ALPHABET[usize::from(b % 36)]));
            }
        }
    }
    Ok(id)
}

/// A generated key pair with its id. `Debug` never shows the private key.
pub struct GeneratedKeyPair {
    /// The new key id.
    pub key_id: String,
    /// PKCS#8 PEM private key (wiped on drop).
    pub private_key_pem: Zeroizing<String>,
    /// SPKI PEM public key.
    pub public_key_pem: String,
}

impl fmt::Debug for GeneratedKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKeyPair")
            .field("key_id", &self.key_id)
            .field("private_key_pem", &"[REDACTED]")
            .field("public_key_pem", &self.public_key_pem)
            .finish()
    }
}

/// Generates an RSA key pair (e = 65537) of 2048, 3072 or 4096 bits and a fresh key id.
///
/// # Panics
/// Only if the operating system cannot provide random bytes while the primes are drawn.
pub fn generate_key_pair(bits: usize) -> Result<GeneratedKeyPair> {
    if !SUPPORTED_GENERATED_BITS.contains(&bits) {
        return Err(Error::UnsupportedKeySize { bits });
    }
    // Straight from the operating system: no generator state in this process that could outlive
    // the key or be shared with a forked copy of it.
    let key = RsaPrivateKey::new(&mut UnwrapErr(SysRng), bits).map_err(|_| Error::KeyGeneration)?;
    let private_key_pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|_| Error::KeyGeneration)?;
    let public_key_pem = key
        .as_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|_| Error::KeyGeneration)?;
    Ok(GeneratedKeyPair {
        key_id: generate_key_id()?,
        private_key_pem: Zeroizing::new(private_key_pem.to_string()),
        public_key_pem,
    })
}

/// RSA-OAEP (SHA-256, MGF1-SHA-256) with the given label; empty label for `1.0` envelopes.
fn oaep(label: &[u8]) -> Oaep<Sha256> {
    if label.is_empty() {
        Oaep::new()
    } else {
        Oaep::new_with_label(label.to_vec())
    }
}

/// Wraps a data key under `public` (RSA-OAEP SHA-256, MGF1-SHA-256, random padding). `label` is
/// empty for `1.0` envelopes.
pub fn wrap_data_key(public: &RsaPublicKey, data_key: &[u8], label: &[u8]) -> Result<Vec<u8>> {
    public
        .encrypt(&mut UnwrapErr(SysRng), oaep(label), data_key)
        .map_err(|_| Error::SealFailed)
}

/// Unwraps a data key with blinded RSA-OAEP decryption (SHA-256, MGF1-SHA-256; never the
/// unblinded path). `None` on any decoding failure, without saying which.
pub fn unwrap_data_key(
    private: &RsaPrivateKey,
    wrapped: &[u8],
    label: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    private
        .decrypt_blinded(&mut UnwrapErr(SysRng), oaep(label), wrapped)
        .ok()
        .map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_normalisation_matches_the_reference() {
        assert_eq!(normalize_pem("  'a\\nb'  ").as_str(), "a\nb");
        assert_eq!(normalize_pem("\"a\\nb\"").as_str(), "a\nb");
        assert_eq!(normalize_pem("\"\"a\"\"").as_str(), "\"a\"");
        assert_eq!(normalize_pem("a\nb").as_str(), "a\nb");
    }

    #[test]
    fn key_ids_are_ten_lowercase_alphanumerics() {
        let a = generate_key_id().unwrap();
        let b = generate_key_id().unwrap();
        assert_eq!(a.len(), KEY_ID_LEN);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        assert_ne!(a, b);
    }

    #[test]
    fn unsupported_sizes_refused() {
        assert!(matches!(
            generate_key_pair(1024),
            Err(Error::UnsupportedKeySize { bits: 1024 })
        ));
    }
}
