//! The one error type of the crate, with the reference's HTTP statuses and codes.
//!
//! No variant carries a token string or key material: messages are safe to return to the caller
//! and to log.

use std::fmt;

/// The longest message a 422 [`TokenError::Invalid`] made by this crate carries, in characters.
pub const MAX_INVALID_MESSAGE_CHARS: usize = 300;

/// Why a request was refused with 403 `permission_denied`.
///
/// The caller only ever sees "Operation not permitted" (as the reference answers); the reason is
/// for the server's own logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DenialReason {
    /// The token's operations do not include the one requested.
    Operation,
    /// The basin is outside the token's basin scope.
    Basin,
    /// The stream is outside the token's stream scope.
    Stream,
    /// The access token id is outside the token's access-token scope.
    AccessToken,
    /// A token to be issued would hold an operation its issuer does not hold.
    BroaderOperations,
    /// A token to be issued would reach a basin its issuer cannot reach.
    BroaderBasins,
    /// A token to be issued would reach a stream its issuer cannot reach.
    BroaderStreams,
    /// A token to be issued would reach an access token id its issuer cannot reach.
    BroaderAccessTokens,
    /// A token to be issued would outlive its issuer.
    LaterExpiry,
    /// A token to be issued would drop its issuer's stream auto-prefixing.
    DropsAutoPrefix,
}

impl DenialReason {
    /// A stable snake_case name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operation => "operation",
            Self::Basin => "basin",
            Self::Stream => "stream",
            Self::AccessToken => "access_token",
            Self::BroaderOperations => "broader_operations",
            Self::BroaderBasins => "broader_basins",
            Self::BroaderStreams => "broader_streams",
            Self::BroaderAccessTokens => "broader_access_tokens",
            Self::LaterExpiry => "later_expiry",
            Self::DropsAutoPrefix => "drops_auto_prefix",
        }
    }
}

impl fmt::Display for DenialReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every failure of issuing, verifying, authorizing, revoking or listing tokens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The string is not a token of this format (wrong prefix, bad encoding, wrong length).
    #[error("access token is malformed")]
    Malformed,
    /// The token names a sealing key this server does not hold.
    #[error("access token was sealed under a key this server does not know")]
    UnknownKey,
    /// The token does not open under its key: forged, altered or sealed by someone else.
    #[error("access token failed verification")]
    Unauthentic,
    /// The token's expiry (plus the clock-skew allowance) has passed.
    #[error("access token has expired")]
    Expired,
    /// The key that sealed the token was retired (its retirement time, plus the clock-skew
    /// allowance, has passed; see [`crate::TokenKeyring::add_verification_key_until`]), or an
    /// issuing token under it has no time left to hand on; or a key that sealed a token in its
    /// issuing chain was retired or is no longer in the keyring (see
    /// [`crate::claims::TokenClaims::issuer_keys`]).
    #[error("access token, or a token that issued it, was sealed under a retired key")]
    KeyRetired,
    /// The token claims to be issued in the future (beyond the clock-skew allowance).
    #[error("access token is not valid yet")]
    NotYetValid,
    /// The token, or a token in its issuing chain, has been revoked.
    #[error("access token has been revoked")]
    Revoked,
    /// The token does not allow the request (403).
    #[error("Operation not permitted")]
    PermissionDenied {
        /// Why, for the server's logs; never shown to the caller.
        reason: DenialReason,
    },
    /// The issue request (or an authorize request) is not valid (422).
    #[error("{0}")]
    Invalid(String),
    /// No access token with that id was issued, or it is revoked already (404).
    #[error("access token not found")]
    NotFound,
    /// An access token with that id already exists (409).
    #[error("an access token with this id already exists")]
    AlreadyExists,
    /// A server key or key id could not be used (a configuration error, never the caller's).
    #[error("{0}")]
    Key(&'static str),
    /// An entry of a previous-keys list could not be used
    /// ([`crate::TokenKeyring::add_previous_keys`]); named by position, never by its text.
    #[error("token key list entry {entry}: {problem}")]
    KeyListEntry {
        /// Which entry, from 1.
        entry: usize,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A pluggable store or revocation set failed (503).
    #[error("token store unavailable: {0}")]
    Store(String),
}

impl TokenError {
    /// The error code: the reference's `permission_denied`, `invalid`, `access_token_not_found`
    /// and `resource_already_exists`; `authn` for every refused token (401); ours for
    /// configuration and storage failures.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed
            | Self::UnknownKey
            | Self::Unauthentic
            | Self::Expired
            | Self::KeyRetired
            | Self::NotYetValid
            | Self::Revoked => "authn",
            Self::PermissionDenied { .. } => "permission_denied",
            Self::Invalid(_) => "invalid",
            Self::NotFound => "access_token_not_found",
            Self::AlreadyExists => "resource_already_exists",
            Self::Key(_) | Self::KeyListEntry { .. } => "invalid_key",
            Self::Store(_) => "unavailable",
        }
    }

    /// The HTTP status the reference answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Malformed
            | Self::UnknownKey
            | Self::Unauthentic
            | Self::Expired
            | Self::KeyRetired
            | Self::NotYetValid
            | Self::Revoked => 401,
            Self::PermissionDenied { .. } => 403,
            Self::Invalid(_) => 422,
            Self::NotFound => 404,
            Self::AlreadyExists => 409,
            Self::Key(_) | Self::KeyListEntry { .. } => 500,
            Self::Store(_) => 503,
        }
    }

    /// True for the 401 `authn` family (the token itself is unusable).
    pub fn is_authn(&self) -> bool {
        self.code() == "authn"
    }

    pub(crate) fn denied(reason: DenialReason) -> Self {
        Self::PermissionDenied { reason }
    }

    /// A 422 whose message may quote the request (a serde error names an unknown field or variant
    /// exactly as sent). Characters that could break a log line or a response apart, or make it
    /// read differently (control characters, line and paragraph separators, bidirectional
    /// overrides), are written as Rust escapes, and the message is cut to at most
    /// [`MAX_INVALID_MESSAGE_CHARS`] characters, between whole escapes, ending in `…` when cut.
    /// Escaping twice changes nothing (an escape is printable), so a message that quotes another
    /// such message, as serde does with ours, stays readable.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        let message = message.into();
        let escaped = |c: char| {
            let (escape, plain) = if must_escape(c) {
                (Some(c.escape_default()), None)
            } else {
                (None, Some(c))
            };
            escape.into_iter().flatten().chain(plain)
        };
        let shown_len: usize = message.chars().map(|c| escaped(c).count()).sum();
        if shown_len == message.chars().count() && shown_len <= MAX_INVALID_MESSAGE_CHARS {
            return Self::Invalid(message);
        }
        let mut shown = String::with_capacity(4 * MAX_INVALID_MESSAGE_CHARS);
        if shown_len <= MAX_INVALID_MESSAGE_CHARS {
            shown.extend(message.chars().flat_map(escaped));
            return Self::Invalid(shown);
        }
        // Whole escapes only, leaving room for the ellipsis.
        let mut len = 0;
        for c in message.chars() {
            let piece = escaped(c);
            let piece_len = piece.clone().count();
            if len + piece_len > MAX_INVALID_MESSAGE_CHARS - 1 {
                break;
            }
            shown.extend(piece);
            len += piece_len;
        }
        shown.push('…');
        Self::Invalid(shown)
    }
}

/// Characters an error message quoting a request writes as escapes (see [`TokenError::invalid`]).
fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' // line and paragraph separators
                | '\u{061c}' | '\u{200e}' | '\u{200f}' // bidirectional marks
                | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' // bidirectional overrides
        )
}
