//! Output files, written so that a failed command loses nothing and leaves nothing half-done.
//!
//! A new file is written in full and synced under a temporary name in its destination's directory
//! ([`NewFile`]) and published only once the command has everything else ready; a command that
//! fails before publishing leaves no trace. A file that replaces another ([`Replacement`]) is
//! staged the same way and renamed over the old one. The commands publish in this order: new files
//! first ([`NewFile::publish`], whose [`CreatedFile`] is removed again unless the command
//! completes), then stdout, and last the one step that cannot be undone, a replacement.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::failure::CliError;

/// Who may read an output file.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Private keys and registries: mode 0600 for a new file; a replaced file keeps its owner and
    /// group and their permissions, loses any permission for others, and is never replaced by
    /// anyone who cannot keep its owner and group.
    Private,
    /// Public keys, key-check values, ciphertext: the permissions any new file gets (0666 less
    /// the umask); a replaced file keeps its owner, group and mode.
    Shared,
}

/// A new file's complete contents under a temporary name beside its destination, not yet there.
pub struct NewFile<'a> {
    temp: tempfile::NamedTempFile,
    path: PathBuf,
    bytes: &'a [u8],
    access: Access,
}

impl<'a> NewFile<'a> {
    /// Stages `bytes` for a new file at `path`.
    pub fn stage(path: &Path, bytes: &'a [u8], access: Access) -> Result<Self, CliError> {
        let temp =
            staged_copy(parent_dir(path), bytes, access).map_err(|e| write_error(path, e))?;
        Ok(Self {
            temp,
            path: path.to_path_buf(),
            bytes,
            access,
        })
    }

    /// Creates the file, which must not exist yet: an existing file (a key, say) is never
    /// replaced. The temporary name is removed either way.
    pub fn publish(self) -> Result<CreatedFile, CliError> {
        self.create_unsynced().map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                already_exists(&self.path)
            } else {
                write_error(&self.path, e)
            }
        })?;
        // From here on the file is ours to remove if anything fails, syncing included.
        let created = CreatedFile {
            path: Some(self.path.clone()),
        };
        sync_dir(&self.path).map_err(|e| write_error(&self.path, e))?;
        Ok(created)
    }

    /// Creates the file, durably, with the raw I/O error: `AlreadyExists` when another process got
    /// there first, for a caller that treats an existing file as an answer (the key-check file).
    pub fn create(&self) -> std::io::Result<()> {
        self.create_unsynced()?;
        sync_dir(&self.path)
    }

    fn create_unsynced(&self) -> std::io::Result<()> {
        // A hard link either creates the file complete or fails because it exists, so another
        // process never sees it empty or half-written.
        match std::fs::hard_link(self.temp.path(), &self.path) {
            Ok(()) => Ok(()),
            Err(e) if no_hard_links(&e) => self.create_in_place(),
            Err(e) => Err(e),
        }
    }

    /// Filesystems without hard links (FAT, many network and FUSE mounts): the file is created
    /// exclusively and written in place. Nothing is replaced, but a reader may see it incomplete.
    fn create_in_place(&self) -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(new_file_mode(self.access));
        }
        #[cfg(not(unix))]
        let _ = self.access;
        let mut file = options.open(&self.path)?;
        let written = file.write_all(self.bytes).and_then(|()| file.sync_all());
        if written.is_err() {
            let _ = std::fs::remove_file(&self.path);
        }
        written
    }
}

/// A file that replaces whatever is at its path: staged and renamed over the old one, so an
/// interrupted command leaves the old file whole.
pub struct Replacement<'a> {
    plan: Plan<'a>,
    shown: PathBuf,
}

enum Plan<'a> {
    Rename {
        temp: tempfile::NamedTempFile,
        target: PathBuf,
    },
    /// Not a regular file (a device, a pipe, `/dev/stdout`), or a shared file that only its
    /// contents may be changed in (someone else's, in a directory we cannot replace it in): written
    /// in place, as `std::fs::write` would.
    InPlace { target: PathBuf, bytes: &'a [u8] },
}

