//! Startup validation tiers, analytics events, and session-signing key separation.

use proptest::prelude::*;
use sealkit_vault::{
    AnalyticsEvent, AnalyticsSink, BLOCKLIST, EncryptionKey, SessionSigner, SettingsVault,
    StartupCode, StartupValidator, VaultError, is_blocklisted,
};
use serde_json::Value;

const GOOD_KEY: &str = "37wovEeJPIMD9W+o6TVNPlxdNAsn82rGS/Lj3tr4fV8=";
const SIGNING_KEY: &str = "3q2+7/7K0x1N8m4Pq9rS5tUvWxYz0A1B2C3D4E5F6G8=";

fn run(
    key: Option<&str>,
    env: Option<&str>,
) -> (Result<usize, sealkit_vault::StartupError>, Vec<Value>) {
    let mut events: Vec<AnalyticsEvent> = Vec::new();
    let key = key.map(EncryptionKey::new);
    let result = StartupValidator::new()
        .validate_key(key.as_ref(), env, &mut events)
        .map(|s| s.key_length_bytes);
    let json = events
        .iter()
        .map(|e| serde_json::from_str(&e.to_json()).unwrap())
        .collect();
    (result, json)
}

fn assert_timestamp(event: &Value) {
    let ts = event["timestamp"].as_str().unwrap();
    time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{ts}: {e}"));
    assert!(ts.ends_with('Z') && ts.len() == 24, "{ts}");
}

#[test]
fn tier_1_absent_and_empty() {
    for key in [None, Some("")] {
        let (result, events) = run(key, Some("production"));
        let e = result.unwrap_err();
        assert_eq!(e.code, StartupCode::Absent);
        assert_eq!(e.code.as_str(), "ENCRYPTION_KEY_ABSENT");
        assert!(e.suggestion.contains("openssl rand -base64 32"));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["type"], "analytics");
        assert_eq!(events[0]["event"], "sdk.startup.failed");
        assert_eq!(events[0]["env"], "production");
        assert_eq!(events[0]["tier"], 1);
        assert_eq!(events[0]["reason"], "key_missing");
        assert_timestamp(&events[0]);
    }
}

#[test]
fn tier_2_too_short_counts_utf8_bytes() {
    let (result, events) = run(Some("short-key-16byte"), None);
    let e = result.unwrap_err();
    assert_eq!(e.code.as_str(), "ENCRYPTION_KEY_WEAK");
    assert_eq!(
        e.message,
        "ENCRYPTION_KEY failed byte-length check: expected >= 32 bytes, got 16"
    );
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["tier"], 2);
    assert_eq!(events[0]["reason"], "key_too_short");
    assert_eq!(events[0]["env"], "unknown");
    // 11 three-byte characters = 33 bytes: long enough, though only 11 characters.
    assert_eq!(
        run(Some("日本語日本語日本語日本"), Some("development"))
            .0
            .unwrap(),
        33
    );
}

#[test]
fn tier_3_blocklist_only_in_production_and_not_bypassable() {
    for placeholder in BLOCKLIST {
        // Development: passes.
        assert!(
            run(Some(placeholder), Some("development")).0.is_ok(),
            "{placeholder}"
        );
        for env in [
            "production",
            "Production",
            "PRODUCTION",
            " production\n",
            "prod",
        ] {
            for key in [
                placeholder.to_string(),
                format!("{placeholder} "),
                format!("{placeholder}\n"),
                placeholder.to_uppercase(),
            ] {
                if key.len() < 32 {
                    continue;
                }
                let (result, events) = run(Some(&key), Some(env));
                let e = result.unwrap_err();
                assert_eq!(e.code.as_str(), "ENCRYPTION_KEY_BLOCKLISTED", "{env:?}");
                assert_eq!(events.len(), 2);
                assert_eq!(events[0]["event"], "sdk.startup.failed");
                assert_eq!(events[0]["tier"], 3);
                assert_eq!(events[0]["reason"], "key_blocklisted");
                assert_eq!(events[1]["event"], "platform.key.weak");
                assert_eq!(events[1]["tier"], 3);
                assert_eq!(events[1]["env"], env);
                assert_timestamp(&events[1]);
            }
        }
    }
}

