//! Behaviour beyond the known answers: the bound version, attempt bounds and authoritative key ids,
//! rewrap, the data-key cache, registry configuration errors, the audit pattern, and secrets kept
//! out of every Debug/Display.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use sealkit_envelope::audit::{self, StoredObject};
use sealkit_envelope::{
    CandidatePolicy, DataKeyCache, EnvelopeVersion, Error, FailureCause, GeneratedKeyPair,
    KeyRegistry, KvRecord, OpenPolicy, Opener, Outcome, RegistryDocument, Scope, Sealer,
    generate_key_pair,
};

/// Two RSA-2048 pairs, generated once per test binary.
fn pairs() -> &'static [GeneratedKeyPair; 2] {
    static PAIRS: OnceLock<[GeneratedKeyPair; 2]> = OnceLock::new();
    PAIRS.get_or_init(|| {
        [
            generate_key_pair(2048).unwrap(),
            generate_key_pair(2048).unwrap(),
        ]
    })
}

fn nested_json(active: Option<&str>) -> String {
    let mut doc = RegistryDocument::default();
    for p in pairs() {
        doc.keys.push((p.key_id.clone(), p.private_key_pem.clone()));
    }
    doc.active_key_id = active.map(str::to_owned);
    doc.to_nested_json().to_string()
}

/// Registry [old, new] with the new key active.
fn registry() -> Arc<KeyRegistry> {
    static REG: OnceLock<Arc<KeyRegistry>> = OnceLock::new();
    REG.get_or_init(|| {
        let [_, new] = pairs();
        Arc::new(
            KeyRegistry::from_json(Scope::DataAtRest, &nested_json(Some(&new.key_id)), None)
                .unwrap(),
        )
    })
    .clone()
}

fn sealer(i: usize) -> Sealer {
    let p = &pairs()[i];
    Sealer::from_public_key_pem(&p.key_id, &p.public_key_pem).unwrap()
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name: &str| map.get(name).cloned()
}

/// The context a sealer of `version` takes: `context` for bound envelopes, none for `1.0`.
fn sealed_for(version: EnvelopeVersion, context: &[u8]) -> &[u8] {
    match version {
        EnvelopeVersion::V1 => b"",
        _ => context,
    }
}

#[test]
fn v1_and_bound_round_trip_in_both_forms() {
    let opener = Opener::new(registry());
    // 1.0 binds no context (and its opener ignores the one it is given); bound needs the same one.
    for version in [EnvelopeVersion::V1, EnvelopeVersion::Bound] {
        let context = sealed_for(version, b"cases/1.json");
        let s = sealer(0).with_version(version);
        let object = s.seal(b"payload", context).unwrap();
        assert_eq!(object.metadata.encryption_version, version.as_str());
        let opened = opener
            .open(&object.metadata, &object.body, b"cases/1.json")
            .unwrap();
        assert_eq!(&opened.plaintext[..], b"payload");
        let kv = s.seal_kv(b"kv payload", context).unwrap();
        assert_eq!(
            &opener.open_kv(&kv, b"cases/1.json").unwrap().plaintext[..],
            b"kv payload"
        );
    }
}

/// A `1.0` envelope would open under any context, so a `1.0` sealer refuses one rather than let
/// the caller believe the envelope is tied to it; every sealing entry point says so.
#[test]
fn a_v1_sealer_refuses_a_context_it_cannot_bind() {
    let s = sealer(0);
    assert_eq!(s.version(), EnvelopeVersion::V1);
    let refused = |result: Result<(), Error>| {
        let e = result.unwrap_err();
        assert!(matches!(e, Error::ContextNotBound), "{e:?}");
        assert_eq!(e.code(), "context_not_bound");
    };
    refused(s.seal(b"payload", b"users/u1").map(drop));
    refused(s.seal_kv(b"payload", b"users/u1").map(drop));
    refused(s.seal_json(&["payload"], b"users/u1").map(drop));
    refused(s.seal_json_kv(&["payload"], b"users/u1").map(drop));
    // The same sealer, bound, takes it.
    s.bound().seal(b"payload", b"users/u1").unwrap();
}

