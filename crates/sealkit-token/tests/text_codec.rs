//! The token text is base64url without padding, decoded by `base64-simd` for speed. Token
//! verification relies on that decoder being strict and canonical (no padding, no whitespace, no
//! standard-alphabet characters, no non-zero trailing bits: one spelling per token), so these
//! properties hold it to the `base64` crate's `URL_SAFE_NO_PAD`, which has exactly those rules.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as REFERENCE;
use base64_simd::URL_SAFE_NO_PAD as SIMD;
use proptest::prelude::*;

/// The alphabet plus the characters a lenient decoder might let through.
const CHARS: &[char] = &[
    'A', 'B', 'M', 'Z', 'a', 'b', 'q', 'z', '0', '1', '9', '-', '_', '=', '+', '/', ' ', '\n', '.',
    '\0', 'é',
];

fn simd_decode(text: &str) -> Option<Vec<u8>> {
    SIMD.decode_to_vec(text.as_bytes()).ok()
}

fn reference_decode(text: &str) -> Option<Vec<u8>> {
    REFERENCE.decode(text.as_bytes()).ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn encodings_match_and_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = SIMD.encode_to_string(&bytes);
        prop_assert_eq!(&text, &REFERENCE.encode(&bytes));
        prop_assert_eq!(simd_decode(&text), Some(bytes));
    }

    #[test]
    fn arbitrary_text_decodes_alike(
        text in proptest::collection::vec(proptest::sample::select(CHARS), 0..200)
            .prop_map(|chars| chars.into_iter().collect::<String>())
    ) {
        prop_assert_eq!(simd_decode(&text), reference_decode(&text));
    }

    #[test]
    fn one_changed_character_decodes_alike(
        bytes in proptest::collection::vec(any::<u8>(), 1..300),
        at in any::<prop::sample::Index>(),
        replacement in proptest::sample::select(CHARS),
    ) {
        let mut chars: Vec<char> = REFERENCE.encode(&bytes).chars().collect();
        let at = at.index(chars.len());
        chars[at] = replacement;
        let text: String = chars.into_iter().collect();
        prop_assert_eq!(simd_decode(&text), reference_decode(&text));
    }
}

#[test]
fn non_canonical_trailing_bits_are_refused() {
    // "AB" carries 12 bits for one byte: the last 4 must be zero ("AA" is the canonical "\0").
    for text in ["AB", "AAB", "AAAAAB", "AAAAAAB"] {
        assert_eq!(simd_decode(text), None, "{text}");
        assert_eq!(reference_decode(text), None, "{text}");
    }
    assert_eq!(simd_decode("AA"), Some(vec![0]));
    // Every length that is 1 mod 4 is impossible.
    for len in [1, 5, 9, 33, 65] {
        assert_eq!(simd_decode(&"A".repeat(len)), None, "{len}");
    }
}
