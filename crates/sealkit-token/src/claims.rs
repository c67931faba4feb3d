//! What a token seals: its id, scope, times and issuing chain, in a compact canonical binary form.
//!
//! Layout (v1; integers big-endian; see `docs/formats.md`): all the text, the length of the
//! issuer keys (only when there are any), the chain's lengths, then a fixed 33-byte header.
//!
//! ```text
//! text           id ‖ chain ids ‖ basins name ‖ streams name ‖ access_tokens name
//!                ‖ issuer keys (UTF-8)
//! issuer keys    u8 length of the issuer keys text, 1..=207; only when flag bit 2 is set
//! chain lengths  depth × u8, 1..=96 each, root-most first
//! header (offsets within it):
//!  0      1      flags          bit 0 auto_prefix_streams, bit 1 has expiry, bit 2 has issuer
//!                               keys; other bits zero
//!  1      4      ops            bit i = Operation::ALL[i]; bits 21.. zero
//!  5      1      op_groups      bits: account r/w, basin r/w, stream r/w; bits 6.. zero
//!  6      8      issued_at      i64 Unix seconds
//! 14      8      expires_at     i64 Unix seconds; zero when the expiry flag is clear
//! 22      1      id length      1..=96
//! 23      1      chain depth    0..=MAX_CHAIN_DEPTH
//! 24      3      basins         resource set header
//! 27      3      streams        resource set header
//! 30      3      access_tokens  resource set header
//!
//! resource set header = u8 tag (0 none | 1 exact | 2 prefix) ‖ u16 name length (0 for none, ≥ 1 for exact)
//! issuer keys text    = `id:fingerprint` entries joined by `,`, ids in ascending byte order,
//!                       each once, no more entries than the chain is deep; fingerprint =
//!                       base64url (no padding) of the key's 6-byte fingerprint
//! ```
//!
//! The issuer keys are the keys that sealed the tokens of the issuing chain, other than the key
//! that seals this token: verification refuses the token once any of them is retired or removed,
//! as it refuses the issuers themselves. Each is named by its id and a fingerprint of the key, so
//! a different key added later under the same id does not bring those tokens back. Tokens issued
//! with no key rotation in between carry none, and their encoding is the same as before the field
//! existed.
//!
//! Verification parses this on every request, so the layout is made for that: every field of the
//! header sits at a fixed offset from the end, and every string lives in the one text region,
//! checked as UTF-8 once rather than once per name (each field must still start and end on a
//! character boundary). The text comes first so that it starts word-aligned in the decryption
//! buffer, where the UTF-8 check runs a word at a time from its first byte. The decoder is total: any input either decodes to claims that re-encode to exactly the
//! same bytes, or is refused with [`TokenError::Malformed`].

use base64ct::{Base64UrlUnpadded, Encoding as _};

use crate::error::TokenError;
use crate::scope::{
    AccessTokenScope, MAX_RESOURCE_NAME_LEN, MAX_TOKEN_ID_LEN, OpGroups, OpSet, ResourceSet,
    ResourceSetView, has_control_character, has_nul, has_token_id_shape, validate_token_id,
};
use crate::token::{MAX_KEY_ID_LEN, is_key_id};

/// Deepest issuing chain a token may carry: a token issued from a token issued from … at most
/// this many tokens above it.
pub const MAX_CHAIN_DEPTH: usize = 8;

/// Largest encoded claims, in bytes (every field at its bound).
pub const MAX_CLAIMS_LEN: usize = HEADER_LEN
    + MAX_CHAIN_DEPTH
    + (1 + MAX_CHAIN_DEPTH) * MAX_TOKEN_ID_LEN
    + 2 * MAX_RESOURCE_NAME_LEN
    + MAX_TOKEN_ID_LEN
    + 1
    + MAX_ISSUER_KEYS_LEN;

const HEADER_LEN: usize = 33;
/// Where each resource set header starts.
const BASINS_AT: usize = 24;
const STREAMS_AT: usize = 27;
const ACCESS_TOKENS_AT: usize = 30;

const FLAG_AUTO_PREFIX: u8 = 0b001;
const FLAG_EXPIRES: u8 = 0b010;
const FLAG_ISSUER_KEYS: u8 = 0b100;

