//! sealkit-stream beside the raw `aegis` and `aes-gcm` crates doing the same work on the same bytes
//! (a fresh random nonce, the same associated data length, output into a reused buffer), and AEGIS-256
//! beside `openssl speed -aead -evp aes-256-gcm` (sealed records of the same size).
//!
//! Run: `cargo bench -p sealkit-benches --bench stream`.
// `rand::rng()` is forbidden in library code (clippy.toml); here it draws benchmark inputs, and the raw baselines' nonces, drawn as `RecordSealer` draws its own.
#![allow(clippy::disallowed_methods)]

use std::hint::black_box;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use criterion::{BenchmarkId, Throughput};
use rand::Rng as _;
use sealkit::stream::{EncryptionKey, RecordSealer, StreamCipher, StreamIdentity};
use sealkit_benches::{Row, median_ns, openssl_evp_bytes_per_sec, print_table, timed};

const SIZES: [(usize, &str); 4] = [
    (64, "64 B"),
    (1024, "1 KiB"),
    (16 * 1024, "16 KiB"),
    (1024 * 1024, "1 MiB"),
];

/// The raw crate, keyed once, sealing `nonce ‖ ciphertext ‖ tag` into a reused buffer.
enum Raw {
    Aegis([u8; 32]),
    Gcm(Box<Aes256Gcm>),
}

impl Raw {
    fn new(cipher: StreamCipher, key: [u8; 32]) -> Self {
        match cipher {
            StreamCipher::Aegis256 => Raw::Aegis(key),
            _ => Raw::Gcm(Box::new(Aes256Gcm::new(&key.into()))),
        }
    }

    fn seal(&self, plaintext: &[u8], ad: &[u8], out: &mut Vec<u8>) {
        out.clear();
        match self {
            Raw::Aegis(key) => {
                let mut nonce = [0u8; 32];
                rand::rng().fill_bytes(&mut nonce);
                out.extend_from_slice(&nonce);
                out.extend_from_slice(plaintext);
                let tag = aegis::aegis256::Aegis256::<16>::new(key, &nonce)
                    .encrypt_in_place(&mut out[32..], ad);
                out.extend_from_slice(&tag);
            }
            Raw::Gcm(aes) => {
                let mut nonce = [0u8; 12];
                rand::rng().fill_bytes(&mut nonce);
                out.extend_from_slice(&nonce);
                out.extend_from_slice(plaintext);
                let tag = aes
                    .encrypt_inout_detached(&Nonce::from(nonce), ad, (&mut out[12..]).into())
                    .unwrap();
                out.extend_from_slice(&tag);
            }
        }
    }

    fn open(&self, sealed: &[u8], ad: &[u8], out: &mut Vec<u8>) {
        out.clear();
        match self {
            Raw::Aegis(key) => {
                let (nonce, rest) = sealed.split_at(32);
                let (ct, tag) = rest.split_at(rest.len() - 16);
                out.extend_from_slice(ct);
                aegis::aegis256::Aegis256::<16>::new(key, nonce.try_into().unwrap())
                    .decrypt_in_place(out, tag.try_into().unwrap(), ad)
                    .unwrap();
            }
            Raw::Gcm(aes) => {
                let (nonce, rest) = sealed.split_at(12);
                let (ct, tag) = rest.split_at(rest.len() - 16);
                out.extend_from_slice(ct);
                aes.decrypt_inout_detached(
                    &Nonce::try_from(nonce).unwrap(),
                    ad,
                    out.as_mut_slice().into(),
                    &aes_gcm::Tag::try_from(tag).unwrap(),
                )
                .unwrap();
            }
        }
    }
}

fn main() {
    let mut criterion = sealkit_benches::criterion();
    let identity = StreamIdentity::new("bench-basin", "bench-stream").unwrap();
    // Our associated data is label ‖ format ‖ length-prefixed identity ‖ presence byte: give the
    // raw crates an AD of the same length so both authenticate the same number of bytes.
    let ad = vec![0x5a; 24 + 1 + 4 + 11 + 4 + 12 + 1 + 1];
    let mut rows = Vec::new();

    for cipher in StreamCipher::ALL {
        let key = EncryptionKey::generate();
        let sealer = RecordSealer::new(cipher, &key, &identity);
        let mut raw_key = [0u8; 32];
        rand::rng().fill_bytes(&mut raw_key);
        let raw = Raw::new(cipher, raw_key);

        for op in ["seal", "open"] {
            let group_name = format!("stream_{op}_{cipher}");
            let mut group = criterion.benchmark_group(&group_name);
            for (size, label) in SIZES {
                let plaintext = vec![0xa5u8; size];
                let ours_record = sealer.seal(&plaintext, None).unwrap();
                let mut raw_record = Vec::new();
                raw.seal(&plaintext, &ad, &mut raw_record);
                let mut out = Vec::with_capacity(size + 64);
                group.throughput(Throughput::Bytes(size as u64));
                let ours_key = format!("{group_name}/ours/{size}");
                let raw_key = format!("{group_name}/raw/{size}");
                group.bench_function(BenchmarkId::new("ours", size), |b| {
                    timed(b, &ours_key, || {
                        out.clear();
                        if op == "seal" {
                            sealer
                                .seal_into(black_box(&plaintext), None, &mut out)
                                .unwrap();
                        } else {
                            sealer
                                .open_into(black_box(&ours_record), None, &mut out)
                                .unwrap();
                        }
                        black_box(&out);
                    })
                });
                group.bench_function(BenchmarkId::new("raw", size), |b| {
                    timed(b, &raw_key, || {
                        if op == "seal" {
                            raw.seal(black_box(&plaintext), &ad, &mut out);
                        } else {
                            raw.open(black_box(&raw_record), &ad, &mut out);
                        }
                        black_box(&out);
                    })
                });
                if let (Some(ours_ns), Some(baseline_ns)) =
                    (median_ns(&ours_key), median_ns(&raw_key))
                {
                    rows.push(Row {
                        label: format!("{op} {cipher} {label}"),
                        ours_ns,
                        baseline_ns,
                        bytes: size,
                    });
                }
            }
            group.finish();
        }
    }
    criterion.final_summary();

    print_table(
        "sealkit-stream vs the raw crate (ratio = raw time / our time)",
        "raw",
        &rows,
    );

    let aegis_1k = median_ns("stream_seal_aegis-256/ours/1024");
    match (aegis_1k, openssl_evp_bytes_per_sec("aes-256-gcm", 1024)) {
        (Some(ns), Some(openssl)) => {
            let ours = 1024.0 / ns * 1e9;
            println!(
                "\nAEGIS-256 seal at 1 KiB: {:.0} MB/s; openssl speed -aead -evp aes-256-gcm at 1 KiB: {:.0} MB/s; ratio {:.2}x",
                ours / 1e6,
                openssl / 1e6,
                ours / openssl
            );
        }
        (_, None) => println!("\nopenssl not found: AEGIS-256 vs openssl comparison skipped"),
        (None, _) => {}
    }
}
