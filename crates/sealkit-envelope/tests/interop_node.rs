//! Envelopes we seal open under the reference's rules: an independent Node script using only
//! WebCrypto opens them (run when `node` is present; required under `CI`).

use sealkit_envelope::{Sealer, encoding};
use serde_json::{Value, json};

#[test]
fn node_webcrypto_opens_what_we_seal() {
    let Some(v) =
        sealkit_vectors::json("node_webcrypto_opens_what_we_seal", "striae-envelope.json")
    else {
        return;
    };
    // Every key of the vectors (a registry's first and its others), each opened by Node with that
    // key alone.
    let keys = v["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "the vectors' key pairs");
    let plaintexts: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"{\"caseNumber\":\"CASE-1\",\"note\":\"\xc3\x91o\xc3\xb1o \xf0\x9f\x94\xac\"}".to_vec(),
        (0..=255u8).collect(),
        vec![0xA5; 100_003],
        serde_json::to_vec(&json!({"entries": [{"a": 1}, {"b": [true, null]}]})).unwrap(),
    ];
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node/open-envelope.mjs");
    for key in keys {
        let sealer = Sealer::from_public_key_pem(
            key["keyId"].as_str().unwrap(),
            key["publicKeySpkiPem"].as_str().unwrap(),
        )
        .unwrap();

        let mut cases = Vec::new();
        for p in &plaintexts {
            let object = sealer.seal(p, b"").unwrap();
            cases.push(json!({"kv": object.clone().into_kv().to_json()}));
            cases.push(
                json!({"metadata": object.metadata, "bodyBase64": encoding::encode(&object.body)}),
            );
        }
        let input = json!({"privateKeyPem": key["privateKeyPkcs8Pem"], "cases": cases});
        let Some(output) = sealkit_vectors::node::run_or_skip(
            "node_webcrypto_opens_what_we_seal",
            &[script],
            input.to_string().as_bytes(),
        ) else {
            return;
        };
        let results: Vec<Value> = serde_json::from_slice(&output).unwrap();
        assert_eq!(results.len(), plaintexts.len() * 2);
        for (i, result) in results.iter().enumerate() {
            assert_eq!(result["ok"], true, "case {i}: {result}");
            let got =
                encoding::decode(result["plaintextBase64"].as_str().unwrap(), 1 << 20).unwrap();
            assert_eq!(got, plaintexts[i / 2], "case {i}");
        }
    }
}
