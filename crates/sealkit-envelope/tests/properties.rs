//! Property tests: round trips in both forms, and single-bit flips in every envelope field and in the
//! body rejected.

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use sealkit_envelope::{
    EnvelopeMetadata, GeneratedKeyPair, KeyRegistry, KvRecord, Opener, Scope, Sealer, encoding,
    generate_key_pair,
};

fn pair() -> &'static GeneratedKeyPair {
    static PAIR: OnceLock<GeneratedKeyPair> = OnceLock::new();
    PAIR.get_or_init(|| generate_key_pair(2048).unwrap())
}

/// A cached opener: flips that leave the wrapped key alone hit the cache and cost no RSA operation.
fn opener() -> &'static Opener {
    static OPENER: OnceLock<Opener> = OnceLock::new();
    OPENER.get_or_init(|| {
        let p = pair();
        let reg =
            KeyRegistry::legacy(Scope::DataAtRest, &p.key_id, &p.private_key_pem, None).unwrap();
        Opener::new(Arc::new(reg)).with_cache(64)
    })
}

fn sealer() -> Sealer {
    Sealer::from_public_key_pem(&pair().key_id, &pair().public_key_pem).unwrap()
}

/// A fixed sealed object per version, so flips are tried against one known-good envelope.
fn fixture(bound: bool) -> &'static (EnvelopeMetadata, Vec<u8>, String) {
    static V1: OnceLock<(EnvelopeMetadata, Vec<u8>, String)> = OnceLock::new();
    static BOUND: OnceLock<(EnvelopeMetadata, Vec<u8>, String)> = OnceLock::new();
    let cell = if bound { &BOUND } else { &V1 };
    cell.get_or_init(|| {
        let s = if bound { sealer().bound() } else { sealer() };
        let object = s
            .seal(
                b"{\"entries\":[\"a fixed payload of some length\"]}",
                b"ctx",
            )
            .unwrap();
        let kv = object.clone().into_kv().to_json();
        (object.metadata, object.body, kv)
    })
}

fn flip_in_base64(text: &str, bit: usize) -> String {
    let mut bytes = encoding::decode(text, 1 << 20).unwrap();
    let bit = bit % (bytes.len() * 8);
    bytes[bit / 8] ^= 1 << (bit % 8);
    encoding::encode(&bytes)
}

