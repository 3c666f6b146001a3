//! `agentctl release NAME`: freeze a source bundle as an immutable release.

use super::{Recorded, WriteOptions};
use crate::bundle;
use crate::digest::{self, BundleDigest};
use crate::finding::Finding;
use crate::repo::Layout;
use crate::repo::release::{ReleaseMeta, release_dir};
use crate::repo::transaction::{self, Change, Message};
use crate::repo::{Repo, RepoError, format_time, now};
use serde::Serialize;

/// Why a release was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// The repository refused.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// No such source bundle.
    #[error("no agent `{0}` under agents/")]
    NoSuchAgent(String),
    /// The bundle has validate errors.
    #[error("{name} is not ready to release: {} error(s)", .findings.len())]
    NotReady {
        /// Agent.
        name: String,
        /// The error findings.
        findings: Vec<Finding>,
        /// The whole check, for gates.
        checked: Box<bundle::Checked>,
    },
    /// The bundle's files differ from what is committed at HEAD.
    #[error("agents/{name}/ differs from what is committed at HEAD: {}", .files.join(", "))]
    Uncommitted {
        /// Agent.
        name: String,
        /// Up to ten differing paths (modified, untracked or ignored).
        files: Vec<String>,
    },
    /// The version exists with other content.
    #[error(
        "{name} {version} is already released{} with digest {existing}; the bundle now digests to {current}",
        released_as(.version, .released)
    )]
    VersionReused {
        /// Agent.
        name: String,
        /// Version.
        version: String,
        /// The released version of equal semver precedence (`version`
        /// itself, or it spelled with other build metadata).
        released: String,
        /// Recorded digest.
        existing: String,
        /// Digest of the source now.
        current: String,
    },
}

fn released_as(version: &str, released: &str) -> String {
    if version == released {
        String::new()
    } else {
        format!(" as {released} (build metadata does not make a new version)")
    }
}

/// What `release` did.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseReport {
    /// Agent.
    pub name: String,
    /// Version.
    pub version: String,
    /// Digest.
    pub digest: String,
    /// Whether this call created it (false: it already existed, a no-op).
    pub created: bool,
    /// Where it lives.
    pub path: String,
    /// The commit.
    pub recorded: Recorded,
}

/// A source bundle checked and digested, ready to be frozen.
pub struct Prepared {
    /// The manifest's version.
    pub version: String,
    /// Its digest.
    pub digest: BundleDigest,
    /// Whether a release with this version and digest already exists.
    pub exists: bool,
    /// The check it passed (its warnings, for gates).
    pub checked: bundle::Checked,
}

/// Check `agents/NAME` and compare with existing releases, writing nothing.
pub fn prepare(repo: &Repo, name: &str) -> Result<Prepared, ReleaseError> {
    Layout::check_agent_name(name)?;
    let dir = repo.agent_dir(name);
    if !dir.join(bundle::MANIFEST_FILE).is_file() {
        return Err(ReleaseError::NoSuchAgent(name.to_string()));
    }
    // Prompts render for every environment of this repository, as in `validate`.
    let checked = bundle::check_dir_as(&dir, None, &crate::render::RenderEnv::all(&repo.config));
    let errors: Vec<Finding> = checked
        .findings
        .iter()
        .filter(|f| f.is_error())
        .cloned()
        .collect();
    let version = match &checked.manifest {
        Some(loaded) if errors.is_empty() => loaded.manifest.version.clone(),
        _ => {
            return Err(ReleaseError::NotReady {
                name: name.to_string(),
                findings: errors,
                checked: Box::new(checked),
            });
        }
    };
    let digest = digest::digest_dir(&dir).map_err(|e| RepoError::Corrupt {
        message: e.to_string(),
        hint: "bundles hold regular files with plain names only".into(),
    })?;
    // Build metadata does not make another version: 1.4.0+build.7 is 1.4.0.
    let exists = match repo.release_meta_same_version(name, &version)? {
        Some(meta) if meta.digest == digest.digest && meta.version == version => true,
        Some(meta) => {
            return Err(ReleaseError::VersionReused {
                name: name.to_string(),
                version,
                released: meta.version,
                existing: meta.digest,
                current: digest.digest,
            });
        }
        None => false,
    };
    // Content already frozen under this version is what it is; only a new
    // release must be exactly the commit (checked per bundle, so a promotion
    // of thousands of unchanged agents does not scan the work tree for each).
    if !exists && let Some(git) = &repo.git {
        let files = differs_from_head(repo, git, name)?;
        if !files.is_empty() {
            return Err(ReleaseError::Uncommitted {
                name: name.to_string(),
                files,
            });
        }
    }
    Ok(Prepared {
        version,
        digest,
        exists,
        checked,
    })
}

