//! The client-supplied stream key: parsed from the `s2-encryption-key` header value exactly as S2
//! parses it, held in memory that is wiped on drop, and never printed.

use std::fmt;

use base64ct::{Base64, Encoding as _};
use rand::Rng as _;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Length of a stream key in bytes.
pub const KEY_LEN: usize = 32;

/// The longest header value that can hold a key: 32 bytes in padded base64 are 44 characters.
pub const MAX_KEY_CHARS: usize = 44;

/// A 256-bit stream key.
///
/// Wiped from memory when dropped; `Debug` prints `[REDACTED]`; there is deliberately no `Display`,
/// `Clone` or accessor that hands out the raw bytes, so the key cannot end up in a log by accident.
/// The one way out is [`EncryptionKey::to_base64`], explicitly, into memory wiped on drop (to give
/// a generated key to the client that will send it).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct EncryptionKey([u8; KEY_LEN]);

/// Why a key header value was refused. The stream cipher is added by [`crate::StreamError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyParseError {
    /// Empty after trimming.
    #[error("no key was given")]
    Missing,
    /// Not standard, padded base64 (URL-safe alphabet, inner whitespace, bad padding).
    #[error("the key is not standard padded base64")]
    InvalidBase64,
    /// Valid base64 that does not decode to exactly 32 bytes (too long ones included); carries the
    /// real decoded length.
    #[error("the key decodes to {0} bytes, not 32")]
    InvalidLength(usize),
}

impl EncryptionKey {
    /// Wraps 32 raw key bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// A fresh key from the operating system's CSPRNG.
    ///
    /// # Panics
    /// Only if the operating system cannot provide random bytes.
    pub fn generate() -> Self {
        let mut key = Self([0; KEY_LEN]);
        UnwrapErr(SysRng).fill_bytes(&mut key.0);
        key
    }

    /// Parses a header value as S2 does: trim surrounding whitespace; 1 to 44 characters; standard
    /// base64 alphabet with padding (the URL-safe alphabet is refused); exactly 32 decoded bytes.
    ///
    /// Decoding runs in constant time with respect to the key bytes. A valid base64 string of the
    /// wrong size reports its real decoded length, which is what an operator needs to see what they
    /// pasted (a 33-byte key is usually a trailing newline that was base64-encoded too).
    pub fn parse(value: &str) -> Result<Self, KeyParseError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(KeyParseError::Missing);
        }
        if value.len() > MAX_KEY_CHARS {
            // Too long to be a key; decode anyway (bounded by the caller's header limit) so the
            // error can say how long it really is.
            // Into a wiped buffer: `decode_vec` would drop a partly decoded value unwiped.
            let mut buf = Zeroizing::new(vec![0u8; value.len() / 4 * 3 + 3]);
            return Err(match Base64::decode(value, buf.as_mut_slice()) {
                Ok(bytes) => KeyParseError::InvalidLength(bytes.len()),
                Err(_) => KeyParseError::InvalidBase64,
            });
        }
        // 44 padded characters decode to at most 33 bytes.
        let mut buf = Zeroizing::new([0u8; KEY_LEN + 1]);
        let decoded =
            Base64::decode(value, &mut buf[..]).map_err(|_| KeyParseError::InvalidBase64)?;
        if decoded.len() != KEY_LEN {
            return Err(KeyParseError::InvalidLength(decoded.len()));
        }
        // Filled in place: a `[u8; 32]` built first and moved in would leave an unwiped copy behind.
        let mut key = Self([0; KEY_LEN]);
        key.0.copy_from_slice(decoded);
        Ok(key)
    }

    /// The key as a header value (padded standard base64), in memory that is wiped on drop.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(Base64::encode_string(&self.0))
    }

    pub(crate) fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey([REDACTED])")
    }
}
