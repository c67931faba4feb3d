//! The previous-keys list (`TokenKeyring::add_previous_keys`): what it accepts, that a refusal names
//! the entry by position and repeats none of its text, and that a refused list changes nothing.

mod common;

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{NOW, fixture_with_key};
use proptest::prelude::*;
use sealkit_token::{FixedClock, ServerKey, TokenAuthority, TokenError, TokenKeyring};

const SCOPE: &str = r#"{"id": "t", "scope": {"basins": {"exact": "b"}, "ops": ["append"]}}"#;

fn key_text(byte: u8) -> String {
    STANDARD.encode([byte; 32])
}

fn fresh_keyring() -> TokenKeyring {
    TokenKeyring::new("active", &ServerKey::from_bytes([0; 32])).unwrap()
}

fn refused_at(list: &str) -> (usize, &'static str) {
    let mut keyring = fresh_keyring();
    match keyring.add_previous_keys(list) {
        Err(TokenError::KeyListEntry { entry, problem }) => {
            assert_eq!(
                keyring.key_ids().collect::<Vec<_>>(),
                ["active"],
                "{list:?}: a refused list added keys"
            );
            (entry, problem)
        }
        other => panic!("{list:?}: expected a refused entry, got {other:?}"),
    }
}

#[test]
fn entries_split_at_commas_and_whitespace_and_keep_their_order() {
    let (a, b, c) = (key_text(1), key_text(2), key_text(3));
    let mut keyring = fresh_keyring();
    keyring
        .add_previous_keys(&format!(
            " k1={a},k2={b}@2030-01-01T00:00:00Z\n\tk3={c},,  "
        ))
        .unwrap();
    assert_eq!(
        keyring.key_ids().collect::<Vec<_>>(),
        ["active", "k1", "k2", "k3"]
    );
    assert_eq!(keyring.active_key_id(), "active");
    // Nothing at all, or only separators: nothing added.
    for empty in ["", " ", ",\n,"] {
        let mut fresh = fresh_keyring();
        fresh.add_previous_keys(empty).unwrap();
        assert_eq!(fresh.key_ids().count(), 1);
    }
}

/// The keys added open the tokens they sealed, and a retirement time given in the list takes
/// effect as with `add_verification_key_until`.
#[test]
fn listed_keys_open_their_tokens_until_their_retirement() {
    let token1 = fixture_with_key(&ServerKey::from_bytes([1; 32])).root(SCOPE); // sealed as k1
    let mut rotated = TokenKeyring::new("k9", &ServerKey::from_bytes([9; 32])).unwrap();
    // NOW is 2025-06-03T17:00:00Z: k1 retires an hour later.
    rotated
        .add_previous_keys(&format!(
            "k1={}@2025-06-03T18:00:00Z k2={}",
            key_text(1),
            key_text(2)
        ))
        .unwrap();
    let clock = Arc::new(FixedClock::new(NOW));
    let authority = TokenAuthority::new(rotated)
        .with_clock(clock.clone())
        .with_clock_skew(0);
    authority.verify(&token1).unwrap();
    clock.set(NOW + 3_600);
    assert_eq!(
        authority.verify(&token1).unwrap_err(),
        TokenError::KeyRetired
    );
}

#[test]
fn each_kind_of_bad_entry_is_named_by_position() {
    let (good, other) = (key_text(1), key_text(2));
    let cases = [
        // Written without its id: the split falls at the key's own padding.
        (
            format!("k1={good} {other}"),
            2,
            "server key must decode to exactly 32 bytes",
        ),
        (
            format!("k1:{good}"),
            1,
            "server key must decode to exactly 32 bytes",
        ),
        (
            "k1".to_owned(),
            1,
            "entries are id=base64 or id=base64@time",
        ),
        (
            format!("k1={}", &good[..40]),
            1,
            "server key must decode to exactly 32 bytes",
        ),
        (
            format!("k1={}!", &good[..43]),
            1,
            "server key is not valid base64",
        ),
        (
            format!("bad-id={good}"),
            1,
            "token key id must be 1 to 16 ASCII letters or digits",
        ),
        (
            format!("={good}"),
            1,
            "token key id must be 1 to 16 ASCII letters or digits",
        ),
        (
            format!("k1={good}@tomorrow"),
            1,
            "the time after @ must be RFC 3339, such as 2027-01-31T00:00:00Z",
        ),
        (
            format!("k1={good}@"),
            1,
            "the time after @ must be RFC 3339, such as 2027-01-31T00:00:00Z",
        ),
        (format!("k1={good} k1={other}"), 2, "duplicate token key id"),
        (format!("active={good}"), 1, "duplicate token key id"),
    ];
    for (list, entry, problem) in cases {
        assert_eq!(refused_at(&list), (entry, problem), "{list:?}");
    }
}

