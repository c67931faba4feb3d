//! The record parser and opener: arbitrary bytes given to `inspect` and `open` must be refused with a
//! typed error (or, impossibly, authenticate) — never panic — and a record we seal must open again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealkit_stream::{EncryptionKey, RecordSealer, StreamCipher, StreamIdentity, record};
use std::sync::OnceLock;

fn sealers() -> &'static [RecordSealer; 2] {
    static SEALERS: OnceLock<[RecordSealer; 2]> = OnceLock::new();
    SEALERS.get_or_init(|| {
        let key = EncryptionKey::from_bytes([7; 32]);
        let identity = StreamIdentity::new("fuzz", "records").unwrap();
        StreamCipher::ALL.map(|cipher| RecordSealer::new(cipher, &key, &identity))
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = record::inspect(data) {
        assert_eq!(info.format.sealed_len(info.plaintext_len), data.len());
    }
    for sealer in sealers() {
        assert!(
            sealer.open(data, None).is_err(),
            "forged record authenticated"
        );
        let mut buf = data.to_vec();
        assert!(sealer.open_in_place(&mut buf, Some(1)).is_err());
        // Round trip of the input as a plaintext.
        let sealed = sealer.seal(data, Some(3)).expect("seal");
        assert_eq!(sealer.open(&sealed, Some(3)).expect("open"), data);
    }
});
