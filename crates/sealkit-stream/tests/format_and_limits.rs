//! The cipher setting (wire strings, parsing, serde), per-cipher record limits, and record format v1
//! as a server sees it without the key: the format byte, the plaintext length, and the checks made
//! before any decryption.

use sealkit_stream::record::{self, RecordFormat, RecordInfo};
use sealkit_stream::{EncryptionKey, RecordSealer, StreamCipher, StreamError, StreamIdentity};

fn sealer(cipher: StreamCipher) -> RecordSealer {
    let identity = StreamIdentity::new("basin", "stream").unwrap();
    RecordSealer::new(cipher, &EncryptionKey::from_bytes([0x42; 32]), &identity)
}

const AES_GCM_MAX_SEQ: u64 = 4_294_967_295;

#[test]
fn cipher_wire_strings_are_exact_and_parse_case_insensitively() {
    assert_eq!(StreamCipher::Aegis256.as_str(), "aegis-256");
    assert_eq!(StreamCipher::Aes256Gcm.as_str(), "aes-256-gcm");
    for cipher in StreamCipher::ALL {
        assert_eq!(cipher.to_string(), cipher.as_str());
        let name = cipher.as_str();
        let mixed: String = name
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect();
        for text in [name.to_owned(), name.to_ascii_uppercase(), mixed] {
            assert_eq!(text.parse::<StreamCipher>().unwrap(), cipher, "{text:?}");
        }
    }
}

#[test]
fn unknown_cipher_names_are_refused() {
    for text in [
        "",
        "aegis256",
        "aegis-128l",
        "aes-128-gcm",
        "aes256gcm",
        " aegis-256",
        "aegis-256\n",
    ] {
        let err = text.parse::<StreamCipher>().unwrap_err();
        assert!(
            matches!(err, StreamError::UnknownCipher { .. }),
            "{text:?}: {err:?}"
        );
        assert_eq!(err.code(), "invalid");
    }
    // A long value is not echoed at all: only its length.
    let long = "x".repeat(10_000);
    let message = long.parse::<StreamCipher>().unwrap_err().to_string();
    assert_eq!(
        message,
        "unknown stream cipher (a value of 10000 characters, not shown): \
         expected \"aegis-256\" or \"aes-256-gcm\""
    );
}

/// A misspelt name is repeated so the person can see it; a key pasted into the cipher field (a
/// swapped environment variable, say) is not, in `Display` or `Debug`.
#[test]
fn an_unknown_cipher_is_named_only_when_it_looks_like_a_name() {
    let err = "AEGIS-257".parse::<StreamCipher>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown stream cipher \"AEGIS-257\": expected \"aegis-256\" or \"aes-256-gcm\""
    );
    let key = "q4A8pB0hYxV3n1Jd6mZ0cWl2tR9sE5uK7oG+fH/iLwM=";
    for value in [
        key,
        &key[..20],
        "Hunter2\"Pass\\word",
        "aegis 256 key",
        "correctHorseBattery",
    ] {
        let err = value.parse::<StreamCipher>().unwrap_err();
        assert!(err.to_string().contains("not shown"), "{err}");
        for shown in [err.to_string(), format!("{err:?}")] {
            for run in value.split(|c: char| !c.is_alphanumeric()) {
                for window in run.as_bytes().windows(6) {
                    let window = std::str::from_utf8(window).unwrap();
                    assert!(!shown.contains(window), "{value:?} leaked into {shown}");
                }
            }
        }
    }
}

