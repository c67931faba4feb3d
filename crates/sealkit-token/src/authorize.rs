//! The authority: issues tokens, verifies them, decides whether a request is allowed, revokes and
//! lists them.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::claims::{ClaimsView, IssuerKey, MAX_CHAIN_DEPTH, TokenClaims};
use crate::clock::{Clock, DEFAULT_CLOCK_SKEW_SECS, SystemClock};
use crate::error::{DenialReason, TokenError};
use crate::request::IssueRequest;
use crate::revocation::{InMemoryRevocationSet, RevocationSet};
use crate::scope::{
    AccessTokenScope, OpSet, Operation, ResourceSet, ResourceSetView, Target, validate_token_id,
};
use crate::store::{IssuedTokenStore, TokenInfo, unix_to_datetime};
use crate::token::{AccessToken, OpenBuf, Opened, TokenKeyring};

/// Who is issuing, revoking or listing.
#[derive(Clone, Copy)]
pub enum Issuer<'a> {
    /// The server itself (the reference's dashboard): may issue any token, with no expiry bound.
    Root,
    /// The holder of this token string, bounded by that token's scope and expiry.
    Token(&'a str),
}

/// The token string is a bearer credential: `Debug` (and so `tracing`'s argument capture) never
/// prints it.
impl fmt::Debug for Issuer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => f.write_str("Root"),
            Self::Token(_) => f.write_str("Token([REDACTED])"),
        }
    }
}

/// One request to authorize: the operations it performs and the resources it names.
///
/// An append batch that carries a trim or fence command record performs `trim` / `fence` as well
/// as `append`: list them all with [`OpRequest::also`], and every one must be granted.
#[derive(Debug, Clone, Copy)]
pub struct OpRequest<'r> {
    ops: OpSet,
    basin: Option<&'r str>,
    stream: Option<&'r str>,
    access_token: Option<&'r str>,
}

impl<'r> OpRequest<'r> {
    /// A request performing `op`.
    pub fn new(op: Operation) -> Self {
        Self {
            ops: OpSet::empty().with(op),
            basin: None,
            stream: None,
            access_token: None,
        }
    }

    /// The request also performs `op`.
    #[must_use]
    pub fn also(mut self, op: Operation) -> Self {
        self.ops.insert(op);
        self
    }

    /// The basin it touches.
    #[must_use]
    pub fn basin(mut self, basin: &'r str) -> Self {
        self.basin = Some(basin);
        self
    }

    /// The stream it touches, as the caller named it (before any auto-prefixing).
    #[must_use]
    pub fn stream(mut self, stream: &'r str) -> Self {
        self.stream = Some(stream);
        self
    }

    /// The access token id it touches (issuing or revoking).
    #[must_use]
    pub fn access_token(mut self, id: &'r str) -> Self {
        self.access_token = Some(id);
        self
    }

    /// The operations it performs.
    pub fn ops(&self) -> OpSet {
        self.ops
    }
}

/// A request that was allowed.
///
/// Act on [`Authorization::effective_stream`], not on the stream name the request gave: with an
/// auto-prefixing token the name that was checked is the prefixed one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "act on effective_stream(), not the requested name: an auto-prefixing token was checked against the prefixed name"]
pub struct Authorization<'r> {
    effective_stream: Option<Cow<'r, str>>,
}

impl<'r> Authorization<'r> {
    /// The stream the server must act on: the requested name with the token's prefix in front
    /// when it auto-prefixes, else the requested name; `None` if the request named no stream.
    pub fn effective_stream(&self) -> Option<&str> {
        self.effective_stream.as_deref()
    }

    /// The effective stream name, owned or borrowed from the request.
    pub fn into_effective_stream(self) -> Option<Cow<'r, str>> {
        self.effective_stream
    }
}

/// What the scope checks need, borrowed either from freshly opened claims or from a
/// [`VerifiedToken`].
#[derive(Clone, Copy)]
struct ScopeView<'a> {
    ops: OpSet,
    basins: ResourceSetView<'a>,
    streams: ResourceSetView<'a>,
    access_tokens: ResourceSetView<'a>,
    /// The token's stream prefix when it auto-prefixes; `streams` is then that prefix.
    auto_prefix: Option<&'a str>,
}

