//! The text form of a keyring's rotated-out keys, as an operator writes it in one environment
//! variable: `id=base64` entries separated by commas or whitespace, where `id=base64@time` retires
//! that key at an RFC 3339 time.
//!
//! The entries hold server keys, so a refusal names the entry by its position and says what is
//! wrong with it, never quoting any of its text: an entry written without its `id=` is the key
//! itself.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::TokenError;
use crate::token::{ServerKey, TokenKeyring};

impl TokenKeyring {
    /// Adds every key of a previous-keys list (the keys being rotated out, each added as by
    /// [`TokenKeyring::add_verification_key`]): `id=base64` entries (the key
    /// as [`ServerKey::from_base64`] reads it) separated by commas or whitespace, each optionally
    /// followed by `@` and an RFC 3339 time at which it retires
    /// ([`TokenKeyring::add_verification_key_until`]). An empty list adds nothing.
    ///
    /// All or nothing: the whole list is checked before any key is added, so on
    /// [`TokenError::KeyListEntry`] the keyring is unchanged. The error names the entry by its
    /// position (from 1), never by its text.
    ///
    /// ```
    /// # use sealkit_token::*;
    /// let mut keyring = TokenKeyring::new("k3", &ServerKey::generate())?;
    /// let old = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    /// keyring.add_previous_keys(&format!("k1={old}@2027-01-31T00:00:00Z, k2={old}"))?;
    /// assert_eq!(keyring.key_ids().collect::<Vec<_>>(), ["k3", "k1", "k2"]);
    ///
    /// // A key written without its id: refused, named by position, none of its text repeated.
    /// let err = keyring.add_previous_keys(&format!("k4={old} {old}")).unwrap_err();
    /// assert_eq!(err.to_string(), "token key list entry 2: server key must decode to exactly 32 bytes");
    /// // All or nothing: k4 was not added either.
    /// assert_eq!(keyring.key_ids().count(), 3);
    /// # Ok::<(), TokenError>(())
    /// ```
    pub fn add_previous_keys(&mut self, list: &str) -> Result<(), TokenError> {
        // First every entry is checked, keeping only borrowed text and times: a decoded key is
        // dropped (and wiped) where it was made, never left behind in a growing `Vec`.
        let mut checked: Vec<(&str, &str, Option<i64>)> = Vec::new();
        for (index, entry) in entries(list).enumerate() {
            let at_entry = |problem: &'static str| TokenError::KeyListEntry {
                entry: index + 1,
                problem,
            };
            let (id, key_and_time) = entry
                .split_once('=')
                .ok_or(at_entry("entries are id=base64 or id=base64@time"))?;
            // Base64 has no `@`, so the first one starts the retirement time.
            let (base64, retire_at) = match key_and_time.split_once('@') {
                None => (key_and_time, None),
                Some((base64, time)) => {
                    let time = OffsetDateTime::parse(time, &Rfc3339).map_err(|_| {
                        at_entry("the time after @ must be RFC 3339, such as 2027-01-31T00:00:00Z")
                    })?;
                    (base64, Some(time.unix_timestamp()))
                }
            };
            ServerKey::from_base64(base64).map_err(|e| at_entry(key_problem(&e)))?;
            if checked.iter().any(|(listed, ..)| *listed == id) {
                return Err(at_entry("duplicate token key id"));
            }
            self.check_new_key_id(id)
                .map_err(|e| at_entry(key_problem(&e)))?;
            checked.push((id, base64, retire_at));
        }
        // Then added, decoding each key again: nothing can fail here.
        for (id, base64, retire_at) in checked {
            if let Ok(key) = ServerKey::from_base64(base64) {
                self.push_key(id, &key, retire_at);
            }
        }
        Ok(())
    }
}

/// The entries of a list: split at commas and whitespace, empty pieces skipped.
fn entries(list: &str) -> impl Iterator<Item = &str> {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|entry| !entry.is_empty())
}

/// What is wrong with a key or key id, from its static message (which never quotes its input).
fn key_problem(error: &TokenError) -> &'static str {
    match error {
        TokenError::Key(problem) => problem,
        _ => "unusable key",
    }
}
