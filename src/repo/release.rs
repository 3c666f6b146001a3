//! Frozen releases: `releases/NAME/VERSION/{bundle/, release.yaml}`.
//!
//! A release is a byte-for-byte copy of `agents/NAME/` at release time plus
//! a small record of what it is. Once written, a release is never rewritten:
//! the same version with the same digest is a no-op, with another digest a
//! refusal.

use super::transaction::Change;
use super::{Layout, RepoError, io_error};
use crate::digest::{self, BundleDigest};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// `release.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseMeta {
    /// Agent name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Digest of `bundle/`.
    pub digest: String,
    /// The commit `agents/NAME/` was released from (none before the first commit).
    pub source_commit: Option<String>,
    /// When (RFC 3339).
    pub created_at: String,
    /// Who.
    pub created_by: String,
}

/// The tree of `agents/NAME/` at HEAD.
fn committed_tree<'g>(
    git: &'g git2::Repository,
    prefix: &str,
    name: &str,
) -> Result<(&'g git2::Repository, git2::Tree<'g>), RepoError> {
    let head = git.head()?.peel_to_tree()?;
    let entry = head
        .get_path(Path::new(&format!("{prefix}agents/{name}")))
        .map_err(|_| RepoError::Refused {
            message: format!("agents/{name}/ is not committed"),
            hint: format!("commit it first (`git add agents/{name} && git commit`)"),
        })?;
    let tree = entry.to_object(git)?.peel_to_tree()?;
    Ok((git, tree))
}

/// `releases/NAME/VERSION`, relative to the root.
pub fn release_dir(name: &str, version: &str) -> String {
    format!("releases/{name}/{version}")
}

/// `NAME@VERSION`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReleaseRef {
    /// Agent name.
    pub name: String,
    /// Version.
    pub version: String,
}

impl ReleaseRef {
    /// Parse `NAME@VERSION`.
    pub fn parse(s: &str) -> Option<ReleaseRef> {
        let (name, version) = s.split_once('@')?;
        if !crate::bundle::readiness::is_valid_name(name)
            || semver::Version::parse(version).is_err()
        {
            return None;
        }
        Some(ReleaseRef {
            name: name.into(),
            version: version.into(),
        })
    }
}

impl std::fmt::Display for ReleaseRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

impl Layout {
    /// The directory of a release.
    pub fn release_path(&self, name: &str, version: &str) -> PathBuf {
        self.root.join(release_dir(name, version))
    }

    /// A release's bundle manifest; `None` when it does not read or parse
    /// (`verify` says why).
    pub fn release_manifest(&self, name: &str, version: &str) -> Option<crate::bundle::Manifest> {
        crate::bundle::load_manifest(&self.release_path(name, version).join("bundle"))
            .ok()
            .map(|l| l.manifest)
    }