impl<'a> ScopeView<'a> {
    fn of_claims(claims: &ClaimsView<'a>) -> Self {
        Self {
            ops: claims.effective_ops,
            basins: claims.basins,
            streams: claims.streams,
            access_tokens: claims.access_tokens,
            auto_prefix: if claims.auto_prefix_streams {
                claims.streams.prefix()
            } else {
                None
            },
        }
    }

    /// Checks `request`; `prefixed(prefix, stream)` builds the auto-prefixed stream name.
    fn check<'r>(
        &self,
        request: &OpRequest<'r>,
        prefixed: impl FnOnce(&str, &'r str) -> Cow<'r, str>,
    ) -> Result<Authorization<'r>, TokenError> {
        if !request.ops.is_subset_of(self.ops) {
            return Err(TokenError::denied(DenialReason::Operation));
        }
        let needs = |target: Target| request.ops.targets(target);
        let needs_stream = needs(Target::Stream);
        // An empty name addresses nothing in S2 (names are at least one byte), and an empty
        // stream name under auto-prefixing would address the bare prefix itself.
        match request.basin {
            Some("") => return Err(TokenError::invalid("the basin name is empty")),
            Some(basin) if !self.basins.matches(basin) => {
                return Err(TokenError::denied(DenialReason::Basin));
            }
            None if needs_stream || needs(Target::Basin) => {
                return Err(missing("a basin", request.ops));
            }
            _ => {}
        }
        // A name that gets the auto-prefix is within the stream scope by construction (the scope
        // is that very prefix), so it is only built once the request has passed every check.
        let stream_prefix = self.auto_prefix.filter(|prefix| !prefix.is_empty());
        match request.stream {
            Some("") => return Err(TokenError::invalid("the stream name is empty")),
            Some(stream) if stream_prefix.is_none() && !self.streams.matches(stream) => {
                return Err(TokenError::denied(DenialReason::Stream));
            }
            None if needs_stream => return Err(missing("a stream", request.ops)),
            _ => {}
        }
        match request.access_token {
            Some("") => return Err(TokenError::invalid("the access token id is empty")),
            Some(id) if !self.access_tokens.matches(id) => {
                return Err(TokenError::denied(DenialReason::AccessToken));
            }
            None if needs(Target::AccessToken) => {
                return Err(missing("an access token id", request.ops));
            }
            _ => {}
        }
        let effective_stream = request.stream.map(|stream| match stream_prefix {
            Some(prefix) => prefixed(prefix, stream),
            None => Cow::Borrowed(stream),
        });
        Ok(Authorization { effective_stream })
    }
}

/// An auto-prefixed stream name in a new string.
fn prefixed_owned<'r>(prefix: &str, stream: &'r str) -> Cow<'r, str> {
    let mut name = String::with_capacity(prefix.len() + stream.len());
    name.push_str(prefix);
    name.push_str(stream);
    Cow::Owned(name)
}

/// An auto-prefixed stream name written into `buffer`, whose allocation is reused.
fn prefixed_into<'r>(buffer: &'r mut String) -> impl FnOnce(&str, &'r str) -> Cow<'r, str> {
    move |prefix, stream| {
        buffer.clear();
        buffer.push_str(prefix);
        buffer.push_str(stream);
        Cow::Borrowed(buffer.as_str())
    }
}

fn missing(what: &str, ops: OpSet) -> TokenError {
    let names: Vec<&str> = ops.iter().map(Operation::as_str).collect();
    TokenError::invalid(format!("{} needs {what} name", names.join(", ")))
}

/// A token that opened, is in its validity period and is not revoked. Holds the claims, never the
/// token string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    claims: TokenClaims,
    /// The key that sealed it.
    key: IssuerKey,
    /// The earliest retirement of the key that sealed it and of its issuer keys.
    keys_retire_at: Option<i64>,
}

impl VerifiedToken {
    /// When the token stops verifying (before the clock-skew allowance): its expiry, or the
    /// retirement of the key that sealed it or of a key that sealed a token in its issuing chain,
    /// whichever comes first; `None` = never (revocation aside). Tokens it issues expire no later
    /// than this.
    pub fn valid_until(&self) -> Option<time::OffsetDateTime> {
        self.valid_until_unix().map(unix_to_datetime)
    }

    /// The id of the server key that sealed the token.
    pub fn key_id(&self) -> &str {
        &self.key.id
    }

