//! agentctl.toml at the base against the pull request: any gate an
//! environment loses is an error, and a signer role given to someone is a
//! high-risk warning (it widens who can approve without lowering a gate).
//!
//! A pull request may add requirements, never remove them: a required role,
//! `distinct_signers`, `require_evals` or `promote_from_previous` dropped; an
//! environment removed or the order changed; a new environment placed before
//! a gated one without that one's gates (releases would reach it through a
//! weaker door); a freeze window that still lies ahead lifted or shortened.

use super::rules::{POLICY_WEAKENED, TRUST_CHANGED};
use crate::finding::{Finding, Position};
use crate::repo::config::{Config, EnvironmentConfig, Freeze};
use jiff::Timestamp;
use std::collections::BTreeSet;
use std::path::Path;

const FILE: &str = crate::repo::CONFIG_FILE;
const HINT: &str = "a policy change needs the same review as a release: protect agentctl.toml with CODEOWNERS, and let deploy jobs verify with their own trust root; if the change is intended, merge it through that review";

/// Every way `head` lowers a gate `base` had, and every new signer role
/// holder. Freeze windows are judged from `now` on: lifting one that has
/// ended weakens nothing. Unparseable text compares as nothing (loading the
/// repository reports it).
pub fn config_changes(base_text: &str, head_text: &str, now: Timestamp) -> Vec<Finding> {
    let path = Path::new(FILE);
    let (Ok(base), Ok(head)) = (
        Config::parse(base_text, path),
        Config::parse(head_text, path),
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut weakened = |at: Option<Position>, message: String| {
        out.push(POLICY_WEAKENED.finding(FILE, message).at(at).hint(HINT));
    };
    let at = |env: &str, key: &str| env_key_position(head_text, env, key);
    let base_names = base.environment_names();
    let head_names = head.environment_names();
    let in_head = |n: &&str| head.environment(n).is_some();
    let in_base = |n: &&str| base.environment(n).is_some();

    for (i, name) in base_names.iter().enumerate() {
        if in_head(name) {
            continue;
        }
        // Point at the environment that now stands where it stood.
        let neighbour = base_names[i + 1..]
            .iter()
            .chain(base_names[..i].iter().rev())
            .find(|n| in_head(n));
        weakened(
            neighbour.and_then(|n| at(n, "name")),
            format!("environment `{name}` removed"),
        );
    }

    let common_base: Vec<&str> = base_names.iter().copied().filter(in_head).collect();
    let common_head: Vec<&str> = head_names.iter().copied().filter(in_base).collect();
    if common_base != common_head {
        let moved = common_head
            .iter()
            .zip(&common_base)
            .find(|(h, b)| h != b)
            .map(|(h, _)| *h);
        weakened(
            moved.and_then(|n| at(n, "name")),
            format!(
                "environment order changed from {} to {}",
                base_names.join(" → "),
                head_names.join(" → ")
            ),
        );
    }

    for (i, name) in head_names.iter().enumerate() {
        if in_base(name) {
            continue;
        }
        let Some((next_index, next)) = head_names[i + 1..].iter().find_map(|n| base.environment(n))
        else {
            continue;
        };
        let Some((_, new)) = head.environment(name) else {
            continue;
        };
        let missing = missing_gates(next, next_index == 0, new);
        if !missing.is_empty() {
            weakened(
                at(name, "name"),
                format!(
                    "environment `{name}` inserted before {} without its gates: {}",
                    next.name,
                    missing.join("; ")
                ),
            );
        }
    }

    for (index, b) in base.environments.iter().enumerate() {
        let Some((head_index, h)) = head.environment(&b.name) else {
            continue;
        };
        let env = b.name.as_str();
        for role in b
            .required_roles
            .iter()
            .filter(|r| !h.required_roles.contains(r))
        {
            weakened(
                at(env, "required_roles"),
                format!("{env}: required role `{role}` removed"),
            );
        }
        if b.distinct_signers && !h.distinct_signers {
            weakened(
                at(env, "distinct_signers"),
                format!("{env}: one person may now fill two required roles (distinct_signers)"),
            );
        }
        if b.require_evals && !h.require_evals {
            weakened(
                at(env, "require_evals"),
                format!("{env}: eval gate removed (require_evals)"),
            );
        }
        // The first environment has no predecessor to come from (one moved
        // to the front is reported as an order change).
        if index > 0 && head_index > 0 && b.promote_from_previous && !h.promote_from_previous {
            weakened(
                at(env, "promote_from_previous"),
                format!(
                    "{env}: releases may now skip the previous environment (promote_from_previous)"
                ),
            );
        }
        for f in &b.freeze {
            if let Some(message) = freeze_loss(f, &h.freeze, now) {
                weakened(at(env, "freeze"), format!("{env}: {message}"));
            }
        }
    }

    for (role, people) in &head.roles {
        let before: BTreeSet<&String> = base
            .roles
            .get(role)
            .map(|p| p.iter().collect())
            .unwrap_or_default();
        for p in people.iter().filter(|p| !before.contains(p)) {
            out.push(
                TRUST_CHANGED
                    .finding(FILE, format!("{p} given the `{role}` signer role"))
                    .at(string_position(head_text, p))
                    .hint("a new signer role holder can approve releases; make sure the right people reviewed this"),
            );
        }
    }
    out
}

/// The gates of `gated` that `new`, now standing before it, lacks. `first`:
/// `gated` had no predecessor, so its `promote_from_previous` meant nothing.
fn missing_gates(gated: &EnvironmentConfig, first: bool, new: &EnvironmentConfig) -> Vec<String> {
    let mut missing = Vec::new();
    let roles: Vec<&str> = gated
        .required_roles
        .iter()
        .filter(|r| !new.required_roles.contains(r))
        .map(String::as_str)
        .collect();
    if !roles.is_empty() {
        let noun = if roles.len() == 1 { "role" } else { "roles" };
        missing.push(format!("required {noun} {}", roles.join(", ")));
    }
    if gated.distinct_signers && gated.required_roles.len() > 1 && !new.distinct_signers {
        missing.push("distinct_signers".into());
    }
    if gated.require_evals && !new.require_evals {
        missing.push("require_evals".into());
    }
    if !first && gated.promote_from_previous && !new.promote_from_previous {
        missing.push("promote_from_previous".into());
    }
    missing
}

/// What `head` windows no longer freeze of `window` from `now` on, in words;
/// `None` when every future instant of it is still frozen.
fn freeze_loss(window: &Freeze, head: &[Freeze], now: Timestamp) -> Option<String> {
    let span = |f: &Freeze| -> Option<(Timestamp, Timestamp)> {
        Some((f.from.parse().ok()?, f.until.parse().ok()?))
    };
    let (from, until) = span(window)?;
    let start = from.max(now);
    if start >= until {
        return None;
    }
    let mut cover: Vec<(Timestamp, Timestamp)> = head.iter().filter_map(span).collect();
    cover.sort();
    let gaps = uncovered((start, until), &cover);
    if gaps.is_empty() {
        return None;
    }
    let name = format!("freeze window {} – {}", window.from, window.until);
    if gaps == [(start, until)] {
        return Some(format!("{name} lifted"));
    }
    let lost: Vec<String> = gaps.iter().map(|(a, b)| format!("{a} – {b}")).collect();
    Some(format!(
        "{name} shortened ({} no longer frozen)",
        lost.join(", ")
    ))
}

/// The parts of `span` that no interval of `cover` (sorted) covers.
fn uncovered(
    (start, end): (Timestamp, Timestamp),
    cover: &[(Timestamp, Timestamp)],
) -> Vec<(Timestamp, Timestamp)> {
    let mut gaps = Vec::new();
    let mut cursor = start;
    for &(from, until) in cover {
        if until <= cursor {
            continue;
        }
        if from >= end {
            break;
        }
        if from > cursor {
            gaps.push((cursor, from));
        }
        cursor = cursor.max(until);
        if cursor >= end {
            return gaps;
        }
    }
    if cursor < end {
        gaps.push((cursor, end));
    }
    gaps
}

/// Where `key` is set in the `[[environment]]` table named `env`; the
/// table's `name` line when the key is not written there (it took its
/// default), `None` when the table is not written as a `[[environment]]`.
fn env_key_position(text: &str, env: &str, key: &str) -> Option<Position> {
    let mut lines = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        lines.push((offset, line));
        offset += line.len();
    }
    let header = |l: &str| l.trim_start().starts_with('[');
    let name_line = lines
        .iter()
        .position(|(_, l)| assigned(l, "name").is_some_and(|v| unquote(v) == Some(env)))?;
    let start = lines[..name_line]
        .iter()
        .rposition(|(_, l)| header(l))
        .map_or(0, |i| i + 1);
    let end = lines[name_line + 1..]
        .iter()
        .position(|(_, l)| header(l))
        .map_or(lines.len(), |i| name_line + 1 + i);
    let (off, line) = lines[start..end]
        .iter()
        .find(|(_, l)| assigned(l, key).is_some())
        .unwrap_or(&lines[name_line]);
    let indent = line.len() - line.trim_start().len();
    Some(crate::bundle::position_of_offset(text, off + indent))
}

