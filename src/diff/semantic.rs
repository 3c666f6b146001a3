//! The semantic diff of two manifests, each change with a risk level.
//!
//! The risk model, applied the same way to every field (README, "Reviewing:
//! agentctl diff"):
//!
//! - **high**: the agent's access or data reach widens (a tool's access, a
//!   new write tool, data read or written, a model provider, region or
//!   hosting, a knowledge source's classification, authentication), or a
//!   safety, evaluation or oversight control weakens (approvals, rules,
//!   the security checklist, eval gates and content, monitoring,
//!   escalation, who is paged, who can approve or sign);
//! - **medium**: the agent behaves differently (model, parameters, prompts,
//!   knowledge, timeouts and retries, fallback);
//! - **low**: tightening, and words for people.
//!
//! Context raises a rule where the same edit reaches further: retries and
//! timeouts loosened on a destructive tool, a new tool in an agent that
//! handles personal data, a confidential or restricted source added. Each
//! context is its own rule, so every rule has exactly one risk.
//!
//! Every rule is a [`Rule`] variant; its id and risk are stated once, in the
//! `rules!` table (`diff::rules`), and every change is emitted through it. Every
//! manifest field is either compared by some rule or listed in [`FIELDS`]
//! with the reason it is not; a test walks the JSON Schema to prove it.

use crate::bundle::manifest::{Classification, Manifest, RuleAction};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

pub use super::fields::{Coverage, FIELDS};
pub use super::rules::{Change, RISK_RULES, Risk, Rule};

use Rule as R;

mod security;
mod tools;

use security::security;
use tools::tools;

struct Out(Vec<Change>);

fn show<T: fmt::Display>(v: Option<T>) -> Option<String> {
    v.map(|v| v.to_string())
}

impl Out {
    fn push(
        &mut self,
        rule: Rule,
        path: impl Into<String>,
        summary: impl Into<String>,
        before: Option<String>,
        after: Option<String>,
    ) {
        self.0.push(Change::new(rule, path, summary, before, after));
    }

    /// A limit where unset is the loosest value (no timeout, unbounded
    /// retries): setting or lowering it tightens, anything else loosens.
    #[allow(clippy::too_many_arguments)]
    fn limit<T: PartialOrd + Copy + fmt::Display>(
        &mut self,
        (tightened, loosened): (Rule, Rule),
        path: String,
        what: &str,
        unset: &str,
        a: Option<T>,
        b: Option<T>,
    ) {
        if a == b {
            return;
        }
        let shown = |v: Option<T>| v.map_or_else(|| unset.to_string(), |v| v.to_string());
        let summary = format!("{what} {} → {}", shown(a), shown(b));
        let tighter = b.is_some_and(|y| a.is_none_or(|x| y < x));
        let rule = if tighter { tightened } else { loosened };
        self.push(rule, path, summary, show(a), show(b));
    }

    /// A plain field change.
    fn field<T: PartialEq + fmt::Display>(
        &mut self,
        rule: Rule,
        path: &str,
        a: Option<T>,
        b: Option<T>,
    ) {
        if a == b {
            return;
        }
        let (before, after) = (show(a), show(b));
        let summary = match (&before, &after) {
            (None, Some(v)) => format!("{path} set to {v}"),
            (Some(v), None) => format!("{path} removed (was {v})"),
            (Some(x), Some(y)) => format!("{path}: {x} → {y}"),
            (None, None) => return,
        };
        self.push(rule, path, summary, before, after);
    }

    /// Items added to or removed from a list of words.
    fn set(
        &mut self,
        (added, removed): (Rule, Rule),
        path: &str,
        a: &[String],
        b: &[String],
        say: (&str, &str),
    ) {
        for x in b.iter().filter(|x| !a.contains(x)) {
            self.push(added, path, format!("{} {x}", say.0), None, Some(x.clone()));
        }
        for x in a.iter().filter(|x| !b.contains(x)) {
            self.push(
                removed,
                path,
                format!("{} {x}", say.1),
                Some(x.clone()),
                None,
            );
        }
    }
}

