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
    if let Some(message) = message_without_values(error) {
        return CliError::usage(format!("{message} (see `sealkit --help`)")).report();
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
    CliError::usage(format!("{message} (see `sealkit --help`)")).report()
}

/// For the errors where clap would repeat what was typed, a message that names it only when it
/// cannot be a secret: a key, token or database URL pasted as an argument by mistake must not
/// reach a terminal log or CI output.
fn message_without_values(error: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let context = |kind| match error.get(kind) {
        Some(ContextValue::String(text)) => Some(text.as_str()),
        _ => None,
    };
    let shown = |text: &str| -> String {
        // A flag or subcommand name: short, and only the characters names are made of.
        let name = text.split_once('=').map_or(text, |(name, _)| name);
        if name.len() <= 32
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            format!("'{name}'")
        } else {
            "(not repeated here, in case it is a secret: sealkit reads secrets from the \
             environment or files, never from arguments)"
                .to_owned()
        }
    };
    match error.kind() {
        ErrorKind::UnknownArgument => Some(format!(
            "unexpected argument {}",
            context(ContextKind::InvalidArg).map_or_else(String::new, shown)
        )),
        ErrorKind::InvalidSubcommand => Some(format!(
            "unrecognized subcommand {}",
            context(ContextKind::InvalidSubcommand).map_or_else(String::new, shown)
        )),
        ErrorKind::InvalidValue => {
            let arg = context(ContextKind::InvalidArg).unwrap_or("an argument");
            let possible = match error.get(ContextKind::ValidValue) {
                Some(ContextValue::Strings(values)) if !values.is_empty() => {
                    format!(" (possible values: {})", values.join(", "))
                }
                _ => String::new(),
            };
            Some(format!("invalid value for {arg}{possible}"))
        }
        _ => None,
    }
}