/// Length of an issuer key's fingerprint, in bytes.
pub const ISSUER_KEY_FINGERPRINT_LEN: usize = 6;
/// Its base64url form, in characters (48 bits: no padding, no spare bits).
const FINGERPRINT_CHARS: usize = 8;
/// Longest issuer keys text: one key per level of the chain, each of the longest id, with its
/// `:` and fingerprint, and commas between.
const MAX_ISSUER_KEYS_LEN: usize = MAX_CHAIN_DEPTH * (MAX_KEY_ID_LEN + 2 + FINGERPRINT_CHARS) - 1;

const TAG_NONE: u8 = 0;
const TAG_EXACT: u8 = 1;
const TAG_PREFIX: u8 = 2;

/// Earliest and latest instants a token may carry: years 1 to 9999, so every time converts to an
/// RFC 3339 timestamp.
const MIN_UNIX: i64 = -62_135_596_800;
const MAX_UNIX: i64 = 253_402_300_799;

/// A key that sealed a token of an issuing chain: its id, and a fingerprint of the key itself (see
/// [`crate::TokenKeyring`]), so that another key later given the same id is not taken for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerKey {
    /// The key's id.
    pub id: String,
    /// The key's fingerprint: derived from the server key and the id, one-way.
    pub fingerprint: [u8; ISSUER_KEY_FINGERPRINT_LEN],
}

/// The sealed contents of a token, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    /// The token's id.
    pub id: String,
    /// What the token may touch and do (stream names absolute, never relative to a prefix).
    pub scope: AccessTokenScope,
    /// Whether stream names are namespaced under the stream prefix.
    pub auto_prefix_streams: bool,
    /// When the token was issued (Unix seconds).
    pub issued_at: i64,
    /// When the token stops working (Unix seconds); `None` = never.
    pub expires_at: Option<i64>,
    /// The ids of the tokens that issued this one, root-most first; empty when the root authority
    /// issued it.
    pub chain: Vec<String>,
    /// The keys that sealed the tokens in `chain`, other than the key that seals this token, in
    /// ascending order of id, each id once: the token stops verifying when any of them is retired
    /// or leaves the keyring. Empty unless keys were rotated while the chain was being issued.
    pub issuer_keys: Vec<IssuerKey>,
}

impl TokenClaims {
    /// The canonical encoding. Fails only if a field is beyond the bounds above.
    pub fn encode(&self) -> Result<Vec<u8>, TokenError> {
        validate_token_id(&self.id)?;
        if self.chain.len() > MAX_CHAIN_DEPTH {
            return Err(TokenError::invalid(format!(
                "access tokens may be issued at most {MAX_CHAIN_DEPTH} levels deep"
            )));
        }
        self.scope.validate()?;
        for t in [Some(self.issued_at), self.expires_at]
            .into_iter()
            .flatten()
        {
            if !(MIN_UNIX..=MAX_UNIX).contains(&t) {
                return Err(TokenError::invalid(
                    "timestamps must fall in years 1 to 9999",
                ));
            }
        }
        if self.auto_prefix_streams && !matches!(self.scope.streams, ResourceSet::Prefix(_)) {
            return Err(TokenError::invalid(
                "Auto prefixing is only allowed for streams with prefix matching",
            ));
        }
        for ancestor in &self.chain {
            validate_token_id(ancestor)?;
        }
        let issuer_keys = issuer_keys_text(&self.issuer_keys);
        // The decoder's rule, so that what is written is exactly what is read back.
        if !issuer_keys.is_empty()
            && (!is_issuer_keys_text(&issuer_keys) || self.issuer_keys.len() > self.chain.len())
        {
            return Err(TokenError::invalid(
                "issuer keys must have distinct key ids in ascending order, at most one per \
                 issuing token",
            ));
        }
        let sets = [
            self.scope.basins.as_view(),
            self.scope.streams.as_view(),
            self.scope.access_tokens.as_view(),
        ];
        let mut out = Vec::with_capacity(128);
        // The text first, in header order.
        out.extend_from_slice(self.id.as_bytes());
        for ancestor in &self.chain {
            out.extend_from_slice(ancestor.as_bytes());
        }
        for set in sets {
            if let ResourceSetView::Exact(name) | ResourceSetView::Prefix(name) = set {
                out.extend_from_slice(name.as_bytes());
            }
        }
        out.extend_from_slice(issuer_keys.as_bytes());
        // Then the lengths; the validations above bound each to its field's width.
        if !issuer_keys.is_empty() {
            out.push(issuer_keys.len() as u8);
        }
        out.extend(self.chain.iter().map(|ancestor| ancestor.len() as u8));
        // Then the fixed header.
        let header_at = out.len();
        let mut flags = 0;
        if self.auto_prefix_streams {
            flags |= FLAG_AUTO_PREFIX;
        }
        if self.expires_at.is_some() {
            flags |= FLAG_EXPIRES;
        }
        if !issuer_keys.is_empty() {
            flags |= FLAG_ISSUER_KEYS;
        }
        out.push(flags);
        out.extend_from_slice(&self.scope.ops.bits().to_be_bytes());
        out.push(self.scope.op_groups.bits());
        out.extend_from_slice(&self.issued_at.to_be_bytes());
        out.extend_from_slice(&self.expires_at.unwrap_or(0).to_be_bytes());
        out.push(self.id.len() as u8);
        out.push(self.chain.len() as u8);
        for set in sets {
            let (tag, name) = match set {
                ResourceSetView::None | ResourceSetView::Exact("") => (TAG_NONE, ""),
                ResourceSetView::Exact(name) => (TAG_EXACT, name),
                ResourceSetView::Prefix(prefix) => (TAG_PREFIX, prefix),
            };
            out.push(tag);
            out.extend_from_slice(&(name.len() as u16).to_be_bytes());
        }
        debug_assert_eq!(out.len() - header_at, HEADER_LEN);
        debug_assert!(out.len() <= MAX_CLAIMS_LEN);
        Ok(out)
    }