/// List items paired by key. Items whose key is only on one side but whose
/// other fields equal an item's on the other side (the key is all that
/// changed) are paired as renames.
struct Paired<'a, T> {
    both: Vec<(&'a str, &'a T, &'a T)>,
    renamed: Vec<(&'a T, &'a T)>,
    added: Vec<&'a T>,
    removed: Vec<&'a T>,
}

fn pair<'a, T: PartialEq, K: Fn(&T) -> &str, S: Fn(&T, &T) -> bool>(
    a: &'a [T],
    b: &'a [T],
    key: K,
    same_but_key: S,
) -> Paired<'a, T> {
    let mut p = Paired {
        both: Vec::new(),
        renamed: Vec::new(),
        added: Vec::new(),
        removed: Vec::new(),
    };
    // Keys are unique in a valid manifest; when they are not (validate
    // says `duplicate-name`), an unchanged item pairs with its equal and
    // the others in order, so an item inserted under an existing key is
    // reported as added, not hidden behind the original.
    let mut only_a: Vec<&T> = Vec::new();
    let mut only_b: Vec<&T> = b.iter().collect();
    let mut pending: Vec<&T> = Vec::new();
    for x in a {
        match only_b.iter().position(|y| key(y) == key(x) && *y == x) {
            Some(i) => {
                let y = only_b.remove(i);
                p.both.push((key(x), x, y));
            }
            None => pending.push(x),
        }
    }
    for x in pending {
        match only_b.iter().position(|y| key(y) == key(x)) {
            Some(i) => {
                let y = only_b.remove(i);
                p.both.push((key(x), x, y));
            }
            None => only_a.push(x),
        }
    }
    for x in only_a {
        match only_b.iter().position(|y| same_but_key(x, y)) {
            Some(i) => p.renamed.push((x, only_b.remove(i))),
            None => p.removed.push(x),
        }
    }
    p.added = only_b;
    p
}

/// A security review that predates a high-risk change did not look at it:
/// `changes` are all of a bundle's, manifest, prompts and files.
pub fn review_stale(a: &Manifest, b: &Manifest, changes: &[Change]) -> Option<Change> {
    let reviewed = |m: &Manifest| m.security.as_ref().and_then(|s| s.reviewed_at.clone());
    let (ra, rb) = (reviewed(a), reviewed(b));
    let risky = changes.iter().any(|c| c.risk == Risk::High);
    (risky && ra.is_some() && ra == rb).then(|| {
        Change::new(
            R::SecurityReviewStale,
            "security.reviewed_at",
            format!(
                "security review ({}) predates this change",
                rb.clone().unwrap_or_default()
            ),
            ra,
            rb,
        )
    })
}

/// Compare two manifests.
pub fn compare(a: &Manifest, b: &Manifest) -> Vec<Change> {
    let mut out = Out(Vec::new());
    out.field(R::Version, "version", Some(&a.version), Some(&b.version));
    out.field(
        R::Description,
        "description",
        a.description.as_ref(),
        b.description.as_ref(),
    );
    owners(&mut out, a, b);
    escalation(&mut out, a, b);
    scope(&mut out, a, b);
    model(&mut out, a, b);
    prompts(&mut out, a, b);
    tools(&mut out, a, b);
    rules(&mut out, a, b);
    knowledge(&mut out, a, b);
    evals(&mut out, a, b);
    monitoring(&mut out, a, b);
    reliability(&mut out, a, b);
    security(&mut out, a, b);
    docs(&mut out, a, b);
    out.0.sort_by_key(|c| std::cmp::Reverse(c.risk));
    out.0
}

fn role(o: &crate::bundle::manifest::Owner) -> String {
    format!("{:?}", o.role).to_lowercase()
}

/// Owners with an email earn the `owner` signing role unless they are
/// reviewers (`ops::verify`).
fn signs(o: &crate::bundle::manifest::Owner) -> bool {
    o.role != crate::bundle::manifest::OwnerRole::Reviewer
}

