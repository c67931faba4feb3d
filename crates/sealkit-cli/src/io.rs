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
    read_secret(std::io::stdin().lock(), "reading stdin", usize::MAX)
}

/// Everything `source` holds, for input that is itself secret (wiped when dropped). The buffer is
/// grown by hand: `read_to_end` (and `fs::read` of a pipe, `/dev/stdin` or a process substitution,
/// whose size is unknown) would free each outgrown buffer without wiping it.
fn read_secret(
    mut source: impl Read,
    what: &str,
    limit: usize,
) -> Result<Zeroizing<Vec<u8>>, CliError> {
    // At least the size of stdin's own buffer, so reads bypass it and leave no copy there.
    const CHUNK: usize = 8 * 1024;
    let mut buf = Zeroizing::new(Vec::with_capacity(CHUNK));
    let mut chunk = Zeroizing::new([0u8; CHUNK]);
    loop {
        let n = match source.read(chunk.as_mut_slice()) {
            Ok(0) => return Ok(buf),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CliError::io(what, e)),
        };
        if n > limit - buf.len() {
            return Err(CliError::new(
                "io",
                format!(
                    "{what}: more than {} MiB, more than any key, token, registry or key-check file holds",
                    limit >> 20
                ),
            ));
        }
        if buf.capacity() - buf.len() < n {
            let mut bigger = Zeroizing::new(Vec::with_capacity(
                buf.capacity().saturating_mul(2).max(buf.len() + n),
            ));
            bigger.extend_from_slice(&buf);
            buf = bigger;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
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
/// The text is written as it is, not copied (it may be a private key).
pub fn print_line(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(|e| CliError::io("writing stdout", e))
}

/// A secret environment variable as raw OS bytes, lossily UTF-8 (as Node reads it); `None` if unset.
pub fn env_secret(name: &str) -> Option<Zeroizing<String>> {
    // Taken over without a copy when it is UTF-8; otherwise the raw bytes are wiped once the
    // lossy copy exists.
    std::env::var_os(name).map(|value| match value.into_string() {
        Ok(text) => Zeroizing::new(text),
        Err(raw) => lossy_utf8(&Zeroizing::new(raw.into_encoded_bytes())),
    })
}

/// `String::from_utf8_lossy` into a buffer sized once (each invalid byte becomes at most three),
/// so no outgrown copy of the secret is freed unwiped.
pub fn lossy_utf8(raw: &[u8]) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::with_capacity(raw.len() * 3));
    for chunk in raw.utf8_chunks() {
        text.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            text.push(char::REPLACEMENT_CHARACTER);
        }
    }
    text
}

/// The most a secret file may hold: a registry of hundreds of RSA-4096 key pairs fits many times
/// over, and a path naming `/dev/zero` or a disk image fails with one error line instead of
/// running the process out of memory.
const MAX_SECRET_FILE_LEN: usize = 16 << 20;

/// A secret file's contents (wiped when dropped), also when the "file" is a pipe.
pub fn read_secret_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let what = format!("reading {}", path.display());
    let file = std::fs::File::open(path).map_err(|e| CliError::io(&what, e))?;
    read_secret(file, &what, MAX_SECRET_FILE_LEN)
}

/// A whole file.
pub fn read_file(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::io(&format!("reading {}", path.display()), e))
}
