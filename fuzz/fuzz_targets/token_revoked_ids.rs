//! The revoked-ids file reader (`InMemoryRevocationSet::from_id_lines`) on arbitrary text. Never
//! panics, and fails closed: every line, as written (line ending removed) and as trimmed, is
//! revoked, and so is every piece between line breaks, `\r`s and a leading byte-order mark; the
//! set holds exactly those ids (found here with an independent split).
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use sealkit_token::{InMemoryRevocationSet, RevocationSet};

/// The file's lines as written: split at `\n`, and a `\r` just before a `\n` removed (a `\r`
/// anywhere else, the end of the text included, is part of the line).
fn lines(text: &str) -> Vec<&str> {
    let mut pieces: Vec<&str> = text.split('\n').collect();
    let last = pieces.pop().unwrap_or_default();
    let mut lines: Vec<&str> = pieces
        .into_iter()
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect();
    // Text ending in a line break has no line after it.
    if !last.is_empty() {
        lines.push(last);
    }
    lines
}

/// The pieces between `\n`s and `\r`s, after a leading byte-order mark, scanned by hand.
fn pieces(text: &str) -> Vec<&str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut pieces = Vec::new();
    let mut start = 0;
    for (at, c) in text.char_indices() {
        if c == '\n' || c == '\r' {
            pieces.push(&text[start..at]);
            start = at + 1;
        }
    }
    pieces.push(&text[start..]);
    pieces
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let set = InMemoryRevocationSet::from_id_lines(text);
    let mut expected = BTreeSet::new();
    for line in lines(text).into_iter().chain(pieces(text)) {
        for id in [line, line.trim()] {
            if !id.is_empty() {
                assert!(set.is_revoked(id), "{id:?} of {text:?} not revoked");
                expected.insert(id);
            }
        }
    }
    assert_eq!(set.len(), expected.len(), "{text:?}");
    assert_eq!(set.is_empty(), expected.is_empty());
});