#[test]
fn degenerate_keys_rejected_in_production_only() {
    for key in [
        "a".repeat(32),
        "ab".repeat(20),
        "abcdefghijklmnopqrstuvwxyz0123456".to_owned(),
        "0123456789"
            .repeat(4)
            .chars()
            .take(9)
            .collect::<String>()
            .repeat(4),
        " ".repeat(40),
    ] {
        assert!(run(Some(&key), Some("development")).0.is_ok(), "{key}");
        let (result, events) = run(Some(&key), Some("production"));
        assert_eq!(result.unwrap_err().code, StartupCode::Blocklisted, "{key}");
        assert_eq!(events[1]["event"], "platform.key.weak");
    }
    // Real keys pass: base64 and hex forms of 32 random bytes.
    assert_eq!(run(Some(GOOD_KEY), Some("production")).0.unwrap(), 44);
    let hex_key = "9f2c4e71a0b3d58e6f1029c7b4a3e5d8c1f0a2b3c4d5e6f708192a3b4c5d6e7f";
    assert!(run(Some(hex_key), Some("production")).0.is_ok());
}

/// Random keys over a small alphabet are not degenerate: 32 random decimal digits carry about
/// 106 bits, and one in three of them lacks some digit.
#[test]
fn random_decimal_keys_pass_in_production() {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next_digit = || {
        // xorshift64*: deterministic, so a failure names its key.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let word = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
        char::from(b'0' + u8::try_from((word >> 32) % 10).unwrap())
    };
    let mut missing_a_digit = 0;
    for _ in 0..2_000 {
        let key: String = (0..32).map(|_| next_digit()).collect();
        if (b'0'..=b'9').any(|d| !key.as_bytes().contains(&d)) {
            missing_a_digit += 1;
        }
        assert!(
            !sealkit_vault::is_degenerate(&key),
            "{key} was called degenerate"
        );
    }
    // The case the old bound of ten distinct bytes got wrong was really exercised.
    assert!(missing_a_digit > 400, "{missing_a_digit}");
}

#[test]
fn success_event_has_byte_length_and_no_key() {
    let (result, events) = run(Some(GOOD_KEY), Some("staging"));
    assert_eq!(result.unwrap(), 44);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["type"], "analytics");
    assert_eq!(e["event"], "sdk.startup.succeeded");
    assert_eq!(e["env"], "staging");
    assert_eq!(e["key_length_bytes"], 44);
    assert_timestamp(e);
    let keys: Vec<&String> = e.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
}

#[test]
fn no_key_material_in_any_message_event_or_debug() {
    let keys = [
        "short-Secret-Kx".to_owned(),
        "dev-encryption-key-minimum-32-chars!!".to_owned(),
        "Q".repeat(40),
        GOOD_KEY.to_owned(),
    ];
    for key in &keys {
        let mut events: Vec<AnalyticsEvent> = Vec::new();
        let result = StartupValidator::new().validate(key, Some("production"), &mut events);
        let text = everything_reported(&result, &events);
        for window in key.as_bytes().windows(6) {
            let needle = std::str::from_utf8(window).unwrap();
            assert!(!text.contains(needle), "{needle:?} in {text}");
        }
    }
}

#[test]
fn environment_name_comes_from_the_configured_variable() {
    struct Count(usize);
    impl AnalyticsSink for Count {
        fn emit(&mut self, _: &AnalyticsEvent) {
            self.0 += 1;
        }
    }
    // The variable does not exist: env is "unknown", the blocklist is not applied.
    let mut sink = Count(0);
    let validator = StartupValidator::new().environment_variable("SEALKIT_TEST_UNSET_ENV_VAR_X");
    let ok = validator.validate(BLOCKLIST[0], None, &mut sink).unwrap();
    assert_eq!(ok.environment, "unknown");
    assert!(!ok.production);
    assert_eq!(sink.0, 1);
}

// ---- the environment name never carries a secret ----

