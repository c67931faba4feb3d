//! Scoped, expiring, revocable access tokens for streams, with the scope model of S2's access
//! tokens and a self-contained, sealed token format.
//!
//! * **Scope** ([`AccessTokenScope`]): basins, streams and access tokens as [`ResourceSet`]s
//!   (`{"exact": …}` / `{"prefix": …}`), operations one by one ([`Operation`]) and by group
//!   ([`OpGroups`]); the effective permissions are the union. The JSON is the reference's, so an
//!   issue request written for S2 with its 21 operations parses unchanged
//!   ([`IssueRequest::from_json`]); a field the reference does not have is refused rather than
//!   ignored, so a misspelt restriction never goes unnoticed.
//! * **Tokens** are strings `sktok1_<key id>_<base64url>`: the claims sealed with AEGIS-256 under
//!   a key derived from a server key ([`TokenKeyring`]). Verification needs no database; the key
//!   id lets the server key rotate while old tokens still verify, for good or until a retirement
//!   time ([`TokenKeyring::add_verification_key_until`]).
//! * **Issuing** ([`TokenAuthority::issue`]) as the root authority or from a token holding
//!   `issue-access-token`; a token is never broader than its issuer (403 otherwise) and outlives
//!   neither its expiry nor the retirement of its key.
//! * **Authorizing** ([`TokenAuthority::authorize`]) a request gives the effective stream name
//!   (auto-prefixed) or a typed error: 401 `authn` or 403 `permission_denied`.
//! * **Revoking** ([`TokenAuthority::revoke`]) through a pluggable [`RevocationSet`] takes effect
//!   on the next verification and reaches every token the revoked one issued.
//!
//! ```
//! use std::sync::Arc;
//! use sealkit_token::{
//!     FixedClock, IssueRequest, Issuer, OpRequest, Operation, ServerKey, TokenAuthority,
//!     TokenKeyring,
//! };
//!
//! # fn main() -> Result<(), sealkit_token::TokenError> {
//! let keyring = TokenKeyring::new("k1", &ServerKey::generate())?;
//! let clock = Arc::new(FixedClock::new(1_748_970_000)); // 2025-06-03T17:00:00Z
//! let authority = TokenAuthority::new(keyring).with_clock(clock);
//!
//! // The root authority issues a token that may issue tokens for one basin.
//! let admin = authority.issue(Issuer::Root, &IssueRequest::from_json(br#"{
//!     "id": "admin",
//!     "scope": {"basins": {"exact": "browser-instances-wtvr"}, "streams": {"prefix": ""},
//!               "access_tokens": {"prefix": "agent/"},
//!               "op_groups": {"stream": {"read": true, "write": true}},
//!               "ops": ["issue-access-token", "list-streams"]}
//! }"#)?)?;
//!
//! // The admin token issues the agent token of S2's blog post.
//! let agent = authority.issue(Issuer::Token(admin.token.expose_secret()), &IssueRequest::from_json(br#"{
//!     "id": "agent/g7wrzr9t",
//!     "scope": {"basins": {"exact": "browser-instances-wtvr"},
//!               "ops": ["list-streams", "append"],
//!               "streams": {"prefix": "session/g7wrzr9t/"}},
//!     "auto_prefix_streams": true,
//!     "expires_at": "2025-06-04T08:00:00Z"
//! }"#)?)?;
//! let agent = agent.token.expose_secret();
//!
//! // The agent appends to "console", which is really "session/g7wrzr9t/console"…
//! let ok = authority.authorize(agent, &OpRequest::new(Operation::Append)
//!     .basin("browser-instances-wtvr").stream("console"))?;
//! assert_eq!(ok.effective_stream(), Some("session/g7wrzr9t/console"));
//!
//! // …but may not delete it.
//! let denied = authority.authorize(agent, &OpRequest::new(Operation::DeleteStream)
//!     .basin("browser-instances-wtvr").stream("console")).unwrap_err();
//! assert_eq!((denied.http_status(), denied.to_string().as_str()), (403, "Operation not permitted"));
//!
//! // Revoking the admin token revokes the agent token it issued.
//! authority.revoke(Issuer::Root, "admin")?;
//! assert_eq!(authority.verify(agent).unwrap_err().code(), "authn");
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod authorize;
pub mod claims;
mod clock;
mod error;
mod key_list;
mod request;
mod revocation;
mod scope;
mod store;
mod token;

/// The `time` crate whose `OffsetDateTime` this API takes and returns (issue requests, token
/// metadata, key retirement): use this path rather than a dependency of your own, so the types are
/// always the same ones.
pub use time;

pub use authorize::{Authorization, IssuedToken, Issuer, OpRequest, TokenAuthority, VerifiedToken};
pub use clock::{Clock, DEFAULT_CLOCK_SKEW_SECS, FixedClock, SystemClock};
pub use error::{DenialReason, MAX_INVALID_MESSAGE_CHARS, TokenError};
pub use request::IssueRequest;
pub use revocation::{InMemoryRevocationSet, RevocationSet};
pub use scope::{
    AccessTokenScope, MAX_RESOURCE_NAME_LEN, MAX_TOKEN_ID_LEN, OpGroup, OpGroups, OpSet, Operation,
    ReadWritePermissions, ResourceSet, ResourceSetView, Target, validate_token_id,
};
pub use store::{InMemoryTokenStore, IssuedTokenStore, TokenInfo};
pub use token::{
    AccessToken, MAX_KEY_ID_LEN, MAX_TOKEN_LEN, ServerKey, TOKEN_PREFIX, TokenKeyring,
};
