//! Reading and writing JSON that holds secrets without leaving copies in memory freed unwiped.
//!
//! serde_json unescapes every string that contains an escape into its deserializer's scratch `Vec`,
//! which grows by reallocation and is never wiped; `serde_json::to_vec` grows its output the same
//! way. So strings are taken here as raw JSON text ([`RawValue`], a borrow of the input: scanning
//! one copies nothing) and unescaped by [`unescape_str`] into one buffer sized up front, and output
//! goes through [`ZeroizingWriter`], which wipes every buffer it outgrows.
//!
//! The checks mirror what deserializing into serde_json's own types accepts (its recursion limit,
//! its number range, its surrogate rules), so a parser moved onto them accepts and refuses exactly
//! the same documents as before.

use std::fmt;
use std::io;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use zeroize::Zeroizing;

/// serde_json's recursion limit: it refuses a container nested this deep (the outermost container
/// of a document is at depth 1), and a parser that re-reads nested raw text must refuse it too.
pub(crate) const MAX_DEPTH: usize = 128;

/// The whitespace JSON allows between tokens (narrower than `char::is_whitespace`).
pub(crate) const JSON_WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// Where unescaped text goes: a string, or nowhere when only checking.
trait Sink {
    fn push_str(&mut self, s: &str);
    fn push(&mut self, c: char);
}

impl Sink for String {
    fn push_str(&mut self, s: &str) {
        String::push_str(self, s);
    }
    fn push(&mut self, c: char) {
        String::push(self, c);
    }
}

struct Discard;

impl Sink for Discard {
    fn push_str(&mut self, _: &str) {}
    fn push(&mut self, _: char) {}
}

/// Four hex digits (either case) as a UTF-16 code unit.
fn hex4(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0, |n, &d| {
        char::from(d).to_digit(16).map(|digit| (n << 4) | digit)
    })
}

/// Decodes one JSON string literal, quotes included, into `out`. `None` where serde_json refuses a
/// string it deserializes as UTF-8: a missing quote, an unescaped quote or control character, an
/// unknown escape, a short or non-hex `\u`, a low surrogate first, or a high surrogate without a
/// low one right after it.
fn decode(raw: &str, out: &mut impl Sink) -> Option<()> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let bytes = inner.as_bytes();
    let mut i = 0;
    // Start of the run of plain text not yet copied: copied in slices, not byte by byte.
    let mut run = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'\\' => {
                out.push_str(&inner[run..i]);
                let escape = *bytes.get(i + 1)?;
                i += 2;
                let c = match escape {
                    b'"' => '"',
                    b'\\' => '\\',
                    b'/' => '/',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    b'u' => {
                        let unit = hex4(bytes.get(i..i + 4)?)?;
                        i += 4;
                        match unit {
                            0xD800..=0xDBFF => {
                                if bytes.get(i..i + 2) != Some(b"\\u") {
                                    return None;
                                }
                                let low = hex4(bytes.get(i + 2..i + 6)?)?;
                                i += 6;
                                if !(0xDC00..=0xDFFF).contains(&low) {
                                    return None;
                                }
                                char::from_u32(0x1_0000 + ((unit - 0xD800) << 10) + (low - 0xDC00))?
                            }
                            0xDC00..=0xDFFF => return None,
                            _ => char::from_u32(unit)?,
                        }
                    }
                    _ => return None,
                };
                out.push(c);
                run = i;
            }
            b'"' | 0x00..=0x1F => return None,
            _ => i += 1,
        }
    }
    out.push_str(&inner[run..]);
    Some(())
}

/// Unescapes one JSON string literal (with its quotes) into a wiped-on-drop string, accepting
/// exactly the literals serde_json accepts for a `String` (see [`decode`]); `None` otherwise.
pub(crate) fn unescape_str(raw: &str) -> Option<Zeroizing<String>> {
    // Every escape is at least as long as what it stands for (`\n`: two bytes for one, `\uXXXX`: six
    // for at most three, a surrogate pair: twelve for four), so the text fits in the literal's length
    // and this buffer never reallocates, which would free a partial copy unwiped.
    let capacity = raw.len();
    let mut out = Zeroizing::new(String::with_capacity(capacity));
    decode(raw, &mut *out)?;
    debug_assert_eq!(out.capacity(), capacity);
    Some(out)
}

/// Whether [`unescape_str`] would accept `raw`, without writing the text anywhere.
pub(crate) fn is_valid_str(raw: &str) -> bool {
    decode(raw, &mut Discard).is_some()
}

