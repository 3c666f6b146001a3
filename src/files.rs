//! Reading and writing repository files without following links.
//!
//! The repository is written by whoever gets a pull request merged, so any
//! path in it may have been committed as a symlink (to `~/.ssh`, to
//! `/dev/zero`, to `/etc/shadow`) or replaced by a FIFO. Every file agentctl
//! consumes from a repository or writes into one goes through here:
//!
//! - a write checks that each component below the repository root is a real
//!   directory (creating missing ones one at a time, never through a link),
//!   refuses a target that is a link or a directory, writes an exclusively
//!   created temporary sibling and renames it into place;
//! - a read refuses a link anywhere below the root, opens without following
//!   one and without blocking (a FIFO answers at once), requires a regular
//!   file, and enforces its size limit while reading, not after.
//!
//! Temporary files carry [`TEMP_MARK`] in their name so that recovery can
//! remove the ones a killed process left (see `repo::transaction`).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

/// Part of every temporary file's name: `.NAME.agentctl-tmp-PID-N`.
pub const TEMP_MARK: &str = ".agentctl-tmp-";

/// Why a repository file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// A component of the path is a symbolic link.
    #[error(
        "{path} is a symbolic link; agentctl never reads or writes through links in a repository"
    )]
    Link {
        /// The link.
        path: PathBuf,
    },
    /// The path is not a regular file (a FIFO, device, socket or directory).
    #[error("{path} is {kind}, not a regular file")]
    NotRegular {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// The file is larger than its limit.
    #[error("{path} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// The relative path leaves the repository (`..`, an absolute path).
    #[error("{path} is not a plain path inside the repository")]
    Outside {
        /// The path as given.
        path: PathBuf,
    },
    /// The operating system refused.
    #[error("{path}: {}", io_words(source))]
    Io {
        /// The file.
        path: PathBuf,
        /// What happened.
        #[source]
        source: io::Error,
    },
}

impl FileError {
    /// The I/O error kind, when this is one.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            FileError::Io { source, .. } => Some(source.kind()),
            _ => None,
        }
    }

    /// Whether the repository could not be written at all (a read-only
    /// checkout or file system).
    pub fn is_read_only(&self) -> bool {
        match self {
            FileError::Io { source, .. } => {
                source.kind() == io::ErrorKind::PermissionDenied
                    || source.kind() == io::ErrorKind::ReadOnlyFilesystem
            }
            _ => false,
        }
    }
}

/// Words for an I/O error that name what happened ("no space left on device").
fn io_words(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) if code == libc::ENOSPC => "no space left on device".into(),
        Some(code) if code == libc::EFBIG => {
            "file too large (a file size limit, `ulimit -f`?)".into()
        }
        Some(code) if code == libc::EDQUOT => "disk quota exceeded".into(),
        _ => e.to_string(),
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> FileError + '_ {
    move |source| FileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The plain components of `rel`, refusing `..`, roots and prefixes.
fn plain_components(rel: &Path) -> Result<Vec<&std::ffi::OsStr>, FileError> {
    let mut out = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            _ => {
                return Err(FileError::Outside {
                    path: rel.to_path_buf(),
                });
            }
        }
    }
    if out.is_empty() {
        return Err(FileError::Outside {
            path: rel.to_path_buf(),
        });
    }
    Ok(out)
}

fn kind_of(ft: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "a device"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}

/// Check that every directory on the way from `root` to `rel`'s parent is a
/// real directory; with `create`, make the missing ones. Returns the full
/// path of `rel`. `Ok(None)` when a directory is missing and `create` is off.
fn walk_parents(root: &Path, rel: &Path, create: bool) -> Result<Option<PathBuf>, FileError> {
    let parts = plain_components(rel)?;
    let mut dir = root.to_path_buf();
    for part in &parts[..parts.len() - 1] {
        dir.push(part);
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => return Err(FileError::Link { path: dir }),
            Ok(m) if m.is_dir() => {}
            Ok(m) => {
                return Err(FileError::NotRegular {
                    kind: kind_of(m.file_type()),
                    path: dir,
                }
                .into_not_dir());
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if !create {
                    return Ok(None);
                }
                match std::fs::create_dir(&dir) {
                    Ok(()) => {}
                    // Made by someone else meanwhile: check it again.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        let m = std::fs::symlink_metadata(&dir).map_err(io_err(&dir))?;
                        if !m.is_dir() {
                            return Err(FileError::Link { path: dir });
                        }
                    }
                    Err(e) => return Err(io_err(&dir)(e)),
                }
            }
            Err(e) => return Err(io_err(&dir)(e)),
        }
    }
    dir.push(parts[parts.len() - 1]);
    Ok(Some(dir))
}

impl FileError {
    fn into_not_dir(self) -> FileError {
        match self {
            FileError::NotRegular { path, .. } => FileError::Io {
                source: io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
                path,
            },
            e => e,
        }
    }
}

