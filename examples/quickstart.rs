//! sealkit quickstart: each component's main job, end to end, in one run.
//!
//! Run it with `cargo run --example quickstart`.

use std::sync::Arc;

use sealkit::envelope::{KeyRegistry, Opener, Scope, Sealer, generate_key_pair};
use sealkit::stream::{EncryptionKey, StreamCipher, StreamIdentity, StreamSpec};
use sealkit::token::{
    IssueRequest, Issuer, OpRequest, Operation, ServerKey, TokenAuthority, TokenKeyring,
};
use sealkit::vault;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    stream()?;
    settings_vault()?;
    envelope()?;
    token()?;
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
    let sealer = spec
        .sealer(Some(&header_value), &identity, None)?
        .expect("encrypted stream");
    let key_check = *sealer.key_check();
    let records = sealer.seal_batch(&[&b"login alice"[..], b"logout alice"], Some(0))?;
    println!(
        "sealed {} records ({} bytes for the first, incl. 49 bytes overhead)",
        records.len(),
        records[0].len()
    );
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].len(), b"login alice".len() + 49);

    // A read with the right key opens them; a wrong key is refused before any record is touched.
    let reader = spec
        .sealer(Some(&header_value), &identity, Some(&key_check))?
        .expect("encrypted");
    let opened = reader.open_batch(&records, Some(0))?;
    for (seq, plaintext) in opened.iter().enumerate() {
        println!("record {seq}: {}", String::from_utf8_lossy(plaintext));
    }
    assert_eq!(opened, [&b"login alice"[..], b"logout alice"]);
    let wrong = EncryptionKey::generate().to_base64();
    let refused = spec
        .sealer(Some(&wrong), &identity, Some(&key_check))
        .unwrap_err();
    println!(
        "wrong key -> {} ({}): {refused}",
        refused.code(),
        refused.http_status()
    );
    assert_eq!(refused.code(), "wrong_key");
    Ok(())
}

