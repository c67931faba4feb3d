//! End-to-end tests of `sealkit token issue|verify|authorize` (SPEC.md section 5).

mod harness;

use std::process::Output;

const KEY: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="; // bytes 1..=32
const OTHER_KEY: &str = "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICA=";

const ADMIN: &str = r#"{"id": "admin", "scope": {"basins": {"prefix": ""}, "streams": {"prefix": ""},
    "access_tokens": {"prefix": "agent/"}, "ops": ["issue-access-token", "list-streams", "append"]}}"#;
const AGENT: &str = r#"{
"id": "agent/g7wrzr9t",
"scope": {
"basins": { "exact": "browser-instances-wtvr" },
"ops": ["list-streams", "append"],
"streams": { "prefix": "session/g7wrzr9t/" }
},
"auto_prefix_streams": true,
"expires_at": "2999-06-04T08:00:00Z"
}"#;

/// Runs `sealkit token <args>` with only `env` set.
fn sealkit(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    harness::sealkit(&[&["token"], args].concat(), env, stdin.as_bytes())
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The one stderr line of a failed command, which printed nothing on stdout.
fn stderr(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "unexpected success: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.stdout.is_empty(),
        "a failed command printed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

fn issue_root(json: &str) -> String {
    let out = sealkit(&["issue"], &[("SEALKIT_TOKEN_KEY", KEY)], json);
    let token = stdout(&out);
    assert!(token.ends_with('\n'));
    token.trim_end().to_owned()
}

fn issue_from(issuer: &str, json: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("issuer");
    std::fs::write(&file, format!("{issuer}\n")).unwrap();
    sealkit(
        &["issue", "--issuer-token-file", file.to_str().unwrap()],
        &[("SEALKIT_TOKEN_KEY", KEY)],
        json,
    )
}

fn authorize(token: &str, args: &[&str]) -> Output {
    let mut all = vec!["authorize"];
    all.extend_from_slice(args);
    sealkit(
        &all,
        &[("SEALKIT_TOKEN_KEY", KEY), ("S2_ACCESS_TOKEN", token)],
        "",
    )
}

#[test]
fn seed_example_end_to_end() {
    let admin = issue_root(ADMIN);
    assert!(admin.starts_with("sktok1_k1_"));
    let agent = stdout(&issue_from(&admin, AGENT)).trim_end().to_owned();

    let basin = ["--basin", "browser-instances-wtvr"];
    let out = authorize(
        &agent,
        &[&["--op", "append"], &basin[..], &["--stream", "console"]].concat(),
    );
    assert_eq!(stdout(&out), "session/g7wrzr9t/console\n");

    let out = authorize(
        &agent,
        &[
            &["--op", "delete-stream"],
            &basin[..],
            &["--stream", "console"],
        ]
        .concat(),
    );
    // The operator holds the server key, so the CLI shows the reason a server only logs.
    assert_eq!(
        stderr(&out).trim_end(),
        "sealkit: error[permission_denied]: Operation not permitted (reason: operation)"
    );

    let out = authorize(&agent, &[&["--op", "list-streams"], &basin[..]].concat());
    assert_eq!(stdout(&out), "\n");

    let out = authorize(
        &agent,
        &[
            &["--op", "append", "--also", "trim"],
            &basin[..],
            &["--stream", "console"],
        ]
        .concat(),
    );
    assert!(stderr(&out).contains("error[permission_denied]"));
}

#[test]
fn verify_prints_id_scope_and_expiry_but_never_the_token() {
    let admin = issue_root(ADMIN);
    let agent = stdout(&issue_from(&admin, AGENT)).trim_end().to_owned();
    let out = sealkit(
        &["verify"],
        &[("SEALKIT_TOKEN_KEY", KEY), ("S2_ACCESS_TOKEN", &agent)],
        "",
    );
    let text = stdout(&out);
    assert!(!text.contains(&agent) && !text.contains("sktok1_"));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["id"], "agent/g7wrzr9t");
    assert_eq!(json["expires_at"], "2999-06-04T08:00:00Z");
    assert_eq!(json["valid_until"], "2999-06-04T08:00:00Z");
    assert_eq!(json["auto_prefix_streams"], true);
    assert_eq!(
        json["scope"]["streams"],
        serde_json::json!({"prefix": "session/g7wrzr9t/"})
    );
    assert_eq!(
        json["scope"]["ops"],
        serde_json::json!(["list-streams", "append"])
    );
    assert_eq!(json["issuing_chain"], serde_json::json!(["admin"]));
}

#[test]
fn escalation_and_bad_requests_fail_with_codes() {
    let admin = issue_root(ADMIN);
    let broader =
        r#"{"id": "agent/x", "scope": {"streams": {"prefix": ""}, "ops": ["delete-stream"]}}"#;
    assert!(stderr(&issue_from(&admin, broader)).contains("error[permission_denied]"));
    let empty = r#"{"id": "x", "scope": {"ops": []}}"#;
    let err = stderr(&sealkit(&["issue"], &[("SEALKIT_TOKEN_KEY", KEY)], empty));
    assert!(
        err.contains("error[invalid]: Access token permissions cannot be empty"),
        "{err}"
    );
    let auto_exact = r#"{"id": "x", "auto_prefix_streams": true, "scope": {"streams": {"exact": "s"}, "ops": ["read"]}}"#;
    let err = stderr(&sealkit(
        &["issue"],
        &[("SEALKIT_TOKEN_KEY", KEY)],
        auto_exact,
    ));
    assert!(
        err.contains("Auto prefixing is only allowed for streams with prefix matching"),
        "{err}"
    );
    assert!(
        stderr(&sealkit(&["issue"], &[("SEALKIT_TOKEN_KEY", KEY)], "{")).contains("error[invalid]")
    );
    // Who is asking comes first: a bad issuer token with a bad request is 401, not 422; a good
    // issuer token with the same request is 422.
    assert!(stderr(&issue_from("sktok1_k1_AAAA", "{")).contains("error[authn]"));
    assert!(stderr(&issue_from(&admin, "{")).contains("error[invalid]"));
}

#[test]
fn bad_tokens_and_keys_are_authn_or_key_errors() {
    let admin = issue_root(ADMIN);
    let args = ["--op", "list-streams", "--basin", "b"];
    // Wrong server key, tampered token, missing token.
    let out = sealkit(
        &[&["authorize"], &args[..]].concat(),
        &[
            ("SEALKIT_TOKEN_KEY", OTHER_KEY),
            ("S2_ACCESS_TOKEN", &admin),
        ],
        "",
    );
    assert!(stderr(&out).contains("error[authn]"));
    let mut tampered = admin.clone().into_bytes();
    let i = tampered.len() - 3;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let err = stderr(&authorize(&tampered, &args));
    assert!(err.contains("error[authn]") && !err.contains(&tampered));
    let out = sealkit(
        &[&["authorize"], &args[..]].concat(),
        &[("SEALKIT_TOKEN_KEY", KEY)],
        "",
    );
    assert!(stderr(&out).contains("error[authn]"));
    // Missing or malformed server key, never echoed.
    let err = stderr(&sealkit(&["issue"], &[], ADMIN));
    assert!(err.contains("error[invalid_key]"), "{err}");
    let err = stderr(&sealkit(
        &["issue"],
        &[("SEALKIT_TOKEN_KEY", "c2hvcnQ=")],
        ADMIN,
    ));
    assert!(
        err.contains("error[invalid_key]") && !err.contains("c2hvcnQ="),
        "{err}"
    );
    // An unknown operation is a usage error, reported on one line like every other failure.
    let err = stderr(&authorize(&admin, &["--op", "write"]));
    assert!(err.starts_with("sealkit: error[usage]: "), "{err}");
    assert_eq!(authorize(&admin, &["--op", "write"]).status.code(), Some(2));
}

#[test]
fn previous_key_errors_name_the_entry_never_its_text() {
    let admin = issue_root(ADMIN);
    let key_text = KEY.trim_end_matches('=');
    // An entry without its id splits at the key's own padding; other separators, a short key, a
    // bad id: none may put the key into the message.
    for entry in [
        KEY.to_owned(),
        format!("k0:{KEY}"),
        format!("k2={}", &KEY[..40]),
        format!("bad-id={KEY}"),
        format!("k2={OTHER_KEY},{KEY}"),
        format!("k2={KEY}@tomorrow"),
        format!("k2={}@2030-01-01T00:00:00Z", &KEY[..40]),
    ] {
        let out = sealkit(
            &["verify"],
            &[
                ("SEALKIT_TOKEN_KEY", OTHER_KEY),
                ("SEALKIT_TOKEN_PREVIOUS_KEYS", &entry),
                ("S2_ACCESS_TOKEN", &admin),
            ],
            "",
        );
        let err = stderr(&out);
        assert!(
            err.starts_with("sealkit: error[invalid_key]: SEALKIT_TOKEN_PREVIOUS_KEYS entry "),
            "{err}"
        );
        for window in key_text.as_bytes().windows(12) {
            let window = std::str::from_utf8(window).unwrap();
            assert!(!err.contains(window), "{entry:?} leaked into {err}");
        }
    }
}

#[test]
fn revoked_file_cuts_off_the_token_and_its_descendants() {
    let admin = issue_root(ADMIN);
    let agent = stdout(&issue_from(&admin, AGENT)).trim_end().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let revoked = dir.path().join("revoked");
    std::fs::write(&revoked, "# revoked ids\nadmin\n").unwrap();
    let out = sealkit(
        &["verify", "--revoked-file", revoked.to_str().unwrap()],
        &[("SEALKIT_TOKEN_KEY", KEY), ("S2_ACCESS_TOKEN", &agent)],
        "",
    );
    assert!(stderr(&out).contains("error[authn]: S2_ACCESS_TOKEN: access token has been revoked"));
}

/// An `authn` failure names where the token came from and what usually causes it.
#[test]
fn a_refused_token_names_its_source_and_likely_cause() {
    let cases = [
        ("s2_live_token_from_the_s2_cli", "not a sealkit token"),
        (
            "sktok1_k9_AAAA",
            "neither --key-id nor one of SEALKIT_TOKEN_PREVIOUS_KEYS",
        ),
    ];
    for (token, hint) in cases {
        let out = sealkit(
            &["verify"],
            &[("SEALKIT_TOKEN_KEY", KEY), ("S2_ACCESS_TOKEN", token)],
            "",
        );
        let err = stderr(&out);
        assert!(
            err.starts_with("sealkit: error[authn]: S2_ACCESS_TOKEN: "),
            "{err}"
        );
        assert!(err.contains(hint), "{err}");
        assert!(out.stdout.is_empty());
    }
    // Sealed under another server key with the same key id.
    let token = issue_root(ADMIN);
    let out = sealkit(
        &["verify"],
        &[
            (
                "SEALKIT_TOKEN_KEY",
                "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
            ),
            ("S2_ACCESS_TOKEN", &token),
        ],
        "",
    );
    assert!(
        stderr(&out)
            .contains("failed verification: altered, or sealed under another SEALKIT_TOKEN_KEY"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn revoked_file_counts_every_line_as_written_and_trimmed() {
    let admin = issue_root(ADMIN);
    let dir = tempfile::tempdir().unwrap();
    let revoked = dir.path().join("revoked");
    // Ids may begin with `#` or carry spaces: each line revokes the id exactly as written.
    for (id, line) in [
        ("agent/#ops", "agent/#ops"),
        ("#ops", "#ops"),
        ("ops ", "ops "),
        (" ops", " ops"),
        ("ops", "  ops\t"),
    ] {
        let request = format!(r#"{{"id": {id:?}, "scope": {{"ops": ["append"]}}}}"#);
        let token = issue_root(&request);
        std::fs::write(&revoked, format!("# revoked by the on-call\n{line}\r\n")).unwrap();
        let out = sealkit(
            &["verify", "--revoked-file", revoked.to_str().unwrap()],
            &[("SEALKIT_TOKEN_KEY", KEY), ("S2_ACCESS_TOKEN", &token)],
            "",
        );
        assert!(
            stderr(&out).contains("error[authn]: S2_ACCESS_TOKEN: access token has been revoked"),
            "{id:?} not revoked by {line:?}"
        );
    }
    // A token the file does not name still verifies.
    std::fs::write(&revoked, "#ops\nops \n").unwrap();
    let out = sealkit(
        &["verify", "--revoked-file", revoked.to_str().unwrap()],
        &[("SEALKIT_TOKEN_KEY", KEY), ("S2_ACCESS_TOKEN", &admin)],
        "",
    );
    assert!(stdout(&out).contains("\"id\":\"admin\""));
}

#[test]
fn previous_keys_still_verify_after_rotation() {
    let old = issue_root(ADMIN);
    let out = sealkit(
        &["verify", "--key-id", "k2"],
        &[
            ("SEALKIT_TOKEN_KEY", OTHER_KEY),
            ("SEALKIT_TOKEN_PREVIOUS_KEYS", &format!("k1={KEY}")),
            ("S2_ACCESS_TOKEN", &old),
        ],
        "",
    );
    assert!(stdout(&out).contains("\"id\":\"admin\""));
}

/// `id=base64@time` retires a previous key at that time: its tokens, even those without an expiry,
/// are refused from then on (by the system clock), and verify until then.
#[test]
fn a_previous_key_with_a_retirement_time_stops_at_that_time() {
    let old = issue_root(ADMIN);
    let verify = |retires: &str| {
        sealkit(
            &["verify", "--key-id", "k2"],
            &[
                ("SEALKIT_TOKEN_KEY", OTHER_KEY),
                (
                    "SEALKIT_TOKEN_PREVIOUS_KEYS",
                    &format!("k1={KEY}@{retires}"),
                ),
                ("S2_ACCESS_TOKEN", &old),
            ],
            "",
        )
    };
    let out = verify("2001-01-01T00:00:00Z");
    assert_eq!(
        stderr(&out).trim_end(),
        "sealkit: error[authn]: S2_ACCESS_TOKEN: access token, or a token that issued it, was sealed under a retired key"
    );
    assert!(!out.status.success());
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&verify("2999-01-01T00:00:00+01:00"))).unwrap();
    assert_eq!(json["id"], "admin");
    // The token has no expiry of its own; it stops when its key retires.
    assert_eq!(json["expires_at"], serde_json::Value::Null);
    assert_eq!(json["valid_until"], "2998-12-31T23:00:00Z");
}

/// Every token subcommand's help names the environment it reads, the retirement syntax included.
#[test]
fn help_names_the_environment_variables() {
    harness::assert_help_names(
        &[
            &["token"][..],
            &["token", "issue"],
            &["token", "verify"],
            &["token", "authorize"],
        ],
        &[
            "SEALKIT_TOKEN_KEY",
            "SEALKIT_TOKEN_PREVIOUS_KEYS",
            "S2_ACCESS_TOKEN",
            "id=base64@",
        ],
    );
}

/// The CLI decides expiry by the system clock: a token sealed under its key that expired in 2001
/// is `authn`, for `verify` and `authorize` alike.
#[test]
fn an_expired_token_is_refused_by_the_system_clock() {
    use sealkit::token::{
        FixedClock, IssueRequest, Issuer, ServerKey, TokenAuthority, TokenKeyring,
    };
    let keyring = TokenKeyring::new("k1", &ServerKey::from_base64(KEY).unwrap()).unwrap();
    let in_2001 = TokenAuthority::new(keyring)
        .with_clock(std::sync::Arc::new(FixedClock::new(1_000_000_000)));
    let request = IssueRequest::from_json(
        br#"{"id": "old", "expires_at": "2001-09-09T03:46:40Z",
             "scope": {"basins": {"prefix": ""}, "streams": {"prefix": ""}, "ops": ["read"]}}"#,
    )
    .unwrap();
    let issued = in_2001.issue(Issuer::Root, &request).unwrap();
    let token = issued.token.expose_secret();
    let env = [("SEALKIT_TOKEN_KEY", KEY), ("S2_ACCESS_TOKEN", token)];
    assert!(stderr(&sealkit(&["verify"], &env, "")).contains("error[authn]"));
    let out = authorize(token, &["--op", "read", "--basin", "b", "--stream", "s"]);
    assert!(stderr(&out).contains("error[authn]"));
}
