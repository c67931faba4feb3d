//! The token string: prefix, key ids and rotation, tampering, what a holder can learn, secrets.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{NOW, fixture, fixture_with_key};
use sealkit_token::{
    DenialReason, FixedClock, Issuer, MAX_TOKEN_LEN, ServerKey, TOKEN_PREFIX, TokenAuthority,
    TokenError, TokenKeyring,
};
use std::sync::Arc;

const SCOPE: &str = r#"{"id": "agent/g7wrzr9t", "scope": {"basins": {"exact": "browser-instances-wtvr"},
    "streams": {"prefix": "session/g7wrzr9t/"}, "ops": ["list-streams", "append"]}}"#;

#[test]
fn token_has_the_versioned_prefix_and_key_id() {
    let f = fixture();
    let t = f.root(SCOPE);
    assert!(t.starts_with("sktok1_k1_"), "{t}");
    assert_eq!(TOKEN_PREFIX, "sktok1_");
    assert!(t.len() <= MAX_TOKEN_LEN);
    // docs/formats.md gives both.
    assert_eq!(MAX_TOKEN_LEN, 3_066);
    assert_eq!(sealkit_token::claims::MAX_CLAIMS_LEN, 2_233);
    let payload = &t["sktok1_k1_".len()..];
    assert!(
        payload
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
}

#[test]
fn holder_learns_nothing_from_the_string() {
    let f = fixture();
    let a = f.root(SCOPE);
    let sealed = URL_SAFE_NO_PAD.decode(&a["sktok1_k1_".len()..]).unwrap();
    for secret in ["agent", "g7wrzr9t", "browser", "session"] {
        assert!(!a.contains(secret));
        assert!(
            !sealed.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret}"
        );
    }
    // Same claims issued twice give unrelated strings (random nonce).
    let f2 = fixture();
    let b = f2.root(SCOPE);
    assert_ne!(a, b);
}

#[test]
fn key_rotation_keeps_old_tokens_valid() {
    let old_key = ServerKey::from_bytes([1; 32]);
    let new_key = ServerKey::from_bytes([2; 32]);
    let old = fixture_with_key(&old_key);
    let old_token = old.root(SCOPE);

    let mut keyring = TokenKeyring::new("k2", &new_key).unwrap();
    keyring.add_verification_key("k1", &old_key).unwrap();
    let rotated = TokenAuthority::new(keyring).with_clock(Arc::new(FixedClock::new(NOW)));
    rotated.verify(&old_token).unwrap();
    let new_token = rotated
        .issue(Issuer::Root, &common::request(SCOPE))
        .unwrap()
        .token
        .expose_secret()
        .to_owned();
    assert!(new_token.starts_with("sktok1_k2_"));
    // The old server does not know k2.
    assert_eq!(
        old.authority.verify(&new_token).unwrap_err(),
        TokenError::UnknownKey
    );
}

/// A rotation with a deadline: from the old key's retirement time (plus the skew allowance, as
/// for an expiry) its tokens are refused, even those with no expiry of their own; tokens under
/// the new key are untouched.
#[test]
fn retired_key_refuses_its_tokens_from_its_retirement_time() {
    let old_key = ServerKey::from_bytes([1; 32]);
    let new_key = ServerKey::from_bytes([2; 32]);
    let old_token = fixture_with_key(&old_key).root(SCOPE); // no expiry
    let retire_at = NOW + 3_600;

    let clock = Arc::new(FixedClock::new(NOW));
    let mut keyring = TokenKeyring::new("k2", &new_key).unwrap();
    keyring
        .add_verification_key_until("k1", &old_key, at(retire_at))
        .unwrap();
    let rotated = TokenAuthority::new(keyring)
        .with_clock(clock.clone())
        .with_clock_skew(30);
    let new_token = rotated
        .issue(Issuer::Root, &common::request(SCOPE))
        .unwrap()
        .token;

    let verified = rotated.verify(&old_token).unwrap();
    assert_eq!(verified.claims().expires_at, None);
    assert_eq!(verified.valid_until(), Some(at(retire_at)));
    clock.set(retire_at + 29);
    rotated.verify(&old_token).unwrap();
    clock.set(retire_at + 30);
    let err = rotated.verify(&old_token).unwrap_err();
    assert_eq!(
        (err.clone(), err.code(), err.http_status()),
        (TokenError::KeyRetired, "authn", 401)
    );
    let verified = rotated.verify(new_token.expose_secret()).unwrap();
    assert_eq!(verified.valid_until(), None);
}

