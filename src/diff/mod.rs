//! `agentctl diff`: a semantic, risk-ranked diff of agents.
//!
//! Each side is a set of bundles by agent name: what an environment pins,
//! one release, source bundles on disk, or source bundles at a git ref (read
//! from git objects, no checkout). Agents whose digests are known to match
//! are skipped without reading a file, so two environments of thousands of
//! agents cost little more than the few that changed.

pub mod semantic;
pub mod text;

use crate::bundle::{self, Manifest};
use crate::digest;
use crate::repo::Repo;
use crate::repo::release::ReleaseRef;
use semantic::{Change, Risk};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use text::FileDiff;

/// Where one bundle's files come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A directory on disk.
    Dir(PathBuf),
    /// A tree in the git object database.
    Git(git2::Oid),
}

/// One bundle on one side.
#[derive(Debug, Clone)]
pub struct BundleRef {
    /// Version, when known without reading (environment pins, releases).
    pub version: Option<String>,
    /// Digest, when known without reading.
    pub digest: Option<String>,
    /// Its files.
    pub source: Source,
}

/// One side of a comparison.
#[derive(Debug, Clone)]
pub struct Side {
    /// What it is, for people (`prod`, `support-triage@1.4.0`, `origin/main`, `work tree`).
    pub label: String,
    /// Bundles by agent name.
    pub bundles: BTreeMap<String, BundleRef>,
    /// Whether it holds only some agents (one release, a bundle path), so
    /// that the other side should be narrowed to the same agents.
    pub partial: bool,
    /// agentctl.toml on this side (a git ref, the work tree), so that a
    /// change to an environment's `vars` shows against every agent it
    /// runs: what its prompts say changes with no new release.
    pub config: Option<crate::repo::config::Config>,
}

/// Why a side could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// The spec names nothing agentctl knows.
    #[error("`{0}` is not an environment, NAME@VERSION, a bundle path or a git ref")]
    Unknown(String),
    /// A git ref is missing (e.g. a shallow CI clone).
    #[error("git ref `{name}` is not in this clone")]
    MissingRef {
        /// The ref.
        name: String,
        /// The command that fetches it.
        fetch: String,
    },
    /// A release does not exist.
    #[error("release {0} does not exist")]
    NoRelease(String),
    /// The repository failed.
    #[error(transparent)]
    Repo(#[from] crate::repo::RepoError),
    /// Reading failed.
    #[error("{0}")]
    Read(String),
}

/// The exact `git fetch` that makes `name` available.
pub fn fetch_hint(name: &str) -> String {
    fetch_hint_with(name, &["origin".to_string()])
}

/// [`fetch_hint`], knowing the repository's remotes.
pub fn fetch_hint_with(name: &str, remotes: &[String]) -> String {
    // An ancestor of HEAD missing from a shallow clone: deepen the history.
    if name.starts_with("HEAD") || name.contains(['~', '^', '@']) {
        return "git fetch --no-tags --deepen=100 origin".into();
    }
    if let Some((remote, branch)) = name.split_once('/')
        && (remote == "origin" || remotes.iter().any(|r| r == remote))
        && !branch.is_empty()
    {
        return format!("git fetch --no-tags {remote} {branch}:refs/remotes/{remote}/{branch}");
    }
    if name.len() >= 7 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
        return format!("git fetch --no-tags origin {name}");
    }
    // A plain branch name: fetch it as a local branch, so `name` resolves.
    format!("git fetch --no-tags origin {name}:{name}")
}

fn git_of(repo: &Repo) -> Result<&git2::Repository, DiffError> {
    Ok(repo.git()?)
}

/// The source bundles at a git ref.
pub fn side_at_ref(repo: &Repo, refname: &str) -> Result<Side, DiffError> {
    let git = git_of(repo)?;
    let remotes: Vec<String> = git
        .remotes()
        .map(|r| r.iter().flatten().flatten().map(str::to_string).collect())
        .unwrap_or_default();
    let obj = git
        .revparse_single(refname)
        .map_err(|_| DiffError::MissingRef {
            name: refname.to_string(),
            fetch: fetch_hint_with(refname, &remotes),
        })?;
    let tree = obj
        .peel_to_tree()
        .map_err(|e| DiffError::Read(e.message().to_string()))?;
    side_from_tree(repo, git, &tree, refname)
}