    /// Decodes claims; see the module documentation for the rules.
    pub fn decode(bytes: &[u8]) -> Result<Self, TokenError> {
        ClaimsView::parse(bytes).map(|view| view.to_owned_claims())
    }
}

/// Claims decoded in place, borrowing their strings from the decrypted buffer: the hot path of
/// verification allocates nothing.
#[derive(Debug, Clone, Copy)]
pub struct ClaimsView<'a> {
    /// The token's id.
    pub id: &'a str,
    /// Operations granted one by one.
    pub ops: OpSet,
    /// Operations granted by group.
    pub op_groups: OpGroups,
    /// The union of `ops` and `op_groups`.
    pub effective_ops: OpSet,
    /// Basin names allowed.
    pub basins: ResourceSetView<'a>,
    /// Stream names allowed (absolute).
    pub streams: ResourceSetView<'a>,
    /// Access token ids allowed.
    pub access_tokens: ResourceSetView<'a>,
    /// Whether stream names are namespaced under the stream prefix.
    pub auto_prefix_streams: bool,
    /// Issue time, Unix seconds.
    pub issued_at: i64,
    /// Expiry, Unix seconds.
    pub expires_at: Option<i64>,
    chain_lens: &'a [u8],
    chain_text: &'a str,
    issuer_keys: &'a str,
}

impl<'a> ClaimsView<'a> {
    /// Parses and checks encoded claims without copying.
    #[inline]
    pub fn parse(bytes: &'a [u8]) -> Result<Self, TokenError> {
        parse(bytes).ok_or(TokenError::Malformed)
    }