#[test]
fn cipher_serde_uses_the_wire_strings() {
    assert_eq!(
        serde_json::to_string(&StreamCipher::Aegis256).unwrap(),
        r#""aegis-256""#
    );
    assert_eq!(
        serde_json::to_string(&StreamCipher::Aes256Gcm).unwrap(),
        r#""aes-256-gcm""#
    );
    for cipher in StreamCipher::ALL {
        let json = serde_json::to_string(&cipher).unwrap();
        assert_eq!(serde_json::from_str::<StreamCipher>(&json).unwrap(), cipher);
        let upper = json.to_ascii_uppercase();
        assert_eq!(
            serde_json::from_str::<StreamCipher>(&upper).unwrap(),
            cipher
        );
    }
    let setting: Option<StreamCipher> = serde_json::from_str("null").unwrap();
    assert_eq!(setting, None);
    assert!(serde_json::from_str::<StreamCipher>(r#""chacha20-poly1305""#).is_err());
    assert!(serde_json::from_str::<StreamCipher>("1").is_err());
}

#[test]
fn max_records_is_2_pow_32_for_aes_gcm_and_2_pow_64_for_aegis() {
    assert_eq!(StreamCipher::Aes256Gcm.max_records(), 1u128 << 32);
    assert_eq!(StreamCipher::Aegis256.max_records(), 1u128 << 64);
    assert_eq!(StreamCipher::Aes256Gcm.max_seq_num(), AES_GCM_MAX_SEQ);
    assert_eq!(StreamCipher::Aegis256.max_seq_num(), u64::MAX);
    assert_eq!(StreamCipher::Aegis256.nonce_len(), 32);
    assert_eq!(StreamCipher::Aes256Gcm.nonce_len(), 12);
}

#[test]
fn aes_gcm_seals_at_the_last_sequence_number_and_refuses_the_next_with_the_reference_message() {
    let sealer = sealer(StreamCipher::Aes256Gcm);
    let record = sealer.seal(b"last", Some(AES_GCM_MAX_SEQ)).unwrap();
    assert_eq!(
        sealer.open(&record, Some(AES_GCM_MAX_SEQ)).unwrap(),
        b"last"
    );

    let err = sealer
        .seal(b"one too many", Some(AES_GCM_MAX_SEQ + 1))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "max assignable sequence number is 4294967295; attempted 4294967296"
    );
    assert_eq!(
        err,
        StreamError::RecordLimit {
            max: AES_GCM_MAX_SEQ,
            attempted: 4_294_967_296
        }
    );
    assert!(sealer.seal(b"far beyond", Some(u64::MAX)).is_err());
}

#[test]
fn refused_seal_over_the_limit_writes_nothing() {
    let sealer = sealer(StreamCipher::Aes256Gcm);
    let mut out = b"earlier records".to_vec();
    let err = sealer
        .seal_into(b"body", Some(AES_GCM_MAX_SEQ + 1), &mut out)
        .unwrap_err();
    assert!(matches!(err, StreamError::RecordLimit { .. }));
    assert_eq!(out, b"earlier records");

    let mut in_place = vec![0x11; sealer.sealed_len(4)];
    let before = in_place.clone();
    assert!(
        sealer
            .seal_in_place(&mut in_place, Some(AES_GCM_MAX_SEQ + 1))
            .is_err()
    );
    assert_eq!(in_place, before);
}

#[test]
fn aegis_seals_at_every_sequence_number_up_to_u64_max() {
    let sealer = sealer(StreamCipher::Aegis256);
    for seq in [AES_GCM_MAX_SEQ, AES_GCM_MAX_SEQ + 1, u64::MAX] {
        let record = sealer.seal(b"unbounded", Some(seq)).unwrap();
        assert_eq!(sealer.open(&record, Some(seq)).unwrap(), b"unbounded");
    }
    let batch = sealer
        .seal_batch(&[b"a", b"b"], Some(u64::MAX - 1))
        .unwrap();
    assert_eq!(
        sealer.open_batch(&batch, Some(u64::MAX - 1)).unwrap(),
        [b"a", b"b"]
    );
    // The batch would need sequence number 2^64.
    let err = sealer
        .seal_batch(&[b"a", b"b"], Some(u64::MAX))
        .unwrap_err();
    assert!(matches!(err, StreamError::RecordLimit { .. }), "{err:?}");
}

#[test]
fn batch_crossing_the_aes_gcm_limit_is_all_or_nothing() {
    let sealer = sealer(StreamCipher::Aes256Gcm);
    let plaintexts: [&[u8]; 3] = [b"one", b"two", b"three"];

    let err = sealer
        .seal_batch(&plaintexts, Some(AES_GCM_MAX_SEQ - 1))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "max assignable sequence number is 4294967295; attempted 4294967296"
    );

    let fits = sealer
        .seal_batch(&plaintexts, Some(AES_GCM_MAX_SEQ - 2))
        .unwrap();
    assert_eq!(fits.len(), 3);
    assert_eq!(
        sealer.open_batch(&fits, Some(AES_GCM_MAX_SEQ - 2)).unwrap(),
        plaintexts
    );
    assert_eq!(
        sealer.open(&fits[2], Some(AES_GCM_MAX_SEQ)).unwrap(),
        b"three"
    );

    let empty: [&[u8]; 0] = [];
    assert!(
        sealer
            .seal_batch(&empty, Some(AES_GCM_MAX_SEQ + 1))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn record_format_bytes_and_sizes() {
    assert_eq!(
        RecordFormat::for_cipher(StreamCipher::Aegis256).byte(),
        0x01
    );
    assert_eq!(
        RecordFormat::for_cipher(StreamCipher::Aes256Gcm).byte(),
        0x02
    );
    for cipher in StreamCipher::ALL {
        let format = RecordFormat::for_cipher(cipher);
        assert_eq!(format.cipher(), cipher);
        assert_eq!(RecordFormat::from_byte(format.byte()), Some(format));
        assert_eq!(format.header_len(), 1 + cipher.nonce_len());
        assert_eq!(format.overhead(), 1 + cipher.nonce_len() + 16);
        assert_eq!(format.sealed_len(100), 100 + format.overhead());
    }
    assert_eq!(
        RecordFormat::for_cipher(StreamCipher::Aegis256).overhead(),
        49
    );
    assert_eq!(
        RecordFormat::for_cipher(StreamCipher::Aes256Gcm).overhead(),
        29
    );
    for byte in (0..=255u8).filter(|b| !matches!(b, 0x01 | 0x02)) {
        assert_eq!(RecordFormat::from_byte(byte), None);
    }
}

#[test]
fn sealed_record_layout_is_format_nonce_ciphertext_tag() {
    for cipher in StreamCipher::ALL {
        let sealer = sealer(cipher);
        let plaintext = b"layout check, longer than one block";
        let record = sealer.seal(plaintext, None).unwrap();
        assert_eq!(record.len(), 1 + cipher.nonce_len() + plaintext.len() + 16);
        assert_eq!(record[0], RecordFormat::for_cipher(cipher).byte());
        let body = &record[1 + cipher.nonce_len()..record.len() - 16];
        assert_ne!(body, plaintext, "{cipher}: the body is encrypted");
        assert!(
            !record.windows(8).any(|w| w == &plaintext[..8]),
            "{cipher}: plaintext leaked"
        );
        // A fresh random nonce per record.
        let again = sealer.seal(plaintext, None).unwrap();
        assert_ne!(
            record[1..1 + cipher.nonce_len()],
            again[1..1 + cipher.nonce_len()]
        );
    }
}

#[test]
fn inspect_reads_the_plaintext_length_without_a_key() {
    for cipher in StreamCipher::ALL {
        let sealer = sealer(cipher);
        for len in [0usize, 1, 15, 16, 17, 1000] {
            let record = sealer.seal(&vec![0x61; len], Some(3)).unwrap();
            let info = record::inspect(&record).unwrap();
            assert_eq!(
                info,
                RecordInfo {
                    format: RecordFormat::for_cipher(cipher),
                    plaintext_len: len
                }
            );
        }
    }
}

#[test]
fn inspect_rejects_empty_short_and_unknown_format_records() {
    assert!(matches!(
        record::inspect(&[]),
        Err(StreamError::MalformedRecord(_))
    ));
    for byte in [0x00u8, 0x03, 0x80, 0xff] {
        let record = vec![byte; 100];
        assert_eq!(
            record::inspect(&record),
            Err(StreamError::UnknownRecordFormat { found: byte })
        );
    }
    for cipher in StreamCipher::ALL {
        let format = RecordFormat::for_cipher(cipher);
        for len in 1..format.overhead() {
            let mut record = vec![0u8; len];
            record[0] = format.byte();
            let err = record::inspect(&record).unwrap_err();
            assert!(
                matches!(err, StreamError::MalformedRecord(_)),
                "{cipher}, {len} bytes: {err:?}"
            );
            assert_eq!(err.code(), "malformed_record");
        }
        let mut minimal = vec![0u8; format.overhead()];
        minimal[0] = format.byte();
        assert_eq!(record::inspect(&minimal).unwrap().plaintext_len, 0);
    }
}

#[test]
fn record_of_another_cipher_is_refused_as_cipher_mismatch_before_decrypting() {
    let aegis = sealer(StreamCipher::Aegis256);
    let aes = sealer(StreamCipher::Aes256Gcm);
    let from_aes = aes.seal(b"sealed with aes-256-gcm", Some(1)).unwrap();
    let from_aegis = aegis.seal(b"sealed with aegis-256", Some(1)).unwrap();

    let err = aegis.open(&from_aes, Some(1)).unwrap_err();
    let expected = StreamError::CipherMismatch {
        expected: StreamCipher::Aegis256,
        found: StreamCipher::Aes256Gcm,
    };
    assert_eq!(err, expected);
    assert_eq!(err.code(), "cipher_mismatch");
    assert_eq!(
        aes.open(&from_aegis, Some(1)).unwrap_err(),
        StreamError::CipherMismatch {
            expected: StreamCipher::Aes256Gcm,
            found: StreamCipher::Aegis256
        }
    );

    // open_in_place and open_into refuse before touching anything.
    let mut buf = from_aes.clone();
    assert_eq!(
        aegis.open_in_place(&mut buf, Some(1)).unwrap_err(),
        expected
    );
    assert_eq!(buf, from_aes);
    let mut out = b"prefix".to_vec();
    assert_eq!(
        aegis.open_into(&from_aes, Some(1), &mut out).unwrap_err(),
        expected
    );
    assert_eq!(out, b"prefix");
    assert_eq!(
        aegis
            .open_batch(&[from_aegis.clone(), from_aes], Some(1))
            .unwrap_err(),
        expected
    );
}

#[test]
fn relabelled_format_byte_does_not_downgrade_a_record() {
    // An AEGIS record relabelled as AES-GCM (and vice versa) must not open under the other cipher.
    // The relabelled record passes the format check (its byte now names the opener's cipher), so
    // what refuses it is the authentication: the cipher is in the derived key and the format byte
    // in the associated data.
    let aegis = sealer(StreamCipher::Aegis256);
    let aes = sealer(StreamCipher::Aes256Gcm);
    let mut relabelled = aegis.seal(b"downgrade me", Some(0)).unwrap();
    relabelled[0] = 0x02;
    assert_eq!(
        aes.open(&relabelled, Some(0)).unwrap_err(),
        StreamError::DecryptionFailed
    );
    let mut relabelled = aes
        .seal(b"upgrade me, longer than the nonce diff", Some(0))
        .unwrap();
    relabelled[0] = 0x01;
    assert_eq!(
        aegis.open(&relabelled, Some(0)).unwrap_err(),
        StreamError::DecryptionFailed
    );
}

#[test]
fn seal_in_place_refuses_a_buffer_shorter_than_the_overhead() {
    for cipher in StreamCipher::ALL {
        let sealer = sealer(cipher);
        let overhead = sealer.sealed_len(0);
        let mut short = vec![0u8; overhead - 1];
        let err = sealer.seal_in_place(&mut short, Some(0)).unwrap_err();
        assert!(matches!(err, StreamError::MalformedRecord(_)), "{err:?}");
        assert_eq!(short, vec![0u8; overhead - 1]);
        let mut empty_record = vec![0u8; overhead];
        sealer.seal_in_place(&mut empty_record, Some(0)).unwrap();
        assert_eq!(sealer.open(&empty_record, Some(0)).unwrap(), b"");
    }
}

#[test]
fn sealer_reports_its_cipher_and_format() {
    for cipher in StreamCipher::ALL {
        let sealer = sealer(cipher);
        assert_eq!(sealer.cipher(), cipher);
        assert_eq!(sealer.format(), RecordFormat::for_cipher(cipher));
        assert_eq!(
            sealer.sealed_len(10),
            RecordFormat::for_cipher(cipher).sealed_len(10)
        );
    }
}

#[test]
fn open_batch_past_u64_is_a_record_limit_not_an_overflow() {
    // Only AEGIS-256 can have a record at u64::MAX for the next one to run past.
    let sealer = sealer(StreamCipher::Aegis256);
    let last = sealer.seal(b"last", Some(u64::MAX)).unwrap();
    let err = sealer
        .open_batch(&[last.clone(), last], Some(u64::MAX))
        .unwrap_err();
    assert_eq!(
        err,
        StreamError::RecordLimit {
            max: u64::MAX,
            attempted: u128::from(u64::MAX) + 1
        }
    );
}
