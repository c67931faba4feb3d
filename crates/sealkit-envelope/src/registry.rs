//! The key registry of one scope: which private keys may open envelopes, and which is active.
//!
//! Configuration comes from the environment (`{SCOPE}_KEYS_JSON`, `{SCOPE}_ACTIVE_KEY_ID`, or the
//! legacy `{SCOPE}_PRIVATE_KEY` + `{SCOPE}_KEY_ID`) or from registry JSON. Parsing happens in two
//! steps: [`RegistryDocument`] applies the reference's JSON rules (cheap, no RSA; fuzzed), then
//! [`KeyRegistry`] parses every PEM once, refuses keys below 2048 bits and keeps the parsed keys for
//! the life of the registry (share it behind an `Arc`).

use std::fmt;

use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::value::RawValue;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::envelope::EnvelopeVersion;
use crate::error::{Error, ReportedKeyId, Result};
use crate::json::{self, RawMembers, Scalar};
use crate::keys;
use crate::seal::{Sealer, check_key_id};

/// A key scope: independent key material per scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// `DATA_AT_REST_ENCRYPTION`: case data, audit logs, files.
    DataAtRest,
    /// `USER_KV_ENCRYPTION`: user profile records.
    UserKv,
    /// `EXPORT_ENCRYPTION`: export packages.
    Export,
}

impl Scope {
    /// All scopes.
    pub const ALL: [Scope; 3] = [Scope::DataAtRest, Scope::UserKv, Scope::Export];

    /// The environment-variable prefix, e.g. `DATA_AT_REST_ENCRYPTION`.
    pub fn env_prefix(self) -> &'static str {
        match self {
            Self::DataAtRest => "DATA_AT_REST_ENCRYPTION",
            Self::UserKv => "USER_KV_ENCRYPTION",
            Self::Export => "EXPORT_ENCRYPTION",
        }
    }

    /// The label used in messages and (by default) telemetry, e.g. `data-at-rest`.
    pub fn label(self) -> &'static str {
        match self {
            Self::DataAtRest => "data-at-rest",
            Self::UserKv => "user-kv",
            Self::Export => "export",
        }
    }

    /// The default telemetry `scope` value (`data-at-rest`, `user-kv`, `export-data`).
    pub fn telemetry_label(self) -> &'static str {
        match self {
            Self::DataAtRest => "data-at-rest",
            Self::UserKv => "user-kv",
            Self::Export => "export-data",
        }
    }

    /// Parses a scope from its label (`data-at-rest`), its env prefix (`DATA_AT_REST_ENCRYPTION`)
    /// or the short upper-case name (`DATA_AT_REST`).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| {
            text == s.label()
                || text == s.env_prefix()
                || Some(text) == s.env_prefix().strip_suffix("_ENCRYPTION")
        })
    }

    /// `{SCOPE}_{suffix}`.
    pub fn var(self, suffix: &str) -> String {
        format!("{}_{suffix}", self.env_prefix())
    }
}

/// Where configuration values come from: the process environment, or anything a test injects.
pub trait EnvLookup {
    /// The value of `name`, or `None` if unset.
    fn get(&self, name: &str) -> Option<String>;

    /// The value if set and not blank (whitespace only counts as blank).
    fn non_blank(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !js_trim(v).is_empty())
    }
}

impl<F: Fn(&str) -> Option<String>> EnvLookup for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// The process environment (values read lossily as UTF-8, as Node does).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl EnvLookup for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        // Values can be private keys: UTF-8 is taken over without a copy, and the original of a
        // lossy conversion is wiped.
        std::env::var_os(name).map(|v| {
            v.into_string().unwrap_or_else(|not_utf8| {
                let bytes = Zeroizing::new(not_utf8.into_encoded_bytes());
                // As `String::from_utf8_lossy`, in a buffer sized once (an invalid byte becomes at
                // most three): growing it would free a partial copy unwiped.
                let mut text = String::with_capacity(bytes.len() * 3);
                for chunk in bytes.utf8_chunks() {
                    text.push_str(chunk.valid());
                    if !chunk.invalid().is_empty() {
                        text.push(char::REPLACEMENT_CHARACTER);
                    }
                }
                text
            })
        })
    }
}

/// The JSON side of a registry: ids and PEM strings, before any key is parsed.
///
/// Rules (the reference's): nested `{"activeKeyId":…,"keys":{…}}` or flat `{"id":"PEM",…}` with
/// `activeKeyId` and `keys` skipped; ids and PEMs trimmed; blank or non-string entries skipped; the
/// last duplicate wins but keeps the first one's position; insertion order kept, except that ids
/// which are array indices (`"0"`, `"17"`) come first in ascending order, as JavaScript objects
/// order them.
#[derive(Clone, Default)]
pub struct RegistryDocument {
    /// `activeKeyId` from the JSON (trimmed, non-blank).
    pub active_key_id: Option<String>,
    /// `(id, PEM)` pairs in registry order.
    pub keys: Vec<(String, Zeroizing<String>)>,
    /// How many members of the parsed JSON the rules above left out (see
    /// [`RegistryDocument::skipped_members`]).
    skipped: usize,
}

/// The PEMs (private keys) are compared in constant time; ids and the active id are not secret.
impl PartialEq for RegistryDocument {
    fn eq(&self, other: &Self) -> bool {
        let same_pems = self.keys.iter().zip(&other.keys).fold(
            subtle::Choice::from(1),
            |same, ((id, pem), (other_id, other_pem))| {
                same & subtle::Choice::from(u8::from(id == other_id))
                    & pem.as_bytes().ct_eq(other_pem.as_bytes())
            },
        );
        self.active_key_id == other.active_key_id
            && self.keys.len() == other.keys.len()
            && bool::from(same_pems)
    }
}

impl Eq for RegistryDocument {}

