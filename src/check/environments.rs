//! `environments/`: logs only grow, and every pin follows from the log.
//!
//! With a base, a log must begin with the base's bytes (a missing final
//! newline aside), and each pin must be what the base's pins plus the events
//! appended in this change make it; each appended event must start from the
//! pin it replaces. Without a base (or when the log was rewritten, so its
//! new part is unknown) each pin must be what replaying the whole log gives.

use super::rules::{ENVIRONMENT_HAND_EDITED, LOG_REWRITTEN};
use crate::finding::{Finding, Position};
use crate::repo::environment::{Action, EnvState, Event, Mode};
use std::collections::BTreeMap;

/// How a log changed since the base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogChange<'a> {
    /// Only appended to: the new bytes (possibly none), and the 1-based
    /// line the first of them is on.
    Appended {
        /// The bytes after the base's.
        new: &'a [u8],
        /// The line they start on.
        first_line: usize,
    },
    /// A line of the base was changed or deleted: the first one, and the
    /// column where it first differs.
    Rewritten {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// Whether the head simply ends there (lines deleted).
        truncated: bool,
    },
    /// The log existed at the base and is gone.
    Deleted,
}

/// Compare a log's base bytes with its head bytes (`None`: no file).
pub fn log_change<'a>(base: &[u8], head: Option<&'a [u8]>) -> LogChange<'a> {
    let kept = base.strip_suffix(b"\n").unwrap_or(base);
    let Some(head) = head else {
        return if base.is_empty() {
            LogChange::Appended {
                new: &[],
                first_line: 1,
            }
        } else {
            LogChange::Deleted
        };
    };
    let base_lines = if kept.is_empty() {
        0
    } else {
        kept.iter().filter(|b| **b == b'\n').count() + 1
    };
    if kept.is_empty() {
        return LogChange::Appended {
            new: head,
            first_line: 1,
        };
    }
    if head.starts_with(kept) {
        match head.get(kept.len()) {
            None => {
                return LogChange::Appended {
                    new: &[],
                    first_line: base_lines + 1,
                };
            }
            Some(b'\n') => {
                return LogChange::Appended {
                    new: &head[kept.len() + 1..],
                    first_line: base_lines + 1,
                };
            }
            Some(_) => {}
        }
    }
    let at = kept
        .iter()
        .zip(head)
        .position(|(a, b)| a != b)
        .unwrap_or(kept.len().min(head.len()));
    let line_start = kept[..at]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    LogChange::Rewritten {
        line: kept[..at].iter().filter(|b| **b == b'\n').count() + 1,
        column: String::from_utf8_lossy(&kept[line_start..at])
            .chars()
            .count()
            + 1,
        truncated: at >= head.len(),
    }
}

/// The finding for a log that did not only grow.
pub fn log_finding(env: &str, change: &LogChange<'_>) -> Option<Finding> {
    let file = crate::repo::environment::log_path(env);
    let hint = format!(
        "environment logs only grow: restore {file} from the base (`git checkout <base> -- {file}`) and record changes with agentctl (promote, rollback, mode, retire)"
    );
    let (message, at) = match *change {
        LogChange::Appended { .. } => return None,
        LogChange::Deleted => (format!("{env}.log was deleted"), None),
        LogChange::Rewritten {
            line,
            truncated: true,
            ..
        } => (
            format!("{env}.log lost lines: line {line} of the base onwards is gone"),
            Some(position(line, 1)),
        ),
        LogChange::Rewritten { line, column, .. } => (
            format!("{env}.log line {line} differs from the base"),
            Some(position(line, column)),
        ),
    };
    Some(LOG_REWRITTEN.finding(file, message).at(at).hint(hint))
}

/// What an agent's pin should be after some events.
#[derive(Debug, Clone)]
struct Expected {
    version: String,
    digest: String,
    mode: Mode,
    /// Whether an appended event set it (otherwise it is the base's pin).
    moved: bool,
}

