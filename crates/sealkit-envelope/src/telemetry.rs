//! The decryption telemetry record, field for field the reference's, returned to the caller and
//! emitted through `tracing` (info on a hit, warn on `all-failed`).

use std::borrow::Cow;

use serde::Serialize;

/// How a decryption ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The first candidate opened the envelope.
    PrimaryHit,
    /// A later candidate did (the record was written under a rotated-out key).
    FallbackHit,
    /// No candidate did.
    AllFailed,
}

impl Outcome {
    /// The wire string (`primary-hit`, `fallback-hit`, `all-failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PrimaryHit => "primary-hit",
            Self::FallbackHit => "fallback-hit",
            Self::AllFailed => "all-failed",
        }
    }
}

/// `{scope, recordKeyId, selectedKeyId, attemptCount, fallbackUsed, outcome, reason}` — serialises
/// with exactly the reference's names, in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecryptionTelemetry {
    /// Telemetry scope label (`data-at-rest`, `user-kv`, `audit-at-rest`, `export-data`, …).
    pub scope: String,
    /// The envelope's key id (`null` when blank).
    pub record_key_id: Option<String>,
    /// The key that opened it (`null` on failure).
    pub selected_key_id: Option<String>,
    /// Candidates tried.
    pub attempt_count: usize,
    /// `outcome == fallback-hit`.
    pub fallback_used: bool,
    /// How it ended.
    pub outcome: Outcome,
    /// Why the last candidate failed (`null` on success).
    pub reason: Option<String>,
}

impl DecryptionTelemetry {
    /// The record as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Emits the record through `tracing`: `info` for hits, `warn` for `all-failed`. Every field is
    /// present. The record's key id comes from the envelope, i.e. from whoever wrote it, so text
    /// fields are handed over as strings (which a text subscriber quotes and escapes: a key id
    /// holding ` outcome=primary-hit` cannot pass for another field) with their control characters
    /// already escaped (so a newline cannot start a forged line even in a subscriber that writes
    /// strings raw). Absent values are a bare `null` (tracing would otherwise drop the field); in
    /// a text log that differs from a key id spelled `null`, which is quoted.
    pub fn emit(&self) {
        let scope = escape_controls(&self.scope);
        let record_key_id = self.record_key_id.as_deref().map(escape_controls);
        let selected_key_id = self.selected_key_id.as_deref().map(escape_controls);
        let reason = self.reason.as_deref().map(escape_controls);
        let (scope, record_key_id, selected_key_id, reason) = (
            &*scope,
            record_key_id.as_deref(),
            selected_key_id.as_deref(),
            reason.as_deref(),
        );
        let null = tracing::field::display("null");
        let record_key_id = string_or_null(&record_key_id, &null);
        let selected_key_id = string_or_null(&selected_key_id, &null);
        let reason = string_or_null(&reason, &null);
        if self.outcome == Outcome::AllFailed {
            tracing::warn!(
                scope,
                recordKeyId = record_key_id,
                selectedKeyId = selected_key_id,
                attemptCount = self.attempt_count,
                fallbackUsed = self.fallback_used,
                outcome = self.outcome.as_str(),
                reason,
                "Key registry decryption failed"
            );
        } else {
            tracing::info!(
                scope,
                recordKeyId = record_key_id,
                selectedKeyId = selected_key_id,
                attemptCount = self.attempt_count,
                fallbackUsed = self.fallback_used,
                outcome = self.outcome.as_str(),
                reason,
                "Key registry decryption resolved"
            );
        }
    }
}

/// The text with its control characters written as Rust escapes (borrowed when there are none).
fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            escaped.extend(c.escape_debug());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

/// A field value: the string, recorded as a string, or `null`.
fn string_or_null<'a>(
    value: &'a Option<&'a str>,
    null: &'a tracing::field::DisplayValue<&'static str>,
) -> &'a dyn tracing::Value {
    match value {
        Some(value) => value,
        None => null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_reference_names_in_order() {
        let t = DecryptionTelemetry {
            scope: "data-at-rest".into(),
            record_key_id: Some("k1".into()),
            selected_key_id: None,
            attempt_count: 2,
            fallback_used: false,
            outcome: Outcome::AllFailed,
            reason: Some("AES-GCM authentication failed".into()),
        };
        assert_eq!(
            t.to_json(),
            r#"{"scope":"data-at-rest","recordKeyId":"k1","selectedKeyId":null,"attemptCount":2,"fallbackUsed":false,"outcome":"all-failed","reason":"AES-GCM authentication failed"}"#
        );
    }
}