/// Ids are shown as errors show them ([`ReportedKeyId`]): a document is not validated, and an id
/// or `activeKeyId` may be a private key pasted into the wrong place.
impl fmt::Debug for RegistryDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryDocument")
            .field(
                "active_key_id",
                &self.active_key_id.as_deref().map(ReportedKeyId::new),
            )
            .field("key_ids", &reported_ids(self.key_ids()))
            .field("pems", &"[REDACTED]")
            .finish()
    }
}

fn reported_ids<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<ReportedKeyId> {
    ids.map(ReportedKeyId::new).collect()
}

/// A JSON value that keeps object member order (serde_json's map sorts without `preserve_order`).
/// Every string, member names included, is unescaped by [`json::unescape_str`] into a buffer sized
/// once and wiped on drop, never through serde_json's scratch buffer: PEMs arrive with their
/// newlines escaped as `\n`, so that buffer would hold (and free unwiped) private key material.
enum OrderedValue {
    Object(Vec<(Zeroizing<String>, OrderedValue)>),
    String(Zeroizing<String>),
    Other,
}

impl OrderedValue {
    /// Reads a raw value nested `depth` deep (the document itself at 1). Accepts exactly what
    /// deserializing through serde_json's visitor did: every string in an object is checked as it
    /// checked one (surrogates included), containers at serde_json's recursion limit are refused
    /// even though each raw re-read starts a fresh count, numbers must fit `f64`, and arrays are
    /// only scanned (their strings are never unescaped).
    fn from_raw(raw: &RawValue, depth: usize) -> Option<Self> {
        let text = raw.get();
        match text.as_bytes().first()? {
            b'"' => json::unescape_str(text).map(Self::String),
            b'{' if depth < json::MAX_DEPTH => {
                // Each level scans its own text again, so parsing costs up to `MAX_DEPTH` scans.
                let RawMembers(raw_members) = serde_json::from_str(text).ok()?;
                let mut members = Vec::with_capacity(raw_members.len());
                for (name, value) in raw_members {
                    members.push((
                        json::unescape_str(name.get())?,
                        Self::from_raw(value, depth + 1)?,
                    ));
                }
                Some(Self::Object(members))
            }
            b'[' if depth < json::MAX_DEPTH => Some(Self::Other),
            b'{' | b'[' => None,
            _ => serde_json::from_str::<Scalar>(text)
                .ok()
                .map(|_| Self::Other),
        }
    }
}

