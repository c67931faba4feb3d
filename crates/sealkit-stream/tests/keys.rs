//! The key a client sends, and what a stream does with it: S2's parsing rules and messages, the
//! key-check value that refuses a wrong key before any record is touched, the plain/encrypted
//! resolution (with the key-for-unencrypted-stream case S2 ignores), and that no secret is ever
//! printed.

use sealkit_stream::primitive::RecordCipher;
use sealkit_stream::{
    EncryptionKey, KeyCheck, KeyParseError, Operation, RecordSealer, StreamCipher, StreamError,
    StreamIdentity, StreamProtection, StreamSpec,
};

/// Standard padded base64, written here rather than borrowed from the crate's decoder so the tests
/// do not check the implementation against itself.
fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// 32 recognisable key bytes: `00 01 02 … 1f`.
fn key_bytes() -> [u8; 32] {
    std::array::from_fn(|i| i as u8)
}

fn key_b64() -> String {
    b64(&key_bytes())
}

fn identity() -> StreamIdentity {
    StreamIdentity::new("basin", "stream").unwrap()
}

fn resolve_err(cipher: StreamCipher, header: Option<&str>) -> StreamError {
    match StreamSpec::encrypted(cipher).resolve(header) {
        Ok(_) => panic!("{cipher}: key {header:?} was accepted"),
        Err(e) => e,
    }
}

fn resolved_key_b64(cipher: StreamCipher, header: &str) -> String {
    match StreamSpec::encrypted(cipher).resolve(Some(header)) {
        Ok(StreamProtection::Encrypted {
            cipher: resolved,
            key,
        }) => {
            assert_eq!(resolved, cipher);
            key.to_base64().to_string()
        }
        other => panic!("{cipher}: key {header:?} resolved to {other:?}"),
    }
}

#[test]
fn our_base64_encoder_matches_known_answers() {
    // RFC 4648 section 10.
    let cases = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foobar", "Zm9vYmFy"),
    ];
    for (raw, encoded) in cases {
        assert_eq!(b64(raw.as_bytes()), encoded);
    }
    assert_eq!(key_b64(), "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
}

#[test]
fn key_with_surrounding_whitespace_is_trimmed_and_accepted() {
    let key = key_b64();
    for header in [
        key.clone(),
        format!(" {key}"),
        format!("{key}\n"),
        format!("\t {key} \r\n"),
    ] {
        for cipher in StreamCipher::ALL {
            assert_eq!(resolved_key_b64(cipher, &header), key, "{header:?}");
        }
        assert_eq!(
            EncryptionKey::parse(&header).unwrap().to_base64().as_str(),
            key
        );
    }
}

#[test]
fn key_with_inner_whitespace_is_invalid_base64() {
    let key = key_b64();
    for at in [1, 20, 43] {
        for ws in [" ", "\n", "\t"] {
            let header = format!("{}{ws}{}", &key[..at], &key[at..]);
            for cipher in StreamCipher::ALL {
                assert_eq!(
                    resolve_err(cipher, Some(&header)),
                    StreamError::InvalidKey { cipher }
                );
            }
            assert_eq!(
                EncryptionKey::parse(&header).unwrap_err(),
                KeyParseError::InvalidBase64
            );
        }
    }
}

#[test]
fn key_in_url_safe_alphabet_is_invalid_base64() {
    // 0xfb 0xef 0xbe encodes to "++++" and 0xff 0xff 0xff to "////".
    let mut bytes = [0xffu8; 32];
    bytes[..15].copy_from_slice(&[0xfb, 0xef, 0xbe].repeat(5));
    let standard = b64(&bytes);
    assert!(standard.contains('+') && standard.contains('/'));
    assert!(
        EncryptionKey::parse(&standard).is_ok(),
        "the standard form is a valid key"
    );
    let url_safe = standard.replace('+', "-").replace('/', "_");
    for cipher in StreamCipher::ALL {
        assert_eq!(
            resolve_err(cipher, Some(&url_safe)),
            StreamError::InvalidKey { cipher }
        );
    }
    // Only '-' or only '_' is refused too.
    assert!(EncryptionKey::parse(&standard.replace('+', "-")).is_err());
    assert!(EncryptionKey::parse(&standard.replace('/', "_")).is_err());
}

