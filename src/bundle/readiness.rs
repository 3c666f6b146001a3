//! Readiness checks: what a manifest must declare before it can ship.
//!
//! The typed loader only proves the manifest is well-formed. These checks
//! prove it is production-ready in the sense of DESIGN.md: a named production
//! owner, a complete security review, least-privilege tools with timeouts and
//! bounded retries, owned knowledge, alerts someone reads. Each check is a
//! rule with a stable id; release-blocking ones are errors, the rest warnings.

use super::manifest::{Access, Approval, CheckStatus, Manifest};
use super::yaml::SourceMap;
use crate::finding::{Finding, Position};
use std::path::{Component, Path};

/// The most attempts a retry policy may declare.
pub const MAX_RETRY_ATTEMPTS: u32 = 10;

/// Every readiness rule id with a one-line description, for docs and SARIF.
pub const RULES: &[(&str, &str)] = &[
    (
        "name-mismatch",
        "`name` must equal the bundle's directory name",
    ),
    (
        "name-invalid",
        "`name` must be lowercase letters, digits and dashes",
    ),
    (
        "version-not-semver",
        "`version` must be a semantic version such as 1.4.0",
    ),
    ("owners-missing", "a bundle must list its owners"),
    (
        "owner-production-missing",
        "at least one owner must have role `production`",
    ),
    (
        "owner-email-missing",
        "every owner needs an email (it is also their signing principal)",
    ),
    ("security-missing", "a bundle must carry a security review"),
    (
        "security-incomplete",
        "every part of the security review must be filled",
    ),
    (
        "security-checklist-failed",
        "no security checklist item may be `fail`",
    ),
    (
        "security-evidence-missing",
        "a passed checklist item should name its evidence",
    ),
    (
        "file-missing",
        "every file the manifest names must exist in the bundle",
    ),
    (
        "file-outside-bundle",
        "files the manifest names must stay inside the bundle directory",
    ),
    (
        "tool-access-missing",
        "every tool must declare access: read, write or destructive",
    ),
    (
        "tool-approval-required",
        "write and destructive tools need `approval: required`",
    ),
    (
        "tool-approvers-missing",
        "a tool that needs approval should name its approvers",
    ),
    ("tool-timeout-missing", "every tool needs a timeout"),
    ("tool-retry-missing", "every tool needs a retry policy"),
    (
        "tool-retry-unbounded",
        "retries must be bounded: max_attempts between 1 and 10",
    ),
    (
        "tool-on-failure-missing",
        "every tool must say what happens when it fails",
    ),
    (
        "duplicate-name",
        "prompt, tool, rule, suite and alert names must be unique",
    ),
    (
        "knowledge-owner-missing",
        "every knowledge source needs an owner",
    ),
    (
        "knowledge-refresh-missing",
        "every knowledge source needs a refresh policy",
    ),
    (
        "alert-notify-missing",
        "every alert must say where it is sent",
    ),
    (
        "alert-message-missing",
        "every alert needs a plain-words message for operators",
    ),
    (
        "evals-threshold-range",
        "`evals.min_pass_rate` must be between 0 and 1",
    ),
    (
        "section-missing",
        "a production agent should declare this section",
    ),
    (
        "placeholder",
        "a FILL-ME value left by `agentctl new` must be replaced",
    ),
];

struct Checker<'a> {
    map: &'a SourceMap,
    file: &'a Path,
    findings: Vec<Finding>,
}

impl Checker<'_> {
    fn pos(&self, pointer: &str) -> Option<Position> {
        self.map.nearest(pointer)
    }

    fn error(&mut self, rule: &'static str, pointer: &str, message: String, hint: &str) {
        let f = Finding::error(rule, self.file, message)
            .at(self.pos(pointer))
            .hint(hint);
        self.findings.push(f);
    }

    fn warning(&mut self, rule: &'static str, pointer: &str, message: String, hint: &str) {
        let f = Finding::warning(rule, self.file, message)
            .at(self.pos(pointer))
            .hint(hint);
        self.findings.push(f);
    }
}

/// Run every readiness check on a parsed manifest.
///
/// `bundle_dir` is the directory holding `agent.yaml`; `file` is the path
/// findings name for it; `expected_name` is what `name` must be (the
/// directory name for a source bundle, the agent for a release).
pub fn check(
    manifest: &Manifest,
    map: &SourceMap,
    bundle_dir: &Path,
    file: &Path,
    expected_name: Option<&str>,
) -> Vec<Finding> {
    let mut c = Checker {
        map,
        file,
        findings: Vec::new(),
    };
    identity(&mut c, manifest, bundle_dir, expected_name);
    owners(&mut c, manifest);
    security(&mut c, manifest);
    tools(&mut c, manifest);
    knowledge_and_alerts(&mut c, manifest);
    files(&mut c, manifest, bundle_dir);
    sections(&mut c, manifest);
    c.findings
}