/// `String.prototype.trim` of the reference, which every configuration value it reads goes
/// through: JavaScript's white space and line terminators, which differ from Rust's `trim` in two
/// characters: U+FEFF (a byte-order mark) is trimmed, U+0085 is not.
pub fn js_trim(s: &str) -> &str {
    s.trim_matches(|c: char| (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}')
}

/// An id JavaScript would treat as an array index (ordered first, numerically).
fn array_index(id: &str) -> Option<u32> {
    let canonical = id == "0" || (!id.starts_with('0') && id.bytes().all(|b| b.is_ascii_digit()));
    if !canonical || id.is_empty() {
        return None;
    }
    id.parse::<u32>().ok().filter(|&n| n != u32::MAX)
}

/// Inserts with JavaScript object semantics: an existing id keeps its place, its value replaced.
fn js_insert(keys: &mut Vec<(String, Zeroizing<String>)>, id: String, pem: Zeroizing<String>) {
    if let Some(slot) = keys.iter_mut().find(|(existing, _)| *existing == id) {
        slot.1 = pem;
    } else {
        keys.push((id, pem));
    }
}

/// An object's members as `JSON.parse` leaves them: a repeated name keeps its first position and
/// takes its last value. This comes before any entry is judged, so a later blank or non-string
/// duplicate removes the key before it, as it does in the reference.
fn parsed_object(
    members: &[(Zeroizing<String>, OrderedValue)],
) -> Vec<(&Zeroizing<String>, &OrderedValue)> {
    let mut slots: std::collections::HashMap<&str, usize> =
        std::collections::HashMap::with_capacity(members.len());
    let mut parsed: Vec<(&Zeroizing<String>, &OrderedValue)> = Vec::with_capacity(members.len());
    for (name, value) in members {
        match slots.get(name.as_str()) {
            Some(&slot) => parsed[slot].1 = value,
            None => {
                slots.insert(name.as_str(), parsed.len());
                parsed.push((name, value));
            }
        }
    }
    parsed
}

/// Where `Object.entries` lists a property: array indices first, ascending, then the rest in
/// insertion order (the sorts using this are stable).
fn js_rank(name: &str) -> (u8, u32) {
    match array_index(name) {
        Some(n) => (0, n),
        None => (1, 0),
    }
}

fn js_order(keys: &mut [(String, Zeroizing<String>)]) {
    keys.sort_by_key(|(id, _)| js_rank(id));
}

impl RegistryDocument {
    /// Parses registry JSON with the reference's rules. `scope` only labels errors.
    pub fn parse(scope: Scope, json: &str) -> Result<Self> {
        let label = scope.label();
        let invalid = || Error::RegistryJsonInvalid { scope: label };
        // Scanning into a raw value unescapes nothing; `from_raw` then reads each string itself.
        let raw: &RawValue = serde_json::from_str(json).map_err(|_| invalid())?;
        let value = OrderedValue::from_raw(raw, 1).ok_or_else(invalid)?;
        let OrderedValue::Object(members) = value else {
            return Err(Error::RegistryNotObject { scope: label });
        };
        let mut active_key_id = None;
        let mut nested = None;
        for (name, value) in &members {
            match (name.as_str(), value) {
                ("activeKeyId", OrderedValue::String(s)) => {
                    active_key_id = Some(js_trim(s).to_owned()).filter(|s| !s.is_empty());
                }
                ("activeKeyId", _) => active_key_id = None,
                ("keys", OrderedValue::Object(inner)) => nested = Some(inner),
                ("keys", _) => nested = None,
                _ => {}
            }
        }
        let key_members = nested.map_or(members.as_slice(), Vec::as_slice);
        let mut entries = parsed_object(key_members);
        // The reference walks `Object.entries` of the parsed object, so ids that are equal after
        // trimming resolve in that order: `{" 7": A, "7": B}` gives `7` the value A, since the
        // array index `"7"` is listed first.
        entries.sort_by_key(|(name, _)| js_rank(name));
        let mut keys = Vec::new();
        for (name, value) in entries {
            // A flat registry's `keys` (not an object, or the form would be nested) is no key.
            if nested.is_none() && matches!(name.as_str(), "activeKeyId" | "keys") {
                continue;
            }
            let OrderedValue::String(pem) = value else {
                continue;
            };
            let id = js_trim(name);
            let pem = js_trim(pem);
            // The reference assigns into a plain object, where `__proto__` sets the prototype
            // instead of adding a key.
            if id.is_empty() || pem.is_empty() || id == "__proto__" {
                continue;
            }
            js_insert(&mut keys, id.to_owned(), Zeroizing::new(pem.to_owned()));
        }
        js_order(&mut keys);
        // Counted on the members as written, so that a repeated name or two ids equal after
        // trimming, which keep only the last value, count as well as entries that are no key.
        let not_active = |members: &[(Zeroizing<String>, OrderedValue)]| {
            members
                .iter()
                .filter(|(name, _)| name.as_str() != "activeKeyId")
                .count()
        };
        let skipped = match nested {
            // Every entry under `keys` not kept, and every top-level member but `activeKeyId`
            // and the one `keys` object read.
            Some(inner) => inner.len() - keys.len() + not_active(&members) - 1,
            None => not_active(&members) - keys.len(),
        };
        Ok(Self {
            active_key_id,
            keys,
            skipped,
        })
    }

    /// How many members of the JSON as written are not in this document: entries that are not
    /// strings or have a blank id or PEM, a flat form's `keys`, values overridden by a later
    /// member of the same name or of an id equal after trimming, and in the nested form anything
    /// beside `activeKeyId` and `keys` (another `keys` included). The reference drops them silently
    /// and so does opening; anything that writes the document back (rotation) would lose them, and
    /// should ask first. Only a count: a misplaced member's name could be a private key.
    pub fn skipped_members(&self) -> usize {
        self.skipped
    }

    /// The ids in registry order.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(id, _)| id.as_str())
    }

    /// Appends a key (or replaces one with the same id in place) and makes it active.
    ///
    /// The id and the PEM are checked as [`KeyRegistry::from_document`] checks them, so the key
    /// rotated in never keeps the result from loading. Entries already in the document are not
    /// parsed again here; loading the result with [`KeyRegistry::from_document`] checks them all.
    ///
    /// # Errors
    /// [`Error::InvalidKeyId`] for an id the registry would refuse; [`Error::InvalidPrivateKeyPem`]
    /// for a PEM that is not a PKCS#8 RSA private key, [`Error::KeyTooSmall`] for one below 2048
    /// bits. The document is unchanged then.
    pub fn rotate_in(&mut self, key_id: &str, private_key_pem: &str) -> Result<()> {
        check_key_id(key_id)?;
        // Parsed and dropped (the parsed key wipes itself): a broken PEM is refused here, before
        // anything writes the document back, rather than when the registry is next loaded.
        parse_registry_key(private_key_pem)?;
        js_insert(
            &mut self.keys,
            key_id.to_owned(),
            Zeroizing::new(private_key_pem.to_owned()),
        );
        js_order(&mut self.keys);
        self.active_key_id = Some(key_id.to_owned());
        Ok(())
    }

    /// The nested form `{"activeKeyId":…,"keys":{…}}`, compact, in registry order (PEM newlines
    /// escaped as `\n` by JSON, so the result is one line).
    pub fn to_nested_json(&self) -> Zeroizing<String> {
        // Sized once for the worst case (every byte escaped as `\u00XX`) and written in place, so
        // no reallocation leaves a copy of a private key behind in freed memory.
        let capacity = 32
            + self.active_key_id.as_ref().map_or(0, |id| 6 * id.len() + 2)
            + self
                .keys
                .iter()
                .map(|(id, pem)| 6 * (id.len() + pem.len()) + 6)
                .sum::<usize>();
        let mut out = Zeroizing::new(Vec::with_capacity(capacity));
        out.push(b'{');
        if let Some(active) = &self.active_key_id {
            out.extend_from_slice(b"\"activeKeyId\":");
            write_json_string(&mut out, active);
            out.push(b',');
        }
        out.extend_from_slice(b"\"keys\":{");
        for (i, (id, pem)) in self.keys.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_json_string(&mut out, id);
            out.push(b':');
            write_json_string(&mut out, pem);
        }
        out.extend_from_slice(b"}}");
        debug_assert!(out.len() <= capacity);
        // The buffer moves into the String, it is not copied. serde_json writes UTF-8 for `&str`
        // input, so the error arm (which still wipes) cannot happen.
        match String::from_utf8(std::mem::take(&mut *out)) {
            Ok(json) => Zeroizing::new(json),
            Err(not_utf8) => {
                drop(Zeroizing::new(not_utf8.into_bytes()));
                Zeroizing::new(String::new())
            }
        }
    }
}

fn write_json_string(out: &mut Vec<u8>, s: &str) {
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(out, s);
}

/// Parses one registry entry's PEM as the registry accepts it: a PKCS#8 RSA private key of at
/// least 2048 bits, and its fingerprint. One rule for loading ([`KeyRegistry::from_document`],
/// which names the scope and id in its errors) and for rotation ([`RegistryDocument::rotate_in`],
/// whose document has no scope): [`Error::InvalidPrivateKeyPem`] or [`Error::KeyTooSmall`].
fn parse_registry_key(pem: &str) -> Result<(RsaPrivateKey, [u8; 32])> {
    let private_key = keys::parse_private_key_pem(pem)?;
    let fingerprint =
        keys::spki_sha256(&private_key.to_public_key()).map_err(|_| Error::InvalidPrivateKeyPem)?;
    Ok((private_key, fingerprint))
}

