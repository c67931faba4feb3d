//! Registry JSON parsing (the reference's nested/flat rules, no RSA) on arbitrary input: never
//! panics; ids and PEMs come out trimmed and non-blank without duplicates; the nested form we write
//! parses back to the same document, with nothing skipped (so rotating it again loses nothing).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealkit_envelope::{RegistryDocument, Scope};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = RegistryDocument::parse(Scope::DataAtRest, text) else {
        return;
    };
    let mut seen = std::collections::HashSet::new();
    for (id, pem) in &doc.keys {
        assert!(!id.is_empty() && id.trim() == id);
        assert!(!pem.is_empty() && pem.trim() == pem.as_str());
        assert!(seen.insert(id.clone()), "duplicate id");
    }
    if let Some(active) = &doc.active_key_id {
        assert!(!active.is_empty() && active.trim() == active);
    }
    let nested = doc.to_nested_json();
    let again = RegistryDocument::parse(Scope::DataAtRest, &nested).expect("our own output parses");
    assert_eq!(again, doc);
    assert_eq!(again.skipped_members(), 0, "our own output has a member we skip");
});
