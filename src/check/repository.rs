//! Repository-level checks: the files that decide admission, compared
//! between the base (read from git objects at the merge base) and the work
//! tree.
//!
//! A pull request may not lower the bar for itself: weaken agentctl.toml
//! ([`super::policy`]), widen allowed_signers ([`super::signers`]), rewrite
//! an environment's log or pins ([`super::environments`]), change what was
//! released ([`super::releases`]), or change how checkouts write those bytes
//! ([`super::attributes`]). This module reads both sides, bounded and of
//! regular files only, and hands text to those pure comparisons.

use super::environments::{self, LogChange};
use super::rules::{self, Rule};
use super::{attributes, policy, releases, signers};
use crate::finding::Finding;
use crate::repo::Repo;
use crate::repo::environment::{self as env_files, EnvState};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use rules::RULES;

/// The most check reads of any one file it compares; larger fails the check.
pub const MAX_COMPARED_BYTES: u64 = 64 * 1024 * 1024;

const SIGNERS_FILE: &str = ".agentctl/allowed_signers";

/// The base side: a tree of the merge-base commit.
pub struct Base<'a> {
    /// The repository.
    pub repo: &'a Repo,
    /// Its git repository.
    pub git: &'a git2::Repository,
    /// The merge base's tree.
    pub tree: &'a git2::Tree<'a>,
}

impl Base<'_> {
    /// A file's bytes at the base, by path from the git work tree's top
    /// (`None`: absent).
    fn read_git_path(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        let entry = match self.tree.get_path(Path::new(path)) {
            Ok(e) => e,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(e.message().to_string()),
        };
        if entry.kind() != Some(git2::ObjectType::Blob) || entry.filemode() == 0o120000 {
            return Err("not a regular file at the base".into());
        }
        let blob = self
            .git
            .find_blob(entry.id())
            .map_err(|e| e.message().to_string())?;
        if blob.size() as u64 > MAX_COMPARED_BYTES {
            return Err(too_large(blob.size() as u64));
        }
        Ok(Some(blob.content().to_vec()))
    }

    /// Names of the environments with a log at the base.
    fn logged_environments(&self) -> Vec<String> {
        let Ok(entry) = self
            .tree
            .get_path(Path::new(&format!("{}environments", self.repo.prefix)))
        else {
            return Vec::new();
        };
        let Ok(tree) = self.git.find_tree(entry.id()) else {
            return Vec::new();
        };
        tree.iter()
            .filter_map(|e| e.name().ok()?.strip_suffix(".log").map(str::to_string))
            .collect()
    }
}

fn too_large(size: u64) -> String {
    format!("{size} bytes, over the {MAX_COMPARED_BYTES}-byte limit")
}

