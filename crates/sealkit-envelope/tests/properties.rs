//! Property tests: round trips in both forms; and single-bit flips rejected, exhaustively in the
//! body, `dataIv`, algorithm, version, the bound key id and every byte of the KV record (its
//! `ciphertext` field included) outside the wrapped key, and sampled in the wrapped key (each of its
//! flips costs an RSA operation). Each flip is refused with the error the damaged part calls for
//! (unsupported algorithm or version, not an envelope, bad encoding, or a failed decryption with
//! its cause), so a check that fails for the wrong reason is caught too.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use sealkit_envelope::{
    EnvelopeMetadata, Error, FailureCause, GeneratedKeyPair, IV_LEN, KeyRegistry, KvRecord, Opened,
    Opener, Scope, Sealer, TAG_LEN, encoding, generate_key_pair,
};

fn pair() -> &'static GeneratedKeyPair {
    static PAIR: OnceLock<GeneratedKeyPair> = OnceLock::new();
    PAIR.get_or_init(|| generate_key_pair(2048).unwrap())
}

/// A cached opener: an open that succeeds with an unchanged wrapped key costs no RSA operation (a
/// failed open still searches the candidates: see the exhaustive flips below).
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

/// The payload of the fixed objects. Its length is not a multiple of 3 once the tag is added, so the
/// KV ciphertext's last base64 character carries unused bits (a flip there must be refused too).
const PAYLOAD: &[u8] = b"{\"entries\":[\"a fixed payload of some length\"]}";

/// The context the fixed objects are sealed for.
const CTX: &[u8] = b"ctx";

