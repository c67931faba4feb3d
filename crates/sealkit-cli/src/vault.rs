//! `sealkit vault encrypt|decrypt|check|migrate`: the settings vault from the shell.
//!
//! `ENCRYPTION_KEY` comes from the environment only (read lossily as UTF-8, never trimmed);
//! previous keys for rotation come from files. No command ever prints a stored value or any part of
//! one, except `decrypt`, whose job is to print the plaintext.

mod migrate;

use std::path::Path;
use std::process::ExitCode;

use sealkit::vault::{EncryptionKey, SessionSigner, SettingsVault, StartupValidator, VaultError};

use crate::failure::{CliError, CliResult};
use crate::io;

/// What the vault subcommands read from the environment (shown under `--help`).
const ENVIRONMENT_HELP: &str = "Environment:
  ENCRYPTION_KEY       the key, exactly as set: its bytes, never trimmed (`sealkit keygen` makes one)
  NODE_ENV             the environment name `check` reports (another variable with --environment-var)
  SESSION_SIGNING_KEY  when set, `check` also requires it to differ from ENCRYPTION_KEY and to be
                       standard base64 of at least 32 bytes, as `sealkit session` does
  DATABASE_URL         the database `migrate` works on (or --database-url)";

/// Subcommands of `sealkit vault`.
#[derive(clap::Subcommand)]
#[command(after_help = ENVIRONMENT_HELP)]
pub enum Command {
    /// Encrypt all of stdin (UTF-8) into a `v2:` value under `ENCRYPTION_KEY`.
    #[command(after_help = ENVIRONMENT_HELP)]
    Encrypt,
    /// Decrypt a stored value (stdin, one trailing newline — `\n` or `\r\n` — removed) and print
    /// the plaintext exactly.
    #[command(after_help = ENVIRONMENT_HELP)]
    Decrypt,
    /// Run the startup validation on this environment; analytics lines on stdout; exit 1 on failure.
    /// With `SESSION_SIGNING_KEY` set, also check it is a separate key of at least 32 bytes.
    #[command(after_help = ENVIRONMENT_HELP)]
    Check {
        /// Variable holding the environment name.
        #[arg(long, default_value = sealkit::vault::DEFAULT_ENVIRONMENT_VAR, value_name = "VAR")]
        environment_var: String,
    },
    /// Move every encrypted settings row to `v2` under the current `ENCRYPTION_KEY`.
    #[command(after_help = ENVIRONMENT_HELP)]
    Migrate(migrate::Args),
}

/// Runs one subcommand.
pub fn run(command: Command) -> CliResult {
    match command {
        Command::Encrypt => encrypt(),
        Command::Decrypt => decrypt(),
        Command::Check { environment_var } => check(&environment_var),
        Command::Migrate(args) => migrate::run(args),
    }
}

/// The current key from `ENCRYPTION_KEY`, or the tier-1 error.
pub(crate) fn current_key() -> Result<EncryptionKey, CliError> {
    match io::env_secret(sealkit::vault::ENCRYPTION_KEY_VAR) {
        Some(raw) if !raw.is_empty() => Ok(EncryptionKey::new(raw.as_str())),
        _ => Err(CliError::new(
            "ENCRYPTION_KEY_ABSENT",
            "ENCRYPTION_KEY is not set. Generate a key: openssl rand -base64 32 (or: sealkit keygen)",
        )),
    }
}

/// Maps a library error to the one stderr line (its messages carry no secrets).
pub(crate) fn vault_error(e: &VaultError) -> CliError {
    CliError::new(e.code(), e)
}

fn vault() -> Result<SettingsVault, CliError> {
    SettingsVault::new(&current_key()?).map_err(|e| vault_error(&e))
}

fn encrypt() -> CliResult {
    let vault = vault()?;
    let input = io::read_stdin_secret()?;
    let plaintext = std::str::from_utf8(&input).map_err(|_| {
        CliError::new(
            "not_utf8",
            "stdin is not UTF-8: a settings value is a string",
        )
    })?;
    let value = vault.encrypt(plaintext).map_err(|e| vault_error(&e))?;
    io::print_line(&value)?;
    Ok(ExitCode::SUCCESS)
}

fn decrypt() -> CliResult {
    let vault = vault()?;
    let input = io::read_stdin_line()?;
    let value = String::from_utf8(input)
        .map_err(|_| CliError::new("format", "stdin is not UTF-8: stored values are text"))?;
    let plaintext = vault.decrypt(&value).map_err(|e| vault_error(&e))?;
    io::write_stdout(plaintext.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn check(environment_var: &str) -> CliResult {
    // The library would only withhold such a variable's value (validating as production, with
    // the name reported as unknown); an operator who typed it is better told at once. The message
    // does not repeat it: a secret pasted into the flag by mistake may contain such a word too.
    if sealkit::vault::names_a_secret(environment_var) {
        return Err(CliError::usage(format_args!(
            "--environment-var looks like a secret's variable, and `check` prints the environment \
             name it reads: name the variable that holds the environment's name (default {})",
            sealkit::vault::DEFAULT_ENVIRONMENT_VAR
        )));
    }
    StartupValidator::new()
        .environment_variable(environment_var)
        .validate_env()
        .map_err(|e| {
            CliError::new(
                e.code.as_str(),
                format_args!("{} ({})", e.message, e.suggestion),
            )
        })?;
    // Tier 1 passed, so the key is there.
    check_key_separation(&current_key()?)?;
    Ok(ExitCode::SUCCESS)
}

/// SPEC §2 makes a reused or short session-signing key a startup error, so a deployment that
/// `check` passes must not then fail at its first `sealkit session` command. Runs only once the
/// three tiers have passed; their analytics line keeps its fixed schema and reports those tiers
/// alone, so this failure shows in the exit status and on stderr. An unset or blank signing key
/// is skipped (`sealkit session` calls it absent): not every deployment signs sessions.
fn check_key_separation(encryption_key: &EncryptionKey) -> Result<(), CliError> {
    let Some(signing) = io::env_secret(sealkit::vault::SESSION_SIGNING_KEY_VAR)
        .filter(|key| !key.trim().is_empty())
    else {
        return Ok(());
    };
    SessionSigner::new(&signing, encryption_key)
        .map(drop)
        .map_err(|e| vault_error(&e))
}

/// Reads a previous key from a file. The key is the file's bytes (lossy UTF-8); when the file ends
/// in a newline both readings are kept — with and without it — since the key may have been saved
/// by `echo` and the wrong candidate simply never authenticates.
pub(crate) fn previous_keys(path: &Path) -> Result<Vec<EncryptionKey>, CliError> {
    let bytes = io::read_secret_file(path)?;
    let mut keys = vec![EncryptionKey::from_bytes_lossy(&bytes)];
    let mut trimmed = zeroize::Zeroizing::new(bytes.to_vec());
    io::strip_one_newline(&mut trimmed);
    if trimmed.len() != bytes.len() {
        keys.push(EncryptionKey::from_bytes_lossy(&trimmed));
    }
    if keys.iter().all(EncryptionKey::is_empty) {
        return Err(CliError::new(
            "previous_key_empty",
            format_args!("previous key file {} is empty", path.display()),
        ));
    }
    keys.retain(|k| !k.is_empty());
    Ok(keys)
}