/// A JSON object's members as raw JSON text (names with their quotes), in document order.
pub(crate) struct RawMembers<'a>(pub(crate) Vec<(&'a RawValue, &'a RawValue)>);

impl<'de> Deserialize<'de> for RawMembers<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawMembers<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawMembers<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<&'de RawValue, &'de RawValue>()? {
                    members.push(member);
                }
                Ok(RawMembers(members))
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// A JSON array's elements as raw JSON text.
pub(crate) struct RawElements<'a>(pub(crate) Vec<&'a RawValue>);

impl<'de> Deserialize<'de> for RawElements<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawElements<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON array")
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawElements<'de>, A::Error> {
                let mut elements = Vec::new();
                while let Some(element) = seq.next_element::<&'de RawValue>()? {
                    elements.push(element);
                }
                Ok(RawElements(elements))
            }
        }
        deserializer.deserialize_seq(V)
    }
}

/// A number, `true`, `false` or `null`, read the way serde_json reads any value: a raw value has
/// only been scanned, and a number beyond `f64` range (`1e999`) scans but does not parse.
pub(crate) struct Scalar;

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, boolean or null")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar, E> {
                Ok(Scalar)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Scalar, E> {
                Ok(Scalar)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Scalar, E> {
                Ok(Scalar)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Scalar, E> {
                Ok(Scalar)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Whether `raw`, at nesting `depth`, is a value that deserializing a `serde_json::Value` accepts.
/// Nothing is unescaped anywhere: strings are only checked.
pub(crate) fn is_valid_value(raw: &RawValue, depth: usize) -> bool {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => is_valid_str(text),
        Some(b'{') => {
            depth < MAX_DEPTH
                && serde_json::from_str::<RawMembers<'_>>(text).is_ok_and(|RawMembers(members)| {
                    members.iter().all(|(name, value)| {
                        is_valid_str(name.get()) && is_valid_value(value, depth + 1)
                    })
                })
        }
        Some(b'[') => {
            depth < MAX_DEPTH
                && serde_json::from_str::<RawElements<'_>>(text).is_ok_and(
                    |RawElements(elements)| {
                        elements
                            .iter()
                            .all(|value| is_valid_value(value, depth + 1))
                    },
                )
        }
        _ => serde_json::from_str::<Scalar>(text).is_ok(),
    }
}

/// An `io::Write` into a `Zeroizing<Vec<u8>>`. When it needs more room it moves into a larger
/// buffer itself and wipes the old one; `Vec`'s own growth would free the old one unwiped.
pub(crate) struct ZeroizingWriter(Zeroizing<Vec<u8>>);

impl ZeroizingWriter {
    /// An empty writer with room for `capacity` bytes before its first move.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self(Zeroizing::new(Vec::with_capacity(capacity)))
    }

    /// The bytes written.
    pub(crate) fn into_inner(self) -> Zeroizing<Vec<u8>> {
        self.0
    }

    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let needed = self
            .0
            .len()
            .checked_add(bytes.len())
            .ok_or(io::ErrorKind::OutOfMemory)?;
        if needed > self.0.capacity() {
            let mut larger = Zeroizing::new(Vec::with_capacity(
                needed.max(self.0.capacity().saturating_mul(2)).max(64),
            ));
            larger.extend_from_slice(&self.0);
            // The old buffer drops here, and `Zeroizing` wipes its whole capacity first.
            self.0 = larger;
        }
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

impl io::Write for ZeroizingWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.append(bytes)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Generators of JSON text that is often valid and often a near miss, for checking parsers built on
/// this module against serde_json.
#[cfg(test)]
pub(crate) mod strategies {
    use proptest::prelude::*;

