//! The one detector and parser of stored settings values, shared by `decrypt` and
//! `is_encrypted_format` so the two can never disagree.
//!
//! - `v2:<iv>:<tag>:<ct>` — anything starting with `v2:` is claimed as `v2`; a malformed one is a
//!   format error (the reference throws too), never plain text.
//! - `<iv>:<tag>:<ct>` — legacy, but only when all three parts are canonical standard base64 with
//!   a 12- or 16-byte IV and a 16-byte tag. Anything else with two colons (`http://localhost:3000`)
//!   is plain text, which the reference got wrong.
//! - everything else is plain text, stored before encryption existed.

use base64::engine::general_purpose::STANDARD;
use base64::{DecodeSliceError, Engine as _};

use crate::error::FormatError;

/// The prefix of values written by SDK >= 1.0.41 and by us.
pub const V2_PREFIX: &str = "v2:";
/// IV length of `v2` values (and of SDK 1.0.27..1.0.40 legacy values).
pub const V2_IV_LEN: usize = 12;
/// IV length written by SDK < 1.0.27.
pub const LEGACY_LONG_IV_LEN: usize = 16;
/// AES-GCM tag length; shorter (truncated) tags are refused.
pub const TAG_LEN: usize = 16;

/// Which key derivation a ciphertext was made with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `v2:` prefix, HKDF-SHA256 key, 12-byte IV.
    V2,
    /// No prefix, SHA-256 key, 12- or 16-byte IV.
    Legacy,
}

/// The IV of a parsed value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Iv {
    /// 12 bytes: every `v2` value and later legacy values.
    Short([u8; V2_IV_LEN]),
    /// 16 bytes: early legacy values.
    Long([u8; LEGACY_LONG_IV_LEN]),
}

impl Iv {
    /// The IV bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Iv::Short(iv) => iv,
            Iv::Long(iv) => iv,
        }
    }
}

/// A well-formed ciphertext value, split into its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedValue {
    /// How its key was derived.
    pub scheme: Scheme,
    /// The GCM nonce.
    pub iv: Iv,
    /// The 16-byte GCM tag.
    pub tag: [u8; TAG_LEN],
    /// The ciphertext (same length as the plaintext's UTF-8 bytes).
    pub ciphertext: Vec<u8>,
}

impl SealedValue {
    /// Writes the value back in its stored form. Because decoding is canonical, parsing and
    /// encoding round-trip exactly.
    pub fn encode(&self) -> String {
        let prefix = match self.scheme {
            Scheme::V2 => V2_PREFIX,
            Scheme::Legacy => "",
        };
        encode_parts(prefix, self.iv.as_bytes(), &self.tag, &self.ciphertext)
    }
}

/// What a stored value is, as far as the vault is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoredValue {
    /// `""`: decrypts to `""`.
    Empty,
    /// Not ciphertext: passed through unchanged.
    Plain,
    /// Claimed as ciphertext: either well formed, or a `v2:` value that is malformed.
    Encrypted(Result<SealedValue, FormatError>),
}

/// Classifies a stored value. This is the only place where the format is decided.
pub fn classify(value: &str) -> StoredValue {
    if value.is_empty() {
        return StoredValue::Empty;
    }
    if let Some(rest) = value.strip_prefix(V2_PREFIX) {
        return StoredValue::Encrypted(parse_v2(rest));
    }
    match parse_legacy(value) {
        Some(sealed) => StoredValue::Encrypted(Ok(sealed)),
        None => StoredValue::Plain,
    }
}

/// True when `decrypt` treats the value as ciphertext (and so will either decrypt it or fail),
/// false when it passes the value through.
pub fn is_encrypted_format(value: &str) -> bool {
    matches!(classify(value), StoredValue::Encrypted(_))
}

fn split3(s: &str) -> Option<(&str, &str, &str)> {
    let (a, rest) = s.split_once(':')?;
    let (b, c) = rest.split_once(':')?;
    if c.contains(':') {
        return None;
    }
    Some((a, b, c))
}

