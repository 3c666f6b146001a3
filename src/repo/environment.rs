//! Environment state (`environments/ENV.yaml`) and its event log (`ENV.log`).
//!
//! The YAML file says what runs now; the log, append-only JSON lines, says
//! how it got there. Rollback reads the log, not git history, so it works in
//! a shallow clone.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// How an agent runs in an environment: the operators' stop button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Running normally.
    #[default]
    Active,
    /// Running, but every action waits for a human.
    ReviewOnly,
    /// Stopped.
    Disabled,
}

impl Mode {
    /// The spelling on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Active => "active",
            Mode::ReviewOnly => "review-only",
            Mode::Disabled => "disabled",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an environment runs for one agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    /// Release version.
    pub version: String,
    /// Release digest.
    pub digest: String,
    /// Run mode.
    #[serde(default)]
    pub mode: Mode,
    /// When this pin last changed (RFC 3339).
    pub updated_at: String,
    /// Who changed it.
    pub updated_by: String,
}

/// `environments/ENV.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EnvState {
    /// Agents by name.
    #[serde(default)]
    pub agents: BTreeMap<String, Pin>,
}

const STATE_HEADER: &str = "# Managed by agentctl: what this environment runs now. Do not edit by hand;\n# use `agentctl promote`, `rollback`, `mode` or `retire`. History: the .log beside it.\n";

impl EnvState {
    /// Parse the YAML file's text.
    pub fn parse(text: &str) -> Result<EnvState, String> {
        if text.trim().is_empty() {
            return Ok(EnvState::default());
        }
        if let Some(state) = parse_canonical(text) {
            return Ok(state);
        }
        serde_saphyr::from_str(text).map_err(|e| e.without_snippet().to_string())
    }

    /// Serialize, with a header comment.
    pub fn to_yaml(&self) -> String {
        let body = if self.agents.is_empty() {
            "agents: {}\n".to_string()
        } else {
            serde_saphyr::to_string(self).expect("environment state always serializes")
        };
        format!("{STATE_HEADER}{body}")
    }
}

/// A fast reader for exactly the layout [`EnvState::to_yaml`] writes:
/// comment lines, `agents:`, two-space agent keys, four-space fields whose
/// values are plain words or double-quoted strings without escapes. Anything
/// else (a hand edit, another YAML style) returns `None` and the full YAML
/// parser decides. Environments of thousands of agents are read on every
/// promotion, so this matters; both readers agree on every file this one
/// accepts (a test checks it).
fn parse_canonical(text: &str) -> Option<EnvState> {
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let head = lines.next()?;
    let mut state = EnvState::default();
    if head == "agents: {}" {
        return lines.all(|l| l.trim().is_empty()).then_some(state);
    }
    if head != "agents:" {
        return None;
    }
    let mut current: Option<(String, [Option<String>; 5])> = None;
    let finish = |cur: Option<(String, [Option<String>; 5])>, state: &mut EnvState| -> Option<()> {
        if let Some((name, [version, digest, mode, updated_at, updated_by])) = cur {
            let mode = match mode.as_deref() {
                None | Some("active") => Mode::Active,
                Some("review-only") => Mode::ReviewOnly,
                Some("disabled") => Mode::Disabled,
                Some(_) => return None,
            };
            let pin = Pin {
                version: version?,
                digest: digest?,
                mode,
                updated_at: updated_at?,
                updated_by: updated_by?,
            };
            if state.agents.insert(name, pin).is_some() {
                return None;
            }
        }
        Some(())
    };
    for line in lines {
        if let Some(rest) = line.strip_prefix("    ") {
            let (key, value) = rest.split_once(": ")?;
            let value = canonical_scalar(value)?;
            let slot = match key {
                "version" => 0,
                "digest" => 1,
                "mode" => 2,
                "updated_at" => 3,
                "updated_by" => 4,
                _ => return None,
            };
            let fields = &mut current.as_mut()?.1;
            if fields[slot].replace(value).is_some() {
                return None;
            }
        } else if let Some(rest) = line.strip_prefix("  ") {
            let name = rest.strip_suffix(':')?;
            if !crate::bundle::readiness::is_valid_name(name) {
                return None;
            }
            finish(current.take(), &mut state)?;
            current = Some((name.to_string(), Default::default()));
        } else {
            return None;
        }
    }
    finish(current.take(), &mut state)?;
    Some(state)
}