#[test]
fn bound_envelopes_cannot_be_moved_relabelled_or_spliced() {
    let opener = Opener::new(registry());
    let [old, new] = pairs();
    let s = sealer(0).bound();
    let a = s.seal(b"object a", b"objects/a").unwrap();
    let b = s.seal(b"object b", b"objects/b").unwrap();

    // Moved to another object name.
    let moved = opener.open(&a.metadata, &a.body, b"objects/b").unwrap_err();
    assert!(matches!(moved, Error::DecryptionFailed { .. }));

    // Relabelled with the other key id (which is registered and active).
    let mut relabelled = a.metadata.clone();
    relabelled.key_id = new.key_id.clone();
    let err = opener.open(&relabelled, &a.body, b"objects/a").unwrap_err();
    assert_eq!(err.telemetry().unwrap().outcome, Outcome::AllFailed);

    // Cross-object: a's envelope with b's body, and b's wrapped key in a's metadata. Both must be
    // refused as failed decryptions after trying both registered keys. The last cause is that of
    // the last candidate (the active key, which never wrapped either), so the cause of each
    // refusal is pinned with the record's key alone (authoritative key id).
    let record_key_only = Opener::new(registry()).with_policy(OpenPolicy {
        candidates: CandidatePolicy {
            max_attempts: None,
            authoritative_key_id: true,
        },
        require_bound: false,
    });
    let refused = |opener: &Opener, metadata, body, attempts, cause| {
        let err = opener.open(metadata, body, b"objects/a").unwrap_err();
        assert!(matches!(err, Error::DecryptionFailed { .. }), "{err:?}");
        assert_eq!(err.code(), "decryption_failed");
        assert_eq!(err.attempts(), Some(attempts));
        assert_eq!(err.last_cause(), Some(cause));
        assert_eq!(err.telemetry().unwrap().outcome, Outcome::AllFailed);
    };
    // Another object's body: a's data key unwraps (same key, same label), and AES-GCM refuses b's
    // body under it.
    refused(&opener, &a.metadata, &b.body, 2, FailureCause::KeyUnwrap);
    refused(
        &record_key_only,
        &a.metadata,
        &b.body,
        1,
        FailureCause::Authentication,
    );
    // Another object's wrapped key: it was wrapped under b's context in the OAEP label, so even
    // the key it was wrapped for cannot unwrap it as a's.
    let mut spliced = a.metadata.clone();
    spliced.wrapped_key = b.metadata.wrapped_key.clone();
    refused(&opener, &spliced, &a.body, 2, FailureCause::KeyUnwrap);
    refused(
        &record_key_only,
        &spliced,
        &a.body,
        1,
        FailureCause::KeyUnwrap,
    );

    // The same relabelling of a 1.0 envelope still opens: the reference binds nothing.
    let v1 = sealer(0).seal(b"legacy", b"").unwrap();
    let mut v1_relabelled = v1.metadata.clone();
    v1_relabelled.key_id = new.key_id.clone();
    let opened = opener.open(&v1_relabelled, &v1.body, b"").unwrap();
    assert_eq!(
        opened.telemetry.selected_key_id.as_deref(),
        Some(old.key_id.as_str())
    );
    assert_eq!(opened.telemetry.outcome, Outcome::FallbackHit);
}

#[test]
fn require_bound_refuses_unbound_envelopes_before_any_key_is_used() {
    let opener = Opener::new(registry()).with_policy(OpenPolicy {
        require_bound: true,
        ..OpenPolicy::default()
    });
    let v1 = sealer(0).seal(b"x", b"").unwrap();
    assert!(matches!(
        opener.open(&v1.metadata, &v1.body, b""),
        Err(Error::VersionNotAllowed)
    ));
    let bound = sealer(0).bound().seal(b"x", b"ctx").unwrap();
    assert!(opener.open(&bound.metadata, &bound.body, b"ctx").is_ok());
}

#[test]
fn attempt_bound_and_authoritative_key_id() {
    let [old, new] = pairs();
    // A 1.0 envelope under the old key but labelled with the active key's id.
    let mut object = sealer(0).seal(b"x", b"").unwrap();
    object.metadata.key_id = new.key_id.clone();

    let unbounded = Opener::new(registry());
    assert_eq!(
        unbounded
            .open(&object.metadata, &object.body, b"")
            .unwrap()
            .telemetry
            .attempt_count,
        2
    );

    let one = Opener::new(registry()).with_policy(OpenPolicy {
        candidates: CandidatePolicy {
            max_attempts: Some(1),
            authoritative_key_id: false,
        },
        require_bound: false,
    });
    let err = one.open(&object.metadata, &object.body, b"").unwrap_err();
    assert_eq!(err.attempts(), Some(1));

    let authoritative = Opener::new(registry()).with_policy(OpenPolicy {
        candidates: CandidatePolicy {
            max_attempts: None,
            authoritative_key_id: true,
        },
        require_bound: false,
    });
    assert_eq!(
        authoritative
            .open(&object.metadata, &object.body, b"")
            .unwrap_err()
            .attempts(),
        Some(1)
    );
    // An unknown record key id is not authoritative: normal candidates apply.
    object.metadata.key_id = "unknown".into();
    let opened = authoritative
        .open(&object.metadata, &object.body, b"")
        .unwrap();
    assert_eq!(
        opened.telemetry.selected_key_id.as_deref(),
        Some(old.key_id.as_str())
    );
    assert_eq!(
        opened.telemetry.attempt_count, 2,
        "active key first, then the old one"
    );

    let zero = Opener::new(registry()).with_policy(OpenPolicy {
        candidates: CandidatePolicy {
            max_attempts: Some(0),
            authoritative_key_id: false,
        },
        require_bound: false,
    });
    let err = zero.open(&object.metadata, &object.body, b"").unwrap_err();
    assert_eq!(err.attempts(), Some(0));
    assert_eq!(err.last_cause(), None);
}

#[test]
fn rewrap_moves_to_the_active_key_without_touching_the_body() {
    let [old, new] = pairs();
    let opener = Opener::new(registry());
    for version in [EnvelopeVersion::V1, EnvelopeVersion::Bound] {
        let object = sealer(0)
            .with_version(version)
            .seal(b"keep me", sealed_for(version, b"obj"))
            .unwrap();
        let (rewrapped, telemetry) = opener.rewrap(&object.metadata, b"obj").unwrap();
        assert_eq!(
            telemetry.selected_key_id.as_deref(),
            Some(old.key_id.as_str())
        );
        assert_eq!(rewrapped.key_id, new.key_id);
        assert_eq!(rewrapped.data_iv, object.metadata.data_iv);
        assert_ne!(rewrapped.wrapped_key, object.metadata.wrapped_key);
        // Opens with a registry that no longer has the old key.
        let only_new =
            KeyRegistry::legacy(Scope::DataAtRest, &new.key_id, &new.private_key_pem, None)
                .unwrap();
        let opened = Opener::new(Arc::new(only_new))
            .open(&rewrapped, &object.body, b"obj")
            .unwrap();
        assert_eq!(&opened.plaintext[..], b"keep me");
        assert_eq!(opened.telemetry.outcome, Outcome::PrimaryHit);
    }
    let kv = sealer(0).seal_kv(b"kv", b"").unwrap();
    let (rewrapped, _) = opener.rewrap_kv(&kv, b"").unwrap();
    let (before, after) = (
        KvRecord::from_json(&kv).unwrap(),
        KvRecord::from_json(&rewrapped).unwrap(),
    );
    assert_eq!(before.ciphertext, after.ciphertext);
    assert_eq!(after.key_id, new.key_id);
    assert_eq!(
        &opener.open_kv(&rewrapped, b"").unwrap().plaintext[..],
        b"kv"
    );
}

