//! `sealkit`: key generation, the operator jobs (migrate, rotate, validate) and a scriptable face for
//! every sealkit component. The commands and flags are a contract (SPEC.md section 5): secrets come from
//! the environment or a file, never from a flag value (`--database-url` may hold a password, so
//! `DATABASE_URL` is the better place for one); stdout carries exactly the result; a failure is one
//! line on stderr that names the error code.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod envelope;
mod failure;
mod io;
mod keygen;
mod output;
mod session;
mod stream;
mod token;
mod vault;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::failure::CliError;

#[derive(Parser)]
#[command(
    name = "sealkit",
    version,
    about = "Crypto for services that keep secrets at rest"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print 32 random bytes as padded standard base64 (what `openssl rand -base64 32` gives).
    Keygen(keygen::Args),
    /// Seal and open stream records (AEGIS-256 / AES-256-GCM) under a client-supplied key.
    #[command(subcommand)]
    Stream(stream::Command),
    /// Encrypt and decrypt `v2:` settings values, validate the key, migrate stored ciphertext.
    #[command(subcommand)]
    Vault(vault::Command),
    /// Sign and verify session cookies with `SESSION_SIGNING_KEY`.
    #[command(subcommand)]
    Session(session::Command),
    /// RSA-OAEP + AES-256-GCM envelopes: key generation, seal, open, registry rotation.
    #[command(subcommand)]
    Envelope(envelope::Command),
    /// Issue, verify and authorize scoped access tokens.
    #[command(subcommand)]
    Token(token::Command),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    let result = match cli.command {
        Command::Keygen(args) => keygen::run(args),
        Command::Stream(cmd) => stream::run(cmd),
        Command::Vault(cmd) => vault::run(cmd),
        Command::Session(cmd) => session::run(cmd),
        Command::Envelope(cmd) => envelope::run(cmd),
        Command::Token(cmd) => token::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(error) => error.report(),
    }
}

/// `--help` and `--version` print as clap prints them; any other parse failure, a missing
/// subcommand included, is reported like every other failure: one stderr line naming its code
/// (`usage`, exit status 2).
fn usage_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let _ = error.print();
        return ExitCode::SUCCESS;
    }
    if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return CliError::usage("a subcommand is required (see `sealkit --help`)").report();
    }
    // clap's message spreads over lines (the problem, the arguments it names, a tip, the usage);
    // the one line keeps all but the usage block.
    let text = error.to_string();
    let message = text
        .lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .filter(|line| !line.is_empty())
        .map(|line| match line.strip_prefix("tip: ") {
            Some(tip) => format!("(tip: {tip})"),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    let (message, withheld) = without_argument_values(message, std::env::args_os().skip(1));
    let hint = if withheld {
        "; sealkit reads secrets from the environment or files, never from arguments"
    } else {
        ""
    };
    CliError::usage(format!("{message} (see `sealkit --help`{hint})")).report()
}

/// clap repeats what was typed (an unexpected argument, a value it refused), and what was typed
/// may be a key, a token or a database URL pasted in by mistake, which must not reach a terminal
/// log or CI output. Every value on the command line (a positional argument, a flag's value, the
/// part after `=`) is therefore replaced in the message unless it looks like a name: a subcommand,
/// a cipher, a scope, an operation. Returns whether anything was withheld.
fn without_argument_values(
    message: &str,
    args: impl Iterator<Item = std::ffi::OsString>,
) -> (String, bool) {
    let mut message = message.to_owned();
    let mut withheld = false;
    for arg in args {
        let arg = arg.to_string_lossy();
        let value = match arg.strip_prefix('-') {
            Some(flag) => match flag.split_once('=') {
                Some((_, value)) => value,
                None => continue,
            },
            None => &arg,
        };
        // Under six characters a value is no secret worth the name, and replacing it could mangle
        // the rest of the message (a stream named `B` inside `<BITS>`).
        if value.len() < 6 || looks_like_a_name(value) || !message.contains(value) {
            continue;
        }
        message = message.replace(value, "(a value not shown)");
        withheld = true;
    }
    (message, withheld)
}

/// Lowercase words joined by `-`, as names are written here (`aegis-256`, `data-at-rest`,
/// `list-streams`), and short: a key or token is long or mixes case and symbols.
fn looks_like_a_name(value: &str) -> bool {
    let digits = value.bytes().filter(u8::is_ascii_digit).count();
    (1..=24).contains(&value.len())
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && digits <= 4
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(message: &str, args: &[&str]) -> (String, bool) {
        without_argument_values(message, args.iter().map(std::ffi::OsString::from))
    }

    #[test]
    fn values_that_may_be_secrets_are_withheld_and_names_kept() {
        let key = "q4A8pB0hYxV3n1Jd6mZ0cWl2tR9sE5uK7oG+fH/iLwM=";
        let (message, withheld) = shown(
            &format!("unexpected argument '{key}' found"),
            &["vault", "encrypt", key],
        );
        assert!(withheld && !message.contains(key), "{message}");
        let (message, _) = shown(
            "invalid value 'hunter2-SECRET' for '--bits <BITS>'",
            &["envelope", "keygen", "--bits=hunter2-SECRET"],
        );
        assert!(!message.contains("hunter2"), "{message}");
        for hex in ["0123456789abcdef0123456789abcdef", "deadbeef01234567"] {
            let (message, withheld) = shown(&format!("unexpected argument '{hex}' found"), &[hex]);
            assert!(withheld && !message.contains(hex), "{message}");
        }
        let url = "postgres://admin:S3cret@db/x";
        assert!(
            !shown(
                &format!("unexpected argument '{url}'"),
                &["vault", "migrate", url]
            )
            .0
            .contains("S3cret")
        );
        // Names stay: they are what the person needs to see to fix the command.
        let (message, withheld) = shown(
            "invalid value 'aegis-257' for '--cipher <CIPHER>'",
            &["stream", "seal", "--cipher", "aegis-257"],
        );
        assert!(!withheld && message.contains("aegis-257"), "{message}");
        let (message, withheld) = shown("unrecognized subcommand 'strem'", &["strem"]);
        assert!(!withheld && message.contains("strem"), "{message}");
        let (message, withheld) = shown(
            "unexpected argument '--bogus' found",
            &["keygen", "--bogus"],
        );
        assert!(!withheld && message.contains("--bogus"), "{message}");
        let (message, withheld) = shown(
            "invalid value 'B' for '--bits <BITS>'",
            &["keygen", "--bits", "B"],
        );
        assert!(!withheld && message.contains("<BITS>"), "{message}");
    }
}