    /// String literals (quotes included), valid or not: registry names, escapes, lone and paired
    /// surrogates, and whatever serde_json writes for arbitrary text.
    pub(crate) fn string_literal() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(r#""keys""#.to_owned()),
            Just(r#""activeKeyId""#.to_owned()),
            Just(r#""k\u0031""#.to_owned()),
            Just(r#""-----BEGIN PRIVATE KEY-----\nMIIE\n""#.to_owned()),
            Just(r#""\ud800""#.to_owned()),
            Just(r#""\udc00x""#.to_owned()),
            Just(r#""\ud83d\ude00\t""#.to_owned()),
            Just(r#""\x""#.to_owned()),
            Just("\"raw\ncontrol\"".to_owned()),
            "\"[a-z0-9 ]{0,4}\"",
            any::<String>().prop_map(|text| serde_json::to_string(&text).unwrap()),
        ]
    }

    /// Any JSON value as text: scalars (numbers beyond `f64` range included), strings from
    /// [`string_literal`], nested arrays and objects (duplicate names included).
    pub(crate) fn value_text() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("-12.5e-3".to_owned()),
            Just("1e999".to_owned()),
            Just("18446744073709551616".to_owned()),
            any::<i64>().prop_map(|n| n.to_string()),
            string_literal(),
        ];
        leaf.prop_recursive(6, 64, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5)
                    .prop_map(|items| format!("[{}]", items.join(","))),
                proptest::collection::vec((string_literal(), inner), 0..5).prop_map(|members| {
                    let members: Vec<String> =
                        members.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                    format!("{{{}}}", members.join(" , "))
                }),
            ]
        })
    }

    /// Token soup: mostly invalid JSON, now and then valid in odd ways.
    pub(crate) fn token_soup() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("{".to_owned()),
                Just("}".to_owned()),
                Just("[".to_owned()),
                Just("]".to_owned()),
                Just(",".to_owned()),
                Just(":".to_owned()),
                Just(" ".to_owned()),
                Just("\u{feff}".to_owned()),
                Just("1".to_owned()),
                Just("1e999".to_owned()),
                Just("nul".to_owned()),
                string_literal(),
            ],
            0..16,
        )
        .prop_map(|tokens| tokens.concat())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use proptest::prelude::*;

    use super::*;

    fn quoted(body: &str) -> String {
        format!("\"{body}\"")
    }

    fn unescaped(body: &str) -> Option<String> {
        unescape_str(&quoted(body)).map(|s| s.to_string())
    }

    #[test]
    fn every_simple_escape() {
        assert_eq!(
            unescaped(r#"\"\\\/\b\f\n\r\t"#).as_deref(),
            Some("\"\\/\u{8}\u{c}\n\r\t")
        );
        assert_eq!(
            unescaped(r"-----BEGIN PRIVATE KEY-----\nMIIE\nabc\n-----END PRIVATE KEY-----\n")
                .as_deref(),
            Some("-----BEGIN PRIVATE KEY-----\nMIIE\nabc\n-----END PRIVATE KEY-----\n")
        );
        assert_eq!(unescaped("").as_deref(), Some(""));
        assert_eq!(unescaped("plain ü €").as_deref(), Some("plain ü €"));
    }

    #[test]
    fn unicode_escapes_in_either_case() {
        assert_eq!(
            unescaped(r"\u0041\u00e9\u00E9\u20ac").as_deref(),
            Some("Aéé€")
        );
        assert_eq!(unescaped(r"\u0000\u001f").as_deref(), Some("\u{0}\u{1f}"));
        assert_eq!(unescaped(r"a\u0022b").as_deref(), Some("a\"b"));
        assert_eq!(unescaped(r"\uFFFF").as_deref(), Some("\u{ffff}"));
    }

    #[test]
    fn surrogate_pairs_join() {
        assert_eq!(unescaped(r"\ud83d\ude00").as_deref(), Some("😀"));
        assert_eq!(unescaped(r"\uD800\uDC00").as_deref(), Some("\u{10000}"));
        assert_eq!(unescaped(r"\udbff\udfff").as_deref(), Some("\u{10ffff}"));
        assert_eq!(unescaped(r"x\ud83d\ude00y").as_deref(), Some("x😀y"));
    }

    #[test]
    fn lone_and_unpaired_surrogates_rejected() {
        for body in [
            r"\ud800",
            r"\udc00",
            r"\udfff",
            r"\ud800x",
            r"\ud800\n",
            r"\ud800\u0041",
            r"\ud800\ud800",
            r"\ud800\udc0",
            r"\ud800\",
            r"\ud800\u",
            r"\ude00\ud83d",
        ] {
            assert_eq!(unescaped(body), None, "{body}");
            assert!(
                serde_json::from_str::<String>(&quoted(body)).is_err(),
                "{body}"
            );
        }
    }

    #[test]
    fn invalid_escapes_and_raw_control_characters_rejected() {
        for body in [
            r"\a", r"\x41", r"\U0041", r"\u", r"\u12", r"\u12g4", r"\u+123", r"\", r"a\",
            "\\\u{0}", "\u{0}", "\n", "\t", "\r", "\u{1f}", "a\u{8}b", "\"",
        ] {
            assert_eq!(unescaped(body), None, "{body:?}");
            assert!(
                serde_json::from_str::<String>(&quoted(body)).is_err(),
                "{body:?}"
            );
        }
        // Not a literal at all.
        for raw in ["", "\"", "abc", "\"abc", "abc\"", "'abc'"] {
            assert!(unescape_str(raw).is_none(), "{raw:?}");
        }
        // DEL and the C1 range are not JSON control characters.
        assert_eq!(unescaped("\u{7f}\u{85}").as_deref(), Some("\u{7f}\u{85}"));
    }

    #[test]
    fn one_allocation_even_when_nothing_shrinks() {
        // Plain text is as long as its literal's content; the buffer must still not grow.
        let long = "x".repeat(10_000);
        let raw = quoted(&long);
        let out = unescape_str(&raw).unwrap();
        assert_eq!(out.as_str(), long);
        assert_eq!(out.capacity(), raw.len());
    }

    #[test]
    fn the_writer_keeps_every_byte_across_moves() {
        let mut writer = ZeroizingWriter::with_capacity(3);
        let mut expected = Vec::new();
        for i in 0..500u32 {
            let piece = i.to_string().repeat(usize::try_from(i % 7).unwrap());
            writer.write_all(piece.as_bytes()).unwrap();
            expected.extend_from_slice(piece.as_bytes());
        }
        assert_eq!(writer.into_inner().as_slice(), expected.as_slice());
    }

    #[test]
    fn values_are_checked_as_serde_json_value_checks_them() {
        let arrays = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let objects = |n: usize| format!("{}{{}}{}", "{\"a\":".repeat(n - 1), "}".repeat(n - 1));
        for (text, ok) in [
            (r#"{"a":[1,"x",{"b":null}],"c":true}"#.to_owned(), true),
            ("1e999".to_owned(), false),
            ("-1e999".to_owned(), false),
            ("1e-999".to_owned(), true),
            ("123456789012345678901234567890".to_owned(), true),
            (r#"["\ud800"]"#.to_owned(), false),
            (r#"{"\udc00":1}"#.to_owned(), false),
            (r#"[[[{"a":"\ud83d\ude00"}]]]"#.to_owned(), true),
            (arrays(127), true),
            (arrays(128), false),
            (objects(127), true),
            (objects(128), false),
            (format!("{{\"a\":{}}}", arrays(126)), true),
            (format!("{{\"a\":{}}}", arrays(127)), false),
        ] {
            let raw: &RawValue = serde_json::from_str(&text).unwrap();
            assert_eq!(is_valid_value(raw, 1), ok, "{text}");
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&text).is_ok(),
                ok,
                "{text}"
            );
        }
    }

    /// String bodies built from the characters escapes are made of, so that most are near misses.
    fn escape_soup() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("\\".to_owned()),
                Just("\\u".to_owned()),
                Just("\\ud83d".to_owned()),
                Just("\\ude00".to_owned()),
                Just("\\uD800".to_owned()),
                Just("\\uDFFF".to_owned()),
                Just("\"".to_owned()),
                "[nrtbf/\"\\\\u0-9a-fA-FxX]",
                "[\\x00-\\x1f]",
                any::<char>().prop_map(String::from),
            ],
            0..12,
        )
        .prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn round_trips_what_serde_json_writes(text in any::<String>()) {
            let raw = serde_json::to_string(&text).unwrap();
            let out = unescape_str(&raw).unwrap();
            prop_assert_eq!(out.as_str(), text.as_str());
            prop_assert!(out.capacity() == raw.len());
        }

        #[test]
        fn the_writer_writes_what_to_vec_writes(text in strategies::value_text()) {
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
                let mut writer = ZeroizingWriter::with_capacity(1);
                serde_json::to_writer(&mut writer, &value).unwrap();
                let written = writer.into_inner();
                let expected = serde_json::to_vec(&value).unwrap();
                prop_assert_eq!(written.as_slice(), expected.as_slice());
            }
        }

        #[test]
        fn values_are_checked_as_serde_json_value_checks_them_everywhere(
            text in prop_oneof![strategies::value_text(), strategies::token_soup()]
        ) {
            let ours = serde_json::from_str::<&RawValue>(&text).is_ok_and(|raw| is_valid_value(raw, 1));
            prop_assert_eq!(ours, serde_json::from_str::<serde_json::Value>(&text).is_ok(), "{}", text);
        }

        #[test]
        fn agrees_with_serde_json_on_arbitrary_literals(body in escape_soup()) {
            let raw = quoted(&body);
            let ours = unescape_str(&raw).map(|s| s.to_string());
            let theirs = serde_json::from_str::<String>(&raw).ok();
            prop_assert_eq!(&ours, &theirs, "{:?}", raw);
            prop_assert_eq!(is_valid_str(&raw), theirs.is_some());
        }
    }
}
