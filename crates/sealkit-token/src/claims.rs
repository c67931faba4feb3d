//! What a token seals: its id, scope, times and issuing chain, in a compact canonical binary form.
//!
//! Layout (v1; integers big-endian; see `docs/formats.md`):
//!
//! ```text
//! flags        u8   bit 0 auto_prefix_streams, bit 1 has expiry; other bits zero
//! ops          u32  bit i = Operation::ALL[i]; bits 21.. zero
//! op_groups    u8   bits: account r/w, basin r/w, stream r/w; bits 6.. zero
//! issued_at    i64  Unix seconds
//! expires_at   i64  Unix seconds, present only with the expiry flag
//! id           u8 length (1..=96) ‖ UTF-8
//! basins       resource set
//! streams      resource set
//! access_tokens resource set
//! chain        u8 count (0..=MAX_CHAIN_DEPTH) ‖ count × (u8 length ‖ UTF-8 id), root-most first
//!
//! resource set = u8 tag: 0 none | 1 exact ‖ u16 length (≥ 1) ‖ UTF-8 | 2 prefix ‖ u16 length ‖ UTF-8
//! ```
//!
//! The decoder is total: any input either decodes to claims that re-encode to exactly the same
//! bytes, or is refused with [`TokenError::Malformed`].

use crate::error::TokenError;
use crate::scope::{
    AccessTokenScope, MAX_RESOURCE_NAME_LEN, MAX_TOKEN_ID_LEN, OpGroups, OpSet, ResourceSet,
    ResourceSetView, has_nul, validate_token_id,
};

/// Deepest issuing chain a token may carry: a token issued from a token issued from … at most
/// this many tokens above it.
pub const MAX_CHAIN_DEPTH: usize = 8;

/// Largest encoded claims, in bytes (every field at its bound).
pub const MAX_CLAIMS_LEN: usize = FIXED_LEN
    + (1 + MAX_TOKEN_ID_LEN)
    + 2 * (3 + MAX_RESOURCE_NAME_LEN)
    + (3 + MAX_TOKEN_ID_LEN)
    + 1
    + MAX_CHAIN_DEPTH * (1 + MAX_TOKEN_ID_LEN);

const FIXED_LEN: usize = 1 + 4 + 1 + 8 + 8;

const FLAG_AUTO_PREFIX: u8 = 0b01;
const FLAG_EXPIRES: u8 = 0b10;

const TAG_NONE: u8 = 0;
const TAG_EXACT: u8 = 1;
const TAG_PREFIX: u8 = 2;

/// Earliest and latest instants a token may carry: years 1 to 9999, so every time converts to an
/// RFC 3339 timestamp.
const MIN_UNIX: i64 = -62_135_596_800;
const MAX_UNIX: i64 = 253_402_300_799;

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
        let mut out = Vec::with_capacity(128);
        let mut flags = 0;
        if self.auto_prefix_streams {
            flags |= FLAG_AUTO_PREFIX;
        }
        if self.expires_at.is_some() {
            flags |= FLAG_EXPIRES;
        }
        out.push(flags);
        out.extend_from_slice(&self.scope.ops.bits().to_be_bytes());
        out.push(self.scope.op_groups.bits());
        out.extend_from_slice(&self.issued_at.to_be_bytes());
        if let Some(expires_at) = self.expires_at {
            out.extend_from_slice(&expires_at.to_be_bytes());
        }
        push_short(&mut out, &self.id);
        for set in [
            &self.scope.basins,
            &self.scope.streams,
            &self.scope.access_tokens,
        ] {
            match set.as_view() {
                ResourceSetView::None | ResourceSetView::Exact("") => out.push(TAG_NONE),
                ResourceSetView::Exact(name) => {
                    out.push(TAG_EXACT);
                    push_long(&mut out, name);
                }
                ResourceSetView::Prefix(prefix) => {
                    out.push(TAG_PREFIX);
                    push_long(&mut out, prefix);
                }
            }
        }
        out.push(self.chain.len() as u8);
        for ancestor in &self.chain {
            validate_token_id(ancestor)?;
            push_short(&mut out, ancestor);
        }
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
    chain: &'a [u8],
}

