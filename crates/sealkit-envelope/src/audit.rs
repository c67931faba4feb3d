//! The audit pattern: open the existing object (or start empty), let the caller change the
//! plaintext, and reseal the whole object under the registry's **active** key.

use zeroize::Zeroizing;

use crate::envelope::{EnvelopeMetadata, EnvelopeVersion};
use crate::error::{Error, Result};
use crate::json::{self, RawElements, ZeroizingWriter};
use crate::open::Opener;
use crate::seal::SealedObject;
use crate::telemetry::DecryptionTelemetry;

/// An existing stored object: its metadata and raw body.
#[derive(Debug, Clone, Copy)]
pub struct StoredObject<'a> {
    /// The object's envelope metadata.
    pub metadata: &'a EnvelopeMetadata,
    /// The object's body (`C ‖ T`).
    pub body: &'a [u8],
}

/// The resealed object and, when there was an existing object, how it was opened.
#[derive(Debug)]
pub struct Resealed {
    /// The new object, under the active key.
    pub object: SealedObject,
    /// Telemetry of opening the previous version (`None` when starting empty).
    pub telemetry: Option<DecryptionTelemetry>,
}

/// Opens `existing` (or starts from empty bytes), runs `edit` on the plaintext, and reseals the
/// result under the active key with `version`. Fails closed: an existing object that does not
/// open is an error, never treated as empty.
///
/// The buffer `edit` gets is wiped when resealing is done, but growing it in place (`push`,
/// `extend`) reallocates and frees the outgrown copy unwiped: build the new contents in a buffer of
/// the right size and swap it in, as [`append_json_entry`] does.
///
/// `context` opens a bound existing object and binds the new one; `1.0` binds none, so with
/// [`EnvelopeVersion::V1`] it must be empty.
///
/// # Errors
/// [`Error::ContextNotBound`] for a context with `1.0`, before anything is opened; any error of
/// opening the existing object, of `edit`, or of sealing.
pub fn reseal_with(
    opener: &Opener,
    existing: Option<StoredObject<'_>>,
    context: &[u8],
    version: EnvelopeVersion,
    edit: impl FnOnce(&mut Vec<u8>) -> Result<()>,
) -> Result<Resealed> {
    let sealer = opener.registry().active_sealer(version)?;
    // Before the existing object is opened (an RSA operation) or `edit` runs.
    sealer.check_context(context)?;
    let (mut plaintext, telemetry) = match existing {
        Some(object) => {
            let opened = opener.open(object.metadata, object.body, context)?;
            (opened.plaintext, Some(opened.telemetry))
        }
        None => (Zeroizing::new(Vec::new()), None),
    };
    edit(&mut plaintext)?;
    Ok(Resealed {
        object: sealer.seal(&plaintext, context)?,
        telemetry,
    })
}

/// The audit worker's daily file: a JSON array of entries. Appends `entry` and reseals under the
/// active key. An empty start becomes `[entry]`.
///
/// The file must be what `serde_json` reads as a `Vec<serde_json::Value>` (else
/// [`Error::PlaintextNotJson`]), but is only checked, never turned into that tree: the existing
/// entries are kept byte for byte, with the new one spliced in before the closing `]` (a leading
/// UTF-8 BOM and the whitespace around the array are dropped).
///
/// # Errors
/// As [`reseal_with`], and [`Error::PlaintextNotJson`].
pub fn append_json_entry(
    opener: &Opener,
    existing: Option<StoredObject<'_>>,
    context: &[u8],
    version: EnvelopeVersion,
    entry: &serde_json::Value,
) -> Result<Resealed> {
    reseal_with(opener, existing, context, version, |plaintext| {
        let mut appended = append_to_json_array(plaintext, entry)?;
        // Swapped, not copied: the new buffer is handed over as it is, and the old plaintext ends
        // up in `appended`, whose wrapper wipes it when it drops.
        std::mem::swap(plaintext, &mut *appended);
        Ok(())
    })
}

/// Where the new entry's JSON starts; a larger entry moves to a buffer twice the size, wiping the
/// old one.
const ENTRY_INITIAL_CAPACITY: usize = 256;

