//! The server-key parser (`ServerKey::from_base64`) on arbitrary text. Never panics; it accepts
//! exactly the trimmed 44-character canonical padded standard base64 of 32 bytes (checked against
//! an independent decoder here), refuses everything else with a `Key` error (a static message, so
//! it cannot repeat the input), agrees with the stream key parser (the same header format), and an
//! accepted key is the key those 32 bytes make: tokens sealed under one verify under the other.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use sealkit_stream::EncryptionKey;
use sealkit_token::{
    FixedClock, IssueRequest, Issuer, ServerKey, TokenAuthority, TokenError, TokenKeyring,
};

/// Strict standard-alphabet, `=`-padded base64 of exactly 32 bytes (43 characters, the last
/// carrying 4 bits with the 2 trailing ones zero, then one `=`), written independently of the
/// crate's decoder.
fn reference_decode(text: &str) -> Option<[u8; 32]> {
    let text = text.as_bytes();
    if text.len() != 44 || text[43] != b'=' {
        return None;
    }
    let mut sextets = [0u8; 43];
    for (out, &c) in sextets.iter_mut().zip(&text[..43]) {
        *out = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
    }
    if sextets[42] & 0b11 != 0 {
        return None;
    }
    let mut bits: u32 = 0;
    let mut nbits = 0;
    let mut out = [0u8; 32];
    let mut n = 0;
    for s in sextets {
        bits = (bits << 6) | u32::from(s);
        nbits += 6;
        if nbits >= 8 && n < 32 {
            nbits -= 8;
            out[n] = (bits >> nbits) as u8;
            n += 1;
        }
        bits &= (1 << nbits) - 1;
    }
    Some(out)
}

fn authority(key: &ServerKey) -> TokenAuthority {
    TokenAuthority::new(TokenKeyring::new("k1", key).expect("key id"))
        .with_clock(Arc::new(FixedClock::new(1_748_970_000)))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let expected = reference_decode(text.trim());
    match ServerKey::from_base64(text) {
        Ok(parsed) => {
            let bytes = expected.expect("accepted text that is not a canonical 32-byte key");
            let request = IssueRequest::from_json(
                br#"{"id": "fuzz", "scope": {"basins": {"exact": "b"}, "ops": ["append"]}}"#,
            )
            .unwrap();
            let issued = authority(&parsed).issue(Issuer::Root, &request).unwrap();
            authority(&ServerKey::from_bytes(bytes))
                .verify(issued.token.expose_secret())
                .expect("the parsed key is not the key its text encodes");
        }
        Err(e) => {
            assert!(expected.is_none(), "refused a canonical 32-byte key");
            assert!(matches!(e, TokenError::Key(_)), "unexpected error {e:?}");
        }
    }
    // The stream key header has the same format.
    assert_eq!(EncryptionKey::parse(text).is_ok(), expected.is_some());
});