/// A token under a retiring key cannot hand on more than it has left: a child asking for no
/// expiry gets the key's not-after time, one asking for a later expiry is refused, an earlier
/// one is kept. And an expiry before the key's retirement stays the limit.
#[test]
fn children_of_a_token_under_a_retiring_key_expire_with_the_key() {
    const ISSUER: &str = r#"{"id": "issuer", "scope": {"basins": {"prefix": ""}, "streams": {"prefix": ""},
        "access_tokens": {"prefix": ""}, "ops": ["issue-access-token", "append"]}}"#;
    const CHILD: &str = r#"{"id": "child", "scope": {"basins": {"prefix": ""}, "streams": {"prefix": ""},
        "ops": ["append"]}}"#;
    let old_key = ServerKey::from_bytes([1; 32]);
    let issuer = fixture_with_key(&old_key).root(ISSUER); // no expiry
    let retire_at = NOW + 3_600;
    let mut keyring = TokenKeyring::new("k2", &ServerKey::from_bytes([2; 32])).unwrap();
    keyring
        .add_verification_key_until("k1", &old_key, at(retire_at))
        .unwrap();
    let clock = Arc::new(FixedClock::new(NOW));
    let rotated = TokenAuthority::new(keyring).with_clock(clock.clone());
    let issue = |json: &str| {
        rotated
            .issue(Issuer::Token(&issuer), &common::request(json))
            .map(|t| t.info)
    };

    let child = issue(CHILD).unwrap();
    assert_eq!(
        child.expires_at,
        Some(at(retire_at)),
        "a missing expiry inherits the key's retirement"
    );
    let with_expiry = |json: &str, t: i64| {
        let rfc3339 = at(t)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        json.replacen('{', &format!(r#"{{"expires_at": "{rfc3339}", "#), 1)
    };
    assert_eq!(
        issue(&with_expiry(CHILD, retire_at + 1)).unwrap_err(),
        TokenError::PermissionDenied {
            reason: DenialReason::LaterExpiry
        }
    );
    let earlier = issue(&with_expiry(CHILD, retire_at - 60)).unwrap();
    assert_eq!(earlier.expires_at, Some(at(retire_at - 60)));

    // An issuer that expires before its key retires: its own expiry is the limit.
    let short = fixture_with_key(&old_key).root(&with_expiry(ISSUER, NOW + 60));
    assert_eq!(
        rotated.verify(&short).unwrap().valid_until(),
        Some(at(NOW + 60))
    );

    // Past the retirement but within the skew allowance, the issuer still verifies and has
    // nothing left to hand on.
    clock.set(retire_at);
    rotated.verify(&issuer).unwrap();
    assert_eq!(issue(CHILD).unwrap_err(), TokenError::KeyRetired);
}

/// A token under a key being rotated out, kept with no deadline, issues a child (sealed under the
/// new key) and a grandchild. Removing the old key ends all three, not only the token it sealed;
/// moving its retirement earlier ends them at that time; a chain issued entirely under the new key
/// is untouched, and carries no issuer keys.
#[test]
fn removing_a_key_ends_the_tokens_issued_from_its_tokens() {
    const ISSUER: &str = r#"{"id": "issuer", "scope": {"basins": {"prefix": ""}, "streams": {"prefix": ""},
        "access_tokens": {"prefix": ""}, "ops": ["issue-access-token", "append"]}}"#;
    let request = |id: &str| common::request(&ISSUER.replacen("issuer", id, 1));
    let (old_key, new_key) = (
        ServerKey::from_bytes([1; 32]),
        ServerKey::from_bytes([2; 32]),
    );
    let old_issuer = fixture_with_key(&old_key).root(ISSUER); // sealed under k1, no expiry
    let clock = Arc::new(FixedClock::new(NOW));
    let authority = |old: Option<Option<i64>>| {
        let mut keyring = TokenKeyring::new("k2", &new_key).unwrap();
        match old {
            Some(None) => keyring.add_verification_key("k1", &old_key).unwrap(),
            Some(Some(t)) => keyring
                .add_verification_key_until("k1", &old_key, at(t))
                .unwrap(),
            None => {}
        }
        TokenAuthority::new(keyring)
            .with_clock(clock.clone())
            .with_clock_skew(30)
    };
    let rotating = authority(Some(None));
    let issue = |issuer: &str, id: &str| {
        let issued = rotating.issue(Issuer::Token(issuer), &request(id)).unwrap();
        issued.token.expose_secret().to_owned()
    };
    let child = issue(&old_issuer, "child");
    let grandchild = issue(&child, "grandchild");
    assert!(child.starts_with("sktok1_k2_") && grandchild.starts_with("sktok1_k2_"));
    for token in [&child, &grandchild] {
        let verified = rotating.verify(token).unwrap();
        assert_eq!(verified.key_id(), "k2");
        let ids: Vec<_> = verified
            .claims()
            .issuer_keys
            .iter()
            .map(|k| &k.id)
            .collect();
        assert_eq!(ids, ["k1"]);
        assert_eq!(verified.valid_until(), None);
    }
    // Under the new key alone from the root: no issuer keys.
    let new_root = rotating
        .issue(Issuer::Root, &request("new-root"))
        .unwrap()
        .token;
    let new_child = issue(new_root.expose_secret(), "new-child");
    assert!(
        rotating
            .verify(&new_child)
            .unwrap()
            .claims()
            .issuer_keys
            .is_empty()
    );

    // k1 removed: its own token is unknown, and what it issued is refused as well.
    let removed = authority(None);
    assert_eq!(
        removed.verify(&old_issuer).unwrap_err(),
        TokenError::UnknownKey
    );
    for token in [&child, &grandchild] {
        let err = removed.verify(token).unwrap_err();
        assert_eq!((err.clone(), err.code()), (TokenError::KeyRetired, "authn"));
    }
    removed.verify(&new_child).unwrap();

    // Another key given the id k1 later is not the key the chain was issued under: still refused.
    // The same key added back is.
    let mut reused = TokenKeyring::new("k2", &new_key).unwrap();
    reused
        .add_verification_key("k1", &ServerKey::from_bytes([3; 32]))
        .unwrap();
    let reused = TokenAuthority::new(reused).with_clock(clock.clone());
    assert_eq!(
        reused.verify(&old_issuer).unwrap_err(),
        TokenError::Unauthentic
    );
    for token in [&child, &grandchild] {
        assert_eq!(reused.verify(token).unwrap_err(), TokenError::KeyRetired);
    }
    authority(Some(None)).verify(&grandchild).unwrap();

    // k1 given a retirement an hour from now: the descendants end with it, skew included.
    let retiring = authority(Some(Some(NOW + 3_600)));
    assert_eq!(
        retiring.verify(&grandchild).unwrap().valid_until(),
        Some(at(NOW + 3_600))
    );
    clock.set(NOW + 3_600 + 29);
    retiring.verify(&grandchild).unwrap();
    clock.set(NOW + 3_600 + 30);
    assert_eq!(
        retiring.verify(&grandchild).unwrap_err(),
        TokenError::KeyRetired
    );
    retiring.verify(&new_child).unwrap();
}