/// One parsed registry key.
struct RegistryKey {
    id: String,
    private_key: RsaPrivateKey,
    /// SHA-256 of the public key (SPKI DER): which key this is, whatever its id. Data-key cache
    /// entries record it, so an entry only ever serves the key that unwrapped it.
    fingerprint: [u8; 32],
}

/// The parsed key registry of one scope. Build it once at startup and share it (`Arc`).
///
/// `Debug` shows the scope, ids and active id only (as errors show them, although
/// [`KeyRegistry::from_document`] already refused every id they would not show).
pub struct KeyRegistry {
    scope: Scope,
    keys: Vec<RegistryKey>,
    active: Option<usize>,
}

impl fmt::Debug for KeyRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRegistry")
            .field("scope", &self.scope)
            .field("key_ids", &reported_ids(self.key_ids()))
            .field(
                "active_key_id",
                &self.active_key_id().map(ReportedKeyId::new),
            )
            .field("private_keys", &"[REDACTED]")
            .finish()
    }
}

impl KeyRegistry {
    /// Builds a registry from a parsed document and an optional active-key override (a non-blank
    /// override wins over the document's `activeKeyId`).
    ///
    /// # Errors
    /// Besides the reference's: [`Error::RegistryKeyIdInvalid`] for an id an error would not show
    /// (see [`ReportedKeyId`]; this also keeps out every id too long for an envelope to carry).
    /// Registered ids go into telemetry, logs and `Debug` as they are, so one that may be a
    /// private key pasted into an id's place must not get that far.
    pub fn from_document(
        scope: Scope,
        document: &RegistryDocument,
        active_override: Option<&str>,
    ) -> Result<Self> {
        let label = scope.label();
        if document.keys.is_empty() {
            return Err(Error::RegistryNoUsableKeys { scope: label });
        }
        if let Some((id, _)) = document
            .keys
            .iter()
            .find(|(id, _)| !ReportedKeyId::would_show(id))
        {
            return Err(Error::RegistryKeyIdInvalid {
                scope: label,
                key_id: ReportedKeyId::new(id),
            });
        }
        let active_id = active_override
            .map(js_trim)
            .filter(|s| !s.is_empty())
            .or(document.active_key_id.as_deref());
        let active =
            match active_id {
                Some(id) => Some(document.keys.iter().position(|(k, _)| k == id).ok_or_else(
                    || Error::ActiveKeyNotInRegistry {
                        scope: label,
                        key_id: ReportedKeyId::new(id),
                    },
                )?),
                None => None,
            };
        let mut keys = Vec::with_capacity(document.keys.len());
        for (id, pem) in &document.keys {
            let (private_key, fingerprint) = parse_registry_key(pem).map_err(|e| match e {
                Error::KeyTooSmall { bits } => Error::RegistryKeyTooSmall {
                    scope: label,
                    key_id: ReportedKeyId::new(id),
                    bits,
                },
                _ => Error::InvalidPrivateKey {
                    scope: label,
                    key_id: ReportedKeyId::new(id),
                },
            })?;
            keys.push(RegistryKey {
                id: id.clone(),
                private_key,
                fingerprint,
            });
        }
        Ok(Self {
            scope,
            keys,
            active,
        })
    }

    /// Parses registry JSON (nested or flat) with an optional active-key override.
    pub fn from_json(scope: Scope, json: &str, active_override: Option<&str>) -> Result<Self> {
        Self::from_document(
            scope,
            &RegistryDocument::parse(scope, json)?,
            active_override,
        )
    }

    /// Legacy single-key mode: one PEM under one id; the active key is the override if non-blank,
    /// else this key.
    pub fn legacy(
        scope: Scope,
        key_id: &str,
        private_key_pem: &str,
        active_override: Option<&str>,
    ) -> Result<Self> {
        let label = scope.label();
        let id = js_trim(key_id);
        if id.is_empty() {
            return Err(Error::LegacyKeyIdMissing { scope: label });
        }
        let pem = js_trim(private_key_pem);
        if pem.is_empty() {
            return Err(Error::RegistryNoUsableKeys { scope: label });
        }
        let document = RegistryDocument {
            active_key_id: Some(id.to_owned()),
            keys: vec![(id.to_owned(), Zeroizing::new(pem.to_owned()))],
            skipped: 0,
        };
        Self::from_document(scope, &document, active_override)
    }

    /// The scope's registry from the process environment (see [`KeyRegistry::from_env_lookup`]).
    pub fn from_env(scope: Scope) -> Result<Self> {
        Self::from_env_lookup(scope, &ProcessEnv)
    }

    /// The scope's registry from an injected environment: a non-blank `{SCOPE}_KEYS_JSON` (registry
    /// mode) or else `{SCOPE}_PRIVATE_KEY` + `{SCOPE}_KEY_ID` (legacy mode); `{SCOPE}_ACTIVE_KEY_ID`
    /// overrides the active key. If the write side (`{SCOPE}_PUBLIC_KEY`) is configured too, it is
    /// checked against the registry ([`KeyRegistry::validate_write_key`]).
    pub fn from_env_lookup(scope: Scope, env: &dyn EnvLookup) -> Result<Self> {
        let label = scope.label();
        let active_override = env.non_blank(&scope.var("ACTIVE_KEY_ID"));
        let registry = if let Some(json) = env.non_blank(&scope.var("KEYS_JSON")) {
            let json = Zeroizing::new(json);
            Self::from_json(scope, &json, active_override.as_deref())?
        } else if let Some(pem) = env.non_blank(&scope.var("PRIVATE_KEY")) {
            let pem = Zeroizing::new(pem);
            let key_id = env
                .non_blank(&scope.var("KEY_ID"))
                .ok_or(Error::LegacyKeyIdMissing { scope: label })?;
            Self::legacy(scope, &key_id, &pem, active_override.as_deref())?
        } else {
            return Err(Error::RegistryNotConfigured { scope: label });
        };
        if env.non_blank(&scope.var("PUBLIC_KEY")).is_some() {
            let sealer = Sealer::from_env_lookup(scope, env)?;
            registry.validate_write_key(&sealer)?;
        }
        Ok(registry)
    }

