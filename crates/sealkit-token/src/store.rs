//! Token metadata, and the store that keeps ids unique and answers listings.
//!
//! Verification never needs the store: a token carries its own claims. The store exists for what a
//! self-contained token cannot do by itself — refusing a second token with an id already used,
//! answering "unknown id" (404) on revocation, and listing tokens. It holds metadata only; the
//! token string is never stored and so can never be listed.

use std::collections::BTreeMap;
use std::sync::RwLock;

use serde::Serialize;
use time::OffsetDateTime;

use crate::claims::TokenClaims;
use crate::error::TokenError;
use crate::scope::AccessTokenScope;

/// What is known about an issued token, minus the token itself. Serializes like the reference's
/// `AccessTokenInfo` (`id`, `expires_at`, `auto_prefix_streams`, `scope`) plus `issued_at` and the
/// issuing chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// The token's id.
    pub id: String,
    /// Its own expiry; `None` = none. A verifier whose key for it is retiring may end it earlier
    /// (see `VerifiedToken::valid_until`).
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// Whether its stream names are namespaced under its stream prefix.
    pub auto_prefix_streams: bool,
    /// What it may touch and do: stream names absolute, except in a listing by an
    /// auto-prefixing token, which sees them relative to its namespace (see
    /// [`crate::TokenAuthority::list`]).
    pub scope: AccessTokenScope,
    /// When it was issued.
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// The ids of the tokens that issued it, root-most first (empty: the root authority). In a
    /// listing by a token, only the ids inside that token's access-token scope: there the chain
    /// may be shortened or empty, and its last id is not necessarily the direct issuer.
    pub issuing_chain: Vec<String>,
}

impl TokenInfo {
    /// The metadata of decoded claims.
    pub fn from_claims(claims: &TokenClaims) -> Self {
        Self {
            id: claims.id.clone(),
            expires_at: claims.expires_at.map(unix_to_datetime),
            auto_prefix_streams: claims.auto_prefix_streams,
            scope: claims.scope.clone(),
            issued_at: unix_to_datetime(claims.issued_at),
            issuing_chain: claims.chain.clone(),
        }
    }
}

/// Claims hold only years 1..=9999 (checked when decoded), which `time` always represents; a key's
/// retirement time was an `OffsetDateTime` to begin with.
pub(crate) fn unix_to_datetime(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Where issued tokens' metadata lives. A server plugs in its own (a database table with a unique
/// key on the id); [`InMemoryTokenStore`] serves one process and tests.
pub trait IssuedTokenStore: Send + Sync {
    /// Records a newly issued token; [`TokenError::AlreadyExists`] if the id was ever used.
    fn insert(&self, info: &TokenInfo) -> Result<(), TokenError>;

    /// True if a token with this id was issued.
    fn contains(&self, id: &str) -> Result<bool, TokenError>;

    /// Every token whose id starts with `prefix`, in id order.
    fn list(&self, prefix: &str) -> Result<Vec<TokenInfo>, TokenError>;
}

/// Token metadata held in memory.
#[derive(Debug, Default)]
pub struct InMemoryTokenStore {
    tokens: RwLock<BTreeMap<String, TokenInfo>>,
}

impl InMemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn poisoned<T>(_: T) -> TokenError {
    TokenError::Store("token store poisoned".into())
}

impl IssuedTokenStore for InMemoryTokenStore {
    fn insert(&self, info: &TokenInfo) -> Result<(), TokenError> {
        let mut tokens = self.tokens.write().map_err(poisoned)?;
        if tokens.contains_key(&info.id) {
            return Err(TokenError::AlreadyExists);
        }
        tokens.insert(info.id.clone(), info.clone());
        Ok(())
    }

    fn contains(&self, id: &str) -> Result<bool, TokenError> {
        Ok(self.tokens.read().map_err(poisoned)?.contains_key(id))
    }

    fn list(&self, prefix: &str) -> Result<Vec<TokenInfo>, TokenError> {
        let tokens = self.tokens.read().map_err(poisoned)?;
        Ok(tokens
            .range(prefix.to_owned()..)
            .take_while(|(id, _)| id.starts_with(prefix))
            .map(|(_, info)| info.clone())
            .collect())
    }
}
