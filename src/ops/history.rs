//! `agentctl history ENV [NAME]`: who changed what, when and why.

use crate::repo::environment::{Action, Mode};
use crate::repo::{Repo, RepoError};
use serde::Serialize;
use std::collections::HashMap;

/// One entry, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
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
    /// Who.
    pub actor: String,
    /// Why.
    pub reason: Option<String>,
    /// The commit that recorded it, when history reaches it (not in a
    /// shallow clone that cut it off, nor for `--no-commit` changes).
    pub commit: Option<String>,
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
    let events = super::read_log(repo, env)?;
    let mut selected: Vec<_> = events
        .iter()
        .rev()
        .filter(|e| agent.is_none_or(|a| e.agent == a))
        .collect();
    if let Some(n) = limit {
        selected.truncate(n);
    }
    let wanted: std::collections::HashSet<u64> = selected.iter().map(|e| e.op).collect();
    let commits = find_commits(repo, env, &wanted);
    let entries = selected
        .into_iter()
        .map(|e| Entry {
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
            commit: commits.get(&e.op).cloned(),
        })
        .collect();
    Ok(HistoryReport {
        environment: env.to_string(),
        entries,
    })
}

fn find_commits(
    repo: &Repo,
    env: &str,
    wanted: &std::collections::HashSet<u64>,
) -> HashMap<u64, String> {
    let mut found = HashMap::new();
    let Some(git) = &repo.git else { return found };
    let Ok(mut walk) = git.revwalk() else {
        return found;
    };
    if walk.push_head().is_err() {
        return found;
    }
    let needle = format!("Agentctl-Op: {env}#");
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
        for line in message.lines() {
            if let Some(n) = line
                .strip_prefix(&needle)
                .and_then(|n| n.trim().parse::<u64>().ok())
                && wanted.contains(&n)
            {
                found.entry(n).or_insert_with(|| oid.to_string());
            }
        }
    }
    found
}