/// Write `bytes` to `root/rel` atomically, never through a link.
pub fn write(root: &Path, rel: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let path = walk_parents(root, rel, true)?.expect("walk_parents creates with create = true");
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_symlink() => return Err(FileError::Link { path }),
        Ok(m) if !m.is_file() => {
            return Err(FileError::NotRegular {
                kind: kind_of(m.file_type()),
                path,
            });
        }
        // Unchanged files are not rewritten (keeps mtimes, saves work).
        Ok(m)
            if m.len() == bytes.len() as u64
                && read_at(&path, bytes.len() as u64).is_ok_and(|old| old == bytes) =>
        {
            return Ok(());
        }
        _ => {}
    }
    let (tmp, mut file) = create_temp(&path)?;
    let written = file.write_all(bytes).and_then(|()| file.flush());
    drop(file);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err(&path)(e));
    }
    crate::fault::step();
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_err(&path)(e)
    })?;
    crate::fault::step();
    Ok(())
}

/// Create a temporary sibling of `path` exclusively (never an existing name,
/// never through a link).
fn create_temp(path: &Path) -> Result<(PathBuf, File), FileError> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = path.with_file_name(format!(".{name}{TEMP_MARK}{}-{n}", std::process::id()));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .mode(0o644)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err(&tmp)(e)),
        }
    }
}

/// Check that `root/rel` could be written by [`write`] without following a
/// link, writing nothing: every existing directory on the way is real, and
/// the target, if it exists, is a regular file.
pub fn check_writable(root: &Path, rel: &Path) -> Result<(), FileError> {
    let parts = plain_components(rel)?;
    let mut path = root.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        let last = i == parts.len() - 1;
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => return Err(FileError::Link { path }),
            Ok(m) if !last && !m.is_dir() => {
                return Err(FileError::Io {
                    source: io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
                    path,
                });
            }
            Ok(m) if last && !m.is_file() => {
                return Err(FileError::NotRegular {
                    kind: kind_of(m.file_type()),
                    path,
                });
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_err(&path)(e)),
        }
    }
    Ok(())
}

/// Remove `root/rel` if it exists, never through a link on the way.
pub fn remove(root: &Path, rel: &Path) -> Result<(), FileError> {
    let Some(path) = walk_parents(root, rel, false)? else {
        return Ok(());
    };
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_dir() => Err(FileError::NotRegular {
            kind: "a directory",
            path,
        }),
        // A link itself may be removed: that does not touch its target.
        Ok(_) => std::fs::remove_file(&path).map_err(io_err(&path)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(&path)(e)),
    }
}

/// Read `root/rel` (at most `limit` bytes), refusing links below `root` and
/// anything but a regular file. `Ok(None)` when it does not exist.
pub fn read(root: &Path, rel: &Path, limit: u64) -> Result<Option<Vec<u8>>, FileError> {
    let Some(path) = walk_parents(root, rel, false)? else {
        return Ok(None);
    };
    match read_at(&path, limit) {
        Ok(b) => Ok(Some(b)),
        Err(FileError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// [`read`] as UTF-8 text.
pub fn read_text(root: &Path, rel: &Path, limit: u64) -> Result<Option<String>, FileError> {
    let Some(bytes) = read(root, rel, limit)? else {
        return Ok(None);
    };
    let path = root.join(rel);
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| FileError::Io {
            path,
            source: io::Error::new(io::ErrorKind::InvalidData, "not valid UTF-8"),
        })
}

/// Whether `root/rel` is a regular file reached without links.
pub fn is_file(root: &Path, rel: &Path) -> bool {
    walk_parents(root, rel, false)
        .ok()
        .flatten()
        .and_then(|p| std::fs::symlink_metadata(p).ok())
        .is_some_and(|m| m.is_file())
}

/// Whether `root/rel` is a real directory reached without links.
pub fn is_dir(root: &Path, rel: &Path) -> bool {
    let Ok(parts) = plain_components(rel) else {
        return false;
    };
    let mut dir = root.to_path_buf();
    for p in parts {
        dir.push(p);
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            _ => return false,
        }
    }
    true
}

/// The first component of `rel` below `root` that is a symbolic link.
pub fn first_link(root: &Path, rel: &Path) -> Option<PathBuf> {
    let parts = plain_components(rel).ok()?;
    let mut path = root.to_path_buf();
    for part in parts {
        path.push(part);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => return Some(path),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

/// Read the file at `path` itself (the last component is not followed),
/// bounded and regular only.
pub fn read_no_follow(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    read_at(path, limit)
}

fn read_at(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                FileError::Link {
                    path: path.to_path_buf(),
                }
            } else {
                io_err(path)(e)
            }
        })?;
    read_open(file, path, limit)
}

