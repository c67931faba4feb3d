//! The stream key parser: any header value either parses to a key that re-encodes to the trimmed
//! input, or is refused with a typed error — never a panic. The same text goes to the key-check
//! parser (`str::parse::<KeyCheck>`, the value stored beside a stream): it accepts exactly 64
//! lowercase hex digits, and what it accepts displays back as the same text. And to the cipher
//! name parser (a basin's or stream's cipher setting, the CLI's `--cipher`): it accepts the two
//! names in any case and nothing else, and its error repeats the input only when it is short and
//! name-shaped, never a pasted key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealkit_stream::{
    EncryptionKey, KEY_CHECK_LEN, KeyCheck, KeyParseError, StreamCipher, StreamError, StreamSpec,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match EncryptionKey::parse(text) {
        Ok(key) => assert_eq!(key.to_base64().as_str(), text.trim()),
        Err(KeyParseError::Missing) => assert!(text.trim().is_empty()),
        Err(_) => {}
    }
    // The request-level resolution must agree with the parser; its errors carry no input text
    // (the variants hold only the cipher and a length), so they are all `invalid`.
    let parsed = EncryptionKey::parse(text).is_ok();
    for cipher in StreamCipher::ALL {
        match StreamSpec::encrypted(cipher).resolve(Some(text)) {
            Ok(_) => assert!(parsed),
            Err(e) => assert!(!parsed && e.code() == "invalid" && e.http_status() == 422),
        }
    }

    // The key-check value: canonical text only (no trimming, no upper case), one spelling each.
    let canonical = text.len() == 2 * KEY_CHECK_LEN
        && text.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
    match text.parse::<KeyCheck>() {
        Ok(check) => {
            assert!(canonical, "non-canonical key check accepted");
            assert_eq!(check.to_string(), text);
            assert_eq!(KeyCheck::from_bytes(*check.as_bytes()), check);
            assert_eq!(check.to_string().parse::<KeyCheck>().unwrap(), check);
        }
        Err(e) => {
            assert!(!canonical, "canonical key check refused");
            assert!(matches!(e, StreamError::MalformedKeyCheck), "{e:?}");
        }
    }

    // The cipher name.
    let named = StreamCipher::ALL
        .into_iter()
        .find(|c| c.as_str().eq_ignore_ascii_case(text));
    match text.parse::<StreamCipher>() {
        Ok(cipher) => assert_eq!(Some(cipher), named),
        Err(StreamError::UnknownCipher { given, len }) => {
            assert!(named.is_none(), "a cipher name refused");
            assert_eq!(len, text.chars().count());
            if let Some(given) = given {
                assert_eq!(given, text);
                assert!(given.len() <= 24, "a long value repeated in the error");
                assert!(!parsed, "a key repeated in the error");
            }
        }
        Err(e) => panic!("cipher name: unexpected error {e:?}"),
    }
});
