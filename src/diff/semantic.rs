//! The semantic diff of two manifests, each change with a risk level.
//!
//! The rules are the ones a reviewer applies by eye, written down:
//! high when the agent can do more harm (new write or destructive tool,
//! approval removed, access widened, owner removed, retention raised, PII
//! enabled, eval threshold lowered, compliance or a deny rule removed);
//! medium when it behaves differently (model, prompts, retries and timeouts
//! loosened, knowledge, escalation, alerts); low for words and docs.

use crate::bundle::manifest::{Access, Approval, Manifest, Tool};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// How much a change deserves a reviewer's attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Words and docs.
    Low,
    /// Behaviour changes.
    Medium,
    /// The agent can do more harm.
    High,
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` honours width and alignment (`{:<6}`).
        f.pad(match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        })
    }
}

/// One semantic change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Risk level.
    pub risk: Risk,
    /// Stable id of the rule that set the risk, e.g. `tool-access-widened`.
    pub rule: &'static str,
    /// Where, as a dotted path (`tools.helpdesk.add_tag.approval`).
    pub path: String,
    /// What happened, in words.
    pub summary: String,
    /// Value before, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Value after, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

struct Out(Vec<Change>);

impl Out {
    fn push(
        &mut self,
        risk: Risk,
        rule: &'static str,
        path: impl Into<String>,
        summary: impl Into<String>,
        before: Option<String>,
        after: Option<String>,
    ) {
        self.0.push(Change {
            risk,
            rule,
            path: path.into(),
            summary: summary.into(),
            before,
            after,
        });
    }

    /// A limit where unset is the loosest value (no timeout, unbounded
    /// retries): setting or lowering it tightens (low risk), anything else
    /// loosens (medium). `what` leads the summary; `unset` names no limit.
    fn limit<T: PartialOrd + Copy + fmt::Display>(
        &mut self,
        (tightened, loosened): (&'static str, &'static str),
        path: String,
        what: &str,
        unset: &str,
        a: Option<T>,
        b: Option<T>,
    ) {
        if a == b {
            return;
        }
        let show = |v: Option<T>| v.map_or_else(|| unset.to_string(), |v| v.to_string());
        let summary = format!("{what} {} → {}", show(a), show(b));
        let tighter = b.is_some_and(|y| a.is_none_or(|x| y < x));
        let (risk, rule) = if tighter {
            (Risk::Low, tightened)
        } else {
            (Risk::Medium, loosened)
        };
        self.push(
            risk,
            rule,
            path,
            summary,
            a.map(|v| v.to_string()),
            b.map(|v| v.to_string()),
        );
    }

    /// A plain field change with a fixed risk.
    fn field<T: PartialEq + fmt::Display>(
        &mut self,
        risk: Risk,
        rule: &'static str,
        path: &str,
        a: Option<T>,
        b: Option<T>,
    ) {
        if a == b {
            return;
        }
        let (before, after) = (a.map(|v| v.to_string()), b.map(|v| v.to_string()));
        let summary = match (&before, &after) {
            (None, Some(v)) => format!("{path} set to {v}"),
            (Some(v), None) => format!("{path} removed (was {v})"),
            (Some(x), Some(y)) => format!("{path}: {x} → {y}"),
            (None, None) => return,
        };
        self.push(risk, rule, path, summary, before, after);
    }
}

/// Compare two manifests.
pub fn compare(a: &Manifest, b: &Manifest) -> Vec<Change> {
    let mut out = Out(Vec::new());
    out.field(
        Risk::Low,
        "version",
        "version",
        Some(&a.version),
        Some(&b.version),
    );
    out.field(
        Risk::Low,
        "description",
        "description",
        a.description.as_ref(),
        b.description.as_ref(),
    );
    owners(&mut out, a, b);
    escalation(&mut out, a, b);
    scope(&mut out, a, b);
    model(&mut out, a, b);
    tools(&mut out, a, b);
    rules(&mut out, a, b);
    knowledge(&mut out, a, b);
    evals(&mut out, a, b);
    alerts(&mut out, a, b);
    reliability(&mut out, a, b);
    security(&mut out, a, b);
    docs(&mut out, a, b);
    out.0.sort_by_key(|c| std::cmp::Reverse(c.risk));
    out.0
}

fn owners(out: &mut Out, a: &Manifest, b: &Manifest) {
    let key =
        |o: &crate::bundle::manifest::Owner| o.email.clone().unwrap_or_else(|| o.name.clone());
    let before: BTreeMap<String, _> = a.owners.iter().map(|o| (key(o), o)).collect();
    let after: BTreeMap<String, _> = b.owners.iter().map(|o| (key(o), o)).collect();
    for (k, o) in &before {
        match after.get(k) {
            None => out.push(
                Risk::High,
                "owner-removed",
                format!("owners.{k}"),
                format!("owner {} ({k}) removed", o.name),
                Some(format!("{:?}", o.role).to_lowercase()),
                None,
            ),
            Some(n) if n.role != o.role => out.push(
                Risk::High,
                "owner-role-changed",
                format!("owners.{k}.role"),
                format!("owner {k}: role {:?} → {:?}", o.role, n.role).to_lowercase(),
                Some(format!("{:?}", o.role).to_lowercase()),
                Some(format!("{:?}", n.role).to_lowercase()),
            ),
            Some(_) => {}
        }
    }
    for (k, o) in &after {
        if !before.contains_key(k) {
            out.push(
                Risk::Low,
                "owner-added",
                format!("owners.{k}"),
                format!("owner {} ({k}) added", o.name),
                None,
                Some(format!("{:?}", o.role).to_lowercase()),
            );
        }
    }
}

fn escalation(out: &mut Out, a: &Manifest, b: &Manifest) {
    let (ea, eb) = (a.escalation.as_ref(), b.escalation.as_ref());
    out.field(
        Risk::Medium,
        "escalation-changed",
        "escalation.channel",
        ea.map(|e| &e.channel),
        eb.map(|e| &e.channel),
    );
    let names = |e: Option<&crate::bundle::manifest::Escalation>| -> Vec<String> {
        e.map(|e| e.contacts.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default()
    };
    let (na, nb) = (names(ea), names(eb));
    for n in na.iter().filter(|n| !nb.contains(n)) {
        out.push(
            Risk::Medium,
            "escalation-contact-removed",
            "escalation.contacts",
            format!("escalation contact {n} removed"),
            Some(n.clone()),
            None,
        );
    }
    for n in nb.iter().filter(|n| !na.contains(n)) {
        out.push(
            Risk::Low,
            "escalation-contact-added",
            "escalation.contacts",
            format!("escalation contact {n} added"),
            None,
            Some(n.clone()),
        );
    }
    if na != nb && na.iter().all(|n| nb.contains(n)) && nb.iter().all(|n| na.contains(n)) {
        out.push(
            Risk::Low,
            "escalation-order-changed",
            "escalation.contacts",
            "escalation contacts reordered",
            Some(na.join(", ")),
            Some(nb.join(", ")),
        );
    }
    let when = |e: Option<&crate::bundle::manifest::Escalation>| e.map(|e| e.when.join("; "));
    out.field(
        Risk::Low,
        "escalation-changed",
        "escalation.when",
        when(ea),
        when(eb),
    );
}

fn scope(out: &mut Out, a: &Manifest, b: &Manifest) {
    let (sa, sb) = (a.scope.as_ref(), b.scope.as_ref());
    out.field(
        Risk::Medium,
        "scope-changed",
        "scope.purpose",
        sa.map(|s| &s.purpose),
        sb.map(|s| &s.purpose),
    );
    let list = |s: Option<&crate::bundle::manifest::Scope>,
                f: fn(&crate::bundle::manifest::Scope) -> &Vec<String>|
     -> Vec<String> { s.map(|s| f(s).clone()).unwrap_or_default() };
    let (ia, ib) = (list(sa, |s| &s.in_scope), list(sb, |s| &s.in_scope));
    for x in ib.iter().filter(|x| !ia.contains(x)) {
        out.push(
            Risk::Medium,
            "scope-widened",
            "scope.in_scope",
            format!("now in scope: {x}"),
            None,
            Some(x.clone()),
        );
    }
    for x in ia.iter().filter(|x| !ib.contains(x)) {
        out.push(
            Risk::Low,
            "scope-narrowed",
            "scope.in_scope",
            format!("no longer in scope: {x}"),
            Some(x.clone()),
            None,
        );
    }
    let (oa, ob) = (list(sa, |s| &s.out_of_scope), list(sb, |s| &s.out_of_scope));
    for x in oa.iter().filter(|x| !ob.contains(x)) {
        out.push(
            Risk::High,
            "out-of-scope-removed",
            "scope.out_of_scope",
            format!("no longer out of scope: {x}"),
            Some(x.clone()),
            None,
        );
    }
    for x in ob.iter().filter(|x| !oa.contains(x)) {
        out.push(
            Risk::Low,
            "out-of-scope-added",
            "scope.out_of_scope",
            format!("now out of scope: {x}"),
            None,
            Some(x.clone()),
        );
    }
}

fn model(out: &mut Out, a: &Manifest, b: &Manifest) {
    let (ma, mb) = (a.model.as_ref(), b.model.as_ref());
    out.field(
        Risk::Medium,
        "model-changed",
        "model.provider",
        ma.map(|m| &m.provider),
        mb.map(|m| &m.provider),
    );
    out.field(
        Risk::Medium,
        "model-changed",
        "model.name",
        ma.map(|m| &m.name),
        mb.map(|m| &m.name),
    );
    out.field(
        Risk::Medium,
        "model-changed",
        "model.region",
        ma.and_then(|m| m.region.as_ref()),
        mb.and_then(|m| m.region.as_ref()),
    );
    out.field(
        Risk::Medium,
        "model-changed",
        "model.hosting",
        ma.and_then(|m| m.hosting.as_ref()),
        mb.and_then(|m| m.hosting.as_ref()),
    );
    let fb = |m: Option<&crate::bundle::manifest::Model>| {
        m.and_then(|m| m.fallback.as_ref()).map(|f| {
            format!(
                "{}/{}{}",
                f.provider,
                f.name,
                f.region
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            )
        })
    };
    out.field(
        Risk::Medium,
        "model-changed",
        "model.fallback",
        fb(ma),
        fb(mb),
    );
    let empty = BTreeMap::new();
    let pa = ma.map(|m| &m.parameters).unwrap_or(&empty);
    let pb = mb.map(|m| &m.parameters).unwrap_or(&empty);
    let keys: std::collections::BTreeSet<&String> = pa.keys().chain(pb.keys()).collect();
    for k in keys {
        out.field(
            Risk::Medium,
            "model-parameter-changed",
            &format!("model.parameters.{k}"),
            pa.get(k),
            pb.get(k),
        );
    }
}

fn tool_desc(t: &Tool) -> String {
    format!(
        "{} access, approval {}",
        t.access.map(Access::as_str).unwrap_or("unspecified"),
        t.approval.map(Approval::as_str).unwrap_or("unspecified")
    )
}

fn tools(out: &mut Out, a: &Manifest, b: &Manifest) {
    let before: BTreeMap<&str, &Tool> = a.tools.iter().map(|t| (t.name.as_str(), t)).collect();
    let after: BTreeMap<&str, &Tool> = b.tools.iter().map(|t| (t.name.as_str(), t)).collect();
    for (name, t) in &after {
        let path = format!("tools.{name}");
        let Some(old) = before.get(name) else {
            let (risk, rule) = match t.access {
                Some(Access::Write | Access::Destructive) => (Risk::High, "tool-added-write"),
                _ => (Risk::Medium, "tool-added"),
            };
            out.push(
                risk,
                rule,
                path,
                format!("new tool {name} ({})", tool_desc(t)),
                None,
                Some(tool_desc(t)),
            );
            continue;
        };
        if t.access > old.access {
            out.push(
                Risk::High,
                "tool-access-widened",
                format!("{path}.access"),
                format!(
                    "{name}: access widened {} → {}",
                    old.access.map(Access::as_str).unwrap_or("unspecified"),
                    t.access.map(Access::as_str).unwrap_or("unspecified")
                ),
                old.access.map(|x| x.as_str().to_string()),
                t.access.map(|x| x.as_str().to_string()),
            );
        } else if t.access < old.access {
            out.push(
                Risk::Low,
                "tool-access-narrowed",
                format!("{path}.access"),
                format!(
                    "{name}: access narrowed {} → {}",
                    old.access.map(Access::as_str).unwrap_or("unspecified"),
                    t.access.map(Access::as_str).unwrap_or("unspecified")
                ),
                old.access.map(|x| x.as_str().to_string()),
                t.access.map(|x| x.as_str().to_string()),
            );
        }
        if old.approval == Some(Approval::Required) && t.approval != Some(Approval::Required) {
            out.push(
                Risk::High,
                "tool-approval-removed",
                format!("{path}.approval"),
                format!("{name}: human approval removed"),
                Some("required".into()),
                t.approval.map(|x| x.as_str().to_string()),
            );
        } else if old.approval != Some(Approval::Required) && t.approval == Some(Approval::Required)
        {
            out.push(
                Risk::Low,
                "tool-approval-added",
                format!("{path}.approval"),
                format!("{name}: now requires human approval"),
                old.approval.map(|x| x.as_str().to_string()),
                Some("required".into()),
            );
        }
        if old.approvers != t.approvers {
            out.push(
                Risk::Medium,
                "tool-approvers-changed",
                format!("{path}.approvers"),
                format!("{name}: approvers changed"),
                Some(old.approvers.join(", ")),
                Some(t.approvers.join(", ")),
            );
        }
        out.limit(
            ("tool-timeout-tightened", "tool-timeout-loosened"),
            format!("{path}.timeout"),
            &format!("{name}: timeout"),
            "none",
            old.timeout,
            t.timeout,
        );
        let attempts = |t: &Tool| t.retry.as_ref().and_then(|r| r.max_attempts);
        out.limit(
            ("tool-retries-tightened", "tool-retries-loosened"),
            format!("{path}.retry.max_attempts"),
            &format!("{name}: max_attempts"),
            "unbounded",
            attempts(old),
            attempts(t),
        );
        let of = |t: &Tool| t.on_failure.map(|f| format!("{f:?}").to_lowercase());
        out.field(
            Risk::Medium,
            "tool-on-failure-changed",
            &format!("{path}.on_failure"),
            of(old),
            of(t),
        );
        out.field(
            Risk::Low,
            "tool-description-changed",
            &format!("{path}.description"),
            old.description.as_ref(),
            t.description.as_ref(),
        );
    }
    for (name, t) in &before {
        if !after.contains_key(name) {
            out.push(
                Risk::Low,
                "tool-removed",
                format!("tools.{name}"),
                format!("tool {name} removed"),
                Some(tool_desc(t)),
                None,
            );
        }
    }
}

fn rules(out: &mut Out, a: &Manifest, b: &Manifest) {
    let before: BTreeMap<&str, _> = a.rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let after: BTreeMap<&str, _> = b.rules.iter().map(|r| (r.id.as_str(), r)).collect();
    for (id, r) in &before {
        match after.get(id) {
            None => out.push(
                Risk::High,
                "rule-removed",
                format!("rules.{id}"),
                format!("rule {id} removed ({})", r.action.as_str()),
                Some(r.description.clone()),
                None,
            ),
            Some(n) if n.action != r.action => out.push(
                Risk::High,
                "rule-action-changed",
                format!("rules.{id}.action"),
                format!("rule {id}: {} → {}", r.action.as_str(), n.action.as_str()),
                Some(r.action.as_str().into()),
                Some(n.action.as_str().into()),
            ),
            Some(n) if n.description != r.description => out.push(
                Risk::Medium,
                "rule-changed",
                format!("rules.{id}.description"),
                format!("rule {id} reworded"),
                Some(r.description.clone()),
                Some(n.description.clone()),
            ),
            Some(_) => {}
        }
    }
    for (id, r) in &after {
        if !before.contains_key(id) {
            out.push(
                Risk::Low,
                "rule-added",
                format!("rules.{id}"),
                format!("rule {id} added ({})", r.action.as_str()),
                None,
                Some(r.description.clone()),
            );
        }
    }
}

fn knowledge(out: &mut Out, a: &Manifest, b: &Manifest) {
    let before: BTreeMap<&str, _> = a.knowledge.iter().map(|k| (k.name.as_str(), k)).collect();
    let after: BTreeMap<&str, _> = b.knowledge.iter().map(|k| (k.name.as_str(), k)).collect();
    for (name, k) in &after {
        match before.get(name) {
            None => out.push(
                Risk::Medium,
                "knowledge-added",
                format!("knowledge.{name}"),
                format!("knowledge source {name} added ({})", k.uri),
                None,
                Some(k.uri.clone()),
            ),
            Some(o) => {
                out.field(
                    Risk::Medium,
                    "knowledge-changed",
                    &format!("knowledge.{name}.uri"),
                    Some(&o.uri),
                    Some(&k.uri),
                );
                out.field(
                    Risk::Low,
                    "knowledge-changed",
                    &format!("knowledge.{name}.owner"),
                    o.owner.as_ref(),
                    k.owner.as_ref(),
                );
                out.field(
                    Risk::Low,
                    "knowledge-changed",
                    &format!("knowledge.{name}.refresh"),
                    o.refresh.as_ref(),
                    k.refresh.as_ref(),
                );
                let c = |k: &crate::bundle::manifest::KnowledgeSource| {
                    k.classification.map(|c| format!("{c:?}").to_lowercase())
                };
                out.field(
                    Risk::Medium,
                    "knowledge-changed",
                    &format!("knowledge.{name}.classification"),
                    c(o),
                    c(k),
                );
            }
        }
    }
    for (name, k) in &before {
        if !after.contains_key(name) {
            out.push(
                Risk::Medium,
                "knowledge-removed",
                format!("knowledge.{name}"),
                format!("knowledge source {name} removed"),
                Some(k.uri.clone()),
                None,
            );
        }
    }
}

fn evals(out: &mut Out, a: &Manifest, b: &Manifest) {
    let ra = a.evals.as_ref().map(|e| e.min_pass_rate);
    let rb = b.evals.as_ref().map(|e| e.min_pass_rate);
    match (ra, rb) {
        (Some(x), Some(y)) if y < x => out.push(
            Risk::High,
            "eval-threshold-lowered",
            "evals.min_pass_rate",
            format!("eval pass threshold lowered {x} → {y}"),
            Some(x.to_string()),
            Some(y.to_string()),
        ),
        (Some(x), None) => out.push(
            Risk::High,
            "eval-threshold-lowered",
            "evals",
            format!("eval gate removed (was {x})"),
            Some(x.to_string()),
            None,
        ),
        (x, y) if x != y => out.push(
            Risk::Low,
            "eval-threshold-raised",
            "evals.min_pass_rate",
            format!(
                "eval pass threshold {} → {}",
                x.map(|v| v.to_string()).unwrap_or_else(|| "none".into()),
                y.map(|v| v.to_string()).unwrap_or_default()
            ),
            x.map(|v| v.to_string()),
            y.map(|v| v.to_string()),
        ),
        _ => {}
    }
    let suites = |m: &Manifest| -> Vec<String> {
        m.evals
            .as_ref()
            .map(|e| e.suites.iter().map(|s| s.name.clone()).collect())
            .unwrap_or_default()
    };
    let (sa, sb) = (suites(a), suites(b));
    for s in sa.iter().filter(|s| !sb.contains(s)) {
        out.push(
            Risk::High,
            "eval-suite-removed",
            "evals.suites",
            format!("eval suite {s} removed"),
            Some(s.clone()),
            None,
        );
    }
    for s in sb.iter().filter(|s| !sa.contains(s)) {
        out.push(
            Risk::Low,
            "eval-suite-added",
            "evals.suites",
            format!("eval suite {s} added"),
            None,
            Some(s.clone()),
        );
    }
}

fn alerts(out: &mut Out, a: &Manifest, b: &Manifest) {
    let list = |m: &Manifest| -> BTreeMap<String, crate::bundle::manifest::Alert> {
        m.monitoring
            .as_ref()
            .map(|x| {
                x.alerts
                    .iter()
                    .map(|al| (al.name.clone(), al.clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (before, after) = (list(a), list(b));
    for (name, al) in &before {
        match after.get(name) {
            None => out.push(
                Risk::Medium,
                "alert-removed",
                format!("monitoring.alerts.{name}"),
                format!("alert {name} removed"),
                Some(al.condition.clone()),
                None,
            ),
            Some(n) => {
                out.field(
                    Risk::Medium,
                    "alert-changed",
                    &format!("monitoring.alerts.{name}.condition"),
                    Some(&al.condition),
                    Some(&n.condition),
                );
                out.field(
                    Risk::Medium,
                    "alert-changed",
                    &format!("monitoring.alerts.{name}.notify"),
                    al.notify.as_ref(),
                    n.notify.as_ref(),
                );
                out.field(
                    Risk::Low,
                    "alert-text-changed",
                    &format!("monitoring.alerts.{name}.message"),
                    al.message.as_ref(),
                    n.message.as_ref(),
                );
            }
        }
    }
    for (name, al) in &after {
        if !before.contains_key(name) {
            out.push(
                Risk::Low,
                "alert-added",
                format!("monitoring.alerts.{name}"),
                format!("alert {name} added"),
                None,
                Some(al.condition.clone()),
            );
        }
    }
}

fn reliability(out: &mut Out, a: &Manifest, b: &Manifest) {
    let (ra, rb) = (a.reliability.as_ref(), b.reliability.as_ref());
    out.field(
        Risk::Medium,
        "reliability-changed",
        "reliability.fallback",
        ra.map(|r| &r.fallback),
        rb.map(|r| &r.fallback),
    );
    let h = |r: Option<&crate::bundle::manifest::Reliability>| {
        r.and_then(|r| r.human_handoff.as_ref())
            .map(|h| format!("{} ({})", h.channel, h.when))
    };
    out.field(
        Risk::Medium,
        "reliability-changed",
        "reliability.human_handoff",
        h(ra),
        h(rb),
    );
}

fn security(out: &mut Out, a: &Manifest, b: &Manifest) {
    let (sa, sb) = (a.security.as_ref(), b.security.as_ref());
    if sa.is_some() && sb.is_none() {
        out.push(
            Risk::High,
            "security-removed",
            "security",
            "security review removed",
            None,
            None,
        );
        return;
    }
    let dh =
        |s: Option<&crate::bundle::manifest::Security>| s.and_then(|s| s.data_handling.clone());
    let (da, db) = (dh(sa), dh(sb));
    let ret = |d: &Option<crate::bundle::manifest::DataHandling>| {
        d.as_ref().and_then(|d| d.retention_days)
    };
    match (ret(&da), ret(&db)) {
        (Some(x), Some(y)) if y > x => out.push(
            Risk::High,
            "retention-raised",
            "security.data_handling.retention_days",
            format!("data retention raised {x} → {y} days"),
            Some(x.to_string()),
            Some(y.to_string()),
        ),
        (x, y) if x != y => out.push(
            Risk::Low,
            "retention-changed",
            "security.data_handling.retention_days",
            format!(
                "data retention {} → {} days",
                x.map(|v| v.to_string()).unwrap_or_else(|| "unset".into()),
                y.map(|v| v.to_string()).unwrap_or_else(|| "unset".into())
            ),
            x.map(|v| v.to_string()),
            y.map(|v| v.to_string()),
        ),
        _ => {}
    }
    let pii = |d: &Option<crate::bundle::manifest::DataHandling>| d.as_ref().and_then(|d| d.pii);
    if pii(&db) == Some(true) && pii(&da) != Some(true) {
        out.push(
            Risk::High,
            "pii-enabled",
            "security.data_handling.pii",
            "the agent now handles personal data (pii: true)",
            pii(&da).map(|v| v.to_string()),
            Some("true".into()),
        );
    } else if pii(&da) != pii(&db) {
        out.field(
            Risk::Low,
            "pii-changed",
            "security.data_handling.pii",
            pii(&da),
            pii(&db),
        );
    }
    let lists =
        |d: &Option<crate::bundle::manifest::DataHandling>,
         f: fn(&crate::bundle::manifest::DataHandling) -> Option<Vec<String>>| {
            d.as_ref().and_then(f).unwrap_or_default()
        };
    for (field, f) in [
        (
            "reads",
            (|d: &crate::bundle::manifest::DataHandling| d.reads.clone()) as fn(&_) -> _,
        ),
        ("writes", |d| d.writes.clone()),
    ] {
        let (x, y) = (lists(&da, f), lists(&db, f));
        for item in y.iter().filter(|i| !x.contains(i)) {
            let risk = if field == "writes" {
                Risk::High
            } else {
                Risk::Medium
            };
            out.push(
                risk,
                "data-access-widened",
                format!("security.data_handling.{field}"),
                format!("now {field} {item}"),
                None,
                Some(item.clone()),
            );
        }
        for item in x.iter().filter(|i| !y.contains(i)) {
            out.push(
                Risk::Low,
                "data-access-narrowed",
                format!("security.data_handling.{field}"),
                format!("no longer {field} {item}"),
                Some(item.clone()),
                None,
            );
        }
    }
    let comp = |s: Option<&crate::bundle::manifest::Security>| {
        s.and_then(|s| s.compliance.clone()).unwrap_or_default()
    };
    let (ca, cb) = (comp(sa), comp(sb));
    for c in ca.iter().filter(|c| !cb.contains(c)) {
        out.push(
            Risk::High,
            "compliance-removed",
            "security.compliance",
            format!("compliance regime {c} removed"),
            Some(c.clone()),
            None,
        );
    }
    for c in cb.iter().filter(|c| !ca.contains(c)) {
        out.push(
            Risk::Low,
            "compliance-added",
            "security.compliance",
            format!("compliance regime {c} added"),
            None,
            Some(c.clone()),
        );
    }
    let auth = |s: Option<&crate::bundle::manifest::Security>| {
        s.and_then(|s| s.authentication.as_ref()).map(|a| {
            format!(
                "{} as {} [{}]",
                a.method,
                a.identity.as_deref().unwrap_or("?"),
                a.scopes.join(", ")
            )
        })
    };
    out.field(
        Risk::High,
        "authentication-changed",
        "security.authentication",
        auth(sa),
        auth(sb),
    );
    let prov = |s: Option<&crate::bundle::manifest::Security>| {
        s.and_then(|s| s.provider_review.as_ref()).map(|p| {
            format!(
                "{}/{} at {}; {}",
                p.provider, p.model, p.hosting, p.data_policy
            )
        })
    };
    out.field(
        Risk::Medium,
        "provider-review-changed",
        "security.provider_review",
        prov(sa),
        prov(sb),
    );
    let reviewed =
        |s: Option<&crate::bundle::manifest::Security>| s.and_then(|s| s.reviewed_at.clone());
    out.field(
        Risk::Low,
        "security-reviewed",
        "security.reviewed_at",
        reviewed(sa),
        reviewed(sb),
    );
    let checklist = |s: Option<&crate::bundle::manifest::Security>| -> BTreeMap<String, String> {
        s.map(|s| {
            s.checklist
                .iter()
                .map(|c| (c.item.clone(), format!("{:?}", c.status).to_lowercase()))
                .collect()
        })
        .unwrap_or_default()
    };
    let (ka, kb) = (checklist(sa), checklist(sb));
    for (item, st) in &ka {
        if !kb.contains_key(item) {
            out.push(
                Risk::Medium,
                "checklist-item-removed",
                "security.checklist",
                format!("checklist item removed: {item}"),
                Some(st.clone()),
                None,
            );
        }
    }
    // A review that predates a risky change did not look at it.
    let risky = out.0.iter().any(|c| c.risk == Risk::High);
    if risky && reviewed(sa).is_some() && reviewed(sa) == reviewed(sb) {
        out.push(
            Risk::Medium,
            "security-review-stale",
            "security.reviewed_at",
            format!(
                "security review ({}) predates this change",
                reviewed(sb).unwrap_or_default()
            ),
            reviewed(sa),
            reviewed(sb),
        );
    }
}

fn docs(out: &mut Out, a: &Manifest, b: &Manifest) {
    let r = |m: &Manifest| m.docs.as_ref().and_then(|d| d.runbook.clone());
    let f = |m: &Manifest| m.docs.as_ref().and_then(|d| d.faq.clone());
    out.field(Risk::Low, "docs-changed", "docs.runbook", r(a), r(b));
    out.field(Risk::Low, "docs-changed", "docs.faq", f(a), f(b));
    let prompts = |m: &Manifest| -> BTreeMap<String, String> {
        m.prompts
            .iter()
            .map(|p| (p.name.clone(), p.file.clone()))
            .collect()
    };
    let (pa, pb) = (prompts(a), prompts(b));
    for (n, file) in &pb {
        match pa.get(n) {
            None => out.push(
                Risk::Medium,
                "prompt-added",
                format!("prompts.{n}"),
                format!("prompt {n} added ({file})"),
                None,
                Some(file.clone()),
            ),
            Some(old) if old != file => out.push(
                Risk::Medium,
                "prompt-changed",
                format!("prompts.{n}.file"),
                format!("prompt {n} now from {file}"),
                Some(old.clone()),
                Some(file.clone()),
            ),
            Some(_) => {}
        }
    }
    for (n, file) in &pa {
        if !pb.contains_key(n) {
            out.push(
                Risk::Medium,
                "prompt-removed",
                format!("prompts.{n}"),
                format!("prompt {n} removed"),
                Some(file.clone()),
                None,
            );
        }
    }
}

/// Every risk rule id with its level, for docs.
pub const RISK_RULES: &[(&str, Risk)] = &[
    ("tool-added-write", Risk::High),
    ("tool-access-widened", Risk::High),
    ("tool-approval-removed", Risk::High),
    ("owner-removed", Risk::High),
    ("owner-role-changed", Risk::High),
    ("retention-raised", Risk::High),
    ("pii-enabled", Risk::High),
    ("eval-threshold-lowered", Risk::High),
    ("eval-suite-removed", Risk::High),
    ("rule-removed", Risk::High),
    ("rule-action-changed", Risk::High),
    ("compliance-removed", Risk::High),
    ("security-removed", Risk::High),
    ("authentication-changed", Risk::High),
    ("out-of-scope-removed", Risk::High),
    ("data-access-widened", Risk::High),
    ("model-changed", Risk::Medium),
    ("model-parameter-changed", Risk::Medium),
    ("tool-added", Risk::Medium),
    ("tool-timeout-loosened", Risk::Medium),
    ("tool-retries-loosened", Risk::Medium),
    ("tool-on-failure-changed", Risk::Medium),
    ("tool-approvers-changed", Risk::Medium),
    ("prompt-changed", Risk::Medium),
    ("knowledge-added", Risk::Medium),
    ("knowledge-removed", Risk::Medium),
    ("escalation-contact-removed", Risk::Medium),
    ("alert-removed", Risk::Medium),
    ("alert-changed", Risk::Medium),
    ("scope-widened", Risk::Medium),
    ("security-review-stale", Risk::Medium),
    ("prompt-text-changed", Risk::Medium),
    ("prompt-added", Risk::Medium),
    ("prompt-removed", Risk::Medium),
    ("eval-suite-changed", Risk::Medium),
    ("knowledge-changed", Risk::Medium),
    ("rule-changed", Risk::Medium),
    ("escalation-changed", Risk::Medium),
    ("reliability-changed", Risk::Medium),
    ("provider-review-changed", Risk::Medium),
    ("checklist-item-removed", Risk::Medium),
    ("agent-removed", Risk::Medium),
    ("manifest-unparseable", Risk::High),
    ("agent-added", Risk::High),
    ("description", Risk::Low),
    ("file-changed", Risk::Low),
    ("tool-access-narrowed", Risk::Low),
    ("tool-approval-added", Risk::Low),
    ("tool-timeout-tightened", Risk::Low),
    ("tool-retries-tightened", Risk::Low),
    ("tool-description-changed", Risk::Low),
    ("escalation-contact-added", Risk::Low),
    ("escalation-order-changed", Risk::Low),
    ("scope-narrowed", Risk::Low),
    ("out-of-scope-added", Risk::Low),
    ("eval-threshold-raised", Risk::Low),
    ("eval-suite-added", Risk::Low),
    ("alert-added", Risk::Low),
    ("alert-text-changed", Risk::Low),
    ("retention-changed", Risk::Low),
    ("pii-changed", Risk::Low),
    ("data-access-narrowed", Risk::Low),
    ("compliance-added", Risk::Low),
    ("security-reviewed", Risk::Low),
    ("docs-changed", Risk::Low),
    ("version", Risk::Low),
    ("owner-added", Risk::Low),
    ("tool-removed", Risk::Low),
    ("rule-added", Risk::Low),
];