/// Read an open file: regular only, at most `limit` bytes.
fn read_open(file: File, path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let meta = file.metadata().map_err(io_err(path))?;
    if !meta.is_file() {
        return Err(FileError::NotRegular {
            kind: kind_of(meta.file_type()),
            path: path.to_path_buf(),
        });
    }
    if meta.len() > limit {
        return Err(FileError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    bounded(file, path, limit)
}

fn bounded(reader: impl Read, path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let mut buf = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(io_err(path))?;
    if buf.len() as u64 > limit {
        return Err(FileError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(buf)
}

/// Read a file a user named on the command line (links followed: the user
/// chose the path), regular only and bounded; `-` reads standard input,
/// bounded too.
pub fn read_input(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    if path == Path::new("-") {
        return bounded(io::stdin().lock(), Path::new("<stdin>"), limit);
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io_err(path))?;
    read_open(file, path, limit)
}

/// Write a file a user named on the command line (`--output FILE`)
/// atomically: its directory is the user's choice, but the file itself is
/// never written through a link.
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| FileError::Outside {
        path: path.to_path_buf(),
    })?;
    write(parent, Path::new(name), bytes)
}

/// Whether `dir` holds agentctl temporary files (one directory read).
pub fn has_temps(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|rd| {
        rd.flatten().any(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.starts_with('.') && n.contains(TEMP_MARK)
        })
    })
}

/// Remove the temporary files a killed agentctl process left in `dir`
/// (not following links; a missing directory is fine). Call only while
/// holding the repository lock: then no live agentctl process owns them.
pub fn remove_stale_temps(dir: &Path) -> Result<usize, FileError> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => {}
        _ => return Ok(0),
    }
    let mut removed = 0;
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.contains(TEMP_MARK) {
            let p = entry.path();
            match std::fs::remove_file(&p) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&p)(e)),
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn writes_refuse_a_link_on_the_way_and_at_the_target() {
        let root = tempfile::tempdir().expect("tempdir");
        let outside = tempfile::tempdir().expect("tempdir");
        symlink(outside.path(), root.path().join("environments")).expect("symlink");
        let e = write(root.path(), Path::new("environments/dev.yaml"), b"x").unwrap_err();
        assert!(matches!(e, FileError::Link { .. }), "{e}");
        assert!(!outside.path().join("dev.yaml").exists());

        std::fs::create_dir(root.path().join("releases")).expect("mkdir");
        let victim = outside.path().join("authorized_keys");
        std::fs::write(&victim, "keep").expect("write");
        symlink(&victim, root.path().join("releases/k")).expect("symlink");
        let e = write(root.path(), Path::new("releases/k"), b"evil").unwrap_err();
        assert!(matches!(e, FileError::Link { .. }), "{e}");
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "keep");
    }

    #[test]
    fn writes_make_directories_and_leave_no_temp_file() {
        let root = tempfile::tempdir().expect("tempdir");
        write(root.path(), Path::new("a/b/c.txt"), b"hello").expect("write");
        write(root.path(), Path::new("a/b/c.txt"), b"hello again").expect("write");
        assert_eq!(
            std::fs::read(root.path().join("a/b/c.txt")).expect("read"),
            b"hello again"
        );
        let names: Vec<_> = std::fs::read_dir(root.path().join("a/b"))
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(write(root.path(), Path::new("../x"), b"").is_err());
        assert!(write(root.path(), Path::new("/etc/x"), b"").is_err());
    }

    #[test]
    fn reads_refuse_links_fifos_devices_and_oversize_files() {
        let root = tempfile::tempdir().expect("tempdir");
        symlink("/dev/zero", root.path().join("zero")).expect("symlink");
        let e = read(root.path(), Path::new("zero"), 1024).unwrap_err();
        assert!(matches!(e, FileError::Link { .. }), "{e}");
        std::fs::create_dir(root.path().join("d")).expect("mkdir");
        symlink("/etc", root.path().join("d/etc")).expect("symlink");
        let e = read(root.path(), Path::new("d/etc/passwd"), 1 << 20).unwrap_err();
        assert!(matches!(e, FileError::Link { .. }), "{e}");

        let fifo = root.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let e = read(root.path(), Path::new("fifo"), 1024).unwrap_err();
            assert!(
                matches!(e, FileError::NotRegular { kind: "a FIFO", .. }),
                "{e}"
            );
            let e = read_input(&fifo, 1024).unwrap_err();
            assert!(matches!(e, FileError::NotRegular { .. }), "{e}");
        }
        let e = read_input(Path::new("/dev/zero"), 1024).unwrap_err();
        assert!(
            matches!(
                e,
                FileError::NotRegular {
                    kind: "a device",
                    ..
                }
            ),
            "{e}"
        );

        std::fs::write(root.path().join("big"), vec![b'x'; 2048]).expect("write");
        let e = read(root.path(), Path::new("big"), 1024).unwrap_err();
        assert!(matches!(e, FileError::TooLarge { .. }), "{e}");
        assert_eq!(
            read(root.path(), Path::new("missing"), 10).expect("read"),
            None
        );
    }

    #[test]
    fn stale_temps_are_removed_and_nothing_else() {
        let root = tempfile::tempdir().expect("tempdir");
        std::fs::write(root.path().join(".dev.yaml.agentctl-tmp-42-0"), "x").expect("w");
        std::fs::write(root.path().join("dev.yaml"), "keep").expect("w");
        assert_eq!(remove_stale_temps(root.path()).expect("clean"), 1);
        assert!(root.path().join("dev.yaml").exists());
    }
}
