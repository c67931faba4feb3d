//! The quickstart's vault flow (the same lines as `examples/quickstart.rs`), kept compiling here.

use sealkit_vault as vault;

#[test]
fn quickstart_flow() -> Result<(), Box<dyn std::error::Error>> {
    // Validate the key at startup (events go to stdout by default; here into a Vec).
    let raw_key = "/obLhPgQejwjrTk1Y/1PpaBd5gAUlxj7r1H9E3vVSMg=";
    let mut events: Vec<vault::AnalyticsEvent> = Vec::new();
    vault::StartupValidator::new().validate(raw_key, Some("production"), &mut events)?;
    assert_eq!(events[0].name(), "sdk.startup.succeeded");

    // Encrypt a setting into the Olympus `v2:` format and read it back.
    let key = vault::EncryptionKey::new(raw_key);
    let settings = vault::SettingsVault::new(&key)?;
    let stored = settings.encrypt("smtp-password")?;
    assert_eq!(settings.decrypt(&stored)?.as_str(), "smtp-password");
    // Plain values stored before encryption existed pass through, URLs included.
    assert!(!vault::is_encrypted_format("http://localhost:3000"));

    // Rotation: a vault holding the old key rewraps old values under the new one.
    let rotated = vault::SettingsVault::new(&vault::EncryptionKey::new(
        "a-brand-new-key-from-sealkit-keygen!",
    ))?
    .with_previous_key(&key)?;
    let vault::Rewrap::Rewrapped(moved) = rotated.rewrap(&stored)? else {
        panic!("not rewrapped")
    };
    assert_eq!(rotated.decrypt(&moved)?.as_str(), "smtp-password");

    // Session cookies under a separate SESSION_SIGNING_KEY.
    let signer = vault::SessionSigner::new("3q2+7/7K0x1N8m4Pq9rS5tUvWxYz0A1B2C3D4E5F6G8=", &key)?;
    let cookie = signer.sign(r#"{"user":"ada"}"#);
    assert_eq!(signer.verify(&cookie)?, r#"{"user":"ada"}"#);
    Ok(())
}