/// Where the body is at hand it must authenticate before the data key moves to the new key: a
/// damaged record is refused (as opening refuses it), never carried forward under the new key.
#[test]
fn rewrap_refuses_a_body_that_does_not_authenticate() {
    let [old, new] = pairs();
    let opener = Opener::new(registry());
    for version in [EnvelopeVersion::V1, EnvelopeVersion::Bound] {
        let object = sealer(0)
            .with_version(version)
            .seal(b"keep me", sealed_for(version, b"obj"))
            .unwrap();
        let (checked, telemetry) = opener
            .rewrap_checked(&object.metadata, &object.body, b"obj")
            .unwrap();
        assert_eq!(checked.key_id, new.key_id);
        assert_eq!(
            telemetry.selected_key_id.as_deref(),
            Some(old.key_id.as_str())
        );
        assert_eq!(
            &opener
                .open(&checked, &object.body, b"obj")
                .unwrap()
                .plaintext[..],
            b"keep me"
        );
        for bit in [0, object.body.len() * 8 - 1] {
            let mut damaged = object.body.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            let opening = opener.open(&object.metadata, &damaged, b"obj").unwrap_err();
            let rewrapping = opener
                .rewrap_checked(&object.metadata, &damaged, b"obj")
                .unwrap_err();
            assert_eq!(rewrapping.code(), opening.code());
            assert_eq!(rewrapping.code(), "decryption_failed");
            // The metadata-only rewrap cannot see the damage: that is why it is not the default.
            assert!(opener.rewrap(&object.metadata, b"obj").is_ok());
        }
        let short = opener
            .rewrap_checked(&object.metadata, &object.body[..15], b"obj")
            .unwrap_err();
        assert_eq!(
            short.code(),
            opener
                .open(&object.metadata, &object.body[..15], b"obj")
                .unwrap_err()
                .code()
        );
    }
    // A KV record carries its body, so rewrap_kv always checks it.
    let kv = sealer(0).seal_kv(b"kv", b"").unwrap();
    let mut record = KvRecord::from_json(&kv).unwrap();
    let mut body = record.decode_ciphertext().unwrap();
    body[0] ^= 0x80;
    record.ciphertext = sealkit_envelope::encoding::encode(&body);
    let damaged = record.to_json();
    assert_eq!(
        opener.rewrap_kv(&damaged, b"").unwrap_err().code(),
        opener.open_kv(&damaged, b"").unwrap_err().code()
    );
}

#[test]
fn cached_data_keys_skip_rsa_and_keep_telemetry_identical() {
    let opener = Opener::new(registry()).with_cache(2);
    let cache_hits = |o: &Opener| o.cache().unwrap().hits();
    let object = sealer(0).seal(b"cached", b"").unwrap();
    let cold = opener.open(&object.metadata, &object.body, b"").unwrap();
    assert_eq!(cache_hits(&opener), 0);
    let warm = opener.open(&object.metadata, &object.body, b"").unwrap();
    assert_eq!(cache_hits(&opener), 1);
    assert_eq!(&warm.plaintext[..], b"cached");
    assert_eq!(cold.telemetry, warm.telemetry);

    // A tampered body with a cached key still fails.
    let mut body = object.body.clone();
    body[0] ^= 1;
    assert!(opener.open(&object.metadata, &body, b"").is_err());

    // Bounded: two more objects evict the first.
    for i in 0..2u8 {
        let o = sealer(1).seal(&[i], b"").unwrap();
        opener.open(&o.metadata, &o.body, b"").unwrap();
    }
    assert_eq!(opener.cache().unwrap().len(), 2);

    // A bound envelope relabelled with the other registered key id cannot ride on its cache
    // entry. The key id is only in the OAEP label, not in the GCM associated data: the entry's
    // key (the first pair's, which this opener holds) would open the body, so only the label in
    // the cache fingerprint refuses it. Without the cache the label refuses it too.
    let bound = sealer(0).bound().seal(b"b", b"ctx").unwrap();
    opener.open(&bound.metadata, &bound.body, b"ctx").unwrap();
    let hits = cache_hits(&opener);
    opener.open(&bound.metadata, &bound.body, b"ctx").unwrap();
    assert_eq!(cache_hits(&opener), hits + 1, "the entry is warm");
    let mut relabelled = bound.metadata.clone();
    relabelled.key_id.clone_from(&pairs()[1].key_id);
    assert_ne!(relabelled.key_id, bound.metadata.key_id);
    let err = opener.open(&relabelled, &bound.body, b"ctx").unwrap_err();
    assert_eq!(err.code(), "decryption_failed");
    assert_eq!(err.last_cause(), Some(FailureCause::KeyUnwrap));
    assert_eq!(cache_hits(&opener), hits + 1);
    // A changed context fails too, whatever the cache holds: it is also in the GCM associated
    // data, so the body would not open even under the cached key.
    assert!(opener.open(&bound.metadata, &bound.body, b"other").is_err());
    assert_eq!(cache_hits(&opener), hits + 1);
}