    fn valid_until_unix(&self) -> Option<i64> {
        match (self.claims.expires_at, self.keys_retire_at) {
            (Some(expires_at), Some(retire_at)) => Some(expires_at.min(retire_at)),
            (expires_at, retire_at) => expires_at.or(retire_at),
        }
    }

    /// The token's id.
    pub fn id(&self) -> &str {
        &self.claims.id
    }

    /// The token's scope (stream names absolute).
    pub fn scope(&self) -> &AccessTokenScope {
        &self.claims.scope
    }

    /// The token's claims.
    pub fn claims(&self) -> &TokenClaims {
        &self.claims
    }

    /// The token's metadata.
    pub fn info(&self) -> TokenInfo {
        TokenInfo::from_claims(&self.claims)
    }

    /// The prefix stream names are namespaced under, if the token auto-prefixes.
    pub fn stream_namespace(&self) -> Option<&str> {
        match (&self.claims.scope.streams, self.claims.auto_prefix_streams) {
            (ResourceSet::Prefix(prefix), true) => Some(prefix),
            _ => None,
        }
    }

    fn scope_view(&self) -> ScopeView<'_> {
        let scope = &self.claims.scope;
        ScopeView {
            ops: scope.effective_ops(),
            basins: scope.basins.as_view(),
            streams: scope.streams.as_view(),
            access_tokens: scope.access_tokens.as_view(),
            auto_prefix: self.stream_namespace(),
        }
    }

    /// Checks a request against the scope alone (the token was verified when this value was
    /// made; verify again per request so expiry and revocation are seen).
    pub fn authorize<'r>(&self, request: &OpRequest<'r>) -> Result<Authorization<'r>, TokenError> {
        self.scope_view().check(request, prefixed_owned)
    }

    /// The stream listing prefix to use for a caller's `prefix`: auto-prefixed when the token
    /// namespaces its streams.
    pub fn stream_list_prefix<'p>(&self, requested: &'p str) -> Cow<'p, str> {
        match self.stream_namespace() {
            Some(ns) if !ns.is_empty() => Cow::Owned(format!("{ns}{requested}")),
            _ => Cow::Borrowed(requested),
        }
    }

    /// How a listed stream appears to this token: `None` if outside its scope, else the name with
    /// the auto-prefix stripped. A stream named exactly the prefix is not shown: its name relative
    /// to the namespace would be empty, which no request can name.
    pub fn visible_stream<'n>(&self, absolute: &'n str) -> Option<&'n str> {
        if !self.claims.scope.streams.matches(absolute) {
            return None;
        }
        match self.stream_namespace() {
            Some(ns) => absolute.strip_prefix(ns).filter(|name| !name.is_empty()),
            None => Some(absolute),
        }
    }

    /// Filters a stream listing to this token's scope, stripping the auto-prefix.
    pub fn filter_streams<'n, I>(&self, absolute: I) -> Vec<&'n str>
    where
        I: IntoIterator<Item = &'n str>,
    {
        absolute
            .into_iter()
            .filter_map(|name| self.visible_stream(name))
            .collect()
    }

    /// Filters a basin listing to this token's scope.
    pub fn filter_basins<'n, I>(&self, basins: I) -> Vec<&'n str>
    where
        I: IntoIterator<Item = &'n str>,
    {
        basins
            .into_iter()
            .filter(|b| self.claims.scope.basins.matches(b))
            .collect()
    }

    /// Filters an access token listing to this token's scope.
    pub fn filter_access_tokens<'n, I>(&self, ids: I) -> Vec<&'n str>
    where
        I: IntoIterator<Item = &'n str>,
    {
        ids.into_iter()
            .filter(|id| self.claims.scope.access_tokens.matches(id))
            .collect()
    }
}

/// A newly issued token and its metadata.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The token string, for its holder only.
    pub token: AccessToken,
    /// What was issued (safe to log and list).
    pub info: TokenInfo,
}

/// Where the authority reads the time: the system clock is called directly, since verification
/// reads it on every request; an injected clock goes through its trait object.
enum ClockSource {
    System,
    Injected(Arc<dyn Clock>),
}

impl ClockSource {
    fn now(&self) -> i64 {
        match self {
            Self::System => SystemClock.now_unix(),
            Self::Injected(clock) => clock.now_unix(),
        }
    }
}

/// Issues, verifies, authorizes, revokes and lists tokens under one keyring.
pub struct TokenAuthority {
    keyring: TokenKeyring,
    clock: ClockSource,
    revocations: Arc<dyn RevocationSet>,
    store: Option<Arc<dyn IssuedTokenStore>>,
    skew_secs: i64,
}