fn owners(out: &mut Out, a: &Manifest, b: &Manifest) {
    let key = |o: &crate::bundle::manifest::Owner| -> String {
        o.email.clone().unwrap_or_else(|| o.name.clone())
    };
    let ka: Vec<String> = a.owners.iter().map(key).collect();
    let mut added: Vec<&crate::bundle::manifest::Owner> =
        b.owners.iter().filter(|o| !ka.contains(&key(o))).collect();
    for o in &a.owners {
        let k = key(o);
        if let Some(n) = b.owners.iter().find(|n| key(n) == k) {
            if n.role != o.role {
                out.push(
                    R::OwnerRoleChanged,
                    format!("owners.{k}.role"),
                    format!("owner {k}: role {} → {}", role(o), role(n)),
                    Some(role(o)),
                    Some(role(n)),
                );
            }
            if n.name != o.name {
                out.push(
                    R::OwnerRenamed,
                    format!("owners.{k}.name"),
                    format!("owner {k} renamed {} → {}", o.name, n.name),
                    Some(o.name.clone()),
                    Some(n.name.clone()),
                );
            }
            continue;
        }
        // Same person and role, another email: their signing principal moved.
        if let Some(i) = added
            .iter()
            .position(|n| n.name == o.name && n.role == o.role)
        {
            let n = added.remove(i);
            out.push(
                R::OwnerEmailChanged,
                format!("owners.{k}.email"),
                format!("owner {}: email {k} → {}", o.name, key(n)),
                Some(k.clone()),
                Some(key(n)),
            );
            continue;
        }
        out.push(
            R::OwnerRemoved,
            format!("owners.{k}"),
            format!("owner {} ({k}) removed", o.name),
            Some(role(o)),
            None,
        );
    }
    for o in added {
        let k = key(o);
        let rule = if signs(o) {
            R::OwnerAddedSigner
        } else {
            R::OwnerAdded
        };
        let summary = if signs(o) {
            format!(
                "owner {} ({k}) added as {}: they can now sign as owner",
                o.name,
                role(o)
            )
        } else {
            format!("owner {} ({k}) added", o.name)
        };
        out.push(rule, format!("owners.{k}"), summary, None, Some(role(o)));
    }
}

fn escalation(out: &mut Out, a: &Manifest, b: &Manifest) {
    use crate::bundle::manifest::Contact;
    let (ea, eb) = (a.escalation.as_ref(), b.escalation.as_ref());
    if ea.is_some() && eb.is_none() {
        out.push(
            R::EscalationRemoved,
            "escalation",
            "escalation path removed",
            ea.map(|e| e.channel.clone()),
            None,
        );
        return;
    }
    out.field(
        R::EscalationChanged,
        "escalation.channel",
        ea.map(|e| &e.channel),
        eb.map(|e| &e.channel),
    );
    let when = |e: Option<&crate::bundle::manifest::Escalation>| {
        e.map(|e| e.when.clone()).unwrap_or_default()
    };
    out.set(
        (R::EscalationWhenAdded, R::EscalationChanged),
        "escalation.when",
        &when(ea),
        &when(eb),
        ("now escalated:", "no longer escalated:"),
    );
    let empty = Vec::new();
    let ca = ea.map(|e| &e.contacts).unwrap_or(&empty);
    let cb = eb.map(|e| &e.contacts).unwrap_or(&empty);
    let p = pair(
        ca,
        cb,
        |c: &Contact| c.name.as_str(),
        |x, y| x.role == y.role && x.email == y.email && x.phone == y.phone,
    );
    for (name, x, y) in &p.both {
        let reach = |c: &Contact| {
            format!(
                "{} / {}",
                c.email.as_deref().unwrap_or("-"),
                c.phone.as_deref().unwrap_or("-")
            )
        };
        if x.email != y.email || x.phone != y.phone {
            out.push(
                R::EscalationContactChanged,
                format!("escalation.contacts.{name}"),
                format!("escalation contact {name} is now reached at {}", reach(y)),
                Some(reach(x)),
                Some(reach(y)),
            );
        }
        if x.role != y.role {
            out.field(
                R::EscalationContactRoleChanged,
                &format!("escalation.contacts.{name}.role"),
                x.role.as_ref(),
                y.role.as_ref(),
            );
        }
    }
    for (x, y) in &p.renamed {
        out.push(
            R::ItemRenamed,
            "escalation.contacts",
            format!("escalation contact {} renamed {}", x.name, y.name),
            Some(x.name.clone()),
            Some(y.name.clone()),
        );
    }
    for x in &p.removed {
        out.push(
            R::EscalationContactRemoved,
            "escalation.contacts",
            format!("escalation contact {} removed", x.name),
            Some(x.name.clone()),
            None,
        );
    }
    for y in &p.added {
        out.push(
            R::EscalationContactAdded,
            "escalation.contacts",
            format!("escalation contact {} added", y.name),
            None,
            Some(y.name.clone()),
        );
    }
    // The same people called in another order: whoever is first changed.
    let rename = |n: &str| {
        p.renamed
            .iter()
            .find(|(x, _)| x.name == n)
            .map_or(n.to_string(), |(_, y)| y.name.clone())
    };
    let na: Vec<String> = ca
        .iter()
        .map(|c| rename(&c.name))
        .filter(|n| cb.iter().any(|c| &c.name == n))
        .collect();
    let nb: Vec<String> = cb
        .iter()
        .map(|c| c.name.clone())
        .filter(|n| na.contains(n))
        .collect();
    if na != nb {
        out.push(
            R::EscalationOrderChanged,
            "escalation.contacts",
            "escalation contacts reordered",
            Some(na.join(", ")),
            Some(nb.join(", ")),
        );
    }
}

