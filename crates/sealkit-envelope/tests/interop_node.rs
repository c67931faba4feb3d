//! Envelopes we seal open under the reference's rules: an independent Node script using only
//! WebCrypto opens them; and registry JSON reads as JavaScript reads it (run when `node` is present;
//! required under `CI`).

use sealkit_envelope::{RegistryDocument, Scope, Sealer, encoding};
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

/// Registry JSON with repeated names, names equal after trimming (JavaScript's white space: a
/// byte-order mark is trimmed, U+0085 is not), array-index names (`7`, `07`, `4294967295`),
/// `__proto__`, blank and non-string values, in the flat and the nested form: the ids, their order
/// and the PEMs (trimmed) match what JavaScript's own `JSON.parse`, `trim`, `Object.entries` and
/// object assignment give under the reference's rules (`tests/node/parse-registry.mjs`).
#[test]
fn registry_json_reads_as_javascript_reads_it() {
    const NAMES: &[&str] = &[
        "a",
        " a",
        "a ",
        "b",
        "7",
        " 7",
        "7 ",
        "07",
        "0",
        "10",
        "2",
        "4294967294",
        "4294967295",
        "activeKeyId",
        "keys",
        "",
        "  ",
        r"\u00e9",
        r" \u00e9",
        r"\ufeffa",
        r"a\u0085",
        r"\u2028a\u3000",
        "__proto__",
        " __proto__",
    ];
    const VALUES: &[&str] = &[
        r#""P1""#,
        r#""P2""#,
        r#""P3""#,
        r#"" P4 ""#,
        r#""P5\n""#,
        r#""""#,
        r#""  ""#,
        "42",
        "null",
        "{}",
        r#"["P6"]"#,
        "true",
        r#""\ufeffP7\u0085""#,
        r#""\ufeff""#,
    ];
    // A fixed xorshift sequence: the same documents on every run.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut texts = vec![
        r#"{" 7":"P1","7":"P2"}"#.to_owned(),
        r#"{"b":"P1","10":"P2","2":"P3","01":"P4"," 2 ":"P5"}"#.to_owned(),
        r#"{"activeKeyId":" k ","keys":{"k":"P1","j":"P2","k":""}}"#.to_owned(),
    ];
    for _ in 0..600 {
        let members: Vec<String> = (0..1 + next(7))
            .map(|_| {
                format!(
                    r#""{}":{}"#,
                    NAMES[next(NAMES.len())],
                    VALUES[next(VALUES.len())]
                )
            })
            .collect();
        let members = members.join(",");
        texts.push(match next(3) {
            0 => format!("{{{members}}}"),
            1 => format!(
                r#"{{"activeKeyId":{},"keys":{{{members}}}}}"#,
                VALUES[next(VALUES.len())]
            ),
            // The nested form with a second `keys` member, which replaces the first.
            _ => format!(r#"{{"keys":{{"x":"P9"}},"keys":{{{members}}}}}"#),
        });
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node/parse-registry.mjs");
    let Some(output) = sealkit_vectors::node::run_or_skip(
        "registry_json_reads_as_javascript_reads_it",
        &[script],
        serde_json::to_string(&texts).unwrap().as_bytes(),
    ) else {
        return;
    };
    let expected: Vec<Value> = serde_json::from_slice(&output).unwrap();
    assert_eq!(expected.len(), texts.len());
    let mut with_keys = 0;
    for (text, expected) in texts.iter().zip(&expected) {
        let doc = RegistryDocument::parse(Scope::UserKv, text).unwrap();
        let keys: Vec<Value> = doc
            .keys
            .iter()
            .map(|(id, pem)| json!([id, pem.as_str()]))
            .collect();
        let got = json!({"activeKeyId": doc.active_key_id, "keys": keys});
        assert_eq!(&got, expected, "{text}");
        with_keys += usize::from(!keys.is_empty());
    }
    // The documents exercise the rules, not only the empty answer.
    assert!(
        with_keys > texts.len() / 2,
        "{with_keys} of {}",
        texts.len()
    );
}