/// Variables read through a lookup (tests cannot set process variables: that races every other
/// thread of the test binary), with every name asked for recorded.
fn validate_with(
    validator: &StartupValidator,
    vars: &[(&str, &str)],
) -> (
    Result<sealkit_vault::StartupSuccess, sealkit_vault::StartupError>,
    Vec<AnalyticsEvent>,
    Vec<String>,
) {
    let mut asked = Vec::new();
    let mut events: Vec<AnalyticsEvent> = Vec::new();
    let result = validator.validate_with_lookup(
        |name| {
            asked.push(name.to_owned());
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| std::ffi::OsString::from(v))
        },
        &mut events,
    );
    (result, events, asked)
}

/// Every event, as JSON and as `Debug`, and the outcome's `Debug`, message and suggestion: all
/// that a caller could log.
fn everything_reported(
    result: &Result<sealkit_vault::StartupSuccess, sealkit_vault::StartupError>,
    events: &[AnalyticsEvent],
) -> String {
    let mut all: Vec<String> = events
        .iter()
        .map(|e| format!("{} {e:?}", e.to_json()))
        .collect();
    match result {
        Ok(s) => all.push(format!("{s:?}")),
        Err(e) => all.push(format!("{e} {e:?} {}", e.suggestion)),
    }
    all.join("\n")
}

#[test]
fn names_a_secret_is_the_rule_for_the_environment_variable() {
    for var in [
        "ENCRYPTION_KEY",
        "SESSION_SIGNING_KEY",
        "DATABASE_URL",
        "db_password",
        "API_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "SENTRY_DSN",
        "GCP_CREDENTIALS",
        "ssh-keys",
        "Vault.Passphrase",
        "DB_PASS",
        "MYSQL_PWD",
        "STRIPE_APIKEY",
        "BASIC_AUTH",
        "PRIVATE_PEM",
        "MONGO_URI",
    ] {
        assert!(sealkit_vault::names_a_secret(var), "{var}");
    }
    // Words that merely contain a secret's word, and ordinary environment names, pass.
    for var in [
        "NODE_ENV",
        "APP_ENV",
        "KEYCLOAK_ENV",
        "TURNKEY_ENV",
        "URLSCAN_STAGE",
        "DEPLOYMENT",
    ] {
        assert!(!sealkit_vault::names_a_secret(var), "{var}");
    }
}

/// `environment_variable("ENCRYPTION_KEY")` once wrote `"env":"<the key>"` into the analytics
/// event; `DATABASE_URL` would have written the database password.
#[test]
fn a_variable_that_names_a_secret_is_never_read_nor_reported() {
    const DATABASE_URL: &str = "postgres://admin:S3cretPw@db.internal/settings";
    // Each variable, its value, and the part of the value that must not show.
    for (var, value, needle) in [
        ("ENCRYPTION_KEY", GOOD_KEY, &GOOD_KEY[..8]),
        ("DATABASE_URL", DATABASE_URL, "S3cretPw"),
        ("SESSION_SIGNING_KEY", SIGNING_KEY, &SIGNING_KEY[..8]),
        ("db_password", "Prod-Pw-1", "Prod-Pw"),
    ] {
        let validator = StartupValidator::new().environment_variable(var);
        let vars = [("ENCRYPTION_KEY", GOOD_KEY), (var, value)];
        let (result, events, asked) = validate_with(&validator, &vars);
        // Only the key was looked up: the secret's variable was not even read.
        assert_eq!(asked, ["ENCRYPTION_KEY"], "{var}");
        let ok = result.as_ref().unwrap();
        assert_eq!(ok.environment, "unknown", "{var}");
        // The real environment cannot be known, so the strictest tiers run: fail closed.
        assert!(ok.production, "{var}");
        assert_eq!(events.len(), 1);
        let json: Value = serde_json::from_str(&events[0].to_json()).unwrap();
        assert_eq!(json["env"], "unknown", "{var}");
        let all = everything_reported(&result, &events);
        assert!(!all.contains(needle), "{var}: {all}");
        assert!(!all.contains(&GOOD_KEY[..8]), "{var}: {all}");
    }
}

