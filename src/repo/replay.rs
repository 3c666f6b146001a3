//! Re-applying agentctl operations that never reached the remote.
//!
//! A `--push` runner killed between its local commit and its push leaves a
//! branch that has diverged from the remote's. Its next `--push` replays
//! those commits on the remote's tip, one by one, as what they are:
//!
//! - new files under `releases/` (a release, a signature, an eval record)
//!   are added unless the remote already has the same bytes; different
//!   bytes at the same path are a conflict (a release never changes);
//! - the events each commit appended to an environment's log are appended
//!   to the remote's log with fresh op numbers, and applied to the remote's
//!   pins, but only where the pin is still what the event started from
//!   (the state the operation's gates were judged on); otherwise the
//!   operation is refused, naming what changed;
//! - anything else (a commit made by hand, a change outside agentctl's
//!   directories) is not replayed: the branch must be reconciled by hand.

use super::environment::{self, Action, EnvState, Pin};
use super::{Repo, RepoError};
use git2::{Oid, Repository, Tree};
use std::collections::BTreeMap;
use std::path::Path;

/// Replay the commits `remote_tip..local` on `remote_tip`; returns the new tip.
pub fn replay_unpushed(
    repo: &Repo,
    local: Oid,
    remote_tip: Oid,
    remote: &str,
    branch: &str,
) -> Result<Oid, RepoError> {
    let git = repo.git()?;
    let mut walk = git.revwalk()?;
    walk.push(local)?;
    walk.hide(remote_tip)?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
    let commits: Vec<Oid> = walk.collect::<Result<_, _>>()?;
    let mut tip = remote_tip;
    for oid in commits {
        tip = replay_one(repo, git, oid, tip, remote, branch)?;
    }
    Ok(tip)
}

fn diverged(remote: &str, branch: &str, why: String) -> RepoError {
    RepoError::Unsafe {
        message: format!("{branch} and {remote}/{branch} have diverged: {why}"),
        hint: format!(
            "agentctl re-applies only its own unpushed commits; reconcile the others by hand (`git log {remote}/{branch}..{branch}`)"
        ),
    }
}

fn replay_one(
    repo: &Repo,
    git: &Repository,
    oid: Oid,
    onto: Oid,
    remote: &str,
    branch: &str,
) -> Result<Oid, RepoError> {
    let commit = git.find_commit(oid)?;
    let short = &oid.to_string()[..8];
    let message = commit.message().unwrap_or_default().to_string();
    if commit.parent_count() != 1 || !message.contains("\nAgentctl-Action: ") {
        return Err(diverged(
            remote,
            branch,
            format!("{short} is not an agentctl commit"),
        ));
    }
    let parent = commit.parent(0)?.tree()?;
    let ours = commit.tree()?;
    let onto_commit = git.find_commit(onto)?;
    let base = onto_commit.tree()?;
    let diff = git.diff_tree_to_tree(Some(&parent), Some(&ours), None)?;
    let prefix = &repo.prefix;
    let mut update = git2::build::TreeUpdateBuilder::new();
    let mut envs: BTreeMap<String, ()> = BTreeMap::new();
    let mut renumber: BTreeMap<(String, u64), u64> = BTreeMap::new();
    for delta in diff.deltas() {
        let path = delta
            .new_file()
            .path()
            .or_else(|| delta.old_file().path())
            .and_then(Path::to_str)
            .unwrap_or_default()
            .to_string();
        let Some(rel) = path.strip_prefix(prefix.as_str()) else {
            return Err(diverged(remote, branch, format!("{short} changes {path}")));
        };
        if let Some(env) = rel
            .strip_prefix("environments/")
            .and_then(|f| f.strip_suffix(".log").or_else(|| f.strip_suffix(".yaml")))
        {
            envs.insert(env.to_string(), ());
        } else if rel.starts_with("releases/") {
            if delta.status() != git2::Delta::Added && delta.status() != git2::Delta::Modified {
                return Err(diverged(remote, branch, format!("{short} removes {path}")));
            }
            let new_id = delta.new_file().id();
            match base.get_path(Path::new(&path)) {
                Ok(e) if e.id() == new_id => {}
                Ok(_) if rel.contains("/signatures/") => {
                    // A newer signature by the same principal on the remote
                    // wins; ours is dropped rather than replacing it.
                }
                Ok(_) => {
                    return Err(RepoError::Refused {
                        message: format!(
                            "cannot re-apply unpushed commit {short} ({}): {remote} already has other content at {rel}",
                            commit.summary().ok().flatten().unwrap_or_default()
                        ),
                        hint: format!(
                            "a release never changes: drop the unpushed commit (`git reset --hard {remote}/{branch}`) and run the command again"
                        ),
                    });
                }
                Err(_) => {
                    update.upsert(&path, new_id, git2::FileMode::Blob);
                }
            }
        } else {
            return Err(diverged(remote, branch, format!("{short} changes {path}")));
        }
    }
    for env in envs.keys() {
        let (log, state) = replay_env(
            git,
            &commit,
            &parent,
            &ours,
            &base,
            prefix,
            env,
            &mut renumber,
        )?;
        update.upsert(
            format!("{prefix}{}", environment::log_path(env)),
            git.blob(&log)?,
            git2::FileMode::Blob,
        );
        update.upsert(
            format!("{prefix}{}", environment::state_path(env)),
            git.blob(state.to_yaml().as_bytes())?,
            git2::FileMode::Blob,
        );
    }
    let tree = git.find_tree(update.create_updated(git, &base)?)?;
    let message = renumbered_message(&message, &renumber);
    let committer = git
        .signature()
        .unwrap_or_else(|_| commit.committer().to_owned());
    let new = git.commit(
        None,
        &commit.author(),
        &committer,
        &message,
        &tree,
        &[&onto_commit],
    )?;
    Ok(new)
}

