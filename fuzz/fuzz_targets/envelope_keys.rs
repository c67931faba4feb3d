//! RSA key configuration on arbitrary text: the PKCS#8 / SPKI PEM parsers, `KeyRegistry::from_json`
//! and `KeyRegistry::from_env_lookup`. Never panics; accepted keys are at least 2048 bits and work
//! (a data key wrapped under a parsed private key's public half unwraps again); a registry holds
//! exactly the ids of its JSON document, with the documented active key; the environment form
//! follows its precedence rules (KEYS_JSON, else the legacy PRIVATE_KEY + KEY_ID) and, when a
//! PUBLIC_KEY is set, only accepts one matching the registered key.
//!
//! For `from_env_lookup` the input is split on NUL bytes into the values of
//! `DATA_AT_REST_ENCRYPTION_{KEYS_JSON, PRIVATE_KEY, KEY_ID, ACTIVE_KEY_ID, PUBLIC_KEY}`, in that
//! order; missing trailing values are unset. Parsing real RSA keys is slow (milliseconds), so
//! expect a low execution rate once the corpus holds real keys.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealkit_envelope::keys::{
    MIN_RSA_BITS, parse_private_key_pem, parse_public_key_pem, public_key_bits, spki_sha256,
    unwrap_data_key, wrap_data_key,
};
use sealkit_envelope::{EnvLookup, Error, KeyRegistry, RegistryDocument, Scope};

const SCOPE: Scope = Scope::DataAtRest;
const VARS: [&str; 5] = [
    "KEYS_JSON",
    "PRIVATE_KEY",
    "KEY_ID",
    "ACTIVE_KEY_ID",
    "PUBLIC_KEY",
];

fn non_blank(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}

fn check_pems(text: &str) {
    match parse_private_key_pem(text) {
        Ok(private) => {
            let public = private.to_public_key();
            assert!(public_key_bits(&public) >= MIN_RSA_BITS);
            spki_sha256(&public).expect("fingerprint of a parsed key");
            let data_key = [0x5a; 32];
            let wrapped = wrap_data_key(&public, &data_key, b"").expect("wrap");
            let unwrapped = unwrap_data_key(&private, &wrapped, b"")
                .expect("a parsed private key must unwrap what its public half wrapped");
            assert_eq!(unwrapped.as_slice(), &data_key);
        }
        Err(Error::KeyTooSmall { bits }) => assert!(bits < MIN_RSA_BITS),
        Err(Error::InvalidPrivateKeyPem) => {}
        Err(e) => panic!("parse_private_key_pem: unexpected error {e:?}"),
    }
    match parse_public_key_pem(text) {
        Ok(public) => {
            assert!(public_key_bits(&public) >= MIN_RSA_BITS);
            spki_sha256(&public).expect("fingerprint of a parsed key");
        }
        Err(Error::KeyTooSmall { bits }) => assert!(bits < MIN_RSA_BITS),
        Err(Error::InvalidPublicKey) => {}
        Err(e) => panic!("parse_public_key_pem: unexpected error {e:?}"),
    }
}

/// A registry agrees with the document it was built from.
fn check_registry(registry: &KeyRegistry, doc: &RegistryDocument, active: Option<&str>) {
    assert_eq!(registry.scope(), SCOPE);
    assert!(!registry.is_empty());
    assert!(
        registry.key_ids().eq(doc.key_ids()),
        "registry ids differ from its JSON"
    );
    assert_eq!(registry.active_key_id(), active);
    for id in doc.key_ids() {
        assert!(registry.contains(id));
        assert!(registry.public_key(id).is_some());
    }
}

fn check_json(text: &str) {
    let Ok(registry) = KeyRegistry::from_json(SCOPE, text, None) else {
        return;
    };
    let doc = RegistryDocument::parse(SCOPE, text).expect("a registry's JSON parses");
    check_registry(&registry, &doc, doc.active_key_id.as_deref());
}

fn check_env(text: &str) {
    let values: Vec<&str> = text.split('\0').take(VARS.len()).collect();
    let value = |suffix: &str| {
        VARS.iter()
            .position(|v| *v == suffix)
            .and_then(|i| values.get(i).copied())
    };
    let lookup = |name: &str| -> Option<String> {
        let suffix = name
            .strip_prefix(SCOPE.env_prefix())
            .and_then(|s| s.strip_prefix('_'))
            .unwrap_or_else(|| panic!("looked up {name} outside the scope"));
        assert!(
            VARS.contains(&suffix),
            "looked up an undocumented variable {name}"
        );
        value(suffix).map(str::to_owned)
    };
    let env: &dyn EnvLookup = &lookup;
    let Ok(registry) = KeyRegistry::from_env_lookup(SCOPE, env) else {
        return;
    };
    let active_override = non_blank(value("ACTIVE_KEY_ID")).map(str::trim);
    if let Some(json) = non_blank(value("KEYS_JSON")) {
        let doc = RegistryDocument::parse(SCOPE, json).expect("a registry's JSON parses");
        let active = active_override.or(doc.active_key_id.as_deref());
        check_registry(&registry, &doc, active);
    } else {
        assert!(non_blank(value("PRIVATE_KEY")).is_some());
        let id = non_blank(value("KEY_ID"))
            .expect("legacy mode needs a key id")
            .trim();
        assert!(registry.key_ids().eq([id]));
        assert_eq!(
            registry.active_key_id(),
            Some(active_override.unwrap_or(id))
        );
    }
    if let Some(pem) = non_blank(value("PUBLIC_KEY")) {
        let id = non_blank(value("KEY_ID"))
            .expect("the write side needs a key id")
            .trim();
        let registered = registry.public_key(id).expect("write key id is registered");
        let configured = parse_public_key_pem(pem).expect("the write key parsed");
        assert_eq!(
            spki_sha256(&registered).unwrap(),
            spki_sha256(&configured).unwrap(),
            "a write key that is not the registered key was accepted"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if !text.contains('\0') {
        check_pems(text);
        check_json(text);
    }
    check_env(text);
});
