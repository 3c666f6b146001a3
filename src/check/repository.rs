//! Repository-level checks: a pull request that lowers the bar for itself,
//! and files agentctl owns that were edited by hand.

use crate::finding::{Finding, Position};
use crate::repo::Repo;
use crate::repo::config::Config;
use crate::repo::environment::{self, Action};
use crate::signing::AllowedSigners;
use std::collections::BTreeSet;
use std::path::Path;

fn pos(text: &str, needle: &str) -> Option<Position> {
    text.find(needle)
        .map(|o| crate::bundle::position_of_offset(text, o))
}

fn high(
    rule: &'static str,
    file: &str,
    text: &str,
    needle: &str,
    message: String,
    hint: &str,
) -> Finding {
    Finding::warning(rule, file, format!("high risk: {message}"))
        .at(pos(text, needle))
        .hint(hint)
}

/// Changes to agentctl.toml that weaken a policy or widen trust.
pub fn config_changes(base_text: &str, new_text: &str) -> Vec<Finding> {
    let file = crate::repo::CONFIG_FILE;
    let (Ok(base), Ok(new)) = (
        Config::parse(base_text, Path::new(file)),
        Config::parse(new_text, Path::new(file)),
    ) else {
        return Vec::new();
    };
    let hint =
        "a policy change needs the same review as a release; protect agentctl.toml with CODEOWNERS";
    let mut out = Vec::new();
    let order = |c: &Config| {
        c.environment_names()
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    };
    let (bo, no) = (order(&base), order(&new));
    for e in bo.iter().filter(|e| !no.contains(e)) {
        out.push(high(
            "policy-weakened",
            file,
            new_text,
            "[[environment]]",
            format!("environment `{e}` removed"),
            hint,
        ));
    }
    let common_b: Vec<&String> = bo.iter().filter(|e| no.contains(e)).collect();
    let common_n: Vec<&String> = no.iter().filter(|e| bo.contains(e)).collect();
    if common_b != common_n {
        out.push(high(
            "policy-weakened",
            file,
            new_text,
            "[[environment]]",
            format!(
                "environment order changed: {} → {}",
                bo.join(" → "),
                no.join(" → ")
            ),
            hint,
        ));
    }
    for b in &base.environments {
        let Some((_, n)) = new.environment(&b.name) else {
            continue;
        };
        let at = format!("name = \"{}\"", b.name);
        let mut weakened = |what: String| {
            out.push(high(
                "policy-weakened",
                file,
                new_text,
                &at,
                format!("{}: {what}", b.name),
                hint,
            ));
        };
        for role in b
            .required_roles
            .iter()
            .filter(|r| !n.required_roles.contains(r))
        {
            weakened(format!("required role `{role}` removed"));
        }
        if b.require_evals && !n.require_evals {
            weakened("eval gate removed (require_evals)".into());
        }
        if b.distinct_signers && !n.distinct_signers {
            weakened("one person may now fill two required roles (distinct_signers)".into());
        }
        if b.promote_from_previous && !n.promote_from_previous {
            weakened(
                "releases may now skip the previous environment (promote_from_previous)".into(),
            );
        }
        for f in b.freeze.iter().filter(|f| !n.freeze.contains(f)) {
            weakened(format!("freeze window {} – {} lifted", f.from, f.until));
        }
    }
    for (role, people) in &new.roles {
        let before: BTreeSet<&String> = base
            .roles
            .get(role)
            .map(|p| p.iter().collect())
            .unwrap_or_default();
        for p in people.iter().filter(|p| !before.contains(p)) {
            out.push(high(
                "trust-changed",
                file,
                new_text,
                p,
                format!("{p} given the `{role}` signer role"),
                "a new signer role holder can approve releases; make sure the right people reviewed this",
            ));
        }
    }
    out
}

