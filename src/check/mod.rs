//! `agentctl check`: the CI gate for a pull request.
//!
//! Finds the bundles a change touches (against the merge base of `--base`),
//! runs everything `validate` runs, requires a version bump for changed
//! content, scans for credentials, previews each environment's gates, and
//! compares the files that decide admission with the base (see
//! [`repository`]): a pull request that weakens policy or trust, rewrites a
//! log or a pin, changes a release or how checkouts write bytes fails. All
//! output formats come from the same report.

pub mod attributes;
pub mod environments;
pub mod policy;
pub mod releases;
pub mod repository;
pub mod rules;
pub mod secrets;
pub mod signers;

use crate::bundle::{self, MANIFEST_FILE};
use crate::diff::{self, DiffReport};
use crate::finding::Finding;
use crate::render::RenderEnv;
use crate::repo::{Repo, RepoError};
use crate::validate::Summary;
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::Path;

/// What to check.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Compare against the merge base of this ref and HEAD.
    pub base: Option<String>,
    /// Check every bundle, not only changed ones.
    pub all: bool,
}

/// Why check could not run.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The base ref is not in this clone.
    #[error("base ref `{name}` is not in this clone")]
    MissingBase {
        /// The ref.
        name: String,
        /// The command that fetches it.
        fetch: String,
    },
    /// The base has no common history with HEAD here (a shallow clone).
    #[error("no merge base between `{name}` and HEAD in this clone (is it shallow?)")]
    NoMergeBase {
        /// The ref.
        name: String,
        /// The command that fixes it.
        fetch: String,
    },
    /// The repository failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// Reading failed.
    #[error("{0}")]
    Read(String),
}

/// One named check of one bundle.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// `validate`, `version`, `secrets` or `policy`.
    pub check: &'static str,
    /// Its findings (empty: passed).
    pub findings: Vec<Finding>,
}

/// One bundle's checks.
#[derive(Debug, Clone, Serialize)]
pub struct BundleCheck {
    /// Agent.
    pub name: String,
    /// Directory.
    pub path: String,
    /// `added`, `changed` or `unchanged` (with --all).
    pub change: &'static str,
    /// Version at the base.
    pub base_version: Option<String>,
    /// Version now.
    pub version: Option<String>,
    /// Each check.
    pub checks: Vec<CheckResult>,
}

impl BundleCheck {
    /// `1.4.0`, or `1.4.0 → 1.5.0` when the version changed since the base.
    pub fn version_label(&self) -> String {
        match (&self.base_version, &self.version) {
            (Some(a), Some(v)) if a != v => format!("{a} → {v}"),
            (_, Some(v)) => v.clone(),
            _ => "?".into(),
        }
    }
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The base ref, when given.
    pub base: Option<String>,
    /// The merge-base commit compared against.
    pub merge_base: Option<String>,
    /// Bundles checked.
    pub bundles: Vec<BundleCheck>,
    /// Repository-level findings.
    pub repository: Vec<Finding>,
    /// The semantic diff of the changed bundles (with a base).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<DiffReport>,
    /// Counts.
    pub summary: Summary,
}

impl CheckReport {
    /// Every finding.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.bundles
            .iter()
            .flat_map(|b| b.checks.iter().flat_map(|c| c.findings.iter()))
            .chain(self.repository.iter())
    }

    /// Whether the gate fails.
    pub fn failed(&self, warnings_as_errors: bool) -> bool {
        self.findings().any(|f| fails(f, warnings_as_errors))
    }
}

/// Whether one finding fails the gate: every error, and with
/// `warnings_as_errors` every warning but the informational policy preview
/// and secrets allowed by an inline comment.
pub fn fails(f: &Finding, warnings_as_errors: bool) -> bool {
    f.is_error() || (warnings_as_errors && f.rule != "policy-preview" && f.rule != secrets::ALLOWED)
}

