//! The skip-or-fail policy, observed from outside: this test binary re-runs its own `probe` test in a
//! child process with the vector directory pointing nowhere, once outside CI and once with `CI` set
//! to the empty string.

use std::process::{Command, Output};

/// Set in the child process only: `probe` does nothing without it.
const PROBE_ENV: &str = "SEALKIT_VECTORS_SKIP_POLICY_PROBE";

#[test]
#[ignore = "run only by the skip-policy tests below, in a child process"]
fn probe() {
    if std::env::var_os(PROBE_ENV).is_none() {
        return;
    }
    assert_eq!(sealkit_vectors::dir("probe"), None);
}

/// Runs `probe` alone in a child process (output captured by its harness, as in a plain
/// `cargo test`), with `CI` set to `ci` or removed.
fn run_probe(ci: Option<&str>) -> Output {
    let missing = missing_dir();
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args(["probe", "--exact", "--ignored", "--test-threads=1"])
        .env(PROBE_ENV, "1")
        .env(sealkit_vectors::VECTORS_ENV, &missing)
        .env_remove("CI");
    if let Some(ci) = ci {
        child.env("CI", ci);
    }
    child.output().unwrap()
}

/// A directory that does not exist.
fn missing_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sealkit-vectors-missing-{}", std::process::id()));
    assert!(!dir.exists());
    dir
}

#[test]
fn outside_ci_the_skip_line_reaches_stderr_past_the_harness_capture() {
    let out = run_probe(None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("skipped probe: known-answer vectors not found at "))
            .count(),
        1,
        "{stderr}"
    );
}

#[test]
fn ci_set_even_to_the_empty_string_fails_instead_of_skipping() {
    for ci in ["", "true"] {
        let out = run_probe(Some(ci));
        let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "CI={ci:?}: {text}");
        assert!(text.contains("CI must run them"), "CI={ci:?}: {text}");
        assert!(!text.contains("skipped probe"), "CI={ci:?}: {text}");
    }
    assert!(sealkit_vectors::required_under_ci() == std::env::var_os("CI").is_some());
}
