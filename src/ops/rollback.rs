//! `agentctl rollback ENV [NAME] [--to VERSION] --reason R`: pin an earlier
//! release again, as a forward change.

use super::{Recorded, WriteOptions, actor, read_env};
use crate::repo::Layout;
use crate::repo::environment::{self, Action, Event, Pin};
use crate::repo::transaction;
use crate::repo::{Repo, RepoError, format_time, now};
use serde::Serialize;

/// Options for a rollback.
#[derive(Debug, Clone)]
pub struct RollbackOptions {
    /// Environment.
    pub env: String,
    /// One agent, or every agent the last promotion changed.
    pub agent: Option<String>,
    /// Target version (default: the one that ran before).
    pub to: Option<String>,
    /// Shared write options (reason required).
    pub write: WriteOptions,
    /// A trust root directory (see `admission::TrustRoot`).
    pub trust_root: Option<std::path::PathBuf>,
    /// allowed_signers from outside the repository.
    pub allowed_signers: Option<std::path::PathBuf>,
    /// Signer roles from outside the repository.
    pub signer_roles: Option<std::path::PathBuf>,
}

/// One agent's rollback.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackStep {
    /// Agent.
    pub agent: String,
    /// Version running before.
    pub from_version: String,
    /// Version pinned after; `None` when the agent is removed because the
    /// promotion being undone added it.
    pub to_version: Option<String>,
}

/// What `rollback` did.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackReport {
    /// Environment.
    pub environment: String,
    /// Steps taken.
    pub steps: Vec<RollbackStep>,
    /// The commit.
    pub recorded: Recorded,
}

/// (agent, current pin, target (version, digest) or `None` to remove)
type Step = (String, Pin, Option<(String, String)>);

fn usage(message: String, hint: String) -> RepoError {
    RepoError::Unsafe { message, hint }
}

fn refuse(message: String, hint: String) -> RepoError {
    RepoError::Refused { message, hint }
}

