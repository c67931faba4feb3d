//! Content encryption: AES-256-GCM with a 12-byte IV and the 16-byte tag appended (`C ‖ T`), the
//! only AEAD the envelopes use. Public so the primitive itself can be checked against known-answer
//! vectors.
//!
//! **Hazardous:** the caller chooses the IV, and one IV used twice under a data key reveals the
//! XOR of the two plaintexts and the authentication key (so forgeries). Use [`crate::Sealer`], which draws a fresh data key and
//! IV for every envelope.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};
use zeroize::Zeroizing;

use crate::envelope::{DATA_KEY_LEN, IV_LEN};
use crate::error::{Error, Result};

/// Encrypts `plaintext` under `key` and `iv` with `aad`; returns `C ‖ T`.
pub fn seal(
    key: &[u8; DATA_KEY_LEN],
    iv: &[u8; IV_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    Aes256Gcm::new(key.into())
        .encrypt(
            iv.into(),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| Error::SealFailed)
}

/// Decrypts `C ‖ T`; `None` if authentication fails (the only failure there is).
pub fn open(
    key: &[u8; DATA_KEY_LEN],
    iv: &[u8; IV_LEN],
    aad: &[u8],
    ciphertext: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    Aes256Gcm::new(key.into())
        .decrypt(
            iv.into(),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()
        .map(Zeroizing::new)
}