fn scope(out: &mut Out, a: &Manifest, b: &Manifest) {
    let (sa, sb) = (a.scope.as_ref(), b.scope.as_ref());
    out.field(
        R::ScopeWidened,
        "scope.purpose",
        sa.map(|s| &s.purpose),
        sb.map(|s| &s.purpose),
    );
    let list = |s: Option<&crate::bundle::manifest::Scope>,
                f: fn(&crate::bundle::manifest::Scope) -> &Vec<String>|
     -> Vec<String> { s.map(|s| f(s).clone()).unwrap_or_default() };
    out.set(
        (R::ScopeWidened, R::ScopeNarrowed),
        "scope.in_scope",
        &list(sa, |s| &s.in_scope),
        &list(sb, |s| &s.in_scope),
        ("now in scope:", "no longer in scope:"),
    );
    out.set(
        (R::OutOfScopeAdded, R::OutOfScopeRemoved),
        "scope.out_of_scope",
        &list(sa, |s| &s.out_of_scope),
        &list(sb, |s| &s.out_of_scope),
        ("now out of scope:", "no longer out of scope:"),
    );
}

fn model(out: &mut Out, a: &Manifest, b: &Manifest) {
    let (ma, mb) = (a.model.as_ref(), b.model.as_ref());
    out.field(
        R::ModelReachChanged,
        "model.provider",
        ma.map(|m| &m.provider),
        mb.map(|m| &m.provider),
    );
    out.field(
        R::ModelChanged,
        "model.name",
        ma.map(|m| &m.name),
        mb.map(|m| &m.name),
    );
    out.field(
        R::ModelReachChanged,
        "model.region",
        ma.and_then(|m| m.region.as_ref()),
        mb.and_then(|m| m.region.as_ref()),
    );
    out.field(
        R::ModelReachChanged,
        "model.hosting",
        ma.and_then(|m| m.hosting.as_ref()),
        mb.and_then(|m| m.hosting.as_ref()),
    );
    let fa = ma.and_then(|m| m.fallback.as_ref());
    let fb = mb.and_then(|m| m.fallback.as_ref());
    let fshow = |f: &crate::bundle::manifest::FallbackModel| {
        format!(
            "{}/{}{}",
            f.provider,
            f.name,
            f.region
                .as_ref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        )
    };
    // Where a fallback's data goes: its provider and region. A fallback
    // that appears is a new place unless it is the primary's.
    let reach_a = fa.map(|f| (f.provider.clone(), f.region.clone()));
    let reach_b = fb.map(|f| (f.provider.clone(), f.region.clone()));
    let primary_b = mb.map(|m| (m.provider.clone(), m.region.clone()));
    if fa.map(fshow) != fb.map(fshow) {
        let reach_widened = reach_b.is_some() && reach_a != reach_b && reach_b != primary_b;
        let rule = if reach_widened {
            R::ModelReachChanged
        } else {
            R::ModelChanged
        };
        out.field(rule, "model.fallback", fa.map(fshow), fb.map(fshow));
    }
    let empty = BTreeMap::new();
    let pa = ma.map(|m| &m.parameters).unwrap_or(&empty);
    let pb = mb.map(|m| &m.parameters).unwrap_or(&empty);
    let keys: BTreeSet<&String> = pa.keys().chain(pb.keys()).collect();
    for k in keys {
        out.field(
            R::ModelParameterChanged,
            &format!("model.parameters.{k}"),
            pa.get(k),
            pb.get(k),
        );
    }
}

