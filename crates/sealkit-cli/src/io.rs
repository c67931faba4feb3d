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

/// Creates `path` holding `bytes`, failing with `AlreadyExists` if it exists (never replacing a
/// file). The bytes are written and synced under a temporary name first and then published with a
/// hard link, which either creates `path` complete or fails because it exists: another process
/// never sees an empty or half-written file, and a kill leaves at most a stray temporary file.
pub fn create_new_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut staged = tempfile::Builder::new()
        .prefix(".sealkit-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    staged.write_all(bytes)?;
    staged.as_file().sync_all()?;
    std::fs::hard_link(staged.path(), path)
    // Dropping `staged` removes the temporary name; the published file keeps the contents.
}

/// Writes a whole file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes).map_err(|e| CliError::io(&format!("writing {}", path.display()), e))
}