#[test]
fn a_shared_cache_opens_only_for_an_opener_holding_the_key_that_filled_it() {
    let [first, second] = pairs();
    let legacy = |scope, pem: &str| Arc::new(KeyRegistry::legacy(scope, "v1", pem, None).unwrap());
    let cache = Arc::new(DataKeyCache::new(8));
    // Two scopes in one process (as the reference's user worker runs them), both in legacy mode
    // under the same id, with independent keys; a v1 envelope's OAEP label is empty in both.
    let user_kv =
        Opener::new(legacy(Scope::UserKv, &first.private_key_pem)).with_shared_cache(cache.clone());
    let data_at_rest = Opener::new(legacy(Scope::DataAtRest, &second.private_key_pem))
        .with_shared_cache(cache.clone());
    let object = Sealer::from_public_key_pem("v1", &first.public_key_pem)
        .unwrap()
        .seal(b"user-kv secret", b"")
        .unwrap();
    assert_eq!(
        &user_kv
            .open(&object.metadata, &object.body, b"")
            .unwrap()
            .plaintext[..],
        b"user-kv secret"
    );
    assert_eq!(cache.len(), 1);
    let err = data_at_rest
        .open(&object.metadata, &object.body, b"")
        .unwrap_err();
    assert_eq!(err.attempts(), Some(1), "{err:?}");
    // A reload that replaced the key under the same id does not inherit the old key's entries.
    let reloaded = Opener::new(legacy(Scope::UserKv, &second.private_key_pem))
        .with_shared_cache(cache.clone());
    assert!(reloaded.open(&object.metadata, &object.body, b"").is_err());
    // The opener that holds the key still gets its cached answer.
    let hits = cache.hits();
    user_kv.open(&object.metadata, &object.body, b"").unwrap();
    assert_eq!(cache.hits(), hits + 1);
}

#[test]
fn a_failure_reports_the_same_telemetry_with_or_without_a_cached_key() {
    // Registry [old, new], new active: an envelope for the old key is found at the second attempt.
    let object = sealer(0).seal(b"cached", b"").unwrap();
    let cold = Opener::new(registry());
    let warm = Opener::new(registry()).with_cache(4);
    warm.open(&object.metadata, &object.body, b"").unwrap();
    let mut body = object.body.clone();
    body[0] ^= 1;
    let cold_err = cold.open(&object.metadata, &body, b"").unwrap_err();
    let warm_err = warm.open(&object.metadata, &body, b"").unwrap_err();
    // The cached key was found and tried, but did not open the body: the full search ran
    // (two RSA operations, as without a cache), so that is a miss, not a hit.
    let cache = warm.cache().unwrap();
    assert_eq!(
        (cache.hits(), cache.misses()),
        (0, 2),
        "cold fill, then a failed open"
    );
    assert_eq!(warm_err.attempts(), Some(2));
    assert!(cold_err.telemetry().is_some());
    assert_eq!(cold_err.telemetry(), warm_err.telemetry());
    assert_eq!(cold_err.to_string(), warm_err.to_string());
    assert_eq!(cold_err.last_cause(), warm_err.last_cause());
}