fn flip_in_string(text: &str, bit: usize) -> Option<String> {
    let mut bytes = text.as_bytes().to_vec();
    let bit = bit % (bytes.len() * 8);
    bytes[bit / 8] ^= 1 << (bit % 8);
    String::from_utf8(bytes).ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn round_trip_both_forms(
        payload in proptest::collection::vec(any::<u8>(), 0..2048),
        context in proptest::collection::vec(any::<u8>(), 0..64),
        bound in any::<bool>(),
    ) {
        let s = if bound { sealer().bound() } else { sealer() };
        let object = s.seal(&payload, &context).unwrap();
        prop_assert_eq!(object.body.len(), payload.len() + 16);
        let opened = opener().open(&object.metadata, &object.body, &context).unwrap();
        prop_assert_eq!(&opened.plaintext[..], &payload[..]);
        let kv = object.into_kv().to_json();
        let opened = opener().open_kv(&kv, &context).unwrap();
        prop_assert_eq!(&opened.plaintext[..], &payload[..]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn body_and_iv_bit_flips_rejected(bit in any::<usize>(), bound in any::<bool>()) {
        let (metadata, body, _) = fixture(bound);
        let mut flipped = body.clone();
        let b = bit % (flipped.len() * 8);
        flipped[b / 8] ^= 1 << (b % 8);
        prop_assert!(opener().open(metadata, &flipped, b"ctx").is_err());

        let mut m = metadata.clone();
        m.data_iv = flip_in_base64(&m.data_iv, bit);
        prop_assert!(opener().open(&m, body, b"ctx").is_err());
    }

    #[test]
    fn algorithm_version_and_bound_key_id_flips_rejected(bit in any::<usize>(), field in 0usize..3) {
        let (metadata, body, _) = fixture(true);
        let mut m = metadata.clone();
        let target = match field {
            0 => &mut m.algorithm,
            1 => &mut m.encryption_version,
            _ => &mut m.key_id,
        };
        let Some(flipped) = flip_in_string(target, bit) else { return Ok(()) };
        *target = flipped;
        prop_assert!(opener().open(&m, body, b"ctx").is_err());
    }

    #[test]
    fn every_bit_of_a_bound_kv_record_matters(bit in any::<usize>()) {
        let (_, _, kv) = fixture(true);
        if let Some(flipped) = flip_in_string(kv, bit) {
            prop_assert!(opener().open_kv(&flipped, b"ctx").is_err(), "{}", flipped);
        }
    }
}

proptest! {
    // Each wrapped-key flip costs a blinded RSA private operation.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn wrapped_key_bit_flips_rejected(bit in any::<usize>(), bound in any::<bool>()) {
        let (metadata, body, _) = fixture(bound);
        let mut m = metadata.clone();
        m.wrapped_key = flip_in_base64(&m.wrapped_key, bit);
        prop_assert!(opener().open(&m, body, b"ctx").is_err());
    }
}

#[test]
fn v1_key_id_is_not_authenticated_like_the_reference() {
    // Documented behaviour of "1.0": the key id only orders candidates.
    let (metadata, body, _) = fixture(false);
    let mut m = metadata.clone();
    m.key_id = "relabelled".into();
    assert!(opener().open(&m, body, b"ctx").is_ok());
}

#[test]
fn v1_kv_flips_outside_the_key_id_rejected() {
    let (metadata, _, kv) = fixture(false);
    let key_id_at = kv
        .find(&format!("\"keyId\":\"{}\"", metadata.key_id))
        .unwrap();
    let key_id_range = key_id_at + 9..key_id_at + 9 + metadata.key_id.len();
    // Every bit outside the key id value: exhaustive up to the wrapped key, then every 7th byte (each
    // wrapped-key flip costs an RSA operation).
    let record = KvRecord::from_json(kv).unwrap();
    let wrapped_at = kv.find("\"wrappedKey\"").unwrap();
    for byte in (0..kv.len()).filter(|i| !key_id_range.contains(i)) {
        if byte > wrapped_at + 16 && byte % 7 != 0 {
            continue;
        }
        for bit in 0..8 {
            if let Some(flipped) = flip_in_string(kv, byte * 8 + bit) {
                assert!(
                    opener().open_kv(&flipped, b"ctx").is_err(),
                    "byte {byte} bit {bit}"
                );
            }
        }
    }
    assert_eq!(record.to_json(), *kv);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The registry-document rules on generated JSON objects (the fuzz target's invariants).
    #[test]
    fn registry_documents_round_trip_through_the_nested_form(
        entries in proptest::collection::vec(
            ("[ a-c0-9]{0,4}", prop_oneof![
                "[ A-Z\\n]{0,6}".prop_map(serde_json::Value::from),
                any::<i32>().prop_map(serde_json::Value::from),
                Just(serde_json::Value::Null),
            ]),
            0..8,
        ),
        active in proptest::option::of("[ a-c]{0,3}"),
        nested in any::<bool>(),
    ) {
        let mut members: Vec<String> = entries
            .iter()
            .map(|(k, v)| format!("{}:{}", serde_json::Value::from(k.as_str()), v))
            .collect();
        let mut json = if nested {
            format!("{{\"keys\":{{{}}}", members.join(","))
        } else {
            format!("{{{}", members.join(","))
        };
        if let Some(a) = &active {
            members.clear();
            json.push_str(&format!("{}\"activeKeyId\":{}", if json.ends_with('{') { "" } else { "," }, serde_json::Value::from(a.as_str())));
        }
        json.push('}');
        let doc = sealkit_envelope::RegistryDocument::parse(Scope::DataAtRest, &json).unwrap();
        let mut seen = std::collections::HashSet::new();
        for (id, pem) in &doc.keys {
            prop_assert!(!id.is_empty() && id.trim() == id);
            prop_assert!(!pem.is_empty() && pem.trim() == pem.as_str());
            prop_assert!(seen.insert(id.clone()));
        }
        let again = sealkit_envelope::RegistryDocument::parse(Scope::DataAtRest, &doc.to_nested_json()).unwrap();
        prop_assert_eq!(again, doc);
    }
}
