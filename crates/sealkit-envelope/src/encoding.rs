//! Base64 as the envelopes use it: we always write base64url without padding (RFC 4648 §5), and we
//! read what the reference reader accepts — either alphabet, optional `=` padding — and nothing else.
//!
//! The reference reader turns the url alphabet into the standard one, pads the text with `=` to a
//! multiple of 4 and decodes that. So padding is accepted exactly when that re-padding leaves it
//! valid: at most two `=`, only at the end, after 2 or 3 characters of a final group, and not past
//! the group's end (`Zg==` and `Zg=` for `f`, not `Zm9v=` or `Zm8==`).
//!
//! "Nothing else" is deliberate: no whitespace, no characters outside the two alphabets, no length
//! that cannot come from whole bytes, and no non-zero leftover bits (so every byte string has
//! exactly one accepted unpadded spelling per alphabet, and a flipped leftover bit is an error rather
//! than a silent no-op). Every field also has a length bound checked before decoding, so a hostile
//! record cannot make us allocate much.

const URL_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Why a base64 field was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A character outside both base64 alphabets (or `=` before the end).
    #[error("a character outside the base64 alphabets, or padding before the end")]
    InvalidCharacter,
    /// A length that cannot come from whole bytes, or the wrong amount of padding.
    #[error("a length that cannot come from whole bytes, or the wrong padding")]
    InvalidLength,
    /// The last character carries non-zero bits that belong to no byte.
    #[error("the last character carries bits that belong to no byte")]
    NonCanonical,
    /// Longer than the field may be.
    #[error("longer than the field may be")]
    TooLong,
}

/// Encodes `bytes` as base64url without padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(URL_ALPHABET[index as usize]));
        }
    }
    out
}

/// Marks a byte outside both alphabets in [`SEXTETS`]; no sextet has this bit.
const INVALID: u8 = 0x80;