impl std::fmt::Debug for TokenAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAuthority")
            .field("keyring", &self.keyring)
            .field("skew_secs", &self.skew_secs)
            .field("has_store", &self.store.is_some())
            .finish_non_exhaustive()
    }
}

impl TokenAuthority {
    /// An authority with the system clock, an empty in-memory revocation set, no token store
    /// (ids are then not checked for uniqueness) and the default clock-skew allowance.
    pub fn new(keyring: TokenKeyring) -> Self {
        Self {
            keyring,
            clock: ClockSource::System,
            revocations: Arc::new(InMemoryRevocationSet::new()),
            store: None,
            skew_secs: DEFAULT_CLOCK_SKEW_SECS,
        }
    }

    /// Uses another clock (tests inject a [`crate::FixedClock`]).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = ClockSource::Injected(clock);
        self
    }

    /// Uses another revocation set.
    #[must_use]
    pub fn with_revocations(mut self, revocations: Arc<dyn RevocationSet>) -> Self {
        self.revocations = revocations;
        self
    }

    /// Records issued tokens in `store`: ids become unique, revoking an unknown id is a 404, and
    /// listing works.
    #[must_use]
    pub fn with_store(mut self, store: Arc<dyn IssuedTokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Sets the clock-skew allowance in seconds (default [`DEFAULT_CLOCK_SKEW_SECS`]).
    #[must_use]
    pub fn with_clock_skew(mut self, secs: u32) -> Self {
        self.skew_secs = i64::from(secs);
        self
    }

    /// The keyring.
    pub fn keyring(&self) -> &TokenKeyring {
        &self.keyring
    }

    /// Opens a token and checks its times, its keys' retirement and its revocation, handing the
    /// borrowed claims, what opened it (the sealing key's id and fingerprint) and the earliest
    /// retirement of its keys to `f`.
    fn with_claims<R>(
        &self,
        token: &str,
        f: impl FnOnce(&ClaimsView<'_>, &Opened<'_, '_>, Option<i64>) -> Result<R, TokenError>,
    ) -> Result<R, TokenError> {
        let mut buf = OpenBuf::new();
        self.check_claims(self.keyring.open(token, &mut buf)?, f)
    }

    fn check_claims<R>(
        &self,
        opened: Opened<'_, '_>,
        f: impl FnOnce(&ClaimsView<'_>, &Opened<'_, '_>, Option<i64>) -> Result<R, TokenError>,
    ) -> Result<R, TokenError> {
        let claims = ClaimsView::parse(opened.claims)?;
        let now = self.clock.now();
        if claims.issued_at > now.saturating_add(self.skew_secs) {
            return Err(TokenError::NotYetValid);
        }
        if let Some(expires_at) = claims.expires_at
            && now >= expires_at.saturating_add(self.skew_secs)
        {
            return Err(TokenError::Expired);
        }
        let retired = |retire_at: i64| now >= retire_at.saturating_add(self.skew_secs);
        if opened.key_retire_at.is_some_and(retired) {
            return Err(TokenError::KeyRetired);
        }
        // A token issued across a key rotation is trusted no longer than the keys that sealed its
        // issuers: removing or retiring a key ends every token under it and everything they
        // issued, whatever key sealed those.
        let mut keys_retire_at = opened.key_retire_at;
        if claims.has_issuer_keys() {
            for (id, fingerprint) in claims.issuer_keys() {
                match self.keyring.retirement_of(id, &fingerprint) {
                    None => return Err(TokenError::KeyRetired),
                    Some(Some(retire_at)) if retired(retire_at) => {
                        return Err(TokenError::KeyRetired);
                    }
                    Some(Some(retire_at)) => {
                        keys_retire_at =
                            Some(keys_retire_at.map_or(retire_at, |t| t.min(retire_at)));
                    }
                    Some(None) => {}
                }
            }
        }
        // The id and the chain above it, asked in one call.
        let mut lineage = [""; 1 + MAX_CHAIN_DEPTH];
        lineage[0] = claims.id;
        let mut depth = 1;
        for (slot, ancestor) in lineage[1..].iter_mut().zip(claims.chain()) {
            *slot = ancestor;
            depth += 1;
        }
        if self.revocations.any_revoked(&lineage[..depth]) {
            return Err(TokenError::Revoked);
        }
        f(&claims, &opened, keys_retire_at)
    }

    /// Verifies a token: it opens under a known key, is within its validity period (with the
    /// clock-skew allowance) and neither it nor any token in its issuing chain is revoked.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        self.with_claims(token, |claims, opened, keys_retire_at| {
            Ok(VerifiedToken {
                claims: claims.to_owned_claims(),
                key: IssuerKey {
                    id: opened.key_id.to_owned(),
                    fingerprint: opened.key_fingerprint,
                },
                keys_retire_at,
            })
        })
    }

    /// Verifies a token and checks one request against its scope: the hot path of a server. It
    /// allocates only the auto-prefixed stream name; [`TokenAuthority::authorize_into`] reuses a
    /// buffer for that instead.
    pub fn authorize<'r>(
        &self,
        token: &str,
        request: &OpRequest<'r>,
    ) -> Result<Authorization<'r>, TokenError> {
        self.with_claims(token, |claims, _, _| {
            ScopeView::of_claims(claims).check(request, prefixed_owned)
        })
    }

    /// [`TokenAuthority::authorize`] without allocating: when the request is allowed, an
    /// auto-prefixed stream name is written into `stream_buffer` (cleared first) and borrowed from
    /// it, so a server that keeps one buffer per worker verifies and authorizes with no allocation
    /// at all. A refused request leaves the buffer as it was.
    ///
    /// ```
    /// # use sealkit_token::*;
    /// # let authority = TokenAuthority::new(TokenKeyring::new("k1", &ServerKey::generate()).unwrap());
    /// # let request = IssueRequest::from_json(br#"{"id": "agent", "auto_prefix_streams": true,
    /// #     "scope": {"basins": {"exact": "b"}, "streams": {"prefix": "agent/"}, "ops": ["append"]}}"#).unwrap();
    /// # let token = authority.issue(Issuer::Root, &request).unwrap().token;
    /// let mut stream_buffer = String::new();
    /// let allowed = authority.authorize_into(
    ///     token.expose_secret(),
    ///     &OpRequest::new(Operation::Append).basin("b").stream("log"),
    ///     &mut stream_buffer,
    /// )?;
    /// assert_eq!(allowed.effective_stream(), Some("agent/log"));
    /// # Ok::<(), TokenError>(())
    /// ```
    pub fn authorize_into<'r>(
        &self,
        token: &str,
        request: &OpRequest<'r>,
        stream_buffer: &'r mut String,
    ) -> Result<Authorization<'r>, TokenError> {
        self.with_claims(token, |claims, _, _| {
            ScopeView::of_claims(claims).check(request, prefixed_into(stream_buffer))
        })
    }

    /// Issues a token. A token issuer needs `issue-access-token` and the new id within its
    /// access-token scope, and the new token may not be broader than it in operations, any
    /// resource set, expiry or auto-prefixing (403 otherwise). A missing expiry inherits the
    /// issuer's, or the retirement of the key that sealed the issuer or of one of its issuer keys
    /// if that comes first ([`VerifiedToken::valid_until`]); an issuer past that end, though still
    /// accepted within
    /// the clock-skew allowance, issues nothing (401). When the issuer auto-prefixes, the
    /// request's stream scope is relative to the issuer's namespace and the new token must
    /// auto-prefix too.
    ///
    /// # Panics
    /// Only if the operating system cannot provide random bytes.
    pub fn issue(
        &self,
        issuer: Issuer<'_>,
        request: &IssueRequest,
    ) -> Result<IssuedToken, TokenError> {
        let parent = match issuer {
            Issuer::Root => None,
            Issuer::Token(token) => Some(self.verify(token)?),
        };
        // As in S2, where the request is checked as it is parsed: a malformed request, or one
        // asking for an expiry already past, is 422 before the issuer's permissions are looked
        // at, whoever sends it.
        request.validate()?;
        let now = self.clock.now();
        let requested_expiry = request.expires_at.map(|t| t.unix_timestamp());
        if requested_expiry.is_some_and(|t| t <= now) {
            return Err(TokenError::invalid("expires_at must be in the future"));
        }
        // A child never outlives its issuer: not its expiry, nor the retirement of its key.
        let parent_valid_until = parent.as_ref().and_then(VerifiedToken::valid_until_unix);
        let (parent, parent_key) = match parent {
            Some(verified) => (Some(verified.claims), Some(verified.key)),
            None => (None, None),
        };
        if let Some(parent) = &parent {
            if !parent
                .scope
                .effective_ops()
                .contains(Operation::IssueAccessToken)
            {
                return Err(TokenError::denied(DenialReason::Operation));
            }
            if !parent.scope.access_tokens.matches(&request.id) {
                return Err(TokenError::denied(DenialReason::AccessToken));
            }
        }
        // Within the clock-skew allowance an issuer past its end still verifies, but has no time
        // left to hand on: its child would be born expired.
        if let Some(parent) = &parent
            && parent_valid_until.is_some_and(|end| end <= now)
        {
            return Err(if parent.expires_at.is_some_and(|end| end <= now) {
                TokenError::Expired
            } else {
                TokenError::KeyRetired
            });
        }
        let mut scope = request.scope.clone();
        let (expires_at, chain, issuer_keys) = match &parent {
            None => (requested_expiry, Vec::new(), Vec::new()),
            Some(parent) => {
                if parent.chain.len() >= MAX_CHAIN_DEPTH {
                    return Err(TokenError::invalid(format!(
                        "access tokens may be issued at most {MAX_CHAIN_DEPTH} levels deep"
                    )));
                }
                // A child reaching no stream at all needs no namespace (and cannot auto-prefix,
                // which needs a prefix stream scope); any other child keeps its issuer's.
                if parent.auto_prefix_streams && scope.streams.as_view() != ResourceSetView::None {
                    if !request.auto_prefix_streams {
                        return Err(TokenError::denied(DenialReason::DropsAutoPrefix));
                    }
                    if let ResourceSet::Prefix(ns) = &parent.scope.streams {
                        scope.streams = within_namespace(ns, &scope.streams);
                    }
                }
                let expires_at = match (requested_expiry, parent_valid_until) {
                    (None, inherited) => inherited,
                    (Some(asked), Some(limit)) if asked > limit => {
                        return Err(TokenError::denied(DenialReason::LaterExpiry));
                    }
                    (Some(asked), _) => Some(asked),
                };
                check_not_broader(&scope, &parent.scope)?;
                let mut chain = parent.chain.clone();
                chain.push(parent.id.clone());
                // The issuer's key and its own issuer keys, less the key sealing the child (that
                // one is checked through the child's own string). The issuer verified, so each id
                // here names the keyring's key under it: one entry per id is enough.
                let active = self.keyring.active_key_id();
                let mut issuer_keys: Vec<IssuerKey> = parent
                    .issuer_keys
                    .iter()
                    .cloned()
                    .chain(parent_key)
                    .filter(|key| key.id != active)
                    .collect();
                issuer_keys.sort_unstable_by(|a, b| a.id.cmp(&b.id));
                issuer_keys.dedup_by(|a, b| a.id == b.id);
                (expires_at, chain, issuer_keys)
            }
        };
        let claims = TokenClaims {
            id: request.id.clone(),
            scope,
            auto_prefix_streams: request.auto_prefix_streams,
            issued_at: now,
            expires_at,
            chain,
            issuer_keys,
        };
        let token = self.keyring.seal(&claims)?;
        let info = TokenInfo::from_claims(&claims);
        if let Some(store) = &self.store {
            store.insert(&info)?;
        }
        Ok(IssuedToken { token, info })
    }

    /// Revokes the token `id` and with it every token it issued, directly or not. A token issuer
    /// needs `revoke-access-token` and `id` within its access-token scope. An id already revoked
    /// is a 404, as in S2, and so, with a store, is an id never issued.
    pub fn revoke(&self, issuer: Issuer<'_>, id: &str) -> Result<(), TokenError> {
        // The order S2 answers in: who is asking (401), what they sent (422), whether they may
        // (403), whether it exists (404).
        let revoker = match issuer {
            Issuer::Root => None,
            Issuer::Token(token) => Some(self.verify(token)?),
        };
        validate_token_id(id)?;
        if let Some(revoker) = revoker {
            // No stream is involved, so there is no effective name to act on.
            let _allowed = revoker
                .authorize(&OpRequest::new(Operation::RevokeAccessToken).access_token(id))?;
        }
        if let Some(store) = &self.store
            && !store.contains(id)?
        {
            return Err(TokenError::NotFound);
        }
        // One call decides "already revoked", so two concurrent revocations get one 404.
        if self.revocations.revoke(id)? {
            Ok(())
        } else {
            Err(TokenError::NotFound)
        }
    }

    /// Lists the metadata of the tokens whose id starts with `prefix` and that are not revoked
    /// (expired ones included), limited to a token issuer's access-token scope. Never returns a
    /// token string. Needs a store.
    ///
    /// A token lister sees only the part of each issuing chain inside its access-token scope:
    /// the ids of tokens above that scope (an administrator's, say) are left out. An
    /// auto-prefixing lister sees stream scopes as it sees stream names, relative to its namespace
    /// and only as far as they reach into it (as it wrote them when issuing): the namespace
    /// itself stays hidden, as in every other response it gets.
    pub fn list(&self, issuer: Issuer<'_>, prefix: &str) -> Result<Vec<TokenInfo>, TokenError> {
        let lister = match issuer {
            Issuer::Root => None,
            Issuer::Token(token) => {
                // No stream is involved, so there is no effective name to act on.
                let _allowed =
                    self.authorize(token, &OpRequest::new(Operation::ListAccessTokens))?;
                Some(self.verify(token)?)
            }
        };
        let store = self
            .store
            .as_ref()
            .ok_or_else(|| TokenError::Store("no token store is configured".into()))?;
        let mut tokens = store.list(prefix)?;
        tokens.retain(|info| {
            lister
                .as_ref()
                .is_none_or(|l| l.scope().access_tokens.matches(&info.id))
                && !self.revocations.any_revoked(
                    &std::iter::once(info.id.as_str())
                        .chain(info.issuing_chain.iter().map(String::as_str))
                        .collect::<Vec<_>>(),
                )
        });
        if let Some(lister) = &lister {
            let visible = &lister.scope().access_tokens;
            let namespace = lister.stream_namespace().filter(|ns| !ns.is_empty());
            for info in &mut tokens {
                info.issuing_chain.retain(|id| visible.matches(id));
                if let Some(namespace) = namespace {
                    info.scope.streams = seen_from_namespace(namespace, &info.scope.streams);
                }
            }
        }
        Ok(tokens)
    }
}

