//! The telemetry record is emitted through `tracing` with the reference's field names: `info` for a
//! hit, `warn` for `all-failed`.

use std::sync::{Arc, Mutex};

use sealkit_envelope::{
    DecryptionTelemetry, KeyRegistry, Opener, Outcome, Scope, Sealer, generate_key_pair,
};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

#[derive(Default)]
struct Captured {
    events: Vec<(Level, Vec<(String, String)>)>,
    /// The names of the fields handed over as strings (`record_str`), not as preformatted text.
    strings: Vec<String>,
}

struct Capture(Arc<Mutex<Captured>>);

#[derive(Default)]
struct Fields {
    values: Vec<(String, String)>,
    strings: Vec<String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.strings.push(field.name().to_owned());
        self.values
            .push((field.name().to_owned(), value.to_owned()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.values
            .push((field.name().to_owned(), format!("{value:?}")));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut captured = self.0.lock().unwrap();
        captured
            .events
            .push((*event.metadata().level(), fields.values));
        captured.strings.extend(fields.strings);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn hits_are_info_and_failures_warn_with_reference_field_names() {
    let pair = generate_key_pair(2048).unwrap();
    let sealer = Sealer::from_public_key_pem(&pair.key_id, &pair.public_key_pem).unwrap();
    let registry =
        KeyRegistry::legacy(Scope::UserKv, &pair.key_id, &pair.private_key_pem, None).unwrap();
    let opener = Opener::new(Arc::new(registry)).with_telemetry_scope("user-kv");
    let object = sealer.seal(b"secret payload", b"").unwrap();
    let mut tampered = object.body.clone();
    tampered[0] ^= 1;

    let captured = Arc::new(Mutex::new(Captured::default()));
    tracing::subscriber::with_default(Capture(captured.clone()), || {
        opener.open(&object.metadata, &object.body, b"").unwrap();
        opener.open(&object.metadata, &tampered, b"").unwrap_err();
    });
    let captured = captured.lock().unwrap();
    assert_eq!(captured.events.len(), 2);
    let names = [
        "scope",
        "recordKeyId",
        "selectedKeyId",
        "attemptCount",
        "fallbackUsed",
        "outcome",
        "reason",
    ];
    for (level, fields) in &captured.events {
        for name in names {
            assert!(
                fields.iter().any(|(n, _)| n == name),
                "{level}: missing {name} in {fields:?}"
            );
        }
        assert!(fields.iter().all(|(_, v)| !v.contains("secret payload")));
    }
    let (hit_level, hit) = &captured.events[0];
    assert_eq!(*hit_level, Level::INFO);
    assert!(
        hit.iter()
            .any(|(n, v)| n == "message" && v == "Key registry decryption resolved")
    );
    assert!(
        hit.iter()
            .any(|(n, v)| n == "outcome" && v.contains("primary-hit"))
    );
    let (fail_level, fail) = &captured.events[1];
    assert_eq!(*fail_level, Level::WARN);
    assert!(
        fail.iter()
            .any(|(n, v)| n == "message" && v == "Key registry decryption failed")
    );
    assert!(
        fail.iter()
            .any(|(n, v)| n == "outcome" && v.contains("all-failed"))
    );
    assert!(
        fail.iter()
            .any(|(n, v)| n == "reason" && v.contains("AES-GCM authentication failed"))
    );
}

/// The record's key id comes from the envelope, i.e. from whoever wrote it. It is handed to the
/// subscriber as a string (which a text subscriber quotes, so a ` outcome=…` in it cannot pass for
/// a field) with its control characters escaped (so a newline cannot forge a line even in a
/// subscriber that writes strings raw); an absent value is a bare `null`.
#[test]
fn envelope_supplied_text_reaches_the_subscriber_as_a_string() {
    let forged = "k1\nKey registry decryption resolved outcome=primary-hit\u{1b}[8m";
    let record = DecryptionTelemetry {
        scope: "user-kv".into(),
        record_key_id: Some(forged.into()),
        selected_key_id: None,
        attempt_count: 1,
        fallback_used: false,
        outcome: Outcome::AllFailed,
        reason: Some("AES-GCM authentication failed".into()),
    };
    let captured = Arc::new(Mutex::new(Captured::default()));
    tracing::subscriber::with_default(Capture(captured.clone()), || record.emit());
    let captured = captured.lock().unwrap();
    let (_, fields) = &captured.events[0];
    let value = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    // A string, with its control characters escaped even before any subscriber sees it.
    assert_eq!(
        value("recordKeyId"),
        Some("k1\\nKey registry decryption resolved outcome=primary-hit\\u{1b}[8m")
    );
    assert_eq!(value("selectedKeyId"), Some("null"));
    for name in ["scope", "recordKeyId", "outcome", "reason"] {
        assert!(captured.strings.iter().any(|n| n == name), "{name}");
    }
    assert!(!captured.strings.iter().any(|n| n == "selectedKeyId"));
}

/// Not only Cc: a line separator (U+2028) ends a line in many log viewers, and a bidi override
/// (U+202E) makes a terminal show the rest of the line reversed. Both reach the subscriber escaped.
#[test]
fn separators_and_bidi_overrides_in_a_key_id_reach_the_subscriber_escaped() {
    let record = DecryptionTelemetry {
        scope: "user-kv".into(),
        record_key_id: Some("k1\u{2028}outcome=primary-hit\u{202E}\u{2066}tih-yramirp".into()),
        selected_key_id: None,
        attempt_count: 1,
        fallback_used: false,
        outcome: Outcome::AllFailed,
        reason: None,
    };
    let captured = Arc::new(Mutex::new(Captured::default()));
    tracing::subscriber::with_default(Capture(captured.clone()), || record.emit());
    let captured = captured.lock().unwrap();
    let (_, fields) = &captured.events[0];
    let key_id = fields
        .iter()
        .find(|(n, _)| n == "recordKeyId")
        .map(|(_, v)| v.as_str());
    assert_eq!(
        key_id,
        Some("k1\\u{2028}outcome=primary-hit\\u{202e}\\u{2066}tih-yramirp")
    );
    // The record returned to the caller keeps the text as the envelope had it.
    assert!(record.record_key_id.unwrap().contains('\u{2028}'));
}

/// Rewrap needs an active key to rewrap to. Without one it must fail before the key search: no RSA
/// private operation, and no event reporting a decryption that led nowhere.
#[test]
fn rewrap_without_an_active_key_fails_before_any_decryption() {
    let pair = generate_key_pair(2048).unwrap();
    let sealer = Sealer::from_public_key_pem(&pair.key_id, &pair.public_key_pem).unwrap();
    // A flat registry without `activeKeyId`: the key opens envelopes but is not active.
    let json = serde_json::json!({ pair.key_id.as_str(): pair.private_key_pem.as_str() });
    let registry = KeyRegistry::from_json(Scope::DataAtRest, &json.to_string(), None).unwrap();
    assert_eq!(registry.active_key_id(), None);
    let opener = Opener::new(Arc::new(registry));
    let object = sealer.seal(b"payload", b"").unwrap();
    let record = sealer.seal_kv(b"payload", b"").unwrap();

    let captured = Arc::new(Mutex::new(Captured::default()));
    let codes = tracing::subscriber::with_default(Capture(captured.clone()), || {
        // The key does open them: only the missing active key stops rewrap.
        opener.open(&object.metadata, &object.body, b"").unwrap();
        captured.lock().unwrap().events.clear();
        [
            opener.rewrap(&object.metadata, b"").map(drop),
            opener
                .rewrap_checked(&object.metadata, &object.body, b"")
                .map(drop),
            opener.rewrap_kv(&record, b"").map(drop),
        ]
        .map(|result| result.unwrap_err().code())
    });
    assert_eq!(codes, ["no_active_key"; 3]);
    assert!(captured.lock().unwrap().events.is_empty());
}
