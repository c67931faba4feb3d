//! The issue request, exactly as the reference's API takes it:
//! `{"id", "expires_at" (RFC 3339, optional), "auto_prefix_streams" (optional), "scope"}`.
//!
//! Unknown fields are refused rather than ignored: a misspelt `expires_at` silently ignored would
//! hand out a token that lives as long as its issuer.

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

use crate::error::TokenError;
use crate::scope::{AccessTokenScope, ResourceSet, validate_token_id};

/// A request to issue an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// The new token's id: 1..=96 bytes, unique, not `.` or `..`.
    pub id: String,
    /// When the token stops working; omitted = the issuer's end (its expiry, or its key's
    /// retirement if earlier; none for the root authority).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_at: Option<OffsetDateTime>,
    /// Namespace the token's streams under its stream prefix (requires a prefix stream scope).
    #[serde(default, deserialize_with = "false_if_null")]
    pub auto_prefix_streams: bool,
    /// What the token may touch and do.
    pub scope: AccessTokenScope,
}

impl IssueRequest {
    /// A request for `id` with `scope`, no explicit expiry and no auto-prefixing.
    pub fn new(id: impl Into<String>, scope: AccessTokenScope) -> Self {
        Self {
            id: id.into(),
            expires_at: None,
            auto_prefix_streams: false,
            scope,
        }
    }

    /// Parses the reference's JSON issue request. Malformed JSON is a 422 `invalid`.
    pub fn from_json(json: &[u8]) -> Result<Self, TokenError> {
        serde_json::from_slice(json)
            .map_err(|e| TokenError::invalid(format!("invalid issue request: {e}")))
    }

    /// The request as the reference's JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // Every field is a string, bool, list or map with string keys: serialization cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Checks the rules that need no issuer: id, permissions not empty, auto-prefix only with a
    /// prefix stream scope, name bounds.
    pub fn validate(&self) -> Result<(), TokenError> {
        validate_token_id(&self.id)?;
        self.scope.validate()?;
        if self.auto_prefix_streams && !matches!(self.scope.streams, ResourceSet::Prefix(_)) {
            return Err(TokenError::invalid(
                "Auto prefixing is only allowed for streams with prefix matching",
            ));
        }
        Ok(())
    }
}

fn false_if_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(deserializer)?.unwrap_or(false))
}
