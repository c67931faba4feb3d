//! The AEAD primitives a stream seals with, keyed once and reused for every record.
//!
//! This is the layer the known-answer vectors (CFRG AEGIS-256, Wycheproof) are run through.
//!
//! **Hazardous:** here the caller chooses every nonce, and one nonce used twice under a key breaks
//! both ciphers (AES-256-GCM gives away its authentication key). Use [`crate::RecordSealer`], which
//! draws nonces, writes the record format and binds each record to its stream.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use zeroize::Zeroizing;

use crate::cipher::StreamCipher;
use crate::key::KEY_LEN;

/// Length of every tag, in bytes.
pub const TAG_LEN: usize = 16;

type Aegis256 = aegis::aegis256::Aegis256<TAG_LEN>;

/// The tag did not verify (wrong key, wrong associated data, or altered ciphertext or tag), or the
/// nonce had the wrong length for the cipher.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("authentication failed")]
pub struct AuthenticationFailed;

/// One keyed AEAD instance.
///
/// For AES-256-GCM the AES key schedule and the GHASH key are computed here, once. AEGIS-256 has no
/// separate key schedule (its state is initialised from key and nonce together), so it keeps the
/// key, in memory wiped on drop. Both live on the heap, so moving a cipher (or a sealer, say into a
/// map that grows) copies a pointer, never key material. Caveats: the AES state is built on the
/// stack before it is boxed, and each seal or open builds an `aegis` cipher value, which copies the
/// key; neither copy is wiped (`docs/security.md`).
pub struct RecordCipher {
    inner: Inner,
}

enum Inner {
    Aegis256(Box<Zeroizing<[u8; KEY_LEN]>>),
    Aes256Gcm(Box<Aes256Gcm>),
}

impl RecordCipher {
    /// Keys `cipher` with 32 raw bytes.
    pub fn new(cipher: StreamCipher, key: &[u8; KEY_LEN]) -> Self {
        let inner = match cipher {
            StreamCipher::Aegis256 => {
                let mut held = Box::new(Zeroizing::new([0; KEY_LEN]));
                held.copy_from_slice(key);
                Inner::Aegis256(held)
            }
            StreamCipher::Aes256Gcm => Inner::Aes256Gcm(Box::new(Aes256Gcm::new(key.into()))),
        };
        Self { inner }
    }

    /// Which cipher this is.
    pub fn cipher(&self) -> StreamCipher {
        match self.inner {
            Inner::Aegis256(_) => StreamCipher::Aegis256,
            Inner::Aes256Gcm(_) => StreamCipher::Aes256Gcm,
        }
    }

    /// Encrypts `buffer` in place and returns the tag.
    ///
    /// # Panics
    ///
    /// If `nonce` is not [`StreamCipher::nonce_len`] bytes long (a programming error: callers
    /// generate the nonce), or `buffer` is longer than [`StreamCipher::max_record_len`]
    /// ([`crate::RecordSealer`] refuses such a plaintext with [`crate::StreamError::RecordTooLarge`]
    /// before it gets here).
    pub fn encrypt_in_place(&self, nonce: &[u8], ad: &[u8], buffer: &mut [u8]) -> [u8; TAG_LEN] {
        match &self.inner {
            Inner::Aegis256(key) => {
                let nonce: &[u8; 32] = nonce.try_into().expect("AEGIS-256 nonces are 32 bytes");
                Aegis256::new(key, nonce).encrypt_in_place(buffer, ad)
            }
            Inner::Aes256Gcm(aes) => {
                let nonce = Nonce::try_from(nonce).expect("AES-256-GCM nonces are 12 bytes");
                aes.encrypt_inout_detached(&nonce, ad, buffer.into())
                    .expect("callers keep messages within StreamCipher::max_record_len")
                    .into()
            }
        }
    }

    /// Verifies the tag and decrypts `buffer` in place.
    ///
    /// On failure no plaintext is left behind: AES-256-GCM checks the tag before decrypting, so the
    /// buffer still holds the ciphertext; AEGIS-256 decrypts while authenticating and erases the
    /// buffer when the tag does not match.
    pub fn decrypt_in_place(
        &self,
        nonce: &[u8],
        ad: &[u8],
        buffer: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), AuthenticationFailed> {
        match &self.inner {
            Inner::Aegis256(key) => {
                let nonce: &[u8; 32] = nonce.try_into().map_err(|_| AuthenticationFailed)?;
                Aegis256::new(key, nonce)
                    .decrypt_in_place(buffer, tag, ad)
                    .map_err(|_| AuthenticationFailed)
            }
            Inner::Aes256Gcm(aes) => {
                let nonce = Nonce::try_from(nonce).map_err(|_| AuthenticationFailed)?;
                aes.decrypt_inout_detached(&nonce, ad, buffer.into(), &Tag::from(*tag))
                    .map_err(|_| AuthenticationFailed)
            }
        }
    }
}

impl std::fmt::Debug for RecordCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecordCipher({}, [REDACTED])", self.cipher())
    }
}