/// Roll back.
pub fn rollback(repo: &Repo, opts: &RollbackOptions) -> Result<RollbackReport, RepoError> {
    repo.environment(&opts.env)?;
    if let Some(a) = &opts.agent {
        repo.check_known_agent(a)?;
    }
    if let Some(v) = &opts.to {
        Layout::check_version(v)?;
    }
    let reason = opts
        .write
        .reason
        .as_deref()
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| {
            usage(
                "a rollback needs a reason".into(),
                "pass --reason \"what went wrong\"".into(),
            )
        })?;
    let actor = actor(repo, opts.write.actor.as_deref())?;
    let (lock, start) = transaction::begin(repo, opts.write.record)?;
    let (state, events) = read_env(repo, &opts.env)?;
    let env = &opts.env;

    // (agent, current pin, target (version, digest) or None to remove)
    let mut plan: Vec<Step> = Vec::new();
    match &opts.agent {
        Some(name) => {
            let current = state.agents.get(name).ok_or_else(|| {
                refuse(
                    format!("{name} does not run in {env}"),
                    "`agentctl status` shows what runs where".to_string(),
                )
            })?;
            let target = match &opts.to {
                Some(v) => {
                    let meta = repo.release_meta(name, v)?.ok_or_else(|| {
                        usage(
                            format!("{name}@{v} is not released"),
                            repo.releases_hint(name),
                        )
                    })?;
                    (v.clone(), meta.digest)
                }
                None => environment::rollback_target(&events, name, &current.version)
                    .map(|(v, d)| (v.to_string(), d.to_string()))
                    .ok_or_else(|| {
                        refuse(
                            format!("{env} has no earlier release of {name} to roll back to"),
                            "name one with --to VERSION, or `agentctl retire` it".into(),
                        )
                    })?,
            };
            if target.0 == current.version && target.1 == current.digest {
                return Err(refuse(
                    format!("{env} already runs {name} {}", current.version),
                    "name another version with --to".into(),
                ));
            }
            plan.push((name.clone(), current.clone(), Some(target)));
        }
        None => {
            if opts.to.is_some() {
                return Err(usage(
                    "--to needs an agent name".into(),
                    format!("`agentctl rollback {env} NAME --to VERSION`"),
                ));
            }
            let last = events
                .iter()
                .filter(|e| e.action == Action::Promote)
                .map(|e| e.op)
                .max()
                .ok_or_else(|| {
                    refuse(
                        format!("{env} has no promotion to roll back"),
                        String::new(),
                    )
                })?;
            for e in events.iter().filter(|e| e.op == last) {
                let Some(current) = state.agents.get(&e.agent) else {
                    continue;
                };
                if Some(&current.digest) != e.digest.as_ref() {
                    // Changed again since; leave it to a per-agent rollback.
                    continue;
                }
                let target = e.previous_version.clone().zip(e.previous_digest.clone());
                plan.push((e.agent.clone(), current.clone(), target));
            }
            if plan.is_empty() {
                return Err(refuse(
                    format!("the last promotion to {env} has already been undone or superseded"),
                    format!("roll back one agent: `agentctl rollback {env} NAME`"),
                ));
            }
        }
    }

    // Every target goes through the one gate engine. A release this
    // environment ran before skips only the freeze and promotion-order
    // gates; one it never ran is a promotion and meets every gate.
    let root = super::admission::TrustRoot::load(
        repo,
        opts.trust_root.as_deref(),
        opts.allowed_signers.as_deref(),
        opts.signer_roles.as_deref(),
    )?;
    let eff = root.effective(repo, env)?;
    let clock = now();
    for (name, _, target) in &plan {
        if let Some((v, d)) = target {
            let ran_before = events.iter().any(|e| {
                e.agent == *name
                    && e.version.as_deref() == Some(v.as_str())
                    && e.digest.as_deref() == Some(d.as_str())
            });
            let eval = super::admission::evaluate(
                repo,
                &root,
                env,
                &eff,
                super::admission::Candidate {
                    name,
                    version: v,
                    digest: d,
                },
                super::admission::Route::Rollback { ran_before },
                clock,
            )?;
            let failed: Vec<String> = eval
                .gates
                .iter()
                .filter(|g| !g.passed)
                .map(|g| format!("{}: {}", g.gate, g.message))
                .collect();
            if !failed.is_empty() {
                let how = if ran_before {
                    format!("{name}@{v} ran in {env} before, but it no longer passes")
                } else {
                    format!("{name}@{v} never ran in {env}, so rolling to it is a promotion")
                };
                return Err(refuse(
                    format!("{how}: {}", failed.join("; ")),
                    eval.gates
                        .iter()
                        .find(|g| !g.passed)
                        .and_then(|g| g.hint.clone())
                        .unwrap_or_default(),
                ));
            }
        }
    }

    let time = format_time(now());
    let mut new_events = Vec::new();
    let mut steps = Vec::new();
    for (name, current, target) in &plan {
        new_events.push(Event {
            op: 0,
            time: time.clone(),
            action: Action::Rollback,
            agent: name.clone(),
            version: target.as_ref().map(|t| t.0.clone()),
            digest: target.as_ref().map(|t| t.1.clone()),
            previous_version: Some(current.version.clone()),
            previous_digest: Some(current.digest.clone()),
            mode: target.as_ref().map(|_| current.mode),
            previous_mode: Some(current.mode),
            actor: actor.clone(),
            reason: None,
        });
        steps.push(RollbackStep {
            agent: name.clone(),
            from_version: current.version.clone(),
            to_version: target.as_ref().map(|t| t.0.clone()),
        });
    }
    let subject = match steps.as_slice() {
        [s] => format!(
            "rollback {} {} → {} in {env}",
            s.agent,
            s.from_version,
            s.to_version.as_deref().unwrap_or("(removed)")
        ),
        ss => format!("rollback {} agents in {env}", ss.len()),
    };
    let mut body = String::new();
    for s in &steps {
        body.push_str(&format!(
            "  {}: {} → {}\n",
            s.agent,
            s.from_version,
            s.to_version.as_deref().unwrap_or("(removed)")
        ));
    }
    let (outcome, _, _) = super::envedit::apply(
        repo,
        &lock,
        start.as_ref(),
        super::envedit::EnvEdit {
            env,
            action: Action::Rollback,
            state: &state,
            log: &events,
            events: new_events,
            subject,
            body,
            actor: &actor,
            reason: Some(reason),
            extra: Vec::new(),
        },
    )?;
    Ok(RollbackReport {
        environment: env.clone(),
        steps,
        recorded: outcome.into(),
    })
}