fn prompts(out: &mut Out, a: &Manifest, b: &Manifest) {
    for p in b.prompts.iter() {
        let n = &p.name;
        match a.prompts.iter().find(|o| &o.name == n) {
            None => out.push(
                R::PromptAdded,
                format!("prompts.{n}"),
                format!("prompt {n} added ({})", p.file),
                None,
                Some(p.file.clone()),
            ),
            Some(o) => {
                if o.file != p.file {
                    out.push(
                        R::PromptChanged,
                        format!("prompts.{n}.file"),
                        format!("prompt {n} now from {}", p.file),
                        Some(o.file.clone()),
                        Some(p.file.clone()),
                    );
                }
                out.field(
                    R::PromptDescriptionChanged,
                    &format!("prompts.{n}.description"),
                    o.description.as_ref(),
                    p.description.as_ref(),
                );
            }
        }
    }
    for o in a
        .prompts
        .iter()
        .filter(|o| !b.prompts.iter().any(|p| p.name == o.name))
    {
        out.push(
            R::PromptRemoved,
            format!("prompts.{}", o.name),
            format!("prompt {} removed", o.name),
            Some(o.file.clone()),
            None,
        );
    }
}

/// How strongly a rule holds the agent back: deny beats escalate, escalate
/// beats require-approval (as the example rules prompts say).
fn strength(a: RuleAction) -> u8 {
    match a {
        RuleAction::RequireApproval => 0,
        RuleAction::Escalate => 1,
        RuleAction::Deny => 2,
    }
}

fn rules(out: &mut Out, a: &Manifest, b: &Manifest) {
    use crate::bundle::manifest::Rule as HardRule;
    let p = pair(
        &a.rules,
        &b.rules,
        |r: &HardRule| r.id.as_str(),
        |x, y| x.description == y.description && x.action == y.action,
    );
    for (id, r, n) in &p.both {
        if n.action != r.action {
            let rule = if strength(n.action) > strength(r.action) {
                R::RuleActionTightened
            } else {
                R::RuleActionChanged
            };
            out.push(
                rule,
                format!("rules.{id}.action"),
                format!("rule {id}: {} → {}", r.action.as_str(), n.action.as_str()),
                Some(r.action.as_str().into()),
                Some(n.action.as_str().into()),
            );
        }
        if n.description != r.description {
            out.push(
                R::RuleChanged,
                format!("rules.{id}.description"),
                format!("rule {id} reworded"),
                Some(r.description.clone()),
                Some(n.description.clone()),
            );
        }
    }
    for (x, y) in &p.renamed {
        out.push(
            R::ItemRenamed,
            format!("rules.{}", x.id),
            format!("rule {} renamed {}", x.id, y.id),
            Some(x.id.clone()),
            Some(y.id.clone()),
        );
    }
    for r in &p.removed {
        out.push(
            R::RuleRemoved,
            format!("rules.{}", r.id),
            format!("rule {} removed ({})", r.id, r.action.as_str()),
            Some(r.description.clone()),
            None,
        );
    }
    for r in &p.added {
        out.push(
            R::RuleAdded,
            format!("rules.{}", r.id),
            format!("rule {} added ({})", r.id, r.action.as_str()),
            None,
            Some(r.description.clone()),
        );
    }
}

/// Sensitivity of a classification; an unclassified source is treated as
/// restricted, since nobody said it is not.
fn sensitivity(c: Option<Classification>) -> u8 {
    match c {
        Some(Classification::Public) => 0,
        Some(Classification::Internal) => 1,
        Some(Classification::Confidential) => 2,
        Some(Classification::Restricted) | None => 3,
    }
}