    /// The scope.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// Key ids in registry order.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.id.as_str())
    }

    /// Number of keys (an operator detail; never put it in a caller-facing message).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Never true: a registry holds at least one key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The active key id, if one is configured.
    pub fn active_key_id(&self) -> Option<&str> {
        self.active.map(|i| self.keys[i].id.as_str())
    }

    /// Whether `key_id` is in the registry.
    pub fn contains(&self, key_id: &str) -> bool {
        self.index_of(key_id).is_some()
    }

    pub(crate) fn index_of(&self, key_id: &str) -> Option<usize> {
        self.keys.iter().position(|k| k.id == key_id)
    }

    pub(crate) fn active_index(&self) -> Option<usize> {
        self.active
    }

    pub(crate) fn id_at(&self, index: usize) -> &str {
        &self.keys[index].id
    }

    pub(crate) fn private_key_at(&self, index: usize) -> &RsaPrivateKey {
        &self.keys[index].private_key
    }

    pub(crate) fn fingerprint_at(&self, index: usize) -> &[u8; 32] {
        &self.keys[index].fingerprint
    }

    /// The public half of the key under `key_id`.
    pub fn public_key(&self, key_id: &str) -> Option<RsaPublicKey> {
        self.index_of(key_id)
            .map(|i| self.keys[i].private_key.to_public_key())
    }

    /// A sealer for the active key (for the audit pattern and rewrap).
    pub fn active_sealer(&self, version: EnvelopeVersion) -> Result<Sealer> {
        let index = self.active.ok_or(Error::NoActiveKey {
            scope: self.scope.label(),
        })?;
        let key = &self.keys[index];
        Ok(Sealer::new(key.id.clone(), key.private_key.to_public_key())?.with_version(version))
    }

    /// Checks that the write side (public key + key id) belongs to this registry: the id must be
    /// registered and the public key must be the registered private key's public half. The
    /// reference never checks this; a mismatch means every new write is unreadable.
    pub fn validate_write_key(&self, sealer: &Sealer) -> Result<()> {
        let label = self.scope.label();
        let id = sealer.key_id();
        let index = self
            .index_of(id)
            .ok_or_else(|| Error::WriteKeyNotInRegistry {
                scope: label,
                key_id: ReportedKeyId::new(id),
            })?;
        let registered = self.keys[index].private_key.as_public_key();
        let configured = sealer.public_key();
        let same = registered
            .n()
            .as_ref()
            .to_be_bytes()
            .ct_eq(&configured.n().as_ref().to_be_bytes())
            & registered
                .e()
                .to_be_bytes()
                .ct_eq(&configured.e().to_be_bytes());
        if bool::from(same) {
            Ok(())
        } else {
            Err(Error::PublicKeyMismatch {
                scope: label,
                key_id: ReportedKeyId::new(id),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde::de::{self, Deserializer, MapAccess, Visitor};

    use super::*;
    use crate::json::strategies;

    /// What the parser keeps of a document, comparable.
    #[derive(Debug, PartialEq)]
    enum Tree {
        Object(Vec<(String, Tree)>),
        String(String),
        Other,
    }

    impl From<&OrderedValue> for Tree {
        fn from(value: &OrderedValue) -> Self {
            match value {
                OrderedValue::Object(members) => Tree::Object(
                    members
                        .iter()
                        .map(|(k, v)| (k.to_string(), Tree::from(v)))
                        .collect(),
                ),
                OrderedValue::String(s) => Tree::String(s.to_string()),
                OrderedValue::Other => Tree::Other,
            }
        }
    }

    /// The parser as it was, through serde_json's visitor (and its scratch buffer): what the raw
    /// parser must agree with, document for document.
    impl<'de> Deserialize<'de> for Tree {
        fn deserialize<D: Deserializer<'de>>(
            deserializer: D,
        ) -> std::result::Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Tree;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("any JSON value")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Tree, E> {
                    Ok(Tree::String(v.to_owned()))
                }
                fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<Tree, E> {
                    Ok(Tree::Other)
                }
                fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<Tree, E> {
                    Ok(Tree::Other)
                }
                fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<Tree, E> {
                    Ok(Tree::Other)
                }
                fn visit_f64<E: de::Error>(self, _: f64) -> std::result::Result<Tree, E> {
                    Ok(Tree::Other)
                }
                fn visit_unit<E: de::Error>(self) -> std::result::Result<Tree, E> {
                    Ok(Tree::Other)
                }
                fn visit_seq<A: de::SeqAccess<'de>>(
                    self,
                    mut seq: A,
                ) -> std::result::Result<Tree, A::Error> {
                    while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                    Ok(Tree::Other)
                }
                fn visit_map<A: MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> std::result::Result<Tree, A::Error> {
                    let mut members = Vec::new();
                    while let Some(member) = map.next_entry::<String, Tree>()? {
                        members.push(member);
                    }
                    Ok(Tree::Object(members))
                }
            }
            deserializer.deserialize_any(V)
        }
    }

    fn raw_tree(json: &str) -> Option<Tree> {
        let raw: &RawValue = serde_json::from_str(json).ok()?;
        OrderedValue::from_raw(raw, 1).map(|value| Tree::from(&value))
    }

    fn assert_same_as_serde_json(json: &str) {
        assert_eq!(
            raw_tree(json),
            serde_json::from_str::<Tree>(json).ok(),
            "{json:?}"
        );
    }

    #[test]
    fn the_raw_parser_accepts_and_refuses_what_serde_json_did() {
        let objects = |n: usize| format!("{}{{}}{}", "{\"a\":".repeat(n - 1), "}".repeat(n - 1));
        let arrays_in_objects =
            |n: usize| format!("{}[[[]]]{}", "{\"a\":".repeat(n - 1), "}".repeat(n - 1));
        let mut cases: Vec<String> = [
            r#"{"keys":{"k1":"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"}}"#,
            r#"{"k\u0031":"P\u00e9\ud83d\ude00\/\b\f\r\t\"\\","activeKeyId":"k1"}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"\ud800":"P"}"#,
            r#"{"a":{"b":{"c":"\udc00"}}}"#,
            r#"{"a":["\ud800",1e999,{"b":"\udc00"}]}"#,
            r#"{"a":1e999}"#,
            r#"{"a":{"b":-1e999}}"#,
            r#"{"a":18446744073709551616,"b":-9223372036854775809,"c":1e-999}"#,
            r#"{"a":"\x"}"#,
            "{\"a\":\"raw\ncontrol\"}",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":1}x"#,
            r#"  {"a":"b"}  "#,
            r#""\ud800""#,
            r#""-----BEGIN PRIVATE KEY-----\nMIIE""#,
            "1e999",
            "[1e999]",
            "[\"\\ud800\"]",
            "[",
            "",
            "   ",
            "\u{feff}{}",
            "null",
            "{}",
            "[]",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        for n in [126, 127, 128, 129] {
            cases.push(objects(n));
            cases.push(arrays_in_objects(n));
            cases.push(format!("{}{}", "[".repeat(n), "]".repeat(n)));
        }
        for case in &cases {
            assert_same_as_serde_json(case);
            // And the document-level result follows.
            let ours = RegistryDocument::parse(Scope::DataAtRest, case).map_err(|e| e.code());
            match serde_json::from_str::<Tree>(case) {
                Err(_) => assert_eq!(ours.unwrap_err(), "registry_json_invalid", "{case:?}"),
                Ok(Tree::Object(_)) => assert!(ours.is_ok(), "{case:?}"),
                Ok(_) => assert_eq!(ours.unwrap_err(), "registry_not_object", "{case:?}"),
            }
        }
    }

    proptest! {
        #[test]
        fn the_raw_parser_agrees_with_serde_json_on_generated_documents(
            json in prop_oneof![strategies::value_text(), strategies::token_soup()]
        ) {
            prop_assert_eq!(raw_tree(&json), serde_json::from_str::<Tree>(&json).ok(), "{:?}", json);
        }
    }

    #[test]
    fn pems_keep_their_newlines_and_are_trimmed() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIE\u{e9}\n-----END PRIVATE KEY-----";
        let json = serde_json::json!({"keys": {" k1 ": format!("  {pem}\n")}, "activeKeyId": "k1"})
            .to_string();
        assert!(json.contains("\\n"));
        let doc = RegistryDocument::parse(Scope::DataAtRest, &json).unwrap();
        assert_eq!(doc.key_ids().collect::<Vec<_>>(), ["k1"]);
        assert_eq!(doc.keys[0].1.as_str(), pem);
    }

    #[test]
    fn ids_that_may_be_secrets_are_not_shown_in_errors() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEsecretbody\n-----END PRIVATE KEY-----";
        let shown = |err: &Error| format!("{err} {err:?}");
        let assert_hidden = |err: Error, secret: &str| {
            let text = shown(&err);
            assert!(!text.contains(secret), "{text}");
            assert!(!text.contains("secretbody"), "{text}");
            assert!(!text.contains('\n'), "{text}");
            assert!(text.contains("that is not shown"), "{text}");
        };
        // A flat entry written the wrong way round: the PEM is the id.
        let one_member = |name: &str, value: &str| {
            let mut members = serde_json::Map::new();
            members.insert(name.to_owned(), value.into());
            serde_json::Value::Object(members).to_string()
        };
        let backwards = one_member(pem, "k1");
        let err = KeyRegistry::from_json(Scope::DataAtRest, &backwards, None).unwrap_err();
        assert_eq!(err.code(), "registry_key_id_invalid");
        assert_hidden(err, pem);
        // A PEM pasted as the active key id.
        let err =
            KeyRegistry::from_json(Scope::DataAtRest, r#"{"k1":"P"}"#, Some(pem)).unwrap_err();
        assert_eq!(err.code(), "active_key_not_in_registry");
        assert_hidden(err, pem);
        let err = RegistryDocument::parse(
            Scope::DataAtRest,
            &serde_json::json!({"activeKeyId": pem, "keys": {"k1": "P"}}).to_string(),
        )
        .and_then(|doc| KeyRegistry::from_document(Scope::DataAtRest, &doc, None))
        .unwrap_err();
        assert_hidden(err, pem);
        // An id that would forge a second line of output.
        let forged = "k1\nsealkit: error: everything is fine";
        let json = one_member(forged, "not a pem");
        let err = KeyRegistry::from_json(Scope::DataAtRest, &json, None).unwrap_err();
        assert_hidden(err, "everything is fine");
        // Plausible ids are still shown, quoted, as before.
        let err =
            KeyRegistry::from_json(Scope::DataAtRest, r#"{"k1":"P"}"#, Some("k2")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "data-at-rest key registry: active key ID \"k2\" is not present in registry"
        );
    }

    /// A document is not validated, so its ids may be anything; `Debug` shows them as errors do.
    #[test]
    fn document_debug_withholds_ids_that_may_be_secrets() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEsecretbody\n-----END PRIVATE KEY-----";
        let doc = RegistryDocument::parse(
            Scope::DataAtRest,
            &serde_json::json!({"activeKeyId": pem, "keys": {"k1": "P", (pem): "k2"}}).to_string(),
        )
        .unwrap();
        assert_eq!(doc.active_key_id.as_deref(), Some(pem));
        assert!(doc.key_ids().any(|id| id == pem));
        for shown in [format!("{doc:?}"), format!("{doc:#?}")] {
            for part in ["BEGIN", "MIIEsecretbody", "PRIVATE KEY"] {
                assert!(!shown.contains(part), "{shown}");
            }
            assert!(shown.contains("\"k1\""), "{shown}");
            assert!(
                shown.contains(&format!(
                    "a key id of {} bytes that is not shown",
                    pem.len()
                )),
                "{shown}"
            );
        }
    }

    /// Ids an error would not show are refused before anything else is looked at; the error
    /// shows only the length. Plausible ids are unaffected.
    #[test]
    fn registry_ids_that_may_be_secrets_are_refused() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEsecretbody\n-----END PRIVATE KEY-----";
        for id in [
            pem,
            "-----BEGIN PRIVATE KEY-----MIIEsecretbody",
            "two words",
            "k1\u{1b}[2J",
            &"x".repeat(65),
            &"x".repeat(257),
        ] {
            let doc = RegistryDocument {
                active_key_id: None,
                keys: vec![(id.to_owned(), Zeroizing::new("P".to_owned()))],
                skipped: 0,
            };
            let err = KeyRegistry::from_document(Scope::UserKv, &doc, None).unwrap_err();
            assert_eq!(err.code(), "registry_key_id_invalid", "{id:?}");
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains(id), "{shown}");
            assert!(
                shown.contains(&format!("a key id of {} bytes that is not shown", id.len())),
                "{shown}"
            );
            let mut rotated = RegistryDocument::default();
            assert_eq!(
                rotated.rotate_in(id, "P").unwrap_err().code(),
                "invalid_key_id",
                "{id:?}"
            );
        }
        // A 64-byte id is still an id (its PEM "P" is what fails here).
        let doc = RegistryDocument {
            active_key_id: None,
            keys: vec![("x".repeat(64), Zeroizing::new("P".to_owned()))],
            skipped: 0,
        };
        let err = KeyRegistry::from_document(Scope::UserKv, &doc, None).unwrap_err();
        assert_eq!(err.code(), "invalid_private_key");
    }

    #[test]
    fn nested_flat_and_skips() {
        let doc = RegistryDocument::parse(
            Scope::DataAtRest,
            r#"{"keys":{" a ":" P1 ","b":42,"c":"  ","":"P"},"activeKeyId":" a "}"#,
        )
        .unwrap();
        assert_eq!(doc.key_ids().collect::<Vec<_>>(), ["a"]);
        assert_eq!(doc.keys[0].1.as_str(), "P1");
        assert_eq!(doc.active_key_id.as_deref(), Some("a"));

        let flat = RegistryDocument::parse(
            Scope::DataAtRest,
            r#"{"z":"P1","activeKeyId":"z","y":"P2"}"#,
        )
        .unwrap();
        assert_eq!(flat.key_ids().collect::<Vec<_>>(), ["z", "y"]);
    }

    #[test]
    fn duplicates_keep_first_position_last_value() {
        let doc = RegistryDocument::parse(Scope::UserKv, r#"{"a":"1","b":"2","a":"3"}"#).unwrap();
        let got: Vec<_> = doc
            .keys
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(got, [("a", "3"), ("b", "2")]);
    }

    /// `JSON.parse` keeps the last value of a repeated name before the reference looks at any
    /// entry: a later blank, `null` or number removes the key (a key "retired" that way stays
    /// retired), in the flat and the nested form.
    #[test]
    fn a_later_blank_or_non_string_duplicate_removes_the_key() {
        let ids = |json: &str| {
            RegistryDocument::parse(Scope::UserKv, json)
                .unwrap()
                .key_ids()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert!(ids(r#"{"a":"P1","a":""}"#).is_empty());
        assert_eq!(ids(r#"{"a":"P1","b":"P2","a":42}"#), ["b"]);
        assert_eq!(
            ids(r#"{"activeKeyId":"b","keys":{"a":"P1","b":"P2","a":null}}"#),
            ["b"]
        );
        // A repeated `keys` member: the last one is the registry.
        assert_eq!(ids(r#"{"keys":{"a":"P1"},"keys":{"b":"P2"}}"#), ["b"]);
        // Ids that differ only in surrounding whitespace are one id after trimming: last wins,
        // in `Object.entries` order, where an array index comes before any other name.
        let only = |json: &str| {
            let doc = RegistryDocument::parse(Scope::UserKv, json).unwrap();
            assert_eq!(doc.keys.len(), 1, "{json}");
            let (id, pem) = &doc.keys[0];
            (id.clone(), pem.as_str().to_owned())
        };
        assert_eq!(only(r#"{"a":"P1"," a ":"P2"}"#), ("a".into(), "P2".into()));
        assert_eq!(only(r#"{" 7":"P1","7":"P2"}"#), ("7".into(), "P1".into()));
        assert_eq!(only(r#"{"7":"P1"," 7":"P2"}"#), ("7".into(), "P2".into()));
        assert_eq!(
            only(r#"{" 7":"P1","7 ":"P2","7":"P3"}"#),
            ("7".into(), "P2".into())
        );
    }

    #[test]
    fn integer_like_ids_come_first_like_javascript() {
        let doc = RegistryDocument::parse(Scope::UserKv, r#"{"b":"1","10":"2","2":"3","01":"4"}"#)
            .unwrap();
        assert_eq!(doc.key_ids().collect::<Vec<_>>(), ["2", "10", "b", "01"]);
    }

    #[test]
    fn skipped_members_are_counted() {
        let count = |json: &str| {
            RegistryDocument::parse(Scope::DataAtRest, json)
                .unwrap()
                .skipped_members()
        };
        assert_eq!(count(r#"{"a":"P","b":"Q"}"#), 0);
        assert_eq!(count(r#"{"activeKeyId":"a","keys":{"a":"P"}}"#), 0);
        // Flat: non-string values, blank ids or PEMs, a `keys` that is not an object.
        assert_eq!(
            count(r#"{"a":"P","b":{"pem":"Q"},"c":7,"":"R","d":" "}"#),
            4
        );
        assert_eq!(count(r#"{"activeKeyId":"a","a":"P","keys":["Q"]}"#), 1);
        // Nested: anything beside activeKeyId and keys, and bad entries inside keys.
        assert_eq!(
            count(r#"{"activeKeyId":"a","Keys":{"b":"Q"},"note":"x","keys":{"a":"P","c":null}}"#),
            3
        );
        // A value a later duplicate overrides is lost too: the same name, or the same id once
        // trimmed, and a second `keys` object.
        assert_eq!(count(r#"{"a":"P","a":"Q"}"#), 1);
        assert_eq!(count(r#"{"k1":"OLD"," k1":"NEW"}"#), 1);
        assert_eq!(
            count(r#"{"keys":{"a":"P"},"keys":{"b":"Q"},"activeKeyId":"b"}"#),
            1
        );
    }

    /// An RSA-2048 pair, generated once for the tests that need a key the registry loads.
    fn pair() -> &'static keys::GeneratedKeyPair {
        static PAIR: std::sync::OnceLock<keys::GeneratedKeyPair> = std::sync::OnceLock::new();
        PAIR.get_or_init(|| keys::generate_key_pair(2048).unwrap())
    }

    #[test]
    fn rotation_appends_and_activates() {
        let pair = pair();
        // Trimmed, as parsing the written document trims it, so the round trip below compares
        // equal.
        let pem = pair.private_key_pem.trim();
        let mut doc = RegistryDocument::parse(Scope::DataAtRest, r#"{"a":"P"}"#).unwrap();
        doc.rotate_in("b", pem).unwrap();
        let json = doc.to_nested_json();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"activeKeyId": "b", "keys": {"a": "P", "b": pem}})
        );
        assert!(json.starts_with(r#"{"activeKeyId":"b","keys":{"a":"P","b":"#));
        let again = RegistryDocument::parse(Scope::DataAtRest, &json).unwrap();
        assert_eq!(again, doc);
        // The key rotated in is one the registry loads (the old entry "P" is not checked here).
        doc.keys.remove(0);
        let registry = KeyRegistry::from_document(Scope::DataAtRest, &doc, None).unwrap();
        assert_eq!(registry.active_key_id(), Some("b"));
    }

    #[test]
    fn rotation_refuses_a_pem_the_registry_would_not_load_and_changes_nothing() {
        let mut doc = RegistryDocument::parse(Scope::DataAtRest, r#"{"a":"P"}"#).unwrap();
        let before = doc.clone();
        use rsa::pkcs8::EncodePrivateKey as _;
        let small = RsaPrivateKey::new(&mut rand::rand_core::UnwrapErr(rand::rngs::SysRng), 1024)
            .unwrap()
            .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap();
        let pair = pair();
        for (pem, code) in [
            ("Q\nR", "invalid_private_key"),
            (
                "-----BEGIN PRIVATE KEY-----\nMIIEsecretbody\n-----END PRIVATE KEY-----",
                "invalid_private_key",
            ),
            // A public key where the private key belongs.
            (pair.public_key_pem.as_str(), "invalid_private_key"),
            (small.as_str(), "key_too_small"),
        ] {
            let err = doc.rotate_in("b", pem).unwrap_err();
            assert_eq!(err.code(), code, "{err}");
            let shown = format!("{err} {err:?}");
            assert!(
                !shown.contains("MII") && !shown.contains("secretbody"),
                "{shown}"
            );
            assert_eq!(doc, before);
        }
        assert!(matches!(
            doc.rotate_in("b", &small),
            Err(Error::KeyTooSmall { bits: 1024 })
        ));
        // A PEM in the escaped form the registry also loads (normalised the same way) is taken.
        let escaped = pair.private_key_pem.replace('\n', "\\n");
        doc.rotate_in("b", &escaped).unwrap();
        assert_eq!(doc.active_key_id.as_deref(), Some("b"));
    }

    #[test]
    fn nested_json_fits_its_one_allocation_even_when_every_byte_is_escaped() {
        // Control characters are the longest escapes (`\u0001`: six bytes for one).
        let nasty = "\u{1}\u{2}\"\\\n\u{1f}".repeat(50);
        let doc = RegistryDocument {
            active_key_id: Some(nasty.clone()),
            keys: vec![
                (nasty.clone(), Zeroizing::new(nasty.clone())),
                (
                    "k2".to_owned(),
                    Zeroizing::new("-----BEGIN-----\nAB\n".to_owned()),
                ),
            ],
            skipped: 0,
        };
        // The debug assertion inside checks the bound; the output must still be the same JSON
        // serde_json writes.
        let json = doc.to_nested_json();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["activeKeyId"], nasty.as_str());
        assert_eq!(value["keys"][nasty.as_str()], nasty.as_str());
        assert_eq!(value["keys"]["k2"], "-----BEGIN-----\nAB\n");
        assert!(json.len() <= json.capacity());
    }

    #[test]
    fn documents_are_equal_only_with_the_same_ids_pems_and_active_key() {
        let parse = |json: &str| RegistryDocument::parse(Scope::DataAtRest, json).unwrap();
        let doc = parse(r#"{"activeKeyId":"a","keys":{"a":"PEM-A","b":"PEM-B"}}"#);
        assert_eq!(doc, doc.clone());
        for other in [
            r#"{"activeKeyId":"a","keys":{"a":"PEM-A","b":"PEM-C"}}"#,
            r#"{"activeKeyId":"a","keys":{"a":"PEM-A","c":"PEM-B"}}"#,
            r#"{"activeKeyId":"b","keys":{"a":"PEM-A","b":"PEM-B"}}"#,
            r#"{"activeKeyId":"a","keys":{"a":"PEM-A"}}"#,
            r#"{"activeKeyId":"a","keys":{"b":"PEM-B","a":"PEM-A"}}"#,
        ] {
            assert_ne!(parse(other), doc, "{other}");
        }
    }

    #[test]
    fn scopes_parse_from_every_spelling() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.label()), Some(s));
            assert_eq!(Scope::parse(s.env_prefix()), Some(s));
        }
        assert_eq!(Scope::parse("USER_KV"), Some(Scope::UserKv));
        assert_eq!(Scope::parse("nope"), None);
    }
}