#[test]
fn registry_configuration_errors_are_distinct() {
    let [old, new] = pairs();
    let nothing = KeyRegistry::from_env_lookup(Scope::UserKv, &env(&[])).unwrap_err();
    assert!(matches!(
        nothing,
        Error::RegistryNotConfigured { scope: "user-kv" }
    ));
    let blank = KeyRegistry::from_env_lookup(
        Scope::UserKv,
        &env(&[
            ("USER_KV_ENCRYPTION_KEYS_JSON", "   "),
            ("USER_KV_ENCRYPTION_PRIVATE_KEY", " "),
        ]),
    )
    .unwrap_err();
    assert_eq!(blank.code(), "registry_not_configured");
    let no_id = KeyRegistry::from_env_lookup(
        Scope::UserKv,
        &env(&[("USER_KV_ENCRYPTION_PRIVATE_KEY", &old.private_key_pem)]),
    )
    .unwrap_err();
    assert_eq!(no_id.code(), "legacy_key_id_missing");
    let bad_pem = KeyRegistry::from_json(Scope::Export, r#"{"k":"not a pem"}"#, None).unwrap_err();
    assert_eq!(bad_pem.code(), "invalid_private_key");
    assert_eq!(
        bad_pem.to_string(),
        "export key registry: the key under ID \"k\" is not a PKCS#8 PEM RSA private key"
    );
    let override_missing =
        KeyRegistry::from_json(Scope::DataAtRest, &nested_json(None), Some("ghost")).unwrap_err();
    assert_eq!(override_missing.code(), "active_key_not_in_registry");

    // Registry mode with the write side configured: validated against the registry.
    let json = nested_json(Some(&new.key_id));
    let ok = KeyRegistry::from_env_lookup(
        Scope::DataAtRest,
        &env(&[
            ("DATA_AT_REST_ENCRYPTION_KEYS_JSON", &json),
            (
                "DATA_AT_REST_ENCRYPTION_PUBLIC_KEY",
                &new.public_key_pem.replace('\n', "\\n"),
            ),
            ("DATA_AT_REST_ENCRYPTION_KEY_ID", &new.key_id),
        ]),
    )
    .unwrap();
    assert_eq!(ok.active_key_id(), Some(new.key_id.as_str()));
    let mismatch = KeyRegistry::from_env_lookup(
        Scope::DataAtRest,
        &env(&[
            ("DATA_AT_REST_ENCRYPTION_KEYS_JSON", &json),
            ("DATA_AT_REST_ENCRYPTION_PUBLIC_KEY", &old.public_key_pem),
            ("DATA_AT_REST_ENCRYPTION_KEY_ID", &new.key_id),
        ]),
    )
    .unwrap_err();
    assert_eq!(mismatch.code(), "public_key_mismatch");
    let unknown = KeyRegistry::from_env_lookup(
        Scope::DataAtRest,
        &env(&[
            ("DATA_AT_REST_ENCRYPTION_KEYS_JSON", &json),
            ("DATA_AT_REST_ENCRYPTION_PUBLIC_KEY", &old.public_key_pem),
            ("DATA_AT_REST_ENCRYPTION_KEY_ID", "elsewhere"),
        ]),
    )
    .unwrap_err();
    assert_eq!(unknown.code(), "write_key_not_in_registry");
    let incomplete = KeyRegistry::from_env_lookup(
        Scope::DataAtRest,
        &env(&[
            ("DATA_AT_REST_ENCRYPTION_KEYS_JSON", &json),
            ("DATA_AT_REST_ENCRYPTION_PUBLIC_KEY", &old.public_key_pem),
        ]),
    )
    .unwrap_err();
    assert_eq!(incomplete.code(), "write_key_incomplete");
}

#[test]
fn keys_below_2048_bits_are_refused() {
    let small =
        rsa::RsaPrivateKey::new(&mut rand::rand_core::UnwrapErr(rand::rngs::SysRng), 1024).unwrap();
    let pem = small.to_pkcs8_pem(LineEnding::LF).unwrap();
    let err = KeyRegistry::from_json(
        Scope::DataAtRest,
        &serde_json::json!({"small": pem.as_str()}).to_string(),
        None,
    )
    .unwrap_err();
    assert_eq!(err.code(), "key_too_small");
    let public = small
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    assert!(matches!(
        Sealer::from_public_key_pem("small", &public),
        Err(Error::KeyTooSmall { bits: 1024 })
    ));
    assert!(matches!(
        Sealer::new("small", small.to_public_key()),
        Err(Error::KeyTooSmall { .. })
    ));
}

/// A context with `1.0` is refused before the existing object is opened (an RSA operation) or the
/// caller's edit runs; with the bound version the same call goes through.
#[test]
fn audit_reseal_refuses_a_context_for_v1_before_opening_anything() {
    let opener = Opener::new(registry());
    let existing = sealer(0).bound().seal(b"[]", b"audit/day").unwrap();
    let stored = || StoredObject {
        metadata: &existing.metadata,
        body: &existing.body,
    };
    let mut edited = false;
    let err = audit::reseal_with(
        &opener,
        Some(stored()),
        b"audit/day",
        EnvelopeVersion::V1,
        |_| {
            edited = true;
            Ok(())
        },
    )
    .unwrap_err();
    assert!(matches!(err, Error::ContextNotBound), "{err:?}");
    assert!(!edited);
    let resealed = audit::reseal_with(
        &opener,
        Some(stored()),
        b"audit/day",
        EnvelopeVersion::Bound,
        |_| Ok(()),
    )
    .unwrap();
    assert!(resealed.telemetry.is_some());
}

#[test]
fn audit_pattern_reseals_under_the_active_key() {
    let [old, new] = pairs();
    let opener = Opener::new(registry());
    let first = audit::append_json_entry(
        &opener,
        None,
        b"",
        EnvelopeVersion::V1,
        &serde_json::json!({"n": 1}),
    )
    .unwrap();
    assert!(first.telemetry.is_none());
    assert_eq!(first.object.metadata.key_id, new.key_id);

    // An existing day file written under the old key.
    let existing = sealer(0)
        .seal_json(&serde_json::json!([{"n": 0}]), b"")
        .unwrap();
    assert_eq!(existing.metadata.key_id, old.key_id);
    let stored = StoredObject {
        metadata: &existing.metadata,
        body: &existing.body,
    };
    let next = audit::append_json_entry(
        &opener,
        Some(stored),
        b"",
        EnvelopeVersion::V1,
        &serde_json::json!({"n": 1}),
    )
    .unwrap();
    assert_eq!(next.object.metadata.key_id, new.key_id);
    let (entries, _): (serde_json::Value, _) = opener
        .open_json(&next.object.metadata, &next.object.body, b"")
        .unwrap();
    assert_eq!(entries, serde_json::json!([{"n": 0}, {"n": 1}]));

    // Fails closed: an existing object that does not open is not treated as empty.
    let mut body = existing.body.clone();
    body[3] ^= 0x10;
    let broken = StoredObject {
        metadata: &existing.metadata,
        body: &body,
    };
    assert!(
        audit::append_json_entry(
            &opener,
            Some(broken),
            b"",
            EnvelopeVersion::V1,
            &serde_json::json!(2)
        )
        .is_err()
    );
}

#[test]
fn no_secret_or_internal_detail_in_debug_or_errors() {
    let [old, new] = pairs();
    let pem_body = old.private_key_pem.lines().nth(3).unwrap().to_owned();
    let reg = registry();
    let pair_debug = format!("{old:?}");
    assert!(!pair_debug.contains(&pem_body) && pair_debug.contains("[REDACTED]"));
    let reg_debug = format!("{reg:?}");
    assert!(!reg_debug.contains(&pem_body) && reg_debug.contains("[REDACTED]"));
    let doc = RegistryDocument::parse(Scope::DataAtRest, &nested_json(None)).unwrap();
    let doc_debug = format!("{doc:?}");
    assert!(!doc_debug.contains(&pem_body) && doc_debug.contains("[REDACTED]"));

    let opener = Opener::new(reg).with_cache(4);
    let object = sealer(0).seal(b"top secret plaintext", b"").unwrap();
    let opened = opener.open(&object.metadata, &object.body, b"").unwrap();
    let opened_debug = format!("{opened:?}");
    assert!(!opened_debug.contains("top secret") && opened_debug.contains("[REDACTED]"));
    // The opener prints no stand-in: it does not print its registry at all.
    assert!(!format!("{opener:?}").contains(&pem_body));

    // A failed decryption says nothing about the registry.
    let mut body = object.body.clone();
    body[0] ^= 1;
    let mut metadata = object.metadata.clone();
    metadata.wrapped_key.replace_range(
        0..1,
        if metadata.wrapped_key.starts_with('A') {
            "B"
        } else {
            "A"
        },
    );
    for err in [
        opener.open(&metadata, &body, b"").unwrap_err(),
        Opener::new(registry())
            .open(&object.metadata, &body, b"")
            .unwrap_err(),
    ] {
        let shown = format!("{err} {}", err.code());
        for detail in [
            old.key_id.as_str(),
            new.key_id.as_str(),
            "2 ",
            "attempt",
            "DATA_AT_REST",
            "registry",
        ] {
            assert!(!shown.contains(detail), "{shown:?} reveals {detail:?}");
        }
    }

    // Errors from secret input never echo it.
    let secret_pem = format!("-----BEGIN PRIVATE KEY-----\n{pem_body}\n-----END PRIVATE KEY-----");
    let err = KeyRegistry::from_json(
        Scope::DataAtRest,
        &serde_json::json!({"k": secret_pem}).to_string(),
        None,
    )
    .unwrap_err();
    assert!(!format!("{err} {err:?}").contains(&pem_body));
    let err = KeyRegistry::from_env_lookup(
        Scope::DataAtRest,
        &env(&[(
            "DATA_AT_REST_ENCRYPTION_KEYS_JSON",
            &format!("{{\"k\":\"{pem_body}\""),
        )]),
    )
    .unwrap_err();
    assert!(!format!("{err} {err:?}").contains(&pem_body));
    assert!(!format!("{err}").contains("DATA_AT_REST_ENCRYPTION"));
}

/// `Debug` of a failed decryption is as quiet as its message: `{err:?}` lands in panics and
/// catch-all error bodies, and the telemetry it carries describes the registry.
#[test]
fn a_failed_decryption_debugs_without_its_telemetry() {
    let [old, new] = pairs();
    let record_key_id = "record-key-nobody-registered";
    let object = Sealer::from_public_key_pem(record_key_id, &old.public_key_pem)
        .unwrap()
        .seal(b"payload", b"")
        .unwrap();
    let mut body = object.body.clone();
    body[0] ^= 1;
    let err = Opener::new(registry())
        .with_telemetry_scope("audit-at-rest")
        .open(&object.metadata, &body, b"")
        .unwrap_err();
    // What the test hides must really be there, or the assertions below prove nothing.
    let telemetry = err
        .telemetry()
        .expect("a decryption failure carries telemetry");
    assert_eq!(telemetry.record_key_id.as_deref(), Some(record_key_id));
    assert_eq!(telemetry.scope, "audit-at-rest");
    assert_eq!(telemetry.attempt_count, 2, "every registered key was tried");
    let reason = telemetry.reason.clone().unwrap();

    let shown = format!("{err:?}");
    assert!(shown.starts_with("DecryptionFailed {"), "{shown}");
    assert!(shown.contains("\"decryption_failed\""), "{shown}");
    assert!(shown.contains("[REDACTED]"), "{shown}");
    for detail in [
        record_key_id,
        "audit-at-rest",
        Scope::DataAtRest.label(),
        // The count itself is one digit, which other text may contain; its field's names are not.
        "attempt",
        "Attempt",
        reason.as_str(),
        old.key_id.as_str(),
        new.key_id.as_str(),
    ] {
        assert!(!shown.contains(detail), "{shown:?} reveals {detail:?}");
    }
    // The alternate form goes through the same impl.
    assert!(!format!("{err:#?}").contains(record_key_id));
}

#[test]
fn key_ids_that_may_be_secrets_stay_out_of_errors() {
    let [old, new] = pairs();
    let pem_body = old.private_key_pem.lines().nth(3).unwrap().to_owned();
    let json = nested_json(Some(&new.key_id));
    let check = |err: Error, what: &str| {
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(&pem_body), "{what}: {shown}");
        assert!(!shown.contains("BEGIN"), "{what}: {shown}");
        assert!(
            !shown.contains('\n') && !shown.contains('\r'),
            "{what}: {shown}"
        );
        assert!(shown.contains("that is not shown"), "{what}: {shown}");
    };
    // A private key pasted into the active-key override, raw or with escaped newlines.
    for pasted in [
        old.private_key_pem.to_string(),
        old.private_key_pem.replace('\n', "\\n"),
    ] {
        let err = KeyRegistry::from_env_lookup(
            Scope::DataAtRest,
            &env(&[
                ("DATA_AT_REST_ENCRYPTION_KEYS_JSON", &json),
                ("DATA_AT_REST_ENCRYPTION_ACTIVE_KEY_ID", &pasted),
            ]),
        )
        .unwrap_err();
        assert_eq!(err.code(), "active_key_not_in_registry");
        check(err, "active key override");
    }
    // A flat registry entry written the wrong way round: the private key is the "id".
    let mut backwards = serde_json::Map::new();
    backwards.insert(old.private_key_pem.to_string(), "k1".into());
    let err = KeyRegistry::from_env_lookup(
        Scope::DataAtRest,
        &env(&[(
            "DATA_AT_REST_ENCRYPTION_KEYS_JSON",
            &serde_json::Value::Object(backwards).to_string(),
        )]),
    )
    .unwrap_err();
    assert_eq!(err.code(), "registry_key_id_invalid");
    check(err, "backwards entry");
    // A registry whose id would forge a second stderr line is refused outright, and an override
    // or write-side id that would is not shown either.
    let forged = "k1\nerror: forged";
    let mut forging = serde_json::Map::new();
    forging.insert(forged.to_owned(), old.private_key_pem.to_string().into());
    let forging = serde_json::Value::Object(forging).to_string();
    let err = KeyRegistry::from_json(Scope::DataAtRest, &forging, None).unwrap_err();
    assert_eq!(err.code(), "registry_key_id_invalid");
    check(err, "forged registry id");
    let err = KeyRegistry::from_json(Scope::DataAtRest, &json, Some("elsewhere\nerror: forged"))
        .unwrap_err();
    assert_eq!(err.code(), "active_key_not_in_registry");
    check(err, "forged override");
    // A write side can no longer take such an id: what it sealed no registry could open.
    let err = Sealer::new(
        "elsewhere\nerror: forged",
        rsa::RsaPublicKey::from(
            &sealkit_envelope::keys::parse_private_key_pem(&new.private_key_pem).unwrap(),
        ),
    )
    .unwrap_err();
    assert_eq!(err.code(), "invalid_key_id");
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains("forged") && !shown.contains('\n'),
        "{shown}"
    );
}