#[test]
fn unpadded_or_misplaced_padding_or_non_canonical_key_is_invalid_base64() {
    let key = key_b64();
    let unpadded = key.trim_end_matches('=');
    assert_eq!(unpadded.len(), 43);
    let padding_first = format!("={unpadded}");
    // The last character before '=' carries two unused bits; S2's decoder refuses them set.
    let non_canonical = format!("{}9=", &key[..42]);
    assert!(key.ends_with("8="));
    for header in [unpadded, &padding_first, &non_canonical, "!!!!", "AAAA=AAA"] {
        for cipher in StreamCipher::ALL {
            assert_eq!(
                resolve_err(cipher, Some(header)),
                StreamError::InvalidKey { cipher },
                "{header:?}"
            );
        }
    }
    // Longer than any key and not base64 at all.
    let long_garbage = "#".repeat(60);
    assert_eq!(
        EncryptionKey::parse(&long_garbage).unwrap_err(),
        KeyParseError::InvalidBase64
    );
}

#[test]
fn key_of_wrong_decoded_length_reports_its_real_length() {
    for len in [1usize, 16, 31, 33, 34, 48, 64, 100] {
        let header = b64(&vec![0x5a; len]);
        for cipher in StreamCipher::ALL {
            assert_eq!(
                resolve_err(cipher, Some(&header)),
                StreamError::InvalidKeyLength { cipher, len },
                "{len}-byte key"
            );
        }
        assert_eq!(
            EncryptionKey::parse(&header).unwrap_err(),
            KeyParseError::InvalidLength(len)
        );
    }
}

#[test]
fn absent_empty_or_blank_key_on_encrypted_stream_is_missing() {
    for cipher in StreamCipher::ALL {
        assert_eq!(
            resolve_err(cipher, None),
            StreamError::MissingKey { cipher }
        );
        for blank in ["", " ", "\n", " \t\r\n "] {
            assert_eq!(
                resolve_err(cipher, Some(blank)),
                StreamError::MissingKey { cipher }
            );
            assert_eq!(
                EncryptionKey::parse(blank).unwrap_err(),
                KeyParseError::Missing
            );
        }
    }
}

#[test]
fn key_error_messages_are_the_reference_messages() {
    assert_eq!(
        resolve_err(StreamCipher::Aegis256, None).to_string(),
        "missing encryption key for stream cipher 'aegis-256'"
    );
    assert_eq!(
        resolve_err(StreamCipher::Aes256Gcm, Some("not base64!")).to_string(),
        "invalid encryption key for stream cipher 'aes-256-gcm': invalid base64"
    );
    assert_eq!(
        resolve_err(StreamCipher::Aegis256, Some(&b64(&[7; 33]))).to_string(),
        "invalid encryption key length for stream cipher 'aegis-256': 33"
    );
}

#[test]
fn error_codes_and_http_statuses_follow_the_reference() {
    let cipher = StreamCipher::Aegis256;
    let cases = [
        (StreamError::MissingKey { cipher }, "invalid", 422),
        (StreamError::InvalidKey { cipher }, "invalid", 422),
        (
            StreamError::InvalidKeyLength { cipher, len: 33 },
            "invalid",
            422,
        ),
        (StreamError::DecryptionFailed, "decryption_failed", 400),
        (StreamError::WrongKey, "wrong_key", 400),
        (
            StreamError::KeyForUnencryptedStream,
            "key_for_unencrypted_stream",
            422,
        ),
    ];
    for (error, code, status) in cases {
        assert_eq!(
            (error.code(), error.http_status()),
            (code, status),
            "{error:?}"
        );
    }
}