fn parse_v2(rest: &str) -> Result<SealedValue, FormatError> {
    let (iv, tag, ct) = split3(rest).ok_or(FormatError::V2PartCount)?;
    // Base64 errors in any part come before length errors, as when every part was decoded into a
    // `Vec` first: a value broken in several ways keeps reporting the same error.
    let iv = decode_fixed::<V2_IV_LEN>(iv).ok_or(FormatError::Base64 { part: "IV" })?;
    let tag = decode_fixed::<TAG_LEN>(tag).ok_or(FormatError::Base64 { part: "tag" })?;
    let ciphertext = decode_part(ct, "ciphertext")?;
    let iv = iv.map_err(|got| FormatError::IvLength { got })?;
    let tag = tag.map_err(|got| FormatError::TagLength { got })?;
    Ok(SealedValue {
        scheme: Scheme::V2,
        iv: Iv::Short(iv),
        tag,
        ciphertext,
    })
}

fn parse_legacy(value: &str) -> Option<SealedValue> {
    let (iv, tag, ct) = split3(value)?;
    let iv = match decode_short(iv)?.ok()? {
        (bytes, V2_IV_LEN) => Iv::Short(bytes[..V2_IV_LEN].try_into().ok()?),
        (bytes, LEGACY_LONG_IV_LEN) => Iv::Long(bytes[..LEGACY_LONG_IV_LEN].try_into().ok()?),
        _ => return None,
    };
    let tag = decode_fixed::<TAG_LEN>(tag)?.ok()?;
    let ciphertext = STANDARD.decode(ct).ok()?;
    Some(SealedValue {
        scheme: Scheme::Legacy,
        iv,
        tag,
        ciphertext,
    })
}

/// Room on the stack for an IV or a tag, with the decoder's slack: it asks for up to two bytes
/// more than a canonical part decodes to.
const SHORT_PART_ROOM: usize = 32;

/// Decodes an IV or a tag on the stack, so reading a value allocates only for its ciphertext:
/// `None` when the part is not canonical base64, `Some(Ok((bytes, length)))` for up to
/// [`SHORT_PART_ROOM`] − 2 bytes, `Some(Err(length))` for a longer part.
fn decode_short(part: &str) -> Option<Result<([u8; SHORT_PART_ROOM], usize), usize>> {
    let mut bytes = [0u8; SHORT_PART_ROOM];
    match STANDARD.decode_slice(part, &mut bytes) {
        Ok(len) => Some(Ok((bytes, len))),
        // Too long to be an IV or a tag: decoded again only to check it and report its length.
        Err(DecodeSliceError::OutputSliceTooSmall) => {
            STANDARD.decode(part).ok().map(|v| Err(v.len()))
        }
        Err(DecodeSliceError::DecodeError(_)) => None,
    }
}

/// [`decode_short`] for a part that must be exactly `N` bytes: `Some(Err(length))` otherwise.
fn decode_fixed<const N: usize>(part: &str) -> Option<Result<[u8; N], usize>> {
    const { assert!(N + 2 <= SHORT_PART_ROOM) };
    Some(match decode_short(part)? {
        Ok((bytes, len)) => bytes[..len].try_into().map_err(|_| len),
        Err(len) => Err(len),
    })
}

fn decode_part(part: &str, what: &'static str) -> Result<Vec<u8>, FormatError> {
    STANDARD
        .decode(part)
        .map_err(|_| FormatError::Base64 { part: what })
}

