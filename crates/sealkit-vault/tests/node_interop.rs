//! Values we write decrypt with an independent implementation (Node's built-in `crypto`, following
//! the reference algorithm), and values it writes decrypt here. Runs when `node` is installed;
//! required under `CI`.

use std::io::Write as _;
use std::process::{Command, Stdio};

use sealkit_vault::{EncryptionKey, SettingsVault};
use serde_json::{Value, json};

fn node_available() -> bool {
    let found = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            !sealkit_vectors::required_under_ci(),
            "node is required under CI for the interop test"
        );
        println!("skipped node interop: `node` is not installed");
    }
    found
}

fn node(request: &Value) -> Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/node/olympus-reference.mjs"
    );
    let mut child = Command::new("node")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn node");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "node failed");
    serde_json::from_slice(&out.stdout).unwrap()
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
    if !node_available() {
        return;
    }
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
        let reply = node(&json!({ "key": key, "decrypt": ours, "encrypt": PLAINTEXTS }));
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
