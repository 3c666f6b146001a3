//! `agentctl status`: what runs where, and where source and environments drift.

use crate::repo::environment::Mode;
use crate::repo::{Repo, RepoError};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeSet;

/// One environment's pin of one agent.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EnvPin {
    /// Version.
    pub version: String,
    /// Digest.
    pub digest: String,
    /// Mode.
    pub mode: Mode,
    /// When it last changed.
    pub updated_at: String,
    /// Seconds since then.
    pub age_seconds: i64,
    /// Who changed it.
    pub updated_by: String,
}

/// The source bundle of an agent.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SourceInfo {
    /// Version in agent.yaml (`None` when the manifest does not parse).
    pub version: Option<String>,
    /// Digest of agents/NAME (`None` when it cannot be digested).
    pub digest: Option<String>,
}

/// One agent across environments.
#[derive(Debug, Clone, Serialize)]
pub struct AgentStatus {
    /// Name.
    pub name: String,
    /// Its source bundle, when agents/NAME exists.
    pub source: Option<SourceInfo>,
    /// Pin per environment, in promotion order (absent: not deployed there).
    /// Serialized as a JSON object whose keys keep that order.
    #[serde(serialize_with = "ordered_map")]
    pub environments: Vec<(String, EnvPin)>,
    /// Drift notes, e.g. "source 1.5.0 is not in dev yet".
    pub drift: Vec<String>,
}

impl AgentStatus {
    /// The pin in `env`, if deployed there.
    pub fn pin(&self, env: &str) -> Option<&EnvPin> {
        self.environments
            .iter()
            .find(|(e, _)| e == env)
            .map(|(_, p)| p)
    }
}

fn ordered_map<S: serde::Serializer>(v: &[(String, EnvPin)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(v.len()))?;
    for (k, p) in v {
        m.serialize_entry(k, p)?;
    }
    m.end()
}

/// The whole picture.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// Environments in order.
    pub environments: Vec<String>,
    /// Agents, sorted by name.
    pub agents: Vec<AgentStatus>,
}

/// Compute status.
pub fn status(repo: &Repo) -> Result<StatusReport, RepoError> {
    let now = crate::repo::now();
    let env_names: Vec<String> = repo
        .config
        .environment_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut states = Vec::new();
    for env in &env_names {
        states.push(super::read_state(repo, env)?);
    }
    let mut names: BTreeSet<String> = repo.agent_names()?.into_iter().collect();
    for s in &states {
        names.extend(s.agents.keys().cloned());
    }
    let names: Vec<String> = names.into_iter().collect();
    let first = states.first();
    let layout = &repo.layout;
    let agents = names
        .par_iter()
        .map(|name| {
            let dir = layout.agent_dir(name);
            let source = dir.join(crate::bundle::MANIFEST_FILE).is_file().then(|| {
                let digest = crate::digest::digest_dir(&dir).ok().map(|d| d.digest);
                // Skip parsing when the first environment already runs this digest.
                let pinned = first
                    .and_then(|s| s.agents.get(name))
                    .filter(|p| Some(&p.digest) == digest.as_ref());
                let version = match pinned {
                    Some(p) => Some(p.version.clone()),
                    None => crate::bundle::load_manifest(&dir)
                        .ok()
                        .map(|m| m.manifest.version),
                };
                SourceInfo { version, digest }
            });
            let mut environments = Vec::new();
            for (env, state) in env_names.iter().zip(&states) {
                if let Some(p) = state.agents.get(name) {
                    let age = p
                        .updated_at
                        .parse::<jiff::Timestamp>()
                        .map(|t| now.as_second() - t.as_second())
                        .unwrap_or(0);
                    environments.push((
                        env.clone(),
                        EnvPin {
                            version: p.version.clone(),
                            digest: p.digest.clone(),
                            mode: p.mode,
                            updated_at: p.updated_at.clone(),
                            age_seconds: age,
                            updated_by: p.updated_by.clone(),
                        },
                    ));
                }
            }
            let drift = drift(&env_names, source.as_ref(), &environments);
            AgentStatus {
                name: name.clone(),
                source,
                environments,
                drift,
            }
        })
        .collect();
    Ok(StatusReport {
        environments: env_names,
        agents,
    })
}

fn drift(envs: &[String], source: Option<&SourceInfo>, pins: &[(String, EnvPin)]) -> Vec<String> {
    let get = |e: &String| pins.iter().find(|(n, _)| n == e).map(|(_, p)| p);
    let mut out = Vec::new();
    match (source, envs.first()) {
        (Some(s), Some(first)) => {
            let v = s.version.as_deref().unwrap_or("?");
            match get(first) {
                None => out.push(format!("source {v} is not in {first} yet")),
                Some(p) if Some(&p.digest) != s.digest.as_ref() => {
                    if p.version == v {
                        out.push(format!(
                            "source changed since {v} was released, without a version bump"
                        ));
                    } else {
                        out.push(format!("source {v} is ahead of {first} ({})", p.version));
                    }
                }
                Some(_) => {}
            }
        }
        (None, _) if !pins.is_empty() => out.push("source bundle removed from agents/".into()),
        _ => {}
    }
    for pair in envs.windows(2) {
        if let (Some(a), Some(b)) = (get(&pair[0]), get(&pair[1]))
            && a.digest != b.digest
        {
            out.push(format!(
                "{} runs {}, {} runs {}",
                pair[0], a.version, pair[1], b.version
            ));
        }
    }
    for (env, p) in pins {
        if p.mode != Mode::Active {
            out.push(format!("{} in {env}", p.mode));
        }
    }
    out
}

/// Format an age in seconds as `3d`, `4h`, `12m` or `40s`.
pub fn format_age(seconds: i64) -> String {
    let s = seconds.max(0);
    if s >= 86_400 {
        format!("{}d", s / 86_400)
    } else if s >= 3600 {
        format!("{}h", s / 3600)
    } else if s >= 60 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}
