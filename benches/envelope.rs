//! sealkit-envelope: seal, cold open (a blinded RSA-OAEP unwrap + AES-256-GCM) and warm open (data
//! key from the cache, AES-256-GCM only) for 1 KiB and 1 MiB payloads under RSA-2048 and RSA-3072,
//! beside `openssl speed rsa2048|rsa3072` (one RSA private operation) and the reference's open path
//! in Node WebCrypto (`benches/node/envelope-reference.mjs`), all in the same run. Beside each, the
//! raw crates on the same bytes: warm open beside one raw `aes-gcm` open of the envelope's own body
//! (same data key, 12-byte IV, empty associated data), and seal beside a raw RSA-OAEP wrap of a
//! 32-byte key (the `rsa` crate's `encrypt`, through `keys::wrap_data_key`, a one-line wrapper)
//! plus a raw `aes-gcm` seal of the same payload under a fresh IV, keyed once and written into a
//! reused buffer.
//!
//! Run: `cargo bench -p sealkit-benches --bench envelope`.
// `rand::rng()` is forbidden in library code (clippy.toml); here it draws benchmark inputs only (random payloads and the raw seal's key).
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use criterion::{BenchmarkId, Throughput};
use rand::Rng as _;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use sealkit::envelope::{
    DATA_KEY_LEN, EnvelopeVersion, IV_LEN, KeyRegistry, Opener, Scope, Sealer, TAG_LEN, encoding,
    generate_key_pair, keys,
};
use sealkit_benches::{Row, median_ns, openssl_rsa_ops_per_sec, print_table, timed};
use serde_json::{Value, json};

const SIZES: [(usize, &str); 2] = [(1024, "1 KiB"), (1024 * 1024, "1 MiB")];
const BITS: [usize; 2] = [2048, 3072];

struct Setup {
    bits: usize,
    private_key_pem: String,
    sealer: Sealer,
    registry: Arc<KeyRegistry>,
}

fn setup(bits: usize) -> Setup {
    let pair = generate_key_pair(bits).expect("key generation");
    let sealer = Sealer::from_public_key_pem(&pair.key_id, &pair.public_key_pem).unwrap();
    let registry =
        KeyRegistry::legacy(Scope::DataAtRest, &pair.key_id, &pair.private_key_pem, None).unwrap();
    Setup {
        bits,
        private_key_pem: pair.private_key_pem.to_string(),
        sealer,
        registry: Arc::new(registry),
    }
}

/// Runs the Node reference script on the given envelopes.
fn node_reference(cases: Vec<Value>) -> Result<Value, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/node/envelope-reference.mjs");
    let reply =
        sealkit_vectors::node::run(&[script], json!({ "cases": cases }).to_string().as_bytes())
            .map_err(|e| e.to_string())?;
    serde_json::from_slice(&reply).map_err(|e| e.to_string())
}