#[test]
fn key_sent_to_unencrypted_stream_is_refused() {
    for spec in [
        StreamSpec::plain(),
        StreamSpec::created_with(None),
        StreamSpec::default(),
    ] {
        assert!(matches!(spec.resolve(None), Ok(StreamProtection::Plain)));
        // A blank value is no key, as on an encrypted stream (where it is a missing key).
        for blank in ["", " ", "\t\n"] {
            assert!(matches!(
                spec.resolve(Some(blank)),
                Ok(StreamProtection::Plain)
            ));
            assert!(
                spec.sealer(Some(blank), &identity(), None)
                    .unwrap()
                    .is_none()
            );
        }
        for header in [key_b64(), " x ".to_owned(), "garbage".to_owned()] {
            let err = spec.resolve(Some(&header)).unwrap_err();
            assert_eq!(err, StreamError::KeyForUnencryptedStream);
            assert_eq!(
                spec.sealer(Some(&header), &identity(), None).unwrap_err(),
                StreamError::KeyForUnencryptedStream
            );
        }
        assert!(spec.sealer(None, &identity(), None).unwrap().is_none());
    }
}

#[test]
fn stream_spec_keeps_the_cipher_it_was_created_with() {
    for cipher in StreamCipher::ALL {
        assert_eq!(
            StreamSpec::created_with(Some(cipher)),
            StreamSpec::encrypted(cipher)
        );
        assert_eq!(StreamSpec::encrypted(cipher).cipher(), Some(cipher));
    }
    assert_eq!(StreamSpec::plain().cipher(), None);
}

#[test]
fn only_append_and_read_need_the_key() {
    let needs_key = [Operation::Append, Operation::Read];
    let no_key = [
        Operation::CreateBasin,
        Operation::ReconfigureBasin,
        Operation::CreateStream,
        Operation::CheckTail,
        Operation::ListStreams,
    ];
    assert!(needs_key.iter().all(|op| op.requires_key()));
    assert!(no_key.iter().all(|op| !op.requires_key()));
}

#[test]
fn key_check_refuses_another_key_with_wrong_key_before_building_a_sealer() {
    let id = identity();
    let key = EncryptionKey::from_bytes(key_bytes());
    let other = EncryptionKey::from_bytes([0xee; 32]);
    for cipher in StreamCipher::ALL {
        let stored = *RecordSealer::new(cipher, &key, &id).key_check();
        let err = RecordSealer::with_key_check(cipher, &other, &id, &stored).unwrap_err();
        assert_eq!(
            (err.clone(), err.code(), err.http_status()),
            (StreamError::WrongKey, "wrong_key", 400)
        );
        let sealer = RecordSealer::with_key_check(cipher, &key, &id, &stored).unwrap();
        assert_eq!(*sealer.key_check(), stored);
    }
}

#[test]
fn key_check_is_deterministic_and_bound_to_key_and_identity() {
    let key = EncryptionKey::from_bytes(key_bytes());
    let other = EncryptionKey::from_bytes([0xee; 32]);
    let cipher = StreamCipher::Aegis256;
    let check =
        |k: &EncryptionKey, id: &StreamIdentity| *RecordSealer::new(cipher, k, id).key_check();
    let id = identity();
    let other_id = StreamIdentity::new("basin", "stream2").unwrap();
    let incarnated = identity().with_incarnation(*b"1").unwrap();
    assert_eq!(check(&key, &id), check(&key, &id));
    assert_ne!(check(&key, &id), check(&other, &id));
    assert_ne!(check(&key, &id), check(&key, &other_id));
    assert_ne!(check(&key, &id), check(&key, &incarnated));
    // The key-check value of one stream does not admit the same key on another stream.
    let stored = check(&key, &id);
    assert_eq!(
        RecordSealer::with_key_check(cipher, &key, &other_id, &stored).unwrap_err(),
        StreamError::WrongKey
    );
}

#[test]
fn stream_spec_sealer_checks_the_stored_key_check_value() {
    let id = identity();
    let header = key_b64();
    let other_header = b64(&[0xee; 32]);
    for cipher in StreamCipher::ALL {
        let spec = StreamSpec::encrypted(cipher);
        let first = spec
            .sealer(Some(&header), &id, None)
            .unwrap()
            .expect("encrypted stream");
        let stored = *first.key_check();
        let record = first.seal(b"payload", Some(0)).unwrap();

        // The same key, with surrounding whitespace, passes the check and reads the record.
        let reader = spec
            .sealer(Some(&format!(" {header}\n")), &id, Some(&stored))
            .unwrap()
            .unwrap();
        assert_eq!(reader.open(&record, Some(0)).unwrap(), b"payload");

        assert_eq!(
            spec.sealer(Some(&other_header), &id, Some(&stored))
                .unwrap_err(),
            StreamError::WrongKey
        );
        // Without a stored value the other key builds a sealer, which cannot open the record.
        let unchecked = spec
            .sealer(Some(&other_header), &id, None)
            .unwrap()
            .unwrap();
        assert_eq!(
            unchecked.open(&record, Some(0)).unwrap_err(),
            StreamError::DecryptionFailed
        );
        // Key errors come before the key check.
        assert_eq!(
            spec.sealer(None, &id, Some(&stored)).unwrap_err(),
            StreamError::MissingKey { cipher }
        );
        assert_eq!(
            spec.sealer(Some("%%%"), &id, Some(&stored)).unwrap_err(),
            StreamError::InvalidKey { cipher }
        );
    }
}