/// A refused list leaves a keyring that already had verification keys exactly as it was, and a
/// listed id may not take the id of one of them.
#[test]
fn a_refused_list_leaves_earlier_keys_as_they_were() {
    let mut keyring = fresh_keyring();
    keyring
        .add_verification_key("old", &ServerKey::from_bytes([4; 32]))
        .unwrap();
    let list = format!("k1={} old={}", key_text(1), key_text(2));
    assert_eq!(
        keyring.add_previous_keys(&list).unwrap_err(),
        TokenError::KeyListEntry {
            entry: 2,
            problem: "duplicate token key id"
        }
    );
    assert_eq!(keyring.key_ids().collect::<Vec<_>>(), ["active", "old"]);
}

#[test]
fn a_refusal_repeats_no_part_of_any_key() {
    let (good, other) = (key_text(0x5a), key_text(0xa5));
    for list in [
        good.clone(),
        format!("k1:{good}"),
        format!("k1={good}@{other}"),
        format!("k1={}", &good[..40]),
        format!("k2={other},{good}"),
        format!("{good}={other}"),
    ] {
        let mut keyring = fresh_keyring();
        let err = keyring.add_previous_keys(&list).unwrap_err();
        for shown in [err.to_string(), format!("{err:?}")] {
            for key in [&good, &other] {
                for window in key.as_bytes().windows(8) {
                    let window = std::str::from_utf8(window).unwrap();
                    assert!(
                        !shown.contains(window),
                        "{list:?} leaked {window} into {shown}"
                    );
                }
            }
        }
        assert_eq!((err.code(), err.http_status()), ("invalid_key", 500));
    }
}

proptest! {
    /// Any list of well-formed entries, with any mix of separators, adds exactly its keys in order.
    #[test]
    fn well_formed_lists_add_every_key_in_order(
        entries in prop::collection::vec((any::<u8>(), prop::option::of(0i64..253_402_300_799)), 0..8),
        separators in prop::collection::vec(prop::sample::select(vec![",", " ", "\n", ", ", "\t,"]), 8),
    ) {
        let mut list = String::new();
        for (i, (byte, retire_at)) in entries.iter().enumerate() {
            list.push_str(&format!("k{i}={}", key_text(*byte)));
            if let Some(t) = retire_at {
                let t = time::OffsetDateTime::from_unix_timestamp(*t).unwrap();
                list.push('@');
                list.push_str(&t.format(&time::format_description::well_known::Rfc3339).unwrap());
            }
            list.push_str(separators[i]);
        }
        let mut keyring = fresh_keyring();
        keyring.add_previous_keys(&list).unwrap();
        let expected: Vec<String> = std::iter::once("active".to_owned())
            .chain((0..entries.len()).map(|i| format!("k{i}")))
            .collect();
        prop_assert_eq!(keyring.key_ids().collect::<Vec<_>>(), expected);
    }

    /// Arbitrary text never panics; a refusal leaves the keyring as it was and names an entry
    /// that exists.
    #[test]
    fn arbitrary_text_is_refused_cleanly_or_accepted(list in "[A-Za-z0-9+/=@:, \\-]{0,120}") {
        let mut keyring = fresh_keyring();
        match keyring.add_previous_keys(&list) {
            Ok(()) => {}
            Err(TokenError::KeyListEntry { entry, .. }) => {
                let entries = list.split([',', ' ']).filter(|e| !e.is_empty()).count();
                prop_assert!((1..=entries).contains(&entry));
                prop_assert_eq!(keyring.key_ids().count(), 1);
            }
            Err(other) => prop_assert!(false, "unexpected error {:?}", other),
        }
    }
}