/// `prefix + b64(iv) + ":" + b64(tag) + ":" + b64(ct)` in one allocation.
pub(crate) fn encode_parts(prefix: &str, iv: &[u8], tag: &[u8], ct: &[u8]) -> String {
    let b64_len = |n: usize| n.div_ceil(3) * 4;
    let mut out = String::with_capacity(
        prefix.len() + b64_len(iv.len()) + b64_len(tag.len()) + b64_len(ct.len()) + 2,
    );
    out.push_str(prefix);
    STANDARD.encode_string(iv, &mut out);
    out.push(':');
    STANDARD.encode_string(tag, &mut out);
    out.push(':');
    STANDARD.encode_string(ct, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_other_two_colon_plain_values_pass_through() {
        for v in [
            "http://localhost:3000",
            "a:b:c",
            "::",
            "redis://:pw@host:6379",
            "12:30:00",
        ] {
            assert_eq!(classify(v), StoredValue::Plain, "{v}");
        }
    }

    #[test]
    fn truncated_tags_and_non_canonical_base64_are_not_ciphertext() {
        // 4-byte tag: Node accepts it, we do not.
        assert_eq!(
            classify("1X0XULmDyRGmmCBZ:PLxpsw==:HhbYarnBeosvBuVEKPyI"),
            StoredValue::Plain
        );
        // Non-canonical trailing bits in the IV ("Z" -> "b" changes only padding bits).
        assert_eq!(
            classify("v2:qojIPkeFLRGb1kwu:5kVqZqhbRFZmgGEnGugLPh==:c2QOEI5OW3cD/rP5YpRu"),
            StoredValue::Encrypted(Err(FormatError::Base64 { part: "tag" }))
        );
    }

    #[test]
    fn v2_prefix_is_always_claimed() {
        assert_eq!(
            classify("v2:a:b"),
            StoredValue::Encrypted(Err(FormatError::V2PartCount))
        );
        assert_eq!(
            classify("v2:"),
            StoredValue::Encrypted(Err(FormatError::V2PartCount))
        );
        assert!(is_encrypted_format("v2::::"));
    }

    /// IVs and tags decode on the stack; one too long for it still reports its length, and every
    /// part is checked as base64 before any length.
    #[test]
    fn iv_and_tag_lengths_are_reported_at_any_length() {
        let b64 = |n: usize| STANDARD.encode(vec![7u8; n]);
        let (iv, tag, ct) = (b64(V2_IV_LEN), b64(TAG_LEN), b64(5));
        let v2 = |iv: &str, tag: &str, ct: &str| classify(&format!("v2:{iv}:{tag}:{ct}"));
        assert!(matches!(v2(&iv, &tag, &ct), StoredValue::Encrypted(Ok(_))));
        // Every length up to past the stack buffer's end, where the fallback takes over.
        for got in (0..=40).chain([100]) {
            if got != V2_IV_LEN {
                assert_eq!(
                    v2(&b64(got), &tag, &ct),
                    StoredValue::Encrypted(Err(FormatError::IvLength { got })),
                    "{got}"
                );
            }
            if got != TAG_LEN {
                assert_eq!(
                    v2(&iv, &b64(got), &ct),
                    StoredValue::Encrypted(Err(FormatError::TagLength { got })),
                    "{got}"
                );
            }
        }
        assert_eq!(
            v2(&b64(100), &tag, "not base64!"),
            StoredValue::Encrypted(Err(FormatError::Base64 { part: "ciphertext" }))
        );
        // Too long for the stack and not base64 either: still a base64 error.
        let mut long_and_broken = b64(100);
        long_and_broken.replace_range(0..1, "!");
        assert_eq!(
            v2(&long_and_broken, &tag, &ct),
            StoredValue::Encrypted(Err(FormatError::Base64 { part: "IV" }))
        );

        // Legacy values: a 12- or a 16-byte IV, nothing else.
        for (len, expected) in [
            (V2_IV_LEN, Some(Iv::Short([7; V2_IV_LEN]))),
            (LEGACY_LONG_IV_LEN, Some(Iv::Long([7; LEGACY_LONG_IV_LEN]))),
            (14, None),
            (100, None),
        ] {
            let parsed = match classify(&format!("{}:{tag}:{ct}", b64(len))) {
                StoredValue::Encrypted(Ok(sealed)) => Some(sealed.iv),
                _ => None,
            };
            assert_eq!(parsed, expected, "{len}");
        }
    }
}
