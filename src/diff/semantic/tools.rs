//! Tools compared field by field: access, approval and approvers,
//! timeouts and retries (higher risk on a destructive tool), failure
//! handling, words.

use super::{Out, R, Rule, pair, show};
use crate::bundle::manifest::{Access, Approval, Manifest, Tool};

fn tool_desc(t: &Tool) -> String {
    format!(
        "{} access, approval {}",
        t.access.map(Access::as_str).unwrap_or("unspecified"),
        t.approval.map(Approval::as_str).unwrap_or("unspecified")
    )
}

fn pii(m: &Manifest) -> bool {
    m.security
        .as_ref()
        .and_then(|s| s.data_handling.as_ref())
        .and_then(|d| d.pii)
        == Some(true)
}

pub(super) fn tools(out: &mut Out, a: &Manifest, b: &Manifest) {
    let p = pair(
        &a.tools,
        &b.tools,
        |t: &Tool| t.name.as_str(),
        |x, y| {
            Tool {
                name: y.name.clone(),
                ..x.clone()
            } == *y
        },
    );
    for (x, y) in &p.renamed {
        out.push(
            R::ToolRenamed,
            format!("tools.{}", x.name),
            format!("tool {} renamed {}", x.name, y.name),
            Some(x.name.clone()),
            Some(y.name.clone()),
        );
    }
    for t in &p.added {
        let name = &t.name;
        let rule = match t.access {
            Some(Access::Write | Access::Destructive) => R::ToolAddedWrite,
            _ if pii(b) => R::ToolAddedPii,
            _ => R::ToolAdded,
        };
        out.push(
            rule,
            format!("tools.{name}"),
            format!("new tool {name} ({})", tool_desc(t)),
            None,
            Some(tool_desc(t)),
        );
    }
    for t in &p.removed {
        out.push(
            R::ToolRemoved,
            format!("tools.{}", t.name),
            format!("tool {} removed", t.name),
            Some(tool_desc(t)),
            None,
        );
    }
    for (name, old, t) in &p.both {
        tool(out, name, old, t);
    }
}

fn tool(out: &mut Out, name: &str, old: &Tool, t: &Tool) {
    let path = format!("tools.{name}");
    let acc = |x: Option<Access>| x.map(Access::as_str).unwrap_or("unspecified");
    if t.access > old.access {
        out.push(
            R::ToolAccessWidened,
            format!("{path}.access"),
            format!(
                "{name}: access widened {} → {}",
                acc(old.access),
                acc(t.access)
            ),
            old.access.map(|x| x.as_str().to_string()),
            t.access.map(|x| x.as_str().to_string()),
        );
    } else if t.access < old.access {
        out.push(
            R::ToolAccessNarrowed,
            format!("{path}.access"),
            format!(
                "{name}: access narrowed {} → {}",
                acc(old.access),
                acc(t.access)
            ),
            old.access.map(|x| x.as_str().to_string()),
            t.access.map(|x| x.as_str().to_string()),
        );
    }
    if old.approval == Some(Approval::Required) && t.approval != Some(Approval::Required) {
        out.push(
            R::ToolApprovalRemoved,
            format!("{path}.approval"),
            format!("{name}: human approval removed"),
            Some("required".into()),
            t.approval.map(|x| x.as_str().to_string()),
        );
    } else if old.approval != Some(Approval::Required) && t.approval == Some(Approval::Required) {
        out.push(
            R::ToolApprovalAdded,
            format!("{path}.approval"),
            format!("{name}: now requires human approval"),
            old.approval.map(|x| x.as_str().to_string()),
            Some("required".into()),
        );
    }
    let added: Vec<&String> = t
        .approvers
        .iter()
        .filter(|x| !old.approvers.contains(x))
        .collect();
    let removed: Vec<&String> = old
        .approvers
        .iter()
        .filter(|x| !t.approvers.contains(x))
        .collect();
    // Approvers matter while calls need approval; a newly required
    // approval is reported (low) with whoever it names.
    let newly_required =
        old.approval != Some(Approval::Required) && t.approval == Some(Approval::Required);
    if newly_required {
        // Reported as tool-approval-added.
    } else if !added.is_empty() {
        out.push(
            R::ToolApproversAdded,
            format!("{path}.approvers"),
            format!(
                "{name}: approvers changed; may now approve: {}",
                join(&added)
            ),
            Some(old.approvers.join(", ")),
            Some(t.approvers.join(", ")),
        );
    } else if !removed.is_empty() {
        out.push(
            R::ToolApproversRemoved,
            format!("{path}.approvers"),
            format!(
                "{name}: approvers changed; may no longer approve: {}",
                join(&removed)
            ),
            Some(old.approvers.join(", ")),
            Some(t.approvers.join(", ")),
        );
    }
    let destructive = t.access == Some(Access::Destructive);
    let pick = |normal: Rule| {
        if destructive {
            R::DestructiveToolTimeoutLoosened
        } else {
            normal
        }
    };
    out.limit(
        (R::ToolTimeoutTightened, pick(R::ToolTimeoutLoosened)),
        format!("{path}.timeout"),
        &format!("{name}: timeout"),
        "none",
        old.timeout,
        t.timeout,
    );
    let retries = if destructive {
        R::DestructiveToolRetriesLoosened
    } else {
        R::ToolRetriesLoosened
    };
    let attempts = |t: &Tool| t.retry.as_ref().and_then(|r| r.max_attempts);
    out.limit(
        (R::ToolRetriesTightened, retries),
        format!("{path}.retry.max_attempts"),
        &format!("{name}: max_attempts"),
        "unbounded",
        attempts(old),
        attempts(t),
    );
    let backoff = |t: &Tool| {
        t.retry
            .as_ref()
            .and_then(|r| r.backoff)
            .map(|b| format!("{b:?}").to_lowercase())
    };
    out.field(
        if destructive {
            retries
        } else {
            R::ToolRetryBackoffChanged
        },
        &format!("{path}.retry.backoff"),
        backoff(old),
        backoff(t),
    );
    // A shorter first delay retries sooner: unset is the shortest.
    let delay = |t: &Tool| t.retry.as_ref().and_then(|r| r.initial_delay);
    let (da, db) = (delay(old), delay(t));
    if da != db {
        let sooner = match (da, db) {
            (Some(x), Some(y)) => y < x,
            (Some(_), None) => true,
            _ => false,
        };
        let rule = match (sooner, destructive) {
            (true, true) => retries,
            (true, false) => R::ToolRetryDelayShortened,
            (false, _) => R::ToolRetryDelayLengthened,
        };
        let shown = |d: Option<crate::bundle::manifest::Duration>| {
            d.map_or("none".to_string(), |d| d.to_string())
        };
        out.push(
            rule,
            format!("{path}.retry.initial_delay"),
            format!("{name}: initial_delay {} → {}", shown(da), shown(db)),
            show(da),
            show(db),
        );
    }
    let of = |t: &Tool| t.on_failure.map(|f| format!("{f:?}").to_lowercase());
    out.field(
        R::ToolOnFailureChanged,
        &format!("{path}.on_failure"),
        of(old),
        of(t),
    );
    out.field(
        R::ToolDescriptionChanged,
        &format!("{path}.description"),
        old.description.as_ref(),
        t.description.as_ref(),
    );
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}
