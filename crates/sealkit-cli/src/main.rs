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
    let (command, subcommands) = command_typed();
    if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return CliError::usage(format!(
            "`{command}` needs a subcommand: {} (see `{command} --help`)",
            subcommands.join(", ")
        ))
        .report();
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
    // Only the line printed is checked: clap's usage block, left out of it, always names the
    // command itself, which a typed path or value may contain too (`/etc/sealkit/…`).
    let typed = values_typed(std::env::args_os().skip(1));
    if repeats_any(message, &typed) {
        return CliError::usage(format!(
            "{} (the value is not repeated here, in case it is a secret: sealkit reads secrets \
             from the environment or files, never from arguments; see `{command} --help`)",
            message_without_values(error)
        ))
        .report();
    }
    CliError::usage(format!("{message} (see `{command} --help`)")).report()
}

/// The deepest command the arguments name (`sealkit envelope registry`), found in the command tree
/// rather than copied from the arguments, so nothing typed is repeated; and its subcommands.
fn command_typed() -> (String, Vec<String>) {
    use clap::CommandFactory as _;
    let mut command = Cli::command();
    let mut path = vec!["sealkit".to_owned()];
    for arg in std::env::args_os().skip(1) {
        let Some(sub) = arg
            .to_str()
            .and_then(|arg| command.find_subcommand(arg))
            .cloned()
        else {
            break;
        };
        path.push(sub.get_name().to_owned());
        command = sub;
    }
    let subcommands = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .collect();
    (path.join(" "), subcommands)
}

/// What clap says went wrong, naming no value: the kind of error, and the flag it concerns when
/// that is a flag of ours rather than something typed.
fn message_without_values(error: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let what = error.kind().as_str().unwrap_or("invalid arguments");
    let flag = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg))
            if !matches!(error.kind(), ErrorKind::UnknownArgument)
                && arg.starts_with('-')
                && arg.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b' ' | b'<' | b'>')
                }) =>
        {
            Some(arg.as_str())
        }
        _ => None,
    };
    match flag {
        Some(flag) => format!("{what} ({flag})"),
        None => what.to_owned(),
    }
}

/// The values on a command line that may be secrets: positional arguments, flag values (after `=`
/// too), anything after `--`, and anything that only looks like a flag. Names (`aegis-256`,
/// `data-at-rest`, `--cipher`) and values under six characters are left out: they are what the
/// person needs to see to fix the command, and too short to be a secret worth the name.
fn values_typed(args: impl Iterator<Item = std::ffi::OsString>) -> Vec<String> {
    let mut values = Vec::new();
    let mut only_values = false;
    for arg in args {
        let arg = arg.to_string_lossy().into_owned();
        let value = if only_values {
            arg
        } else if arg == "--" {
            only_values = true;
            continue;
        } else if let Some(flag) = arg.strip_prefix('-') {
            let (name, value) = flag.split_once('=').unwrap_or((flag, ""));
            if !looks_like_a_name(name.trim_start_matches('-')) {
                arg.clone()
            } else {
                value.to_owned()
            }
        } else {
            arg
        };
        if value.chars().count() >= 6 && !looks_like_a_name(&value) {
            values.push(value);
        }
    }
    values
}

/// Whether `message` repeats any of `values`, in any form a message may take: whole or cut short,
/// quoted and escaped, spread over lines. Any run of six letters or digits from a value counts, so
/// a false alarm only makes the message plainer.
fn repeats_any(message: &str, values: &[String]) -> bool {
    const WINDOW: usize = 6;
    values.iter().any(|value| {
        value
            .split(|c: char| !c.is_alphanumeric())
            .filter(|run| run.chars().count() >= WINDOW)
            .any(|run| {
                let chars: Vec<char> = run.chars().collect();
                chars
                    .windows(WINDOW)
                    .any(|w| message.contains(&w.iter().collect::<String>()))
            })
    })
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

    fn typed(args: &[&str]) -> Vec<String> {
        values_typed(args.iter().map(std::ffi::OsString::from))
    }

    #[test]
    fn values_that_may_be_secrets_are_found_in_any_form() {
        let key = "q4A8pB0hYxV3n1Jd6mZ0cWl2tR9sE5uK7oG+fH/iLwM=";
        // Cut short and quoted by a value parser's own message.
        let cut = format!("unknown stream cipher \"{}…\"", &key[..32]);
        assert!(repeats_any(
            &cut,
            &typed(&["stream", "seal", "--cipher", key])
        ));
        // Escaped.
        let escaped = r#"unknown stream cipher "Hunter2\"Pass\\word""#;
        assert!(repeats_any(
            escaped,
            &typed(&["--cipher", "Hunter2\"Pass\\word"])
        ));
        // Spread over lines, as a PEM is, then joined with spaces.
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
        let joined =
            "unexpected argument '-----BEGIN PRIVATE KEY----- MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'";
        assert!(repeats_any(joined, &typed(&["vault", "encrypt", pem])));
        // After `--`, after `=`, and a "flag" that is really a value.
        assert!(repeats_any(
            "'-Abc123SECRETvalue'",
            &typed(&["--", "-Abc123SECRETvalue"])
        ));
        assert!(repeats_any(
            "'--Abc123SECRETvalue'",
            &typed(&["--Abc123SECRETvalue"])
        ));
        assert!(repeats_any(
            "'hunter2-SECRET'",
            &typed(&["--bits=hunter2-SECRET"])
        ));
        let url = "postgres://admin:S3cretPw@db/x";
        assert!(repeats_any(
            &format!("unexpected argument '{url}'"),
            &typed(&["vault", "migrate", url])
        ));
        for hex in ["0123456789abcdef0123456789abcdef", "deadbeef01234567"] {
            assert!(repeats_any(
                &format!("unexpected argument '{hex}'"),
                &typed(&[hex])
            ));
        }
    }

    #[test]
    fn names_are_shown() {
        for (message, args) in [
            (
                "invalid value 'aegis-257' for '--cipher <CIPHER>'",
                &["stream", "seal", "--cipher", "aegis-257"][..],
            ),
            ("unrecognized subcommand 'strem'", &["strem"]),
            (
                "unexpected argument '--bogus' found",
                &["keygen", "--bogus"],
            ),
            (
                "invalid value 'B' for '--bits <BITS>'",
                &["keygen", "--bits", "B"],
            ),
            (
                "invalid value '1000' for '--bits <BITS>'",
                &["envelope", "keygen", "--bits=1000"],
            ),
        ] {
            assert!(!repeats_any(message, &typed(args)), "{message}");
        }
    }
}