fn at(unix: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

#[test]
fn token_under_another_server_key_fails() {
    let a = fixture_with_key(&ServerKey::from_bytes([1; 32]));
    let b = fixture_with_key(&ServerKey::from_bytes([2; 32]));
    let t = a.root(SCOPE);
    let err = b.authority.verify(&t).unwrap_err();
    assert_eq!(
        (err.clone(), err.code(), err.http_status()),
        (TokenError::Unauthentic, "authn", 401)
    );
}

#[test]
fn relabelled_key_id_fails() {
    // The key id is associated data: a token cannot be moved under another id even when both
    // ids map to the same server key.
    let key = ServerKey::from_bytes([3; 32]);
    let mut keyring = TokenKeyring::new("k1", &key).unwrap();
    keyring.add_verification_key("k2", &key).unwrap();
    let authority = TokenAuthority::new(keyring).with_clock(Arc::new(FixedClock::new(NOW)));
    let t = authority
        .issue(Issuer::Root, &common::request(SCOPE))
        .unwrap();
    let t = t.token.expose_secret();
    authority.verify(t).unwrap();
    let moved = t.replacen("_k1_", "_k2_", 1);
    assert_eq!(
        authority.verify(&moved).unwrap_err(),
        TokenError::Unauthentic
    );
}

#[test]
fn malformed_strings_are_authn_errors() {
    let f = fixture();
    let t = f.root(SCOPE);
    let long = "A".repeat(MAX_TOKEN_LEN + 1);
    let cases = [
        String::new(),
        "sktok1_".into(),
        "sktok1_k1".into(),
        "sktok1_k1_".into(),
        "sktok2_k1_AAAA".into(),
        "YAAAAAAAAABoPzx+yjvI25QSuwCzq9nnFna3rZF2tSkqRnma".into(),
        t.replace("sktok1_", "SKTOK1_"),
        format!("{t}="),
        format!("{t}A"),
        format!(" {t}"),
        t[..t.len() - 1].to_string(),
        t[..60].to_string(),
        format!("sktok1_k1_{long}"),
        t.replacen("_k1_", "_k9_", 1),
    ];
    for case in &cases {
        let err = f.authority.verify(case).unwrap_err();
        assert!(err.is_authn(), "{case:?}: {err:?}");
        assert_eq!(err.http_status(), 401);
    }
}

#[test]
fn every_single_bit_flip_is_rejected() {
    // Exhaustive over one token (the property test samples many tokens).
    let f = fixture();
    let t = f.root(SCOPE);
    let bytes = t.as_bytes();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut flipped = bytes.to_vec();
            flipped[i] ^= 1 << bit;
            if let Ok(s) = String::from_utf8(flipped) {
                let err = f.authority.verify(&s).unwrap_err();
                assert!(err.is_authn(), "byte {i} bit {bit}: {err:?}");
            }
        }
    }
}

