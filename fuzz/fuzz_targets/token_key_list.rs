//! The previous-keys list parser (`TokenKeyring::add_previous_keys`) on arbitrary text. Never
//! panics; either every entry becomes a key, in order, under the id written before its `=`, or the
//! list is refused with a `KeyListEntry` error that names an entry that exists, says one of the
//! known problems (static text, so it cannot repeat the input) and leaves the keyring unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealkit_token::{ServerKey, TokenError, TokenKeyring};

const PROBLEMS: [&str; 6] = [
    "entries are id=base64 or id=base64@time",
    "the time after @ must be RFC 3339, such as 2027-01-31T00:00:00Z",
    "server key must decode to exactly 32 bytes",
    "server key is not valid base64",
    "token key id must be 1 to 16 ASCII letters or digits",
    "duplicate token key id",
];

fn fresh() -> TokenKeyring {
    TokenKeyring::new("active", &ServerKey::from_bytes([0; 32])).expect("key id")
}

fuzz_target!(|data: &[u8]| {
    let Ok(list) = std::str::from_utf8(data) else {
        return;
    };
    let entries: Vec<&str> = list
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|e| !e.is_empty())
        .collect();
    let mut keyring = fresh();
    match keyring.add_previous_keys(list) {
        Ok(()) => {
            let ids: Vec<&str> = keyring.key_ids().collect();
            assert_eq!(ids.len(), 1 + entries.len(), "{list:?}");
            for (id, entry) in ids[1..].iter().zip(&entries) {
                let (written_id, key_and_time) = entry.split_once('=').expect("an accepted entry");
                assert_eq!(*id, written_id, "{list:?}");
                let key = key_and_time.split('@').next().unwrap_or_default();
                assert!(ServerKey::from_base64(key).is_ok(), "{list:?}: accepted a bad key");
            }
        }
        Err(TokenError::KeyListEntry { entry, problem }) => {
            assert!((1..=entries.len()).contains(&entry), "{list:?}: entry {entry}");
            assert!(PROBLEMS.contains(&problem), "unknown problem {problem:?}");
            assert_eq!(keyring.key_ids().collect::<Vec<_>>(), ["active"]);
            // The entries before the one named are accepted on their own, and the one named,
            // added after them, is refused for the same reason: the position is the right one.
            let mut before = fresh();
            before
                .add_previous_keys(&entries[..entry - 1].join(","))
                .expect("the entries before the refused one");
            match before.add_previous_keys(entries[entry - 1]) {
                Err(TokenError::KeyListEntry { entry: 1, problem: again }) => {
                    assert_eq!(again, problem, "{list:?}");
                }
                other => panic!("{list:?}: entry {entry} alone gave {other:?}"),
            }
        }
        Err(other) => panic!("unexpected error {other:?}"),
    }
});