#[test]
fn key_check_display_and_from_str_round_trip_as_64_lowercase_hex_digits() {
    let id = identity();
    let check =
        *RecordSealer::new(StreamCipher::Aes256Gcm, &EncryptionKey::generate(), &id).key_check();
    let text = check.to_string();
    assert_eq!(text.len(), 64);
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_eq!(text.parse::<KeyCheck>().unwrap(), check);
    assert_eq!(KeyCheck::from_bytes(*check.as_bytes()), check);

    let fixed = KeyCheck::from_bytes([0xab; 32]);
    assert_eq!(fixed.to_string(), "ab".repeat(32));
    assert_eq!("ab".repeat(32).parse::<KeyCheck>().unwrap(), fixed);
}

#[test]
fn key_check_from_str_rejects_uppercase_wrong_length_and_non_hex() {
    let good = "ab".repeat(32);
    let rejected = [
        "AB".repeat(32),
        format!("A{}", &good[1..]),
        good[..62].to_owned(),
        good[..63].to_owned(),
        format!("{good}a"),
        format!("{good}ab"),
        String::new(),
        format!("g{}", &good[1..]),
        format!(" {}", &good[1..]),
        format!("0x{}", &good[2..]),
        // 64 bytes, but not 64 hex digits.
        format!("é{}", &good[2..]),
    ];
    for text in rejected {
        let err = text.parse::<KeyCheck>().unwrap_err();
        assert_eq!(err, StreamError::MalformedKeyCheck, "{text:?}");
        // A key-check value comes from the server's own storage: broken there is a server fault.
        assert_eq!(
            (err.code(), err.http_status()),
            ("malformed_key_check", 500)
        );
    }
}

#[test]
fn identity_fields_must_be_within_their_limits() {
    use sealkit_stream::{MAX_BASIN_LEN, MAX_INCARNATION_LEN, MAX_STREAM_LEN};
    let invalid = |what, len, max| StreamError::InvalidIdentity { what, len, max };
    assert_eq!(
        StreamIdentity::new("", "s").unwrap_err(),
        invalid("basin name", 0, MAX_BASIN_LEN)
    );
    assert_eq!(
        StreamIdentity::new("b", "").unwrap_err(),
        invalid("stream name", 0, MAX_STREAM_LEN)
    );
    let long_basin = "b".repeat(MAX_BASIN_LEN + 1);
    assert_eq!(
        StreamIdentity::new(long_basin, "s").unwrap_err(),
        invalid("basin name", MAX_BASIN_LEN + 1, MAX_BASIN_LEN)
    );
    let long_stream = "s".repeat(MAX_STREAM_LEN + 1);
    assert_eq!(
        StreamIdentity::new("b", long_stream).unwrap_err(),
        invalid("stream name", MAX_STREAM_LEN + 1, MAX_STREAM_LEN)
    );
    let id = StreamIdentity::new("b".repeat(MAX_BASIN_LEN), "s".repeat(MAX_STREAM_LEN)).unwrap();
    assert_eq!(
        id.clone().with_incarnation(Vec::new()).unwrap_err(),
        invalid("incarnation", 0, MAX_INCARNATION_LEN)
    );
    assert_eq!(
        id.clone()
            .with_incarnation(vec![1; MAX_INCARNATION_LEN + 1])
            .unwrap_err(),
        invalid("incarnation", MAX_INCARNATION_LEN + 1, MAX_INCARNATION_LEN)
    );
    let full = id.with_incarnation(vec![1; MAX_INCARNATION_LEN]).unwrap();
    assert_eq!(full.incarnation(), Some(&[1; MAX_INCARNATION_LEN][..]));
    // The longest identity still seals and opens.
    let sealer = RecordSealer::new(StreamCipher::Aegis256, &EncryptionKey::generate(), &full);
    let record = sealer.seal(b"x", Some(u64::MAX)).unwrap();
    assert_eq!(sealer.open(&record, Some(u64::MAX)).unwrap(), b"x");
}