/// Whatever the variable is called, a value that is the key itself is not reported, on success
/// and failure alike (a tier-2 failure here), through the lookup and when given directly.
#[test]
fn an_environment_name_equal_to_the_key_is_withheld() {
    const SHORT_KEY: &str = "short-Secret-Kx";
    let validator = StartupValidator::new().environment_variable("APP_ENV");
    // The same secret through two loaders: quotes kept by one, a newline added by the other.
    let cases = [
        (GOOD_KEY.to_owned(), GOOD_KEY.to_owned()),
        (GOOD_KEY.to_owned(), format!("\"{GOOD_KEY}\"\n")),
        (format!(" {GOOD_KEY}\n"), GOOD_KEY.to_owned()),
        (SHORT_KEY.to_owned(), SHORT_KEY.to_owned()),
    ];
    for (key, env) in &cases {
        let key = key.as_str();
        let vars = [("ENCRYPTION_KEY", key), ("APP_ENV", env.as_str())];
        let (result, events, asked) = validate_with(&validator, &vars);
        assert_eq!(asked, ["ENCRYPTION_KEY", "APP_ENV"]);
        let mut direct: Vec<AnalyticsEvent> = Vec::new();
        let direct_result = validator.validate(key, Some(env), &mut direct);
        for (result, events) in [(&result, &events), (&direct_result, &direct)] {
            for event in events.iter() {
                let json: Value = serde_json::from_str(&event.to_json()).unwrap();
                assert_eq!(json["env"], "unknown", "{env:?}");
            }
            let all = everything_reported(result, events);
            assert!(!all.contains(&key.trim()[..8]), "{all}");
        }
        if key == SHORT_KEY {
            assert_eq!(result.unwrap_err().code, StartupCode::Weak);
        } else {
            let ok = result.unwrap();
            assert_eq!(ok.environment, "unknown");
            assert!(ok.production, "withheld, so validated as production");
        }
    }
    // A different value is reported as it is.
    let vars = [("ENCRYPTION_KEY", GOOD_KEY), ("APP_ENV", "staging")];
    let (result, events, _) = validate_with(&validator, &vars);
    assert_eq!(result.unwrap().environment, "staging");
    let json: Value = serde_json::from_str(&events[0].to_json()).unwrap();
    assert_eq!(json["env"], "staging");
}

/// Set by [`validate_env_reads_the_configured_variable_of_the_process`] in the copy of this test
/// binary it starts: the variable to read the environment name from.
const CHILD_ENV_VAR: &str = "SEALKIT_VAULT_TEST_CHILD_ENV_VAR";
/// Set beside it: `stdout` to validate with the default sink, anything else to use a `Vec`.
const CHILD_SINK: &str = "SEALKIT_VAULT_TEST_CHILD_SINK";