fn class(c: Option<Classification>) -> Option<String> {
    c.map(|c| format!("{c:?}").to_lowercase())
}

fn knowledge(out: &mut Out, a: &Manifest, b: &Manifest) {
    use crate::bundle::manifest::KnowledgeSource as K;
    let p = pair(
        &a.knowledge,
        &b.knowledge,
        |k: &K| k.name.as_str(),
        |x, y| {
            K {
                name: y.name.clone(),
                ..x.clone()
            } == *y
        },
    );
    for (name, o, k) in &p.both {
        out.field(
            R::KnowledgeChanged,
            &format!("knowledge.{name}.uri"),
            Some(&o.uri),
            Some(&k.uri),
        );
        out.field(
            R::KnowledgeChanged,
            &format!("knowledge.{name}.owner"),
            o.owner.as_ref(),
            k.owner.as_ref(),
        );
        out.field(
            R::KnowledgeChanged,
            &format!("knowledge.{name}.refresh"),
            o.refresh.as_ref(),
            k.refresh.as_ref(),
        );
        if o.classification != k.classification {
            let rule = if sensitivity(k.classification) > sensitivity(o.classification) {
                R::KnowledgeClassificationRaised
            } else {
                R::KnowledgeClassificationLowered
            };
            out.field(
                rule,
                &format!("knowledge.{name}.classification"),
                class(o.classification),
                class(k.classification),
            );
        }
    }
    for (x, y) in &p.renamed {
        out.push(
            R::ItemRenamed,
            format!("knowledge.{}", x.name),
            format!("knowledge source {} renamed {}", x.name, y.name),
            Some(x.name.clone()),
            Some(y.name.clone()),
        );
    }
    for k in &p.added {
        let rule = if sensitivity(k.classification) >= 2 {
            R::KnowledgeAddedConfidential
        } else {
            R::KnowledgeAdded
        };
        let c = class(k.classification).unwrap_or_else(|| "unclassified".into());
        out.push(
            rule,
            format!("knowledge.{}", k.name),
            format!("knowledge source {} added ({}, {c})", k.name, k.uri),
            None,
            Some(k.uri.clone()),
        );
    }
    for k in &p.removed {
        out.push(
            R::KnowledgeRemoved,
            format!("knowledge.{}", k.name),
            format!("knowledge source {} removed", k.name),
            Some(k.uri.clone()),
            None,
        );
    }
}

fn evals(out: &mut Out, a: &Manifest, b: &Manifest) {
    use crate::bundle::manifest::EvalSuite;
    let ra = a.evals.as_ref().map(|e| e.min_pass_rate);
    let rb = b.evals.as_ref().map(|e| e.min_pass_rate);
    match (ra, rb) {
        (Some(x), Some(y)) if y < x => out.push(
            R::EvalThresholdLowered,
            "evals.min_pass_rate",
            format!("eval pass threshold lowered {x} → {y}"),
            show(Some(x)),
            show(Some(y)),
        ),
        (Some(x), None) => out.push(
            R::EvalThresholdLowered,
            "evals",
            format!("eval gate removed (was {x})"),
            show(Some(x)),
            None,
        ),
        (x, y) if x != y => out.push(
            R::EvalThresholdRaised,
            "evals.min_pass_rate",
            format!(
                "eval pass threshold {} → {}",
                x.map(|v| v.to_string()).unwrap_or_else(|| "none".into()),
                y.map(|v| v.to_string()).unwrap_or_default()
            ),
            show(x),
            show(y),
        ),
        _ => {}
    }
    let empty = Vec::new();
    let sa = a.evals.as_ref().map(|e| &e.suites).unwrap_or(&empty);
    let sb = b.evals.as_ref().map(|e| &e.suites).unwrap_or(&empty);
    let p = pair(
        sa,
        sb,
        |s: &EvalSuite| s.name.as_str(),
        |x, y| x.file == y.file,
    );
    for (name, x, y) in &p.both {
        if x.file != y.file {
            out.push(
                R::EvalSuiteRepointed,
                format!("evals.suites.{name}.file"),
                format!("eval suite {name} now runs {}", y.file),
                Some(x.file.clone()),
                Some(y.file.clone()),
            );
        }
    }
    for (x, y) in &p.renamed {
        out.push(
            R::ItemRenamed,
            "evals.suites",
            format!("eval suite {} renamed {}", x.name, y.name),
            Some(x.name.clone()),
            Some(y.name.clone()),
        );
    }
    for s in &p.removed {
        out.push(
            R::EvalSuiteRemoved,
            "evals.suites",
            format!("eval suite {} removed", s.name),
            Some(s.name.clone()),
            None,
        );
    }
    for s in &p.added {
        out.push(
            R::EvalSuiteAdded,
            "evals.suites",
            format!("eval suite {} added", s.name),
            None,
            Some(s.name.clone()),
        );
    }
}

