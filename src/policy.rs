//! Gates: what must hold before a release moves into an environment.
//!
//! Each gate yields a [`GateResult`] with a stable id, so a refused
//! promotion can list every failing agent and gate with a hint, and `check`
//! can preview them. The owner and security gates apply in every
//! environment, always.

use crate::bundle;
use crate::finding::Finding;
use crate::repo::config::EnvironmentConfig;
use serde::Serialize;
use std::path::Path;

/// The outcome of one gate for one candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateResult {
    /// Stable gate id: `owner`, `security`, `readiness`, `integrity`, `freeze`,
    /// `version-reused`, `signatures`, `evals`.
    pub gate: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// What was found.
    pub message: String,
    /// What to do when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl GateResult {
    /// A passed gate.
    pub fn pass(gate: &'static str, message: impl Into<String>) -> Self {
        GateResult {
            gate,
            passed: true,
            message: message.into(),
            hint: None,
        }
    }

    /// A failed gate.
    pub fn fail(gate: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        GateResult {
            gate,
            passed: false,
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
}

/// Every gate id with a line of description, for docs.
pub const GATES: &[(&str, &str)] = &[
    (
        "integrity",
        "the release's files digest to what release.yaml records",
    ),
    (
        "version-reused",
        "a version is never released twice with different content",
    ),
    ("owner", "the bundle names a production owner with an email"),
    (
        "security",
        "the bundle carries a complete, passing security review",
    ),
    ("readiness", "the bundle has no other validate errors"),
    ("freeze", "the environment is not in a freeze window"),
    (
        "signatures",
        "the release is signed by every role the environment requires",
    ),
    (
        "evals",
        "recorded eval results for this digest meet the bundle's min_pass_rate",
    ),
];

const OWNER_RULES: &[&str] = &[
    "owners-missing",
    "owner-production-missing",
    "owner-email-missing",
];
const SECURITY_RULES: &[&str] = &[
    "security-missing",
    "security-incomplete",
    "security-checklist-failed",
];

/// The owner, security and readiness gates for agent `name`'s bundle in `dir`.
/// Prompts are rendered for every environment in `envs`.
pub fn bundle_gates(dir: &Path, name: &str, envs: &[crate::render::RenderEnv]) -> Vec<GateResult> {
    gates_for(&bundle::check_dir_as(dir, Some(name), envs), dir)
}

/// The owner, security and readiness gates of a bundle already checked.
pub fn gates_for(checked: &bundle::Checked, dir: &Path) -> Vec<GateResult> {
    let errors: Vec<&Finding> = checked.findings.iter().filter(|f| f.is_error()).collect();
    let pick = |rules: &[&str]| -> Vec<&Finding> {
        errors
            .iter()
            .copied()
            .filter(|f| rules.contains(&f.rule))
            .collect()
    };
    let describe = |fs: &[&Finding]| -> String {
        fs.iter()
            .map(|f| format!("{} ({})", f.message, f.rule))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut out = Vec::new();
    if checked.manifest.is_none() {
        out.push(GateResult::fail(
            "readiness",
            describe(&errors),
            format!(
                "run `agentctl validate {}` and fix what it reports",
                dir.display()
            ),
        ));
        return out;
    }
    let owner = pick(OWNER_RULES);
    out.push(if owner.is_empty() {
        GateResult::pass("owner", "production owner named")
    } else {
        GateResult::fail(
            "owner",
            describe(&owner),
            "add an owner with `role: production`, a name and an email to agent.yaml, then release a new version",
        )
    });
    let security = pick(SECURITY_RULES);
    out.push(if security.is_empty() {
        GateResult::pass("security", "security review complete")
    } else {
        GateResult::fail(
            "security",
            describe(&security),
            "complete the `security:` section (see `agentctl validate`), then release a new version",
        )
    });
    let rest: Vec<&Finding> = errors
        .iter()
        .copied()
        .filter(|f| !OWNER_RULES.contains(&f.rule) && !SECURITY_RULES.contains(&f.rule))
        .collect();
    out.push(if rest.is_empty() {
        GateResult::pass("readiness", "no validate errors")
    } else {
        GateResult::fail(
            "readiness",
            describe(&rest),
            format!(
                "run `agentctl validate {}` and fix what it reports",
                dir.display()
            ),
        )
    });
    out
}

/// The freeze gate.
pub fn freeze_gate(env: &EnvironmentConfig, now: jiff::Timestamp) -> GateResult {
    match env.freeze.iter().find(|f| f.covers(now)) {
        Some(f) => GateResult::fail(
            "freeze",
            format!(
                "{} is frozen from {} until {}{}",
                env.name,
                f.from,
                f.until,
                f.reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
            "wait for the window to end; `agentctl mode` and `agentctl rollback` still work during a freeze",
        ),
        None => GateResult::pass("freeze", "no freeze window"),
    }
}

/// The integrity gate for an existing release.
pub fn integrity_gate(
    repo: &crate::repo::Layout,
    name: &str,
    version: &str,
    expected: &str,
) -> GateResult {
    match repo.verify_release(name, version, Some(expected)) {
        Ok(_) => GateResult::pass("integrity", format!("{name}@{version} matches {expected}")),
        Err(e) => GateResult::fail(
            "integrity",
            e.to_string(),
            "releases are immutable; restore releases/ from git",
        ),
    }
}
