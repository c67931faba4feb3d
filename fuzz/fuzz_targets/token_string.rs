//! The token string parser and verifier: any input is refused with a 401 `authn` error (the
//! fuzzer cannot forge the AEAD), never a panic. Genuine tokens with one byte changed are mixed in
//! so the decoder past the prefix and key id is reached.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use sealkit_token::{FixedClock, IssueRequest, Issuer, ServerKey, TokenAuthority, TokenKeyring};

struct Setup {
    authority: TokenAuthority,
    genuine: String,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let keyring = TokenKeyring::new("k1", &ServerKey::from_bytes([7; 32])).unwrap();
        let authority =
            TokenAuthority::new(keyring).with_clock(Arc::new(FixedClock::new(1_748_970_000)));
        let request = IssueRequest::from_json(
            br#"{"id": "fuzz", "auto_prefix_streams": true,
                 "scope": {"basins": {"exact": "b"}, "streams": {"prefix": "p/"}, "ops": ["append"]}}"#,
        )
        .unwrap();
        let genuine = authority.issue(Issuer::Root, &request).unwrap().token.expose_secret().to_owned();
        Setup { authority, genuine }
    })
}

fuzz_target!(|data: &[u8]| {
    let setup = setup();
    if let Ok(text) = std::str::from_utf8(data) {
        // Nothing but genuine tokens verifies: an input that did would be a forgery.
        let err = setup
            .authority
            .verify(text)
            .expect_err("a fuzzed token verified");
        assert!(err.is_authn());
    }
    // One edit of a genuine token: position and replacement byte from the input.
    if let [a, b, value, ..] = data {
        let mut edited = setup.genuine.clone().into_bytes();
        let at = usize::from(u16::from_le_bytes([*a, *b])) % edited.len();
        if edited[at] != *value {
            edited[at] = *value;
            if let Ok(text) = String::from_utf8(edited) {
                assert!(setup.authority.verify(&text).unwrap_err().is_authn());
            }
        }
    }
});
