//! The sealed-claims decoder: total, and canonical (whatever decodes re-encodes to the input).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealkit_token::claims::{ClaimsView, TokenClaims};

fuzz_target!(|data: &[u8]| {
    let view = ClaimsView::parse(data);
    let owned = TokenClaims::decode(data);
    assert_eq!(view.is_ok(), owned.is_ok());
    if let Ok(claims) = owned {
        assert_eq!(claims.encode().expect("decoded claims re-encode"), data);
        assert!(!claims.scope.effective_ops().is_empty());
    }
});