/// The paths under `agents/NAME/` whose work-tree state is not HEAD's:
/// modified, staged, untracked and ignored files alike, since any of them
/// would make the frozen bytes differ from the commit `source_commit` names.
fn differs_from_head(
    repo: &Repo,
    git: &git2::Repository,
    name: &str,
) -> Result<Vec<String>, RepoError> {
    if git.head().is_err() {
        return Ok(vec![format!("agents/{name}/ (nothing is committed yet)")]);
    }
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(true)
        .recurse_ignored_dirs(true)
        .disable_pathspec_match(false)
        .pathspec(format!("{}agents/{name}/", repo.prefix));
    let statuses = git.statuses(Some(&mut opts))?;
    Ok(statuses
        .iter()
        .filter(|s| s.status() != git2::Status::CURRENT)
        .filter_map(|s| s.path().ok().map(str::to_string))
        .take(10)
        .collect())
}

/// The files and metadata of a new release.
pub fn release_files(
    repo: &Repo,
    name: &str,
    prepared: &Prepared,
    actor: &str,
) -> Result<(ReleaseMeta, Vec<Change>), RepoError> {
    let source_commit = repo
        .git
        .as_ref()
        .and_then(|g| g.head().ok())
        .and_then(|h| h.target())
        .map(|o| o.to_string());
    let meta = ReleaseMeta {
        name: name.to_string(),
        version: prepared.version.clone(),
        digest: prepared.digest.digest.clone(),
        source_commit,
        created_at: format_time(now()),
        created_by: actor.to_string(),
    };
    let changes = repo.release_changes(
        name,
        &prepared.version,
        &prepared.digest,
        &meta,
        repo.git.as_ref(),
    )?;
    Ok((meta, changes))
}

/// Release `agents/NAME`.
pub fn release(
    repo: &Repo,
    name: &str,
    opts: &WriteOptions,
) -> Result<ReleaseReport, ReleaseError> {
    let actor = super::actor(repo, opts.actor.as_deref())?;
    let (lock, start) = transaction::begin(repo, opts.record)?;
    let prepared = prepare(repo, name)?;
    let path = release_dir(name, &prepared.version);
    if prepared.exists {
        return Ok(ReleaseReport {
            name: name.into(),
            version: prepared.version,
            digest: prepared.digest.digest,
            created: false,
            path,
            recorded: Recorded::Nothing,
        });
    }
    let (meta, changes) = release_files(repo, name, &prepared, &actor)?;
    let mut message = Message {
        subject: format!("release {name} {}", meta.version),
        body: format!(
            "Froze agents/{name}/ as {path}/ ({} files).",
            prepared.digest.files.len()
        ),
        ..Message::default()
    };
    message.trailer("Action", "release");
    message.trailer("Agent", name);
    message.trailer("Version", &meta.version);
    message.trailer("Digest", &meta.digest);
    message.trailer("Actor", &actor);
    if let Some(r) = &opts.reason {
        message.trailer("Reason", r);
    }
    let outcome = transaction::apply(repo, &lock, start.as_ref(), &changes, &message)?;
    Ok(ReleaseReport {
        name: name.into(),
        version: meta.version,
        digest: meta.digest,
        created: true,
        path,
        recorded: outcome.into(),
    })
}