/// The source bundles of a tree (a commit's).
pub fn side_from_tree(
    repo: &Repo,
    git: &git2::Repository,
    tree: &git2::Tree,
    label: &str,
) -> Result<Side, DiffError> {
    let mut bundles = BTreeMap::new();
    let agents_path = format!("{}agents", repo.prefix);
    if let Ok(entry) = tree.get_path(Path::new(&agents_path)) {
        let agents = git
            .find_tree(entry.id())
            .map_err(|e| DiffError::Read(e.message().to_string()))?;
        for e in agents.iter() {
            if e.kind() != Some(git2::ObjectType::Tree) {
                continue;
            }
            let Ok(name) = e.name() else { continue };
            let sub = git
                .find_tree(e.id())
                .map_err(|e| DiffError::Read(e.message().to_string()))?;
            if sub.get_name(bundle::MANIFEST_FILE).is_none() {
                continue;
            }
            bundles.insert(
                name.to_string(),
                BundleRef {
                    version: None,
                    digest: None,
                    source: Source::Git(e.id()),
                },
            );
        }
    }
    let config_path = format!("{}{}", repo.prefix, crate::repo::CONFIG_FILE);
    let config = tree
        .get_path(Path::new(&config_path))
        .ok()
        .and_then(|e| git.find_blob(e.id()).ok())
        .and_then(|b| String::from_utf8(b.content().to_vec()).ok())
        .and_then(|t| {
            crate::repo::config::Config::parse(&t, Path::new(crate::repo::CONFIG_FILE)).ok()
        });
    Ok(Side {
        label: label.to_string(),
        bundles,
        partial: false,
        config,
    })
}

/// The source bundles in the work tree (`agents/`).
pub fn side_worktree(repo: &Repo) -> Result<Side, DiffError> {
    let mut bundles = BTreeMap::new();
    for name in repo.agent_names()? {
        bundles.insert(
            name.clone(),
            BundleRef {
                version: None,
                digest: None,
                source: Source::Dir(repo.agent_dir(&name)),
            },
        );
    }
    Ok(Side {
        label: "work tree".into(),
        bundles,
        partial: false,
        config: Some(repo.config.clone()),
    })
}

/// What an environment pins.
pub fn side_environment(repo: &Repo, env: &str) -> Result<Side, DiffError> {
    let state = crate::ops::read_state(repo, env)?;
    let bundles = state
        .agents
        .into_iter()
        .map(|(name, pin)| {
            let dir = repo.release_path(&name, &pin.version).join("bundle");
            (
                name,
                BundleRef {
                    version: Some(pin.version),
                    digest: Some(pin.digest),
                    source: Source::Dir(dir),
                },
            )
        })
        .collect();
    Ok(Side {
        label: env.to_string(),
        bundles,
        partial: false,
        config: None,
    })
}

/// One release.
pub fn side_release(repo: &Repo, r: &ReleaseRef) -> Result<Side, DiffError> {
    let meta = repo
        .release_meta(&r.name, &r.version)?
        .ok_or_else(|| DiffError::NoRelease(r.to_string()))?;
    let mut bundles = BTreeMap::new();
    bundles.insert(
        r.name.clone(),
        BundleRef {
            version: Some(meta.version),
            digest: Some(meta.digest),
            source: Source::Dir(repo.release_path(&r.name, &r.version).join("bundle")),
        },
    );
    Ok(Side {
        label: r.to_string(),
        bundles,
        partial: true,
        config: None,
    })
}