/// sealkit-vault: Olympus-compatible `v2:` settings values, startup validation, rotation, sessions.
fn settings_vault() -> Result<(), Box<dyn std::error::Error>> {
    println!("\n== sealkit-vault: the settings vault");
    // A fresh key, as `sealkit keygen` prints one (a key copied from any document, this one
    // included, is public). The service refuses to start with a missing, short, or (in
    // production) published or degenerate key.
    let raw_key = EncryptionKey::generate().to_base64();
    let raw_key = raw_key.as_str();
    let mut events: Vec<vault::AnalyticsEvent> = Vec::new();
    vault::StartupValidator::new().validate(raw_key, Some("production"), &mut events)?;
    println!("startup: {}", events[0].name());
    assert_eq!(events[0].name(), "sdk.startup.succeeded");

    let key = vault::EncryptionKey::new(raw_key);
    let settings = vault::SettingsVault::new(&key)?;
    let stored = settings.encrypt("smtp-password")?;
    println!("stored value: {}…", &stored[..12]);
    assert!(stored.starts_with("v2:"));
    let decrypted = settings.decrypt(&stored)?;
    println!("decrypted: {}", decrypted.as_str());
    assert_eq!(decrypted.as_str(), "smtp-password");
    // Plain values that merely contain colons pass through instead of failing.
    let looks_encrypted = vault::is_encrypted_format("http://localhost:3000");
    println!("is http://localhost:3000 ciphertext? {looks_encrypted}");
    assert!(!looks_encrypted);
    assert_eq!(
        settings.decrypt("http://localhost:3000")?.as_str(),
        "http://localhost:3000"
    );

    // Key rotation: the new vault reads old values and rewraps them under the new key.
    let new_raw_key = EncryptionKey::generate().to_base64();
    let new_key = vault::EncryptionKey::new(new_raw_key.as_str());
    let rotated = vault::SettingsVault::new(&new_key)?.with_previous_key(&key)?;
    let vault::Rewrap::Rewrapped(moved) = rotated.rewrap(&stored)? else {
        return Err("the old value should have been rewrapped".into());
    };
    let reread = vault::SettingsVault::new(&new_key)?.decrypt(&moved)?;
    println!("rewrapped under the new key: {}", reread.as_str());
    assert_eq!(reread.as_str(), "smtp-password");

    // The session-cookie key must be separate from ENCRYPTION_KEY (another `sealkit keygen`).
    let signing_key = EncryptionKey::generate().to_base64();
    let signer = vault::SessionSigner::new(signing_key.as_str(), &key)?;
    let cookie = signer.sign(r#"{"user":"ada"}"#);
    let payload = signer.verify(&cookie)?;
    println!("session cookie verifies, payload {payload}");
    assert_eq!(payload, r#"{"user":"ada"}"#);
    // The same secret as ENCRYPTION_KEY is refused as a signing key.
    assert!(vault::SessionSigner::new(raw_key, &key).is_err());
    Ok(())
}

/// sealkit-envelope: RSA-OAEP + AES-256-GCM envelopes, Striae-compatible, with a key registry.
fn envelope() -> Result<(), Box<dyn std::error::Error>> {
    println!("\n== sealkit-envelope: hybrid envelopes with a rotating key registry");
    // The operator generates a key pair (`sealkit envelope keygen`); writers only see the public key.
    let pair = generate_key_pair(2048)?;
    let sealer = Sealer::from_public_key_pem(&pair.key_id, &pair.public_key_pem)?;
    let object = sealer.seal(br#"{"caseNumber":"CASE-1"}"#, b"")?; // object form: metadata + raw body
    println!("metadata: {}", object.metadata.to_json());

    // Readers parse the registry once (here legacy single-key mode) and share it.
    let registry =
        KeyRegistry::legacy(Scope::DataAtRest, &pair.key_id, &pair.private_key_pem, None)?;
    let opener = Opener::new(Arc::new(registry)).with_cache(1024);
    let opened = opener.open(&object.metadata, &object.body, b"")?;
    println!("plaintext: {}", String::from_utf8_lossy(&opened.plaintext));
    println!("telemetry: {}", opened.telemetry.to_json());
    assert_eq!(&opened.plaintext[..], br#"{"caseNumber":"CASE-1"}"#);

    // Opt-in bound version: the envelope only opens for the object it was sealed for.
    let kv = sealer.bound().seal_kv(b"profile of u1", b"users/u1")?;
    let elsewhere = opener.open_kv(&kv, b"users/u2").unwrap_err();
    println!("bound record for users/u2 -> {}", elsewhere.code());
    assert_eq!(elsewhere.code(), "decryption_failed");
    let opened = opener.open_kv(&kv, b"users/u1")?;
    println!(
        "bound record for users/u1 -> {}",
        String::from_utf8_lossy(&opened.plaintext)
    );
    assert_eq!(&opened.plaintext[..], b"profile of u1");
    Ok(())
}

/// sealkit-token: a scoped, auto-prefixed token for one agent, checked on every request.
fn token() -> Result<(), Box<dyn std::error::Error>> {
    println!("\n== sealkit-token: scoped access tokens");
    // The server key comes from `sealkit keygen`; its id travels in every token so it can rotate.
    let authority = TokenAuthority::new(TokenKeyring::new("k1", &ServerKey::generate())?);
    // S2's issue request, verbatim: the agent sees only its own streams, without their prefix.
    let request = IssueRequest::from_json(
        br#"{"id": "agent/g7wrzr9t", "auto_prefix_streams": true,
             "scope": {"basins": {"exact": "browser-instances-wtvr"},
                       "ops": ["list-streams", "append"],
                       "streams": {"prefix": "session/g7wrzr9t/"}}}"#,
    )?;
    let issued = authority.issue(Issuer::Root, &request)?;
    let token = issued.token.expose_secret(); // hand this to the agent, never log it
    println!("token: {}… ({} characters)", &token[..7], token.len());

    let basin = "browser-instances-wtvr";
    let append = OpRequest::new(Operation::Append)
        .basin(basin)
        .stream("console");
    let allowed = authority.authorize(token, &append)?;
    println!(
        "append to console -> stream {:?}",
        allowed.effective_stream()
    );
    assert_eq!(allowed.effective_stream(), Some("session/g7wrzr9t/console"));
    let delete = OpRequest::new(Operation::DeleteStream)
        .basin(basin)
        .stream("console");
    let denied = authority.authorize(token, &delete).unwrap_err();
    println!(
        "delete console -> {} ({}): {denied}",
        denied.code(),
        denied.http_status()
    );
    assert_eq!(
        (denied.code(), denied.http_status()),
        ("permission_denied", 403)
    );

    authority.revoke(Issuer::Root, "agent/g7wrzr9t")?;
    let revoked = authority.verify(token).unwrap_err();
    println!("after revocation -> {}", revoked.code());
    assert_eq!(revoked.code(), "authn");
    Ok(())
}