    /// The issuing chain's ids, root-most first.
    pub fn chain(&self) -> ChainIter<'a> {
        ChainIter {
            lens: self.chain_lens,
            text: self.chain_text,
        }
    }

    /// The keys that sealed the issuing chain, other than this token's own key, as `(id,
    /// fingerprint)` (see [`TokenClaims::issuer_keys`]).
    pub fn issuer_keys(
        &self,
    ) -> impl Iterator<Item = (&'a str, [u8; ISSUER_KEY_FINGERPRINT_LEN])> + use<'a> {
        self.issuer_keys.split(',').filter_map(issuer_key_entry)
    }

    /// True if the token was issued across a key rotation (see [`ClaimsView::issuer_keys`]).
    pub fn has_issuer_keys(&self) -> bool {
        !self.issuer_keys.is_empty()
    }

    /// An owned copy.
    pub fn to_owned_claims(&self) -> TokenClaims {
        TokenClaims {
            id: self.id.to_owned(),
            scope: AccessTokenScope {
                basins: self.basins.to_owned_set(),
                streams: self.streams.to_owned_set(),
                access_tokens: self.access_tokens.to_owned_set(),
                op_groups: self.op_groups,
                ops: self.ops,
            },
            auto_prefix_streams: self.auto_prefix_streams,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            chain: self.chain().map(str::to_owned).collect(),
            issuer_keys: self
                .issuer_keys()
                .map(|(id, fingerprint)| IssuerKey {
                    id: id.to_owned(),
                    fingerprint,
                })
                .collect(),
        }
    }
}

/// The ids of an issuing chain (already validated when the claims were parsed).
#[derive(Debug, Clone)]
pub struct ChainIter<'a> {
    lens: &'a [u8],
    text: &'a str,
}

impl<'a> Iterator for ChainIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let (&len, lens) = self.lens.split_first()?;
        let (id, text) = self.text.split_at_checked(usize::from(len))?;
        self.lens = lens;
        self.text = text;
        Some(id)
    }
}

/// A resource set as its header gives it: the tag and the length of its name in the text.
#[derive(Clone, Copy)]
struct SetHeader {
    tag: u8,
    len: usize,
}

/// The `N` bytes at `at` in the header (offsets are constants, so no bounds check survives).
#[inline]
fn field<const N: usize>(head: &[u8; HEADER_LEN], at: usize) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&head[at..at + N]);
    out
}

#[inline]
fn timestamp(head: &[u8; HEADER_LEN], at: usize) -> Option<i64> {
    let t = i64::from_be_bytes(field(head, at));
    (MIN_UNIX..=MAX_UNIX).contains(&t).then_some(t)
}

#[inline]
fn set_header(head: &[u8; HEADER_LEN], at: usize, max: usize) -> Option<SetHeader> {
    let tag = head[at];
    let len = usize::from(u16::from_be_bytes(field(head, at + 1)));
    let canonical = match tag {
        TAG_NONE => len == 0,
        TAG_EXACT => (1..=max).contains(&len),
        TAG_PREFIX => len <= max,
        _ => false,
    };
    canonical.then_some(SetHeader { tag, len })
}

/// Splits the text region into its fields, each on a character boundary.
struct TextReader<'a> {
    rest: &'a str,
}

impl<'a> TextReader<'a> {
    #[inline]
    fn take(&mut self, len: usize) -> Option<&'a str> {
        let (head, rest) = self.rest.split_at_checked(len)?;
        self.rest = rest;
        Some(head)
    }

    /// An id whose characters were checked with the others (see `parse`).
    #[inline]
    fn token_id(&mut self, len: usize) -> Option<&'a str> {
        self.take(len).filter(|id| has_token_id_shape(id))
    }

    #[inline]
    fn resource_set(&mut self, header: SetHeader) -> Option<ResourceSetView<'a>> {
        let name = self.take(header.len)?;
        Some(match header.tag {
            TAG_EXACT => ResourceSetView::Exact(name),
            TAG_PREFIX => ResourceSetView::Prefix(name),
            _ => ResourceSetView::None,
        })
    }
}