#[test]
fn every_single_bit_flip_of_the_sealed_bytes_is_unauthentic() {
    // Most flips of the text above break the base64 and are refused before the cipher runs; these
    // reach it: every bit of nonce ‖ ciphertext ‖ tag, re-encoded canonically.
    let f = fixture();
    let t = f.root(SCOPE);
    let (head, payload) = t.split_at("sktok1_k1_".len());
    let sealed = URL_SAFE_NO_PAD.decode(payload).unwrap();
    let mut refused = 0;
    for i in 0..sealed.len() {
        for bit in 0..8 {
            let mut flipped = sealed.clone();
            flipped[i] ^= 1 << bit;
            let token = format!("{head}{}", URL_SAFE_NO_PAD.encode(&flipped));
            assert_eq!(
                f.authority.verify(&token).unwrap_err(),
                TokenError::Unauthentic,
                "byte {i} bit {bit}"
            );
            refused += 1;
        }
    }
    assert_eq!(refused, 8 * sealed.len());
}

#[test]
fn server_key_parsing() {
    let b64 = STANDARD.encode([9u8; 32]);
    ServerKey::from_base64(&b64).unwrap();
    ServerKey::from_base64(&format!("{b64}\n")).unwrap();
    for bad in [
        STANDARD.encode([9u8; 31]),
        STANDARD.encode([9u8; 33]),
        URL_SAFE_NO_PAD.encode([0xfbu8; 32]),
        "not base64!".into(),
        String::new(),
    ] {
        let err = ServerKey::from_base64(&bad).unwrap_err();
        assert_eq!(err.code(), "invalid_key");
        if !bad.is_empty() {
            assert!(!err.to_string().contains(&bad) && !format!("{err:?}").contains(&bad));
        }
    }
    for bad_id in ["", "k_1", "k-1", "seventeen-chars!!", "ключ"] {
        assert!(
            TokenKeyring::new(bad_id, &ServerKey::generate()).is_err(),
            "{bad_id}"
        );
    }
    let mut keyring = TokenKeyring::new("k1", &ServerKey::generate()).unwrap();
    assert!(
        keyring
            .add_verification_key("k1", &ServerKey::generate())
            .is_err()
    );
}