/// A fixed sealed object per version, so flips are tried against one known-good envelope.
fn fixture(bound: bool) -> &'static (EnvelopeMetadata, Vec<u8>, String) {
    static V1: OnceLock<(EnvelopeMetadata, Vec<u8>, String)> = OnceLock::new();
    static BOUND: OnceLock<(EnvelopeMetadata, Vec<u8>, String)> = OnceLock::new();
    let cell = if bound { &BOUND } else { &V1 };
    cell.get_or_init(|| {
        let (s, context) = if bound {
            (sealer().bound(), CTX)
        } else {
            (sealer(), &b""[..])
        };
        let object = s.seal(PAYLOAD, context).unwrap();
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

/// Both envelope versions, as (name, `bound`).
const VERSIONS: [(&str, bool); 2] = [("1.0", false), ("sealkit-bound-1", true)];

/// Asserts that a flip was rejected as a failed authentication: the wrapped key unwrapped, and
/// AES-GCM refused.
fn assert_authentication_failure(result: Result<Opened, Error>, what: &str) {
    match result {
        Err(Error::DecryptionFailed { last_cause, .. }) => assert_eq!(
            last_cause,
            Some(FailureCause::Authentication),
            "{what}: wrong failure cause"
        ),
        Err(e) => panic!("{what}: expected a failed decryption, got {e}"),
        Ok(_) => panic!("{what}: opened"),
    }
}

/// Asserts that a flip was rejected because no candidate could unwrap the data key: RSA-OAEP refused
/// the wrapped key (altered, or, in a bound envelope, wrapped under another label).
fn assert_unwrap_failure(result: Result<Opened, Error>, what: &str) {
    match result {
        Err(Error::DecryptionFailed { last_cause, .. }) => assert_eq!(
            last_cause,
            Some(FailureCause::KeyUnwrap),
            "{what}: wrong failure cause"
        ),
        Err(e) => panic!("{what}: expected a failed decryption, got {e}"),
        Ok(_) => panic!("{what}: opened"),
    }
}

/// Every single-bit flip of every byte of `text` in `bytes`, calling `check(byte, bit, flipped)` for
/// each flip that leaves UTF-8 (an API taking `&str` cannot be handed any other). Returns
/// (flips checked, flips that were not UTF-8).
fn each_string_flip(
    text: &str,
    bytes: impl IntoIterator<Item = usize>,
    mut check: impl FnMut(usize, u32, String),
) -> (usize, usize) {
    let (mut checked, mut not_utf8) = (0, 0);
    for byte in bytes {
        for bit in 0..8 {
            let mut flipped = text.as_bytes().to_vec();
            flipped[byte] ^= 1 << bit;
            match String::from_utf8(flipped) {
                Ok(flipped) => {
                    check(byte, bit, flipped);
                    checked += 1;
                }
                Err(_) => not_utf8 += 1,
            }
        }
    }
    (checked, not_utf8)
}

/// The byte range of the string value of `"field"` in a compact JSON record.
fn value_range(json: &str, field: &str, value: &str) -> Range<usize> {
    let needle = format!("\"{field}\":\"{value}\"");
    let at = json
        .find(&needle)
        .unwrap_or_else(|| panic!("{field} not in {json}"));
    let start = at + field.len() + 4;
    start..start + value.len()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn round_trip_both_forms(
        payload in proptest::collection::vec(any::<u8>(), 0..2048),
        context in proptest::collection::vec(any::<u8>(), 0..64),
        bound in any::<bool>(),
    ) {
        // A 1.0 envelope binds no context (its sealer takes none); it opens under any.
        let (s, sealed_for) = if bound { (sealer().bound(), &context[..]) } else { (sealer(), &b""[..]) };
        let object = s.seal(&payload, sealed_for).unwrap();
        prop_assert_eq!(object.body.len(), payload.len() + 16);
        let opened = opener().open(&object.metadata, &object.body, &context).unwrap();
        prop_assert_eq!(&opened.plaintext[..], &payload[..]);
        let kv = object.into_kv().to_json();
        let opened = opener().open_kv(&kv, &context).unwrap();
        prop_assert_eq!(&opened.plaintext[..], &payload[..]);
    }
}

// Exhaustive flips. The cache spares the RSA operation only when the cached data key opens the body:
// a flip that fails under it falls back to the full candidate search (so failures report exactly
// what they report without a cache), which costs one RSA operation per failed open.

#[test]
fn every_body_bit_flip_rejected_in_both_versions() {
    for (version, bound) in VERSIONS {
        let (metadata, body, _) = fixture(bound);
        assert_eq!(body.len(), PAYLOAD.len() + TAG_LEN);
        assert!(opener().open(metadata, body, CTX).is_ok(), "{version}");
        for bit in 0..body.len() * 8 {
            let mut flipped = body.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert_authentication_failure(
                opener().open(metadata, &flipped, CTX),
                &format!("{version} body bit {bit}"),
            );
        }
    }
}

#[test]
fn every_data_iv_bit_flip_rejected_in_both_versions() {
    for (version, bound) in VERSIONS {
        let (metadata, body, _) = fixture(bound);
        let iv = encoding::decode(&metadata.data_iv, 64).unwrap();
        assert_eq!(iv.len(), IV_LEN);
        for bit in 0..IV_LEN * 8 {
            let mut m = metadata.clone();
            m.data_iv = flip_in_base64(&m.data_iv, bit);
            assert_authentication_failure(
                opener().open(&m, body, CTX),
                &format!("{version} dataIv bit {bit}"),
            );
        }
    }
}

#[test]
fn every_algorithm_version_and_bound_key_id_bit_flip_rejected() {
    for (version, bound) in VERSIONS {
        let (metadata, body, _) = fixture(bound);
        assert_eq!(metadata.encryption_version, version);
        // The key id of a `1.0` envelope only orders candidates (see the test below).
        let fields: &[&str] = if bound {
            &["algorithm", "encryptionVersion", "keyId"]
        } else {
            &["algorithm", "encryptionVersion"]
        };
        for &field in fields {
            let text = match field {
                "algorithm" => &metadata.algorithm,
                "encryptionVersion" => &metadata.encryption_version,
                _ => &metadata.key_id,
            };
            let (checked, not_utf8) =
                each_string_flip(text, 0..text.len(), |byte, bit, flipped| {
                    let mut m = metadata.clone();
                    *match field {
                        "algorithm" => &mut m.algorithm,
                        "encryptionVersion" => &mut m.encryption_version,
                        _ => &mut m.key_id,
                    } = flipped;
                    let what = format!("{version} {field} byte {byte} bit {bit}");
                    let result = opener().open(&m, body, CTX);
                    // Algorithm and version are checked exactly before any key is touched, so a
                    // flip there is refused as unsupported, not as a failed decryption. A bound
                    // key id is in the OAEP label, so the wrapped key no longer unwraps.
                    match field {
                        "algorithm" => assert!(
                            matches!(result, Err(Error::UnsupportedAlgorithm)),
                            "{what}: {result:?}"
                        ),
                        "encryptionVersion" => assert!(
                            matches!(result, Err(Error::UnsupportedVersion)),
                            "{what}: {result:?}"
                        ),
                        _ => assert_unwrap_failure(result, &what),
                    }
                });
            // The fields are ASCII: only the top bit of each byte leaves UTF-8.
            assert_eq!(
                (checked, not_utf8),
                (7 * text.len(), text.len()),
                "{version} {field}"
            );
        }
    }
}

#[test]
fn every_kv_record_bit_outside_the_wrapped_key_rejected_in_both_versions() {
    for (version, bound) in VERSIONS {
        let (metadata, body, kv) = fixture(bound);
        assert!(opener().open_kv(kv, CTX).is_ok(), "{version}");
        let record = KvRecord::from_json(kv).unwrap();
        assert_eq!(record.to_json(), *kv);
        let wrapped = value_range(kv, "wrappedKey", &metadata.wrapped_key);
        let key_id = value_range(kv, "keyId", &metadata.key_id);
        let ciphertext = value_range(kv, "ciphertext", &encoding::encode(body));
        assert_ne!(
            body.len() % 3,
            0,
            "the last ciphertext character should carry unused bits"
        );
        // The other authenticated fields are in the record too (and so all flipped below).
        for (field, value) in [
            ("algorithm", &metadata.algorithm),
            ("encryptionVersion", &metadata.encryption_version),
            ("dataIv", &metadata.data_iv),
        ] {
            value_range(kv, field, value);
        }
        // Every bit of the record, except: the wrapped key's value, sampled (every 7th byte; each of
        // its flips costs an RSA operation, and `wrapped_key_bit_flips_rejected` samples it too),
        // and a `1.0` key id, which is not authenticated.
        let bytes: Vec<usize> = (0..kv.len())
            .filter(|i| !wrapped.contains(i) || (i - wrapped.start).is_multiple_of(7))
            .filter(|i| bound || !key_id.contains(i))
            .collect();
        let expected_bytes = kv.len() - wrapped.len() + wrapped.len().div_ceil(7)
            - if bound { 0 } else { key_id.len() };
        assert_eq!(bytes.len(), expected_bytes, "{version}");
        assert!(ciphertext.clone().all(|i| bytes.contains(&i)));
        let mut seen: Vec<KvFlip> = Vec::new();
        let (checked, not_utf8) =
            each_string_flip(kv, bytes.iter().copied(), |byte, bit, flipped| {
                let what = format!("{version} byte {byte} bit {bit}: {flipped}");
                let expected = expected_kv_flip_error(kv, &flipped, &what);
                match opener().open_kv(&flipped, CTX) {
                    Ok(_) => panic!("{what}: opened"),
                    Err(e) => assert_eq!(kv_error_kind(&e), expected, "{what}: {e:?}"),
                }
                if !seen.contains(&expected) {
                    seen.push(expected);
                }
            });
        // Every kind of rejection the record can give is reached: the expectations above are not
        // satisfied by one arm alone.
        for kind in [
            KvFlip::NotAnEnvelope,
            KvFlip::UnsupportedAlgorithm,
            KvFlip::UnsupportedVersion,
            KvFlip::InvalidEncoding("dataIv"),
            KvFlip::InvalidEncoding("wrappedKey"),
            KvFlip::InvalidEncoding("ciphertext"),
            KvFlip::Failed(FailureCause::KeyUnwrap),
            KvFlip::Failed(FailureCause::Authentication),
        ] {
            assert!(
                seen.contains(&kind),
                "{version}: no flip gave {kind:?}: {seen:?}"
            );
        }
        // The record is ASCII: only the top bit of each byte leaves UTF-8.
        assert_eq!(
            (checked, not_utf8),
            (7 * bytes.len(), bytes.len()),
            "{version}"
        );
    }
}

/// How a flipped KV record was (or must be) refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KvFlip {
    /// Not JSON any more, or one of the six string fields is gone.
    NotAnEnvelope,
    UnsupportedAlgorithm,
    UnsupportedVersion,
    /// A base64 field (named as stored) that no longer decodes.
    InvalidEncoding(&'static str),
    /// A `dataIv` that decodes, but not to 12 bytes.
    InvalidIvLength,
    /// Well-formed, but no candidate opened it, for this last cause.
    Failed(FailureCause),
    /// Anything else (always a test failure).
    Other(&'static str),
}

fn kv_error_kind(e: &Error) -> KvFlip {
    match e {
        Error::NotAnEnvelope => KvFlip::NotAnEnvelope,
        Error::UnsupportedAlgorithm => KvFlip::UnsupportedAlgorithm,
        Error::UnsupportedVersion => KvFlip::UnsupportedVersion,
        Error::InvalidEncoding { field } => KvFlip::InvalidEncoding(field),
        Error::InvalidIvLength => KvFlip::InvalidIvLength,
        Error::DecryptionFailed {
            last_cause: Some(cause),
            ..
        } => KvFlip::Failed(*cause),
        other => KvFlip::Other(other.code()),
    }
}

/// The refusal a flipped KV record calls for, worked out from what the flip did to the record as a
/// generic JSON parser reads it (not through `KvRecord`, the code under test): a record that is not
/// JSON or lost a field is not an envelope; otherwise exactly one field changed, and that field
/// decides. Whether a changed base64 field still decodes is the strict decoder's call (tested on its
/// own in `encoding`).
fn expected_kv_flip_error(original: &str, flipped: &str, what: &str) -> KvFlip {
    const FIELDS: [&str; 6] = [
        "algorithm",
        "encryptionVersion",
        "keyId",
        "dataIv",
        "wrappedKey",
        "ciphertext",
    ];
    let fields = |json: &str| -> Option<Vec<String>> {
        let value: serde_json::Value = serde_json::from_str(json).ok()?;
        FIELDS
            .iter()
            .map(|f| value.get(f)?.as_str().map(str::to_owned))
            .collect()
    };
    let before = fields(original).expect("the fixture record");
    let Some(after) = fields(flipped) else {
        return KvFlip::NotAnEnvelope;
    };
    let changed: Vec<usize> = (0..FIELDS.len())
        .filter(|&i| before[i] != after[i])
        .collect();
    let [i] = changed[..] else {
        panic!("{what}: a one-bit flip changed fields {changed:?}");
    };
    let decodes = |max: usize| encoding::decode(&after[i], max);
    match FIELDS[i] {
        "algorithm" => KvFlip::UnsupportedAlgorithm,
        "encryptionVersion" => KvFlip::UnsupportedVersion,
        // Only a bound key id is flipped: it is in the OAEP label.
        "keyId" => KvFlip::Failed(FailureCause::KeyUnwrap),
        "dataIv" => match decodes(IV_LEN) {
            Err(_) => KvFlip::InvalidEncoding("dataIv"),
            Ok(iv) if iv.len() != IV_LEN => KvFlip::InvalidIvLength,
            Ok(_) => KvFlip::Failed(FailureCause::Authentication),
        },
        "wrappedKey" => match decodes(1 << 10) {
            Err(_) => KvFlip::InvalidEncoding("wrappedKey"),
            Ok(_) => KvFlip::Failed(FailureCause::KeyUnwrap),
        },
        _ => match decodes(1 << 20) {
            Err(_) => KvFlip::InvalidEncoding("ciphertext"),
            Ok(_) => KvFlip::Failed(FailureCause::Authentication),
        },
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
        // The flip is made in the decoded bytes and re-encoded, so the field is still valid
        // base64url of the same length: the refusal must come from RSA-OAEP, not the decoder.
        assert_unwrap_failure(opener().open(&m, body, CTX), &format!("bound {bound} bit {bit}"));
    }
}

#[test]
fn v1_key_id_is_not_authenticated_like_the_reference() {
    // Documented behaviour of "1.0": the key id only orders candidates.
    let (metadata, body, _) = fixture(false);
    let mut m = metadata.clone();
    m.key_id = "relabelled".into();
    assert!(opener().open(&m, body, CTX).is_ok());
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