/// Pins of `head` that `base` plus the appended events (`new`, starting on
/// log line `first_line`) do not explain, and appended events that do not
/// start from the pin they replace. `head_text` places findings.
pub fn pin_changes(
    env: &str,
    base: &EnvState,
    new: &[u8],
    first_line: usize,
    head: &EnvState,
    head_text: &str,
) -> Vec<Finding> {
    let log = crate::repo::environment::log_path(env);
    let state = crate::repo::environment::state_path(env);
    let hint = format!(
        "change environments with agentctl (`agentctl promote {env}`, `rollback`, `mode`, `retire`); restore {state} and {log} from the base"
    );
    let mut out = Vec::new();
    let mut expected: BTreeMap<&str, Expected> = base
        .agents
        .iter()
        .map(|(name, p)| {
            (
                name.as_str(),
                Expected {
                    version: p.version.clone(),
                    digest: p.digest.clone(),
                    mode: p.mode,
                    moved: false,
                },
            )
        })
        .collect();
    let events: Vec<(usize, Event)> = match parse_lines(new, first_line) {
        Ok(e) => e,
        Err((line, message)) => {
            out.push(
                ENVIRONMENT_HAND_EDITED
                    .finding(
                        &log,
                        format!("{env}.log line {line} is not an event: {message}"),
                    )
                    .at(Some(position(line, 1)))
                    .hint(hint),
            );
            return out;
        }
    };
    for (line, e) in &events {
        let current = expected.get(e.agent.as_str());
        let was = (
            current.map(|c| c.version.as_str()),
            current.map(|c| c.digest.as_str()),
        );
        let says = (e.previous_version.as_deref(), e.previous_digest.as_deref());
        let mode_differs = matches!((e.previous_mode, current), (Some(m), Some(c)) if m != c.mode);
        if was != says || mode_differs {
            out.push(
                ENVIRONMENT_HAND_EDITED
                    .finding(
                        &log,
                        format!(
                            "{env}.log line {line}: this {} of {} starts from {}, but {env} pinned {} then",
                            e.action.as_str(),
                            e.agent,
                            describe(says.0, e.previous_mode),
                            describe(was.0, current.map(|c| c.mode)),
                        ),
                    )
                    .at(Some(position(*line, 1)))
                    .hint(hint.clone()),
            );
        }
        match (&e.action, &e.version) {
            (Action::Retire, _) | (_, None) => {
                expected.remove(e.agent.as_str());
            }
            (_, Some(v)) => {
                let mode = e.mode.or(current.map(|c| c.mode)).unwrap_or_default();
                expected.insert(
                    e.agent.as_str(),
                    Expected {
                        version: v.clone(),
                        digest: e.digest.clone().unwrap_or_default(),
                        mode,
                        moved: true,
                    },
                );
            }
        }
    }
    for (name, pin) in &head.agents {
        let at = agent_position(head_text, name);
        let now = describe(Some(&pin.version), Some(pin.mode));
        let message = match expected.get(name.as_str()) {
            None => Some(format!(
                "{env} pins {name} {now}, which neither the base nor an event appended to {env}.log explains"
            )),
            Some(x) if x.moved => (x.version != pin.version
                || x.digest != pin.digest
                || x.mode != pin.mode)
                .then(|| {
                    format!(
                        "{env} pins {name} {now}, but the events appended to {env}.log make it {}",
                        describe(Some(&x.version), Some(x.mode))
                    )
                }),
            Some(_) => {
                let changed = base
                    .agents
                    .get(name)
                    .map(|b| {
                        [
                            ("version", b.version == pin.version),
                            ("digest", b.digest == pin.digest),
                            ("mode", b.mode == pin.mode),
                            ("updated_at", b.updated_at == pin.updated_at),
                            ("updated_by", b.updated_by == pin.updated_by),
                        ]
                        .iter()
                        .filter(|(_, same)| !same)
                        .map(|(field, _)| *field)
                        .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                (!changed.is_empty()).then(|| {
                    format!(
                        "{env} pins {name} {now} with {} changed since the base, and no event appended to {env}.log explains it",
                        changed.join(", ")
                    )
                })
            }
        };
        if let Some(message) = message {
            out.push(
                ENVIRONMENT_HAND_EDITED
                    .finding(&state, message)
                    .at(at)
                    .hint(hint.clone()),
            );
        }
    }
    for (name, x) in &expected {
        if !head.agents.contains_key(*name) {
            out.push(
                ENVIRONMENT_HAND_EDITED
                    .finding(
                        &state,
                        format!(
                            "{env} no longer pins {name}, but the base and {env}.log say it runs {}",
                            describe(Some(&x.version), Some(x.mode))
                        ),
                    )
                    .hint(format!(
                        "remove agents with `agentctl retire {env} {name}`; restore {state} from the base"
                    )),
            );
        }
    }
    out
}

/// What replaying a log says an agent runs: version, digest, mode.
type Replayed<'a> = (Option<&'a str>, Option<&'a str>, Option<Mode>);

/// Pins that replaying the whole log does not give (no base to start from).
pub fn replay_findings(
    env: &str,
    state: &EnvState,
    events: &[Event],
    state_text: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    // Replay from nothing, ignoring where each event claims to start: the
    // log's own history is all there is to compare with.
    let mut expected: BTreeMap<&str, Replayed<'_>> = BTreeMap::new();
    for e in events {
        if e.action == Action::Retire || e.version.is_none() {
            expected.remove(e.agent.as_str());
            continue;
        }
        let entry = expected.entry(&e.agent).or_insert((None, None, None));
        entry.0 = e.version.as_deref();
        entry.1 = e.digest.as_deref();
        if e.mode.is_some() {
            entry.2 = e.mode;
        }
    }
    let state_file = crate::repo::environment::state_path(env);
    for (name, pin) in &state.agents {
        let ok = expected.get(name.as_str()).is_some_and(|(v, d, m)| {
            *v == Some(pin.version.as_str())
                && *d == Some(pin.digest.as_str())
                && m.is_none_or(|m| m == pin.mode)
        });
        if !ok {
            out.push(
                ENVIRONMENT_HAND_EDITED
                    .finding(
                        &state_file,
                        format!(
                            "{env} pins {name} {}, which no entry in {env}.log explains",
                            describe(Some(&pin.version), Some(pin.mode))
                        ),
                    )
                    .at(agent_position(state_text, name))
                    .hint(format!("change environments with agentctl (`agentctl promote {env}`, `rollback`, `mode`); restore the file from git")),
            );
        }
    }
    for name in expected.keys() {
        if !state.agents.contains_key(*name) {
            out.push(
                ENVIRONMENT_HAND_EDITED
                    .finding(
                        &state_file,
                        format!("{env}.log says {name} runs in {env}, but {env}.yaml does not pin it"),
                    )
                    .hint(format!("remove agents with `agentctl retire {env} {name}`; restore the file from git")),
            );
        }
    }
    out
}

/// Parse JSON-lines events, numbering lines from `first_line`.
fn parse_lines(bytes: &[u8], first_line: usize) -> Result<Vec<(usize, Event)>, (usize, String)> {
    let text = std::str::from_utf8(bytes).map_err(|e| (first_line, e.to_string()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let e: Event = serde_json::from_str(line).map_err(|e| (first_line + i, e.to_string()))?;
        out.push((first_line + i, e));
    }
    Ok(out)
}

/// `1.4.0 (active)`, `nothing`.
fn describe(version: Option<&str>, mode: Option<Mode>) -> String {
    match (version, mode) {
        (Some(v), Some(m)) => format!("{v} ({m})"),
        (Some(v), None) => v.to_string(),
        (None, _) => "nothing".into(),
    }
}

fn position(line: usize, column: usize) -> Position {
    Position {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
    }
}

/// Where an agent's pin starts in an environment file.
fn agent_position(text: &str, name: &str) -> Option<Position> {
    text.find(&format!("\n  {name}:"))
        .map(|o| crate::bundle::position_of_offset(text, o + 3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::environment::Pin;

    #[test]
    fn appending_is_the_only_change_a_log_may_see() {
        let base = b"a\nb\n";
        let appended = |new: &'static [u8], first_line| LogChange::Appended { new, first_line };
        assert_eq!(log_change(base, Some(b"a\nb\n")), appended(b"", 3));
        assert_eq!(log_change(base, Some(b"a\nb")), appended(b"", 3));
        assert_eq!(log_change(base, Some(b"a\nb\nc\n")), appended(b"c\n", 3));
        assert_eq!(log_change(b"a\nb", Some(b"a\nb\nc\n")), appended(b"c\n", 3));
        assert_eq!(log_change(b"", Some(b"c\n")), appended(b"c\n", 1));
        assert_eq!(log_change(b"", None), appended(b"", 1));
        assert_eq!(log_change(base, None), LogChange::Deleted);
        let rewritten = |line, column, truncated| LogChange::Rewritten {
            line,
            column,
            truncated,
        };
        assert_eq!(log_change(base, Some(b"a\nB\n")), rewritten(2, 1, false));
        assert_eq!(
            log_change(b"abc\nd\n", Some(b"abX\nd\n")),
            rewritten(1, 3, false)
        );
        assert_eq!(log_change(base, Some(b"a\n")), rewritten(2, 1, true));
        assert_eq!(log_change(base, Some(b"")), rewritten(1, 1, true));
        // The last line of a base without a final newline cannot grow.
        assert_eq!(
            log_change(b"a\nb", Some(b"a\nbc\n")),
            rewritten(2, 2, false)
        );
        assert_eq!(
            log_change("é\nü\n".as_bytes(), Some("é\nüx".as_bytes())),
            rewritten(2, 2, false)
        );
    }

    #[test]
    fn log_findings_name_the_line() {
        let f = log_finding(
            "dev",
            &LogChange::Rewritten {
                line: 2,
                column: 5,
                truncated: false,
            },
        )
        .expect("finding");
        assert_eq!(f.rule, "log-rewritten");
        assert!(f.is_error());
        assert_eq!(f.message, "dev.log line 2 differs from the base");
        assert_eq!(f.position, Some(Position { line: 2, column: 5 }));
        let f = log_finding(
            "dev",
            &LogChange::Rewritten {
                line: 3,
                column: 1,
                truncated: true,
            },
        )
        .expect("finding");
        assert_eq!(
            f.message,
            "dev.log lost lines: line 3 of the base onwards is gone"
        );
        assert!(log_finding("dev", &LogChange::Deleted).is_some());
        assert!(
            log_finding(
                "dev",
                &LogChange::Appended {
                    new: b"",
                    first_line: 1
                }
            )
            .is_none()
        );
    }

    fn pin(version: &str, mode: Mode) -> Pin {
        Pin {
            version: version.into(),
            digest: format!("sha256:{version}"),
            mode,
            updated_at: "2026-11-21T10:00:00Z".into(),
            updated_by: "Test User <test@example.com>".into(),
        }
    }

    fn state(pins: &[(&str, Pin)]) -> EnvState {
        EnvState {
            agents: pins
                .iter()
                .map(|(n, p)| (n.to_string(), p.clone()))
                .collect(),
        }
    }

    fn event(
        action: Action,
        agent: &str,
        from: Option<&str>,
        to: Option<&str>,
        mode: Option<Mode>,
    ) -> String {
        let e = Event {
            op: 2,
            time: "2026-11-21T10:00:00Z".into(),
            action,
            agent: agent.into(),
            version: to.map(Into::into),
            digest: to.map(|v| format!("sha256:{v}")),
            previous_version: from.map(Into::into),
            previous_digest: from.map(|v| format!("sha256:{v}")),
            mode,
            previous_mode: from.map(|_| Mode::Active),
            actor: "Test User <test@example.com>".into(),
            reason: None,
        };
        format!("{}\n", serde_json::to_string(&e).expect("json"))
    }

    fn check(base: &EnvState, log: &str, head: &EnvState) -> Vec<String> {
        let text = head.to_yaml();
        pin_changes("prod", base, log.as_bytes(), 4, head, &text)
            .into_iter()
            .map(|f| {
                assert_eq!(f.rule, "environment-hand-edited");
                f.message
            })
            .collect()
    }

    #[test]
    fn pins_follow_from_the_base_and_the_appended_events() {
        let base = state(&[
            ("a", pin("1.0.0", Mode::Active)),
            ("b", pin("2.0.0", Mode::Active)),
        ]);
        assert!(check(&base, "", &base).is_empty());
        let log = format!(
            "{}{}{}",
            event(
                Action::Promote,
                "a",
                Some("1.0.0"),
                Some("1.1.0"),
                Some(Mode::Active)
            ),
            event(
                Action::Mode,
                "b",
                Some("2.0.0"),
                Some("2.0.0"),
                Some(Mode::Disabled)
            ),
            event(
                Action::Promote,
                "c",
                None,
                Some("0.1.0"),
                Some(Mode::Active)
            ),
        );
        let head = state(&[
            ("a", pin("1.1.0", Mode::Active)),
            ("b", pin("2.0.0", Mode::Disabled)),
            ("c", pin("0.1.0", Mode::Active)),
        ]);
        assert!(
            check(&base, &log, &head).is_empty(),
            "{:?}",
            check(&base, &log, &head)
        );
        let retire = event(Action::Retire, "b", Some("2.0.0"), None, None);
        let without_b = state(&[("a", pin("1.0.0", Mode::Active))]);
        assert!(check(&base, &retire, &without_b).is_empty());
    }

    #[test]
    fn unexplained_pins_and_incoherent_events_are_named() {
        let base = state(&[("a", pin("1.0.0", Mode::Active))]);
        let mut edited = base.clone();
        edited.agents.get_mut("a").expect("a").updated_by = "Bot <bot@example.com>".into();
        assert_eq!(
            check(&base, "", &edited),
            [
                "prod pins a 1.0.0 (active) with updated_by changed since the base, and no event appended to prod.log explains it"
            ]
        );
        let added = state(&[
            ("a", pin("1.0.0", Mode::Active)),
            ("z", pin("9.9.9", Mode::Active)),
        ]);
        assert_eq!(
            check(&base, "", &added),
            [
                "prod pins z 9.9.9 (active), which neither the base nor an event appended to prod.log explains"
            ]
        );
        assert_eq!(
            check(&base, "", &EnvState::default()),
            ["prod no longer pins a, but the base and prod.log say it runs 1.0.0 (active)"]
        );
        let promote = event(
            Action::Promote,
            "a",
            Some("1.0.0"),
            Some("1.1.0"),
            Some(Mode::Active),
        );
        assert_eq!(
            check(&base, &promote, &base),
            [
                "prod pins a 1.0.0 (active), but the events appended to prod.log make it 1.1.0 (active)"
            ]
        );
        let forged = event(
            Action::Promote,
            "a",
            Some("0.9.0"),
            Some("1.1.0"),
            Some(Mode::Active),
        );
        let head = state(&[("a", pin("1.1.0", Mode::Active))]);
        assert_eq!(
            check(&base, &forged, &head),
            [
                "prod.log line 4: this promote of a starts from 0.9.0 (active), but prod pinned 1.0.0 (active) then"
            ]
        );
        let found = pin_changes("prod", &base, b"{not json\n", 7, &base, "");
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .starts_with("prod.log line 7 is not an event"),
            "{}",
            found[0].message
        );
        assert_eq!(found[0].position.map(|p| p.line), Some(7));
    }

    #[test]
    fn replay_without_a_base_checks_the_whole_log() {
        let log = event(
            Action::Promote,
            "a",
            None,
            Some("1.0.0"),
            Some(Mode::Active),
        );
        let events = crate::repo::environment::parse_log(&log).expect("log");
        let good = state(&[("a", pin("1.0.0", Mode::Active))]);
        assert!(replay_findings("dev", &good, &events, "").is_empty());
        let bad = state(&[("a", pin("0.9.0", Mode::Active))]);
        let found = replay_findings("dev", &bad, &events, &bad.to_yaml());
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("a 0.9.0"), "{}", found[0].message);
        assert!(found[0].position.is_some());
        assert_eq!(
            replay_findings("dev", &EnvState::default(), &events, "").len(),
            1
        );
    }
}