/// A private key pasted into `{SCOPE}_KEY_ID` would otherwise become a registered id, and every
/// successful open would put it in telemetry (`selectedKeyId`), logs and `Debug`.
#[test]
fn a_private_key_in_the_key_id_variable_is_refused_without_being_shown() {
    let [old, new] = pairs();
    let pem_lines: Vec<&str> = old
        .private_key_pem
        .lines()
        .filter(|line| !line.is_empty())
        .collect();
    assert!(pem_lines.len() > 3);
    for pasted in [
        old.private_key_pem.to_string(),
        old.private_key_pem.replace('\n', "\\n"),
    ] {
        let err = KeyRegistry::from_env_lookup(
            Scope::UserKv,
            &env(&[
                ("USER_KV_ENCRYPTION_PRIVATE_KEY", &new.private_key_pem),
                ("USER_KV_ENCRYPTION_KEY_ID", &pasted),
            ]),
        )
        .unwrap_err();
        assert_eq!(err.code(), "registry_key_id_invalid");
        assert!(matches!(err, Error::RegistryKeyIdInvalid { .. }));
        for shown in [err.to_string(), format!("{err:?}"), format!("{err:#?}")] {
            for line in &pem_lines {
                assert!(!shown.contains(line), "{shown} shows {line}");
            }
            assert!(!shown.contains("BEGIN"), "{shown}");
            assert!(shown.contains("that is not shown"), "{shown}");
        }
        assert!(!format!("{err} {err:?}").contains('\n'));
        // The direct API refuses it alike.
        let err = KeyRegistry::legacy(Scope::UserKv, &pasted, &new.private_key_pem, None);
        assert_eq!(err.unwrap_err().code(), "registry_key_id_invalid");
    }
    // An ordinary id still works, and is what telemetry and `Debug` show.
    let registry = KeyRegistry::from_env_lookup(
        Scope::UserKv,
        &env(&[
            ("USER_KV_ENCRYPTION_PRIVATE_KEY", &new.private_key_pem),
            ("USER_KV_ENCRYPTION_KEY_ID", &format!(" {} ", new.key_id)),
        ]),
    )
    .unwrap();
    assert_eq!(registry.active_key_id(), Some(new.key_id.as_str()));
    assert!(format!("{registry:?}").contains(&format!("\"{}\"", new.key_id)));
    let record = sealer(1).seal_kv(b"payload", b"").unwrap();
    let opened = Opener::new(Arc::new(registry))
        .open_kv(&record, b"")
        .unwrap();
    assert_eq!(
        opened.telemetry.selected_key_id.as_deref(),
        Some(new.key_id.as_str())
    );
}

