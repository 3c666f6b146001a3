//! The one gate engine: whether a release may run in an environment.
//!
//! `promote`, `rollback` and `verify` all ask [`evaluate`] about a
//! candidate (a release by name, version and digest) in an environment,
//! under a [`TrustRoot`] and the real clock, along a [`Route`]; so they
//! cannot disagree. Each gate is a [`Gate`], stated once.
//!
//! The trust root can live outside the repository (`--trust-root DIR`):
//! its allowed signers, its roles and its environment policies. The
//! repository's agentctl.toml can then only add requirements: the policy
//! that applies is the stricter of the two ([`Effective`]), and every place
//! the repository is weaker is reported.

use super::verify::{SignatureResult, Trust, check_signatures, owner_emails};
use crate::policy::{self, GateResult};
use crate::repo::config::{Config, EnvironmentConfig};
use crate::repo::environment::{self, EnvState};
use crate::repo::{Layout, Repo, RepoError};
use crate::signing::{self, AllowedSigners, Verdict};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A gate, with its id and what it checks stated once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gate {
    /// The release's files digest to what release.yaml records and the pin says.
    Integrity,
    /// A production owner with an email.
    Owner,
    /// A complete, passing security review.
    Security,
    /// No other validate error.
    Readiness,
    /// Not inside a freeze window.
    Freeze,
    /// The release ran in the environment before this one.
    PromotionOrder,
    /// Vouched eval results for this digest meet min_pass_rate.
    Evals,
    /// Good signatures fill every required role; none is bad.
    Signatures,
    /// The approvals cover the environment's vars as they are.
    Vars,
}

impl Gate {
    /// Every gate, in the order they are reported.
    pub const ALL: [Gate; 9] = [
        Gate::Integrity,
        Gate::Owner,
        Gate::Security,
        Gate::Readiness,
        Gate::Freeze,
        Gate::PromotionOrder,
        Gate::Evals,
        Gate::Signatures,
        Gate::Vars,
    ];

    /// The stable id.
    pub fn id(self) -> &'static str {
        match self {
            Gate::Integrity => "integrity",
            Gate::Owner => "owner",
            Gate::Security => "security",
            Gate::Readiness => "readiness",
            Gate::Freeze => "freeze",
            Gate::PromotionOrder => "promotion-order",
            Gate::Evals => "evals",
            Gate::Signatures => "signatures",
            Gate::Vars => "vars",
        }
    }

    /// What it checks, in a line.
    pub fn checks(self) -> &'static str {
        match self {
            Gate::Integrity => {
                "the release's files digest to what release.yaml records, and the pin agrees"
            }
            Gate::Owner => "the bundle names a production owner with an email",
            Gate::Security => "the bundle's security review is complete and nothing in it failed",
            Gate::Readiness => "the bundle has no other validate error",
            Gate::Freeze => "the environment is not inside one of its freeze windows",
            Gate::PromotionOrder => "the release ran in the environment before this one",
            Gate::Evals => {
                "eval results vouched for by a trusted signer, for this digest, meet min_pass_rate"
            }
            Gate::Signatures => {
                "good signatures fill every required role (distinct keys) and no signature is bad"
            }
            Gate::Vars => "the approvals cover this environment's vars as they are now",
        }
    }
}

/// Which way a candidate comes into the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Promoted from the previous environment (or released from agents/).
    Promote,
    /// Pinned again by `rollback`: `ran_before` when this environment's log
    /// shows it ran here; then only the freeze and promotion-order gates are
    /// skipped. A release that never ran here is a promotion: every gate.
    Rollback {
        /// Whether it ran in this environment before.
        ran_before: bool,
    },
    /// What runs now, judged by `verify`: every evidence gate and the
    /// promotion path; no freeze (a freeze stops changes, not what runs).
    Verify,
}

/// The trust root: who may approve, with which roles, and (from a trust
/// root directory) each environment's policy.
#[derive(Debug, Clone)]
pub struct TrustRoot {
    /// Allowed signers and roles.
    pub trust: Trust,
    /// Environment policies held outside the repository, in order.
    pub policies: Option<Vec<EnvironmentConfig>>,
    /// The directory, when one was given.
    pub dir: Option<PathBuf>,
}