fn identity(c: &mut Checker, m: &Manifest, bundle_dir: &Path, expected_name: Option<&str>) {
    if !is_valid_name(&m.name) {
        c.error(
            "name-invalid",
            "/name",
            format!("name `{}` is not a valid agent name", m.name),
            "use lowercase letters, digits and dashes, starting with a letter (e.g. `support-triage`)",
        );
    }
    let dir_name = match expected_name {
        Some(n) => Some(n.to_string()),
        None => bundle_dir
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())),
    };
    if let Some(dir_name) = dir_name
        && dir_name != m.name
    {
        c.error(
            "name-mismatch",
            "/name",
            format!(
                "name `{}` does not match the bundle directory `{dir_name}`",
                m.name
            ),
            &format!(
                "rename the directory to `{}` or set `name: {dir_name}`",
                m.name
            ),
        );
    }
    if semver::Version::parse(&m.version).is_err() {
        c.error(
            "version-not-semver",
            "/version",
            format!("version `{}` is not a semantic version", m.version),
            "write MAJOR.MINOR.PATCH, e.g. `version: 1.4.0`",
        );
    }
}

/// The marker `agentctl new` leaves where only a person can answer.
pub const PLACEHOLDER: &str = "FILL-ME";

/// Every string value still holding the [`PLACEHOLDER`] marker.
pub fn placeholders(value: &serde_json::Value, map: &SourceMap, file: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut path: Vec<String> = Vec::new();
    walk(value, &mut path, &mut |path, s| {
        if !s.contains(PLACEHOLDER) {
            return;
        }
        let pointer: String = path
            .iter()
            .map(|t| format!("/{}", super::yaml::pointer_token(t)))
            .collect();
        let field = path.join(".");
        out.push(
            Finding::error(
                "placeholder",
                file,
                format!("`{field}` is still a placeholder: {s}"),
            )
            .at(map.value(&pointer).or_else(|| map.nearest(&pointer)))
            .hint("replace the FILL-ME value with the real answer; only a person can give it"),
        );
    });
    out
}