/// The value text of `key = value` on this line.
fn assigned<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.trim_start().strip_prefix(key)?;
    rest.trim_start().strip_prefix('=').map(str::trim)
}

fn unquote(v: &str) -> Option<&str> {
    v.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
}

/// Where the TOML string `s` is written (inside its quotes).
fn string_position(text: &str, s: &str) -> Option<Position> {
    [format!("\"{s}\""), format!("'{s}'")]
        .iter()
        .find_map(|q| text.find(q.as_str()))
        .map(|o| crate::bundle::position_of_offset(text, o + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"[roles]
security = ["rachel@example.com"]

[[environment]]
name = "dev"
promote_from_previous = false

[[environment]]
name = "staging"

[[environment]]
name = "prod"
required_roles = ["owner", "security"]
require_evals = true
freeze = [{ from = "2026-12-20T00:00:00Z", until = "2027-01-04T00:00:00Z" }]
"#;

    fn now() -> Timestamp {
        "2026-11-21T10:00:00Z".parse().expect("time")
    }

    fn messages(head: &str) -> Vec<String> {
        config_changes(BASE, head, now())
            .into_iter()
            .map(|f| {
                assert!(f.position.is_some(), "{f:?}");
                f.message
            })
            .collect()
    }

    #[test]
    fn the_same_config_changes_nothing() {
        assert!(messages(BASE).is_empty());
    }

    #[test]
    fn each_lost_gate_is_one_error_in_its_table() {
        let head = BASE
            .replace("[\"owner\", \"security\"]", "[\"owner\"]")
            .replace(
                "require_evals = true",
                "require_evals = false\ndistinct_signers = false",
            )
            .replace(
                "name = \"staging\"\n",
                "name = \"staging\"\npromote_from_previous = false\n",
            );
        let found = config_changes(BASE, &head, now());
        let got: Vec<(&str, u32)> = found
            .iter()
            .map(|f| (f.message.as_str(), f.position.map_or(0, |p| p.line)))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "staging: releases may now skip the previous environment (promote_from_previous)",
                    10
                ),
                ("prod: required role `security` removed", 14),
                (
                    "prod: one person may now fill two required roles (distinct_signers)",
                    16
                ),
                ("prod: eval gate removed (require_evals)", 15),
            ]
        );
        assert!(found.iter().all(Finding::is_error));
    }

    #[test]
    fn the_first_environment_has_no_predecessor_to_skip() {
        let base = BASE.replace(
            "promote_from_previous = false",
            "promote_from_previous = true",
        );
        assert!(config_changes(&base, BASE, now()).is_empty());
    }

    #[test]
    fn removal_order_and_insertion() {
        let removed = BASE.replace("[[environment]]\nname = \"staging\"\n\n", "");
        assert_eq!(messages(&removed), ["environment `staging` removed"]);

        let swapped = BASE.replace(
            "[[environment]]\nname = \"dev\"\npromote_from_previous = false\n\n[[environment]]\nname = \"staging\"\n",
            "[[environment]]\nname = \"staging\"\npromote_from_previous = false\n\n[[environment]]\nname = \"dev\"\n",
        );
        assert_eq!(
            messages(&swapped),
            ["environment order changed from dev → staging → prod to staging → dev → prod"]
        );

        let canary = BASE.replace(
            "[[environment]]\nname = \"prod\"",
            "[[environment]]\nname = \"canary\"\nrequired_roles = [\"owner\"]\n\n[[environment]]\nname = \"prod\"",
        );
        assert_eq!(
            messages(&canary),
            [
                "environment `canary` inserted before prod without its gates: required role security; require_evals"
            ]
        );
        let gated = canary.replace(
            "[\"owner\"]\n",
            "[\"owner\", \"security\"]\nrequire_evals = true\n",
        );
        assert!(messages(&gated).is_empty());
        // Before an ungated staging, a new environment needs only to keep
        // the chain from dev.
        let before_staging = BASE.replace(
            "[[environment]]\nname = \"staging\"",
            "[[environment]]\nname = \"qa\"\n\n[[environment]]\nname = \"staging\"",
        );
        assert!(messages(&before_staging).is_empty());
        assert_eq!(
            messages(&before_staging.replace(
                "name = \"qa\"\n",
                "name = \"qa\"\npromote_from_previous = false\n"
            )),
            ["environment `qa` inserted before staging without its gates: promote_from_previous"]
        );
        let last = format!("{BASE}\n[[environment]]\nname = \"dr\"\n");
        assert!(messages(&last).is_empty());
    }

    #[test]
    fn freezes_count_from_now() {
        let window =
            "freeze = [{ from = \"2026-12-20T00:00:00Z\", until = \"2027-01-04T00:00:00Z\" }]";
        let with = |w: &str| BASE.replace(window, w);
        assert_eq!(
            messages(&with("")),
            ["prod: freeze window 2026-12-20T00:00:00Z – 2027-01-04T00:00:00Z lifted"]
        );
        assert_eq!(
            messages(&with(
                "freeze = [{ from = \"2026-12-22T00:00:00Z\", until = \"2026-12-24T00:00:00Z\" }]"
            )),
            [
                "prod: freeze window 2026-12-20T00:00:00Z – 2027-01-04T00:00:00Z shortened (2026-12-20T00:00:00Z – 2026-12-22T00:00:00Z, 2026-12-24T00:00:00Z – 2027-01-04T00:00:00Z no longer frozen)"
            ]
        );
        // Split in two that still cover it, or moved to cover more: fine.
        assert!(messages(&with("freeze = [{ from = \"2026-12-25T00:00:00Z\", until = \"2027-02-01T00:00:00Z\" }, { from = \"2026-12-01T00:00:00Z\", until = \"2026-12-26T00:00:00Z\" }]")).is_empty());
        // A window already over weakens nothing when lifted; one under way
        // counts from now.
        let later = "2026-11-21T11:00:00Z".parse().expect("time");
        let ended = BASE
            .replace("2026-12-20T00:00:00Z", "2026-01-01T00:00:00Z")
            .replace("2027-01-04T00:00:00Z", "2026-02-01T00:00:00Z");
        assert!(config_changes(&ended, &with(""), now()).is_empty());
        let ongoing = BASE.replace("2026-12-20T00:00:00Z", "2026-11-01T00:00:00Z");
        let moved = ongoing.replace("2026-11-01T00:00:00Z", "2026-11-21T11:00:00Z");
        let found = config_changes(&ongoing, &moved, now());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.ends_with(
                "shortened (2026-11-21T10:00:00Z – 2026-11-21T11:00:00Z no longer frozen)"
            ),
            "{}",
            found[0].message
        );
        assert!(config_changes(&ongoing, &moved, later).is_empty());
    }

    #[test]
    fn a_new_role_holder_is_a_warning_at_the_name() {
        let head = BASE.replace(
            "[\"rachel@example.com\"]",
            "[\"rachel@example.com\", 'mallory@example.com']",
        );
        let found = config_changes(BASE, &head, now());
        assert_eq!(found.len(), 1);
        assert!(!found[0].is_error());
        assert_eq!(
            found[0].message,
            "high risk: mallory@example.com given the `security` signer role"
        );
        assert_eq!(
            found[0].position,
            Some(Position {
                line: 2,
                column: 36
            })
        );
    }

    #[test]
    fn unparseable_text_compares_as_nothing() {
        assert!(config_changes(BASE, "[[environment", now()).is_empty());
        assert!(config_changes("nonsense = 1", BASE, now()).is_empty());
    }
}
