//! `agentctl promote ENV [NAME…]`: move releases into an environment
//! through every gate, all or nothing.

use super::release::{Prepared, ReleaseError, prepare, release_files};
use super::verify::{Trust, approval, check_signatures};
use super::{Recorded, WriteOptions, actor, log_with, next_op, read_env};
use crate::policy::{self, GateResult};
use crate::repo::Layout;
use crate::repo::environment::{Action, Event, Mode, Pin, log_path, state_path};
use crate::repo::transaction::{self, Change, Message};
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
    /// A named agent is not a candidate.
    #[error("{0}")]
    NotACandidate(String, String),
}

impl PromoteError {
    /// A hint for the CLI.
    pub fn hint(&self) -> Option<&str> {
        match self {
            PromoteError::NotACandidate(_, h) => Some(h),
            PromoteError::Repo(_) => None,
        }
    }
}

/// Plan, gate and (unless a dry run or a gate fails) apply a promotion.
pub fn promote(repo: &Repo, opts: &PromoteOptions) -> Result<PromoteReport, PromoteError> {
    let (index, env_cfg) = repo.environment(&opts.env)?;
    for a in &opts.agents {
        Layout::check_agent_name(a)?;
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
    let (state, events) = read_env(repo, &opts.env)?;
    let now = now();
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
                return Err(PromoteError::NotACandidate(
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

    if env_cfg.require_evals {
        for m in &mut moves {
            let g = if m.new_release || m.to_digest.is_empty() {
                GateResult::fail(
                    "evals",
                    format!(
                        "{} requires recorded evals, and {} {} is not released yet",
                        opts.env, m.agent, m.to_version
                    ),
                    format!(
                        "release it, run its evals and `agentctl evals record {}@{} results.json`",
                        m.agent, m.to_version
                    ),
                )
            } else {
                super::evals::gate(repo, &m.agent, &m.to_version, &m.to_digest)
            };
            m.gates.push(g);
        }
    }
    if !env_cfg.required_roles.is_empty() && !moves.is_empty() {
        let trust = Trust::load(
            repo,
            opts.allowed_signers.as_deref(),
            opts.signer_roles.as_deref(),
        )?;
        for m in &mut moves {
            m.gates.push(signature_gate(repo, &trust, &opts.env, m)?);
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
    let op = next_op(&events);
    let mut changes: Vec<Change> = Vec::new();
    for (name, prepared) in &new_releases {
        let (_, files) = release_files(repo, name, prepared, &actor)?;
        changes.extend(files);
    }
    let mut new_state = state.clone();
    let mut new_events = Vec::new();
    for m in &report.moves {
        let previous = state.agents.get(&m.agent);
        new_state.agents.insert(
            m.agent.clone(),
            Pin {
                version: m.to_version.clone(),
                digest: m.to_digest.clone(),
                mode: m.mode,
                updated_at: time.clone(),
                updated_by: actor.clone(),
            },
        );
        new_events.push(Event {
            op,
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
            reason: opts.write.reason.clone(),
        });
    }
    changes.push(Change::write(state_path(&opts.env), new_state.to_yaml()));
    changes.push(Change::write(
        log_path(&opts.env),
        log_with(repo, &opts.env, &new_events)?,
    ));
    let message = promote_message(&report, &actor, opts.write.reason.as_deref(), op);
    let outcome = transaction::apply(repo, &lock, start.as_ref(), &changes, &message)?;
    report.recorded = outcome.into();
    Ok(report)
}

fn signature_gate(
    repo: &Repo,
    trust: &Trust,
    env: &str,
    m: &Move,
) -> Result<GateResult, RepoError> {
    if m.new_release || m.to_digest.is_empty() {
        return Ok(GateResult::fail(
            "signatures",
            format!(
                "{env} requires signatures, and {} {} is not released yet",
                m.agent, m.to_version
            ),
            format!(
                "release it (`agentctl release {}`), have it signed (`agentctl sign {}@{} --key …`), then promote",
                m.agent, m.agent, m.to_version
            ),
        ));
    }
    let sigs = check_signatures(repo, trust, &m.agent, &m.to_version, &m.to_digest)?;
    let Some(approval) = approval(repo, trust, env, &m.agent, &m.to_version, &sigs) else {
        return Ok(GateResult::pass("signatures", "no roles required"));
    };
    let good: Vec<String> = sigs
        .iter()
        .filter(|s| s.verdict == crate::signing::Verdict::Good)
        .map(|s| format!("{} ({})", s.principal, s.roles.join("+")))
        .collect();
    if approval.missing.is_empty() {
        return Ok(GateResult::pass(
            "signatures",
            format!(
                "{} signed by {}",
                approval.required.join(" + "),
                good.join(", ")
            ),
        ));
    }
    let who: Vec<String> = approval
        .could_sign
        .iter()
        .map(|(role, people)| {
            if people.is_empty() {
                format!("{role}: nobody holds this role")
            } else {
                format!("{role}: {}", people.join(", "))
            }
        })
        .collect();
    let bad: Vec<String> = sigs
        .iter()
        .filter(|s| s.verdict != crate::signing::Verdict::Good)
        .map(|s| format!("{} is not valid", s.principal))
        .collect();
    let distinct = repo
        .config
        .environment(env)
        .is_some_and(|(_, c)| c.distinct_signers);
    Ok(GateResult::fail(
        "signatures",
        format!(
            "missing a valid signature for role{} {}{}{}",
            crate::report::plural(approval.missing.len()),
            approval.missing.join(", "),
            if good.is_empty() {
                String::new()
            } else {
                format!("; signed by {}", good.join(", "))
            },
            if bad.is_empty() {
                String::new()
            } else {
                format!("; {}", bad.join(", "))
            }
        ),
        format!(
            "who can sign — {}{}; they run `agentctl sign {}@{} --key ~/.ssh/id_ed25519`",
            who.join("; "),
            if distinct {
                " (one person cannot fill two required roles)"
            } else {
                ""
            },
            m.agent,
            m.to_version
        ),
    ))
}

fn promote_message(report: &PromoteReport, actor: &str, reason: Option<&str>, op: u64) -> Message {
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
    let mut message = Message {
        subject,
        body,
        ..Message::default()
    };
    message.trailer("Action", "promote");
    message.trailer("Environment", env);
    for m in &report.moves {
        message.trailer("Agent", &m.agent);
        message.trailer("Version", &m.to_version);
        message.trailer("Digest", &m.to_digest);
    }
    message.trailer("Actor", actor);
    if let Some(r) = reason {
        message.trailer("Reason", r);
    }
    message.trailer("Op", &format!("{env}#{op}"));
    message
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
