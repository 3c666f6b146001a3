//! Operations on the managed repository, one module per command.
//!
//! Each operation takes a [`Repo`] and options, and returns a report struct
//! that the CLI renders; none of them print.

pub mod admission;
pub mod docs;
pub mod envedit;
pub mod evals;
pub mod history;
pub mod init;
pub mod mode;
pub mod promote;
pub mod release;
pub mod rollback;
pub mod scaffold;
pub mod sign;
pub mod status;
pub mod verify;

use crate::repo::environment::{self, EnvState, Event};
use crate::repo::transaction::{Outcome, Record};
use crate::repo::{Repo, RepoError, remote};
use serde::Serialize;

/// Options every state-changing operation shares.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// Who is acting; defaults to the git identity.
    pub actor: Option<String>,
    /// Why (required for rollback and mode).
    pub reason: Option<String>,
    /// Commit, or write files only.
    pub record: Record,
}

/// The actor: `--actor`, or `user.name <user.email>` from git config.
pub fn actor(repo: &Repo, given: Option<&str>) -> Result<String, RepoError> {
    if let Some(a) = given {
        let a = a.trim();
        if !a.is_empty() {
            return Ok(a.to_string());
        }
    }
    let from_git = repo
        .git
        .as_ref()
        .and_then(|g| g.signature().ok())
        .and_then(|s| Some(format!("{} <{}>", s.name().ok()?, s.email().ok()?)));
    from_git.ok_or_else(|| RepoError::Unsafe {
        message: "no actor: git has no user.name/user.email and --actor was not given".into(),
        hint: "pass `--actor \"Name <email>\"` or set `git config user.name` and `user.email`"
            .into(),
    })
}

/// Read an environment's state and log (for commands that change it).
pub fn read_env(repo: &Repo, env: &str) -> Result<(EnvState, Vec<Event>), RepoError> {
    environment::read(&repo.root, env).map_err(env_corrupt)
}

/// Read what an environment runs, without its ever-growing log.
pub fn read_state(repo: &Repo, env: &str) -> Result<EnvState, RepoError> {
    environment::read_state(&repo.root, env).map_err(env_corrupt)
}

/// Read an environment's log.
pub fn read_log(repo: &Repo, env: &str) -> Result<Vec<Event>, RepoError> {
    environment::read_log(&repo.root, env).map_err(env_corrupt)
}

fn env_corrupt(message: String) -> RepoError {
    RepoError::Corrupt {
        message,
        hint: "environment files are written by agentctl; restore them from git".into(),
    }
}

/// The next operation number in a log.
pub fn next_op(events: &[Event]) -> u64 {
    events.iter().map(|e| e.op).max().unwrap_or(0) + 1
}

/// The commit (if any) a state change made, for reports.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "recorded", rename_all = "kebab-case")]
pub enum Recorded {
    /// One commit.
    Commit {
        /// Its id.
        commit: String,
    },
    /// Files written without a commit.
    FilesOnly,
    /// Nothing changed.
    Nothing,
    /// A dry run: nothing written.
    DryRun,
}

impl From<Outcome> for Recorded {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Committed(commit) => Recorded::Commit { commit },
            Outcome::Written => Recorded::FilesOnly,
        }
    }
}

impl Recorded {
    /// The commit made, if any.
    pub fn commit(&self) -> Option<&str> {
        match self {
            Recorded::Commit { commit } => Some(commit),
            _ => None,
        }
    }
}

/// Run a state-changing operation and push its commit to `remote`, redoing
/// it on top of the remote's new state (every gate re-checked) when another
/// runner pushed first, up to [`remote::MAX_PUSH_ATTEMPTS`] times.
pub fn with_push<T, E: From<RepoError>>(
    root: &std::path::Path,
    remote_name: &str,
    mut op: impl FnMut(&Repo) -> Result<T, E>,
    recorded: impl Fn(&T) -> &Recorded,
) -> Result<T, E> {
    for _ in 0..remote::MAX_PUSH_ATTEMPTS {
        let repo = Repo::open(root)?;
        let branch = remote::current_branch(&repo)?;
        remote::sync(&repo, remote_name, &branch)?;
        let result = op(&repo)?;
        let Some(commit) = recorded(&result).commit() else {
            return Ok(result);
        };
        let commit = git2::Oid::from_str(commit).map_err(RepoError::from)?;
        crate::repo::transaction::fault_point("push");
        match remote::push(&repo, remote_name, &branch) {
            Ok(remote::Pushed::Accepted) => return Ok(result),
            Ok(remote::Pushed::Rejected) => remote::drop_own_commit(&repo, commit)?,
            // The remote refused for another reason (a hook, an outage): undo
            // the local commit too, so nothing is left half-done and a retry
            // redoes the whole operation.
            Err(e) => {
                remote::drop_own_commit(&repo, commit)?;
                return Err(e.into());
            }
        }
    }
    Err(RepoError::Conflict(format!(
        "{remote_name} kept moving: gave up after {} attempts; nothing was pushed",
        remote::MAX_PUSH_ATTEMPTS
    ))
    .into())
}

/// Append events to an environment's log text.
pub fn log_with(repo: &Repo, env: &str, events: &[Event]) -> Result<Vec<u8>, RepoError> {
    let rel = environment::log_path(env);
    let mut text = crate::files::read_text(
        &repo.root,
        std::path::Path::new(&rel),
        environment::MAX_LOG_BYTES,
    )?
    .unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&environment::format_events(events));
    Ok(text.into_bytes())
}