/// Run the checks.
pub fn check(repo: &Repo, opts: &CheckOptions) -> Result<CheckReport, CheckError> {
    let envs = RenderEnv::all(&repo.config);
    let (base_tree_id, merge_base) = match &opts.base {
        Some(b) => {
            let (t, m) = merge_base_tree(repo, b)?;
            (Some(t), Some(m))
        }
        None => (None, None),
    };
    let git = repo.git.as_ref();
    let base_tree = match (base_tree_id, git) {
        (Some(id), Some(g)) => Some(
            g.find_tree(id)
                .map_err(|e| CheckError::Read(e.message().to_string()))?,
        ),
        _ => None,
    };
    let base_side = match (&base_tree, git) {
        (Some(t), Some(g)) => Some(
            diff::side_from_tree(repo, g, t, opts.base.as_deref().unwrap_or("base"))
                .map_err(diff_err)?,
        ),
        _ => None,
    };
    let current: BTreeSet<String> = repo.agent_names()?.into_iter().collect();
    let changed_paths = match (&base_tree, git) {
        (Some(t), Some(g)) => changed_paths(repo, g, t)?,
        _ => Vec::new(),
    };
    let changed_agents: BTreeSet<String> = changed_paths
        .iter()
        .filter_map(|p| p.strip_prefix("agents/"))
        .filter_map(|p| p.split('/').next())
        .map(str::to_string)
        .collect();
    let names: Vec<String> = if opts.all || opts.base.is_none() {
        current.iter().cloned().collect()
    } else {
        changed_agents
            .iter()
            .filter(|n| current.contains(*n))
            .cloned()
            .collect()
    };

    let mut bundles = Vec::new();
    for name in &names {
        let dir = repo.agent_dir(name);
        let checked = bundle::check_dir_as(&dir, None, &envs);
        let version = checked
            .manifest
            .as_ref()
            .map(|m| m.manifest.version.clone());
        let base_ref = base_side.as_ref().and_then(|s| s.bundles.get(name));
        let base_manifest = base_ref.and_then(|b| base_manifest(repo, b));
        let base_version = base_manifest.as_ref().map(|m| m.version.clone());
        let change = match (&base_side, base_ref) {
            (None, _) => "unchanged",
            (Some(_), None) => "added",
            (Some(_), Some(_)) if changed_agents.contains(name) => "changed",
            _ => "unchanged",
        };
        // validate scans for secrets; check reports them as their own check.
        let (secret_findings, validate_findings): (Vec<Finding>, Vec<Finding>) = checked
            .findings
            .iter()
            .cloned()
            .partition(secrets::is_secret_finding);
        let mut checks = vec![CheckResult {
            check: "validate",
            findings: validate_findings,
        }];
        checks.push(CheckResult {
            check: "version",
            findings: version_findings(
                repo,
                name,
                &dir,
                &checked,
                base_version.as_deref(),
                change == "changed",
            ),
        });
        checks.push(CheckResult {
            check: "secrets",
            findings: secret_findings,
        });
        checks.push(CheckResult {
            check: "policy",
            findings: {
                let mut f = policy_preview(repo, name, &dir, &checked);
                f.extend(owner_trust_findings(base_manifest.as_ref(), &dir, &checked));
                f
            },
        });
        bundles.push(BundleCheck {
            name: name.clone(),
            path: format!("agents/{name}"),
            change,
            base_version,
            version,
            checks,
        });
    }

    let mut repository = match (&base_tree, git) {
        (Some(tree), Some(git)) => repository::compare(
            &repository::Base { repo, git, tree },
            &changed_paths,
            crate::repo::now(),
        ),
        _ => repository::environment_hand_edits(repo),
    };
    // agentctl.toml (its vars render into every prompt) ships with the repository.
    repository.extend(secrets::scan_file(
        &repo.root.join(crate::repo::CONFIG_FILE),
    ));
    // Name repository files from the root, whatever the current directory.
    for f in &mut repository {
        if f.file.is_relative() {
            f.file = repo.root.join(&f.file);
        }
    }
    crate::finding::sort(&mut repository);

    let diff = match &base_side {
        Some(base) => {
            let mut from = base.clone();
            let mut to = diff::side_worktree(repo).map_err(diff_err)?;
            let touched: BTreeSet<&String> = changed_agents.iter().collect();
            from.bundles.retain(|n, _| touched.contains(n));
            to.bundles.retain(|n, _| touched.contains(n));
            to.label = "this change".into();
            Some(diff::compare(Some(repo), &from, &to).map_err(diff_err)?)
        }
        None => None,
    };

    let mut report = CheckReport {
        base: opts.base.clone(),
        merge_base: merge_base.map(|m| m.to_string()),
        bundles,
        repository,
        diff,
        summary: Summary::default(),
    };
    report.summary = Summary::count(report.bundles.len(), report.findings());
    Ok(report)
}

fn diff_err(e: diff::DiffError) -> CheckError {
    match e {
        diff::DiffError::MissingRef { name, fetch } => CheckError::MissingBase { name, fetch },
        diff::DiffError::Repo(r) => CheckError::Repo(r),
        other => CheckError::Read(other.to_string()),
    }
}