/// Changes to the allowed_signers file: signers added, keys replaced, namespaces widened.
pub fn allowed_signers_changes(base_text: &str, new_text: &str) -> Vec<Finding> {
    let file = ".agentctl/allowed_signers";
    let (Ok(base), Ok(new)) = (
        AllowedSigners::parse(base_text, Path::new(file)),
        AllowedSigners::parse(new_text, Path::new(file)),
    ) else {
        return Vec::new();
    };
    let hint = "whoever is in allowed_signers can approve releases: this change needs security review (CODEOWNERS), and deploy jobs should verify with their own copy (--allowed-signers)";
    let line_pos = |line: usize| {
        Some(Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: 1,
        })
    };
    let mut out = Vec::new();
    for n in &new.entries {
        let key = n.key.key_data();
        for p in &n.principals {
            let same_principal: Vec<_> = base
                .entries
                .iter()
                .filter(|b| b.principals.contains(p))
                .collect();
            let finding = |message: String| {
                Finding::warning("trust-changed", file, format!("high risk: {message}"))
                    .at(line_pos(n.line))
                    .hint(hint)
            };
            if same_principal.is_empty() {
                out.push(finding(format!("signer {p} added")));
            } else if !same_principal.iter().any(|b| b.key.key_data() == key) {
                out.push(finding(format!("key of {p} replaced")));
            } else if let Some(b) = same_principal.iter().find(|b| b.key.key_data() == key) {
                let widened = match (&b.namespaces, &n.namespaces) {
                    (Some(_), None) => true,
                    (Some(x), Some(y)) => y.iter().any(|ns| !x.contains(ns)),
                    _ => false,
                };
                if widened {
                    out.push(finding(format!("namespaces widened for {p}")));
                }
                if b.valid_before.is_some()
                    && n.valid_before.is_none_or(|t| Some(t) > b.valid_before)
                {
                    out.push(finding(format!("expiry of {p}'s key extended or removed")));
                }
                if !b.cert_authority && n.cert_authority {
                    out.push(finding(format!("{p} made a certificate authority")));
                }
            }
        }
    }
    out
}

/// What the log says an agent's pin should be: version, digest, mode.
type Expected<'a> = (Option<&'a str>, Option<&'a str>, Option<environment::Mode>);

/// Environment pins that no log entry explains (a hand edit).
pub fn environment_hand_edits(repo: &Repo) -> Vec<Finding> {
    let mut out = Vec::new();
    for env in repo.config.environment_names() {
        let file = repo.path(&environment::state_path(env));
        let (state, events) = match environment::read(&repo.root, env) {
            Ok(x) => x,
            Err(message) => {
                out.push(
                    Finding::error("environment-hand-edited", &file, message)
                        .hint("environment files are written by agentctl; restore them from git"),
                );
                continue;
            }
        };
        let mut expected: std::collections::BTreeMap<&str, Expected<'_>> =
            std::collections::BTreeMap::new();
        for e in &events {
            match e.action {
                Action::Retire => {
                    expected.insert(&e.agent, (None, None, None));
                }
                _ => {
                    let entry = expected.entry(&e.agent).or_insert((None, None, None));
                    entry.0 = e.version.as_deref();
                    entry.1 = e.digest.as_deref();
                    if e.mode.is_some() {
                        entry.2 = e.mode;
                    }
                    if e.version.is_none() {
                        *entry = (None, None, None);
                    }
                }
            }
        }
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for (name, pin) in &state.agents {
            let ok = expected.get(name.as_str()).is_some_and(|(v, d, m)| {
                *v == Some(pin.version.as_str())
                    && *d == Some(pin.digest.as_str())
                    && m.is_none_or(|m| m == pin.mode)
            });
            if !ok {
                out.push(
                    Finding::error(
                        "environment-hand-edited",
                        &file,
                        format!("{env} pins {name} {} ({}), which no entry in {env}.log explains", pin.version, pin.mode),
                    )
                    .at(pos(&text, &format!("{name}:")))
                    .hint(format!("change environments with agentctl (`agentctl promote {env}`, `rollback`, `mode`); restore the file from git")),
                );
            }
        }
        for (name, (v, _, _)) in &expected {
            if v.is_some() && !state.agents.contains_key(*name) {
                out.push(
                    Finding::error(
                        "environment-hand-edited",
                        &file,
                        format!("{env}.log says {name} runs in {env}, but {env}.yaml does not pin it"),
                    )
                    .hint(format!("remove agents with `agentctl retire {env} {name}`; restore the file from git")),
                );
            }
        }
    }
    out
}

/// Repository rule ids, for docs and SARIF.
pub const RULES: &[(&str, &str)] = &[
    (
        "policy-weakened",
        "agentctl.toml lowers an environment's bar (warning, high risk)",
    ),
    (
        "trust-changed",
        "signers or signer roles change (warning, high risk)",
    ),
    (
        "environment-hand-edited",
        "an environment pin that no log entry explains",
    ),
    (
        "release-modified",
        "a released file was changed; releases are immutable",
    ),
];
