//! Known answers from `vectors/striae-envelope.json`: every envelope opens in both forms under every
//! registry form with the expected candidate order and telemetry, every tampered case fails, the
//! registry negative cases give their errors (through JSON and through the environment), the
//! wrapped keys unwrap to the vector's data keys and our content encryption reproduces the vector
//! ciphertexts byte for byte, and envelopes we seal open under the vector keys.

use std::collections::HashMap;
use std::sync::Arc;

use sealkit_envelope::candidates::candidate_order;
use sealkit_envelope::{
    CandidatePolicy, EnvelopeMetadata, Error, KeyRegistry, Opener, Outcome, RegistryDocument,
    Scope, Sealer, encoding, keys,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

const FILE: &str = "striae-envelope.json";

fn vectors(test: &str) -> Option<Value> {
    sealkit_vectors::json(test, FILE)
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string"))
}

fn b64(text: &str) -> Vec<u8> {
    encoding::decode(text, 64 << 20).expect("vector base64")
}

/// The registry forms the vectors name under `expect`, built as a deployment would.
fn registry(v: &Value, form: &str) -> KeyRegistry {
    let regs = &v["registries"];
    let k1 = s(&v["keys"][0], "keyId");
    match form {
        "nested" => KeyRegistry::from_json(Scope::DataAtRest, s(&regs["nested"], "json"), None),
        "flat" => KeyRegistry::from_json(Scope::DataAtRest, s(&regs["flat"], "json"), None),
        "flatNoActive" => {
            let mut flat: serde_json::Map<String, Value> =
                serde_json::from_str(s(&regs["flat"], "json")).unwrap();
            flat.remove("activeKeyId");
            // serde_json's map is sorted, which would reorder ids; rebuild in the file's order.
            let mut json = String::from("{");
            for (i, key) in v["keys"].as_array().unwrap().iter().enumerate() {
                let id = s(key, "keyId");
                if i > 0 {
                    json.push(',');
                }
                json.push_str(&format!("{}:{}", Value::from(id), flat[id]));
            }
            json.push('}');
            KeyRegistry::from_json(Scope::DataAtRest, &json, None)
        }
        "nestedWithActiveOverrideK1" => {
            let env = HashMap::from([
                (
                    "DATA_AT_REST_ENCRYPTION_KEYS_JSON".to_owned(),
                    s(&regs["nested"], "json").to_owned(),
                ),
                (
                    "DATA_AT_REST_ENCRYPTION_ACTIVE_KEY_ID".to_owned(),
                    k1.to_owned(),
                ),
            ]);
            KeyRegistry::from_env_lookup(Scope::DataAtRest, &move |name: &str| {
                env.get(name).cloned()
            })
        }
        "legacySingleKeyK1" => {
            let env: HashMap<String, String> =
                serde_json::from_value(regs["legacySingleKey"]["env"].clone()).unwrap();
            KeyRegistry::from_env_lookup(Scope::DataAtRest, &move |name: &str| {
                env.get(name).cloned()
            })
        }
        other => panic!("unknown registry form {other}"),
    }
    .unwrap_or_else(|e| panic!("registry form {form}: {e}"))
}

#[test]
fn key_pairs_parse_and_match_their_fingerprints() {
    let Some(v) = vectors("key_pairs_parse_and_match_their_fingerprints") else {
        return;
    };
    let mut checked = 0;
    for key in v["keys"].as_array().unwrap() {
        let private = keys::parse_private_key_pem(s(key, "privateKeyPkcs8Pem")).unwrap();
        let from_env_form = keys::parse_private_key_pem(s(key, "privateKeyEnvEscaped")).unwrap();
        assert_eq!(private, from_env_form);
        let public = keys::parse_public_key_pem(s(key, "publicKeySpkiPem")).unwrap();
        assert_eq!(
            public,
            keys::parse_public_key_pem(s(key, "publicKeyEnvEscaped")).unwrap()
        );
        assert_eq!(public, private.to_public_key());
        assert_eq!(
            keys::public_key_bits(&public),
            key["modulusBits"].as_u64().unwrap() as usize
        );
        assert_eq!(
            hex::encode(keys::spki_sha256(&public).unwrap()),
            s(key, "spkiDerSha256Hex")
        );
        checked += 1;
    }
    assert_eq!(checked, 2, "the two RSA-2048 key pairs");
}

#[test]
fn registries_parse_as_expected() {
    let Some(v) = vectors("registries_parse_as_expected") else {
        return;
    };
    for form in ["nested", "flat", "legacySingleKey"] {
        let expect = &v["registries"][form]["expectParsed"];
        let reg = registry(
            &v,
            if form == "legacySingleKey" {
                "legacySingleKeyK1"
            } else {
                form
            },
        );
        assert_eq!(
            reg.active_key_id(),
            expect["activeKeyId"].as_str(),
            "{form}"
        );
        let ids: Vec<&str> = expect["keyIds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_str().unwrap())
            .collect();
        assert_eq!(reg.key_ids().collect::<Vec<_>>(), ids, "{form}");
    }
}

#[test]
fn registry_negative_cases_give_their_errors() {
    let Some(v) = vectors("registry_negative_cases_give_their_errors") else {
        return;
    };
    let mut codes = Vec::new();
    for case in v["registries"]["negative"].as_array().unwrap() {
        let err = KeyRegistry::from_json(Scope::DataAtRest, s(case, "json"), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            s(case, "expectErrorHead"),
            "{}",
            s(case, "json")
        );
        // The document parser alone (no RSA) gives the same answer where it can decide.
        if let Err(doc_err) = RegistryDocument::parse(Scope::DataAtRest, s(case, "json")) {
            assert_eq!(doc_err.code(), err.code());
        }
        codes.push(err.code());
    }
    assert_eq!(codes.len(), 6, "negative registry cases run");
    let distinct: std::collections::BTreeSet<_> = codes.iter().collect();
    assert_eq!(
        distinct.len(),
        4,
        "one distinct error per fail-closed condition: {codes:?}"
    );
}

/// The Striae env-era data-worker messages (`expectErrorEnvEraDataWorker`) and the code each maps
/// to: the same fail-closed condition the `expectErrorHead` text names for `from_json`. A message
/// not in this table fails the test, so a new kind of negative case cannot pass unmapped.
const ENV_ERA_MESSAGES: [(&str, &str); 4] = [
    (
        "Data-at-rest decryption registry JSON is invalid",
        "registry_json_invalid",
    ),
    (
        "Data-at-rest decryption registry JSON must be an object",
        "registry_not_object",
    ),
    (
        "Data-at-rest decryption registry does not contain any usable keys",
        "registry_no_usable_keys",
    ),
    (
        "Data-at-rest decryption active key ID is not present in registry",
        "active_key_not_in_registry",
    ),
];

/// Striae loads its keys from `DATA_AT_REST_ENCRYPTION_KEYS_JSON`, not from a JSON string handed
/// over directly, so every negative registry case must also fail through the environment path, with
/// the env-era worker's error (mapped to our code) and exactly the error `from_json` gives.
#[test]
fn registry_negative_cases_fail_through_the_environment_too() {
    let Some(v) = vectors("registry_negative_cases_fail_through_the_environment_too") else {
        return;
    };
    let expected_code = |message: &str| {
        ENV_ERA_MESSAGES
            .iter()
            .find(|(m, _)| *m == message)
            .unwrap_or_else(|| panic!("unmapped env-era message {message:?}"))
            .1
    };
    let mut codes = Vec::new();
    for case in v["registries"]["negative"].as_array().unwrap() {
        let json = s(case, "json");
        let env = HashMap::from([(
            "DATA_AT_REST_ENCRYPTION_KEYS_JSON".to_owned(),
            json.to_owned(),
        )]);
        let err = KeyRegistry::from_env_lookup(Scope::DataAtRest, &move |name: &str| {
            env.get(name).cloned()
        })
        .unwrap_err();
        assert_eq!(
            err.code(),
            expected_code(s(case, "expectErrorEnvEraDataWorker")),
            "{json}"
        );
        // Same condition, same message as the direct path (which the test above pins to
        // `expectErrorHead`): the environment adds no wording of its own.
        assert_eq!(err.to_string(), s(case, "expectErrorHead"), "{json}");
        let direct = KeyRegistry::from_json(Scope::DataAtRest, json, None).unwrap_err();
        assert_eq!(err.code(), direct.code(), "{json}");
        codes.push(err.code());
    }
    assert_eq!(codes.len(), 6, "negative registry cases run");
    // Every row of the table is exercised, so none of it is dead.
    for (message, code) in ENV_ERA_MESSAGES {
        assert!(codes.contains(&code), "no case for {message:?}");
    }
}

/// The vector key pair registered under `key_id`.
fn vector_key<'a>(v: &'a Value, key_id: &str) -> &'a Value {
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| s(k, "keyId") == key_id)
        .unwrap_or_else(|| panic!("no vector key {key_id}"))
}