    /// Read a release's metadata; `None` when it does not exist.
    pub fn release_meta(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Option<ReleaseMeta>, RepoError> {
        let path = self.release_path(name, version).join("release.yaml");
        let rel = format!("{}/release.yaml", release_dir(name, version));
        let Some(text) = crate::files::read_text(&self.root, Path::new(&rel), 64 * 1024)? else {
            return Ok(None);
        };
        let meta: ReleaseMeta = serde_saphyr::from_str(&text).map_err(|e| RepoError::Corrupt {
            message: format!("{}: {}", path.display(), e.without_snippet()),
            hint: "release.yaml is written by agentctl; restore it from git".into(),
        })?;
        if meta.name != name || meta.version != version {
            return Err(RepoError::Corrupt {
                message: format!(
                    "{} says {}@{}, but it lives at {name}@{version}",
                    path.display(),
                    meta.name,
                    meta.version
                ),
                hint: "releases are written by agentctl; restore the directory from git".into(),
            });
        }
        Ok(Some(meta))
    }

    /// The release that is `version` by semver precedence (build metadata
    /// ignored): `version` itself if released, else another spelling of
    /// it (`1.4.0` for `1.4.0+build.7`); `None` when neither is.
    pub fn release_meta_same_version(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Option<ReleaseMeta>, RepoError> {
        if let Some(meta) = self.release_meta(name, version)? {
            return Ok(Some(meta));
        }
        let Ok(v) = semver::Version::parse(version) else {
            return Ok(None);
        };
        for other in self.release_versions(name)? {
            if semver::Version::parse(&other)
                .is_ok_and(|o| o.cmp_precedence(&v) == std::cmp::Ordering::Equal)
            {
                return self.release_meta(name, &other);
            }
        }
        Ok(None)
    }

    /// Recompute a release's digest from its files.
    pub fn release_digest(&self, name: &str, version: &str) -> Result<BundleDigest, RepoError> {
        let dir = self.release_path(name, version).join("bundle");
        digest::digest_dir(&dir).map_err(|e| RepoError::Corrupt {
            message: e.to_string(),
            hint: "releases are written by agentctl; restore the directory from git".into(),
        })
    }

    /// Check a release's files against its recorded digest (and an expected
    /// one). A missing or unreadable release.yaml is `Corrupt`; files or a
    /// pin that disagree with it are `Refused` (the answer is no).
    pub fn verify_release(
        &self,
        name: &str,
        version: &str,
        expected: Option<&str>,
    ) -> Result<ReleaseMeta, RepoError> {
        let meta = self
            .release_meta(name, version)?
            .ok_or_else(|| RepoError::Corrupt {
                message: format!("release {name}@{version} does not exist"),
                hint: self.releases_hint(name),
            })?;
        // The release exists: whatever is wrong with its files now is a
        // failed verification (exit 1), not unreadable input.
        let actual = self.release_digest(name, version).map_err(|e| match e {
            RepoError::Corrupt { message, hint } => RepoError::Refused { message, hint },
            e => e,
        })?;
        if actual.digest != meta.digest {
            return Err(RepoError::Refused {
                message: format!(
                    "release {name}@{version} was modified: its files digest to {} but release.yaml records {}",
                    actual.digest, meta.digest
                ),
                hint: "releases are immutable; restore them from git (`git checkout -- releases/`)"
                    .into(),
            });
        }
        if let Some(exp) = expected
            && exp != meta.digest
        {
            return Err(RepoError::Refused {
                message: format!(
                    "release {name}@{version} has digest {} but the environment pins {exp}",
                    meta.digest
                ),
                hint: "the environment file was edited by hand; restore it from git".into(),
            });
        }
        Ok(meta)
    }

    /// Released versions of an agent, sorted by semver where possible.
    pub fn release_versions(&self, name: &str) -> Result<Vec<String>, RepoError> {
        let rel = format!("releases/{name}");
        if !crate::files::is_dir(&self.root, Path::new(&rel)) {
            return Ok(Vec::new());
        }
        let dir = self.root.join(&rel);
        let mut versions: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|e| io_error(&dir, e))?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|v| {
                crate::files::is_file(&self.root, Path::new(&format!("{rel}/{v}/release.yaml")))
            })
            .collect();
        versions.sort_by(
            |a, b| match (semver::Version::parse(a), semver::Version::parse(b)) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                _ => a.cmp(b),
            },
        );
        Ok(versions)
    }

    /// The files of a new release of `agents/NAME/` with the given digest.
    pub fn release_changes(
        &self,
        name: &str,
        version: &str,
        bundle: &BundleDigest,
        meta: &ReleaseMeta,
        git: Option<&git2::Repository>,
    ) -> Result<Vec<Change>, RepoError> {
        let src = self.agent_dir(name);
        let dest = release_dir(name, version);
        let mut changes = Vec::with_capacity(bundle.files.len() + 1);
        // The frozen bytes are the committed ones (`source_commit`), read
        // from git objects; each must hash to what the work tree digested.
        let committed = git
            .map(|g| committed_tree(g, &self.prefix, name))
            .transpose()?;
        for f in &bundle.files {
            let full = src.join(&f.path);
            let bytes = match &committed {
                Some((git, tree)) => {
                    let entry = tree.get_path(Path::new(&f.path)).map_err(|_| {
                        RepoError::Conflict(format!(
                            "{} is not in the commit being released",
                            full.display()
                        ))
                    })?;
                    if entry.filemode() != i32::from(git2::FileMode::Blob)
                        && entry.filemode() != i32::from(git2::FileMode::BlobExecutable)
                    {
                        return Err(crate::files::FileError::NotRegular {
                            path: full,
                            kind: "not a regular file in the commit",
                        }
                        .into());
                    }
                    git.find_blob(entry.id())?.content().to_vec()
                }
                None => crate::files::read_no_follow(&full, crate::bundle::MAX_BUNDLE_FILE_BYTES)?,
            };
            if digest::hash_bytes(&bytes) != f.hash {
                return Err(RepoError::Conflict(format!(
                    "{} changed while it was being released",
                    full.display()
                )));
            }
            changes.push(Change::write(format!("{dest}/bundle/{}", f.path), bytes));
        }
        if let Some((_, tree)) = &committed {
            let mut count = 0usize;
            tree.walk(git2::TreeWalkMode::PreOrder, |_, e| {
                if e.kind() != Some(git2::ObjectType::Tree) {
                    count += 1;
                }
                git2::TreeWalkResult::Ok
            })?;
            if count != bundle.files.len() {
                return Err(RepoError::Conflict(format!(
                    "agents/{name}/ holds {} files in the commit but {} in the work tree",
                    count,
                    bundle.files.len()
                )));
            }
        }
        let yaml = serde_saphyr::to_string(meta).expect("release metadata always serializes");
        changes.push(Change::write(
            format!("{dest}/release.yaml"),
            format!("# Written by agentctl release; never edited.\n{yaml}"),
        ));
        Ok(changes)
    }
}
