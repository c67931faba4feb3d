//! `sealkit stream …`: seal and open single stream records, and work with key-check values.
//!
//! The key comes from `S2_ENCRYPTION_KEY` or `--encryption-key-file` (trimmed), as the s2 CLI takes
//! it; never from a flag value.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sealkit::stream::{
    KeyCheck, RecordSealer, StreamCipher, StreamError, StreamIdentity, StreamSpec, record,
};
use zeroize::Zeroizing;

use crate::failure::{CliError, CliResult};
use crate::io;
use crate::output::{Access, NewFile};

/// Environment variable holding the stream key (as the s2 CLI reads it).
const KEY_ENV: &str = "S2_ENCRYPTION_KEY";

/// What the keyed subcommands read from the environment (shown under `--help`).
const ENVIRONMENT_HELP: &str = "Environment:
  S2_ENCRYPTION_KEY  the stream key: 32 bytes in padded standard base64 (`sealkit keygen`), as the s2
                     CLI reads it; --encryption-key-file takes its place when given";

/// Subcommands of `sealkit stream`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Seal the record on stdin; the sealed record goes to stdout.
    #[command(after_help = ENVIRONMENT_HELP)]
    Seal(RecordArgs),
    /// Open the sealed record on stdin; the plaintext goes to stdout exactly.
    #[command(after_help = ENVIRONMENT_HELP)]
    Open(RecordArgs),
    /// Print the stream's key-check value (64 hex digits), safe to store beside its metadata.
    #[command(after_help = ENVIRONMENT_HELP)]
    KeyCheck(StreamArgs),
    /// Print what a sealed record on stdin reveals without its key, as JSON.
    Inspect,
}

/// Which stream, and where its key comes from.
#[derive(clap::Args)]
pub struct StreamArgs {
    /// The stream's cipher: aegis-256 or aes-256-gcm.
    #[arg(long)]
    cipher: StreamCipher,
    /// Basin name.
    #[arg(long)]
    basin: String,
    /// Stream name.
    #[arg(long)]
    stream: String,
    /// The stream's incarnation (creation id), if the server gives streams one.
    #[arg(long)]
    incarnation: Option<String>,
    /// Read the key from this file (surrounding whitespace is trimmed) instead of S2_ENCRYPTION_KEY.
    #[arg(long, value_name = "FILE")]
    encryption_key_file: Option<PathBuf>,
}

/// A record operation's flags.
#[derive(clap::Args)]
pub struct RecordArgs {
    #[command(flatten)]
    stream: StreamArgs,
    /// Bind the record to this sequence number (it must be given again to open it).
    #[arg(long, value_name = "N")]
    seq_num: Option<u64>,
    /// Refuse the key with `wrong_key` unless it matches this stored key-check value.
    #[arg(long, value_name = "HEX", conflicts_with = "key_check_file")]
    key_check: Option<KeyCheck>,
    /// Key-check file: verified when it exists. When it does not, `seal` creates it with this key's
    /// value after sealing (as a server stores it with the stream's first append); `open` fails.
    #[arg(long, value_name = "FILE")]
    key_check_file: Option<PathBuf>,
}

