//! The token string and the keys that seal it.
//!
//! A token is `sktok1_<key id>_<base64url(nonce ‖ ciphertext ‖ tag)>`: the prefix names the format
//! and its version (and gives secret scanners something to match); the key id says which server
//! key sealed it so keys can rotate; the rest is the claims sealed with AEGIS-256 under a 32-byte
//! random nonce, with the prefix and key id as associated data. Nothing in the string but its
//! length is readable without the server key.

use std::fmt;
use std::mem::MaybeUninit;

use aegis::aegis256::Aegis256;
use base64_simd::URL_SAFE_NO_PAD;
use base64ct::{Base64, Encoding as _};
use rand::Rng as _;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use crate::claims::{ISSUER_KEY_FINGERPRINT_LEN, MAX_CLAIMS_LEN, TokenClaims};
use crate::error::TokenError;

/// The text every token starts with: format name and version.
pub const TOKEN_PREFIX: &str = "sktok1_";

/// Longest key id: ASCII letters and digits only, so it never contains the `_` separator.
pub const MAX_KEY_ID_LEN: usize = 16;

/// A key id is 1..=16 ASCII letters or digits, so it never contains the token's `_` separator
/// (nor the `,` between issuer keys in the claims).
pub(crate) fn is_key_id(id: &str) -> bool {
    (1..=MAX_KEY_ID_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

const NONCE_LEN: usize = 32;
const TAG_LEN: usize = 16;

/// Largest sealed payload (before base64): the room a decryption buffer needs.
const MAX_SEALED_LEN: usize = NONCE_LEN + MAX_CLAIMS_LEN + TAG_LEN;
const MAX_PAYLOAD_CHARS: usize = (MAX_SEALED_LEN * 4).div_ceil(3);

/// A decryption buffer, left uninitialized: the decoder writes the payload into it and hands back
/// only the bytes it wrote, so no call pays for clearing the longest payload's room. Word-aligned,
/// so the claims' text, which starts right after the 32-byte nonce, is word-aligned too (see
/// `claims`).
#[repr(C, align(16))]
pub(crate) struct OpenBuf([MaybeUninit<u8>; MAX_SEALED_LEN]);

impl OpenBuf {
    pub(crate) fn new() -> Self {
        Self([MaybeUninit::uninit(); MAX_SEALED_LEN])
    }
}

/// Longest token string this crate produces or accepts.
pub const MAX_TOKEN_LEN: usize = TOKEN_PREFIX.len() + MAX_KEY_ID_LEN + 1 + MAX_PAYLOAD_CHARS;

/// Associated-data label: binds a sealed token to this format and version.
const AD_LABEL: &[u8] = b"sealkit-token\x01";
/// HKDF salt and info: the sealing key is never the raw server key.
const HKDF_SALT: &[u8] = b"sealkit-token v1";
const HKDF_INFO: &[u8] = b"sealkit-token aegis-256 sealing key ";
/// HKDF info for a key's fingerprint (recorded in the claims of tokens its tokens issue).
const FINGERPRINT_INFO: &[u8] = b"sealkit-token issuer key fingerprint ";

/// A 32-byte server key, from which token-sealing keys are derived. Wiped when dropped; never
/// printed.
#[derive(Clone)]
pub struct ServerKey(Zeroizing<[u8; 32]>);

impl ServerKey {
    /// A key from raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A key from standard padded base64 (what `openssl rand -base64 32` prints); surrounding
    /// whitespace is ignored. Decoded in constant time; the error never repeats the input.
    pub fn from_base64(text: &str) -> Result<Self, TokenError> {
        const WRONG_LENGTH: TokenError =
            TokenError::Key("server key must decode to exactly 32 bytes");
        let text = text.trim();
        // 32 bytes are exactly 44 padded characters; anything longer cannot be a server key.
        if text.len() > 44 {
            return Err(WRONG_LENGTH);
        }
        let mut buf = Zeroizing::new([0u8; 33]);
        let len = match Base64::decode(text.as_bytes(), buf.as_mut_slice()) {
            Ok(decoded) => decoded.len(),
            Err(base64ct::Error::InvalidLength) => return Err(WRONG_LENGTH),
            Err(base64ct::Error::InvalidEncoding) => {
                return Err(TokenError::Key("server key is not valid base64"));
            }
        };
        if len != 32 {
            return Err(WRONG_LENGTH);
        }
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&buf[..32]);
        Ok(Self(key))
    }

    /// A fresh random key from the operating system's CSPRNG.
    ///
    /// # Panics
    /// Only if the operating system cannot provide random bytes.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        UnwrapErr(SysRng).fill_bytes(key.as_mut_slice());
        Self(key)
    }

    /// The derived key lives on the heap and is written there directly: the keyring's `Vec` of
    /// keys moves its elements when it grows, which would leave unwiped copies of a key held inline.
    fn derive_sealing_key(&self, key_id: &str) -> Box<Zeroizing<[u8; 32]>> {
        let mut okm = Box::new(Zeroizing::new([0u8; 32]));
        self.expand(HKDF_INFO, key_id, &mut okm[..]);
        okm
    }

    /// A short public name of this key under `key_id`: one-way, and independent of the sealing
    /// key (another HKDF info), so recording it in claims reveals nothing of either.
    fn fingerprint(&self, key_id: &str) -> [u8; ISSUER_KEY_FINGERPRINT_LEN] {
        let mut fingerprint = [0u8; ISSUER_KEY_FINGERPRINT_LEN];
        self.expand(FINGERPRINT_INFO, key_id, &mut fingerprint);
        fingerprint
    }

    fn expand(&self, label: &[u8], key_id: &str, out: &mut [u8]) {
        let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(HKDF_SALT), self.0.as_slice());
        let mut info = Vec::with_capacity(label.len() + key_id.len());
        info.extend_from_slice(label);
        info.extend_from_slice(key_id.as_bytes());
        // At most 32 bytes, far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
        if hkdf.expand(&info, out).is_err() {
            unreachable!("HKDF-SHA256 expands to 32 bytes");
        }
    }
}