fn merge_base_tree(repo: &Repo, base: &str) -> Result<(git2::Oid, git2::Oid), CheckError> {
    let git = repo.git()?;
    let base_commit = git
        .revparse_single(base)
        .and_then(|o| o.peel_to_commit())
        .map_err(|_| CheckError::MissingBase {
            name: base.to_string(),
            fetch: diff::fetch_hint(base),
        })?;
    let head = git
        .head()
        .and_then(|h| h.peel_to_commit())
        .map_err(|e| CheckError::Read(format!("HEAD: {}", e.message())))?;
    let mb = git
        .merge_base(base_commit.id(), head.id())
        .map_err(|_| CheckError::NoMergeBase {
            name: base.to_string(),
            fetch: "git fetch --no-tags --deepen=200 origin".to_string(),
        })?;
    let tree = git
        .find_commit(mb)
        .and_then(|c| c.tree())
        .map_err(|e| CheckError::Read(e.message().to_string()))?;
    Ok((tree.id(), mb))
}

/// Paths (relative to the agentctl root) that differ between the base tree
/// and the work tree (index included; untracked files too).
fn changed_paths(
    repo: &Repo,
    git: &git2::Repository,
    base: &git2::Tree,
) -> Result<Vec<String>, CheckError> {
    let mut opts = git2::DiffOptions::new();
    opts.include_untracked(true).recurse_untracked_dirs(true);
    for p in [
        "agents",
        "releases",
        "environments",
        ".agentctl",
        "agentctl.toml",
    ] {
        opts.pathspec(format!("{}{p}", repo.prefix));
    }
    let d = git
        .diff_tree_to_workdir_with_index(Some(base), Some(&mut opts))
        .map_err(|e| CheckError::Read(e.message().to_string()))?;
    let mut out = Vec::new();
    for delta in d.deltas() {
        for f in [delta.old_file(), delta.new_file()] {
            if let Some(p) = f.path().and_then(|p| p.to_str())
                && let Some(rel) = p.strip_prefix(&repo.prefix)
            {
                out.push(rel.to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn base_manifest(repo: &Repo, b: &diff::BundleRef) -> Option<bundle::Manifest> {
    let diff::Source::Git(tree) = b.source else {
        return None;
    };
    let git = repo.git.as_ref()?;
    let tree = git.find_tree(tree).ok()?;
    let entry = tree.get_name(MANIFEST_FILE)?;
    let blob = git.find_blob(entry.id()).ok()?;
    let text = std::str::from_utf8(blob.content()).ok()?;
    bundle::parse_manifest(text, Path::new(MANIFEST_FILE))
        .ok()
        .map(|m| m.manifest)
}

/// Owners with an email who are not reviewers earn the `owner` signing
/// role for the bundle (`ops::verify`): one new since the base changes who
/// can approve its releases, like a new line in allowed_signers.
fn owner_trust_findings(
    base: Option<&bundle::Manifest>,
    dir: &Path,
    checked: &bundle::Checked,
) -> Vec<Finding> {
    use crate::bundle::manifest::{Owner, OwnerRole};
    let (Some(base), Some(loaded)) = (base, &checked.manifest) else {
        return Vec::new();
    };
    let signer = |o: &Owner| o.role != OwnerRole::Reviewer && o.email.is_some();
    let before: BTreeSet<&str> = base
        .owners
        .iter()
        .filter(|o| signer(o))
        .filter_map(|o| o.email.as_deref())
        .collect();
    let file = dir.join(MANIFEST_FILE);
    let mut out = Vec::new();
    for (i, o) in loaded.manifest.owners.iter().enumerate() {
        let Some(email) = o.email.as_deref().filter(|_| signer(o)) else {
            continue;
        };
        if before.contains(email) {
            continue;
        }
        out.push(
            rules::TRUST_CHANGED
                .finding(
                    &file,
                    format!(
                        "{} ({email}) can now sign as owner ({} owner)",
                        o.name,
                        format!("{:?}", o.role).to_lowercase()
                    ),
                )
                .at(loaded.map.value(&format!("/owners/{i}")))
                .hint("a new owner signer can approve this agent's releases; make sure the right people reviewed this"),
        );
    }
    out
}

fn version_findings(
    repo: &Repo,
    name: &str,
    dir: &Path,
    checked: &bundle::Checked,
    base_version: Option<&str>,
    changed: bool,
) -> Vec<Finding> {
    let Some(loaded) = &checked.manifest else {
        return Vec::new();
    };
    let file = dir.join(MANIFEST_FILE);
    let at = loaded.map.value("/version");
    let version = &loaded.manifest.version;
    let mut out = Vec::new();
    if changed
        && let (Some(base), Ok(new)) = (base_version, semver::Version::parse(version))
        && let Ok(old) = semver::Version::parse(base)
        // Semver precedence: build metadata is never a bump.
        && new.cmp_precedence(&old) != std::cmp::Ordering::Greater
    {
        out.push(
            Finding::error(
                "version-not-bumped",
                &file,
                format!("{name} changed but its version {version} is not greater than {base} at the base"),
            )
            .at(at)
            .hint(format!(
                "bump `version` (e.g. to {}.{}.{}); every change to a bundle is a new version",
                old.major,
                old.minor,
                old.patch + 1
            )),
        );
    }
    if let Ok(Some(meta)) = repo.release_meta_same_version(name, version)
        && let Ok(d) = crate::digest::digest_dir(dir)
        && (d.digest != meta.digest || meta.version != *version)
    {
        let message = if meta.version == *version {
            format!(
                "{name} {version} is already released with digest {}, and this content differs",
                meta.digest
            )
        } else {
            format!(
                "{name} {version} is the released version {} (build metadata does not make a new version), released with digest {}",
                meta.version, meta.digest
            )
        };
        out.push(
            Finding::error("version-already-released", &file, message)
                .at(at)
                .hint("bump `version`: a released version never changes content"),
        );
    }
    out
}

/// Which environments would refuse this bundle today, and why (warnings).
///
/// The policy is what the gate engine applies (`ops::admission`): when this
/// exact content is already released, the engine's own verdicts per
/// environment; otherwise what each environment's effective policy will
/// demand of the new release.
fn policy_preview(repo: &Repo, name: &str, dir: &Path, checked: &bundle::Checked) -> Vec<Finding> {
    use crate::ops::admission::{self, Candidate, Route, TrustRoot};
    let Some(loaded) = &checked.manifest else {
        return Vec::new();
    };
    let Ok(root) = TrustRoot::load(repo, None, None, None) else {
        return Vec::new();
    };
    let file = dir.join(MANIFEST_FILE);
    let now = crate::repo::now();
    let version = &loaded.manifest.version;
    let released = crate::digest::digest_dir(dir).ok().and_then(|d| {
        repo.release_meta(name, version)
            .ok()
            .flatten()
            .filter(|m| m.digest == d.digest)
            .map(|m| m.digest)
    });
    let mut out = Vec::new();
    for env in &repo.config.environments {
        let Ok(eff) = root.effective(repo, &env.name) else {
            continue;
        };
        let needs: Vec<String> = match &released {
            Some(digest) => match admission::evaluate(
                repo,
                &root,
                &env.name,
                &eff,
                Candidate {
                    name,
                    version,
                    digest,
                },
                Route::Promote,
                now,
            ) {
                Ok(eval) => eval
                    .gates
                    .into_iter()
                    .filter(|g| !g.passed)
                    .map(|g| format!("{} ({})", g.message, g.gate))
                    .collect(),
                Err(_) => Vec::new(),
            },
            None => {
                let mut needs = Vec::new();
                let freeze = crate::policy::freeze_gate(&eff.config, now);
                if !freeze.passed {
                    needs.push(freeze.message);
                }
                if !eff.config.required_roles.is_empty() {
                    needs.push(format!(
                        "signatures from {}",
                        eff.config.required_roles.join(" + ")
                    ));
                }
                if eff.config.require_evals {
                    let threshold = loaded
                        .manifest
                        .evals
                        .as_ref()
                        .map(|e| format!(" meeting min_pass_rate {}", e.min_pass_rate))
                        .unwrap_or_default();
                    needs.push(format!(
                        "recorded eval results{threshold}, vouched for by a signature made after them"
                    ));
                }
                needs
            }
        };
        if needs.is_empty() {
            continue;
        }
        out.push(
            Finding::warning(
                "policy-preview",
                &file,
                format!("{} needs {} before {name} can run there", env.name, needs.join("; ")),
            )
            .at(loaded.map.value("/name"))
            .hint(format!(
                "after merge: `agentctl release {name}`, record evals, then sign, as required, then `agentctl promote {}`",
                env.name
            )),
        );
    }
    out
}

/// Check rule ids, for docs and SARIF.
pub const RULES: &[(&str, &str)] = &[
    (
        "version-not-bumped",
        "a changed bundle must have a greater version than at the base",
    ),
    (
        "version-already-released",
        "a version already released with other content",
    ),
    (
        "policy-preview",
        "an environment would refuse the bundle today (informational)",
    ),
];
