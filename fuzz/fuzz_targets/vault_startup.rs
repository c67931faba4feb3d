//! Startup validation (`StartupValidator`) on arbitrary `ENCRYPTION_KEY` text, environment names
//! and environment-variable names: the blocklist, the variety check and the key-spelling
//! comparison behind them. Never panics; a success emits exactly one `sdk.startup.succeeded`
//! event, a failure one `sdk.startup.failed` (and `platform.key.weak` beside it exactly when the
//! key is a known placeholder); a variable whose name says it holds a secret is never read; and
//! the key never appears in an event or an error unless the environment name itself contains it.
//!
//! Input: `<key>\n<environment name>\n<environment variable name>`. The key line is always there
//! (an empty one is an unset key); a missing environment line is an unset environment, and a
//! missing variable line leaves the variable at `NODE_ENV`.
#![no_main]

use std::ffi::OsString;

use libfuzzer_sys::fuzz_target;
use sealkit_vault::{
    AnalyticsEvent, ENCRYPTION_KEY_VAR, StartupCode, StartupValidator, names_a_secret,
};

/// Whether `text` appearing in the output would mean the key leaked. Only keys written in the
/// standard base64 alphabet and at least 16 characters long are looked for: shorter runs of
/// letters and digits occur in the events' own field names, codes and timestamps.
fn traceable(key: &str) -> bool {
    key.len() >= 16
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.splitn(3, '\n');
    let key = lines.next();
    let environment = lines.next();
    let variable = lines.next().unwrap_or("NODE_ENV");

    let validator = StartupValidator::new().environment_variable(variable);
    let mut asked_for_variable = false;
    let lookup = |name: &str| {
        if name == ENCRYPTION_KEY_VAR {
            key.map(OsString::from)
        } else {
            assert_eq!(name, variable, "asked for a variable it was not told about");
            asked_for_variable = true;
            environment.map(OsString::from)
        }
    };
    let mut events: Vec<AnalyticsEvent> = Vec::new();
    let result = validator.validate_with_lookup(lookup, &mut events);
    assert!(
        !(asked_for_variable && names_a_secret(variable)),
        "read a variable whose name says it holds a secret"
    );

    // The events match the outcome.
    let names: Vec<&str> = events.iter().map(AnalyticsEvent::name).collect();
    match &result {
        Ok(_) => assert_eq!(names, ["sdk.startup.succeeded"]),
        Err(error) if error.code == StartupCode::Blocklisted => {
            assert_eq!(names, ["sdk.startup.failed", "platform.key.weak"]);
        }
        Err(_) => assert_eq!(names, ["sdk.startup.failed"]),
    }

    // Nothing shows the key, unless the environment name (which is reported) contains it. Only
    // names that print as they are count: an escape (`\u0011`, `\n`) adds letters and digits of
    // its own, which can spell a key the name itself does not contain.
    let verbatim = |env: &str| {
        env.chars()
            .all(|c| (c.is_ascii_graphic() || c == ' ') && c != '"' && c != '\\')
    };
    if let Some(key) = key.map(str::trim)
        && traceable(key)
        && environment.is_none_or(|env| verbatim(env) && !env.contains(key))
    {
        for event in &events {
            assert!(!event.to_json().contains(key), "the key in an event");
            assert!(
                !format!("{event:?}").contains(key),
                "the key in an event's Debug"
            );
        }
        match &result {
            Ok(success) => {
                assert!(
                    !format!("{success:?}").contains(key),
                    "the key in the success"
                );
            }
            Err(error) => {
                assert!(!error.to_string().contains(key), "the key in the error");
                assert!(
                    !format!("{error:?}").contains(key),
                    "the key in the error's Debug"
                );
            }
        }
    }
});
