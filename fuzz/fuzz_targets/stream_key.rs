//! The stream key parser: any header value either parses to a key that re-encodes to the trimmed
//! input, or is refused with a typed error — never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealkit_stream::{EncryptionKey, KeyParseError, StreamCipher, StreamSpec};

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
});
