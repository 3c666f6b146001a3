//! `agentctl history ENV [NAME]`: who changed what, when and why.

use crate::repo::environment::{Action, Mode};
use crate::repo::{Repo, RepoError};
use serde::Serialize;
use std::collections::HashMap;

/// One entry, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// The operation number (events of one command share it).
    pub op: u64,
    /// When.
    pub time: String,
    /// What.
    pub action: Action,
    /// Agent.
    pub agent: String,
    /// Version before.
    pub from_version: Option<String>,
    /// Version after.
    pub to_version: Option<String>,
    /// Mode after, for mode changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// Mode before, for mode changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_mode: Option<Mode>,
    /// Who.
    pub actor: String,
    /// Why.
    pub reason: Option<String>,
    /// The commit that recorded it, when history reaches it (not in a
    /// shallow clone that cut it off, nor for `--no-commit` changes).
    pub commit: Option<String>,
    /// Why no commit is named, when none is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_note: Option<String>,
}

/// The history of an environment.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryReport {
    /// Environment.
    pub environment: String,
    /// Entries, newest first.
    pub entries: Vec<Entry>,
}

/// How many commits to search for the ones that recorded events.
const MAX_COMMITS_SEARCHED: usize = 200_000;

/// Read the history, newest first, at most `limit` entries.
pub fn history(
    repo: &Repo,
    env: &str,
    agent: Option<&str>,
    limit: Option<usize>,
) -> Result<HistoryReport, RepoError> {
    repo.environment(env)?;
    if let Some(a) = agent {
        repo.check_known_agent(a)?;
    }
    let events = super::read_log(repo, env)?;
    let mut selected: Vec<_> = events
        .iter()
        .rev()
        .filter(|e| agent.is_none_or(|a| e.agent == a))
        .collect();
    if let Some(n) = limit {
        selected.truncate(n);
    }
    let wanted: HashMap<u64, Action> = selected.iter().map(|e| (e.op, e.action)).collect();
    let commits = find_commits(repo, env, &wanted);
    let entries = selected
        .into_iter()
        .map(|e| Entry {
            op: e.op,
            from_mode: if e.action == Action::Mode {
                e.previous_mode
            } else {
                None
            },
            time: e.time.clone(),
            action: e.action,
            agent: e.agent.clone(),
            from_version: e.previous_version.clone(),
            to_version: e.version.clone(),
            mode: if e.action == Action::Mode {
                e.mode
            } else {
                None
            },
            actor: e.actor.clone(),
            reason: e.reason.clone(),
            commit_note: (!commits.contains_key(&e.op)).then(|| {
                "no commit in this clone's history recorded it (a shallow clone, or a --no-commit change)".to_string()
            }),
            commit: commits.get(&e.op).cloned(),
        })
        .collect();
    Ok(HistoryReport {
        environment: env.to_string(),
        entries,
    })
}

/// The commit agentctl made for each wanted op: reachable from HEAD, with
/// the full trailer set (`Agentctl-Action`, `-Environment`, `-Op`) and a
/// change to the environment's log that appends that op's events. A commit
/// that merely carries an `Agentctl-Op:` line (written by hand) is not it.
fn find_commits(repo: &Repo, env: &str, wanted: &HashMap<u64, Action>) -> HashMap<u64, String> {
    let mut found = HashMap::new();
    let Some(git) = &repo.git else { return found };
    let Ok(mut walk) = git.revwalk() else {
        return found;
    };
    if walk.push_head().is_err() {
        return found;
    }
    let needle = format!("Agentctl-Op: {env}#");
    let log_path = format!("{}{}", repo.prefix, crate::repo::environment::log_path(env));
    for oid in walk.take(MAX_COMMITS_SEARCHED) {
        if found.len() == wanted.len() {
            break;
        }
        let Ok(oid) = oid else { break };
        let Ok(commit) = git.find_commit(oid) else {
            break;
        };
        let Ok(message) = commit.message() else {
            continue;
        };
        let trailer = |key: &str| {
            message
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(str::trim)
                .map(str::to_string)
        };
        let Some(n) = message
            .lines()
            .find_map(|l| l.strip_prefix(&needle))
            .and_then(|n| n.trim().parse::<u64>().ok())
        else {
            continue;
        };
        let Some(action) = wanted.get(&n) else {
            continue;
        };
        if found.contains_key(&n)
            || trailer("Agentctl-Action: ").as_deref() != Some(action.as_str())
            || trailer("Agentctl-Environment: ").as_deref() != Some(env)
            || commit.parent_count() != 1
        {
            continue;
        }
        if appends_op(git, &commit, &log_path, n) {
            found.insert(n, oid.to_string());
        }
    }
    found
}

/// Whether `commit` added log lines of op `n` to `log_path`.
fn appends_op(git: &git2::Repository, commit: &git2::Commit, log_path: &str, n: u64) -> bool {
    let text = |c: &git2::Commit| -> String {
        c.tree()
            .ok()
            .and_then(|t| t.get_path(std::path::Path::new(log_path)).ok())
            .and_then(|e| git.find_blob(e.id()).ok())
            .map(|b| String::from_utf8_lossy(b.content()).into_owned())
            .unwrap_or_default()
    };
    let after = text(commit);
    let before = commit.parent(0).map(|p| text(&p)).unwrap_or_default();
    let Some(added) = after.strip_prefix(before.as_str()) else {
        return false;
    };
    crate::repo::environment::parse_log_lenient(added)
        .0
        .iter()
        .any(|e| e.op == n)
}
