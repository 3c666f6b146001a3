//! The canonical bundle digest.
//!
//! `sha256:<hex>` of the lines `<sha256 of file>  <relative path>\n`, one per
//! regular file, sorted by the bytes of the path: exactly what
//!
//! ```text
//! cd agents/NAME && find . -type f -printf '%P\n' | LC_ALL=C sort \
//!   | xargs -d '\n' sha256sum | sha256sum
//! ```
//!
//! prints, so anyone can recompute it with coreutils. Anything that pipeline
//! would treat differently from what a reader expects is refused instead of
//! silently digested: symlinks (find skips them, so content could hide behind
//! one), sockets and devices, names with a newline or backslash (which
//! sha256sum escapes), and top-level names starting with `-` (which
//! sha256sum would take for an option). Names must be UTF-8 so they can be shown and stored.

use sha2::{Digest as _, Sha256};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why a directory could not be digested.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    /// A file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// What could not be read.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A symlink inside the bundle.
    #[error("{path} is a symlink; bundles hold regular files only")]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// A socket, FIFO or device inside the bundle.
    #[error("{path} is not a regular file or directory")]
    Special {
        /// The node.
        path: PathBuf,
    },
    /// A file name the coreutils pipeline cannot represent.
    #[error("{path}: {reason}")]
    BadName {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// A sha256 digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Hash(pub [u8; 32]);

impl fmt::Display for Sha256Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// One file of a digested bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHash {
    /// Path relative to the bundle root, `/`-separated.
    pub path: String,
    /// sha256 of the file's bytes.
    pub hash: Sha256Hash,
    /// Size in bytes.
    pub size: u64,
}

/// The digest of a bundle directory, with the per-file hashes it was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleDigest {
    /// `sha256:<hex>`.
    pub digest: String,
    /// Every file, sorted by path bytes.
    pub files: Vec<FileHash>,
}

/// The file list of a directory in digest order, refusing what the digest refuses.
pub fn list_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, DigestError> {
    // walkdir follows a root that is a link; a linked bundle or release
    // directory would digest content from anywhere.
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(DigestError::Symlink { path: dir.into() });
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).min_depth(1).follow_links(false) {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_path_buf();
            DigestError::Io {
                path,
                source: e
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("filesystem loop")),
            }
        })?;
        let ft = entry.file_type();
        let path = entry.path();
        if ft.is_dir() {
            continue;
        }
        if ft.is_symlink() {
            return Err(DigestError::Symlink { path: path.into() });
        }
        if !ft.is_file() {
            return Err(DigestError::Special { path: path.into() });
        }
        let rel = path.strip_prefix(dir).unwrap_or(path);
        let Some(rel_str) = rel.to_str() else {
            return Err(DigestError::BadName {
                path: path.into(),
                reason: "file name is not valid UTF-8",
            });
        };
        if rel_str.contains('\n') || rel_str.contains('\r') {
            return Err(DigestError::BadName {
                path: path.into(),
                reason: "file name contains a line break",
            });
        }
        if rel_str.starts_with('-') {
            return Err(DigestError::BadName {
                path: path.into(),
                reason: "file name starts with a dash (sha256sum would read it as an option)",
            });
        }
        if rel_str.contains('\\') {
            return Err(DigestError::BadName {
                path: path.into(),
                reason: "file name contains a backslash",
            });
        }
        let rel_str = if std::path::MAIN_SEPARATOR == '/' {
            rel_str.to_string()
        } else {
            rel_str.replace(std::path::MAIN_SEPARATOR, "/")
        };
        files.push((rel_str, path.to_path_buf()));
    }
    files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(files)
}

/// Hash one file's bytes.
pub fn hash_file(path: &Path) -> Result<(Sha256Hash, u64), DigestError> {
    let io = |source| DigestError::Io {
        path: path.to_path_buf(),
        source,
    };
    // Not through a link, and never blocking on a FIFO swapped in after
    // the directory was listed.
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(io)?;
    if !file.metadata().map_err(io)?.is_file() {
        return Err(DigestError::Special { path: path.into() });
    }
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((Sha256Hash(hasher.finalize().into()), size))
}

/// Hash bytes already in memory.
pub fn hash_bytes(bytes: &[u8]) -> Sha256Hash {
    Sha256Hash(Sha256::digest(bytes).into())
}

/// Combine per-file hashes (sorted by path) into the bundle digest.
pub fn combine<'a>(files: impl IntoIterator<Item = (&'a str, &'a Sha256Hash)>) -> String {
    let mut outer = Sha256::new();
    for (path, hash) in files {
        outer.update(hash.to_string().as_bytes());
        outer.update(b"  ");
        outer.update(path.as_bytes());
        outer.update(b"\n");
    }
    format!("sha256:{}", Sha256Hash(outer.finalize().into()))
}

/// Digest a bundle directory.
pub fn digest_dir(dir: &Path) -> Result<BundleDigest, DigestError> {
    let listed = list_files(dir)?;
    let mut files = Vec::with_capacity(listed.len());
    for (rel, full) in listed {
        let (hash, size) = hash_file(&full)?;
        files.push(FileHash {
            path: rel,
            hash,
            size,
        });
    }
    let digest = combine(files.iter().map(|f| (f.path.as_str(), &f.hash)));
    Ok(BundleDigest { digest, files })
}

/// Whether `s` looks like `sha256:` and 64 lowercase hex digits.
pub fn is_well_formed(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_directory_digest_is_sha256_of_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = digest_dir(dir.path()).expect("digest");
        assert_eq!(
            d.digest,
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(is_well_formed(&d.digest));
    }

    #[test]
    fn sort_is_by_full_path_bytes_not_per_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("a")).expect("mkdir");
        std::fs::write(dir.path().join("a/b"), "1").expect("write");
        std::fs::write(dir.path().join("a-c"), "2").expect("write");
        let names: Vec<_> = list_files(dir.path())
            .expect("list")
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["a-c", "a/b"]);
    }
}