/// Ways the secret key bytes could leak into text.
fn secret_renderings(bytes: &[u8]) -> Vec<String> {
    let b64 = b64(bytes);
    vec![
        b64.clone(),
        b64[..8].to_owned(),
        b64.trim_end_matches('=').to_owned(),
        b64.replace('+', "-").replace('/', "_"),
        hex::encode(bytes),
        hex::encode_upper(bytes),
        hex::encode(&bytes[..4]),
        format!("{bytes:?}"),
        format!("{:?}", &bytes[..4])
            .trim_end_matches(']')
            .to_owned(),
    ]
}

fn assert_no_secret(text: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{text:?} contains the secret rendering {secret:?}"
        );
    }
}

/// Key bytes with no zero byte, so their renderings cannot collide with the `[0, …]` of other fields.
fn secret_bytes() -> [u8; 32] {
    std::array::from_fn(|i| 0xa0 ^ (i as u8 * 7 + 3))
}

#[test]
fn debug_of_key_sealer_cipher_and_protection_is_redacted() {
    let bytes = secret_bytes();
    let secrets = secret_renderings(&bytes);
    let key = EncryptionKey::from_bytes(bytes);
    let key_debug = format!("{key:?} {key:#?}");
    assert!(key_debug.contains("[REDACTED]"), "{key_debug}");
    assert_no_secret(&key_debug, &secrets);

    for cipher in StreamCipher::ALL {
        let sealer = RecordSealer::new(cipher, &key, &identity());
        let text = format!("{sealer:?} {sealer:#?}");
        assert!(text.contains("[REDACTED]"), "{text}");
        assert_no_secret(&text, &secrets);

        let primitive = RecordCipher::new(cipher, &bytes);
        let text = format!("{primitive:?} {primitive:#?}");
        assert!(text.contains("[REDACTED]"), "{text}");
        assert_no_secret(&text, &secrets);

        let protection = StreamSpec::encrypted(cipher)
            .resolve(Some(&b64(&bytes)))
            .unwrap();
        let text = format!("{protection:?} {protection:#?}");
        assert!(text.contains("[REDACTED]"), "{text}");
        assert_no_secret(&text, &secrets);
    }
}

#[test]
fn no_error_built_from_a_secret_key_string_contains_it() {
    let bytes = secret_bytes();
    let key = b64(&bytes);
    let mut long = bytes.to_vec();
    long.extend_from_slice(&bytes);
    let headers = [
        format!("{}{}", &key[..22], &key[21..]), // a character repeated: bad padding position
        key.trim_end_matches('=').to_owned(),
        format!("{} {}", &key[..20], &key[20..]),
        key.replace('+', "-").replace('/', "_").replace('A', "-"),
        format!("{key}{key}"),
        b64(&long),
        b64(&bytes[..31]),
        b64(&[&bytes[..], &[0x0a]].concat()),
        format!("{}!", &key[..43]),
    ];
    for header in &headers {
        let mut secrets = secret_renderings(&bytes);
        secrets.push(header.trim().to_owned());
        secrets.push(header.trim()[..8].to_owned());
        for cipher in StreamCipher::ALL {
            let err = resolve_err(cipher, Some(header));
            assert!(err.code() == "invalid", "{header:?} gave {err:?}");
            assert_no_secret(&format!("{err} {err:?} {err:#?}"), &secrets);
            if let Err(parse) = EncryptionKey::parse(header) {
                assert_no_secret(&format!("{parse:?}"), &secrets);
            }
        }
    }
}

#[test]
fn sealer_is_send_and_sync_so_one_serves_concurrent_requests() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RecordSealer>();
    assert_send_sync::<RecordCipher>();
    assert_send_sync::<EncryptionKey>();
}