fn monitoring(out: &mut Out, a: &Manifest, b: &Manifest) {
    use crate::bundle::manifest::Alert;
    if a.monitoring.is_some() && b.monitoring.is_none() {
        let n = a.monitoring.as_ref().map_or(0, |m| m.alerts.len());
        out.push(
            R::MonitoringRemoved,
            "monitoring",
            format!("monitoring removed ({n} alert(s))"),
            None,
            None,
        );
        return;
    }
    let empty = Vec::new();
    let la = a.monitoring.as_ref().map(|m| &m.alerts).unwrap_or(&empty);
    let lb = b.monitoring.as_ref().map(|m| &m.alerts).unwrap_or(&empty);
    let p = pair(
        la,
        lb,
        |x: &Alert| x.name.as_str(),
        |x, y| {
            Alert {
                name: y.name.clone(),
                ..x.clone()
            } == *y
        },
    );
    for (name, al, n) in &p.both {
        let at = |f: &str| format!("monitoring.alerts.{name}.{f}");
        out.field(
            R::AlertChanged,
            &at("condition"),
            Some(&al.condition),
            Some(&n.condition),
        );
        out.field(
            R::AlertChanged,
            &at("notify"),
            al.notify.as_ref(),
            n.notify.as_ref(),
        );
        out.field(
            R::AlertTextChanged,
            &at("message"),
            al.message.as_ref(),
            n.message.as_ref(),
        );
        out.field(
            R::AlertActionChanged,
            &at("action"),
            al.action.as_ref(),
            n.action.as_ref(),
        );
    }
    for (x, y) in &p.renamed {
        out.push(
            R::ItemRenamed,
            format!("monitoring.alerts.{}", x.name),
            format!("alert {} renamed {}", x.name, y.name),
            Some(x.name.clone()),
            Some(y.name.clone()),
        );
    }
    for al in &p.removed {
        out.push(
            R::AlertRemoved,
            format!("monitoring.alerts.{}", al.name),
            format!("alert {} removed", al.name),
            Some(al.condition.clone()),
            None,
        );
    }
    for al in &p.added {
        out.push(
            R::AlertAdded,
            format!("monitoring.alerts.{}", al.name),
            format!("alert {} added", al.name),
            None,
            Some(al.condition.clone()),
        );
    }
}

fn reliability(out: &mut Out, a: &Manifest, b: &Manifest) {
    let (ra, rb) = (a.reliability.as_ref(), b.reliability.as_ref());
    out.field(
        R::ReliabilityChanged,
        "reliability.fallback",
        ra.map(|r| &r.fallback),
        rb.map(|r| &r.fallback),
    );
    let h = |r: Option<&crate::bundle::manifest::Reliability>| {
        r.and_then(|r| r.human_handoff.as_ref())
            .map(|h| format!("{} ({})", h.channel, h.when))
    };
    let rule = if h(ra).is_some() && h(rb).is_none() {
        R::HumanHandoffRemoved
    } else {
        R::ReliabilityChanged
    };
    out.field(rule, "reliability.human_handoff", h(ra), h(rb));
}

fn docs(out: &mut Out, a: &Manifest, b: &Manifest) {
    let r = |m: &Manifest| m.docs.as_ref().and_then(|d| d.runbook.clone());
    let f = |m: &Manifest| m.docs.as_ref().and_then(|d| d.faq.clone());
    out.field(R::DocsChanged, "docs.runbook", r(a), r(b));
    out.field(R::DocsChanged, "docs.faq", f(a), f(b));
}
