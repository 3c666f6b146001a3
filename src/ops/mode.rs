//! `agentctl mode` (the operators' stop button) and `agentctl retire`.
//!
//! Neither is ever blocked by release gates or freeze windows: stopping an
//! agent is always allowed.

use super::{Recorded, WriteOptions, actor};
use crate::repo::environment::{Action, Event, Mode};
use crate::repo::transaction;
use crate::repo::{Repo, RepoError, format_time, now};
use serde::Serialize;

/// What `mode` or `retire` did.
#[derive(Debug, Clone, Serialize)]
pub struct ModeReport {
    /// Environment.
    pub environment: String,
    /// Agent.
    pub agent: String,
    /// Version running.
    pub version: String,
    /// Mode before.
    pub previous_mode: Mode,
    /// Mode after (`None`: retired).
    pub mode: Option<Mode>,
    /// The commit.
    pub recorded: Recorded,
    /// Log lines that did not parse (kept as they are; `verify` reports them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub corrupt_log_lines: Vec<usize>,
}

fn require_reason(opts: &WriteOptions, what: &str) -> Result<String, RepoError> {
    opts.reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .ok_or_else(|| RepoError::Unsafe {
            message: format!("{what} needs a reason"),
            hint: "pass --reason \"why\"; it is logged for the next person on call".into(),
        })
}

/// Set an agent's mode in an environment. `mode: None` retires it.
pub fn set_mode(
    repo: &Repo,
    env: &str,
    agent: &str,
    mode: Option<Mode>,
    opts: &WriteOptions,
) -> Result<ModeReport, RepoError> {
    repo.environment(env)?;
    repo.check_known_agent(agent)?;
    let verb = if mode.is_some() {
        "a mode change"
    } else {
        "retiring an agent"
    };
    let reason = require_reason(opts, verb)?;
    let actor = actor(repo, opts.actor.as_deref())?;
    let (lock, start) = transaction::begin(repo, opts.record)?;
    let state = super::read_state(repo, env)?;
    // The stop button works whatever the log holds: lines that do not
    // parse are kept as they are and left for `verify` and `check` to report.
    let (events, corrupt) =
        crate::repo::environment::read_log_lenient(&repo.root, env).map_err(|message| {
            RepoError::Corrupt {
                message,
                hint: "environment files are written by agentctl; restore them from git".into(),
            }
        })?;
    let pin = state.agents.get(agent).ok_or_else(|| RepoError::Refused {
        message: format!("{agent} does not run in {env}"),
        hint: "`agentctl status` shows what runs where".into(),
    })?;
    let mut report = ModeReport {
        environment: env.to_string(),
        agent: agent.to_string(),
        version: pin.version.clone(),
        previous_mode: pin.mode,
        mode,
        recorded: Recorded::Nothing,
        corrupt_log_lines: corrupt.iter().map(|e| e.line).collect(),
    };
    if mode == Some(pin.mode) {
        return Ok(report);
    }
    let (action, version, digest) = match mode {
        Some(_) => (
            Action::Mode,
            Some(pin.version.clone()),
            Some(pin.digest.clone()),
        ),
        None => (Action::Retire, None, None),
    };
    let event = Event {
        op: 0,
        time: format_time(now()),
        action,
        agent: agent.to_string(),
        version,
        digest,
        previous_version: Some(pin.version.clone()),
        previous_digest: Some(pin.digest.clone()),
        mode,
        previous_mode: Some(pin.mode),
        actor: actor.clone(),
        reason: None,
    };
    let subject = match mode {
        Some(m) => format!("mode {agent} {} → {} in {env}", pin.mode, m),
        None => format!("retire {agent} from {env}"),
    };
    let (outcome, _, _) = super::envedit::apply(
        repo,
        &lock,
        start.as_ref(),
        super::envedit::EnvEdit {
            env,
            action,
            state: &state,
            log: &events,
            events: vec![event],
            subject,
            body: String::new(),
            actor: &actor,
            reason: Some(&reason),
            extra: Vec::new(),
        },
    )?;
    report.recorded = outcome.into();
    Ok(report)
}