/// Bundles at a path: one bundle directory, or a directory of bundles.
pub fn side_path(path: &Path) -> Result<Side, DiffError> {
    let dirs = crate::validate::bundle_dirs(&[path.to_path_buf()])
        .map_err(|e| DiffError::Read(e.to_string()))?;
    let mut bundles = BTreeMap::new();
    for d in dirs {
        let name = manifest_name(&d).unwrap_or_else(|| {
            d.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        bundles.insert(
            name,
            BundleRef {
                version: None,
                digest: None,
                source: Source::Dir(d),
            },
        );
    }
    Ok(Side {
        label: path.display().to_string(),
        bundles,
        partial: true,
        config: None,
    })
}

fn manifest_name(dir: &Path) -> Option<String> {
    bundle::load_manifest(dir).ok().map(|m| m.manifest.name)
}

/// Resolve a side from what the user typed.
pub fn resolve(repo: Option<&Repo>, spec: &str) -> Result<Side, DiffError> {
    if let Some(repo) = repo {
        if repo.config.environment(spec).is_some() {
            return side_environment(repo, spec);
        }
        if let Some(r) = ReleaseRef::parse(spec) {
            return side_release(repo, &r);
        }
    }
    let path = Path::new(spec);
    if path.is_dir() || path.is_file() {
        return side_path(path);
    }
    if let Some(repo) = repo
        && repo.git.is_some()
    {
        match side_at_ref(repo, spec) {
            Ok(side) => return Ok(side),
            // A plain word that is no ref is more likely a mistyped
            // environment than a missing branch.
            Err(DiffError::MissingRef { .. })
                if !spec.contains(['/', '~', '^']) && !spec.starts_with("HEAD") =>
            {
                return Err(DiffError::Unknown(spec.to_string()));
            }
            Err(e) => return Err(e),
        }
    }
    Err(DiffError::Unknown(spec.to_string()))
}

/// Whether an agent was added, removed or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Only on the new side.
    Added,
    /// Only on the old side.
    Removed,
    /// On both, different.
    Changed,
}

/// One agent's diff.
#[derive(Debug, Clone, Serialize)]
pub struct AgentDiff {
    /// Agent.
    pub name: String,
    /// Added, removed or changed.
    pub status: Status,
    /// Version on the old side.
    pub from_version: Option<String>,
    /// Version on the new side.
    pub to_version: Option<String>,
    /// Digest on the old side.
    pub from_digest: Option<String>,
    /// Digest on the new side.
    pub to_digest: Option<String>,
    /// Highest risk of its changes.
    pub risk: Risk,
    /// Semantic changes, highest risk first.
    pub changes: Vec<Change>,
    /// Per-file text diffs.
    pub files: Vec<FileDiff>,
}

/// Counts and the highest risk.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DiffSummary {
    /// Agents that differ.
    pub agents_changed: usize,
    /// Agents only on the new side.
    pub added: usize,
    /// Agents only on the old side.
    pub removed: usize,
    /// Agents compared and found identical.
    pub unchanged: usize,
    /// The highest risk of any change.
    pub highest_risk: Option<Risk>,
    /// Changes per risk level.
    pub high: usize,
    /// Changes per risk level.
    pub medium: usize,
    /// Changes per risk level.
    pub low: usize,
}

/// The whole diff. Its JSON form is a stable, documented structure.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    /// The old side's label.
    pub from: String,
    /// The new side's label.
    pub to: String,
    /// Counts, first.
    pub summary: DiffSummary,
    /// Agents that differ, sorted by name.
    pub agents: Vec<AgentDiff>,
}

impl AgentDiff {
    /// `1.4.0 → 1.5.0`, `added 1.0.0`, `removed (was 2.0.0)`.
    pub fn status_line(&self) -> String {
        match self.status {
            Status::Added => format!("added {}", self.to_version.as_deref().unwrap_or("?")),
            Status::Removed => format!(
                "removed (was {})",
                self.from_version.as_deref().unwrap_or("?")
            ),
            Status::Changed => format!(
                "{} → {}",
                self.from_version.as_deref().unwrap_or("?"),
                self.to_version.as_deref().unwrap_or("?")
            ),
        }
    }
}

impl DiffReport {
    /// Whether anything differs.
    pub fn has_differences(&self) -> bool {
        !self.agents.is_empty()
    }
}

struct Loaded {
    files: BTreeMap<String, Vec<u8>>,
    manifest: Option<Manifest>,
    digest: String,
}

