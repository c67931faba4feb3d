//! Known-answer tests: the CFRG AEGIS-256 vectors and Wycheproof's AEGIS-256 and AES-256-GCM vectors,
//! run in both directions through the primitive layer every record goes through
//! ([`sealkit_stream::primitive::RecordCipher`]).
//!
//! Each file's case count is asserted, so a filter that silently matched nothing cannot pass.
//!
//! Wycheproof's `acceptable` result: neither file has any such case at the time of writing (asserted
//! below, so a new vector release is noticed). Should one appear, it counts as valid if it verifies
//! and is then held to the same known answer as a valid case.

use sealkit_stream::StreamCipher;
use sealkit_stream::primitive::{RecordCipher, TAG_LEN};
use sealkit_vectors::unhex;
use serde_json::Value;

/// One AEAD known answer.
struct Case {
    label: String,
    key: [u8; 32],
    nonce: Vec<u8>,
    ad: Vec<u8>,
    /// Absent for CFRG's failure cases, which give no message.
    msg: Option<Vec<u8>>,
    ct: Vec<u8>,
    tag: [u8; TAG_LEN],
    expect: Expect,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Valid,
    Invalid,
    Acceptable,
}

#[derive(Default, Debug)]
struct Counts {
    valid: usize,
    invalid: usize,
    acceptable_verified: usize,
    acceptable_rejected: usize,
}

impl Counts {
    fn total(&self) -> usize {
        self.valid + self.invalid + self.acceptable_verified + self.acceptable_rejected
    }
}

fn key32(field: &Value) -> [u8; 32] {
    unhex(field).try_into().expect("a 256-bit key")
}

fn tag16(field: &Value) -> [u8; TAG_LEN] {
    unhex(field).try_into().expect("a 128-bit tag")
}

/// Runs one case through `RecordCipher` in both directions and checks that a failed open leaves
/// the buffer as documented. Returns whether the case verified.
fn run_case(cipher: StreamCipher, case: &Case) -> bool {
    let primitive = RecordCipher::new(cipher, &case.key);
    let label = &case.label;

    if let Some(msg) = &case.msg {
        let mut buf = msg.clone();
        let tag = primitive.encrypt_in_place(&case.nonce, &case.ad, &mut buf);
        let reproduces = buf == case.ct && tag == case.tag;
        match case.expect {
            Expect::Valid => {
                assert_eq!(
                    hex::encode(&buf),
                    hex::encode(&case.ct),
                    "{label}: ciphertext"
                );
                assert_eq!(hex::encode(tag), hex::encode(case.tag), "{label}: tag");
            }
            // Encryption is deterministic: if it reproduced ct‖tag, that pair would verify.
            Expect::Invalid => assert!(!reproduces, "{label}: encrypting msg reproduced ct‖tag"),
            Expect::Acceptable => {}
        }
    }

    let mut buf = case.ct.clone();
    let opened = primitive.decrypt_in_place(&case.nonce, &case.ad, &mut buf, &case.tag);
    match (case.expect, opened) {
        (Expect::Valid, Err(_)) => panic!("{label}: a valid case did not verify"),
        (Expect::Invalid, Ok(())) => panic!("{label}: an invalid case verified"),
        (Expect::Valid | Expect::Acceptable, Ok(())) => {
            if let Some(msg) = &case.msg {
                assert_eq!(hex::encode(&buf), hex::encode(msg), "{label}: plaintext");
            }
            // An acceptable case that verifies is held to its known answer in both directions.
            if case.expect == Expect::Acceptable {
                let msg = case.msg.as_ref().expect("Wycheproof cases carry a message");
                let mut again = msg.clone();
                let tag = primitive.encrypt_in_place(&case.nonce, &case.ad, &mut again);
                assert_eq!(
                    (again, tag),
                    (case.ct.clone(), case.tag),
                    "{label}: encrypt"
                );
            }
            true
        }
        (Expect::Invalid | Expect::Acceptable, Err(_)) => {
            assert_failed_tag_check_state(cipher, label, &buf, &case.ct);
            false
        }
    }
}