/// Runs the test below in a fresh copy of this test binary, with exactly `vars` as its process
/// environment: a process of its own is the one way to set variables without racing the other
/// tests' threads. Returns the analytics lines, the child's outcome line and all it wrote.
fn validate_env_in_child(
    configured: &str,
    sink: &str,
    vars: &[(&str, &str)],
) -> (Vec<Value>, String, String) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "validate_env_reads_the_configured_variable_of_the_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_clear()
        .env(CHILD_ENV_VAR, configured)
        .env(CHILD_SINK, sink)
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{all}");
    // libtest writes its own lines around ours (and may start one on the same line).
    let events = stdout
        .lines()
        .filter_map(|l| l.find(r#"{"type":"analytics""#).map(|i| &l[i..]))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let outcome = stdout
        .lines()
        .find_map(|l| l.split_once("OUTCOME ").map(|(_, o)| o.to_owned()))
        .unwrap_or_else(|| panic!("no outcome: {all}"));
    (events, outcome, all)
}

#[test]
fn validate_env_reads_the_configured_variable_of_the_process() {
    if let Some(configured) = std::env::var_os(CHILD_ENV_VAR) {
        // In the child: validate the real process environment and report on stdout.
        let validator = StartupValidator::new().environment_variable(configured.to_str().unwrap());
        let result = if std::env::var_os(CHILD_SINK).is_some_and(|s| s == "stdout") {
            validator.validate_env()
        } else {
            let mut events: Vec<AnalyticsEvent> = Vec::new();
            let result = validator.validate_env_with_sink(&mut events);
            for event in &events {
                println!("\n{}", event.to_json());
            }
            result
        };
        match result {
            Ok(s) => println!("\nOUTCOME ok {}", s.environment),
            Err(e) => println!("\nOUTCOME {}", e.code),
        }
        return;
    }
    let placeholder = BLOCKLIST[1];
    // APP_ENV, not NODE_ENV, decides: production, so the placeholder is refused.
    let (events, outcome, _) = validate_env_in_child(
        "APP_ENV",
        "vec",
        &[
            ("ENCRYPTION_KEY", placeholder),
            ("APP_ENV", "PRODUCTION"),
            ("NODE_ENV", "development"),
        ],
    );
    assert_eq!(outcome, "ENCRYPTION_KEY_BLOCKLISTED");
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["event"], "sdk.startup.failed");
    assert_eq!(events[0]["env"], "PRODUCTION");
    assert_eq!(events[1]["event"], "platform.key.weak");
    // And the other way round: NODE_ENV is not read once another variable is configured.
    let (events, outcome, _) = validate_env_in_child(
        "APP_ENV",
        "vec",
        &[
            ("ENCRYPTION_KEY", placeholder),
            ("APP_ENV", "development"),
            ("NODE_ENV", "production"),
        ],
    );
    assert_eq!(outcome, "ok development");
    assert_eq!(events[0]["env"], "development");
    // The default variable, NODE_ENV, when nothing else is configured.
    let (events, outcome, _) = validate_env_in_child(
        "NODE_ENV",
        "vec",
        &[("ENCRYPTION_KEY", GOOD_KEY), ("NODE_ENV", "staging")],
    );
    assert_eq!(outcome, "ok staging");
    assert_eq!(events[0]["env"], "staging");
    // The reported leak, through the default stdout sink: the key was printed as the `env`.
    for (var, value, needle) in [
        ("ENCRYPTION_KEY", GOOD_KEY, &GOOD_KEY[..8]),
        (
            "DATABASE_URL",
            "postgres://admin:S3cretPw@db.internal/settings",
            "S3cretPw",
        ),
    ] {
        let (events, outcome, all) =
            validate_env_in_child(var, "stdout", &[("ENCRYPTION_KEY", GOOD_KEY), (var, value)]);
        assert_eq!(outcome, "ok unknown");
        assert_eq!(events.len(), 1, "{all}");
        assert_eq!(events[0]["env"], "unknown");
        assert!(!all.contains(needle), "{var}: {all}");
        assert!(!all.contains(&GOOD_KEY[..8]), "{var}: {all}");
    }
}

// ---- session signing ----