/// `debug.wrappedKeyHex` and `debug.ivHex` are the envelope's own fields, decoded; and unwrapping
/// the wrapped key (blinded RSA-OAEP, the opener's path) with the private key it was written for
/// gives exactly `debug.aesKeyHex`. Under the other vector key it does not unwrap at all.
#[test]
fn wrapped_keys_unwrap_to_the_vector_data_keys() {
    let Some(v) = vectors("wrapped_keys_unwrap_to_the_vector_data_keys") else {
        return;
    };
    let mut checked = 0;
    for case in v["envelopes"].as_array().unwrap() {
        let id = s(case, "id");
        let debug = &case["debug"];
        let envelope = &case["envelope"];
        let wrapped = sealkit_vectors::unhex(&debug["wrappedKeyHex"]);
        assert_eq!(wrapped, b64(s(envelope, "wrappedKey")), "{id}");
        assert_eq!(
            wrapped.len() as u64,
            debug["wrappedKeyLength"].as_u64().unwrap(),
            "{id}"
        );
        assert_eq!(
            sealkit_vectors::unhex(&debug["ivHex"]),
            b64(s(envelope, "dataIv")),
            "{id}"
        );

        let key_id = s(case, "encryptedUnderKeyId");
        assert_eq!(key_id, s(envelope, "keyId"), "{id}");
        let private =
            keys::parse_private_key_pem(s(vector_key(&v, key_id), "privateKeyPkcs8Pem")).unwrap();
        // `1.0` envelopes use the empty OAEP label, as the reference does.
        let data_key = keys::unwrap_data_key(&private, &wrapped, b"")
            .unwrap_or_else(|| panic!("{id}: the wrapped key does not unwrap"));
        assert_eq!(data_key.len(), sealkit_envelope::DATA_KEY_LEN, "{id}");
        assert_eq!(hex::encode(&data_key[..]), s(debug, "aesKeyHex"), "{id}");

        // A negative control: the other registered key must refuse this wrapped key, or the
        // comparison above would not show which key the data key was wrapped for.
        for other in v["keys"].as_array().unwrap() {
            if s(other, "keyId") == key_id {
                continue;
            }
            let other = keys::parse_private_key_pem(s(other, "privateKeyPkcs8Pem")).unwrap();
            assert!(
                keys::unwrap_data_key(&other, &wrapped, b"").is_none(),
                "{id}: unwrapped under a key it was not written for"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 2, "the JSON and the binary envelope");
}

/// Our Striae-format output, byte for byte: sealing the plaintext with the vector's data key and IV
/// through the crate's content encryption gives exactly `ciphertextBodyHex ‖ gcmTagHex` (which is
/// also the object body and the KV ciphertext), and the KV record assembled from the vector's data
/// key wrap, IV and our ciphertext is the vector's KV value. Only the RSA-OAEP wrap is randomised,
/// so it is the one part taken from the vector rather than produced here.
#[test]
fn sealing_with_the_vector_data_key_and_iv_reproduces_the_ciphertext() {
    let Some(v) = vectors("sealing_with_the_vector_data_key_and_iv_reproduces_the_ciphertext")
    else {
        return;
    };
    let mut checked = 0;
    for case in v["envelopes"].as_array().unwrap() {
        let id = s(case, "id");
        let debug = &case["debug"];
        let key: [u8; sealkit_envelope::DATA_KEY_LEN] = sealkit_vectors::unhex(&debug["aesKeyHex"])
            .try_into()
            .unwrap();
        let iv: [u8; sealkit_envelope::IV_LEN] =
            sealkit_vectors::unhex(&debug["ivHex"]).try_into().unwrap();
        let plaintext = b64(s(&case["plaintext"], "base64"));
        assert_eq!(
            plaintext.len() as u64,
            debug["plaintextLength"].as_u64().unwrap(),
            "{id}"
        );

        // `1.0` envelopes carry no associated data.
        let sealed = sealkit_envelope::content::seal(&key, &iv, b"", &plaintext).unwrap();
        assert_eq!(
            sealed.len() as u64,
            debug["ciphertextLength"].as_u64().unwrap(),
            "{id}"
        );
        let (body, tag) = sealed.split_at(sealed.len() - sealkit_envelope::TAG_LEN);
        assert_eq!(hex::encode(body), s(debug, "ciphertextBodyHex"), "{id}");
        assert_eq!(hex::encode(tag), s(debug, "gcmTagHex"), "{id}");
        assert_eq!(sealed, b64(s(&case["r2"], "ciphertextBase64")), "{id}");

        // The whole KV value, as our encoder writes it: unpadded base64url fields in the
        // reference's order.
        let metadata = EnvelopeMetadata {
            algorithm: sealkit_envelope::ALGORITHM.to_owned(),
            encryption_version: "1.0".to_owned(),
            key_id: s(case, "encryptedUnderKeyId").to_owned(),
            data_iv: encoding::encode(&iv),
            wrapped_key: encoding::encode(&sealkit_vectors::unhex(&debug["wrappedKeyHex"])),
        };
        // `envelope` holds exactly the five envelope fields (the R2 metadata of a file carries
        // non-crypto fields beside them).
        assert_eq!(
            serde_json::to_value(&metadata).unwrap(),
            case["envelope"],
            "{id}"
        );
        assert_eq!(
            sealkit_envelope::KvRecord::from_parts(metadata, &sealed).to_json(),
            s(&case["kv"], "value"),
            "{id}"
        );

        // And the content decryption inverts it.
        let opened = sealkit_envelope::content::open(&key, &iv, b"", &sealed).unwrap();
        assert_eq!(&opened[..], &plaintext[..], "{id}");
        checked += 1;
    }
    assert_eq!(checked, 2, "the JSON and the binary envelope");
}

/// Checks one open against its expectation; returns whether it opened.
fn check_expectation(
    case: &Value,
    form: &str,
    expect: &Value,
    result: Result<sealkit_envelope::Opened, Error>,
    how: &str,
) -> bool {
    let id = s(case, "id");
    let telemetry = match &result {
        Ok(opened) => opened.telemetry.clone(),
        Err(e) => e
            .telemetry()
            .unwrap_or_else(|| panic!("{id}/{form}/{how}: {e}"))
            .clone(),
    };
    assert_eq!(
        result.is_ok(),
        expect["ok"].as_bool().unwrap(),
        "{id}/{form}/{how}"
    );
    assert_eq!(
        telemetry.selected_key_id.as_deref(),
        expect["selectedKeyId"].as_str()
    );
    assert_eq!(
        telemetry.attempt_count as u64,
        expect["attemptCount"].as_u64().unwrap()
    );
    assert_eq!(telemetry.outcome.as_str(), s(expect, "outcome"));
    assert_eq!(
        telemetry.fallback_used,
        expect["fallbackUsed"].as_bool().unwrap()
    );
    assert_eq!(telemetry.scope, "data-at-rest");
    assert_eq!(
        telemetry.record_key_id.as_deref(),
        Some(s(&case["envelope"], "keyId"))
    );
    let Ok(opened) = result else {
        assert!(telemetry.reason.is_some());
        return false;
    };
    assert_eq!(telemetry.reason, None);
    let plaintext = &case["plaintext"];
    assert_eq!(
        &opened.plaintext[..],
        b64(s(plaintext, "base64")),
        "{id}/{form}/{how}"
    );
    assert_eq!(
        hex::encode(Sha256::digest(&opened.plaintext)),
        s(plaintext, "sha256Hex")
    );
    if s(case, "payloadType") == "json" {
        let value: Value = opened.json().unwrap();
        let expected: Value = serde_json::from_str(s(plaintext, "utf8")).unwrap();
        assert_eq!(value, expected);
    }
    true
}

#[test]
fn every_envelope_and_tampered_case_in_both_forms_under_every_registry_form() {
    let Some(v) = vectors("every_envelope_and_tampered_case") else {
        return;
    };
    let mut registries: HashMap<String, Arc<KeyRegistry>> = HashMap::new();
    let (mut opened, mut refused) = (0, 0);
    let cases = v["envelopes"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["tampered"].as_array().unwrap());
    for case in cases {
        for (form, expect) in case["expect"].as_object().unwrap() {
            let reg = registries
                .entry(form.clone())
                .or_insert_with(|| Arc::new(registry(&v, form)))
                .clone();
            let record_key = s(&case["envelope"], "keyId");
            let order = candidate_order(&reg, Some(record_key), CandidatePolicy::default());
            let expected_order: Vec<&str> = expect["candidateOrder"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_str().unwrap())
                .collect();
            assert_eq!(order, expected_order, "{}/{form}", s(case, "id"));

            let opener = Opener::new(reg);
            // Object-store form: metadata + raw body.
            let metadata: EnvelopeMetadata =
                serde_json::from_value(case["r2"]["customMetadata"].clone()).unwrap();
            assert_eq!(
                metadata,
                serde_json::from_value::<EnvelopeMetadata>(case["envelope"].clone()).unwrap()
            );
            let body = b64(s(&case["r2"], "ciphertextBase64"));
            assert_eq!(
                body.len() as u64,
                case["r2"]["ciphertextLength"].as_u64().unwrap()
            );
            let r2 =
                check_expectation(case, form, expect, opener.open(&metadata, &body, b""), "r2");
            // KV form.
            let kv = s(&case["kv"], "value");
            let kv = check_expectation(case, form, expect, opener.open_kv(kv, b""), "kv");
            for ok in [r2, kv] {
                if ok {
                    opened += 1;
                } else {
                    refused += 1;
                }
            }
        }
    }
    // 2 envelopes and 3 tampered cases, each under 5 registry forms, in 2 forms: the envelopes open
    // everywhere, the tampered cases nowhere.
    assert_eq!((opened, refused), (20, 30), "opens that succeeded / failed");
}

#[test]
fn kv_values_reserialise_byte_for_byte() {
    let Some(v) = vectors("kv_values_reserialise_byte_for_byte") else {
        return;
    };
    let mut checked = 0;
    for case in v["envelopes"].as_array().unwrap() {
        let kv = s(&case["kv"], "value");
        let record = sealkit_envelope::KvRecord::from_json(kv).unwrap();
        assert_eq!(record.to_json(), kv);
        let body = b64(s(&case["r2"], "ciphertextBase64"));
        assert_eq!(
            sealkit_envelope::KvRecord::from_parts(record.metadata(), &body).to_json(),
            kv
        );
        assert_eq!(
            hex::encode(record.decode_ciphertext().unwrap()),
            s(&case["debug"], "ciphertextBodyHex").to_owned() + s(&case["debug"], "gcmTagHex")
        );
        checked += 1;
    }
    assert_eq!(checked, 2, "the JSON and the binary envelope");
}

#[test]
fn envelopes_we_seal_open_under_the_vector_registries() {
    let Some(v) = vectors("envelopes_we_seal_open_under_the_vector_registries") else {
        return;
    };
    let k1 = &v["keys"][0];
    let k2 = &v["keys"][1];
    let reg = Arc::new(registry(&v, "nested"));
    let opener = Opener::new(reg.clone());
    for key in [k1, k2] {
        let sealer =
            Sealer::from_public_key_pem(s(key, "keyId"), s(key, "publicKeyEnvEscaped")).unwrap();
        reg.validate_write_key(&sealer).unwrap();
        let object = sealer
            .seal_json(&serde_json::json!({"entries": [1, 2, 3]}), b"")
            .unwrap();
        assert_eq!(b64(&object.metadata.wrapped_key).len(), 256);
        let (value, telemetry): (Value, _) = opener
            .open_json(&object.metadata, &object.body, b"")
            .unwrap();
        assert_eq!(value["entries"][2], 3);
        assert_eq!(telemetry.outcome, Outcome::PrimaryHit);
        assert_eq!(telemetry.selected_key_id.as_deref(), Some(s(key, "keyId")));
    }
    // Relabelled 1.0 envelope (k1's key under k2's id): the reference falls back and succeeds.
    let sealer = Sealer::from_public_key_pem(s(k2, "keyId"), s(k1, "publicKeySpkiPem")).unwrap();
    assert!(matches!(
        reg.validate_write_key(&sealer),
        Err(Error::PublicKeyMismatch { .. })
    ));
    let kv = sealer.seal_kv(b"bin\x00ary", b"").unwrap();
    let opened = opener.open_kv(&kv, b"").unwrap();
    assert_eq!(opened.telemetry.outcome, Outcome::FallbackHit);
    assert!(opened.telemetry.fallback_used);
    assert_eq!(opened.telemetry.attempt_count, 2);
    assert_eq!(
        opened.telemetry.selected_key_id.as_deref(),
        Some(s(k1, "keyId"))
    );
}