fn load(repo: Option<&Repo>, b: &BundleRef) -> Result<Loaded, DiffError> {
    let mut files = BTreeMap::new();
    match &b.source {
        Source::Dir(dir) => {
            for (rel, full) in
                digest::list_files(dir).map_err(|e| DiffError::Read(e.to_string()))?
            {
                let bytes =
                    crate::files::read_no_follow(&full, crate::bundle::MAX_BUNDLE_FILE_BYTES)
                        .map_err(|e| DiffError::Read(e.to_string()))?;
                files.insert(rel, bytes);
            }
        }
        Source::Git(oid) => {
            let git = repo
                .ok_or_else(|| DiffError::Read("git source without a repository".into()))?
                .git()?;
            let tree = git
                .find_tree(*oid)
                .map_err(|e| DiffError::Read(e.message().to_string()))?;
            let mut err = None;
            tree.walk(git2::TreeWalkMode::PreOrder, |root, entry| {
                if entry.kind() == Some(git2::ObjectType::Blob) {
                    let name = format!("{root}{}", entry.name().unwrap_or(""));
                    match git.find_blob(entry.id()) {
                        Ok(blob) => {
                            files.insert(name, blob.content().to_vec());
                        }
                        Err(e) => {
                            err = Some(e.message().to_string());
                            return git2::TreeWalkResult::Abort;
                        }
                    }
                }
                git2::TreeWalkResult::Ok
            })
            .map_err(|e| DiffError::Read(e.message().to_string()))?;
            if let Some(e) = err {
                return Err(DiffError::Read(e));
            }
        }
    }
    let hashes: Vec<(String, digest::Sha256Hash)> = files
        .iter()
        .map(|(p, b)| (p.clone(), digest::hash_bytes(b)))
        .collect();
    let digest = digest::combine(hashes.iter().map(|(p, h)| (p.as_str(), h)));
    let manifest = files.get(bundle::MANIFEST_FILE).and_then(|bytes| {
        let text = std::str::from_utf8(bytes).ok()?;
        bundle::parse_manifest(text, Path::new(bundle::MANIFEST_FILE))
            .ok()
            .map(|m| m.manifest)
    });
    Ok(Loaded {
        files,
        manifest,
        digest,
    })
}

/// Compare two sides.
pub fn compare(repo: Option<&Repo>, from: &Side, to: &Side) -> Result<DiffReport, DiffError> {
    compare_with_progress(repo, from, to, &|_| {})
}

/// [`compare`], reporting the number of agents to compare
/// (`progress(Some(total))`) and then each one done (`progress(None)`).
pub fn compare_with_progress(
    repo: Option<&Repo>,
    from: &Side,
    to: &Side,
    progress: &dyn Fn(Option<u64>),
) -> Result<DiffReport, DiffError> {
    let names: BTreeSet<&String> = from.bundles.keys().chain(to.bundles.keys()).collect();
    let mut agents = Vec::new();
    let mut unchanged = 0;
    progress(Some(names.len() as u64));
    for name in names {
        progress(None);
        let (a, b) = (from.bundles.get(name), to.bundles.get(name));
        if let (Some(a), Some(b)) = (a, b)
            && a.digest.is_some()
            && a.digest == b.digest
        {
            unchanged += 1;
            continue;
        }
        let la = a.map(|a| load(repo, a)).transpose()?;
        let lb = b.map(|b| load(repo, b)).transpose()?;
        if let (Some(x), Some(y)) = (&la, &lb)
            && x.digest == y.digest
        {
            unchanged += 1;
            continue;
        }
        agents.push(agent_diff(name, la.as_ref(), lb.as_ref()));
    }
    if let (Some(repo), Some(a), Some(b)) = (repo, &from.config, &to.config) {
        vars_changes(repo, a, b, to, &mut agents);
    }
    let mut summary = DiffSummary {
        agents_changed: agents.len(),
        added: agents.iter().filter(|a| a.status == Status::Added).count(),
        removed: agents
            .iter()
            .filter(|a| a.status == Status::Removed)
            .count(),
        unchanged,
        ..DiffSummary::default()
    };
    for c in agents.iter().flat_map(|a| &a.changes) {
        match c.risk {
            Risk::High => summary.high += 1,
            Risk::Medium => summary.medium += 1,
            Risk::Low => summary.low += 1,
        }
    }
    summary.highest_risk = agents.iter().map(|a| a.risk).max();
    Ok(DiffReport {
        from: from.label.clone(),
        to: to.label.clone(),
        summary,
        agents,
    })
}