#[test]
fn secrets_never_print() {
    let raw = [0x5au8; 32];
    let b64 = STANDARD.encode(raw);
    let key = ServerKey::from_base64(&b64).unwrap();
    let f = fixture_with_key(&key);
    let issued = f
        .authority
        .issue(Issuer::Root, &common::request(SCOPE))
        .unwrap();
    let token = issued.token.expose_secret().to_owned();
    let texts = [
        format!("{key:?}"),
        format!("{:?}", issued.token),
        format!("{issued:?}"),
        format!("{:?}", f.authority),
        format!("{:?}", f.authority.keyring()),
        format!("{:?}", f.authority.verify(&token).unwrap()),
        format!("{:?}", Issuer::Token(&token)),
    ];
    for text in &texts {
        assert!(!text.contains(&b64), "{text}");
        assert!(!text.contains(&token), "{text}");
        assert!(
            !text.contains("5a5a5a5a") && !text.contains("90, 90, 90"),
            "{text}"
        );
    }
    // Where a type prints a stand-in for its secret, the stand-in is there. (`TokenAuthority` and
    // `TokenKeyring` print key ids only and no stand-in; the verified token prints its claims.)
    for i in [0, 1, 2, 6] {
        assert!(texts[i].contains("[REDACTED]"), "{}", texts[i]);
    }
    // `==` on tokens (constant time) still tells them apart.
    let other = fixture_with_key(&key)
        .authority
        .issue(Issuer::Root, &common::request(SCOPE))
        .unwrap()
        .token;
    assert_eq!(issued.token, issued.token.clone());
    assert!(
        issued.token != other,
        "the same claims issued twice differ by their nonce"
    );
    // Errors from a token never repeat it.
    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 5;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let err = f.authority.verify(&tampered).unwrap_err();
    assert!(!err.to_string().contains(&tampered) && !format!("{err:?}").contains(&tampered));
}

#[test]
fn aegis_256_known_answers() {
    // The sealing primitive is AEGIS-256 with 16-byte tags: check it against the CFRG vectors.
    let Some(vectors) = sealkit_vectors::json(
        "aegis_256_known_answers",
        "cfrg-aegis/aegis-256-test-vectors.json",
    ) else {
        return;
    };
    let (mut valid, mut invalid) = (0, 0);
    for v in vectors.as_array().unwrap() {
        let (Some(key), Some(tag)) = (v.get("key"), v.get("tag128")) else {
            continue;
        };
        let key: [u8; 32] = sealkit_vectors::unhex(key).try_into().unwrap();
        let nonce: [u8; 32] = sealkit_vectors::unhex(&v["nonce"]).try_into().unwrap();
        let ad = sealkit_vectors::unhex(&v["ad"]);
        let tag: [u8; 16] = sealkit_vectors::unhex(tag).try_into().unwrap();
        let cipher = aegis::aegis256::Aegis256::<16>::new(&key, &nonce);
        match v.get("msg") {
            Some(msg) => {
                let mut buf = sealkit_vectors::unhex(msg);
                let got = cipher.encrypt_in_place(&mut buf, &ad);
                assert_eq!(buf, sealkit_vectors::unhex(&v["ct"]), "{}", v["name"]);
                assert_eq!(got, tag, "{}", v["name"]);
                cipher.decrypt_in_place(&mut buf, &tag, &ad).unwrap();
                assert_eq!(buf, sealkit_vectors::unhex(msg));
                valid += 1;
            }
            // Vectors without a message are expected failures.
            None => {
                let mut ct = sealkit_vectors::unhex(&v["ct"]);
                let len = ct.len();
                assert!(
                    ct.iter().any(|&b| b != 0),
                    "{}: an all-zero ciphertext cannot show the wipe",
                    v["name"]
                );
                assert!(
                    cipher.decrypt_in_place(&mut ct, &tag, &ad).is_err(),
                    "{}",
                    v["name"]
                );
                // aegis (libaegis) decrypts while authenticating and zeroes the buffer when the tag
                // does not match, so no unauthenticated plaintext is left behind.
                assert_eq!(ct, vec![0; len], "{}: buffer not wiped", v["name"]);
                invalid += 1;
            }
        }
    }
    assert_eq!((valid, invalid), (5, 4), "CFRG AEGIS-256 vectors run");
}
