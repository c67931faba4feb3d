//! How every CLI end-to-end test runs the `sealkit` binary: in an empty environment plus exactly
//! the variables the test names (so a developer's own `ENCRYPTION_KEY` or `S2_ENCRYPTION_KEY` can
//! never leak into a test), with stdin fed in full and all output collected.

// Each test binary includes this module and uses a different subset of it.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `sealkit <args>` with only `env` set and `stdin` as its standard input.
pub fn sealkit(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealkit"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sealkit binary runs");
    // A command that fails before reading stdin closes the pipe early; that is not a test failure.
    if let Err(e) = child.stdin.take().expect("piped stdin").write_all(stdin) {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "writing stdin: {e}"
        );
    }
    child.wait_with_output().expect("the sealkit binary exits")
}

/// Stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The CLI contract for a failure: a non-zero exit and exactly one stderr line,
/// `sealkit: error[<code>]: …`.
pub fn assert_fails_with(out: &Output, code: &str) {
    assert!(
        !out.status.success(),
        "expected failure with {code}, got success"
    );
    let err = stderr(out);
    assert_eq!(
        err.lines().count(),
        1,
        "exactly one stderr line expected: {err:?}"
    );
    assert!(
        err.starts_with(&format!("sealkit: error[{code}]: ")),
        "expected code {code}: {err:?}"
    );
}

/// A failure of a command whose stdout carries only its result: nothing at all on stdout.
pub fn assert_fails_silently_with(out: &Output, code: &str) {
    assert_fails_with(out, code);
    assert!(out.stdout.is_empty(), "no output expected on failure");
}

/// `sealkit <command> --help` succeeds for each of `commands`, and each help text names every one
/// of `names` (the environment variables a command reads are part of its help).
pub fn assert_help_names(commands: &[&[&str]], names: &[&str]) {
    for command in commands {
        let out = sealkit(&[command, &["--help"][..]].concat(), &[], b"");
        assert!(out.status.success(), "{command:?} --help failed");
        let help = String::from_utf8_lossy(&out.stdout);
        for name in names {
            assert!(
                help.contains(name),
                "`sealkit {command:?} --help` lacks {name}"
            );
        }
    }
}
