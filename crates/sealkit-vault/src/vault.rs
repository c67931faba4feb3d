//! [`SettingsVault`]: encrypt settings into `v2:` values, decrypt every format any Olympus SDK wrote,
//! and rewrap old values under the current key.

use std::fmt;

use aes_gcm::AeadInOut;
use rand::Rng as _;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use zeroize::Zeroizing;

use crate::error::VaultError;
use crate::format::{self, Iv, Scheme, SealedValue, StoredValue, TAG_LEN, V2_IV_LEN, V2_PREFIX};
use crate::key::{DerivedKeys, EncryptionKey};

/// Encrypts and decrypts settings values under one current `ENCRYPTION_KEY` and, for rotation, any
/// number of previous ones. Keys are derived once, at construction.
pub struct SettingsVault {
    current: Box<DerivedKeys>,
    /// Boxed, although a `Vec` is on the heap already: growing it moves its elements, and the
    /// elements are key schedules (see `DerivedKeys`).
    #[allow(clippy::vec_box)]
    previous: Vec<Box<DerivedKeys>>,
}

/// What [`SettingsVault::rewrap`] did with a value.
#[derive(Clone, PartialEq, Eq)]
pub enum Rewrap {
    /// Already `v2` under the current key: leave it alone.
    Current,
    /// A legacy value, or `v2` under a previous key: here is its `v2` form under the current key.
    Rewrapped(String),
    /// `""`: nothing to encrypt.
    Empty,
    /// Not ciphertext at all (plain text stored in an encrypted row).
    Plain,
}

impl fmt::Debug for Rewrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The rewrapped value is ciphertext, but ciphertext is still not log material.
        f.write_str(match self {
            Rewrap::Current => "Current",
            Rewrap::Rewrapped(_) => "Rewrapped(..)",
            Rewrap::Empty => "Empty",
            Rewrap::Plain => "Plain",
        })
    }
}

/// Which key opened a value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Opener {
    CurrentV2,
    Other,
}

impl SettingsVault {
    /// A vault for the current `ENCRYPTION_KEY`.
    ///
    /// # Errors
    /// [`VaultError::EmptyKey`] for an empty key. Length and blocklist policy belong to the startup
    /// validation ([`crate::StartupValidator`]), so that old short keys can still be read.
    pub fn new(key: &EncryptionKey) -> Result<Self, VaultError> {
        if key.is_empty() {
            return Err(VaultError::EmptyKey);
        }
        Ok(Self {
            current: DerivedKeys::derive(key),
            previous: Vec::new(),
        })
    }

    /// A vault for the `ENCRYPTION_KEY` environment variable (read lossily for non-UTF-8, never
    /// trimmed).
    ///
    /// # Errors
    /// [`VaultError::EmptyKey`] when the variable is unset or empty.
    pub fn from_env() -> Result<Self, VaultError> {
        Self::new(&EncryptionKey::from_env().ok_or(VaultError::EmptyKey)?)
    }

    /// Adds a previous key: values written under it still decrypt, and [`SettingsVault::rewrap`]
    /// moves them to the current key. Keys are tried in the order they were added.
    ///
    /// # Errors
    /// [`VaultError::EmptyKey`] for an empty key.
    pub fn with_previous_key(mut self, key: &EncryptionKey) -> Result<Self, VaultError> {
        if key.is_empty() {
            return Err(VaultError::EmptyKey);
        }
        self.previous.push(DerivedKeys::derive(key));
        Ok(self)
    }

    /// Number of previous keys held.
    pub fn previous_key_count(&self) -> usize {
        self.previous.len()
    }

    /// Encrypts a settings value into `v2:<iv>:<tag>:<ct>` with a fresh random IV.
    /// `encrypt("")` is `""`, as in the reference.
    ///
    /// # Errors
    /// [`VaultError::TooLong`] only for a plaintext beyond AES-GCM's 64 GiB message limit.
    ///
    /// # Panics
    /// Only if the operating system cannot provide random bytes.
    pub fn encrypt(&self, plaintext: &str) -> Result<String, VaultError> {
        self.seal_v2(plaintext, || {
            // From the operating system on every call: a thread-local generator's state is shared
            // with every copy a fork or VM snapshot makes of the process, and one repeated IV under
            // the vault key reveals the XOR of two plaintexts and the authentication key (so
            // forgeries).
            let mut iv = [0u8; V2_IV_LEN];
            UnwrapErr(SysRng).fill_bytes(&mut iv);
            iv
        })
    }