/// Every byte's 6-bit value in either alphabet (`-` and `+` are 62, `_` and `/` are 63), or
/// [`INVALID`]: one table lookup per character on the hot path of every open.
const SEXTETS: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < URL_ALPHABET.len() {
        table[URL_ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table[b'+' as usize] = 62;
    table[b'/' as usize] = 63;
    table
};

/// The longest text that can encode `max_bytes` bytes (padded form).
pub const fn max_encoded_len(max_bytes: usize) -> usize {
    // Saturating: a bound too large to encode is no bound at all, not an overflow.
    max_bytes.div_ceil(3).saturating_mul(4)
}

/// Decodes base64url or standard base64, padded or not, refusing more than `max_bytes` of output.
pub fn decode(text: &str, max_bytes: usize) -> Result<Vec<u8>, DecodeError> {
    let input = text.as_bytes();
    if input.len() > max_encoded_len(max_bytes) {
        return Err(DecodeError::TooLong);
    }
    let unpadded = input
        .strip_suffix(b"==")
        .or_else(|| input.strip_suffix(b"="))
        .unwrap_or(input);
    let padding = input.len() - unpadded.len();
    let (groups, tail) = unpadded.as_chunks::<4>();
    let mut out = Vec::with_capacity(groups.len() * 3 + 2);
    // Characters outside the alphabets are collected in one flag instead of branched on per
    // character, so a whole group decodes in a few instructions; if the flag is set at the end,
    // what was decoded is thrown away.
    let mut invalid = 0;
    for group in groups {
        let [a, b, c, d] = group.map(|ch| SEXTETS[usize::from(ch)]);
        invalid |= a | b | c | d;
        let n = (u32::from(a) << 18) | (u32::from(b) << 12) | (u32::from(c) << 6) | u32::from(d);
        out.extend_from_slice(&n.to_be_bytes()[1..]);
    }
    let mut last = 0u32;
    for &ch in tail {
        let v = SEXTETS[usize::from(ch)];
        invalid |= v;
        last = (last << 6) | u32::from(v);
    }
    if invalid & INVALID != 0 {
        return Err(DecodeError::InvalidCharacter);
    }
    // Padding may fall short of the group's end (the reference pads the rest) but not pass it,
    // and a complete group takes none.
    let (bytes, spare_bits) = match (tail.len(), padding) {
        (0, 0) => (0, 0),
        (2, 0..=2) => (1, 4),
        (3, 0..=1) => (2, 2),
        _ => return Err(DecodeError::InvalidLength),
    };
    if last & ((1 << spare_bits) - 1) != 0 {
        return Err(DecodeError::NonCanonical);
    }
    out.extend_from_slice(&(last >> spare_bits).to_be_bytes()[4 - bytes..]);
    if out.len() > max_bytes {
        return Err(DecodeError::TooLong);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_unpadded_url_alphabet() {
        assert_eq!(encode(b""), "");
        assert_eq!(encode(b"f"), "Zg");
        assert_eq!(encode(b"fo"), "Zm8");
        assert_eq!(encode(b"foo"), "Zm9v");
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn accepts_both_alphabets_and_padding() {
        for text in ["-_8", "+/8", "-_8=", "+/8="] {
            assert_eq!(decode(text, 16).unwrap(), vec![0xfb, 0xff], "{text}");
        }
        assert_eq!(decode("Zg==", 4).unwrap(), b"f");
        assert_eq!(decode("Zg", 4).unwrap(), b"f");
    }

    /// What the reference reader decodes: url alphabet to standard, `=` up to a multiple of 4,
    /// then a strict standard decoder (`None` where it fails).
    fn reference_model(text: &str) -> Option<Vec<u8>> {
        let mut standard = text.replace('-', "+").replace('_', "/");
        standard.push_str(&"=".repeat((4 - standard.len() % 4) % 4));
        let groups = standard.as_bytes().chunks(4).collect::<Vec<_>>();
        let mut out = Vec::new();
        for (i, group) in groups.iter().enumerate() {
            let data = group.iter().take_while(|&&c| c != b'=').count();
            let is_last = i + 1 == groups.len();
            if group[data..].iter().any(|&c| c != b'=') || (data < 4 && !is_last) || data < 2 {
                return None;
            }
            let mut n = 0u32;
            for &c in &group[..data] {
                n = (n << 6) | u32::from(sextet(c)?);
            }
            n <<= 6 * (4 - data as u32);
            out.extend_from_slice(&n.to_be_bytes()[1..data]);
        }
        Some(out)
    }

    /// Every text of up to `max_len` pieces from `alphabet`, the empty one included.
    fn every_text(alphabet: &[&str], max_len: usize) -> Vec<String> {
        let mut texts = vec![String::new()];
        let mut longest = vec![String::new()];
        for _ in 0..max_len {
            longest = longest
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(longest.iter().cloned());
        }
        texts
    }

    /// Partial padding is valid once the reference re-pads it, so it is accepted here too.
    #[test]
    fn accepts_padding_the_reference_completes() {
        for (text, bytes) in [
            ("Zg=", &b"f"[..]),
            ("Zm9vZg=", b"foof"),
            ("Zm9vZg==", b"foof"),
            ("Zm8=", b"fo"),
            ("-_8=", &[0xfb, 0xff]),
            ("+/+/Zg=", &[0xfb, 0xff, 0xbf, 0x66]),
        ] {
            assert_eq!(decode(text, 16).as_deref(), Ok(bytes), "{text}");
            assert_eq!(reference_model(text).as_deref(), Some(bytes), "{text}");
        }
    }

    /// Every short text over an alphabet of the interesting characters: accepted exactly when the
    /// reference model decodes it, to the same bytes, apart from the leftover bits we refuse.
    #[test]
    fn agrees_with_the_reference_model_except_for_leftover_bits() {
        // `B` leaves bits over in a final group of 2 or 3 characters; the others do not.
        for text in &every_text(&["A", "B", "Q", "g", "-", "/", "="], 6) {
            match (decode(text, 16), reference_model(text)) {
                (Ok(ours), Some(theirs)) => assert_eq!(ours, theirs, "{text}"),
                (Err(DecodeError::NonCanonical), Some(_)) | (Err(_), None) => {}
                (ours, theirs) => panic!("{text:?}: ours {ours:?}, reference {theirs:?}"),
            }
        }
    }

    #[test]
    fn rejects_everything_else() {
        assert_eq!(decode("Zm9v=", 8), Err(DecodeError::InvalidLength));
        assert_eq!(decode("Zm9v==", 8), Err(DecodeError::InvalidLength));
        assert_eq!(decode("=", 8), Err(DecodeError::InvalidLength));
        assert_eq!(decode("==", 8), Err(DecodeError::InvalidLength));
        assert_eq!(decode("Zg===", 8), Err(DecodeError::InvalidCharacter));
        assert_eq!(decode("Z=", 4), Err(DecodeError::InvalidLength));
        assert_eq!(decode("Z", 4), Err(DecodeError::InvalidLength));
        assert_eq!(decode("Zm8==", 8), Err(DecodeError::InvalidLength));
        assert_eq!(decode("Zm 9v", 8), Err(DecodeError::InvalidCharacter));
        assert_eq!(decode("Zm9v\n", 8), Err(DecodeError::InvalidCharacter));
        assert_eq!(decode("Z=g=", 8), Err(DecodeError::InvalidCharacter));
        assert_eq!(decode("Zh", 4), Err(DecodeError::NonCanonical));
        assert_eq!(decode("Zm9vZm9v", 3), Err(DecodeError::TooLong));
        assert_eq!(decode("Zm9vZg", 3), Err(DecodeError::TooLong));
    }

    /// A character's 6-bit value in either alphabet, written out by hand: what [`SEXTETS`] is
    /// checked against.
    fn sextet(c: u8) -> Option<u8> {
        match c {
            b'A'..=b'Z' => Some(c - b'A'),
            b'a'..=b'z' => Some(c - b'a' + 26),
            b'0'..=b'9' => Some(c - b'0' + 52),
            b'-' | b'+' => Some(62),
            b'_' | b'/' => Some(63),
            _ => None,
        }
    }

    #[test]
    fn the_table_holds_every_bytes_value() {
        for b in 0..=u8::MAX {
            assert_eq!(SEXTETS[usize::from(b)], sextet(b).unwrap_or(INVALID), "{b}");
        }
    }

    #[test]
    fn a_bound_too_large_to_encode_saturates() {
        assert_eq!(max_encoded_len(usize::MAX), usize::MAX);
        assert_eq!(decode("Zm9v", usize::MAX).unwrap(), b"foo");
    }

    /// The decoder as first written, one character at a time: the group-at-a-time decoder must
    /// give the same answer, error included, for every input.
    fn one_character_at_a_time(text: &str, max_bytes: usize) -> Result<Vec<u8>, DecodeError> {
        let input = text.as_bytes();
        if input.len() > max_encoded_len(max_bytes) {
            return Err(DecodeError::TooLong);
        }
        let unpadded = input
            .strip_suffix(b"==")
            .or_else(|| input.strip_suffix(b"="))
            .unwrap_or(input);
        let padding = input.len() - unpadded.len();
        if unpadded.iter().any(|&c| sextet(c).is_none()) {
            return Err(DecodeError::InvalidCharacter);
        }
        let leftover = unpadded.len() % 4;
        if leftover == 1 || (padding > 0 && (leftover == 0 || leftover + padding > 4)) {
            return Err(DecodeError::InvalidLength);
        }
        let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0u32);
        for &c in unpadded {
            acc = (acc << 6) | u32::from(sextet(c).unwrap());
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        if acc != 0 {
            return Err(DecodeError::NonCanonical);
        }
        if out.len() > max_bytes {
            return Err(DecodeError::TooLong);
        }
        Ok(out)
    }

    #[test]
    fn every_short_text_decodes_as_one_character_at_a_time() {
        // Both alphabets' extra characters, padding, leftover bits, and bytes outside both.
        let alphabet = ["A", "B", "g", "-", "+", "_", "/", "=", " ", "\u{e9}"];
        for text in &every_text(&alphabet, 5) {
            for max in [0, 1, 2, 3, 4, 16] {
                assert_eq!(
                    decode(text, max),
                    one_character_at_a_time(text, max),
                    "{text:?} {max}"
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn decodes_as_one_character_at_a_time(
            text in "[A-Za-z0-9+/_=-]{0,80}|[ -~]{0,80}",
            max in 0usize..70,
        ) {
            proptest::prop_assert_eq!(decode(&text, max), one_character_at_a_time(&text, max));
        }

        #[test]
        fn round_trips(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..100)) {
            let text = encode(&bytes);
            proptest::prop_assert_eq!(decode(&text, bytes.len()).unwrap(), bytes);
        }
    }
}