#[test]
fn session_round_trip_and_tamper() {
    let signer = SessionSigner::new(SIGNING_KEY, &EncryptionKey::new(GOOD_KEY)).unwrap();
    let cookie = signer.sign(r#"{"user":"ada","exp":1}"#);
    assert_eq!(signer.verify(&cookie).unwrap(), r#"{"user":"ada","exp":1}"#);
    let (payload, sig) = cookie.split_once('.').unwrap();
    let mut flipped = sig.as_bytes().to_vec();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let forged = format!("{payload}.{}", String::from_utf8(flipped).unwrap());
    assert!(matches!(
        signer.verify(&forged),
        Err(VaultError::CookieSignature)
    ));
    // Not `<unpadded base64url>.<unpadded base64url>`: refused as malformed, before any MAC is
    // computed. A second `.` lands in the signature half (the split is at the first one), and `=`
    // padding is refused in either half.
    for bad in [
        "",
        "abc",
        &format!("{cookie}.x"),
        &format!("{payload}=.{sig}"),
        &format!("{payload}.{sig}="),
    ] {
        let result = signer.verify(bad);
        assert!(
            matches!(result, Err(VaultError::CookieMalformed)),
            "{bad}: {result:?}"
        );
    }
    // "." is two empty halves, both valid (empty) base64url, so it reaches the MAC check, which
    // refuses a zero-byte signature: a signature error, not a malformed cookie.
    let result = signer.verify(".");
    assert!(
        matches!(result, Err(VaultError::CookieSignature)),
        "{result:?}"
    );
    let other = SessionSigner::new(GOOD_KEY, &EncryptionKey::new(SIGNING_KEY)).unwrap();
    assert!(matches!(
        other.verify(&cookie),
        Err(VaultError::CookieSignature)
    ));
}

#[test]
fn session_expiry_is_enforced_when_asked() {
    let signer = SessionSigner::new(SIGNING_KEY, &EncryptionKey::new(GOOD_KEY)).unwrap();
    let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let live = signer.sign(r#"{"exp":1800000060}"#);
    let dead = signer.sign(r#"{"exp":1799999999}"#);
    let none = signer.sign(r#"{"expiresIn":3600}"#);
    assert!(signer.verify_unexpired(&live, now).is_ok());
    assert!(matches!(
        signer.verify_unexpired(&dead, now),
        Err(VaultError::CookieExpired)
    ));
    assert!(matches!(
        signer.verify_unexpired(&none, now),
        Err(VaultError::CookiePayload(_))
    ));
    assert!(signer.verify(&dead).is_ok());
}

#[test]
fn signing_key_must_differ_from_encryption_key_and_be_32_bytes() {
    // Equal strings.
    assert!(matches!(
        SessionSigner::new(GOOD_KEY, &EncryptionKey::new(GOOD_KEY)),
        Err(VaultError::SigningKeyEqualsEncryptionKey)
    ));
    // The signing key decodes to exactly the encryption key's bytes.
    let raw = "0123456789abcdefghijklmnopqrstuvwxyzABCD";
    let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, raw);
    assert!(matches!(
        SessionSigner::new(&encoded, &EncryptionKey::new(raw)),
        Err(VaultError::SigningKeyEqualsEncryptionKey)
    ));
    // Too short once decoded (the reference accepted 3 bytes).
    assert!(matches!(
        SessionSigner::new("AAEC", &EncryptionKey::new(GOOD_KEY)),
        Err(VaultError::SigningKeyTooShort { got: 3 })
    ));
    assert!(matches!(
        SessionSigner::new("not base64!", &EncryptionKey::new(GOOD_KEY)),
        Err(VaultError::SigningKeyNotBase64)
    ));
    let e = SessionSigner::new(GOOD_KEY, &EncryptionKey::new(GOOD_KEY)).unwrap_err();
    let signer = SessionSigner::new(SIGNING_KEY, &EncryptionKey::new(GOOD_KEY)).unwrap();
    let vault = SettingsVault::new(&EncryptionKey::new(GOOD_KEY)).unwrap();
    let debug = [format!("{signer:?}"), format!("{vault:?}")];
    for text in std::iter::once(format!("{e} {e:?}")).chain(debug.iter().cloned()) {
        assert!(
            !text.contains(&GOOD_KEY[..8]) && !text.contains(&SIGNING_KEY[..8]),
            "{text}"
        );
    }
    // Not merely absent: the Debug output says it was withheld (an empty or truncated output
    // would also pass the check above).
    for text in &debug {
        assert!(text.contains("[REDACTED]"), "{text}");
    }
}

/// The spellings in which one secret reaches two variables: copied with the newline `echo` adds,
/// a stray space, quotes that `docker --env-file` keeps, padding dropped, the URL-safe alphabet.
#[test]
fn signing_key_equal_to_a_respelling_of_the_encryption_key_is_refused() {
    let url_safe = GOOD_KEY.replace('+', "-").replace('/', "_");
    let unpadded = GOOD_KEY.trim_end_matches('=');
    // `M` ends the 32 bytes with two zero bits; `N` sets one of them, which a lenient decoder
    // drops, so it is the same 32 bytes written non-canonically.
    let trailing_bits = GOOD_KEY.replace("wM=", "wN=");
    let spellings = [
        format!("{GOOD_KEY}\n"),
        format!("{GOOD_KEY}\r\n"),
        format!("{GOOD_KEY} "),
        format!("\t{GOOD_KEY}"),
        unpadded.to_owned(),
        url_safe.clone(),
        url_safe.trim_end_matches('=').to_owned(),
        format!("\"{GOOD_KEY}\""),
        format!("'{GOOD_KEY}'"),
        format!("\"{GOOD_KEY}\"\n"),
        format!("\"{unpadded}\" "),
        format!("{}\n{}", &GOOD_KEY[..20], &GOOD_KEY[20..]),
        trailing_bits,
    ];
    for spelling in &spellings {
        assert!(
            matches!(
                SessionSigner::new(GOOD_KEY, &EncryptionKey::new(spelling.as_str())),
                Err(VaultError::SigningKeyEqualsEncryptionKey)
            ),
            "ENCRYPTION_KEY {spelling:?} accepted beside the same SESSION_SIGNING_KEY"
        );
    }
    // The signing key decodes to the encryption key's text, which was configured with a newline
    // or in quotes.
    let text = "0123456789abcdefghijklmnopqrstuvwxyzABCD";
    let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, text);
    for spelling in [format!("{text}\n"), format!("\"{text}\"")] {
        assert!(
            matches!(
                SessionSigner::new(&encoded, &EncryptionKey::new(spelling.as_str())),
                Err(VaultError::SigningKeyEqualsEncryptionKey)
            ),
            "{spelling:?}"
        );
    }
    // A genuinely different key still passes, however the encryption key is spelled.
    for spelling in spellings.iter().map(String::as_str).chain([GOOD_KEY]) {
        assert!(
            SessionSigner::new(SIGNING_KEY, &EncryptionKey::new(spelling)).is_ok(),
            "{spelling:?}"
        );
    }
}

/// The signing key that is used is decoded strictly: canonical, padded, standard alphabet, no
/// whitespace. Only the separation check reads keys leniently.
#[test]
fn signing_key_is_decoded_strictly() {
    let encryption = EncryptionKey::new(GOOD_KEY);
    assert!(SessionSigner::new(SIGNING_KEY, &encryption).is_ok());
    // `8` ends the 32 bytes with two zero bits; `9` sets one: the same bytes, non-canonically.
    let non_canonical = SIGNING_KEY.replace("G8=", "G9=");
    for bad in [
        non_canonical.as_str(),
        SIGNING_KEY.trim_end_matches('='),
        &SIGNING_KEY.replace('+', "-").replace('/', "_"),
        &format!("{SIGNING_KEY}="),
        &format!("{}\n{}", &SIGNING_KEY[..20], &SIGNING_KEY[20..]),
    ] {
        let result = SessionSigner::new(bad, &encryption);
        assert!(
            matches!(result, Err(VaultError::SigningKeyNotBase64)),
            "{bad:?}: {result:?}"
        );
    }
    // Decoded lengths are exact, also where padding shortens the last block.
    for (len, expected) in [(31, 31), (32, 32), (33, 33), (34, 34)] {
        let key: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
        let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &key);
        match SessionSigner::new(&encoded, &encryption) {
            Ok(_) => assert!(expected >= 32),
            Err(VaultError::SigningKeyTooShort { got }) => assert_eq!(got, expected),
            Err(e) => panic!("{len}: {e:?}"),
        }
    }
}

/// A key whose last block is two characters (four trailing bits, `==` padding) is recognised in
/// every spelling too, non-canonical ones included.
#[test]
fn separation_check_reads_a_two_character_last_block_leniently() {
    let bytes: Vec<u8> = (0u8..34)
        .map(|i| i.wrapping_mul(73).wrapping_add(5))
        .collect();
    let canonical = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bytes);
    assert!(canonical.ends_with("=="));
    let body = canonical.trim_end_matches('=');
    let (head, last) = body.split_at(body.len() - 1);
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let value = ALPHABET.find(last).unwrap();
    assert_eq!(
        value & 0b1111,
        0,
        "canonical: the four trailing bits are zero"
    );
    for trailing in 0..16 {
        let spelled = format!("{head}{}", &ALPHABET[value | trailing..][..1]);
        for spelling in [
            format!("{spelled}=="),
            spelled.clone(),
            spelled.replace('+', "-").replace('/', "_"),
        ] {
            assert!(
                matches!(
                    SessionSigner::new(&canonical, &EncryptionKey::new(spelling.as_str())),
                    Err(VaultError::SigningKeyEqualsEncryptionKey)
                ),
                "{spelling:?}"
            );
        }
    }
    // One more byte is another key.
    let mut longer = bytes.clone();
    longer.push(0);
    let other = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &longer);
    assert!(SessionSigner::new(&other, &EncryptionKey::new(canonical.as_str())).is_ok());
}

