//! `agentctl promote ENV [NAME…]`: move releases into an environment
//! through every gate, all or nothing.

use super::admission::{self, TrustRoot};
use super::release::{Prepared, ReleaseError, prepare, release_files};
use super::{Recorded, WriteOptions, actor, read_env};
use crate::policy::{self, GateResult};
use crate::repo::environment::{Action, Event, Mode};
use crate::repo::transaction::{self, Change};
use crate::repo::{Repo, RepoError, format_time, now};
use serde::Serialize;
use std::collections::BTreeMap;

/// Options for a promotion.
#[derive(Debug, Clone)]
pub struct PromoteOptions {
    /// Target environment.
    pub env: String,
    /// Only these agents (default: every candidate).
    pub agents: Vec<String>,
    /// Report the plan and gates; write nothing.
    pub dry_run: bool,
    /// Shared write options.
    pub write: WriteOptions,
    /// allowed_signers from outside the repository (the deploy job's trust root).
    pub allowed_signers: Option<std::path::PathBuf>,
    /// Signer roles from outside the repository.
    pub signer_roles: Option<std::path::PathBuf>,
    /// A trust root directory (allowed signers, roles, environment policies).
    pub trust_root: Option<std::path::PathBuf>,
}

/// One agent's planned move.
#[derive(Debug, Clone, Serialize)]
pub struct Move {
    /// Agent.
    pub agent: String,
    /// Version the environment runs now.
    pub from_version: Option<String>,
    /// Version it will run.
    pub to_version: String,
    /// Digest it will run.
    pub to_digest: String,
    /// Whether the release is created on the way (first environment only).
    pub new_release: bool,
    /// Mode after the move (an operator's stop survives a promotion).
    pub mode: Mode,
    /// Every gate's result.
    pub gates: Vec<GateResult>,
}

impl Move {
    /// Whether every gate passed.
    pub fn passed(&self) -> bool {
        self.gates.iter().all(|g| g.passed)
    }
}

/// What `promote` found and did.
#[derive(Debug, Clone, Serialize)]
pub struct PromoteReport {
    /// Target environment.
    pub environment: String,
    /// Where candidates came from: an environment, or `agents/` for source.
    pub source: String,
    /// Planned moves, each with its gates.
    pub moves: Vec<Move>,
    /// Whether every move passed every gate.
    pub passed: bool,
    /// What was written.
    pub recorded: Recorded,
}

/// Errors before any gate could run.
#[derive(Debug, thiserror::Error)]
pub enum PromoteError {
    /// The repository refused.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// A named agent does not exist (exit 2: an unknown thing).
    #[error("{0}")]
    NotACandidate(String, String),
    /// A named agent exists but the source environment does not run it
    /// (exit 1: the answer is no).
    #[error("{0}")]
    NotInSource(String, String),
}

impl PromoteError {
    /// A hint for the CLI.
    pub fn hint(&self) -> Option<&str> {
        match self {
            PromoteError::NotACandidate(_, h) | PromoteError::NotInSource(_, h) => Some(h),
            PromoteError::Repo(_) => None,
        }
    }
}