/// A change to an environment's `vars` changes what every agent it runs
/// renders there, with no new release: a high-risk change of each of them.
fn vars_changes(
    repo: &Repo,
    from: &crate::repo::config::Config,
    to: &crate::repo::config::Config,
    to_side: &Side,
    agents: &mut Vec<AgentDiff>,
) {
    use crate::repo::evidence::vars_hash;
    for env in &to.environments {
        if vars_hash(from, &env.name) == vars_hash(to, &env.name) {
            continue;
        }
        let before = from
            .environment(&env.name)
            .map(|(_, e)| serde_json::to_string(&e.vars).unwrap_or_default());
        let after = serde_json::to_string(&env.vars).unwrap_or_default();
        let Ok(state) = crate::ops::read_state(repo, &env.name) else {
            continue;
        };
        for (name, pin) in &state.agents {
            if to_side.partial && !to_side.bundles.contains_key(name) {
                continue;
            }
            let change = Change {
                risk: Risk::High,
                rule: "vars-changed",
                path: format!("vars.{}", env.name),
                summary: format!(
                    "{}'s vars changed: the prompts {name} renders there change without a new release, and its approvals must be made again",
                    env.name
                ),
                before: before.clone(),
                after: Some(after.clone()),
            };
            match agents.iter_mut().find(|a| &a.name == name) {
                Some(a) => {
                    a.changes.insert(0, change);
                    a.risk = Risk::High;
                }
                None => agents.push(AgentDiff {
                    name: name.clone(),
                    status: Status::Changed,
                    from_version: Some(pin.version.clone()),
                    to_version: Some(pin.version.clone()),
                    from_digest: Some(pin.digest.clone()),
                    to_digest: Some(pin.digest.clone()),
                    risk: Risk::High,
                    changes: vec![change],
                    files: Vec::new(),
                }),
            }
        }
    }
    agents.sort_by(|a, b| a.name.cmp(&b.name));
}

