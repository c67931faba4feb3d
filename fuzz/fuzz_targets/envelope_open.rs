//! Opening hostile KV records under a two-key registry (the RSA unwrap, the candidate search, the
//! AES-GCM open): never panics; nothing opens but what was sealed under the registry's keys, and
//! then to exactly its plaintext; the genuine record always opens; a failure tries at most the
//! registry's keys, and its message and `Debug` never name a registered key id.
//!
//! Input: a record as text, or, when the first byte is 0, a mask XORed onto the genuine record, so
//! the fuzzer also explores records one edit away from valid ones (an alphabet swap in a base64
//! field still opens; any change the envelope authenticates does not).
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use sealkit_envelope::{KeyRegistry, Opener, Scope, Sealer, generate_key_pair};

const PLAINTEXT: &[u8] = br#"{"caseNumber":"CASE-1"}"#;

struct Fixture {
    opener: Opener,
    record: Vec<u8>,
    key_ids: [String; 2],
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let active = generate_key_pair(2048).expect("key pair");
        let other = generate_key_pair(2048).expect("key pair");
        let registry = serde_json::json!({
            "activeKeyId": active.key_id,
            "keys": {
                active.key_id.as_str(): active.private_key_pem.as_str(),
                other.key_id.as_str(): other.private_key_pem.as_str(),
            },
        });
        let registry = KeyRegistry::from_json(Scope::DataAtRest, &registry.to_string(), None)
            .expect("registry");
        let sealer = Sealer::from_public_key_pem(active.key_id.clone(), &active.public_key_pem)
            .expect("sealer");
        Fixture {
            opener: Opener::new(Arc::new(registry)),
            record: sealer.seal_kv(PLAINTEXT, b"").expect("seal").into_bytes(),
            key_ids: [active.key_id.clone(), other.key_id.clone()],
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let (text, genuine) = match data.split_first() {
        Some((0, mask)) => {
            let mut bytes = f.record.clone();
            for (byte, flip) in bytes.iter_mut().zip(mask) {
                *byte ^= flip;
            }
            let Ok(text) = String::from_utf8(bytes) else {
                return;
            };
            (text, mask.iter().all(|&flip| flip == 0))
        }
        _ => match std::str::from_utf8(data) {
            Ok(text) => (text.to_owned(), false),
            Err(_) => return,
        },
    };
    match f.opener.open_kv(&text, b"") {
        Ok(opened) => assert_eq!(opened.plaintext.as_slice(), PLAINTEXT, "a forged record opened"),
        Err(err) => {
            assert!(!genuine, "the genuine record did not open: {err}");
            if let Some(attempts) = err.attempts() {
                assert!(attempts <= f.key_ids.len(), "{attempts} attempts");
            }
            let shown = format!("{err} {err:?}");
            for id in &f.key_ids {
                assert!(!shown.contains(id.as_str()), "a key id in {shown}");
            }
        }
    }
});