    /// The whole of [`SettingsVault::encrypt`] except where the IV comes from: `iv` is asked for
    /// only when there is something to encrypt. Shared with the known-answer test seam
    /// (`v2_seal_with_iv_test_only`, built only for tests), so that seam checks the code `encrypt`
    /// runs.
    fn seal_v2(
        &self,
        plaintext: &str,
        iv: impl FnOnce() -> [u8; V2_IV_LEN],
    ) -> Result<String, VaultError> {
        if plaintext.is_empty() {
            return Ok(String::new());
        }
        let iv = iv();
        let mut buf = Zeroizing::new(plaintext.as_bytes().to_vec());
        let tag = self
            .current
            .v2
            .encrypt_inout_detached(&iv.into(), &[], buf.as_mut_slice().into())
            .map_err(|_| VaultError::TooLong)?;
        Ok(format::encode_parts(V2_PREFIX, &iv, &tag, &buf))
    }

    /// Decrypts a stored value: `v2`, legacy with a 12- or 16-byte IV, under the current key then
    /// each previous key. `""` gives `""`; a value that is not ciphertext is returned unchanged
    /// (rows stored before encryption existed).
    ///
    /// # Errors
    /// [`VaultError::Format`] for a malformed `v2:` value, [`VaultError::Decrypt`] when no key
    /// authenticates it (tampered, or a key this vault does not hold), [`VaultError::NotUtf8`].
    /// Ciphertext is never handed back as if it were plain text.
    pub fn decrypt(&self, value: &str) -> Result<Zeroizing<String>, VaultError> {
        match format::classify(value) {
            StoredValue::Empty => Ok(Zeroizing::new(String::new())),
            StoredValue::Plain => Ok(Zeroizing::new(value.to_owned())),
            StoredValue::Encrypted(parsed) => self.open(parsed?).map(|(text, _)| text),
        }
    }

    /// True when [`SettingsVault::decrypt`] treats `value` as ciphertext rather than passing it
    /// through. The same detector decides both, so they never disagree.
    pub fn is_encrypted_format(value: &str) -> bool {
        format::is_encrypted_format(value)
    }

    /// Brings a stored value to `v2` under the current key, leaving current values untouched.
    ///
    /// # Errors
    /// As [`SettingsVault::decrypt`].
    pub fn rewrap(&self, value: &str) -> Result<Rewrap, VaultError> {
        let sealed = match format::classify(value) {
            StoredValue::Empty => return Ok(Rewrap::Empty),
            StoredValue::Plain => return Ok(Rewrap::Plain),
            StoredValue::Encrypted(parsed) => parsed?,
        };
        let (plaintext, opener) = self.open(sealed)?;
        if opener == Opener::CurrentV2 {
            return Ok(Rewrap::Current);
        }
        self.encrypt(&plaintext).map(Rewrap::Rewrapped)
    }

    fn open(&self, mut sealed: SealedValue) -> Result<(Zeroizing<String>, Opener), VaultError> {
        // Decrypted in place in the parsed ciphertext (wiped on drop), which then becomes the
        // returned string: no copy per key and no second buffer. AES-GCM checks the tag before it
        // decrypts, so a key that fails leaves the ciphertext in place for the next one (the
        // rotation tests open values under every previous key).
        let mut buf = Zeroizing::new(std::mem::take(&mut sealed.ciphertext));
        let keys = std::iter::once(&self.current).chain(&self.previous);
        for (index, keys) in keys.enumerate() {
            if open_with(keys, &sealed, &mut buf) {
                let opener = if index == 0 && sealed.scheme == Scheme::V2 {
                    Opener::CurrentV2
                } else {
                    Opener::Other
                };
                let text = String::from_utf8(std::mem::take(&mut *buf)).map_err(|e| {
                    // Wipe the rejected bytes before dropping them.
                    drop(Zeroizing::new(e.into_bytes()));
                    VaultError::NotUtf8
                })?;
                return Ok((Zeroizing::new(text), opener));
            }
        }
        Err(VaultError::Decrypt)
    }
}

/// One authenticated decryption attempt in place; false when the tag does not verify.
fn open_with(keys: &DerivedKeys, sealed: &SealedValue, buf: &mut [u8]) -> bool {
    let tag: &[u8; TAG_LEN] = &sealed.tag;
    let tag = tag.into();
    match (sealed.scheme, &sealed.iv) {
        (Scheme::V2, Iv::Short(iv)) => keys
            .v2
            .decrypt_inout_detached(&(*iv).into(), &[], buf.into(), tag)
            .is_ok(),
        (Scheme::Legacy, Iv::Short(iv)) => keys
            .legacy12
            .decrypt_inout_detached(&(*iv).into(), &[], buf.into(), tag)
            .is_ok(),
        (Scheme::Legacy, Iv::Long(iv)) => keys
            .legacy16
            .decrypt_inout_detached(&(*iv).into(), &[], buf.into(), tag)
            .is_ok(),
        // The parser never produces a 16-byte IV for v2.
        (Scheme::V2, Iv::Long(_)) => false,
    }
}