/// "A non-blank `{SCOPE}_ACTIVE_KEY_ID` wins": a blank or whitespace-only one is not set at all,
/// and the JSON's `activeKeyId` (registry mode) or `{SCOPE}_KEY_ID` (legacy mode) decides.
#[test]
fn a_blank_active_key_override_falls_through() {
    let [old, new] = pairs();
    for blank in ["", " ", "\t\n "] {
        let registry = KeyRegistry::from_env_lookup(
            Scope::Export,
            &env(&[
                (
                    "EXPORT_ENCRYPTION_KEYS_JSON",
                    &nested_json(Some(&old.key_id)),
                ),
                ("EXPORT_ENCRYPTION_ACTIVE_KEY_ID", blank),
            ]),
        )
        .unwrap();
        assert_eq!(
            registry.active_key_id(),
            Some(old.key_id.as_str()),
            "{blank:?}"
        );
        // No activeKeyId in the JSON either: no active key, not an error.
        let registry = KeyRegistry::from_env_lookup(
            Scope::Export,
            &env(&[
                ("EXPORT_ENCRYPTION_KEYS_JSON", &nested_json(None)),
                ("EXPORT_ENCRYPTION_ACTIVE_KEY_ID", blank),
            ]),
        )
        .unwrap();
        assert_eq!(registry.active_key_id(), None, "{blank:?}");
        let legacy = KeyRegistry::from_env_lookup(
            Scope::Export,
            &env(&[
                ("EXPORT_ENCRYPTION_PRIVATE_KEY", &new.private_key_pem),
                ("EXPORT_ENCRYPTION_KEY_ID", &new.key_id),
                ("EXPORT_ENCRYPTION_ACTIVE_KEY_ID", blank),
            ]),
        )
        .unwrap();
        assert_eq!(
            legacy.active_key_id(),
            Some(new.key_id.as_str()),
            "{blank:?}"
        );
    }
    // A non-blank override still wins (trimmed), so the cases above did fall through.
    let registry = KeyRegistry::from_env_lookup(
        Scope::Export,
        &env(&[
            (
                "EXPORT_ENCRYPTION_KEYS_JSON",
                &nested_json(Some(&old.key_id)),
            ),
            (
                "EXPORT_ENCRYPTION_ACTIVE_KEY_ID",
                &format!(" {} ", new.key_id),
            ),
        ]),
    )
    .unwrap();
    assert_eq!(registry.active_key_id(), Some(new.key_id.as_str()));
}

