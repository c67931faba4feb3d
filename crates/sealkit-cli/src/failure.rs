//! How a failed command reports itself: exactly one line on stderr naming the error code, and a
//! non-zero exit status. Messages are written for the operator who hits them and never carry secrets.

use std::fmt;
use std::process::ExitCode;

/// A command failure: a stable machine-readable `code` and a human message.
#[derive(Debug)]
pub struct CliError {
    code: String,
    message: String,
    exit: u8,
}

impl CliError {
    /// A failure with exit status 1.
    pub fn new(code: impl Into<String>, message: impl fmt::Display) -> Self {
        Self {
            code: code.into(),
            message: message.to_string(),
            exit: 1,
        }
    }

    /// The same failure with another exit status.
    pub fn with_exit(mut self, exit: u8) -> Self {
        self.exit = exit.max(1);
        self
    }

    /// Bad command-line usage that clap could not catch (exit status 2, like clap's own).
    pub fn usage(message: impl fmt::Display) -> Self {
        Self::new("usage", message).with_exit(2)
    }

    /// Reading stdin, a file or writing stdout failed.
    pub fn io(what: &str, error: std::io::Error) -> Self {
        Self::new("io", format!("{what}: {error}"))
    }

    /// The machine-readable code.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn code(&self) -> &str {
        &self.code
    }

    /// Prints the one stderr line and returns the exit status. Control characters in the message
    /// (a newline in a file name or a key id, a terminal escape) are shown escaped, so the line
    /// stays one line and cannot be followed by a forged one.
    pub fn report(self) -> ExitCode {
        eprintln!("sealkit: error[{}]: {}", self.code, one_line(&self.message));
        ExitCode::from(self.exit)
    }
}

/// Every command returns its exit status, or a failure to report.
pub type CliResult = Result<ExitCode, CliError>;

/// `text` with every control character written as its Rust escape (`\n`, `\u{1b}`).
pub fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut line = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            line.extend(c.escape_debug());
        } else {
            line.push(c);
        }
    }
    std::borrow::Cow::Owned(line)
}
