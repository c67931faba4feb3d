//! Envelope parsing and validation (KV record and object metadata) on arbitrary input: never
//! panics; whatever parses re-serialises to JSON that parses to the same record; validated binary
//! fields re-encode canonically; the base64 decoder agrees with the encoder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealkit_envelope::{EnvelopeMetadata, KvRecord, encoding};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(record) = KvRecord::from_json(text) {
        let again = KvRecord::from_json(&record.to_json()).expect("our own output parses");
        assert_eq!(again, record);
        if let Ok(envelope) = record.metadata().validate() {
            assert_eq!(envelope.iv().len(), 12);
            assert!(!envelope.wrapped_key().is_empty());
            // The decoder only accepts canonical text, so re-encoding the bytes gives back the
            // unpadded url-alphabet form of the same value.
            let decoded = encoding::decode(&record.data_iv, 12).expect("validated");
            assert_eq!(
                encoding::decode(&encoding::encode(&decoded), 12).unwrap(),
                decoded
            );
        }
        let _ = record.decode_ciphertext();
    }

    if let Ok(metadata) = EnvelopeMetadata::from_json(text) {
        let again =
            EnvelopeMetadata::from_json(&metadata.to_json()).expect("our own output parses");
        assert_eq!(again, metadata);
        let _ = metadata.validate();
    }

    if let Ok(bytes) = encoding::decode(text, 4096) {
        let canonical = encoding::encode(&bytes);
        assert_eq!(encoding::decode(&canonical, 4096).unwrap(), bytes);
        // Accepted text differs from the canonical form only by alphabet and padding.
        let normalized = text
            .trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_");
        assert_eq!(normalized, canonical);
    }
});
