//! Wycheproof through the primitives the envelopes use: RSA-OAEP (SHA-256, MGF1-SHA-256) via
//! `keys::unwrap_data_key` (blinded decryption) and AES-256-GCM (96-bit IV, 128-bit tag) via
//! `content`.

use std::time::Instant;

use sealkit_envelope::{Error, content, keys};
use sealkit_vectors::unhex;
use serde_json::Value;

fn as_usize(v: &Value) -> usize {
    v.as_u64()
        .map(|n| n as usize)
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap()
}

/// What one Wycheproof RSA-OAEP file ran.
#[derive(Debug, Default, PartialEq, Eq)]
struct OaepCounts {
    /// `valid` cases, each unwrapped to its message.
    valid: usize,
    /// `invalid` cases, each rejected.
    invalid: usize,
    /// `acceptable` cases (either outcome allowed, the message if unwrapped).
    acceptable: usize,
    /// Groups whose key is below the 2048-bit floor, refused at parsing.
    refused_groups: usize,
}

/// Runs every SHA-256/MGF1-SHA-256 group of a file.
fn run_oaep_file(test: &str, file: &str) -> Option<OaepCounts> {
    let v = sealkit_vectors::json(test, file)?;
    let mut counts = OaepCounts::default();
    for group in v["testGroups"].as_array().unwrap() {
        if group["sha"] != "SHA-256" || group["mgfSha"] != "SHA-256" || group["mgf"] != "MGF1" {
            continue;
        }
        let bits = as_usize(&group["keySize"]);
        let pem = group["privateKeyPem"].as_str().unwrap();
        let key = match keys::parse_private_key_pem(pem) {
            Ok(key) => key,
            Err(Error::KeyTooSmall { bits: got }) => {
                assert!(bits < 2048 && got < 2048, "{bits}-bit key refused");
                counts.refused_groups += 1;
                continue;
            }
            Err(e) => panic!("{file}: {bits}-bit key does not parse: {e}"),
        };
        for case in group["tests"].as_array().unwrap() {
            let id = &case["tcId"];
            let got = keys::unwrap_data_key(&key, &unhex(&case["ct"]), &unhex(&case["label"]));
            match case["result"].as_str().unwrap() {
                "valid" => {
                    assert_eq!(
                        got.as_deref().map(|m| &m[..]),
                        Some(&unhex(&case["msg"])[..]),
                        "{file} tc {id}"
                    );
                    counts.valid += 1;
                }
                "invalid" => {
                    assert!(got.is_none(), "{file} tc {id} must be rejected");
                    counts.invalid += 1;
                }
                "acceptable" => {
                    if let Some(m) = got {
                        assert_eq!(&m[..], &unhex(&case["msg"])[..], "{file} tc {id}");
                    }
                    counts.acceptable += 1;
                }
                other => panic!("{file} tc {id}: unknown result {other:?}"),
            }
        }
    }
    Some(counts)
}

/// The counts of a file with no `acceptable` case and no refused group.
fn valid_invalid(valid: usize, invalid: usize) -> OaepCounts {
    OaepCounts {
        valid,
        invalid,
        ..OaepCounts::default()
    }
}

#[test]
fn rsa_oaep_2048_sha256() {
    let Some(counts) = run_oaep_file(
        "rsa_oaep_2048",
        "wycheproof/rsa_oaep_2048_sha256_mgf1sha256_test.json",
    ) else {
        return;
    };
    assert_eq!(counts, valid_invalid(18, 19));
}

#[test]
fn rsa_oaep_3072_sha256() {
    let Some(counts) = run_oaep_file(
        "rsa_oaep_3072",
        "wycheproof/rsa_oaep_3072_sha256_mgf1sha256_test.json",
    ) else {
        return;
    };
    assert_eq!(counts, valid_invalid(18, 19));
}

#[test]
fn rsa_oaep_4096_sha256() {
    let start = Instant::now();
    let Some(counts) = run_oaep_file(
        "rsa_oaep_4096",
        "wycheproof/rsa_oaep_4096_sha256_mgf1sha256_test.json",
    ) else {
        return;
    };
    println!("rsa_oaep_4096: {counts:?} in {:?}", start.elapsed());
    assert_eq!(counts, valid_invalid(18, 19));
}

#[test]
fn rsa_oaep_misc_sha256_cases() {
    let start = Instant::now();
    let Some(counts) = run_oaep_file("rsa_oaep_misc", "wycheproof/rsa_oaep_misc_test.json") else {
        return;
    };
    println!(
        "rsa_oaep_misc (SHA-256/MGF1-SHA-256): {counts:?} in {:?}",
        start.elapsed()
    );
    // Six groups run (2048, 2688, 3072, 4032, 4096 and 8192 bits); the 1024- and 1536-bit groups are
    // below the 2048-bit floor.
    assert_eq!(
        counts,
        OaepCounts {
            valid: 26,
            invalid: 0,
            acceptable: 2,
            refused_groups: 2,
        }
    );
}

#[test]
fn aes_256_gcm() {
    let Some(v) = sealkit_vectors::json("aes_256_gcm", "wycheproof/aes_gcm_test.json") else {
        return;
    };
    let (mut valid, mut invalid) = (0, 0);
    for group in v["testGroups"].as_array().unwrap() {
        if as_usize(&group["keySize"]) != 256
            || as_usize(&group["ivSize"]) != 96
            || as_usize(&group["tagSize"]) != 128
        {
            continue;
        }
        for case in group["tests"].as_array().unwrap() {
            let id = &case["tcId"];
            let key: [u8; 32] = unhex(&case["key"]).try_into().unwrap();
            let iv: [u8; 12] = unhex(&case["iv"]).try_into().unwrap();
            let (aad, msg) = (unhex(&case["aad"]), unhex(&case["msg"]));
            let mut sealed = unhex(&case["ct"]);
            sealed.extend_from_slice(&unhex(&case["tag"]));
            let opened = content::open(&key, &iv, &aad, &sealed);
            if case["result"] == "valid" {
                assert_eq!(opened.as_deref().map(|m| &m[..]), Some(&msg[..]), "tc {id}");
                assert_eq!(
                    content::seal(&key, &iv, &aad, &msg).unwrap(),
                    sealed,
                    "tc {id}"
                );
                valid += 1;
            } else {
                assert_eq!(case["result"], "invalid", "tc {id}");
                assert!(opened.is_none(), "tc {id} must be rejected");
                invalid += 1;
            }
        }
    }
    assert_eq!((valid, invalid), (39, 27), "AES-256-GCM cases run");
}