/// A value the fast reader accepts: `"…"` without escapes, or a plain
/// scalar that YAML cannot read as anything but that same string.
fn canonical_scalar(v: &str) -> Option<String> {
    if let Some(inner) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return (!inner.contains(['"', '\\'])).then(|| inner.to_string());
    }
    let first = v.chars().next()?;
    let plain_ok = first.is_ascii_alphabetic()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || " ._-:@<>+/".contains(c))
        && !v.contains(": ")
        && !v.contains(" #")
        && !v.ends_with(':')
        && !v.ends_with(' ')
        && !matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n" | "nan" | "inf"
        );
    plain_ok.then(|| v.to_string())
}

/// What an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// A release moved in.
    Promote,
    /// An earlier release was pinned again.
    Rollback,
    /// The run mode changed.
    Mode,
    /// The agent was removed from the environment.
    Retire,
}

impl Action {
    /// The spelling in logs and trailers.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Promote => "promote",
            Action::Rollback => "rollback",
            Action::Mode => "mode",
            Action::Retire => "retire",
        }
    }
}

/// One line of `ENV.log`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Operation number: events written by one command share it.
    pub op: u64,
    /// When (RFC 3339).
    pub time: String,
    /// What happened.
    pub action: Action,
    /// Which agent.
    pub agent: String,
    /// The version pinned after the event (none when removed).
    pub version: Option<String>,
    /// The digest pinned after the event.
    pub digest: Option<String>,
    /// The version pinned before (none when newly added).
    pub previous_version: Option<String>,
    /// The digest pinned before.
    pub previous_digest: Option<String>,
    /// The mode after the event.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mode: Option<Mode>,
    /// The mode before the event.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub previous_mode: Option<Mode>,
    /// Who.
    pub actor: String,
    /// Why.
    pub reason: Option<String>,
}

/// A malformed log line.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct LogError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// The largest operation number a log line may carry (2^53, the largest
/// integer every JSON reader represents exactly). A larger one is a corrupt
/// line, so the next number (max + 1) can never wrap.
pub const MAX_OP: u64 = 1 << 53;

fn parse_line(i: usize, line: &str) -> Result<Event, LogError> {
    let e: Event = serde_json::from_str(line).map_err(|e| LogError {
        line: i + 1,
        message: e.to_string(),
    })?;
    if e.op == 0 || e.op > MAX_OP {
        return Err(LogError {
            line: i + 1,
            message: format!("op {} is out of range (1 to {MAX_OP})", e.op),
        });
    }
    Ok(e)
}

/// Parse a whole log.
pub fn parse_log(text: &str) -> Result<Vec<Event>, LogError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push(parse_line(i, line)?);
    }
    Ok(out)
}

/// Parse a log, setting aside the lines that do not parse (a hand edit, a
/// truncated last line) instead of failing: for the stop button, which must
/// work whatever the log holds. `verify` and `check` report those lines.
pub fn parse_log_lenient(text: &str) -> (Vec<Event>, Vec<LogError>) {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(i, line) {
            Ok(e) => out.push(e),
            Err(e) => bad.push(e),
        }
    }
    (out, bad)
}

/// Why two logs cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A side rewrote history instead of appending to the common base.
    #[error("{side} does not extend the common base: the log was rewritten, not appended to")]
    Rewritten {
        /// `ours` or `theirs`.
        side: &'static str,
    },
    /// A line that does not parse.
    #[error("{side}: {source}")]
    Corrupt {
        /// `ours` or `theirs`.
        side: &'static str,
        /// The line.
        #[source]
        source: LogError,
    },
}