/// The file names in a trust root directory.
pub const TRUST_SIGNERS: &str = "allowed_signers";
/// The policy file in a trust root directory (agentctl.toml's `[roles]` and
/// `[[environment]]` tables).
pub const TRUST_POLICY: &str = "policy.toml";

impl TrustRoot {
    /// Load a trust root: a directory (`--trust-root`), or the older
    /// `--allowed-signers`/`--signer-roles` files, or the repository's own.
    pub fn load(
        repo: &Repo,
        dir: Option<&Path>,
        allowed_signers: Option<&Path>,
        roles: Option<&Path>,
    ) -> Result<TrustRoot, RepoError> {
        let Some(dir) = dir else {
            return Ok(TrustRoot {
                trust: Trust::load(repo, allowed_signers, roles)?,
                policies: None,
                dir: None,
            });
        };
        if allowed_signers.is_some() || roles.is_some() {
            return Err(RepoError::Unsafe {
                message: "--trust-root replaces --allowed-signers and --signer-roles".into(),
                hint: format!(
                    "put the files in the trust root: {}/{TRUST_SIGNERS} and {}/{TRUST_POLICY}",
                    dir.display(),
                    dir.display()
                ),
            });
        }
        let signers_path = dir.join(TRUST_SIGNERS);
        let policy_path = dir.join(TRUST_POLICY);
        let allowed = AllowedSigners::load(&signers_path).map_err(|e| RepoError::Unsafe {
            message: format!("trust root: {e}"),
            hint: format!(
                "a trust root holds {TRUST_SIGNERS} and {TRUST_POLICY}; write one with `agentctl trust export {}`",
                dir.display()
            ),
        })?;
        let bytes = crate::files::read_input(&policy_path, 1 << 20).map_err(|e| {
            RepoError::Unsafe {
                message: format!("trust root: {e}"),
                hint: format!(
                    "a trust root holds {TRUST_SIGNERS} and {TRUST_POLICY}; write one with `agentctl trust export {}`",
                    dir.display()
                ),
            }
        })?;
        let text = String::from_utf8(bytes).map_err(|_| RepoError::Unsafe {
            message: format!("{}: not UTF-8", policy_path.display()),
            hint: "the policy is TOML text".into(),
        })?;
        let policy = Config::parse(&text, &policy_path)?;
        Ok(TrustRoot {
            trust: Trust {
                allowed,
                roles: policy.roles.clone(),
                source: format!("trust root {}", dir.display()),
            },
            policies: Some(policy.environments),
            dir: Some(dir.to_path_buf()),
        })
    }

    /// The policy that applies to `env`: the stricter of the trust root's
    /// and the repository's.
    pub fn effective(&self, layout: &Layout, env: &str) -> Result<Effective, RepoError> {
        let (index, repo_env) = layout.environment(env)?;
        let repo_pred = index
            .checked_sub(1)
            .map(|i| layout.config.environments[i].name.clone());
        let mut eff = Effective {
            config: repo_env.clone(),
            predecessor: repo_pred.clone(),
            weaker: Vec::new(),
            order_broken: None,
        };
        let Some(policies) = &self.policies else {
            return Ok(eff);
        };
        let Some(pos) = policies.iter().position(|p| p.name == env) else {
            return Ok(eff);
        };
        let t = &policies[pos];
        let r = repo_env;
        let mut weaker = Vec::new();
        if t.promote_from_previous && !r.promote_from_previous && pos > 0 {
            weaker.push(format!(
                "{env}: promote_from_previous = false (trust root: true)"
            ));
        }
        for role in &t.required_roles {
            if !r.required_roles.contains(role) {
                weaker.push(format!("{env}: required_roles lacks `{role}`"));
                eff.config.required_roles.push(role.clone());
            }
        }
        if t.distinct_signers && !r.distinct_signers {
            weaker.push(format!(
                "{env}: distinct_signers = false (trust root: true)"
            ));
        }
        if t.require_evals && !r.require_evals {
            weaker.push(format!("{env}: require_evals = false (trust root: true)"));
        }
        for f in &t.freeze {
            if !r.freeze.contains(f) {
                weaker.push(format!(
                    "{env}: lacks the freeze window {} – {}",
                    f.from, f.until
                ));
                eff.config.freeze.push(f.clone());
            }
        }
        eff.config.promote_from_previous |= t.promote_from_previous && pos > 0;
        eff.config.distinct_signers |= t.distinct_signers;
        eff.config.require_evals |= t.require_evals;
        let trust_pred = pos.checked_sub(1).map(|i| policies[i].name.clone());
        if trust_pred.is_some() && trust_pred != repo_pred {
            let msg = format!(
                "agentctl.toml puts {} before {env}; the trust root puts {}",
                repo_pred.as_deref().unwrap_or("nothing"),
                trust_pred.as_deref().unwrap_or("nothing")
            );
            weaker.push(msg.clone());
            eff.order_broken = Some(msg);
            eff.predecessor = trust_pred;
        }
        eff.weaker = weaker;
        Ok(eff)
    }