/// An absolute stream scope as an auto-prefixing token sees it: the part inside its namespace,
/// relative to it. The inverse of [`within_namespace`] for scopes inside the namespace; a prefix
/// covering the whole namespace is all of it (`""`); anything else reaches none of it.
fn seen_from_namespace(namespace: &str, absolute: &ResourceSet) -> ResourceSet {
    match absolute {
        // A stream named exactly the namespace has an empty relative name, which no request names.
        ResourceSet::Exact(name) => match name.strip_prefix(namespace) {
            Some(relative) if !relative.is_empty() => ResourceSet::Exact(relative.to_owned()),
            _ => ResourceSet::None,
        },
        ResourceSet::Prefix(prefix) => match prefix.strip_prefix(namespace) {
            Some(relative) => ResourceSet::Prefix(relative.to_owned()),
            None if namespace.starts_with(prefix.as_str()) => ResourceSet::Prefix(String::new()),
            None => ResourceSet::None,
        },
        ResourceSet::None => ResourceSet::None,
    }
}

/// A stream scope written relative to an auto-prefixing issuer's namespace, made absolute.
fn within_namespace(namespace: &str, relative: &ResourceSet) -> ResourceSet {
    match relative {
        ResourceSet::None => ResourceSet::None,
        ResourceSet::Exact(name) => ResourceSet::Exact(format!("{namespace}{name}")),
        ResourceSet::Prefix(prefix) => ResourceSet::Prefix(format!("{namespace}{prefix}")),
    }
}

fn check_not_broader(
    child: &AccessTokenScope,
    parent: &AccessTokenScope,
) -> Result<(), TokenError> {
    if !child.effective_ops().is_subset_of(parent.effective_ops()) {
        return Err(TokenError::denied(DenialReason::BroaderOperations));
    }
    if !child.basins.is_subset_of(&parent.basins) {
        return Err(TokenError::denied(DenialReason::BroaderBasins));
    }
    if !child.streams.is_subset_of(&parent.streams) {
        return Err(TokenError::denied(DenialReason::BroaderStreams));
    }
    if !child.access_tokens.is_subset_of(&parent.access_tokens) {
        return Err(TokenError::denied(DenialReason::BroaderAccessTokens));
    }
    Ok(())
}