/// Merge two environment logs that both grew from `base` (git's merge of a
/// person's branches, or a rebase): the base, then the events only ours
/// appended, then those only theirs appended with their op numbers moved
/// past every op before them, so no two ops share a number. An event both
/// sides appended (the same line) is kept once.
pub fn merge_logs(base: &str, ours: &str, theirs: &str) -> Result<String, MergeError> {
    let ours_new = ours
        .strip_prefix(base)
        .ok_or(MergeError::Rewritten { side: "ours" })?;
    let theirs_new = theirs
        .strip_prefix(base)
        .ok_or(MergeError::Rewritten { side: "theirs" })?;
    let kept: Vec<Event> =
        parse_log(&format!("{base}{ours_new}")).map_err(|source| MergeError::Corrupt {
            side: "ours",
            source,
        })?;
    let theirs_events = parse_log(theirs_new).map_err(|source| MergeError::Corrupt {
        side: "theirs",
        source,
    })?;
    let ours_lines: std::collections::HashSet<&str> = ours_new.lines().collect();
    let mut next = kept.iter().map(|e| e.op).max().unwrap_or(0) + 1;
    let mut renumber: BTreeMap<u64, u64> = BTreeMap::new();
    let mut out = String::with_capacity(ours.len() + theirs_new.len());
    out.push_str(base);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(ours_new);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    for (line, mut e) in theirs_new
        .lines()
        .filter(|l| !l.trim().is_empty())
        .zip(theirs_events)
    {
        if ours_lines.contains(line) {
            continue;
        }
        e.op = *renumber.entry(e.op).or_insert_with(|| {
            let n = next;
            next += 1;
            n
        });
        out.push_str(&format_events(std::slice::from_ref(&e)));
    }
    Ok(out)
}

/// What an event does to the pins: pin its release (keeping the agent's
/// mode unless the event sets one), or remove the agent.
pub fn apply_event(state: &mut EnvState, e: &Event) {
    match (&e.version, &e.digest) {
        (Some(v), Some(d)) => {
            let mode = e
                .mode
                .or(state.agents.get(&e.agent).map(|p| p.mode))
                .unwrap_or_default();
            state.agents.insert(
                e.agent.clone(),
                Pin {
                    version: v.clone(),
                    digest: d.clone(),
                    mode,
                    updated_at: e.time.clone(),
                    updated_by: e.actor.clone(),
                },
            );
        }
        _ => {
            state.agents.remove(&e.agent);
        }
    }
}

/// Serialize events as log lines.
pub fn format_events(events: &[Event]) -> String {
    let mut s = String::new();
    for e in events {
        s.push_str(&serde_json::to_string(e).expect("events always serialize"));
        s.push('\n');
    }
    s
}

/// The version to roll `agent` back to, from the log: the most recent
/// earlier pin that was not itself rolled away from. `None` when there is none.
pub fn rollback_target<'a>(
    events: &'a [Event],
    agent: &str,
    current: &str,
) -> Option<(&'a str, &'a str)> {
    let mut bad: Vec<&str> = vec![current];
    for e in events.iter().rev().filter(|e| e.agent == agent) {
        // A rollback to an older version marks the version it left as bad;
        // a rollback *forward* (`--to` a newer release) does not.
        if e.action == Action::Rollback
            && let Some(v) = e.previous_version.as_deref()
            && is_older(e.version.as_deref(), v)
        {
            bad.push(v);
        }
        if e.action == Action::Mode {
            continue;
        }
        if let (Some(v), Some(d)) = (e.previous_version.as_deref(), e.previous_digest.as_deref())
            && !bad.contains(&v)
        {
            return Some((v, d));
        }
    }
    None
}

/// Whether `to` is an older version than `from` (unparseable: assume so).
fn is_older(to: Option<&str>, from: &str) -> bool {
    match (to.map(semver::Version::parse), semver::Version::parse(from)) {
        (Some(Ok(t)), Ok(f)) => t < f,
        _ => true,
    }
}

/// The path of an environment's state file under the repository root.
pub fn state_path(env: &str) -> String {
    format!("environments/{env}.yaml")
}

/// The path of an environment's log under the repository root.
pub fn log_path(env: &str) -> String {
    format!("environments/{env}.log")
}

/// Read an environment's state and log from disk (missing files are empty).
pub fn read(root: &Path, env: &str) -> Result<(EnvState, Vec<Event>), String> {
    Ok((read_state(root, env)?, read_log(root, env)?))
}

/// The most bytes an environment's state file may hold.
pub const MAX_STATE_BYTES: u64 = 64 << 20;
/// The most bytes an environment's log may hold.
pub const MAX_LOG_BYTES: u64 = 1 << 30;

/// Read an environment's state (a missing file is empty).
pub fn read_state(root: &Path, env: &str) -> Result<EnvState, String> {
    let rel = state_path(env);
    match crate::files::read_text(root, Path::new(&rel), MAX_STATE_BYTES) {
        Ok(Some(text)) => EnvState::parse(&text).map_err(|e| format!("{rel}: {e}")),
        Ok(None) => Ok(EnvState::default()),
        Err(e) => Err(e.to_string()),
    }
}

