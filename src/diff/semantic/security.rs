//! The security review compared: data handling, compliance,
//! authentication, the provider review, who reviewed and when, and the
//! checklist item by item.

use super::{Out, R, pair, show};
use crate::bundle::manifest::{CheckStatus, Manifest};

pub(super) fn security(out: &mut Out, a: &Manifest, b: &Manifest) {
    use crate::bundle::manifest::{ChecklistItem, DataHandling, Security};
    let (sa, sb) = (a.security.as_ref(), b.security.as_ref());
    if sa.is_some() && sb.is_none() {
        out.push(
            R::SecurityRemoved,
            "security",
            "security review removed",
            None,
            None,
        );
        return;
    }
    let dh = |s: Option<&Security>| s.and_then(|s| s.data_handling.clone());
    let (da, db) = (dh(sa), dh(sb));
    let ret = |d: &Option<DataHandling>| d.as_ref().and_then(|d| d.retention_days);
    match (ret(&da), ret(&db)) {
        (Some(x), Some(y)) if y > x => out.push(
            R::RetentionRaised,
            "security.data_handling.retention_days",
            format!("data retention raised {x} → {y} days"),
            show(Some(x)),
            show(Some(y)),
        ),
        (Some(x), None) => out.push(
            R::RetentionRaised,
            "security.data_handling.retention_days",
            format!("data retention limit removed (was {x} days)"),
            show(Some(x)),
            None,
        ),
        (x, y) if x != y => out.push(
            R::RetentionChanged,
            "security.data_handling.retention_days",
            format!(
                "data retention {} → {} days",
                x.map_or("unset".into(), |v| v.to_string()),
                y.map_or("unset".into(), |v| v.to_string())
            ),
            show(x),
            show(y),
        ),
        _ => {}
    }
    let pii_of = |d: &Option<DataHandling>| d.as_ref().and_then(|d| d.pii);
    if pii_of(&db) == Some(true) && pii_of(&da) != Some(true) {
        out.push(
            R::PiiEnabled,
            "security.data_handling.pii",
            "the agent now handles personal data (pii: true)",
            show(pii_of(&da)),
            Some("true".into()),
        );
    } else {
        out.field(
            R::PiiChanged,
            "security.data_handling.pii",
            pii_of(&da),
            pii_of(&db),
        );
    }
    let reads =
        |d: &Option<DataHandling>| d.as_ref().and_then(|d| d.reads.clone()).unwrap_or_default();
    let writes = |d: &Option<DataHandling>| {
        d.as_ref()
            .and_then(|d| d.writes.clone())
            .unwrap_or_default()
    };
    let widen = (R::DataAccessWidened, R::DataAccessNarrowed);
    out.set(
        widen,
        "security.data_handling.reads",
        &reads(&da),
        &reads(&db),
        ("now reads", "no longer reads"),
    );
    out.set(
        widen,
        "security.data_handling.writes",
        &writes(&da),
        &writes(&db),
        ("now writes", "no longer writes"),
    );
    let comp = |s: Option<&Security>| s.and_then(|s| s.compliance.clone()).unwrap_or_default();
    let (ca, cb) = (comp(sa), comp(sb));
    for c in ca.iter().filter(|c| !cb.contains(c)) {
        out.push(
            R::ComplianceRemoved,
            "security.compliance",
            format!("compliance regime {c} removed"),
            Some(c.clone()),
            None,
        );
    }
    for c in cb.iter().filter(|c| !ca.contains(c)) {
        out.push(
            R::ComplianceAdded,
            "security.compliance",
            format!("compliance regime {c} added"),
            None,
            Some(c.clone()),
        );
    }
    authentication(out, sa, sb);
    let prov = |s: Option<&Security>| {
        s.and_then(|s| s.provider_review.as_ref()).map(|p| {
            format!(
                "{}/{} at {}; {}",
                p.provider, p.model, p.hosting, p.data_policy
            )
        })
    };
    out.field(
        R::ProviderReviewChanged,
        "security.provider_review",
        prov(sa),
        prov(sb),
    );
    out.field(
        R::SecurityReviewerChanged,
        "security.reviewed_by",
        sa.and_then(|s| s.reviewed_by.as_ref()),
        sb.and_then(|s| s.reviewed_by.as_ref()),
    );
    let reviewed = |s: Option<&Security>| s.and_then(|s| s.reviewed_at.clone());
    out.field(
        R::SecurityReviewed,
        "security.reviewed_at",
        reviewed(sa),
        reviewed(sb),
    );
    let empty = Vec::new();
    let ka = sa.map(|s| &s.checklist).unwrap_or(&empty);
    let kb = sb.map(|s| &s.checklist).unwrap_or(&empty);
    let status = |c: &ChecklistItem| match c.status {
        CheckStatus::Pass => "pass",
        CheckStatus::Fail => "fail",
        CheckStatus::NotApplicable => "n/a",
    };
    let p = pair(
        ka,
        kb,
        |c: &ChecklistItem| c.item.as_str(),
        |x, y| x.status == y.status && x.evidence == y.evidence,
    );
    for (item, x, y) in &p.both {
        if x.status != y.status {
            let rule = if y.status == CheckStatus::Pass {
                R::ChecklistStatusPassed
            } else {
                R::ChecklistStatusWeakened
            };
            out.push(
                rule,
                "security.checklist",
                format!("checklist item {item}: {} → {}", status(x), status(y)),
                Some(status(x).into()),
                Some(status(y).into()),
            );
        }
        let rule = match (&x.evidence, &y.evidence) {
            (Some(_), None) => R::ChecklistEvidenceRemoved,
            (None, Some(_)) => R::ChecklistEvidenceAdded,
            _ => R::ChecklistEvidenceChanged,
        };
        if x.evidence != y.evidence {
            out.push(
                rule,
                "security.checklist",
                format!("checklist item {item}: evidence changed"),
                x.evidence.clone(),
                y.evidence.clone(),
            );
        }
    }
    for (x, y) in &p.renamed {
        out.push(
            R::ChecklistItemReworded,
            "security.checklist",
            format!("checklist item reworded: {}", y.item),
            Some(x.item.clone()),
            Some(y.item.clone()),
        );
    }
    for c in &p.removed {
        out.push(
            R::ChecklistItemRemoved,
            "security.checklist",
            format!("checklist item removed: {}", c.item),
            Some(status(c).into()),
            None,
        );
    }
    for c in &p.added {
        out.push(
            R::ChecklistItemAdded,
            "security.checklist",
            format!("checklist item added: {}", c.item),
            None,
            Some(status(c).into()),
        );
    }
}