/// The buffer after an open whose tag did not verify, as `RecordCipher::decrypt_in_place`
/// documents it: AES-256-GCM checks the tag before decrypting, so the ciphertext is untouched;
/// AEGIS-256 decrypts while authenticating and then erases the buffer.
///
/// (Where the ciphertext is itself all zeros, or equals the message, the two states coincide; no
/// case can tell them apart there.)
fn assert_failed_tag_check_state(cipher: StreamCipher, label: &str, buf: &[u8], ct: &[u8]) {
    match cipher {
        StreamCipher::Aes256Gcm => assert_eq!(
            hex::encode(buf),
            hex::encode(ct),
            "{label}: AES-256-GCM must leave the ciphertext untouched after a failed open"
        ),
        StreamCipher::Aegis256 => assert_eq!(
            hex::encode(buf),
            hex::encode(vec![0; ct.len()]),
            "{label}: AEGIS-256 must erase the buffer after a failed open"
        ),
        other => panic!("{other}: no documented state after a failed open"),
    }
}

fn tally(counts: &mut Counts, expect: Expect, verified: bool) {
    match (expect, verified) {
        (Expect::Valid, _) => counts.valid += 1,
        (Expect::Invalid, _) => counts.invalid += 1,
        (Expect::Acceptable, true) => counts.acceptable_verified += 1,
        (Expect::Acceptable, false) => counts.acceptable_rejected += 1,
    }
}

#[test]
fn cfrg_aegis256_vectors_encrypt_decrypt_and_reject_through_record_cipher() {
    let file = "cfrg-aegis/aegis-256-test-vectors.json";
    let Some(vectors) = sealkit_vectors::json("cfrg_aegis256", file) else {
        return;
    };
    let mut counts = Counts::default();
    let mut skipped_non_aead = 0;
    for entry in vectors.as_array().expect("a list of vectors") {
        // The "Update Test Vector" entry tests the internal state update, not the AEAD.
        if entry.get("key").is_none() {
            skipped_non_aead += 1;
            continue;
        }
        let expect = if entry.get("error").is_some() {
            Expect::Invalid
        } else {
            Expect::Valid
        };
        let case = Case {
            label: format!("{file}: {}", entry["name"]),
            key: key32(&entry["key"]),
            nonce: unhex(&entry["nonce"]),
            ad: unhex(&entry["ad"]),
            msg: entry.get("msg").map(unhex),
            ct: unhex(&entry["ct"]),
            // Our records carry 128-bit tags; the 256-bit tags are not used.
            tag: tag16(&entry["tag128"]),
            expect,
        };
        assert_eq!(case.nonce.len(), 32, "{}: AEGIS-256 nonce", case.label);
        if expect == Expect::Valid {
            assert!(
                case.msg.is_some(),
                "{}: a valid case without a message",
                case.label
            );
        }
        let verified = run_case(StreamCipher::Aegis256, &case);
        tally(&mut counts, expect, verified);
    }
    println!("{file}: {counts:?} (skipped {skipped_non_aead} state-update vector)");
    assert_eq!(skipped_non_aead, 1, "{file}: exactly one non-AEAD vector");
    assert_eq!((counts.valid, counts.invalid), (5, 4), "{file}: cases run");
}

/// Runs the Wycheproof groups with a 256-bit key, the cipher's nonce size and a 128-bit tag.
fn wycheproof(cipher: StreamCipher, file: &str, iv_bits: u64) -> Option<Counts> {
    let vectors = sealkit_vectors::json("wycheproof", file)?;
    let mut counts = Counts::default();
    for group in vectors["testGroups"].as_array().expect("test groups") {
        let sizes = (&group["keySize"], &group["ivSize"], &group["tagSize"]);
        if sizes != (&Value::from(256), &Value::from(iv_bits), &Value::from(128)) {
            continue;
        }
        for test in group["tests"].as_array().expect("tests") {
            let expect = match test["result"].as_str() {
                Some("valid") => Expect::Valid,
                Some("invalid") => Expect::Invalid,
                Some("acceptable") => Expect::Acceptable,
                other => panic!("{file}: tcId {}: unknown result {other:?}", test["tcId"]),
            };
            let case = Case {
                label: format!("{file}: tcId {} ({})", test["tcId"], test["comment"]),
                key: key32(&test["key"]),
                nonce: unhex(&test["iv"]),
                ad: unhex(&test["aad"]),
                msg: Some(unhex(&test["msg"])),
                ct: unhex(&test["ct"]),
                tag: tag16(&test["tag"]),
                expect,
            };
            assert_eq!(
                case.nonce.len(),
                cipher.nonce_len(),
                "{}: nonce size",
                case.label
            );
            let verified = run_case(cipher, &case);
            tally(&mut counts, expect, verified);
        }
    }
    println!("{file}: {counts:?} (256-bit key, {iv_bits}-bit nonce, 128-bit tag)");
    Some(counts)
}