    /// Every place agentctl.toml is weaker than the trust root, and every
    /// trust-root environment it lacks.
    pub fn weaknesses(&self, layout: &Layout) -> Vec<String> {
        let Some(policies) = &self.policies else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for p in policies {
            match self.effective(layout, &p.name) {
                Ok(e) => out.extend(e.weaker),
                Err(_) => out.push(format!(
                    "agentctl.toml has no environment `{}`, which the trust root governs",
                    p.name
                )),
            }
        }
        out
    }
}

/// The policy that applies to one environment.
#[derive(Debug, Clone)]
pub struct Effective {
    /// The merged policy.
    pub config: EnvironmentConfig,
    /// The environment a release must have run in first (by the trust
    /// root's order when it has one).
    pub predecessor: Option<String>,
    /// Where agentctl.toml is weaker than the trust root.
    pub weaker: Vec<String>,
    /// The repository's order contradicts the trust root's.
    pub order_broken: Option<String>,
}

/// A release being judged.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// Agent.
    pub name: &'a str,
    /// Version.
    pub version: &'a str,
    /// The digest pinned (or to be pinned).
    pub digest: &'a str,
}

/// The verdict of every gate on one candidate.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Each gate's result.
    pub gates: Vec<GateResult>,
    /// The signatures found, each with its verdict (what promote and verify
    /// both count).
    pub signatures: Vec<SignatureResult>,
}

impl Evaluation {
    /// Whether every gate passed.
    pub fn passed(&self) -> bool {
        self.gates.iter().all(|g| g.passed)
    }
}

/// Whether `digest` ever ran in `env`: pinned now, or in its log.
pub fn ran_in(layout: &Layout, env: &str, digest: &str) -> bool {
    let pinned = environment::read_state(&layout.root, env)
        .is_ok_and(|s: EnvState| s.agents.values().any(|p| p.digest == digest));
    pinned
        || environment::read_log_lenient(&layout.root, env)
            .is_ok_and(|(events, _)| events.iter().any(|e| e.digest.as_deref() == Some(digest)))
}

/// Judge a candidate in an environment: every gate, through one function.
pub fn evaluate(
    layout: &Layout,
    root: &TrustRoot,
    env: &str,
    eff: &Effective,
    c: Candidate<'_>,
    route: Route,
    now: jiff::Timestamp,
) -> Result<Evaluation, RepoError> {
    let mut gates = Vec::new();
    let integrity = policy::integrity_gate(layout, c.name, c.version, c.digest);
    let intact = integrity.passed;
    gates.push(integrity);
    if !intact {
        return Ok(Evaluation {
            gates,
            signatures: Vec::new(),
        });
    }
    gates.extend(policy::bundle_gates(
        &layout.release_path(c.name, c.version).join("bundle"),
        c.name,
        &crate::render::RenderEnv::all(&layout.config),
    ));
    let path_gates = !matches!(route, Route::Rollback { ran_before: true });
    if path_gates && route != Route::Verify {
        gates.push(policy::freeze_gate(&eff.config, now));
    }
    if path_gates {
        gates.push(promotion_order(layout, env, eff, c, route));
    }
    let signatures = check_signatures(layout, &root.trust, c.name, c.version, c.digest)?;
    let vars_hash = crate::repo::evidence::vars_hash(&layout.config, env);
    let empty_hash = crate::repo::evidence::hash(b"{}");
    gates.push(signature_gate(
        layout,
        root,
        env,
        eff,
        c,
        &signatures,
        &vars_hash,
        &empty_hash,
    ));
    if eff.config.require_evals {
        gates.push(super::evals::gate(
            layout,
            c.name,
            c.version,
            c.digest,
            &signatures,
        ));
    }
    gates.push(vars_gate(env, eff, &signatures, &vars_hash, &empty_hash));
    Ok(Evaluation { gates, signatures })
}

