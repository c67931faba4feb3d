//! sealkit-vault: encrypt and decrypt of a 40-byte setting, beside the reference algorithm run by
//! Node's built-in `crypto` (HKDF re-derived per call, as the Olympus SDK does) in the same run.
//! Goal: ≥ 10× the Node figure.
//!
//! Run: `cargo bench -p sealkit-benches --bench vault`.

use std::hint::black_box;

use sealkit::vault::{EncryptionKey, SettingsVault};
use sealkit_benches::{Row, median_ns, print_table, timed};
use serde_json::{Value, json};

const KEY: &str = "q4A8pB0hYxV3n1Jd6mZ0cWl2tR9sE5uK7oG+fH/iLwM=";
/// 40 bytes: the size of a typical API key or client secret.
const SETTING: &str = "sk_live_51HqLyjW8ZbC3xYv9QkT2mN7pR4sD0aE";

/// Node's medians (ns/op) for (encrypt, decrypt).
fn node_reference() -> Result<(f64, f64), String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/node/vault-reference.mjs");
    let request = json!({ "key": KEY, "plaintext": SETTING, "iterations": 40_000 });
    let reply = sealkit_vectors::node::run(&[script], request.to_string().as_bytes())
        .map_err(|e| e.to_string())?;
    let reply: Value = serde_json::from_slice(&reply).map_err(|e| e.to_string())?;
    let number = |field: &str| {
        reply[field]
            .as_f64()
            .ok_or_else(|| format!("no {field} in the reply"))
    };
    Ok((number("encryptNs")?, number("decryptNs")?))
}

fn main() {
    assert_eq!(SETTING.len(), 40);
    let mut criterion = sealkit_benches::criterion();
    let vault = SettingsVault::new(&EncryptionKey::new(KEY)).unwrap();
    let stored = vault.encrypt(SETTING).unwrap();

    let mut group = criterion.benchmark_group("vault");
    group.bench_function("encrypt_40B", |b| {
        timed(b, "vault/encrypt", || {
            black_box(vault.encrypt(black_box(SETTING)).unwrap());
        })
    });
    group.bench_function("decrypt_40B", |b| {
        timed(b, "vault/decrypt", || {
            black_box(vault.decrypt(black_box(&stored)).unwrap());
        })
    });
    group.finish();
    criterion.final_summary();

    let (Some(enc), Some(dec)) = (median_ns("vault/encrypt"), median_ns("vault/decrypt")) else {
        return; // filtered out on the command line
    };
    println!(
        "\nours: encrypt {:.0} ops/s, decrypt {:.0} ops/s",
        1e9 / enc,
        1e9 / dec
    );
    match node_reference() {
        Ok((node_enc, node_dec)) => {
            println!(
                "node reference: encrypt {:.0} ops/s, decrypt {:.0} ops/s",
                1e9 / node_enc,
                1e9 / node_dec
            );
            print_table(
                "sealkit-vault vs the reference algorithm in Node (HKDF per call)",
                "node",
                &[
                    Row {
                        label: "encrypt 40 B".into(),
                        ours_ns: enc,
                        baseline_ns: node_enc,
                        bytes: 40,
                    },
                    Row {
                        label: "decrypt 40 B".into(),
                        ours_ns: dec,
                        baseline_ns: node_dec,
                        bytes: 40,
                    },
                ],
            );
            let worst = (node_enc / enc).min(node_dec / dec);
            println!(
                "goal >= 10x the Node figure: {} ({worst:.1}x)",
                if worst >= 10.0 { "met" } else { "NOT met" }
            );
        }
        Err(e) => println!("no node baseline in this run: {e}"),
    }
}
