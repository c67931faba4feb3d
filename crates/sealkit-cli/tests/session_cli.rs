//! End-to-end tests of `sealkit session sign|verify`, driving the built binary.

mod harness;

use harness::{assert_fails_silently_with, assert_fails_with, sealkit};

const SIGNING_KEY: &str = "3q2+7/7K0x1N8m4Pq9rS5tUvWxYz0A1B2C3D4E5F6G8=";
const ENCRYPTION_KEY: &str = "q4A8pB0hYxV3n1Jd6mZ0cWl2tR9sE5uK7oG+fH/iLwM=";

fn keys() -> [(&'static str, &'static str); 2] {
    [
        ("SESSION_SIGNING_KEY", SIGNING_KEY),
        ("ENCRYPTION_KEY", ENCRYPTION_KEY),
    ]
}

#[test]
fn vector_cookies_sign_byte_identically_and_verify() {
    let Some(v) = sealkit_vectors::json("session_cli_vectors", "olympus-settings.json") else {
        return;
    };
    let mut checked = 0;
    for case in v["session_cookies"].as_array().unwrap() {
        let key = case["session_signing_key"].as_str().unwrap();
        let json = case["json"].as_str().unwrap();
        let cookie = case["cookie"].as_str().unwrap();
        let env = [
            ("SESSION_SIGNING_KEY", key),
            ("ENCRYPTION_KEY", ENCRYPTION_KEY),
        ];
        let signed = sealkit(&["session", "sign"], &env, format!("{json}\n").as_bytes());
        assert!(signed.status.success());
        assert_eq!(
            String::from_utf8(signed.stdout)
                .unwrap()
                .trim_end_matches('\n'),
            cookie
        );
        let verified = sealkit(&["session", "verify"], &env, cookie.as_bytes());
        assert!(verified.status.success());
        assert_eq!(verified.stdout, json.as_bytes());
        checked += 1;
    }
    assert_eq!(checked, 2, "session cookie vectors run");
}

#[test]
fn tampered_cookie_and_bad_payload_fail() {
    let out = sealkit(&["session", "sign"], &keys(), br#"{"user":"ada"}"#);
    let cookie = String::from_utf8(out.stdout).unwrap();
    let forged = cookie.trim_end().replacen("eyJ1c2Vy", "eyJVc2Vy", 1);
    // Silently: stdout carries only a verified payload, so a refused cookie must put nothing there
    // (a caller piping it on must not get the forged payload).
    assert_fails_silently_with(
        &sealkit(&["session", "verify"], &keys(), forged.as_bytes()),
        "cookie_signature",
    );
    assert_fails_silently_with(
        &sealkit(&["session", "verify"], &keys(), b"garbage"),
        "cookie_malformed",
    );
    assert_fails_silently_with(
        &sealkit(&["session", "sign"], &keys(), b"not json"),
        "payload_not_json",
    );
}

#[test]
fn expiry_is_enforced_on_request() {
    let live = sealkit(&["session", "sign"], &keys(), br#"{"exp":99999999999}"#);
    let dead = sealkit(&["session", "sign"], &keys(), br#"{"exp":1000}"#);
    let ok = sealkit(
        &["session", "verify", "--enforce-expiry"],
        &keys(),
        &live.stdout,
    );
    assert!(ok.status.success());
    assert_eq!(ok.stdout, br#"{"exp":99999999999}"#);
    // An expired cookie is correctly signed: its payload must still not reach stdout.
    assert_fails_silently_with(
        &sealkit(
            &["session", "verify", "--enforce-expiry"],
            &keys(),
            &dead.stdout,
        ),
        "cookie_expired",
    );
    assert!(
        sealkit(&["session", "verify"], &keys(), &dead.stdout)
            .status
            .success()
    );
}

#[test]
fn key_separation_and_length_are_startup_errors() {
    let same = [
        ("SESSION_SIGNING_KEY", ENCRYPTION_KEY),
        ("ENCRYPTION_KEY", ENCRYPTION_KEY),
    ];
    let out = sealkit(&["session", "sign"], &same, b"{}");
    assert_fails_with(&out, "session_key_reused");
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&ENCRYPTION_KEY[..8]));
    let short = [
        ("SESSION_SIGNING_KEY", "AAEC"),
        ("ENCRYPTION_KEY", ENCRYPTION_KEY),
    ];
    assert_fails_with(
        &sealkit(&["session", "sign"], &short, b"{}"),
        "session_key_too_short",
    );
    assert_fails_with(
        &sealkit(&["session", "sign"], &[], b"{}"),
        "session_key_absent",
    );
    // Empty is absent, not "the same as the (unset) ENCRYPTION_KEY".
    for empty in ["", "  "] {
        assert_fails_with(
            &sealkit(
                &["session", "sign"],
                &[("SESSION_SIGNING_KEY", empty)],
                b"{}",
            ),
            "session_key_absent",
        );
    }
}

/// Both session subcommands' help names the keys they read.
#[test]
fn help_names_the_environment_variables() {
    harness::assert_help_names(
        &[
            &["session"][..],
            &["session", "sign"],
            &["session", "verify"],
        ],
        &["SESSION_SIGNING_KEY", "ENCRYPTION_KEY"],
    );
}