#[test]
fn quoted_placeholder_is_blocklisted_in_production() {
    for placeholder in BLOCKLIST {
        for key in [
            format!("\"{placeholder}\""),
            format!("'{placeholder}'"),
            format!(" \"{placeholder}\"\n"),
            format!("\"{placeholder} \""),
        ] {
            let (result, events) = run(Some(&key), Some("production"));
            assert_eq!(
                result.unwrap_err().code,
                StartupCode::Blocklisted,
                "{key:?}"
            );
            assert_eq!(events[1]["event"], "platform.key.weak");
            assert!(is_blocklisted(&key), "{key:?}");
        }
    }
    // Only a matching pair is quoting; a real key that merely contains quotes is not a placeholder.
    assert!(!is_blocklisted(&format!("\"{}'", BLOCKLIST[1])));
    assert!(!is_blocklisted("\""));
}

/// Arbitrary JSON documents: the payload shapes a session can have.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any JSON payload comes back from `verify` byte for byte, and flipping any single bit of the
    /// cookie (where the result is still a string) is refused as forged or malformed.
    #[test]
    fn cookie_round_trips_any_json_and_every_bit_flip_is_rejected(payload in json_value()) {
        let signer = SessionSigner::new(SIGNING_KEY, &EncryptionKey::new(GOOD_KEY)).unwrap();
        let json = payload.to_string();
        let cookie = signer.sign(&json);
        prop_assert_eq!(signer.verify(&cookie).unwrap(), json);
        for i in 0..cookie.len() {
            for bit in 0..8 {
                let mut bytes = cookie.clone().into_bytes();
                bytes[i] ^= 1 << bit;
                let Ok(flipped) = String::from_utf8(bytes) else { continue };
                let result = signer.verify(&flipped);
                prop_assert!(
                    matches!(result, Err(VaultError::CookieSignature | VaultError::CookieMalformed)),
                    "byte {} bit {}: {:?}", i, bit, result
                );
            }
        }
    }
}

#[test]
fn event_json_fields_in_reference_order() {
    let t = time::OffsetDateTime::from_unix_timestamp(1_775_433_600).unwrap();
    let ok = AnalyticsEvent::StartupSucceeded {
        env: "production".into(),
        key_length_bytes: 44,
        timestamp: t,
    };
    assert_eq!(
        ok.to_json(),
        r#"{"type":"analytics","event":"sdk.startup.succeeded","env":"production","key_length_bytes":44,"timestamp":"2026-04-06T00:00:00.000Z"}"#
    );
    let failed = AnalyticsEvent::StartupFailed {
        env: "a\"b".into(),
        code: StartupCode::Weak,
        timestamp: t,
    };
    assert_eq!(
        failed.to_json(),
        r#"{"type":"analytics","event":"sdk.startup.failed","env":"a\"b","tier":2,"reason":"key_too_short","timestamp":"2026-04-06T00:00:00.000Z"}"#
    );
    let weak = AnalyticsEvent::KeyWeak {
        env: "unknown".into(),
        timestamp: t,
    };
    assert_eq!(
        weak.to_json(),
        r#"{"type":"analytics","event":"platform.key.weak","env":"unknown","tier":3,"timestamp":"2026-04-06T00:00:00.000Z"}"#
    );
}