/// Read an environment's log leniently (see [`parse_log_lenient`]).
pub fn read_log_lenient(root: &Path, env: &str) -> Result<(Vec<Event>, Vec<LogError>), String> {
    let rel = log_path(env);
    match crate::files::read_text(root, Path::new(&rel), MAX_LOG_BYTES) {
        Ok(Some(text)) => Ok(parse_log_lenient(&text)),
        Ok(None) => Ok((Vec::new(), Vec::new())),
        Err(e) => Err(e.to_string()),
    }
}

/// Read an environment's log, which only grows (a missing file is empty).
pub fn read_log(root: &Path, env: &str) -> Result<Vec<Event>, String> {
    let rel = log_path(env);
    match crate::files::read_text(root, Path::new(&rel), MAX_LOG_BYTES) {
        Ok(Some(text)) => parse_log(&text).map_err(|e| format!("{rel}: {e}")),
        Ok(None) => Ok(Vec::new()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(op: u64, action: Action, v: Option<&str>, prev: Option<&str>) -> Event {
        Event {
            op,
            time: "2026-01-01T00:00:00Z".into(),
            action,
            agent: "a".into(),
            version: v.map(Into::into),
            digest: v.map(|v| format!("d{v}")),
            previous_version: prev.map(Into::into),
            previous_digest: prev.map(|v| format!("d{v}")),
            mode: None,
            previous_mode: None,
            actor: "t".into(),
            reason: None,
        }
    }

    #[test]
    fn rollback_walks_back_past_rolled_away_versions() {
        let mut log = vec![
            ev(1, Action::Promote, Some("1.0"), None),
            ev(2, Action::Promote, Some("1.1"), Some("1.0")),
            ev(3, Action::Promote, Some("1.2"), Some("1.1")),
        ];
        assert_eq!(rollback_target(&log, "a", "1.2").map(|t| t.0), Some("1.1"));
        log.push(ev(4, Action::Rollback, Some("1.1"), Some("1.2")));
        assert_eq!(rollback_target(&log, "a", "1.1").map(|t| t.0), Some("1.0"));
        log.push(ev(5, Action::Rollback, Some("1.0"), Some("1.1")));
        assert_eq!(rollback_target(&log, "a", "1.0"), None);
    }

    #[test]
    fn canonical_reader_agrees_with_the_yaml_parser() {
        let mut s = EnvState::default();
        for (i, mode) in [Mode::Active, Mode::ReviewOnly, Mode::Disabled]
            .into_iter()
            .enumerate()
        {
            s.agents.insert(
                format!("agent-{i}"),
                Pin {
                    version: format!("1.{i}.0"),
                    digest: format!("sha256:{:064x}", i),
                    mode,
                    updated_at: "2026-01-01T00:00:00Z".into(),
                    updated_by: "Dana Reyes <dana@example.com>".into(),
                },
            );
        }
        let text = s.to_yaml();
        let fast = parse_canonical(&text).expect("canonical layout");
        let full: EnvState = serde_saphyr::from_str(&text).expect("yaml");
        assert_eq!(fast, full);
        assert_eq!(fast, s);
        // Anything unusual goes to the full parser.
        for odd in [
            "agents:\n  a:\n    version: '1.0.0'\n",
            "agents:\n  a: {version: x}\n",
            "agents:\n  a:\n    version: 1.0\n",
            "agents:\n  a:\n    mode: yes\n",
        ] {
            assert!(parse_canonical(odd).is_none(), "{odd}");
        }
    }

    #[test]
    fn state_round_trips() {
        let mut s = EnvState::default();
        s.agents.insert(
            "x".into(),
            Pin {
                version: "1.0.0".into(),
                digest: "sha256:00".into(),
                mode: Mode::ReviewOnly,
                updated_at: "2026-01-01T00:00:00Z".into(),
                updated_by: "A <a@example.com>".into(),
            },
        );
        assert_eq!(EnvState::parse(&s.to_yaml()).expect("parse"), s);
        assert_eq!(
            EnvState::parse(&EnvState::default().to_yaml()).expect("parse"),
            EnvState::default()
        );
    }
}
