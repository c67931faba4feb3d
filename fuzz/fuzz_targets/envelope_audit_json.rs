//! The audit file's JSON step (`audit::append_to_json_array`, which reads the existing array as raw
//! text and splices the new entry in) on arbitrary bytes, against the plain way of doing it: read a
//! `Vec<serde_json::Value>` (after one leading BOM), push, write. Both accept and refuse the same
//! inputs, and what ours writes reads back as the same entries. Never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealkit_envelope::audit::append_to_json_array;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let entry = json!({"event": "fuzz", "text": "a\nb\u{2028}", "n": 1});
    let ours = append_to_json_array(data, &entry);
    let plain: Result<Vec<Value>, _> = if data.is_empty() {
        Ok(Vec::new())
    } else {
        serde_json::from_slice(data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data))
    };
    match (ours, plain) {
        (Ok(appended), Ok(mut entries)) => {
            entries.push(entry);
            let read_back: Vec<Value> =
                serde_json::from_slice(&appended).expect("what we write is a JSON array");
            assert_eq!(read_back, entries);
        }
        (Err(_), Err(_)) => {}
        (ours, plain) => panic!(
            "disagree: ours ok = {}, serde_json ok = {}",
            ours.is_ok(),
            plain.is_ok()
        ),
    }
});
