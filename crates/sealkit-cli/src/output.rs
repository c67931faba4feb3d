//! Output files, written so that a failed command loses nothing and leaves nothing half-done.
//!
//! Every file is first written in full and synced under a temporary name in its destination's
//! directory ([`StagedFile`]), and only published once the command has everything else ready. A
//! command that fails before publishing leaves no trace (dropping a staged file removes it). The
//! commands publish in this order: new files first ([`StagedFile::publish_new`], which returns a
//! [`CreatedFile`] that is removed again unless the command completes), then stdout, and last the
//! one step that cannot be undone, replacing an existing file ([`StagedFile::publish_replace`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::failure::CliError;

/// Who may read an output file.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Private keys and registries: mode 0600 for a new file; a replaced file keeps its owner and
    /// group and their permissions, and loses any permission for others.
    Private,
    /// Public keys, key-check values, ciphertext: the permissions any new file gets (0666 less
    /// the umask); a replaced file keeps its owner, group and mode.
    Shared,
}

/// A file's complete contents under a temporary name beside its destination, not yet published.
pub struct StagedFile {
    temp: tempfile::NamedTempFile,
    /// Where it is published: `path` itself, or the file a symbolic link at `path` points to.
    target: PathBuf,
    /// The path as the operator wrote it, for messages.
    shown: PathBuf,
}

impl StagedFile {
    /// Stages a file that [`StagedFile::publish_new`] will create at `path`.
    pub fn new_file(path: &Path, bytes: &[u8], access: Access) -> Result<Self, CliError> {
        Self::stage(path, path.to_path_buf(), None, bytes, access)
    }

    /// Stages a file that [`StagedFile::publish_replace`] will put at `path`, replacing any file
    /// there. A symbolic link at `path` is followed (the file it points to is replaced), and the
    /// new file takes the old one's owner, group and mode as `access` says; when that cannot be
    /// done, nothing is staged.
    pub fn replacement(path: &Path, bytes: &[u8], access: Access) -> Result<Self, CliError> {
        match std::fs::metadata(path) {
            Ok(old) => {
                let target = std::fs::canonicalize(path).map_err(|e| write_error(path, e))?;
                Self::stage(path, target, Some(old), bytes, access)
            }
            Err(_) => Self::stage(path, path.to_path_buf(), None, bytes, access),
        }
    }

    fn stage(
        shown: &Path,
        target: PathBuf,
        existing: Option<std::fs::Metadata>,
        bytes: &[u8],
        access: Access,
    ) -> Result<Self, CliError> {
        let error = |e| write_error(shown, e);
        let mut builder = tempfile::Builder::new();
        builder.prefix(".sealkit-").suffix(".tmp");
        // tempfile's default is mode 0600 with a name nobody else can claim; a shared file is
        // created as `std::fs::write` would create it, the umask applying.
        #[cfg(unix)]
        if access == Access::Shared {
            use std::os::unix::fs::PermissionsExt as _;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let mut temp = builder.tempfile_in(parent_dir(&target)).map_err(error)?;
        #[cfg(unix)]
        if let Some(old) = &existing {
            keep_ownership(temp.as_file(), old, access, shown)?;
        }
        #[cfg(not(unix))]
        let _ = (existing, access);
        temp.write_all(bytes)
            .and_then(|()| temp.as_file().sync_all())
            .map_err(error)?;
        Ok(Self {
            temp,
            target,
            shown: shown.to_path_buf(),
        })
    }

    /// Publishes the file at its path, which must not exist yet: a hard link either creates it
    /// complete or fails, so another process never sees it empty or half-written, and an existing
    /// file (a key, say) is never replaced. The temporary name is removed either way.
    pub fn publish_new(self) -> Result<CreatedFile, CliError> {
        self.link_new().map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                already_exists(&self.shown)
            } else {
                write_error(&self.shown, e)
            }
        })?;
        Ok(CreatedFile {
            path: Some(self.target),
        })
    }

    /// The same as [`StagedFile::publish_new`], with the raw I/O error: for a caller that treats
    /// an existing file as an answer rather than a failure.
    pub fn link_new(&self) -> std::io::Result<()> {
        std::fs::hard_link(self.temp.path(), &self.target)?;
        sync_dir(&self.target)
    }

    /// Publishes the file at its path, replacing any file there in one rename: an interrupted
    /// command leaves the old file whole. Durable once the directory entry is synced.
    pub fn publish_replace(self) -> Result<(), CliError> {
        let shown = self.shown;
        let target = self.target;
        self.temp
            .persist(&target)
            .map_err(|e| write_error(&shown, e.error))?;
        sync_dir(&target).map_err(|e| write_error(&shown, e))
    }
}

/// A file this command created. It is removed again when dropped before [`CreatedFile::keep`], so a
/// command that fails after creating it leaves nothing behind (no private key whose id was never
/// shown, say).
pub struct CreatedFile {
    path: Option<PathBuf>,
}

impl CreatedFile {
    /// The command completed: the file stays.
    pub fn keep(mut self) {
        self.path = None;
    }
}

impl Drop for CreatedFile {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            // Best effort: the command is already failing with its own error.
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Keeps every created file of a completed command.
pub fn keep_all(files: impl IntoIterator<Item = Option<CreatedFile>>) {
    files.into_iter().flatten().for_each(CreatedFile::keep);
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn sync_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(parent_dir(path))?.sync_all()?;
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Gives the staged file the owner and group of the file it will replace (a registry owned by a
/// service account stays readable by that service when an operator rotates it with `sudo`), and
/// its mode; a private file loses any permission for others.
#[cfg(unix)]
fn keep_ownership(
    file: &std::fs::File,
    old: &std::fs::Metadata,
    access: Access,
    path: &Path,
) -> Result<(), CliError> {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid())).map_err(|e| {
        CliError::io(
            &format!(
                "keeping the owner and group of {} (run as its owner; nothing was changed)",
                path.display()
            ),
            e,
        )
    })?;
    let mode = match access {
        Access::Private => (old.mode() & 0o660) | 0o600,
        Access::Shared => old.mode() & 0o7777,
    };
    file.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(|e| write_error(path, e))
}

fn write_error(path: &Path, error: std::io::Error) -> CliError {
    CliError::io(&format!("writing {}", path.display()), error)
}

fn already_exists(path: &Path) -> CliError {
    CliError::new(
        "output_exists",
        format!(
            "{} already exists; sealkit does not replace it (move it away or choose another path)",
            path.display()
        ),
    )
}