/// "Unwrapped key must be 32 bytes": an envelope whose wrapped key is well-formed RSA-OAEP for the
/// right key but holds 16 or 33 bytes fails, and the last cause says why.
#[test]
fn an_unwrapped_key_that_is_not_32_bytes_is_refused() {
    let [old, _] = pairs();
    let public = sealkit_envelope::keys::parse_public_key_pem(&old.public_key_pem).unwrap();
    let registry = Arc::new(
        KeyRegistry::legacy(Scope::DataAtRest, &old.key_id, &old.private_key_pem, None).unwrap(),
    );
    let opener = Opener::new(registry);
    let genuine = sealer(0).seal(b"payload", b"").unwrap();
    for len in [16, 33] {
        let wrapped = sealkit_envelope::keys::wrap_data_key(&public, &vec![7; len], b"").unwrap();
        let mut metadata = genuine.metadata.clone();
        metadata.wrapped_key = sealkit_envelope::encoding::encode(&wrapped);
        let err = opener.open(&metadata, &genuine.body, b"").unwrap_err();
        assert_eq!(err.code(), "decryption_failed", "{len}");
        assert_eq!(err.last_cause(), Some(FailureCause::KeyLength), "{len}");
        assert_eq!(err.attempts(), Some(1), "{len}");
    }
    // The same wrap of a 32-byte key gets past the length check (to fail authentication, as the
    // body was sealed under another data key).
    let wrapped = sealkit_envelope::keys::wrap_data_key(&public, &[7; 32], b"").unwrap();
    let mut metadata = genuine.metadata.clone();
    metadata.wrapped_key = sealkit_envelope::encoding::encode(&wrapped);
    let err = opener.open(&metadata, &genuine.body, b"").unwrap_err();
    assert_eq!(err.last_cause(), Some(FailureCause::Authentication));
}

/// "Keys generated RSA-2048 (e = 65537), private PKCS#8 PEM, public SPKI PEM."
#[test]
fn generated_keys_are_rsa_2048_with_exponent_65537() {
    use rsa::traits::PublicKeyParts;
    for pair in pairs() {
        let private = sealkit_envelope::keys::parse_private_key_pem(&pair.private_key_pem).unwrap();
        let public = sealkit_envelope::keys::parse_public_key_pem(&pair.public_key_pem).unwrap();
        assert!(
            pair.private_key_pem
                .starts_with("-----BEGIN PRIVATE KEY-----\n")
        );
        assert!(
            pair.public_key_pem
                .starts_with("-----BEGIN PUBLIC KEY-----\n")
        );
        for key in [&private.to_public_key(), &public] {
            assert_eq!(sealkit_envelope::keys::public_key_bits(key), 2048);
            assert_eq!(key.n_bytes().len(), 256);
            assert_eq!(&key.e_bytes()[..], [0x01, 0x00, 0x01]);
        }
        assert_eq!(private.to_public_key(), public);
    }
}

#[test]
fn seal_json_round_trips_payloads_larger_than_its_first_buffer() {
    let opener = Opener::new(registry());
    let value = serde_json::json!({
        "entries": (0..2000).map(|i| format!("entry {i} with \"quotes\"\n")).collect::<Vec<_>>()
    });
    let object = sealer(0).seal_json(&value, b"").unwrap();
    let opened = opener.open(&object.metadata, &object.body, b"").unwrap();
    assert_eq!(
        &opened.plaintext[..],
        serde_json::to_vec(&value).unwrap().as_slice()
    );
}

#[test]
fn spki_helper_round_trips_generated_keys() {
    let [old, _] = pairs();
    let public = sealkit_envelope::keys::parse_public_key_pem(&old.public_key_pem).unwrap();
    let private = sealkit_envelope::keys::parse_private_key_pem(&old.private_key_pem).unwrap();
    assert_eq!(public, private.to_public_key());
    assert!(
        old.private_key_pem
            .starts_with("-----BEGIN PRIVATE KEY-----\n")
    );
    assert!(
        old.public_key_pem
            .starts_with("-----BEGIN PUBLIC KEY-----\n")
    );
    let _ = private.to_pkcs8_der().unwrap();
}