fn agent_diff(name: &str, a: Option<&Loaded>, b: Option<&Loaded>) -> AgentDiff {
    let version = |l: Option<&Loaded>| {
        l.and_then(|l| l.manifest.as_ref())
            .map(|m| m.version.clone())
    };
    let status = match (a, b) {
        (None, _) => Status::Added,
        (_, None) => Status::Removed,
        _ => Status::Changed,
    };
    let mut changes = match (
        a.and_then(|l| l.manifest.as_ref()),
        b.and_then(|l| l.manifest.as_ref()),
    ) {
        (Some(x), Some(y)) => semantic::compare(x, y),
        _ => Vec::new(),
    };
    // A manifest that does not parse hides every change in it: that is the
    // highest risk there is, not none.
    for (side, l) in [("old", a), ("new", b)] {
        if let Some(l) = l
            && l.manifest.is_none()
        {
            changes.push(Change {
                risk: Risk::High,
                rule: "manifest-unparseable",
                path: bundle::MANIFEST_FILE.into(),
                summary: format!(
                    "the {side} agent.yaml does not parse, so its changes cannot be assessed (run `agentctl validate`)"
                ),
                before: None,
                after: None,
            });
        }
    }
    // Values from manifests end up in pull-request comments: redact credentials.
    for c in &mut changes {
        // A bare value may be a credential only by its key (`api_key: …`).
        let key = c.path.rsplit('.').next().unwrap_or_default().to_string();
        for v in c.before.iter_mut().chain(c.after.iter_mut()) {
            let framed = format!("{key}: {v}");
            if matches!(
                crate::check::secrets::redact_text(&framed),
                std::borrow::Cow::Owned(_)
            ) {
                if v.len() >= 4 {
                    c.summary = c.summary.replace(v.as_str(), "[REDACTED]");
                }
                *v = "[REDACTED]".into();
            }
        }
        for v in [&mut c.summary]
            .into_iter()
            .chain(c.before.iter_mut())
            .chain(c.after.iter_mut())
        {
            if let std::borrow::Cow::Owned(r) = crate::check::secrets::redact_text(v) {
                *v = r;
            }
        }
    }
    match status {
        Status::Added => {
            let write_tools = b
                .and_then(|l| l.manifest.as_ref())
                .map(|m| {
                    m.tools
                        .iter()
                        .filter(|t| {
                            matches!(
                                t.access,
                                Some(
                                    crate::bundle::manifest::Access::Write
                                        | crate::bundle::manifest::Access::Destructive
                                )
                            )
                        })
                        .count()
                })
                .unwrap_or(0);
            let risk = if write_tools > 0 {
                Risk::High
            } else {
                Risk::Medium
            };
            changes.push(Change {
                risk,
                rule: "agent-added",
                path: String::new(),
                summary: format!(
                    "new agent{}",
                    if write_tools > 0 {
                        format!(" with {write_tools} write/destructive tool(s)")
                    } else {
                        String::new()
                    }
                ),
                before: None,
                after: version(b),
            });
        }
        Status::Removed => changes.push(Change {
            risk: Risk::Medium,
            rule: "agent-removed",
            path: String::new(),
            summary: "agent removed".into(),
            before: version(a),
            after: None,
        }),
        Status::Changed => {}
    }
    let empty = BTreeMap::new();
    let fa = a.map(|l| &l.files).unwrap_or(&empty);
    let fb = b.map(|l| &l.files).unwrap_or(&empty);
    let prompt_files: BTreeSet<String> = [a, b]
        .iter()
        .flatten()
        .filter_map(|l| l.manifest.as_ref())
        .flat_map(|m| m.prompts.iter().map(|p| p.file.clone()))
        .collect();
    let eval_files: BTreeSet<String> = [a, b]
        .iter()
        .flatten()
        .filter_map(|l| l.manifest.as_ref())
        .filter_map(|m| m.evals.as_ref())
        .flat_map(|e| e.suites.iter().map(|s| s.file.clone()))
        .collect();
    let doc_files: BTreeSet<String> = [a, b]
        .iter()
        .flatten()
        .filter_map(|l| l.manifest.as_ref())
        .filter_map(|m| m.docs.as_ref())
        .flat_map(|d| d.runbook.iter().chain(d.faq.iter()).cloned())
        .collect();
    let mut files = Vec::new();
    if status == Status::Changed {
        let paths: BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
        for p in paths {
            let (x, y) = (fa.get(p), fb.get(p));
            if x == y {
                continue;
            }
            files.push(text::diff_file(
                p,
                x.map(Vec::as_slice),
                y.map(Vec::as_slice),
            ));
            if p == bundle::MANIFEST_FILE {
                continue;
            }
            let (risk, rule, what) = if prompt_files.contains(p) {
                (Risk::Medium, "prompt-text-changed", "prompt")
            } else if eval_files.contains(p) {
                (Risk::Medium, "eval-suite-changed", "eval suite")
            } else if doc_files.contains(p) {
                (Risk::Low, "docs-changed", "doc")
            } else {
                (Risk::Low, "file-changed", "file")
            };
            let verb = match (x, y) {
                (None, _) => "added",
                (_, None) => "removed",
                _ => "changed",
            };
            changes.push(Change {
                risk,
                rule,
                path: p.clone(),
                summary: format!("{what} {p} {verb}"),
                before: None,
                after: None,
            });
        }
    }
    changes.sort_by_key(|c| std::cmp::Reverse(c.risk));
    AgentDiff {
        name: name.to_string(),
        status,
        from_version: version(a),
        to_version: version(b),
        from_digest: a.map(|l| l.digest.clone()),
        to_digest: b.map(|l| l.digest.clone()),
        risk: changes.iter().map(|c| c.risk).max().unwrap_or(Risk::Low),
        changes,
        files,
    }
}
