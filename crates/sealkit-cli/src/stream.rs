//! `sealkit stream …`: seal and open single stream records, and work with key-check values.
//!
//! The key comes from `S2_ENCRYPTION_KEY` or `--encryption-key-file` (trimmed), as the s2 CLI takes
//! it; never from a flag value.

use std::path::PathBuf;
use std::process::ExitCode;

use sealkit::stream::{
    KeyCheck, RecordSealer, StreamCipher, StreamError, StreamIdentity, StreamSpec, record,
};
use zeroize::Zeroizing;

use crate::failure::{CliError, CliResult};
use crate::io;

/// Environment variable holding the stream key (as the s2 CLI reads it).
const KEY_ENV: &str = "S2_ENCRYPTION_KEY";

/// Subcommands of `sealkit stream`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Seal the record on stdin; the sealed record goes to stdout.
    Seal(RecordArgs),
    /// Open the sealed record on stdin; the plaintext goes to stdout exactly.
    Open(RecordArgs),
    /// Print the stream's key-check value (64 hex digits), safe to store beside its metadata.
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
    /// Key-check file: verified when it exists, created with this key's value when it does not
    /// (as a server stores it with the stream's first append).
    #[arg(long, value_name = "FILE")]
    key_check_file: Option<PathBuf>,
}

/// Runs one subcommand.
pub fn run(command: Command) -> CliResult {
    match command {
        Command::Seal(args) => {
            let sealer = checked_sealer(&args)?;
            let plaintext = io::read_stdin_secret()?;
            let sealed = sealer
                .seal(&plaintext, args.seq_num)
                .map_err(stream_error)?;
            io::write_stdout(&sealed)?;
        }
        Command::Open(args) => {
            let sealer = checked_sealer(&args)?;
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

/// The stream's sealer, after the key passed the key check the flags ask for.
fn checked_sealer(args: &RecordArgs) -> Result<RecordSealer, CliError> {
    let sealer = sealer(&args.stream)?;
    let stored = match (&args.key_check, &args.key_check_file) {
        (Some(check), _) => Some(*check),
        (None, Some(path)) if path.exists() => {
            let text = io::read_file(path)?;
            let text = String::from_utf8_lossy(&text);
            Some(text.trim().parse().map_err(stream_error)?)
        }
        (None, Some(path)) => {
            io::write_file(path, format!("{}\n", sealer.key_check()).as_bytes())?;
            None
        }
        (None, None) => None,
    };
    if stored.is_some_and(|stored| stored != *sealer.key_check()) {
        return Err(stream_error(StreamError::WrongKey));
    }
    Ok(sealer)
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
        .map_err(stream_error)?
        .expect("an encrypted stream always has a sealer"))
}

/// The key header value: the key file's contents, else `S2_ENCRYPTION_KEY`, else none.
fn read_key(args: &StreamArgs) -> Result<Option<Zeroizing<String>>, CliError> {
    match &args.encryption_key_file {
        Some(path) => {
            let bytes = io::read_secret_file(path)?;
            Ok(Some(Zeroizing::new(
                String::from_utf8_lossy(&bytes).into_owned(),
            )))
        }
        None => Ok(io::env_secret(KEY_ENV)),
    }
}

fn stream_error(error: StreamError) -> CliError {
    CliError::new(error.code(), &error)
}
