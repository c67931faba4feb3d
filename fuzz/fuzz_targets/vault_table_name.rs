//! The migration's table-name parser (`TableName::new`) on arbitrary text. The name is spliced
//! into SQL (identifiers cannot be bound as parameters), so this parser is the one thing between
//! an operator's `--table` value and the SQL text.
//!
//! Invariants: never panics; accepts exactly `ident` or `schema.ident`, each part 1..=63 ASCII
//! letters, digits or `_` and not starting with a digit (checked against an independent reading
//! here); an accepted name quotes to each part between double quotes, joined by `.`, and keeps its
//! text; a refused one is `VaultError::TableName`, a unit variant whose message cannot carry
//! the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealkit_vault::VaultError;
use sealkit_vault::migrate::store::TableName;

/// The parts of a valid name, read without the crate's code.
fn reference_parts(text: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = text.split('.').collect();
    let identifier = |part: &&str| {
        let bytes = part.as_bytes();
        (1..=63).contains(&bytes.len())
            && !bytes[0].is_ascii_digit()
            && bytes.iter().all(|&b| {
                b.is_ascii_uppercase() || b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'
            })
    };
    (parts.len() <= 2 && parts.iter().all(identifier)).then_some(parts)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let expected = reference_parts(text);
    match TableName::new(text) {
        Ok(name) => {
            let parts = expected.expect("accepted a name that is not one or two plain identifiers");
            let quoted: Vec<String> = parts.iter().map(|p| format!("\"{p}\"")).collect();
            assert_eq!(name.quoted(), quoted.join("."));
            assert_eq!(name.as_str(), text);
            assert_eq!(name.to_string(), text);
        }
        Err(e) => {
            assert!(expected.is_none(), "refused a valid name");
            assert!(matches!(e, VaultError::TableName), "unexpected error {e:?}");
            assert_eq!(e.code(), "table_name");
        }
    }
});