impl fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerKey([REDACTED])")
    }
}

/// An issued token string: a bearer credential. Wiped when dropped; `Debug` prints
/// `[REDACTED]`; there is deliberately no `Display`; `==` runs in constant time.
#[derive(Clone)]
pub struct AccessToken(Zeroizing<String>);

/// Constant time in the contents, so comparing a presented token with a held one reveals no
/// matching prefix through timing. Lengths are compared first: a token's length follows from its
/// key id and claims size, which the string shows anyway.
impl PartialEq for AccessToken {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for AccessToken {}

impl AccessToken {
    /// The token string, to hand to its holder.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([REDACTED])")
    }
}

struct SealingKey {
    id: String,
    key: Box<Zeroizing<[u8; 32]>>,
    fingerprint: [u8; ISSUER_KEY_FINGERPRINT_LEN],
    associated_data: Vec<u8>,
    /// When a key being rotated out stops opening tokens (Unix seconds); `None` = never.
    retire_at: Option<i64>,
}

/// A token that opened: its claims, and the key that sealed it (id and fingerprint) and when that
/// key stops being trusted.
pub(crate) struct Opened<'b, 'k> {
    pub(crate) claims: &'b [u8],
    pub(crate) key_id: &'k str,
    pub(crate) key_fingerprint: [u8; ISSUER_KEY_FINGERPRINT_LEN],
    pub(crate) key_retire_at: Option<i64>,
}

/// The server keys that seal and open tokens: one active key that seals new tokens, and any
/// number of older keys that still open the tokens they sealed, each until a retirement time or
/// for good.
pub struct TokenKeyring {
    keys: Vec<SealingKey>,
}

