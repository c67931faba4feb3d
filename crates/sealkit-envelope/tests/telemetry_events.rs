//! The telemetry record is emitted through `tracing` with the reference's field names: `info` for a
//! hit, `warn` for `all-failed`.

use std::sync::{Arc, Mutex};

use sealkit_envelope::{KeyRegistry, Opener, Scope, Sealer, generate_key_pair};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

#[derive(Default)]
struct Captured {
    events: Vec<(Level, Vec<(String, String)>)>,
}

struct Capture(Arc<Mutex<Captured>>);

struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
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
        let mut fields = Fields(Vec::new());
        event.record(&mut fields);
        self.0
            .lock()
            .unwrap()
            .events
            .push((*event.metadata().level(), fields.0));
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
