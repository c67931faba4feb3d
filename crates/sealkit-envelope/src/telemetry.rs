//! The decryption telemetry record, field for field the reference's, returned to the caller and
//! emitted through `tracing` (info on a hit, warn on `all-failed`).

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
    /// present; absent values are recorded as `null` (tracing would otherwise drop them).
    pub fn emit(&self) {
        let record_key_id = JsonOr(&self.record_key_id);
        let selected_key_id = JsonOr(&self.selected_key_id);
        let reason = JsonOr(&self.reason);
        if self.outcome == Outcome::AllFailed {
            tracing::warn!(
                scope = %self.scope,
                recordKeyId = %record_key_id,
                selectedKeyId = %selected_key_id,
                attemptCount = self.attempt_count,
                fallbackUsed = self.fallback_used,
                outcome = self.outcome.as_str(),
                reason = %reason,
                "Key registry decryption failed"
            );
        } else {
            tracing::info!(
                scope = %self.scope,
                recordKeyId = %record_key_id,
                selectedKeyId = %selected_key_id,
                attemptCount = self.attempt_count,
                fallbackUsed = self.fallback_used,
                outcome = self.outcome.as_str(),
                reason = %reason,
                "Key registry decryption resolved"
            );
        }
    }
}

/// An optional string shown as its value, or `null`.
/// A field value as text, `null` when absent. The record's key id comes from the envelope, i.e. from
/// whoever wrote it: control characters are written as escapes, so a newline in it cannot start
/// a forged line in a text log.
struct JsonOr<'a>(&'a Option<String>);

impl std::fmt::Display for JsonOr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write as _;
        let Some(value) = self.0 else {
            return f.write_str("null");
        };
        for c in value.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_debug())?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traced_values_stay_on_one_line() {
        let forged =
            Some("k1\nKey registry decryption resolved outcome=primary-hit\u{1b}[8m".to_owned());
        let shown = JsonOr(&forged).to_string();
        assert!(
            !shown.contains('\n') && !shown.contains('\u{1b}'),
            "{shown}"
        );
        assert!(shown.starts_with("k1\\nKey"), "{shown}");
        assert_eq!(JsonOr(&Some("k1".to_owned())).to_string(), "k1");
        assert_eq!(JsonOr(&None).to_string(), "null");
    }

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