/// A work-tree file's bytes (`None`: absent); never follows a symlink.
fn read_head(path: &Path) -> Result<Option<Vec<u8>>, String> {
    match crate::files::read_no_follow(path, MAX_COMPARED_BYTES) {
        Ok(b) => Ok(Some(b)),
        Err(crate::files::FileError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(crate::files::FileError::TooLarge { .. }) => Err(too_large(MAX_COMPARED_BYTES + 1)),
        Err(crate::files::FileError::Link { .. }) => {
            Err("a symbolic link, not a regular file".into())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// A file's bytes at the base and in the work tree (`None`: absent).
type Sides = (Option<Vec<u8>>, Option<Vec<u8>>);

/// Both sides of one file, or the finding that says why they cannot be
/// compared (so an unreadable file fails the check rather than passing it).
fn both(
    base: &Base<'_>,
    base_path: &str,
    head_path: &Path,
    shown: impl Into<PathBuf>,
    rule: Rule,
    out: &mut Vec<Finding>,
) -> Option<Sides> {
    let shown = shown.into();
    let sides = base
        .read_git_path(base_path)
        .map_err(|e| format!("at the base: {e}"))
        .and_then(|b| read_head(head_path).map(|h| (b, h)));
    match sides {
        Ok(sides) => Some(sides),
        Err(why) => {
            out.push(
                rule.finding(&shown, format!("cannot compare {} with the base: {why}", shown.display()))
                    .hint(format!("check compares this file with the base; keep it a regular file of at most {MAX_COMPARED_BYTES} bytes")),
            );
            None
        }
    }
}

fn text(bytes: Option<&[u8]>) -> String {
    String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned()
}

/// Every repository finding of a change against `base`. `changed`: paths
/// (from the agentctl root) that differ between the base and the work tree.
pub fn compare(base: &Base<'_>, changed: &[String], now: jiff::Timestamp) -> Vec<Finding> {
    let repo = base.repo;
    let mut out = Vec::new();
    let config = crate::repo::CONFIG_FILE;
    if let Some((Some(b), h)) = both(
        base,
        &format!("{}{config}", repo.prefix),
        &repo.path(config),
        config,
        rules::POLICY_WEAKENED,
        &mut out,
    ) {
        out.extend(policy::config_changes(
            &text(Some(&b)),
            &text(h.as_deref()),
            now,
        ));
        out.extend(vars_changes(repo, &text(Some(&b)), &text(h.as_deref())));
    }
    if let Some((b, h)) = both(
        base,
        &format!("{}{SIGNERS_FILE}", repo.prefix),
        &repo.path(SIGNERS_FILE),
        SIGNERS_FILE,
        rules::SIGNER_WIDENED,
        &mut out,
    ) {
        out.extend(signers::allowed_signers_changes(
            &text(b.as_deref()),
            &text(h.as_deref()),
        ));
    }
    environment_changes(base, &mut out);
    out.extend(releases::release_changes(repo, base.tree, changed));
    attribute_files(base, changed, &mut out);
    out
}

/// Logs that did not only grow, and pins the base plus appended events do
/// not explain.
fn environment_changes(base: &Base<'_>, out: &mut Vec<Finding>) {
    let repo = base.repo;
    let configured: Vec<String> = repo
        .config
        .environment_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    let mut names: BTreeSet<String> = configured.iter().cloned().collect();
    names.extend(base.logged_environments());
    for env in &names {
        let log = env_files::log_path(env);
        let Some((base_log, head_log)) = both(
            base,
            &format!("{}{log}", repo.prefix),
            &repo.path(&log),
            &log,
            rules::LOG_REWRITTEN,
            out,
        ) else {
            continue;
        };
        let base_log = base_log.unwrap_or_default();
        let change = environments::log_change(&base_log, head_log.as_deref());
        out.extend(environments::log_finding(env, &change));
        if !configured.contains(env) {
            continue;
        }
        let state = env_files::state_path(env);
        let Some((base_state, head_state)) = both(
            base,
            &format!("{}{state}", repo.prefix),
            &repo.path(&state),
            &state,
            rules::ENVIRONMENT_HAND_EDITED,
            out,
        ) else {
            continue;
        };
        let head_text = text(head_state.as_deref());
        let head = match EnvState::parse(&head_text) {
            Ok(s) => s,
            Err(message) => {
                out.push(
                    rules::ENVIRONMENT_HAND_EDITED
                        .finding(&state, format!("{state}: {message}"))
                        .hint("environment files are written by agentctl; restore them from git"),
                );
                continue;
            }
        };
        let base_parsed = EnvState::parse(&text(base_state.as_deref()));
        match (&change, base_parsed) {
            (LogChange::Appended { new, first_line }, Ok(base_pins)) => {
                out.extend(environments::pin_changes(
                    env,
                    &base_pins,
                    new,
                    *first_line,
                    &head,
                    &head_text,
                ));
            }
            // The log's new part is unknown (or the base is unreadable):
            // hold the pins to the whole log.
            _ => match env_files::parse_log(&text(head_log.as_deref())) {
                Ok(events) => {
                    out.extend(environments::replay_findings(
                        env, &head, &events, &head_text,
                    ));
                }
                Err(e) => out.push(
                    rules::ENVIRONMENT_HAND_EDITED
                        .finding(&log, format!("{log}: {e}"))
                        .hint("environment logs are written by agentctl; restore them from git"),
                ),
            },
        }
    }
}

/// Every pin no log entry explains, without a base to compare with.
pub fn environment_hand_edits(repo: &Repo) -> Vec<Finding> {
    let mut out = Vec::new();
    for env in repo.config.environment_names() {
        let file = env_files::state_path(env);
        let (state, events) = match env_files::read(&repo.root, env) {
            Ok(x) => x,
            Err(message) => {
                out.push(
                    rules::ENVIRONMENT_HAND_EDITED
                        .finding(&file, message)
                        .hint("environment files are written by agentctl; restore them from git"),
                );
                continue;
            }
        };
        let text =
            crate::files::read_text(&repo.root, Path::new(&file), env_files::MAX_STATE_BYTES)
                .ok()
                .flatten()
                .unwrap_or_default();
        out.extend(environments::replay_findings(env, &state, &events, &text));
    }
    out
}

/// One finding per environment whose vars changed, naming every agent it
/// runs (each renders differently now).
fn vars_changes(repo: &Repo, base_text: &str, head_text: &str) -> Vec<Finding> {
    let path = Path::new(crate::repo::CONFIG_FILE);
    let (Ok(base), Ok(head)) = (
        crate::repo::config::Config::parse(base_text, path),
        crate::repo::config::Config::parse(head_text, path),
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for env in &head.environments {
        let before = crate::repo::evidence::vars_hash(&base, &env.name);
        let after = crate::repo::evidence::vars_hash(&head, &env.name);
        if before == after {
            continue;
        }
        let agents: Vec<String> = env_files::read_state(&repo.root, &env.name)
            .map(|s| s.agents.into_keys().collect())
            .unwrap_or_default();
        let who = if agents.is_empty() {
            "no agent runs there yet".to_string()
        } else {
            format!("it changes the prompts of {}", agents.join(", "))
        };
        out.push(
            rules::VARS_CHANGED
                .finding(
                    crate::repo::CONFIG_FILE,
                    format!("the vars of {} changed: {who}", env.name),
                )
                .hint(format!(
                    "review the rendered prompts (`agentctl render NAME --env {}`); `agentctl verify {}` fails until the approvers sign again",
                    env.name, env.name
                )),
        );
    }
    out
}

/// The `.gitattributes` files that govern the protected directories: each
/// from the git work tree's top down to the agentctl root, and any inside a
/// protected directory that this change touches.
fn attribute_files(base: &Base<'_>, changed: &[String], out: &mut Vec<Finding>) {
    let repo = base.repo;
    let top = base
        .git
        .workdir()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo.root.clone());
    let mut files: Vec<(String, Vec<String>)> = Vec::new();
    // Directories from the top to the root: "", "a/", "a/b/".
    let mut dirs = vec![String::new()];
    let mut acc = String::new();
    for part in repo.prefix.split('/').filter(|p| !p.is_empty()) {
        acc.push_str(part);
        acc.push('/');
        dirs.push(acc.clone());
    }
    for dir in dirs {
        let below = &repo.prefix[dir.len()..];
        let targets = attributes::PROTECTED
            .iter()
            .map(|p| format!("{below}{p}"))
            .collect();
        files.push((format!("{dir}.gitattributes"), targets));
    }
    for p in changed {
        let inside = attributes::PROTECTED
            .iter()
            .any(|d| p.strip_prefix(d).is_some_and(|r| r.starts_with('/')));
        if inside && p.ends_with("/.gitattributes") {
            files.push((format!("{}{p}", repo.prefix), vec![String::new()]));
        }
    }
    for (path, targets) in files {
        let file = top.join(&path);
        // Name files under the root from there, like every other finding.
        let shown = match path.strip_prefix(&repo.prefix) {
            Some(rel) => PathBuf::from(rel),
            None => file.clone(),
        };
        if let Some((b, h)) = both(
            base,
            &path,
            &file,
            &shown,
            rules::GITATTRIBUTES_CHANGED,
            out,
        ) {
            if b == h {
                continue;
            }
            out.extend(attributes::attribute_changes(
                &shown,
                &targets,
                &text(b.as_deref()),
                &text(h.as_deref()),
            ));
        }
    }
}
