//! `sealkit session sign|verify`: the reference's admin session cookies, keyed by
//! `SESSION_SIGNING_KEY`, which must differ from `ENCRYPTION_KEY` and decode to at least 32 bytes.

use std::process::ExitCode;

use sealkit::vault::{EncryptionKey, SessionSigner};

use crate::failure::{CliError, CliResult};
use crate::io;
use crate::vault::vault_error;

/// What the session subcommands read from the environment (shown under `--help`).
const ENVIRONMENT_HELP: &str = "Environment:
  SESSION_SIGNING_KEY  the signing key: at least 32 bytes once decoded (`sealkit keygen` makes one)
  ENCRYPTION_KEY       when set, the signing key must differ from it (key separation)";

/// Subcommands of `sealkit session`.
#[derive(clap::Subcommand)]
#[command(after_help = ENVIRONMENT_HELP)]
pub enum Command {
    /// Sign the JSON payload on stdin (one trailing newline removed) and print the cookie.
    #[command(after_help = ENVIRONMENT_HELP)]
    Sign,
    /// Verify the cookie on stdin and print its JSON payload exactly.
    #[command(after_help = ENVIRONMENT_HELP)]
    Verify {
        /// Also require a numeric `exp` (Unix seconds) in the payload that is still in the future.
        #[arg(long)]
        enforce_expiry: bool,
    },
}

/// Runs one subcommand.
pub fn run(command: Command) -> CliResult {
    let signer = signer()?;
    match command {
        Command::Sign => {
            let payload = utf8(io::read_stdin_line()?, "the payload")?;
            serde_json::from_str::<serde_json::Value>(&payload).map_err(|_| {
                CliError::new("payload_not_json", "the payload on stdin is not JSON")
            })?;
            io::print_line(&signer.sign(&payload))?;
        }
        Command::Verify { enforce_expiry } => {
            let cookie = utf8(io::read_stdin_line()?, "the cookie")?;
            let json = if enforce_expiry {
                signer.verify_unexpired_now(&cookie)
            } else {
                signer.verify(&cookie)
            }
            .map_err(|e| vault_error(&e))?;
            io::write_stdout(json.as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn utf8(bytes: Vec<u8>, what: &str) -> Result<String, CliError> {
    String::from_utf8(bytes)
        .map_err(|_| CliError::new("not_utf8", format_args!("{what} is not UTF-8")))
}

fn signer() -> Result<SessionSigner, CliError> {
    let signing = io::env_secret(sealkit::vault::SESSION_SIGNING_KEY_VAR)
        .filter(|key| !key.trim().is_empty())
        .ok_or_else(|| {
            CliError::new(
                "session_key_absent",
                "SESSION_SIGNING_KEY is not set (or empty). Generate a key: sealkit keygen (or: openssl rand -base64 32)",
            )
        })?;
    // The separation check needs ENCRYPTION_KEY; when it is unset there is nothing to collide with.
    let encryption = io::env_secret(sealkit::vault::ENCRYPTION_KEY_VAR)
        .map(|k| EncryptionKey::new(k.as_str()))
        .unwrap_or_else(|| EncryptionKey::new(""));
    SessionSigner::new(&signing, &encryption).map_err(|e| vault_error(&e))
}