impl fmt::Debug for TokenKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeyring")
            .field("active_key_id", &self.active_key_id())
            .field("key_ids", &self.key_ids().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl TokenKeyring {
    /// A keyring whose active (sealing) key is `key`, known by `key_id` (1..=16 ASCII letters and
    /// digits).
    pub fn new(key_id: &str, key: &ServerKey) -> Result<Self, TokenError> {
        Self::check_key_id(key_id)?;
        Ok(Self {
            keys: vec![Self::sealing_key(key_id, key, None)],
        })
    }

    /// Adds a key that opens tokens but seals none (a key being rotated out), for as long as it
    /// stays in the keyring. Tokens it sealed with no expiry of their own then work until the key
    /// is removed; [`TokenKeyring::add_verification_key_until`] sets the end in advance.
    pub fn add_verification_key(
        &mut self,
        key_id: &str,
        key: &ServerKey,
    ) -> Result<(), TokenError> {
        self.add_key(key_id, key, None)
    }

    /// Adds a key that opens tokens but seals none, until `retire_at`. From that instant on
    /// (after the authority's clock-skew allowance, as for an expiry) every token it sealed is
    /// refused with [`TokenError::KeyRetired`], whatever that token's own expiry; before it, a
    /// token it sealed can only issue children that expire by `retire_at` (see
    /// [`crate::VerifiedToken::valid_until`]), so rotating a key out also ends what its tokens
    /// handed on.
    ///
    /// ```
    /// # use sealkit_token::*;
    /// use sealkit_token::time::{Duration, OffsetDateTime};
    ///
    /// let (old, new) = (ServerKey::generate(), ServerKey::generate());
    /// let mut keyring = TokenKeyring::new("k2", &new)?;
    /// // Tokens sealed under k1 keep working for 30 more days.
    /// keyring.add_verification_key_until("k1", &old, OffsetDateTime::now_utc() + Duration::days(30))?;
    /// # Ok::<(), TokenError>(())
    /// ```
    pub fn add_verification_key_until(
        &mut self,
        key_id: &str,
        key: &ServerKey,
        retire_at: time::OffsetDateTime,
    ) -> Result<(), TokenError> {
        self.add_key(key_id, key, Some(retire_at.unix_timestamp()))
    }

    fn add_key(
        &mut self,
        key_id: &str,
        key: &ServerKey,
        retire_at: Option<i64>,
    ) -> Result<(), TokenError> {
        self.check_new_key_id(key_id)?;
        self.push_key(key_id, key, retire_at);
        Ok(())
    }

    /// Whether a new key may take `key_id`: well formed and not in the keyring yet.
    pub(crate) fn check_new_key_id(&self, key_id: &str) -> Result<(), TokenError> {
        if self.key_ids().any(|known| known == key_id) {
            return Err(TokenError::Key("duplicate token key id"));
        }
        Self::check_key_id(key_id)
    }

    /// Adds a key whose id [`TokenKeyring::check_new_key_id`] accepted.
    pub(crate) fn push_key(&mut self, key_id: &str, key: &ServerKey, retire_at: Option<i64>) {
        self.keys.push(Self::sealing_key(key_id, key, retire_at));
    }

    /// The id of the key that seals new tokens.
    pub fn active_key_id(&self) -> &str {
        &self.keys[0].id
    }

    /// Every key id, the active one first, then the verification keys in the order added.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.id.as_str())
    }

    /// When the key recorded as `key_id` with `fingerprint` stops being trusted: `None` if the
    /// keyring does not hold that very key (no key under the id, or another key given the same id
    /// since), `Some(None)` if it holds it for good.
    pub(crate) fn retirement_of(
        &self,
        key_id: &str,
        fingerprint: &[u8; ISSUER_KEY_FINGERPRINT_LEN],
    ) -> Option<Option<i64>> {
        self.keys
            .iter()
            .find(|k| k.id == key_id)
            .filter(|k| bool::from(k.fingerprint.ct_eq(fingerprint)))
            .map(|k| k.retire_at)
    }

    fn check_key_id(key_id: &str) -> Result<(), TokenError> {
        if !is_key_id(key_id) {
            return Err(TokenError::Key(
                "token key id must be 1 to 16 ASCII letters or digits",
            ));
        }
        Ok(())
    }

    /// A key's derived state; its id was checked by the caller.
    fn sealing_key(key_id: &str, key: &ServerKey, retire_at: Option<i64>) -> SealingKey {
        let mut associated_data = Vec::with_capacity(AD_LABEL.len() + 1 + key_id.len());
        associated_data.extend_from_slice(AD_LABEL);
        associated_data.push(key_id.len() as u8);
        associated_data.extend_from_slice(key_id.as_bytes());
        SealingKey {
            id: key_id.to_owned(),
            key: key.derive_sealing_key(key_id),
            fingerprint: key.fingerprint(key_id),
            associated_data,
            retire_at,
        }
    }

    /// Seals claims under the active key.
    ///
    /// # Panics
    /// Only if the operating system cannot provide random bytes.
    pub fn seal(&self, claims: &TokenClaims) -> Result<AccessToken, TokenError> {
        let key = &self.keys[0];
        let plaintext = Zeroizing::new(claims.encode()?);
        // From the operating system on every call (issuing is not a hot path): a thread-local
        // generator's state is shared with every copy a fork or VM snapshot makes of the process,
        // and a repeated nonce under one AEGIS-256 key would let a holder forge tokens.
        let mut nonce = [0u8; NONCE_LEN];
        UnwrapErr(SysRng).fill_bytes(&mut nonce);
        let mut sealed = Zeroizing::new(Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN));
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&plaintext);
        let tag = Aegis256::<TAG_LEN>::new(&key.key, &nonce)
            .encrypt_in_place(&mut sealed[NONCE_LEN..], &key.associated_data);
        sealed.extend_from_slice(&tag);
        let mut out = String::with_capacity(
            TOKEN_PREFIX.len() + key.id.len() + 1 + URL_SAFE_NO_PAD.encoded_length(sealed.len()),
        );
        out.push_str(TOKEN_PREFIX);
        out.push_str(&key.id);
        out.push('_');
        URL_SAFE_NO_PAD.encode_append(sealed.as_slice(), &mut out);
        Ok(AccessToken(Zeroizing::new(out)))
    }

    /// Opens a token string into `buf`, returning the claims bytes. Allocates nothing.
    pub(crate) fn open<'b, 'k>(
        &'k self,
        token: &str,
        buf: &'b mut OpenBuf,
    ) -> Result<Opened<'b, 'k>, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let rest = token
            .strip_prefix(TOKEN_PREFIX)
            .ok_or(TokenError::Malformed)?;
        // The key id is short and has no `_`, so the separator is among the first few bytes.
        let separator = rest
            .bytes()
            .take(MAX_KEY_ID_LEN + 1)
            .position(|b| b == b'_')
            .ok_or(TokenError::Malformed)?;
        let (key_id, payload) = (&rest[..separator], &rest[separator + 1..]);
        let key = self
            .keys
            .iter()
            .find(|k| k.id == key_id)
            .ok_or(TokenError::UnknownKey)?;
        // URL_SAFE_NO_PAD refuses padding and non-canonical trailing bits: one spelling per token.
        // The decoder panics on a short buffer, so the length is checked first.
        let len = URL_SAFE_NO_PAD
            .decoded_length(payload.as_bytes())
            .map_err(|_| TokenError::Malformed)?;
        let out = buf.0.get_mut(..len).ok_or(TokenError::Malformed)?;
        let sealed = URL_SAFE_NO_PAD
            .decode(payload.as_bytes(), base64_simd::Out::from_uninit_slice(out))
            .map_err(|_| TokenError::Malformed)?;
        if len < NONCE_LEN + TAG_LEN {
            return Err(TokenError::Malformed);
        }
        let (nonce, rest) = sealed.split_at_mut(NONCE_LEN);
        // Decrypted in place: once the tag checks, `claims` holds the plaintext.
        let (claims, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
        let nonce: &[u8; NONCE_LEN] = (&*nonce).try_into().map_err(|_| TokenError::Malformed)?;
        let tag: &[u8; TAG_LEN] = (&*tag).try_into().map_err(|_| TokenError::Malformed)?;
        Aegis256::<TAG_LEN>::new(&key.key, nonce)
            .decrypt_in_place(claims, tag, &key.associated_data)
            .map_err(|_| TokenError::Unauthentic)?;
        Ok(Opened {
            claims,
            key_id: &key.id,
            key_fingerprint: key.fingerprint,
            key_retire_at: key.retire_at,
        })
    }
}