fn authentication(
    out: &mut Out,
    sa: Option<&crate::bundle::manifest::Security>,
    sb: Option<&crate::bundle::manifest::Security>,
) {
    let (aa, ab) = (
        sa.and_then(|s| s.authentication.as_ref()),
        sb.and_then(|s| s.authentication.as_ref()),
    );
    let summary = |a: &crate::bundle::manifest::Authentication| {
        format!(
            "{} as {} [{}]",
            a.method,
            a.identity.as_deref().unwrap_or("?"),
            a.scopes.join(", ")
        )
    };
    let (Some(x), Some(y)) = (aa, ab) else {
        out.field(
            R::AuthenticationChanged,
            "security.authentication",
            aa.map(summary),
            ab.map(summary),
        );
        return;
    };
    let scopes_added = y.scopes.iter().any(|s| !x.scopes.contains(s));
    if x.method != y.method || x.identity != y.identity || scopes_added {
        out.push(
            R::AuthenticationChanged,
            "security.authentication",
            format!("security.authentication: {} → {}", summary(x), summary(y)),
            Some(summary(x)),
            Some(summary(y)),
        );
    } else {
        for s in x.scopes.iter().filter(|s| !y.scopes.contains(s)) {
            out.push(
                R::AuthenticationScopeRemoved,
                "security.authentication.scopes",
                format!("scope {s} removed from the agent's identity"),
                Some(s.clone()),
                None,
            );
        }
    }
    out.field(
        R::AuthenticationChanged,
        "security.authentication.credentials",
        x.credentials.as_ref(),
        y.credentials.as_ref(),
    );
}
