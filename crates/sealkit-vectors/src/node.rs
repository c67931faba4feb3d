//! Runs the Node.js scripts that interop tests and benchmarks check our output against (the
//! references' own runtime: Node's `crypto` and WebCrypto).

use std::fmt;
use std::io::Write as _;
use std::process::{Command, ExitStatus, Stdio};

/// Why a Node script gave no output.
#[derive(Debug)]
#[non_exhaustive]
pub enum NodeError {
    /// `node` could not be started: most likely not installed or not on `PATH`.
    NotInstalled(std::io::Error),
    /// The script exited unsuccessfully.
    Failed {
        /// How it exited.
        status: ExitStatus,
        /// What it wrote to its standard error.
        stderr: String,
    },
    /// Feeding the script its input or collecting its output failed.
    Io(std::io::Error),
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotInstalled(e) => write!(f, "cannot run node ({e})"),
            Self::Failed { status, stderr } => write!(f, "node {status}: {}", stderr.trim_end()),
            Self::Io(e) => write!(f, "talking to node failed: {e}"),
        }
    }
}

impl std::error::Error for NodeError {}

/// Runs `node ARGS…` with `input` on its standard input and returns its standard output.
///
/// The input is written from its own thread while the output is collected, so a script may print
/// (or fail loudly) before it has read all of its input without either side waiting on the other.
pub fn run(args: &[&str], input: &[u8]) -> Result<Vec<u8>, NodeError> {
    let mut child = Command::new("node")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(NodeError::NotInstalled)?;
    let stdin = child.stdin.take();
    let (written, output) = std::thread::scope(|scope| {
        // Dropping stdin at the end of the write closes it, which marks the end of the input.
        let writer = stdin.map(|mut stdin| scope.spawn(move || stdin.write_all(input)));
        let output = child.wait_with_output();
        let written = writer.map_or(Ok(()), |writer| {
            writer.join().unwrap_or_else(|_| {
                Err(std::io::Error::other("the thread writing to node panicked"))
            })
        });
        (written, output)
    });
    let output = output.map_err(NodeError::Io)?;
    // A script that failed before reading its input also breaks the pipe: its own error says more.
    if !output.status.success() {
        return Err(NodeError::Failed {
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    written.map_err(NodeError::Io)?;
    Ok(output.stdout)
}

/// [`run`] for an interop test: `None`, after printing a skip line, when `node` is not installed
/// and `CI` is not set.
///
/// # Panics
///
/// When `CI` is set and `node` cannot be started (a CI run must execute the interop tests), and
/// whenever the script fails: that is a finding, not a reason to skip.
pub fn run_or_skip(test: &str, args: &[&str], input: &[u8]) -> Option<Vec<u8>> {
    match run(args, input) {
        Ok(stdout) => Some(stdout),
        Err(NodeError::NotInstalled(e)) => {
            assert!(
                !crate::is_ci(),
                "{test}: node is required under CI for the interop test ({e})"
            );
            crate::print_skip(test, &format_args!("cannot run node ({e})"));
            None
        }
        Err(e) => panic!("{test}: {e}"),
    }
}
