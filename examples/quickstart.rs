//! sealkit quickstart: each component's main job, end to end, in one run.
//!
//! Run it with `cargo run --example quickstart`.

use sealkit::stream::{EncryptionKey, StreamCipher, StreamIdentity, StreamSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    stream()?;
    Ok(())
}

/// sealkit-stream: a client-supplied key seals the records of one stream.
fn stream() -> Result<(), Box<dyn std::error::Error>> {
    println!("== sealkit-stream: per-stream record encryption");
    // The client generates a key once (`sealkit keygen`) and sends it with every append and read.
    let header_value = EncryptionKey::generate().to_base64();
    // The stream captured its basin's cipher when it was created.
    let spec = StreamSpec::encrypted(StreamCipher::Aegis256);
    let identity = StreamIdentity::new("secure-events", "audit-log")?.with_incarnation(*b"0001")?;

    // First append: derive the per-stream key and keep the key-check value with the stream.
    let sealer = spec.sealer(Some(&header_value), &identity, None)?.expect("encrypted stream");
    let key_check = *sealer.key_check();
    let records = sealer.seal_batch(&[&b"login alice"[..], b"logout alice"], Some(0))?;
    println!("sealed {} records ({} bytes each incl. 49 bytes overhead)", records.len(), records[0].len());

    // A read with the right key opens them; a wrong key is refused before any record is touched.
    let reader = spec.sealer(Some(&header_value), &identity, Some(&key_check))?.expect("encrypted");
    for (seq, plaintext) in reader.open_batch(&records, Some(0))?.iter().enumerate() {
        println!("record {seq}: {}", String::from_utf8_lossy(plaintext));
    }
    let wrong = EncryptionKey::generate().to_base64();
    let refused = spec.sealer(Some(&wrong), &identity, Some(&key_check)).unwrap_err();
    println!("wrong key -> {} ({}): {refused}", refused.code(), refused.http_status());
    Ok(())
}
