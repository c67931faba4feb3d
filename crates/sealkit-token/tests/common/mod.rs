//! Shared set-up for the integration tests: an authority on a fixed clock with a store.
#![allow(dead_code)]

use std::sync::Arc;

use sealkit_token::{
    FixedClock, InMemoryRevocationSet, InMemoryTokenStore, IssueRequest, Issuer, ServerKey,
    TokenAuthority, TokenError, TokenKeyring,
};

/// The issue request of the seed's example (the body of its `curl` call, verbatim): an agent token
/// scoped to `session/g7wrzr9t/` with `list-streams` and `append`, auto-prefixed.
pub const SEED_AGENT_REQUEST: &str = r#"{
"id": "agent/g7wrzr9t",
"scope": {
"basins": { "exact": "browser-instances-wtvr" },
"ops": ["list-streams", "append"],
"streams": { "prefix": "session/g7wrzr9t/" }
},
"auto_prefix_streams": true,
"expires_at": "2025-06-04T08:00:00Z"
}"#;

/// 2025-06-03T17:00:00Z, the afternoon of the seed's example.
pub const NOW: i64 = 1_748_970_000;

pub struct Fixture {
    pub authority: TokenAuthority,
    pub clock: Arc<FixedClock>,
    pub revocations: Arc<InMemoryRevocationSet>,
    pub store: Arc<InMemoryTokenStore>,
}

pub fn fixture() -> Fixture {
    fixture_with_key(&ServerKey::from_bytes([7; 32]))
}

pub fn fixture_with_key(key: &ServerKey) -> Fixture {
    let clock = Arc::new(FixedClock::new(NOW));
    let revocations = Arc::new(InMemoryRevocationSet::new());
    let store = Arc::new(InMemoryTokenStore::new());
    let authority = TokenAuthority::new(TokenKeyring::new("k1", key).unwrap())
        .with_clock(clock.clone())
        .with_revocations(revocations.clone())
        .with_store(store.clone());
    Fixture {
        authority,
        clock,
        revocations,
        store,
    }
}

pub fn request(json: &str) -> IssueRequest {
    IssueRequest::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{json}: {e}"))
}

impl Fixture {
    /// Issues as root and returns the token string.
    pub fn root(&self, json: &str) -> String {
        self.authority
            .issue(Issuer::Root, &request(json))
            .unwrap_or_else(|e| panic!("{json}: {e}"))
            .token
            .expose_secret()
            .to_owned()
    }

    /// Issues from `issuer` and returns the token string or the error.
    pub fn from(&self, issuer: &str, json: &str) -> Result<String, TokenError> {
        self.authority
            .issue(Issuer::Token(issuer), &request(json))
            .map(|t| t.token.expose_secret().to_owned())
    }
}