/// **Test-only seam: not part of the public API** (only with the `test-seams` feature, which this
/// crate's own tests turn on; hidden from the docs, outside semver). Opens a legacy value `b64(iv):b64(tag):b64(ct)` under a raw 32-byte
/// AES key instead of SHA-256(`ENCRYPTION_KEY`), through the same detector ([`format::classify`]),
/// cipher construction and legacy dispatch (12-byte IV → AES-256-GCM, 16-byte IV → the 16-byte-IV
/// GCM type) as [`SettingsVault::decrypt`], and returns the plaintext bytes without the UTF-8
/// check. It exists so that raw-key AES-256-GCM known answers (Wycheproof) can exercise the vault's
/// own legacy path. `None` when `value` is not a legacy value or does not authenticate.
#[cfg(feature = "test-seams")]
#[doc(hidden)]
pub fn legacy_open_raw_key_test_only(key: &[u8; 32], value: &str) -> Option<Vec<u8>> {
    let StoredValue::Encrypted(Ok(sealed)) = format::classify(value) else {
        return None;
    };
    if sealed.scheme != Scheme::Legacy {
        return None;
    }
    // The v2 cipher must never be consulted for a legacy value: keyed with the complement, a
    // dispatch to it fails to authenticate.
    let keys = DerivedKeys::from_key_bytes(&key.map(|b| !b), key);
    let mut buf = sealed.ciphertext.clone();
    open_with(&keys, &sealed, &mut buf).then_some(buf)
}

/// **Test-only seam: not part of the public API** (only with the `test-seams` feature; hidden from
/// the docs, outside semver). The inverse of [`legacy_open_raw_key_test_only`]: seals `plaintext`
/// under a raw 32-byte AES key with the given 12- or 16-byte IV, using the vault's legacy ciphers,
/// and writes the legacy stored form `b64(iv):b64(tag):b64(ct)`. The vault itself never writes
/// legacy values; this only lets tests check the legacy cipher types against known ciphertexts.
/// `None` for any other IV length.
#[cfg(feature = "test-seams")]
#[doc(hidden)]
pub fn legacy_seal_raw_key_test_only(
    key: &[u8; 32],
    iv: &[u8],
    plaintext: &[u8],
) -> Option<String> {
    let keys = DerivedKeys::from_key_bytes(&key.map(|b| !b), key);
    let mut buf = plaintext.to_vec();
    let tag = match iv.len() {
        V2_IV_LEN => keys.legacy12.encrypt_inout_detached(
            iv.try_into().ok()?,
            &[],
            buf.as_mut_slice().into(),
        ),
        format::LEGACY_LONG_IV_LEN => keys.legacy16.encrypt_inout_detached(
            iv.try_into().ok()?,
            &[],
            buf.as_mut_slice().into(),
        ),
        _ => return None,
    }
    .ok()?;
    Some(format::encode_parts("", iv, &tag, &buf))
}

/// **Test-only seam: not part of the public API** (only with the `test-seams` feature, which this
/// crate's own tests turn on; hidden from the docs, outside semver). For known-answer tests only:
/// [`SettingsVault::encrypt`] under `key` (same key derivation, same sealing code, same `""` for
/// `""`), except that the 12-byte IV is the caller's instead of fresh random bytes, so a test can
/// compare what we write byte for byte with a vector written by the reference. Reusing an IV under
/// one key destroys AES-GCM's security, which is why nothing outside tests can pick the IV.
///
/// # Errors
/// As [`SettingsVault::new`] and [`SettingsVault::encrypt`].
#[cfg(feature = "test-seams")]
#[doc(hidden)]
pub fn v2_seal_with_iv_test_only(
    key: &EncryptionKey,
    iv: &[u8; V2_IV_LEN],
    plaintext: &str,
) -> Result<String, VaultError> {
    SettingsVault::new(key)?.seal_v2(plaintext, || *iv)
}

impl fmt::Debug for SettingsVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SettingsVault")
            .field("keys", &"[REDACTED]")
            .field("previous_keys", &self.previous.len())
            .finish()
    }
}