/// Visit every string value with its path (the pointer is built only when needed).
fn walk(v: &serde_json::Value, path: &mut Vec<String>, f: &mut dyn FnMut(&[String], &str)) {
    match v {
        serde_json::Value::String(s) => f(path, s),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                walk(item, path, f);
                path.pop();
            }
        }
        serde_json::Value::Object(m) => {
            for (k, item) in m {
                path.push(k.clone());
                walk(item, path, f);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Whether `name` is a valid agent name: `[a-z][a-z0-9-]{0,62}`, no trailing dash.
pub fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_lowercase()
        && !name.ends_with('-')
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

const OWNER_EXAMPLE: &str = "add an owner, e.g.\n  owners:\n    - name: Dana Reyes\n      email: dana.reyes@example.com\n      role: production";

fn owners(c: &mut Checker, m: &Manifest) {
    if m.owners.is_empty() {
        c.error(
            "owners-missing",
            "/owners",
            "no owners: a release needs a named production owner".into(),
            OWNER_EXAMPLE,
        );
        return;
    }
    let production = m
        .owners
        .iter()
        .any(|o| o.role == super::manifest::OwnerRole::Production);
    if !production {
        c.error(
            "owner-production-missing",
            "/owners",
            "no owner has role `production`: someone must be accountable in production".into(),
            "set `role: production` on the owner accountable for the agent in production",
        );
    }
    for (i, o) in m.owners.iter().enumerate() {
        if o.email.as_deref().is_none_or(|e| !e.contains('@')) {
            c.error(
                "owner-email-missing",
                &format!("/owners/{i}"),
                format!("owner `{}` has no email address", o.name),
                "add `email:`; it is how people reach the owner and the principal their signature is checked against",
            );
        }
    }
}

const SECURITY_EXAMPLE: &str = "add a security section, e.g.\n  security:\n    reviewed_by: Priya Shah <priya.shah@example.com>\n    reviewed_at: 2026-10-01\n    data_handling: {reads: [tickets], writes: [ticket tags], pii: true, retention_days: 30}\n    authentication: {method: oauth2-client-credentials, identity: svc-agent, scopes: [tickets.read]}\n    provider_review: {provider: anthropic, model: claude-sonnet-4-5, hosting: eu-west-1, data_policy: no training, 30-day retention}\n    compliance: [GDPR]\n    checklist:\n      - {item: prompt injection tested, status: pass, evidence: SEC-123}";

fn security(c: &mut Checker, m: &Manifest) {
    let Some(s) = &m.security else {
        c.error(
            "security-missing",
            "/security",
            "no security section: a release needs a security review".into(),
            SECURITY_EXAMPLE,
        );
        return;
    };
    let mut missing: Vec<&str> = Vec::new();
    if s.reviewed_by.as_deref().is_none_or(|v| v.trim().is_empty()) {
        missing.push("reviewed_by");
    }
    match s.reviewed_at.as_deref() {
        None => missing.push("reviewed_at"),
        Some(d) if d.parse::<jiff::civil::Date>().is_err() => {
            c.error(
                "security-incomplete",
                "/security/reviewed_at",
                format!("security.reviewed_at `{d}` is not a date"),
                "write the review date as YYYY-MM-DD",
            );
        }
        Some(_) => {}
    }
    match &s.data_handling {
        None => missing.push("data_handling"),
        Some(d) => {
            if d.reads.is_none() {
                missing.push("data_handling.reads");
            }
            if d.writes.is_none() {
                missing.push("data_handling.writes");
            }
            if d.pii.is_none() {
                missing.push("data_handling.pii");
            }
            if d.retention_days.is_none() {
                missing.push("data_handling.retention_days");
            }
        }
    }
    if s.authentication.is_none() {
        missing.push("authentication");
    }
    if s.provider_review.is_none() {
        missing.push("provider_review");
    }
    if s.compliance.is_none() {
        missing.push("compliance");
    }
    if s.checklist.is_empty() {
        missing.push("checklist");
    }
    if !missing.is_empty() {
        c.error(
            "security-incomplete",
            "/security",
            format!("security review is incomplete: missing {}", missing.join(", ")),
            "fill every part of the security section (write `compliance: []` when no regime applies); see the README's manifest reference",
        );
    }
    for (i, item) in s.checklist.iter().enumerate() {
        let ptr = format!("/security/checklist/{i}");
        match item.status {
            CheckStatus::Fail => c.error(
                "security-checklist-failed",
                &format!("{ptr}/status"),
                format!("security checklist item `{}` failed", item.item),
                "fix the finding and record `status: pass` with evidence, or get it reviewed as `n/a`",
            ),
            CheckStatus::Pass if item.evidence.is_none() => c.warning(
                "security-evidence-missing",
                &ptr,
                format!("checklist item `{}` passed without evidence", item.item),
                "add `evidence:` naming the ticket, document or test run",
            ),
            _ => {}
        }
    }
}

fn tools(c: &mut Checker, m: &Manifest) {
    duplicates(c, "/tools", "tool", m.tools.iter().map(|t| t.name.as_str()));
    duplicates(
        c,
        "/prompts",
        "prompt",
        m.prompts.iter().map(|p| p.name.as_str()),
    );
    duplicates(c, "/rules", "rule", m.rules.iter().map(|r| r.id.as_str()));
    if let Some(e) = &m.evals {
        duplicates(
            c,
            "/evals/suites",
            "suite",
            e.suites.iter().map(|s| s.name.as_str()),
        );
    }
    if let Some(mon) = &m.monitoring {
        duplicates(
            c,
            "/monitoring/alerts",
            "alert",
            mon.alerts.iter().map(|a| a.name.as_str()),
        );
    }
    // `diff` pairs list items by these keys: a duplicate would let a new
    // item hide behind an old one's name.
    duplicates(
        c,
        "/knowledge",
        "knowledge source",
        m.knowledge.iter().map(|k| k.name.as_str()),
    );
    duplicates(
        c,
        "/owners",
        "owner",
        m.owners
            .iter()
            .map(|o| o.email.as_deref().unwrap_or(o.name.as_str())),
    );
    if let Some(e) = &m.escalation {
        duplicates(
            c,
            "/escalation/contacts",
            "escalation contact",
            e.contacts.iter().map(|x| x.name.as_str()),
        );
    }
    if let Some(s) = &m.security {
        duplicates(
            c,
            "/security/checklist",
            "checklist item",
            s.checklist.iter().map(|x| x.item.as_str()),
        );
    }
    for (i, t) in m.tools.iter().enumerate() {
        let ptr = format!("/tools/{i}");
        match t.access {
            None => c.error(
                "tool-access-missing",
                &ptr,
                format!("tool `{}` does not declare its access", t.name),
                "add `access: read`, `access: write` or `access: destructive`",
            ),
            Some(access @ (Access::Write | Access::Destructive)) => {
                if t.approval != Some(Approval::Required) {
                    let at = if t.approval.is_some() {
                        format!("{ptr}/approval")
                    } else {
                        ptr.clone()
                    };
                    c.error(
                        "tool-approval-required",
                        &at,
                        format!(
                            "{} tool `{}` runs without human approval",
                            access.as_str(),
                            t.name
                        ),
                        "set `approval: required` and list `approvers:`",
                    );
                }
            }
            Some(Access::Read) => {}
        }
        if t.approval == Some(Approval::Required) && t.approvers.is_empty() {
            c.warning(
                "tool-approvers-missing",
                &format!("{ptr}/approval"),
                format!("tool `{}` requires approval but names no approvers", t.name),
                "add `approvers:` with the people, group or channel that approve calls",
            );
        }
        if t.timeout.is_none() {
            c.error(
                "tool-timeout-missing",
                &ptr,
                format!("tool `{}` has no timeout", t.name),
                "add `timeout: 10s` (or what the tool's slowest healthy call needs)",
            );
        }
        match &t.retry {
            None => c.error(
                "tool-retry-missing",
                &ptr,
                format!("tool `{}` has no retry policy", t.name),
                "add `retry: {max_attempts: 3, backoff: exponential, initial_delay: 1s}` (max_attempts: 1 for no retries)",
            ),
            Some(r) => match r.max_attempts {
                None => c.error(
                    "tool-retry-unbounded",
                    &format!("{ptr}/retry"),
                    format!("tool `{}` retries without a maximum", t.name),
                    "set `max_attempts:` between 1 and 10",
                ),
                Some(n) if n == 0 || n > MAX_RETRY_ATTEMPTS => c.error(
                    "tool-retry-unbounded",
                    &format!("{ptr}/retry/max_attempts"),
                    format!("tool `{}` has max_attempts {n}, outside 1..={MAX_RETRY_ATTEMPTS}", t.name),
                    "set `max_attempts:` between 1 and 10",
                ),
                Some(_) => {}
            },
        }
        if t.on_failure.is_none() {
            c.error(
                "tool-on-failure-missing",
                &ptr,
                format!("tool `{}` does not say what happens when it fails", t.name),
                "add `on_failure: escalate`, `fallback` or `fail`",
            );
        }
    }
}

fn duplicates<'a>(c: &mut Checker, base: &str, what: &str, names: impl Iterator<Item = &'a str>) {
    let mut seen = std::collections::HashSet::new();
    for (i, name) in names.enumerate() {
        if !seen.insert(name) {
            c.error(
                "duplicate-name",
                &format!("{base}/{i}"),
                format!("{what} `{name}` is declared twice"),
                "give each one a unique name",
            );
        }
    }
}

fn knowledge_and_alerts(c: &mut Checker, m: &Manifest) {
    for (i, k) in m.knowledge.iter().enumerate() {
        let ptr = format!("/knowledge/{i}");
        if k.owner.as_deref().is_none_or(|o| o.trim().is_empty()) {
            c.error(
                "knowledge-owner-missing",
                &ptr,
                format!("knowledge source `{}` has no owner", k.name),
                "add `owner:` naming who keeps the source correct",
            );
        }
        if k.refresh.as_deref().is_none_or(|o| o.trim().is_empty()) {
            c.error(
                "knowledge-refresh-missing",
                &ptr,
                format!("knowledge source `{}` has no refresh policy", k.name),
                "add `refresh:`, e.g. `daily`, `24h` or `on-change`",
            );
        }
    }
    if let Some(mon) = &m.monitoring {
        for (i, a) in mon.alerts.iter().enumerate() {
            let ptr = format!("/monitoring/alerts/{i}");
            if a.notify.as_deref().is_none_or(|o| o.trim().is_empty()) {
                c.error(
                    "alert-notify-missing",
                    &ptr,
                    format!("alert `{}` is not sent anywhere", a.name),
                    "add `notify:` with the channel the operating team reads",
                );
            }
            if a.message.as_deref().is_none_or(|o| o.trim().is_empty()) {
                c.error(
                    "alert-message-missing",
                    &ptr,
                    format!("alert `{}` has no message for operators", a.name),
                    "add `message:` saying in plain words what is wrong and why it matters",
                );
            }
        }
    }
    if let Some(e) = &m.evals
        && !(0.0..=1.0).contains(&e.min_pass_rate)
    {
        c.error(
            "evals-threshold-range",
            "/evals/min_pass_rate",
            format!("evals.min_pass_rate {} is outside 0..1", e.min_pass_rate),
            "write the pass rate as a fraction, e.g. `min_pass_rate: 0.95` for 95%",
        );
    }
}

/// Every (pointer, path) pair of files the manifest names.
pub fn named_files(m: &Manifest) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    for (i, p) in m.prompts.iter().enumerate() {
        out.push((format!("/prompts/{i}/file"), p.file.as_str()));
    }
    if let Some(e) = &m.evals {
        for (i, s) in e.suites.iter().enumerate() {
            out.push((format!("/evals/suites/{i}/file"), s.file.as_str()));
        }
    }
    if let Some(d) = &m.docs {
        if let Some(r) = &d.runbook {
            out.push(("/docs/runbook".into(), r.as_str()));
        }
        if let Some(f) = &d.faq {
            out.push(("/docs/faq".into(), f.as_str()));
        }
    }
    out
}

