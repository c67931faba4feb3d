//! The JSON issue request parser: never panics; a request that parses serializes back to JSON that
//! parses to the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealkit_token::IssueRequest;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = IssueRequest::from_json(data) {
        let _ = request.validate();
        let json = request.to_json();
        let again = IssueRequest::from_json(&json).expect("serialized request parses");
        assert_eq!(again, request);
    }
});