/// Plan, gate and (unless a dry run or a gate fails) apply a promotion.
pub fn promote(repo: &Repo, opts: &PromoteOptions) -> Result<PromoteReport, PromoteError> {
    let (index, env_cfg) = repo.environment(&opts.env)?;
    for a in &opts.agents {
        repo.check_known_agent(a)?;
    }
    let mut wanted: Vec<String> = Vec::new();
    for a in &opts.agents {
        if !wanted.contains(a) {
            wanted.push(a.clone());
        }
    }
    let opts = &PromoteOptions {
        agents: wanted,
        ..opts.clone()
    };
    let from_source = index == 0 || !env_cfg.promote_from_previous;
    let actor = actor(repo, opts.write.actor.as_deref())?;
    let locked = if opts.dry_run {
        None
    } else {
        Some(transaction::begin(repo, opts.write.record)?)
    };
    let (state, log) = read_env(repo, &opts.env)?;
    let now = now();
    let root = TrustRoot::load(
        repo,
        opts.trust_root.as_deref(),
        opts.allowed_signers.as_deref(),
        opts.signer_roles.as_deref(),
    )?;
    let eff = root.effective(repo, &opts.env)?;
    let env_cfg = &eff.config;
    let freeze = policy::freeze_gate(env_cfg, now);
    let envs = crate::render::RenderEnv::all(&repo.config);

    let mut moves = Vec::new();
    let mut new_releases: Vec<(String, Prepared)> = Vec::new();
    let source;
    if from_source {
        source = "agents/".to_string();
        let names = if opts.agents.is_empty() {
            repo.agent_names()?
        } else {
            opts.agents.clone()
        };
        for name in names {
            let current = state.agents.get(&name);
            match prepare(repo, &name) {
                Ok(p) => {
                    if current.is_some_and(|c| c.digest == p.digest.digest) {
                        continue;
                    }
                    let mut gates = vec![freeze.clone()];
                    gates.extend(policy::gates_for(&p.checked, &repo.agent_dir(&name)));
                    if p.exists {
                        gates.push(policy::integrity_gate(
                            repo,
                            &name,
                            &p.version,
                            &p.digest.digest,
                        ));
                    }
                    moves.push(Move {
                        agent: name.clone(),
                        from_version: current.map(|c| c.version.clone()),
                        to_version: p.version.clone(),
                        to_digest: p.digest.digest.clone(),
                        new_release: !p.exists,
                        mode: current.map(|c| c.mode).unwrap_or_default(),
                        gates,
                    });
                    if !p.exists {
                        new_releases.push((name, p));
                    }
                }
                Err(ReleaseError::NoSuchAgent(n)) => {
                    return Err(PromoteError::NotACandidate(
                        format!("no agent `{n}` under agents/"),
                        repo.agents_hint(),
                    ));
                }
                Err(ReleaseError::Repo(e)) => return Err(e.into()),
                Err(e @ ReleaseError::Uncommitted { .. }) => {
                    let mut gates = vec![freeze.clone()];
                    gates.push(policy::GateResult::fail(
                        "committed",
                        format!("{e}"),
                        "a release freezes the committed bundle: commit the changes, or remove untracked and ignored files from the bundle directory",
                    ));
                    let version = crate::bundle::load_manifest(&repo.agent_dir(&name))
                        .map(|l| l.manifest.version)
                        .unwrap_or_else(|_| "?".into());
                    moves.push(Move {
                        agent: name.clone(),
                        from_version: current.map(|c| c.version.clone()),
                        to_version: version,
                        to_digest: String::new(),
                        new_release: true,
                        mode: current.map(|c| c.mode).unwrap_or_default(),
                        gates,
                    });
                }
                Err(ReleaseError::NotReady { checked, .. }) => {
                    let version = checked
                        .manifest
                        .as_ref()
                        .map(|m| m.manifest.version.clone())
                        .unwrap_or_else(|| "?".into());
                    // Not ready means an error finding, so at least one gate fails.
                    let mut gates = vec![freeze.clone()];
                    gates.extend(policy::gates_for(&checked, &repo.agent_dir(&name)));
                    moves.push(Move {
                        agent: name.clone(),
                        from_version: current.map(|c| c.version.clone()),
                        to_version: version,
                        to_digest: String::new(),
                        new_release: true,
                        mode: current.map(|c| c.mode).unwrap_or_default(),
                        gates,
                    });
                }
                Err(ReleaseError::VersionReused {
                    version,
                    existing,
                    current: cur,
                    ..
                }) => {
                    moves.push(Move {
                        agent: name.clone(),
                        from_version: current.map(|c| c.version.clone()),
                        to_version: version.clone(),
                        to_digest: cur.clone(),
                        new_release: true,
                        mode: current.map(|c| c.mode).unwrap_or_default(),
                        gates: vec![GateResult::fail(
                            "version-reused",
                            format!("{version} is already released with digest {existing}, but agents/{name} now digests to {cur}"),
                            "bump `version` in agent.yaml: a released version never changes content",
                        )],
                    });
                }
            }
        }
    } else {
        let prev = &repo.config.environments[index - 1].name;
        source = prev.clone();
        let prev_state = super::read_state(repo, prev)?;
        for name in &opts.agents {
            if !prev_state.agents.contains_key(name) {
                return Err(PromoteError::NotInSource(
                    format!(
                        "{name} does not run in {prev}, so it cannot be promoted to {}",
                        opts.env
                    ),
                    format!("promote it to {prev} first: `agentctl promote {prev} {name}`"),
                ));
            }
        }
        for (name, pin) in &prev_state.agents {
            if !opts.agents.is_empty() && !opts.agents.contains(name) {
                continue;
            }
            let current = state.agents.get(name);
            if current.is_some_and(|c| c.digest == pin.digest) {
                continue;
            }
            let mut gates = vec![freeze.clone()];
            let integrity = policy::integrity_gate(repo, name, &pin.version, &pin.digest);
            let intact = integrity.passed;
            gates.push(integrity);
            if intact {
                gates.extend(policy::bundle_gates(
                    &repo.release_path(name, &pin.version).join("bundle"),
                    name,
                    &envs,
                ));
            }
            moves.push(Move {
                agent: name.clone(),
                from_version: current.map(|c| c.version.clone()),
                to_version: pin.version.clone(),
                to_digest: pin.digest.clone(),
                new_release: false,
                mode: current.map(|c| c.mode).unwrap_or_default(),
                gates,
            });
        }
    }

    // Releases that exist are judged by the one gate engine (exactly what
    // `verify` and `rollback` judge); new ones cannot carry evidence yet.
    for m in &mut moves {
        if !m.new_release
            && !m.to_digest.is_empty()
            && m.gates.iter().all(|g| g.gate != "integrity" || g.passed)
        {
            let eval = admission::evaluate(
                repo,
                &root,
                &opts.env,
                &eff,
                admission::Candidate {
                    name: &m.agent,
                    version: &m.to_version,
                    digest: &m.to_digest,
                },
                admission::Route::Promote,
                now,
            )?;
            let extra: Vec<GateResult> = m
                .gates
                .iter()
                .filter(|g| !eval.gates.iter().any(|e| e.gate == g.gate))
                .cloned()
                .collect();
            m.gates = eval.gates;
            m.gates.extend(extra);
            continue;
        }
        if env_cfg.require_evals {
            m.gates.push(GateResult::fail(
                "evals",
                format!(
                    "{} requires recorded evals, and {} {} is not released yet",
                    opts.env, m.agent, m.to_version
                ),
                format!(
                    "release it, run its evals, `agentctl evals record {}@{} results.json`, then sign",
                    m.agent, m.to_version
                ),
            ));
        }
        if !env_cfg.required_roles.is_empty() {
            m.gates.push(GateResult::fail(
                "signatures",
                format!(
                    "{} requires signatures, and {} {} is not released yet",
                    opts.env, m.agent, m.to_version
                ),
                format!(
                    "release it (`agentctl release {}`), have it signed (`agentctl sign {}@{} --key …`), then promote",
                    m.agent, m.agent, m.to_version
                ),
            ));
        }
    }
    let passed = moves.iter().all(Move::passed);
    let mut report = PromoteReport {
        environment: opts.env.clone(),
        source,
        moves,
        passed,
        recorded: if opts.dry_run {
            Recorded::DryRun
        } else {
            Recorded::Nothing
        },
    };
    let Some((lock, start)) = locked else {
        return Ok(report);
    };
    if !passed || report.moves.is_empty() {
        return Ok(report);
    }

    let time = format_time(now);
    let mut extra: Vec<Change> = Vec::new();
    for (name, prepared) in &new_releases {
        let (_, files) = release_files(repo, name, prepared, &actor)?;
        extra.extend(files);
    }
    let events: Vec<Event> = report
        .moves
        .iter()
        .map(|m| {
            let previous = state.agents.get(&m.agent);
            Event {
                op: 0,
                time: time.clone(),
                action: Action::Promote,
                agent: m.agent.clone(),
                version: Some(m.to_version.clone()),
                digest: Some(m.to_digest.clone()),
                previous_version: previous.map(|p| p.version.clone()),
                previous_digest: previous.map(|p| p.digest.clone()),
                mode: Some(m.mode),
                previous_mode: previous.map(|p| p.mode),
                actor: actor.clone(),
                reason: None,
            }
        })
        .collect();
    let (subject, body) = promote_message(&report);
    let (outcome, _, _) = super::envedit::apply(
        repo,
        &lock,
        start.as_ref(),
        super::envedit::EnvEdit {
            env: &opts.env,
            action: Action::Promote,
            state: &state,
            log: &log,
            events,
            subject,
            body,
            actor: &actor,
            reason: opts.write.reason.as_deref(),
            extra,
        },
    )?;
    report.recorded = outcome.into();
    Ok(report)
}

/// The commit's subject and body for a promotion.
fn promote_message(report: &PromoteReport) -> (String, String) {
    let env = &report.environment;
    let subject = match report.moves.as_slice() {
        [m] => format!("promote {} {} → {env}", m.agent, m.to_version),
        ms => format!("promote {} agents → {env}", ms.len()),
    };
    let mut body = format!("From {}:\n", report.source);
    for m in &report.moves {
        body.push_str(&format!(
            "  {}: {} → {} ({})\n",
            m.agent,
            m.from_version.as_deref().unwrap_or("none"),
            m.to_version,
            m.to_digest
        ));
    }
    (subject, body)
}

/// Group moves that failed, by agent, for reports.
pub fn failures(report: &PromoteReport) -> BTreeMap<&str, Vec<&GateResult>> {
    let mut out: BTreeMap<&str, Vec<&GateResult>> = BTreeMap::new();
    for m in &report.moves {
        for g in m.gates.iter().filter(|g| !g.passed) {
            out.entry(m.agent.as_str()).or_default().push(g);
        }
    }
    out
}