/// Whether a manifest path stays inside the bundle lexically: relative, no `..`.
pub fn is_contained(path: &str) -> bool {
    let p = Path::new(path);
    !path.is_empty()
        && !path.contains('\\')
        && p.components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

fn files(c: &mut Checker, m: &Manifest, bundle_dir: &Path) {
    let root = bundle_dir.canonicalize().ok();
    for (ptr, path) in named_files(m) {
        if !is_contained(path) {
            c.error(
                "file-outside-bundle",
                &ptr,
                format!("`{path}` points outside the bundle"),
                "name files relative to the bundle directory, without `..` or a leading `/`",
            );
            continue;
        }
        let full = bundle_dir.join(path);
        if let Some(link) = crate::files::first_link(bundle_dir, Path::new(path))
            && link != full
        {
            let shown = link
                .strip_prefix(bundle_dir)
                .unwrap_or(&link)
                .display()
                .to_string();
            c.error(
                "file-outside-bundle",
                &ptr,
                format!("`{path}` is reached through `{shown}`, a symlink"),
                "replace the linked directory with the directory itself",
            );
            continue;
        }
        match std::fs::symlink_metadata(&full) {
            Err(_) => c.error(
                "file-missing",
                &ptr,
                format!("`{path}` does not exist in the bundle"),
                &format!("create {} or fix the path", full.display()),
            ),
            Ok(meta) if meta.file_type().is_symlink() => {
                let escapes = match (full.canonicalize(), &root) {
                    (Ok(target), Some(root)) => !target.starts_with(root),
                    _ => true,
                };
                let message = if escapes {
                    format!("`{path}` is a symlink that resolves outside the bundle")
                } else {
                    format!("`{path}` is a symlink; bundles hold regular files only")
                };
                c.error(
                    "file-outside-bundle",
                    &ptr,
                    message,
                    "replace the symlink with the file itself",
                );
            }
            Ok(meta) if !meta.is_file() => c.error(
                "file-missing",
                &ptr,
                format!("`{path}` is not a regular file"),
                "point at a regular file (not a directory, pipe or device)",
            ),
            Ok(_) => {}
        }
    }
}

fn sections(c: &mut Checker, m: &Manifest) {
    let absent = [
        (
            "description",
            m.description.is_none(),
            "a sentence on what the agent does",
        ),
        (
            "escalation",
            m.escalation.is_none(),
            "who to call, in order, when it misbehaves",
        ),
        (
            "scope",
            m.scope.is_none(),
            "its purpose and what is out of scope",
        ),
        (
            "model",
            m.model.is_none(),
            "the provider, model and fallback",
        ),
        (
            "evals",
            m.evals.is_none(),
            "eval suites and a min_pass_rate",
        ),
        (
            "monitoring",
            m.monitoring.is_none(),
            "alerts for the operating team",
        ),
        (
            "reliability",
            m.reliability.is_none(),
            "fallback and human handoff",
        ),
        ("docs", m.docs.is_none(), "a runbook and FAQ for operators"),
    ];
    for (key, missing, what) in absent {
        if missing {
            c.warning(
                "section-missing",
                "",
                format!("no `{key}` section"),
                &format!("add `{key}:` with {what}; `agentctl new` scaffolds every section"),
            );
        }
    }
}
