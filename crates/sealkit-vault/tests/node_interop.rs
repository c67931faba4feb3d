//! Values we write decrypt with an independent implementation (Node's built-in `crypto`, following
//! the reference algorithm), and values it writes decrypt here. Runs when `node` is installed;
//! required under `CI`.

use sealkit_vault::{EncryptionKey, SettingsVault};
use serde_json::{Value, json};

/// The reference algorithm in Node's `crypto`, answering one request; `None` when skipped.
fn node(test: &str, request: &Value) -> Option<Value> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/node/olympus-reference.mjs"
    );
    let reply =
        sealkit_vectors::node::run_or_skip(test, &[script], request.to_string().as_bytes())?;
    Some(serde_json::from_slice(&reply).unwrap())
}

const PLAINTEXTS: &[&str] = &[
    "my-secret-value",
    "x",
    "0123456789abcdef",
    "postgres://user:pa:ss@db.internal:5432/olympus?sslmode=verify-full",
    "日本語のシークレット値 🔐",
    "a 40-byte setting value, like an API key",
    "",
];

#[test]
fn values_we_encrypt_decrypt_in_node_and_back() {
    // Include a key with a trailing newline and non-ASCII: both sides must use the raw bytes.
    for key in [
        "q4A8pB0hYxV3n1Jd6mZ0cWl2tR9sE5uK7oG+fH/iLwM=",
        "clé-avec-accents-et-newline-0123456789\n",
    ] {
        let vault = SettingsVault::new(&EncryptionKey::new(key)).unwrap();
        let ours: Vec<String> = PLAINTEXTS
            .iter()
            .map(|p| vault.encrypt(p).unwrap())
            .collect();
        // The reference passes anything that is not ciphertext through, so a value sent in plain
        // would "decrypt" to itself: each must really be a `v2:` ciphertext (`""` stays `""`).
        for (value, plain) in ours.iter().zip(PLAINTEXTS) {
            if plain.is_empty() {
                assert_eq!(value, "");
            } else {
                // Not `contains`: a one-character plaintext turns up in random base64.
                assert!(value.starts_with("v2:") && value != plain, "{value}");
            }
        }
        let request = json!({ "key": key, "decrypt": ours, "encrypt": PLAINTEXTS });
        let Some(reply) = node("values_we_encrypt_decrypt_in_node_and_back", &request) else {
            return;
        };
        let decrypted: Vec<&str> = reply["decrypted"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(decrypted, PLAINTEXTS, "node could not read our values");
        for (theirs, plain) in reply["encrypted"]
            .as_array()
            .unwrap()
            .iter()
            .zip(PLAINTEXTS)
        {
            let theirs = theirs.as_str().unwrap();
            assert_eq!(
                vault.decrypt(theirs).unwrap().as_str(),
                *plain,
                "we could not read node's value"
            );
        }
    }
}
