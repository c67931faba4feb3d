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
    /// holding ` outcome=primary-hit` cannot pass for another field) with their control characters,
    /// line and paragraph separators, bidi controls and other format characters already escaped
    /// (so a newline or U+2028 cannot start a forged line, nor U+202E reorder one, even in a
    /// subscriber that writes strings raw). Absent values are a bare `null` (tracing would otherwise drop the field); in
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

/// The text with every character [`needs_escape`] picks written as a Rust escape (`\n`,
/// `\u{202e}`), borrowed when there are none.
fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            // `\n`, `\t`, `\r` by name, the rest as `\u{..}`.
            escaped.extend(c.escape_debug());
        } else if needs_escape(c) {
            escaped.extend(c.escape_unicode());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

/// Whether a character of envelope-supplied text is escaped before it reaches a subscriber:
/// control characters (Unicode Cc, U+0085 included), and the format characters (Cf) and line and
/// paragraph separators (Zl, Zp). Those are not Cc, yet U+2028/U+2029 end a line in many log
/// viewers and JavaScript-based tooling, the bidi overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069) make a terminal show text in another order than it is written, and the rest are
/// invisible: each would let a record key id make a log line read differently than it is.
fn needs_escape(c: char) -> bool {
    c.is_control() || is_format_or_separator(c)
}

/// Unicode's Cf, Zl and Zp characters (Unicode 16), listed here rather than taken from a Unicode
/// tables crate: the standard library has no category lookup, and the list is short and, for the
/// characters that matter (the bidi controls and separators), stable.
fn is_format_or_separator(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{600}'..='\u{605}'
            | '\u{61C}'
            | '\u{6DD}'
            | '\u{70F}'
            | '\u{890}'..='\u{891}'
            | '\u{8E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            // U+2028 line and U+2029 paragraph separators, then the bidi embeddings and overrides.
            | '\u{2028}'..='\u{202E}'
            // Word joiner and invisible operators, U+2065 unassigned, the bidi isolates and the
            // deprecated shaping controls.
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
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

    #[test]
    fn separators_bidi_controls_and_invisible_characters_are_escaped() {
        // U+2028 would end the line in many viewers; U+202E would show `k1` + `.exe` reversed.
        assert_eq!(
            escape_controls("k1\u{2028}outcome=primary-hit"),
            "k1\\u{2028}outcome=primary-hit"
        );
        assert_eq!(escape_controls("k1\u{202E}exe.txt"), "k1\\u{202e}exe.txt");
        for (c, escaped) in [
            ('\u{2029}', "\\u{2029}"),
            ('\u{202A}', "\\u{202a}"),
            ('\u{2066}', "\\u{2066}"),
            ('\u{2069}', "\\u{2069}"),
            ('\u{200B}', "\\u{200b}"),
            ('\u{FEFF}', "\\u{feff}"),
            ('\u{E0041}', "\\u{e0041}"),
            ('\u{85}', "\\u{85}"),
            ('\n', "\\n"),
            ('\u{1b}', "\\u{1b}"),
        ] {
            assert_eq!(
                escape_controls(&format!("a{c}b")),
                format!("a{escaped}b"),
                "{c:?}"
            );
        }
        // Visible text, non-ASCII included, is left alone (and not copied).
        for plain in ["k1", "clé-été", "ключ", "鍵", "k\\u{2028}"] {
            assert!(matches!(escape_controls(plain), Cow::Borrowed(p) if p == plain));
        }
    }

    /// A check on the hand-written list against the standard library's own Unicode data: every
    /// character in it is one `Debug` also escapes (it escapes what is not printable, Cf, Zl and
    /// Zp among them), so no range was mistyped into printable text, and none of it is Cc (which
    /// is escaped anyway).
    #[test]
    fn the_format_list_holds_only_characters_debug_also_escapes() {
        let listed: Vec<char> = (0..=u32::from(char::MAX))
            .filter_map(char::from_u32)
            .filter(|&c| is_format_or_separator(c))
            .collect();
        assert!(listed.len() > 150, "{}", listed.len());
        for c in listed {
            assert!(!c.is_control(), "{c:?}");
            assert!(
                c.escape_debug().to_string().starts_with("\\u{"),
                "{c:?} is printable"
            );
        }
    }
}
