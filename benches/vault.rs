//! sealkit-vault: encrypt and decrypt of a 40-byte setting, beside the reference algorithm run by
//! Node's built-in `crypto` (HKDF re-derived per call, as the Olympus SDK does) and beside the raw
//! `aes-gcm` crate doing the same AES-256-GCM work on 40 bytes with the `v2` nonce size, output
//! into a reused buffer: encrypting the same setting under a fresh IV from the operating system,
//! and opening a 40-byte ciphertext of its own (under its own random key), all in the same run.
//! Goal: ≥ 10× the Node figure.
//!
//! Run: `cargo bench -p sealkit-benches --bench vault`.

use std::hint::black_box;

use aes_gcm::aead::consts::U12;
use aes_gcm::aes::Aes256;
use aes_gcm::{AeadInOut, AesGcm, KeyInit};
use rand::Rng as _;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use sealkit::vault::format::{TAG_LEN, V2_IV_LEN};
use sealkit::vault::{EncryptionKey, SettingsVault};
use sealkit_benches::{Row, median_ns, print_table, timed};
use serde_json::{Value, json};

const KEY: &str = "q4A8pB0hYxV3n1Jd6mZ0cWl2tR9sE5uK7oG+fH/iLwM=";
/// 40 bytes: the size of a typical API key or client secret.
const SETTING: &str = "sk_live_51HqLyjW8ZbC3xYv9QkT2mN7pR4sD0aE";

/// The cipher the vault seals `v2` values with (`Aes256Gcm`), spelled out so that the nonce size
/// is in sight: the `[u8; V2_IV_LEN]` IVs below only convert into its nonce if the sizes agree.
type RawV2 = AesGcm<Aes256, U12>;

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

    // An AES-256 key of its own: the raw side needs no key derivation.
    let mut raw_key = [0u8; 32];
    UnwrapErr(SysRng).fill_bytes(&mut raw_key);
    let raw = RawV2::new(&raw_key.into());
    // The vault parses IV, tag and ciphertext out of its text; the raw crate is handed them as
    // bytes, which is the difference the second table measures.
    let mut raw_iv = [0u8; V2_IV_LEN];
    UnwrapErr(SysRng).fill_bytes(&mut raw_iv);
    let mut raw_ct = SETTING.as_bytes().to_vec();
    let raw_tag = raw
        .encrypt_inout_detached(&raw_iv.into(), &[], raw_ct.as_mut_slice().into())
        .unwrap();
    let mut out = Vec::with_capacity(V2_IV_LEN + SETTING.len() + TAG_LEN);

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
    group.bench_function("raw_encrypt_40B", |b| {
        timed(b, "vault/raw_encrypt", || {
            // From the operating system on every call, as the vault draws its IV: that system
            // call is part of what an encrypt costs, on both sides.
            let mut iv = [0u8; V2_IV_LEN];
            UnwrapErr(SysRng).fill_bytes(&mut iv);
            out.clear();
            out.extend_from_slice(&iv);
            out.extend_from_slice(black_box(SETTING).as_bytes());
            let tag = raw
                .encrypt_inout_detached(&iv.into(), &[], (&mut out[V2_IV_LEN..]).into())
                .unwrap();
            out.extend_from_slice(&tag);
            black_box(&out);
        })
    });
    group.bench_function("raw_decrypt_40B", |b| {
        timed(b, "vault/raw_decrypt", || {
            // Copied first because decrypting in place consumes the ciphertext, as the vault
            // decrypts in its parsed copy.
            out.clear();
            out.extend_from_slice(black_box(&raw_ct));
            raw.decrypt_inout_detached(&raw_iv.into(), &[], out.as_mut_slice().into(), &raw_tag)
                .unwrap();
            black_box(&out);
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

    let (Some(raw_enc), Some(raw_dec)) = (
        median_ns("vault/raw_encrypt"),
        median_ns("vault/raw_decrypt"),
    ) else {
        return;
    };
    print_table(
        "sealkit-vault vs the raw aes-gcm crate on the same 40 bytes (ratio = raw time / our time)",
        "raw",
        &[
            Row {
                label: "encrypt 40 B".into(),
                ours_ns: enc,
                baseline_ns: raw_enc,
                bytes: 40,
            },
            Row {
                label: "decrypt 40 B".into(),
                ours_ns: dec,
                baseline_ns: raw_dec,
                bytes: 40,
            },
        ],
    );
    println!(
        "beyond the raw cipher, ours: on encrypt copies the plaintext into a buffer wiped on \
         drop and writes a new {}-char string, `v2:` then base64 of IV, tag and ciphertext \
         joined by `:`; on decrypt checks the `v2:` prefix, splits on `:`, base64-decodes IV and \
         tag on the stack and the ciphertext into a new buffer (which becomes the returned \
         string), checks the plaintext is UTF-8, and wipes it on drop",
        stored.len()
    );
}