#[inline(always)]
fn parse(bytes: &[u8]) -> Option<ClaimsView<'_>> {
    if bytes.len() > MAX_CLAIMS_LEN {
        return None;
    }
    let (rest, head) = bytes.split_last_chunk::<HEADER_LEN>()?;
    let flags = head[0];
    if flags & !(FLAG_AUTO_PREFIX | FLAG_EXPIRES | FLAG_ISSUER_KEYS) != 0 {
        return None;
    }
    let ops = OpSet::from_bits(u32::from_be_bytes(field(head, 1)))?;
    let op_groups = OpGroups::from_bits(head[5])?;
    let effective_ops = ops.union(OpGroups::operations_of_bits(head[5]));
    if effective_ops.is_empty() {
        return None;
    }
    let issued_at = timestamp(head, 6)?;
    let expires_at = if flags & FLAG_EXPIRES != 0 {
        Some(timestamp(head, 14)?)
    } else if field::<8>(head, 14) == [0; 8] {
        None
    } else {
        return None;
    };
    let id_len = usize::from(head[22]);
    let depth = usize::from(head[23]);
    if depth > MAX_CHAIN_DEPTH {
        return None;
    }
    let basins = set_header(head, BASINS_AT, MAX_RESOURCE_NAME_LEN)?;
    let streams = set_header(head, STREAMS_AT, MAX_RESOURCE_NAME_LEN)?;
    let access_tokens = set_header(head, ACCESS_TOKENS_AT, MAX_TOKEN_ID_LEN)?;
    let (rest, chain_lens) = rest.split_at_checked(rest.len().checked_sub(depth)?)?;
    let (text, issuer_keys) = if flags & FLAG_ISSUER_KEYS != 0 {
        let (&len, rest) = rest.split_last()?;
        let (text, keys) = rest.split_at_checked(rest.len().checked_sub(usize::from(len))?)?;
        // ASCII only, so the split cannot have cut a character of the text before it.
        let keys = std::str::from_utf8(keys).ok()?;
        if !is_issuer_keys_text(keys) || keys.split(',').count() > depth {
            return None;
        }
        (text, keys)
    } else {
        (rest, "")
    };

    // One UTF-8 check for all the text, then one scan of the ids (no control characters) and one
    // of the names (no NUL), rather than one of each per field.
    let text = std::str::from_utf8(text).ok()?;
    let ids_len = id_len
        + chain_lens
            .iter()
            .map(|&len| usize::from(len))
            .sum::<usize>();
    let (ids, names) = text.split_at_checked(ids_len)?;
    if has_control_character(ids) || has_nul(names) {
        return None;
    }
    let mut ids = TextReader { rest: ids };
    let id = ids.token_id(id_len)?;
    let chain_text = ids.rest;
    for &len in chain_lens {
        ids.token_id(usize::from(len))?;
    }
    let mut names = TextReader { rest: names };
    let basins = names.resource_set(basins)?;
    let streams = names.resource_set(streams)?;
    let access_tokens = names.resource_set(access_tokens)?;
    if !names.rest.is_empty() {
        return None;
    }
    let auto_prefix_streams = flags & FLAG_AUTO_PREFIX != 0;
    if auto_prefix_streams && streams.prefix().is_none() {
        return None;
    }
    Some(ClaimsView {
        id,
        ops,
        op_groups,
        effective_ops,
        basins,
        streams,
        access_tokens,
        auto_prefix_streams,
        issued_at,
        expires_at,
        chain_lens,
        chain_text,
        issuer_keys,
    })
}

/// The issuer keys as the claims hold them: `id:fingerprint`, joined by `,`.
fn issuer_keys_text(keys: &[IssuerKey]) -> String {
    let mut text = String::new();
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&key.id);
        text.push(':');
        let mut chars = [0u8; FINGERPRINT_CHARS];
        if let Ok(encoded) = Base64UrlUnpadded::encode(&key.fingerprint, &mut chars) {
            text.push_str(encoded);
        }
    }
    text
}

/// One `id:fingerprint` entry: a key id, then exactly the 8 characters of a 6-byte fingerprint.
fn issuer_key_entry(entry: &str) -> Option<(&str, [u8; ISSUER_KEY_FINGERPRINT_LEN])> {
    let (id, encoded) = entry.split_once(':')?;
    let mut fingerprint = [0u8; ISSUER_KEY_FINGERPRINT_LEN];
    let decoded = Base64UrlUnpadded::decode(encoded, &mut fingerprint).ok()?;
    (is_key_id(id) && encoded.len() == FINGERPRINT_CHARS && decoded.len() == fingerprint.len())
        .then_some((id, fingerprint))
}

/// Issuer key entries joined by `,`, each id greater than the one before it.
fn is_issuer_keys_text(text: &str) -> bool {
    let mut previous: Option<&str> = None;
    text.split(',').all(|entry| {
        let Some((id, _)) = issuer_key_entry(entry) else {
            return false;
        };
        let in_order = previous.is_none_or(|before| before < id);
        previous = Some(id);
        in_order
    })
}
