//! `sealkit keygen`: a fresh 32-byte key, printed as `openssl rand -base64 32` prints one.

use std::process::ExitCode;

use base64ct::{Base64, Encoding as _};
use rand::TryRng as _;
use zeroize::Zeroizing;

use crate::failure::{CliError, CliResult};
use crate::io;

/// Flags of `sealkit keygen`.
#[derive(clap::Args)]
pub struct Args {
    /// Standard padded base64 output (the default, and the only encoding; accepted for scripts that
    /// spell it out).
    #[arg(long)]
    base64: bool,
}

/// Prints 32 bytes from the operating system's CSPRNG.
pub fn run(args: Args) -> CliResult {
    let _ = args.base64;
    let mut key = Zeroizing::new([0u8; 32]);
    rand::rngs::SysRng
        .try_fill_bytes(key.as_mut())
        .map_err(|e| {
            CliError::new(
                "rng",
                format!("the operating system's random source failed: {e}"),
            )
        })?;
    // Encoded in constant time (base64ct, as for all key material) into a wiped buffer of the
    // exact size: 32 bytes are always 44 characters of padded base64.
    let mut text = Zeroizing::new([0u8; 44]);
    let encoded = Base64::encode(key.as_ref(), text.as_mut())
        .map_err(|_| CliError::new("internal", "32 bytes did not fit 44 base64 characters"))?;
    io::print_line(encoded)?;
    Ok(ExitCode::SUCCESS)
}