impl<'a> Replacement<'a> {
    /// Stages `bytes` to replace the file at `path` (or create it). A symbolic link at `path` is
    /// followed: the file it points to is replaced. The new file takes the old one's owner, group
    /// and mode as `access` says; a private file that cannot keep them is refused with nothing
    /// changed.
    pub fn stage(path: &Path, bytes: &'a [u8], access: Access) -> Result<Self, CliError> {
        let error = |e| write_error(path, e);
        let shown = path.to_path_buf();
        let old = match std::fs::metadata(path) {
            Ok(old) => old,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let temp = staged_copy(parent_dir(path), bytes, access).map_err(error)?;
                let target = path.to_path_buf();
                return Ok(Self {
                    plan: Plan::Rename { temp, target },
                    shown,
                });
            }
            Err(e) => return Err(error(e)),
        };
        let target = std::fs::canonicalize(path).map_err(error)?;
        let in_place = |target| {
            Ok(Self {
                plan: Plan::InPlace { target, bytes },
                shown: path.to_path_buf(),
            })
        };
        if !old.is_file() {
            return in_place(target);
        }
        let temp = match staged_copy(parent_dir(&target), bytes, access) {
            Ok(temp) => temp,
            Err(e)
                if access == Access::Shared && e.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                return in_place(target);
            }
            Err(e) => return Err(error(e)),
        };
        #[cfg(unix)]
        if let Err(e) = keep_ownership(temp.as_file(), &old, access) {
            return match access {
                Access::Shared => in_place(target),
                Access::Private => Err(CliError::io(
                    &format!(
                        "keeping the owner and group of {} (run as its owner; nothing was changed)",
                        path.display()
                    ),
                    e,
                )),
            };
        }
        Ok(Self {
            plan: Plan::Rename { temp, target },
            shown,
        })
    }

    /// Puts the new contents in place. Durable once the directory entry is synced.
    pub fn publish(self) -> Result<(), CliError> {
        let error = |e| write_error(&self.shown, e);
        match self.plan {
            Plan::Rename { temp, target } => {
                temp.persist(&target).map_err(|e| error(e.error))?;
                sync_dir(&target).map_err(error)
            }
            Plan::InPlace { target, bytes } => {
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(&target)
                    .map_err(error)?;
                file.write_all(bytes).map_err(error)?;
                if file.metadata().map_err(error)?.is_file() {
                    file.sync_all().map_err(error)?;
                }
                Ok(())
            }
        }
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

/// Whether two output paths name the same file however they are spelt (`a.pem`, `./a.pem`, a
/// symbolic link to the directory), so a command can refuse to write both to one place.
pub fn same_destination(a: &Path, b: &Path) -> bool {
    let resolved = |path: &Path| -> PathBuf {
        if let Ok(full) = std::fs::canonicalize(path) {
            return full;
        }
        match (std::fs::canonicalize(parent_dir(path)), path.file_name()) {
            (Ok(dir), Some(name)) => dir.join(name),
            _ => path.to_path_buf(),
        }
    };
    resolved(a) == resolved(b)
}

/// `bytes` in a new temporary file in `dir`, synced.
fn staged_copy(
    dir: &Path,
    bytes: &[u8],
    access: Access,
) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".sealkit-").suffix(".tmp");
    // tempfile's default is mode 0600 with a name nobody else can claim; a shared file is created
    // as `std::fs::write` would create it, the umask applying.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(new_file_mode(access)));
    }
    #[cfg(not(unix))]
    let _ = access;
    let mut temp = builder.tempfile_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    Ok(temp)
}

#[cfg(unix)]
fn new_file_mode(access: Access) -> u32 {
    match access {
        Access::Private => 0o600,
        Access::Shared => 0o666,
    }
}

/// Filesystems that have no hard links answer `link` with EPERM, ENOSYS or EOPNOTSUPP (which std
/// leaves uncategorised).
fn no_hard_links(error: &std::io::Error) -> bool {
    /// EOPNOTSUPP (= ENOTSUP) on Linux.
    #[cfg(target_os = "linux")]
    const NOT_SUPPORTED: Option<i32> = Some(95);
    #[cfg(not(target_os = "linux"))]
    const NOT_SUPPORTED: Option<i32> = None;
    matches!(
        error.kind(),
        std::io::ErrorKind::Unsupported | std::io::ErrorKind::PermissionDenied
    ) || (NOT_SUPPORTED.is_some() && error.raw_os_error() == NOT_SUPPORTED)
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
) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    let current = file.metadata()?;
    if (current.uid(), current.gid()) != (old.uid(), old.gid()) {
        std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid()))?;
    }
    let mode = match access {
        Access::Private => (old.mode() & 0o660) | 0o600,
        Access::Shared => old.mode() & 0o7777,
    };
    file.set_permissions(std::fs::Permissions::from_mode(mode))
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