fn blob_text(git: &Repository, tree: &Tree, path: &str) -> Result<String, RepoError> {
    match tree.get_path(Path::new(path)) {
        Ok(e) => Ok(String::from_utf8_lossy(git.find_blob(e.id())?.content()).into_owned()),
        Err(_) => Ok(String::new()),
    }
}

#[allow(clippy::too_many_arguments)]
fn replay_env(
    git: &Repository,
    commit: &git2::Commit,
    parent: &Tree,
    ours: &Tree,
    base: &Tree,
    prefix: &str,
    env: &str,
    renumber: &mut BTreeMap<(String, u64), u64>,
) -> Result<(Vec<u8>, EnvState), RepoError> {
    let log_path = format!("{prefix}{}", environment::log_path(env));
    let state_path = format!("{prefix}{}", environment::state_path(env));
    let before = blob_text(git, parent, &log_path)?;
    let after = blob_text(git, ours, &log_path)?;
    let short = &commit.id().to_string()[..8];
    let Some(appended) = after.strip_prefix(before.as_str()) else {
        return Err(RepoError::Unsafe {
            message: format!(
                "unpushed commit {short} rewrites environments/{env}.log instead of appending to it"
            ),
            hint: "reconcile the branch by hand".into(),
        });
    };
    let corrupt = |e: environment::LogError| RepoError::Corrupt {
        message: format!("environments/{env}.log: {e}"),
        hint: "environment files are written by agentctl; restore them from git".into(),
    };
    let events = environment::parse_log(appended).map_err(corrupt)?;
    let mut remote_log = blob_text(git, base, &log_path)?;
    let (remote_events, _) = environment::parse_log_lenient(&remote_log);
    let mut next = remote_events.iter().map(|e| e.op).max().unwrap_or(0) + 1;
    let mut state = EnvState::parse(&blob_text(git, base, &state_path)?).map_err(|message| {
        RepoError::Corrupt {
            message: format!("environments/{env}.yaml: {message}"),
            hint: "environment files are written by agentctl; restore them from git".into(),
        }
    })?;
    let mut fresh = Vec::new();
    for mut e in events {
        let key = (env.to_string(), e.op);
        let op = *renumber.entry(key).or_insert_with(|| {
            let n = next;
            next += 1;
            n
        });
        let current = state.agents.get(&e.agent);
        let started_from = (e.previous_version.as_deref(), e.previous_digest.as_deref());
        let now = (
            current.map(|p| p.version.as_str()),
            current.map(|p| p.digest.as_str()),
        );
        let mode_moved = e.action == Action::Mode && current.map(|p| p.mode) != e.previous_mode;
        if started_from != now || mode_moved {
            return Err(RepoError::Refused {
                message: format!(
                    "cannot re-apply unpushed commit {short} ({}): in {env}, {} now runs {} on the remote, not {}",
                    commit.summary().ok().flatten().unwrap_or_default(),
                    e.agent,
                    describe(current),
                    e.previous_version.as_deref().unwrap_or("nothing")
                ),
                hint: "the remote changed the same agent meanwhile: drop the unpushed commit (`git reset --hard` to the remote branch) and decide again".into(),
            });
        }
        environment::apply_event(&mut state, &e);
        e.op = op;
        fresh.push(e);
    }
    if !remote_log.is_empty() && !remote_log.ends_with('\n') {
        remote_log.push('\n');
    }
    remote_log.push_str(&environment::format_events(&fresh));
    Ok((remote_log.into_bytes(), state))
}

fn describe(pin: Option<&Pin>) -> String {
    match pin {
        Some(p) => format!("{} ({})", p.version, p.mode),
        None => "nothing".into(),
    }
}

/// The commit message with its `Agentctl-Op: ENV#N` trailers renumbered.
fn renumbered_message(message: &str, renumber: &BTreeMap<(String, u64), u64>) -> String {
    message
        .lines()
        .map(|line| {
            let Some(rest) = line.strip_prefix("Agentctl-Op: ") else {
                return line.to_string();
            };
            let ops: Vec<String> = rest
                .split(", ")
                .map(|op| {
                    match op
                        .split_once('#')
                        .and_then(|(env, n)| Some((env, n.parse::<u64>().ok()?)))
                        .and_then(|(env, n)| renumber.get(&(env.to_string(), n)).map(|m| (env, m)))
                    {
                        Some((env, m)) => format!("{env}#{m}"),
                        None => op.to_string(),
                    }
                })
                .collect();
            format!("Agentctl-Op: {}", ops.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