/// Runs one subcommand.
pub fn run(command: Command) -> CliResult {
    match command {
        Command::Seal(args) => {
            let (sealer, first_append) = checked_sealer(&args, Direction::Seal)?;
            let plaintext = io::read_stdin_secret()?;
            let sealed = sealer
                .seal(&plaintext, args.seq_num)
                .map_err(stream_error)?;
            // The stream's key-check value is stored only once its first record exists, so a failed
            // seal never pins a key; the record is released only once the value is stored.
            if let Some(path) = first_append {
                store_key_check(&path, sealer.key_check())?;
            }
            io::write_stdout(&sealed)?;
        }
        Command::Open(args) => {
            let (sealer, _) = checked_sealer(&args, Direction::Open)?;
            let mut record = io::read_stdin()?;
            let plaintext = sealer
                .open_in_place(&mut record, args.seq_num)
                .map_err(stream_error)?;
            let result = io::write_stdout(plaintext);
            zeroize::Zeroize::zeroize(&mut record);
            result?;
        }
        Command::KeyCheck(args) => {
            let sealer = sealer(&args)?;
            io::print_line(&sealer.key_check().to_string())?;
        }
        Command::Inspect => {
            let record = io::read_stdin()?;
            let info = record::inspect(&record).map_err(stream_error)?;
            let json = serde_json::json!({
                "cipher": info.format.cipher().as_str(),
                "formatByte": info.format.byte(),
                "plaintextLen": info.plaintext_len,
            });
            io::print_line(&json.to_string())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Which way a record goes, for what a missing key-check file means.
#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Seal,
    Open,
}

/// The stream's sealer, after the key passed the key check the flags ask for; and, for the first
/// append to a stream whose key-check file does not exist yet, the file to store the value in.
fn checked_sealer(
    args: &RecordArgs,
    direction: Direction,
) -> Result<(RecordSealer, Option<PathBuf>), CliError> {
    let sealer = sealer(&args.stream)?;
    let (stored, first_append) = match (&args.key_check, &args.key_check_file) {
        (Some(check), _) => (Some(*check), None),
        (None, Some(path)) if path.exists() => (Some(read_key_check(path)?), None),
        // Only an append may start a stream's key check: reading with an unchecked key would
        // otherwise store that key's value, and a wrong key would lock the right one out.
        (None, Some(path)) if direction == Direction::Open => {
            return Err(CliError::new(
                "key_check_missing",
                format!(
                    "key-check file {} does not exist (the stream's first seal creates it)",
                    path.display()
                ),
            ));
        }
        (None, Some(path)) => (None, Some(path.clone())),
        (None, None) => (None, None),
    };
    if stored.is_some_and(|stored| stored != *sealer.key_check()) {
        return Err(stream_error(StreamError::WrongKey));
    }
    Ok((sealer, first_append))
}

fn read_key_check(path: &Path) -> Result<KeyCheck, CliError> {
    // Not secret, but read as a secret file is for its 16 MiB cap: the path comes from the command
    // line and may name something endless (the wipe costs nothing at this size).
    let text = io::read_secret_file(path)?;
    String::from_utf8_lossy(&text)
        .trim()
        .parse()
        .map_err(stream_error)
}

/// Stores the key-check value of a stream's first record. The file is created exclusively: when
/// another first append won the race, its value is the stream's, and this key must match it.
fn store_key_check(path: &Path, check: &KeyCheck) -> Result<(), CliError> {
    let line = format!("{check}\n");
    // Shared like a public key: the value is safe to store beside the stream's metadata, and a
    // reader running as another user must be able to check its key against it.
    let staged = NewFile::stage(path, line.as_bytes(), Access::Shared)?;
    match staged.create() {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if read_key_check(path)? == *check {
                Ok(())
            } else {
                Err(stream_error(StreamError::WrongKey))
            }
        }
        Err(e) => Err(CliError::io(&format!("writing {}", path.display()), e)),
    }
}

fn sealer(args: &StreamArgs) -> Result<RecordSealer, CliError> {
    let mut identity = StreamIdentity::new(&args.basin, &args.stream).map_err(stream_error)?;
    if let Some(incarnation) = &args.incarnation {
        identity = identity
            .with_incarnation(incarnation.as_bytes())
            .map_err(stream_error)?;
    }
    let key = read_key(args)?;
    let spec = StreamSpec::encrypted(args.cipher);
    let sealer = spec.sealer(key.as_deref().map(String::as_str), &identity, None);
    Ok(sealer
        .map_err(key_error)?
        .expect("an encrypted stream always has a sealer"))
}

/// A refused key: S2's message, then where the key comes from here and what it must be.
fn key_error(error: StreamError) -> CliError {
    let hint = match error {
        StreamError::MissingKey { .. } => {
            "set S2_ENCRYPTION_KEY or pass --encryption-key-file; `sealkit keygen` makes a key"
        }
        StreamError::InvalidKey { .. } | StreamError::InvalidKeyLength { .. } => {
            "the key in S2_ENCRYPTION_KEY or --encryption-key-file is 32 bytes in padded standard \
             base64, as `sealkit keygen` prints it"
        }
        _ => return stream_error(error),
    };
    CliError::new(error.code(), format!("{error} ({hint})"))
}

/// The key header value: the key file's contents, else `S2_ENCRYPTION_KEY`, else none.
fn read_key(args: &StreamArgs) -> Result<Option<Zeroizing<String>>, CliError> {
    match &args.encryption_key_file {
        Some(path) => {
            let bytes = io::read_secret_file(path)?;
            Ok(Some(io::lossy_utf8(&bytes)))
        }
        None => Ok(io::env_secret(KEY_ENV)),
    }
}

fn stream_error(error: StreamError) -> CliError {
    CliError::new(error.code(), &error)
}
