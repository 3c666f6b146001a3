//! The one way an environment changes: append events, and let the pins,
//! the log, the op number and the commit's trailers follow from them.
//!
//! `promote`, `rollback`, `mode` and `retire` each decide which events to
//! append (after their gates); this module writes them, so the four cannot
//! record the same fact four ways.

use super::log_with;
use crate::repo::Lock;
use crate::repo::environment::{self, Action, EnvState, Event, log_path, state_path};
use crate::repo::transaction::{self, Change, Message, Outcome, Start};
use crate::repo::{Repo, RepoError};

/// One environment edit.
pub struct EnvEdit<'a> {
    /// The environment.
    pub env: &'a str,
    /// What kind of change (the commit's `Agentctl-Action`).
    pub action: Action,
    /// What the environment runs now.
    pub state: &'a EnvState,
    /// Its log's events (for the next op number).
    pub log: &'a [Event],
    /// The new events; their `op` is set here.
    pub events: Vec<Event>,
    /// The commit's subject.
    pub subject: String,
    /// The commit's body.
    pub body: String,
    /// Who (the `Agentctl-Actor` trailer).
    pub actor: &'a str,
    /// Why, as recorded (trimmed the same way by every command).
    pub reason: Option<&'a str>,
    /// Files written in the same commit (a promotion's new releases).
    pub extra: Vec<Change>,
}

/// A reason as every command records it: trimmed; empty is none.
pub fn recorded_reason(reason: Option<&str>) -> Option<String> {
    reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}

/// Write the edit as one commit (or files only): returns the outcome, the
/// op number given to its events, and the events as written.
pub fn apply(
    repo: &Repo,
    lock: &Lock,
    start: Option<&Start>,
    mut edit: EnvEdit<'_>,
) -> Result<(Outcome, u64, Vec<Event>), RepoError> {
    let op = super::next_op(edit.log);
    let reason = recorded_reason(edit.reason);
    let mut state = edit.state.clone();
    for e in &mut edit.events {
        e.op = op;
        e.reason = reason.clone();
        environment::apply_event(&mut state, e);
    }
    let env = edit.env;
    let mut changes = edit.extra;
    changes.push(Change::write(state_path(env), state.to_yaml()));
    changes.push(Change::write(
        log_path(env),
        log_with(repo, env, &edit.events)?,
    ));
    let mut message = Message {
        subject: edit.subject,
        body: edit.body,
        ..Message::default()
    };
    message.trailer("Action", edit.action.as_str());
    message.trailer("Environment", env);
    for e in &edit.events {
        message.trailer("Agent", &e.agent);
        message.trailer("Version", e.version.as_deref().unwrap_or("none"));
        message.trailer("Digest", e.digest.as_deref().unwrap_or("none"));
        if edit.action == Action::Mode
            && let Some(m) = e.mode
        {
            message.trailer("Mode", m.as_str());
        }
    }
    message.trailer("Actor", edit.actor);
    if let Some(r) = &reason {
        message.trailer("Reason", r);
    }
    message.trailer("Op", &format!("{env}#{op}"));
    let outcome = transaction::apply(repo, lock, start, &changes, &message)?;
    Ok((outcome, op, edit.events))
}
