//! Locates the known-answer vectors shared by every sealkit test suite, and runs the Node.js
//! reference scripts of the interop tests ([`node`]).
//!
//! The vectors live outside the repository (`../shared/vectors` beside the checkout, or the directory
//! named by `SEALKIT_VECTORS`) and are never copied into it. When they (or `node`) cannot be found a
//! test prints one skip line and passes — unless `CI` is set, in which case it fails, so CI can
//! never go green without having run them.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod node;

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Environment variable that overrides the vector directory.
pub const VECTORS_ENV: &str = "SEALKIT_VECTORS";

/// The vector directory, or `None` (after printing a skip line) when it is absent outside CI.
///
/// The skip line goes straight to the process's standard error, which the test harness does not
/// capture, so it shows in a plain `cargo test` run.
///
/// # Panics
///
/// When `CI` is set (to any value, even empty) and the directory cannot be found: a CI run must
/// execute the vector tests.
pub fn dir(test: &str) -> Option<PathBuf> {
    let candidate = match std::env::var_os(VECTORS_ENV) {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("../shared/vectors"),
    };
    if candidate.is_dir() {
        return Some(candidate);
    }
    assert!(
        !is_ci(),
        "{test}: known-answer vectors not found at {} (set {VECTORS_ENV}); CI must run them",
        candidate.display()
    );
    print_skip(
        test,
        &format_args!(
            "known-answer vectors not found at {} (set {VECTORS_ENV})",
            candidate.display()
        ),
    );
    None
}

/// Prints `skipped TEST: WHY`. `std::io::stderr()` bypasses the harness's output capture
/// (`eprintln!` does not), so the line shows in a plain `cargo test` run. A failed write (stderr
/// closed) must not fail the test.
fn print_skip(test: &str, why: &dyn fmt::Display) {
    let _ = writeln!(std::io::stderr(), "skipped {test}: {why}");
}

/// Reads and parses one JSON vector file below the vector directory; `None` when skipped.
///
/// # Panics
///
/// When the directory exists but the file is missing or is not JSON: that is a broken checkout.
pub fn json(test: &str, relative: &str) -> Option<serde_json::Value> {
    let path = dir(test)?.join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{test}: cannot read {}: {e}", path.display()));
    Some(
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{test}: {} is not JSON: {e}", path.display())),
    )
}

/// Decodes a hex field of a vector, panicking with the field name on malformed data.
pub fn unhex(field: &serde_json::Value) -> Vec<u8> {
    let s = field
        .as_str()
        .unwrap_or_else(|| panic!("expected a hex string, got {field}"));
    hex::decode(s).unwrap_or_else(|e| panic!("bad hex {s:?}: {e}"))
}

/// True when an external tool that an interop test needs must be present (under CI).
pub fn required_under_ci() -> bool {
    is_ci()
}

/// `CI` set to any value, the empty string included, means a CI run.
fn is_ci() -> bool {
    std::env::var_os("CI").is_some()
}

fn workspace_root() -> &'static Path {
    // crates/sealkit-vectors → the workspace root, two levels up.
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}