fn promotion_order(
    layout: &Layout,
    env: &str,
    eff: &Effective,
    c: Candidate<'_>,
    route: Route,
) -> GateResult {
    let id = Gate::PromotionOrder.id();
    if let Some(broken) = &eff.order_broken {
        return GateResult::fail(
            id,
            broken.clone(),
            "restore agentctl.toml's environment order; the trust root decides it",
        );
    }
    let Some(pred) = eff
        .predecessor
        .as_deref()
        .filter(|_| eff.config.promote_from_previous)
    else {
        return GateResult::pass(id, format!("{env} takes releases from anywhere"));
    };
    if route == Route::Promote && eff.order_broken.is_none() {
        // Promote draws its candidates from the predecessor's pins.
        return GateResult::pass(id, format!("comes from {pred}"));
    }
    if ran_in(layout, pred, c.digest) {
        GateResult::pass(id, format!("{}@{} ran in {pred}", c.name, c.version))
    } else {
        GateResult::fail(
            id,
            format!(
                "{}@{} never ran in {pred}, which {env} takes its releases from",
                c.name, c.version
            ),
            format!(
                "promote it through {pred} first (`agentctl promote {pred} {}`)",
                c.name
            ),
        )
    }
}

#[allow(clippy::too_many_arguments)]
fn signature_gate(
    layout: &Layout,
    root: &TrustRoot,
    env: &str,
    eff: &Effective,
    c: Candidate<'_>,
    sigs: &[SignatureResult],
    vars_hash: &str,
    empty_hash: &str,
) -> GateResult {
    let id = Gate::Signatures.id();
    let bad: Vec<String> = sigs
        .iter()
        .filter_map(|s| match &s.verdict {
            Verdict::Good => None,
            Verdict::Bad { reason } => {
                Some(format!("{} is not valid: bad ({reason})", s.principal))
            }
            Verdict::UnknownSigner { reason } => Some(format!(
                "{} is not valid: unknown signer ({reason})",
                s.principal
            )),
        })
        .collect();
    let bad_part = if bad.is_empty() {
        String::new()
    } else {
        format!(
            "; signatures that do not verify against {}: {}",
            root.trust.source,
            bad.join("; ")
        )
    };
    let fix_bad =
        "remove them or have them made again with a key the trust root lists (`agentctl sign`)";
    let required = &eff.config.required_roles;
    if required.is_empty() {
        return if bad.is_empty() {
            GateResult::pass(id, format!("{env} requires no roles"))
        } else {
            GateResult::fail(id, format!("{env} requires no roles{bad_part}"), fix_bad)
        };
    }
    // One key is one person: group good signatures that cover this
    // environment's vars by key.
    let mut holders: Vec<(String, Vec<String>)> = Vec::new();
    for s in sigs
        .iter()
        .filter(|s| s.covers_vars(env, vars_hash, empty_hash))
    {
        let key = s.key.clone().unwrap_or_else(|| s.principal.clone());
        match holders.iter_mut().find(|(k, _)| *k == key) {
            Some((_, roles)) => {
                for r in &s.roles {
                    if !roles.contains(r) {
                        roles.push(r.clone());
                    }
                }
            }
            None => holders.push((key, s.roles.clone())),
        }
    }
    let missing = signing::missing_roles(required, &holders, eff.config.distinct_signers);
    let good: Vec<String> = sigs
        .iter()
        .filter(|s| s.verdict == Verdict::Good)
        .map(|s| format!("{} ({})", s.principal, s.roles.join("+")))
        .collect();
    let roles = required.join(" + ");
    if missing.is_empty() {
        return if bad.is_empty() {
            GateResult::pass(
                id,
                format!(
                    "{env} requires {roles}: met (signed by {})",
                    good.join(", ")
                ),
            )
        } else {
            GateResult::fail(
                id,
                format!("{env} requires {roles}: met{bad_part}"),
                fix_bad,
            )
        };
    }
    let who: Vec<String> = missing
        .iter()
        .map(|role| {
            let people = if role == "owner" {
                owner_emails(layout, c.name, c.version)
            } else {
                root.trust.roles.get(role).cloned().unwrap_or_default()
            };
            if people.is_empty() {
                format!("{role}: nobody holds this role")
            } else {
                format!("{role}: {}", people.join(", "))
            }
        })
        .collect();
    let signed = if good.is_empty() {
        String::new()
    } else {
        format!("; signed by {}", good.join(", "))
    };
    GateResult::fail(
        id,
        format!(
            "{env} requires {roles}: missing a valid signature for role{} {}{signed}{bad_part}",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        ),
        format!(
            "who can sign — {}{}; they run `agentctl sign {}@{} --key ~/.ssh/id_ed25519`",
            who.join("; "),
            if eff.config.distinct_signers {
                " (one person cannot fill two required roles)"
            } else {
                ""
            },
            c.name,
            c.version
        ),
    )
}