impl<'a> ClaimsView<'a> {
    /// Parses and checks encoded claims without copying.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, TokenError> {
        parse(bytes).ok_or(TokenError::Malformed)
    }

    /// The issuing chain's ids, root-most first.
    pub fn chain(&self) -> ChainIter<'a> {
        ChainIter { rest: self.chain }
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
        }
    }
}

/// The ids of an issuing chain (already validated when the claims were parsed).
#[derive(Debug, Clone)]
pub struct ChainIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for ChainIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let (&len, rest) = self.rest.split_first()?;
        let (id, rest) = rest.split_at_checked(usize::from(len))?;
        self.rest = rest;
        std::str::from_utf8(id).ok()
    }
}

fn push_short(out: &mut Vec<u8>, s: &str) {
    out.push(s.len() as u8);
    out.extend_from_slice(s.as_bytes());
}

fn push_long(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.rest.split_at_checked(n)?;
        self.rest = rest;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }

    fn timestamp(&mut self) -> Option<i64> {
        let t = i64::from_be_bytes(self.array()?);
        (MIN_UNIX..=MAX_UNIX).contains(&t).then_some(t)
    }

    fn short_id(&mut self) -> Option<&'a str> {
        let len = usize::from(self.u8()?);
        let id = std::str::from_utf8(self.take(len)?).ok()?;
        validate_token_id(id).ok()?;
        Some(id)
    }

    fn resource_set(&mut self, max: usize) -> Option<ResourceSetView<'a>> {
        let tag = self.u8()?;
        if tag == TAG_NONE {
            return Some(ResourceSetView::None);
        }
        let len = usize::from(u16::from_be_bytes(self.array()?));
        if len > max {
            return None;
        }
        let name = std::str::from_utf8(self.take(len)?).ok()?;
        if has_nul(name) {
            return None;
        }
        match tag {
            TAG_EXACT if !name.is_empty() => Some(ResourceSetView::Exact(name)),
            TAG_PREFIX => Some(ResourceSetView::Prefix(name)),
            _ => None,
        }
    }
}

fn parse(bytes: &[u8]) -> Option<ClaimsView<'_>> {
    if bytes.len() > MAX_CLAIMS_LEN {
        return None;
    }
    let mut r = Reader { rest: bytes };
    let flags = r.u8()?;
    if flags & !(FLAG_AUTO_PREFIX | FLAG_EXPIRES) != 0 {
        return None;
    }
    let ops = OpSet::from_bits(u32::from_be_bytes(r.array()?))?;
    let op_groups = OpGroups::from_bits(r.u8()?)?;
    let effective_ops = ops.union(op_groups.operations());
    if effective_ops.is_empty() {
        return None;
    }
    let issued_at = r.timestamp()?;
    let expires_at = if flags & FLAG_EXPIRES != 0 {
        Some(r.timestamp()?)
    } else {
        None
    };
    let id = r.short_id()?;
    let basins = r.resource_set(MAX_RESOURCE_NAME_LEN)?;
    let streams = r.resource_set(MAX_RESOURCE_NAME_LEN)?;
    let access_tokens = r.resource_set(MAX_TOKEN_ID_LEN)?;
    let auto_prefix_streams = flags & FLAG_AUTO_PREFIX != 0;
    if auto_prefix_streams && streams.prefix().is_none() {
        return None;
    }
    let depth = usize::from(r.u8()?);
    if depth > MAX_CHAIN_DEPTH {
        return None;
    }
    let chain = r.rest;
    for _ in 0..depth {
        r.short_id()?;
    }
    if !r.rest.is_empty() {
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
        chain,
    })
}
