//! Process I/O shared by every command: stdin as bytes, stdout written exactly, secrets from the
//! environment or a file (never from a flag value, which `ps` would show).

use std::io::{Read, Write};
use std::path::Path;

use zeroize::Zeroizing;

use crate::failure::CliError;

/// All of stdin.
pub fn read_stdin() -> Result<Vec<u8>, CliError> {
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut buf)
        .map_err(|e| CliError::io("reading stdin", e))?;
    Ok(buf)
}

/// All of stdin, for input that is itself secret (wiped when dropped).
pub fn read_stdin_secret() -> Result<Zeroizing<Vec<u8>>, CliError> {
    read_stdin().map(Zeroizing::new)
}

/// All of stdin with exactly one trailing newline (`\n` or `\r\n`) removed, if there is one.
pub fn read_stdin_line() -> Result<Vec<u8>, CliError> {
    let mut buf = read_stdin()?;
    strip_one_newline(&mut buf);
    Ok(buf)
}

/// Removes one trailing `\n` or `\r\n`.
pub fn strip_one_newline(buf: &mut Vec<u8>) {
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
}

/// Writes `bytes` to stdout exactly (no newline added) and flushes.
pub fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| CliError::io("writing stdout", e))
}

/// Writes one line of text (with a trailing newline) to stdout.
pub fn print_line(text: &str) -> Result<(), CliError> {
    let mut line = String::with_capacity(text.len() + 1);
    line.push_str(text);
    line.push('\n');
    write_stdout(line.as_bytes())
}

/// A secret environment variable as raw OS bytes, lossily UTF-8 (as Node reads it); `None` if unset.
pub fn env_secret(name: &str) -> Option<Zeroizing<String>> {
    std::env::var_os(name).map(|v| Zeroizing::new(v.to_string_lossy().into_owned()))
}

/// A secret file's contents (wiped when dropped).
pub fn read_secret_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, CliError> {
    std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|e| CliError::io(&format!("reading {}", path.display()), e))
}

/// A whole file.
pub fn read_file(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::io(&format!("reading {}", path.display()), e))
}

/// Creates `path` with `bytes`, failing with `AlreadyExists` if it exists (never replacing a file).
pub fn create_new_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    if written.is_err() {
        // A half-written file would be taken for a stored value by the next command.
        let _ = std::fs::remove_file(path);
    }
    written
}

/// Writes a whole file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes).map_err(|e| CliError::io(&format!("writing {}", path.display()), e))
}