fn vars_gate(
    env: &str,
    eff: &Effective,
    sigs: &[SignatureResult],
    vars_hash: &str,
    empty_hash: &str,
) -> GateResult {
    let id = Gate::Vars.id();
    if eff.config.required_roles.is_empty() {
        return GateResult::pass(
            id,
            format!("{env} requires no approvals, so its vars need none"),
        );
    }
    let good: Vec<&SignatureResult> = sigs.iter().filter(|s| s.verdict == Verdict::Good).collect();
    let stale: Vec<&str> = good
        .iter()
        .filter(|s| !s.covers_vars(env, vars_hash, empty_hash))
        .map(|s| s.principal.as_str())
        .collect();
    if good.is_empty() || stale.len() < good.len() {
        return GateResult::pass(
            id,
            format!("the approvals cover {env}'s vars ({vars_hash})"),
        );
    }
    GateResult::fail(
        id,
        format!(
            "{env}'s vars changed since {} approved this release: the prompts it renders are not what was signed",
            stale.join(", ")
        ),
        "review the rendered prompts (`agentctl render NAME --env ENV`), then sign again",
    )
}

/// Write a trust root directory from the repository's current files:
/// allowed_signers and policy.toml (roles and environment policies, no
/// vars). A deploy job keeps it, outside the repository.
pub fn export(repo: &Repo, dir: &Path) -> Result<Vec<PathBuf>, RepoError> {
    let signers = crate::files::read(&repo.root, Path::new(".agentctl/allowed_signers"), 4 << 20)?
        .unwrap_or_default();
    let mut config = repo.config.clone();
    for e in &mut config.environments {
        e.vars = BTreeMap::new();
    }
    let policy = format!(
        "# agentctl trust root: the policy a deploy job holds outside the repository.\n# agentctl.toml may add requirements to these, never remove them.\n{}",
        toml::to_string(&config).map_err(|e| RepoError::Unsafe {
            message: format!("cannot write the policy: {e}"),
            hint: String::new(),
        })?
    );
    std::fs::create_dir_all(dir).map_err(|e| crate::repo::io_error(dir, e))?;
    let mut written = Vec::new();
    for (name, bytes) in [
        (TRUST_SIGNERS, signers),
        (TRUST_POLICY, policy.into_bytes()),
    ] {
        crate::files::write(dir, Path::new(name), &bytes)?;
        written.push(dir.join(name));
    }
    Ok(written)
}