/// The JSON step of [`append_json_entry`], for a caller that keeps the decrypted file itself:
/// `plaintext` (a JSON array, or empty for none) with `entry` appended, in one wiped buffer of
/// exactly the right size. The existing entries are kept byte for byte.
///
/// # Errors
/// [`Error::PlaintextNotJson`] when `plaintext` is not what `serde_json` reads as a
/// `Vec<serde_json::Value>` (a leading UTF-8 BOM is allowed), [`Error::PayloadNotSerializable`]
/// when `entry` cannot be written.
pub fn append_to_json_array(
    plaintext: &[u8],
    entry: &serde_json::Value,
) -> Result<Zeroizing<Vec<u8>>> {
    let (array, has_entries) = if plaintext.is_empty() {
        ("[]", false)
    } else {
        let bytes = plaintext.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(plaintext);
        // Invalid UTF-8 is a syntax error outside strings and an error inside them for serde_json
        // too, so refusing it up front changes nothing.
        let text = std::str::from_utf8(bytes).map_err(|_| Error::PlaintextNotJson)?;
        let RawElements(elements) =
            serde_json::from_str(text).map_err(|_| Error::PlaintextNotJson)?;
        // The array is at depth 1, so its elements are at 2.
        if !elements
            .iter()
            .all(|element| json::is_valid_value(element, 2))
        {
            return Err(Error::PlaintextNotJson);
        }
        (
            text.trim_matches(json::JSON_WHITESPACE),
            !elements.is_empty(),
        )
    };
    let head = array
        .strip_suffix(']')
        .ok_or(Error::PlaintextNotJson)?
        .trim_end_matches(json::JSON_WHITESPACE);
    let mut entry_json = ZeroizingWriter::with_capacity(ENTRY_INITIAL_CAPACITY);
    serde_json::to_writer(&mut entry_json, entry).map_err(|_| Error::PayloadNotSerializable)?;
    let entry_json = entry_json.into_inner();
    let len = head.len() + usize::from(has_entries) + entry_json.len() + 1;
    let mut appended = Zeroizing::new(Vec::with_capacity(len));
    appended.extend_from_slice(head.as_bytes());
    if has_entries {
        appended.push(b',');
    }
    appended.extend_from_slice(&entry_json);
    appended.push(b']');
    debug_assert_eq!(appended.len(), appended.capacity());
    Ok(appended)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;
    use crate::json::strategies;

    /// Appending as it was done before: through a `Vec<Value>` and `to_vec`.
    fn append_through_values(plaintext: &[u8], entry: &Value) -> Result<Vec<u8>> {
        let mut entries: Vec<Value> = if plaintext.is_empty() {
            Vec::new()
        } else {
            crate::open::parse_json(plaintext)?
        };
        entries.push(entry.clone());
        serde_json::to_vec(&entries).map_err(|_| Error::PayloadNotSerializable)
    }

    fn assert_same_as_through_values(plaintext: &[u8], entry: &Value) {
        let ours = append_to_json_array(plaintext, entry);
        let theirs = append_through_values(plaintext, entry);
        match (&ours, &theirs) {
            (Ok(ours), Ok(theirs)) => {
                let ours: Value = serde_json::from_slice(ours).expect("the result is JSON");
                let theirs: Value = serde_json::from_slice(theirs).unwrap();
                assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(plaintext));
            }
            (Err(ours), Err(theirs)) => assert_eq!(ours.code(), theirs.code()),
            _ => panic!(
                "{:?}: {:?} but through values {:?}",
                String::from_utf8_lossy(plaintext),
                ours.map(|v| String::from_utf8_lossy(&v).into_owned()),
                theirs.map(|v| String::from_utf8_lossy(&v).into_owned()),
            ),
        }
    }

    #[test]
    fn entries_are_spliced_in_and_existing_bytes_kept() {
        let entry = json!({"n": 1, "msg": "a \"quoted\"\nline"});
        let encoded = serde_json::to_string(&entry).unwrap();
        for (existing, expected) in [
            ("", format!("[{encoded}]")),
            ("[]", format!("[{encoded}]")),
            (" [ \n ] \n", format!("[{encoded}]")),
            ("\u{feff}[]", format!("[{encoded}]")),
            (
                r#"[{"z":0, "a":1.50}]"#,
                format!(r#"[{{"z":0, "a":1.50}},{encoded}]"#),
            ),
            (
                "[\n  {\"n\": 0}\n]\n",
                format!("[\n  {{\"n\": 0}},{encoded}]"),
            ),
        ] {
            let appended = append_to_json_array(existing.as_bytes(), &entry).unwrap();
            assert_eq!(String::from_utf8_lossy(&appended), expected, "{existing:?}");
            assert_eq!(appended.len(), appended.capacity());
        }
    }

    #[test]
    fn refuses_what_reading_into_values_refused() {
        let nested = |n: usize| format!("[{}{}]", "[".repeat(n - 1), "]".repeat(n - 1));
        let mut cases: Vec<Vec<u8>> = [
            "{}",
            "null",
            "1",
            "\"[]\"",
            "[",
            "[1,]",
            "[1] x",
            " ",
            "[1e999]",
            "[{\"a\":-1e999}]",
            "[\"\\ud800\"]",
            "[{\"\\udc00\":1}]",
            "[\"raw\ncontrol\"]",
            "[[[[\"\\x\"]]]]",
            "\u{feff}\u{feff}[]",
            "[1e-999, 18446744073709551616, \"\\ud83d\\ude00\"]",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        cases.push(b"[\"\xff\"]".to_vec());
        cases.push(b"[1]\xff".to_vec());
        for n in [126, 127, 128, 129] {
            cases.push(nested(n).into_bytes());
        }
        for case in &cases {
            assert_same_as_through_values(case, &json!({"n": 1}));
        }
        assert!(append_to_json_array(b"[1e999]", &json!(1)).is_err());
        assert!(append_to_json_array(&nested(127).into_bytes(), &json!(1)).is_ok());
        assert!(append_to_json_array(&nested(128).into_bytes(), &json!(1)).is_err());
    }

    proptest! {
        #[test]
        fn appending_agrees_with_reading_into_values(
            elements in proptest::collection::vec(strategies::value_text(), 0..4),
            soup in strategies::token_soup(),
            pretty in any::<bool>(),
            use_soup in any::<bool>(),
        ) {
            let existing = if use_soup {
                soup
            } else if pretty {
                format!("[\n  {}\n]\n", elements.join(",\n  "))
            } else {
                format!("[{}]", elements.join(","))
            };
            assert_same_as_through_values(existing.as_bytes(), &json!({"n": [1, "two"]}));
        }
    }
}