#[test]
fn wycheproof_aegis256_vectors_encrypt_decrypt_and_reject_through_record_cipher() {
    let file = "wycheproof/aegis256_test.json";
    let Some(counts) = wycheproof(StreamCipher::Aegis256, file, 256) else {
        return;
    };
    assert_eq!(
        (counts.valid, counts.invalid),
        (360, 112),
        "{file}: cases run"
    );
    assert_eq!(counts.total(), 472, "{file}: no acceptable cases expected");
}

#[test]
fn wycheproof_aes256gcm_96bit_nonce_vectors_encrypt_decrypt_and_reject_through_record_cipher() {
    let file = "wycheproof/aes_gcm_test.json";
    let Some(counts) = wycheproof(StreamCipher::Aes256Gcm, file, 96) else {
        return;
    };
    assert_eq!(
        (counts.valid, counts.invalid),
        (39, 27),
        "{file}: cases run"
    );
    assert_eq!(counts.total(), 66, "{file}: no acceptable cases expected");
}

#[test]
fn record_cipher_rejects_a_nonce_of_the_wrong_length_on_open() {
    let key = [7u8; 32];
    for cipher in StreamCipher::ALL {
        let primitive = RecordCipher::new(cipher, &key);
        let nonce = vec![1u8; cipher.nonce_len()];
        let mut buf = b"attack at dawn".to_vec();
        let tag = primitive.encrypt_in_place(&nonce, b"ad", &mut buf);
        let ct = buf.clone();
        for len in [0, cipher.nonce_len() - 1, cipher.nonce_len() + 1] {
            let mut attempt = ct.clone();
            let nonce = vec![1u8; len];
            assert!(
                primitive
                    .decrypt_in_place(&nonce, b"ad", &mut attempt, &tag)
                    .is_err(),
                "{cipher}: nonce of {len} bytes accepted"
            );
            // A nonce of the wrong length is refused before any decryption, by either cipher.
            assert_eq!(
                attempt, ct,
                "{cipher}: a refused nonce must leave the ciphertext untouched"
            );
        }
        primitive
            .decrypt_in_place(&nonce, b"ad", &mut buf, &tag)
            .expect("right nonce opens");
        assert_eq!(buf, b"attack at dawn");
        assert_eq!(primitive.cipher(), cipher);
    }
}

#[test]
fn record_cipher_open_with_altered_ad_or_tag_fails_and_leaves_no_plaintext() {
    let key = [9u8; 32];
    let msg = b"a record body that spans more than one sixteen-byte block".to_vec();
    for cipher in StreamCipher::ALL {
        let primitive = RecordCipher::new(cipher, &key);
        let nonce = vec![3u8; cipher.nonce_len()];
        let mut ct = msg.clone();
        let tag = primitive.encrypt_in_place(&nonce, b"stream-a", &mut ct);

        let mut buf = ct.clone();
        assert!(
            primitive
                .decrypt_in_place(&nonce, b"stream-b", &mut buf, &tag)
                .is_err()
        );
        assert_failed_tag_check_state(cipher, "altered ad", &buf, &ct);

        let mut bad_tag = tag;
        bad_tag[TAG_LEN - 1] ^= 0x80;
        let mut buf = ct.clone();
        assert!(
            primitive
                .decrypt_in_place(&nonce, b"stream-a", &mut buf, &bad_tag)
                .is_err()
        );
        assert_failed_tag_check_state(cipher, "altered tag", &buf, &ct);

        let other = RecordCipher::new(cipher, &[10u8; 32]);
        let mut buf = ct.clone();
        assert!(
            other
                .decrypt_in_place(&nonce, b"stream-a", &mut buf, &tag)
                .is_err()
        );
        assert_failed_tag_check_state(cipher, "other key", &buf, &ct);
    }
}