fn main() {
    let mut criterion = sealkit_benches::criterion();
    let setups: Vec<Setup> = BITS.iter().map(|&b| setup(b)).collect();
    let mut node_cases = Vec::new();

    for s in &setups {
        // One blinded RSA-OAEP private operation on its own, for the "cold = RSA + AES" check.
        let wrapped = keys::wrap_data_key(s.sealer.public_key(), &[7u8; 32], b"").unwrap();
        let private = keys::parse_private_key_pem(&s.private_key_pem).unwrap();
        let key = format!("rsa-unwrap/{}", s.bits);
        criterion.bench_function(&key, |b| {
            timed(b, &key, || {
                std::hint::black_box(keys::unwrap_data_key(&private, &wrapped, b""));
            })
        });

        for (size, size_name) in SIZES {
            let mut payload = vec![0u8; size];
            rand::rng().fill_bytes(&mut payload);
            let object = s.sealer.seal(&payload, b"").unwrap();
            let cold = Opener::new(s.registry.clone());
            let warm = Opener::new(s.registry.clone()).with_cache(16);
            warm.open(&object.metadata, &object.body, b"").unwrap();

            // The raw open decrypts exactly what the warm open does: this envelope's body under its
            // own data key and IV. A `1.0` envelope has no associated data, so neither has the raw
            // open; the cipher is keyed once, so the raw side is the AEAD alone.
            assert_eq!(s.sealer.version(), EnvelopeVersion::V1);
            let envelope = object.metadata.validate().unwrap();
            let data_key = keys::unwrap_data_key(&private, envelope.wrapped_key(), b"").unwrap();
            let raw_opener = Aes256Gcm::new_from_slice(&data_key).unwrap();
            let (body_ct, body_tag) = object.body.split_at(object.body.len() - TAG_LEN);
            let (body_iv, body_tag) = (
                Nonce::from(*envelope.iv()),
                Tag::try_from(body_tag).unwrap(),
            );
            let mut out = Vec::with_capacity(size + TAG_LEN);
            out.extend_from_slice(body_ct);
            raw_opener
                .decrypt_inout_detached(&body_iv, &[], out.as_mut_slice().into(), &body_tag)
                .unwrap();
            assert_eq!(out, payload);
            // The raw seal, keyed once with a key of its own: the data key it wraps is the one it
            // encrypts under, as in an envelope. Our side also draws that key, builds its key
            // schedule, and writes the metadata (base64 of the IV and wrapped key) per envelope.
            let mut raw_data_key = [0u8; DATA_KEY_LEN];
            rand::rng().fill_bytes(&mut raw_data_key);
            let raw_sealer = Aes256Gcm::new(&raw_data_key.into());

            let mut group = criterion.benchmark_group(format!("envelope/rsa{}", s.bits));
            group.throughput(Throughput::Bytes(size as u64));
            let id = |op: &str| format!("{op}/{}/{size_name}", s.bits);
            let seal_key = id("seal");
            group.bench_function(BenchmarkId::new("seal", size_name), |b| {
                timed(b, &seal_key, || {
                    std::hint::black_box(s.sealer.seal(&payload, b"").unwrap());
                })
            });
            let cold_key = id("open-cold");
            group.bench_function(BenchmarkId::new("open-cold", size_name), |b| {
                timed(b, &cold_key, || {
                    std::hint::black_box(cold.open(&object.metadata, &object.body, b"").unwrap());
                })
            });
            let warm_key = id("open-warm");
            group.bench_function(BenchmarkId::new("open-warm", size_name), |b| {
                timed(b, &warm_key, || {
                    std::hint::black_box(warm.open(&object.metadata, &object.body, b"").unwrap());
                })
            });
            let raw_open_key = id("raw-open");
            group.bench_function(BenchmarkId::new("raw-aes-gcm-open", size_name), |b| {
                timed(b, &raw_open_key, || {
                    out.clear();
                    out.extend_from_slice(body_ct);
                    raw_opener
                        .decrypt_inout_detached(&body_iv, &[], out.as_mut_slice().into(), &body_tag)
                        .unwrap();
                    std::hint::black_box(&out);
                })
            });
            let raw_seal_key = id("raw-seal");
            group.bench_function(BenchmarkId::new("raw-wrap-aes-gcm-seal", size_name), |b| {
                timed(b, &raw_seal_key, || {
                    // The IV from the operating system, as `Sealer::seal` draws its own.
                    let mut iv = [0u8; IV_LEN];
                    UnwrapErr(SysRng).fill_bytes(&mut iv);
                    out.clear();
                    out.extend_from_slice(&payload);
                    let tag = raw_sealer
                        .encrypt_inout_detached(&Nonce::from(iv), &[], out.as_mut_slice().into())
                        .unwrap();
                    out.extend_from_slice(&tag);
                    std::hint::black_box(&out);
                    std::hint::black_box(
                        keys::wrap_data_key(s.sealer.public_key(), &raw_data_key, b"").unwrap(),
                    );
                })
            });
            group.finish();

            node_cases.push(json!({
                "name": format!("{}/{size_name}", s.bits),
                "privateKeyPem": s.private_key_pem,
                "metadata": object.metadata,
                "bodyBase64url": encoding::encode(&object.body),
                "iterations": if s.bits == 2048 { 200 } else { 100 },
            }));
        }
    }
    criterion.final_summary();

    // Baselines, measured now on this machine.
    let node = node_reference(node_cases);
    let mut warm_rows = Vec::new();
    let mut rsa_rows = Vec::new();
    let mut node_rows = Vec::new();
    let mut raw_rows = Vec::new();
    for s in &setups {
        let openssl_private_ns =
            openssl_rsa_ops_per_sec(&format!("rsa{}", s.bits)).map(|(sign, _)| 1e9 / sign);
        // Every row below needs both of its sides measured in this run: a criterion filter that
        // skipped one leaves no row rather than a NaN.
        let unwrap_ns = median_ns(&format!("rsa-unwrap/{}", s.bits));
        if let (Some(openssl_ns), Some(unwrap_ns)) = (openssl_private_ns, unwrap_ns) {
            rsa_rows.push(Row {
                label: format!("RSA-{} private op", s.bits),
                ours_ns: unwrap_ns,
                baseline_ns: openssl_ns,
                bytes: 0,
            });
        }
        for (size, size_name) in SIZES {
            let get = |op: &str| median_ns(&format!("{op}/{}/{size_name}", s.bits));
            let (cold, warm) = (get("open-cold"), get("open-warm"));
            let pair = |ours: &str, raw: &str| {
                let key = |op: &str| format!("{op}/{}/{size_name}", s.bits);
                Some((median_ns(&key(ours))?, median_ns(&key(raw))?))
            };
            if let Some((ours_ns, baseline_ns)) = pair("open-warm", "raw-open") {
                raw_rows.push(Row {
                    label: format!("warm open vs raw aes-gcm open {}/{size_name}", s.bits),
                    ours_ns,
                    baseline_ns,
                    bytes: size,
                });
            }
            if let Some((ours_ns, baseline_ns)) = pair("seal", "raw-seal") {
                raw_rows.push(Row {
                    label: format!(
                        "seal vs raw RSA-OAEP wrap + aes-gcm seal {}/{size_name}",
                        s.bits
                    ),
                    ours_ns,
                    baseline_ns,
                    bytes: size,
                });
            }
            if let (Some(cold), Some(warm)) = (cold, warm) {
                warm_rows.push(Row {
                    label: format!("open warm vs cold {}/{size_name}", s.bits),
                    ours_ns: warm,
                    baseline_ns: cold,
                    bytes: size,
                });
            }
            if let (Some(cold), Some(warm), Some(unwrap_ns)) = (cold, warm, unwrap_ns) {
                println!(
                    "cold open {}/{size_name}: {:.1} us = {:.2} x (our blinded RSA unwrap {:.1} us + warm open {:.1} us){}",
                    s.bits,
                    cold / 1e3,
                    cold / (unwrap_ns + warm),
                    unwrap_ns / 1e3,
                    warm / 1e3,
                    openssl_private_ns
                        .map(|o| format!(
                            "; = {:.2} x (openssl private op {:.1} us + warm open)",
                            cold / (o + warm),
                            o / 1e3
                        ))
                        .unwrap_or_default()
                );
            }
            let node_case = node.as_ref().map(|n| &n[format!("{}/{size_name}", s.bits)]);
            let node_ns =
                node_case.map(|n| (n["openNs"].as_f64(), n["openPreimportedNs"].as_f64()));
            if let (Ok((Some(reference), Some(preimported))), Some(cold)) = (node_ns, cold) {
                // The fair row is the second: both sides parse the private key once. The first
                // is the reference as written (it imports the key on every open); the third is
                // a design comparison (our cache skips the RSA step the reference always takes).
                node_rows.push(Row {
                    label: format!("cold open vs Node as written {}/{size_name}", s.bits),
                    ours_ns: cold,
                    baseline_ns: reference,
                    bytes: size,
                });
                node_rows.push(Row {
                    label: format!("cold vs pre-imported {}/{size_name}", s.bits),
                    ours_ns: cold,
                    baseline_ns: preimported,
                    bytes: size,
                });
                if let Some(warm) = warm {
                    node_rows.push(Row {
                        label: format!(
                            "warm open (no RSA) vs Node as written {}/{size_name}",
                            s.bits
                        ),
                        ours_ns: warm,
                        baseline_ns: reference,
                        bytes: size,
                    });
                }
            }
        }
    }
    print_table(
        "envelope: warm open (cached data key) vs cold open (goal ≥ 50x)",
        "cold",
        &warm_rows,
    );
    if rsa_rows.is_empty() {
        println!("\n(openssl not found: no RSA baseline)");
    } else {
        print_table(
            "envelope: our blinded RSA-OAEP unwrap vs openssl speed private op",
            "openssl",
            &rsa_rows,
        );
    }
    if node_rows.is_empty() {
        match &node {
            Err(e) => println!("\n(no reference baseline: {e})"),
            Ok(_) => println!("\n(no reference baseline: the node script gave no figures)"),
        }
    } else {
        print_table(
            "envelope: ours vs the reference open in Node WebCrypto (import key + unwrap + AES-GCM)",
            "node",
            &node_rows,
        );
    }
    if raw_rows.is_empty() {
        println!("\n(no raw-crate baseline: filtered out of this run)");
    } else {
        print_table(
            "envelope: ours vs the raw crates on the same bytes (ratio = raw time / our time)",
            "raw",
            &raw_rows,
        );
    }
}
