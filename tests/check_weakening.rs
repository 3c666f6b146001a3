//! `agentctl check --base`: a pull request that weakens a gate, widens the
//! trust root, or rewrites what agentctl wrote is an error, end to end.
//!
//! Each test commits a base, then one "pull request" per attack on top of it
//! (resetting to the base in between), and runs the built binary with
//! `--base HEAD~1 --format json`. The comparison functions themselves are
//! tested as pure logic in src/check/.

mod common;

use common::checks::*;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;

/// Three real ed25519 public keys (their private halves were thrown away)
/// and their SHA-256 fingerprints.
const KEY_A: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPr+dhluDxhfahovmg7TZYpQ36OkUkk6ogjQoqIABSqf";
const KEY_B: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPZ0eIwz4kHyu5GUC+rcFr2mI/Em5I2Nzc8aZnBmjiOk";
const KEY_C: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHnWDqb/eXW+2WMbPpAL0+VK5CyqdqT+6ZHPu2jkXgh9";
const FP_C: &str = "SHA256:aEnPCNukcCMEeTwkZPJeUa50plWc6aj+8ZDwXiX+q/M";

/// One pull request: its name (the commit message), what it does, and the
/// exit code check must give it.
type Attack = (&'static str, Box<dyn Fn(&Scratch)>, i32);

/// For each attack on the committed base: reset to the base, apply it,
/// commit, and hand the JSON report of `check --base HEAD~1` (whose exit
/// code must be the attack's) to `verify`.
fn each_pull_request(s: &Scratch, attacks: &[Attack], verify: impl Fn(&str, &Value, &Scratch)) {
    let base = s.head();
    for (name, attack, code) in attacks {
        s.git(&["reset", "-q", "--hard", &base]);
        attack(s);
        s.commit_all(name);
        let out = check(s, &["--base", "HEAD~1", "--format", "json"]);
        assert_eq!(
            out.status.code(),
            Some(*code),
            "{name}: expected exit {code}\n{}",
            describe(&out)
        );
        verify(name, &json(&out), s);
    }
}

/// The messages of one rule's findings.
fn messages(report: &Value, rule: &str) -> Vec<String> {
    with_rule(report, rule)
        .iter()
        .map(|f| f["message"].as_str().expect("message").to_string())
        .collect()
}

/// Assert one finding of `rule` is an error whose message contains `needle`,
/// with a line, a column and a hint; returns it.
#[track_caller]
fn error_with(name: &str, report: &Value, rule: &str, needle: &str) -> Value {
    let f = with_rule(report, rule)
        .into_iter()
        .find(|f| f["message"].as_str().is_some_and(|m| m.contains(needle)))
        .unwrap_or_else(|| panic!("{name}: no {rule} finding saying {needle:?} in {report:#}"));
    assert_eq!(f["severity"], "error", "{name}: {f:#}");
    assert!(
        f["hint"].as_str().is_some_and(|h| !h.is_empty()),
        "{name}: {f:#}"
    );
    f
}

/// Assert a finding sits at `line` (and has a column).
#[track_caller]
fn at_line(name: &str, f: &Value, line: u64) {
    assert_eq!(f["line"], line, "{name}: {f:#}");
    assert!(
        f["column"].as_u64().is_some_and(|c| c >= 1),
        "{name}: {f:#}"
    );
}

// ---------------------------------------------------------------------------
// agentctl.toml
// ---------------------------------------------------------------------------

/// The base policy: staging needs evals, prod needs two distinct signers,
/// evals and a year-end freeze (and keeps an expired freeze around).
const GATED_CONFIG: &str = r#"[roles]
security = ["rachel.osei@example.com"]

[[environment]]
name = "dev"
promote_from_previous = false

[[environment]]
name = "staging"
require_evals = true

[[environment]]
name = "prod"
required_roles = ["owner", "security"]
distinct_signers = true
require_evals = true
freeze = [
  { from = "2026-01-01T00:00:00Z", until = "2026-01-02T00:00:00Z", reason = "expired" },
  { from = "2026-12-20T00:00:00Z", until = "2027-01-04T00:00:00Z", reason = "year-end" },
]
"#;

fn gated_base() -> Scratch {
    let s = Scratch::new();
    s.write("agentctl.toml", GATED_CONFIG);
    s.commit_all("gate staging and prod");
    s
}

fn edit_config(from: &'static str, to: &'static str) -> impl Fn(&Scratch) {
    move |s: &Scratch| replace_in(s, "agentctl.toml", from, to)
}

#[test]
fn every_weakening_of_agentctl_toml_is_an_error() {
    let s = gated_base();
    let canary = "[[environment]]\nname = \"canary\"\n\n[[environment]]\nname = \"prod\"";
    let attacks: Vec<Attack> = vec![
        (
            "drop the security role",
            Box::new(edit_config(
                "required_roles = [\"owner\", \"security\"]",
                "required_roles = [\"owner\"]",
            )),
            1,
        ),
        (
            "let one person sign twice",
            Box::new(edit_config(
                "distinct_signers = true",
                "distinct_signers = false",
            )),
            1,
        ),
        (
            "skip evals in staging",
            Box::new(edit_config(
                "name = \"staging\"\nrequire_evals = true",
                "name = \"staging\"\nrequire_evals = false",
            )),
            1,
        ),
        (
            "let staging skip dev",
            Box::new(edit_config(
                "name = \"staging\"\n",
                "name = \"staging\"\npromote_from_previous = false\n",
            )),
            1,
        ),
        (
            "remove staging",
            Box::new(edit_config(
                "[[environment]]\nname = \"staging\"\nrequire_evals = true\n\n",
                "",
            )),
            1,
        ),
        (
            "prod before staging",
            Box::new(|s: &Scratch| {
                let text = s.read("agentctl.toml");
                let staging = "[[environment]]\nname = \"staging\"\nrequire_evals = true\n\n";
                let mut text = text.replacen(staging, "", 1);
                text.push('\n');
                text.push_str(staging.trim_end());
                text.push('\n');
                s.write("agentctl.toml", &text);
            }),
            1,
        ),
        (
            "an ungated canary before prod",
            Box::new(edit_config("[[environment]]\nname = \"prod\"", canary)),
            1,
        ),
        (
            "shorten the year-end freeze",
            Box::new(edit_config(
                "until = \"2027-01-04T00:00:00Z\"",
                "until = \"2026-12-27T00:00:00Z\"",
            )),
            1,
        ),
        (
            "lift the year-end freeze",
            Box::new(edit_config(
                "  { from = \"2026-12-20T00:00:00Z\", until = \"2027-01-04T00:00:00Z\", reason = \"year-end\" },\n",
                "",
            )),
            1,
        ),
    ];
    // (attack, message, the environment whose table the finding points
    // into, the key it points at there)
    let expected = [
        (
            "drop the security role",
            "prod: required role `security` removed",
            "prod",
            "required_roles",
        ),
        (
            "let one person sign twice",
            "prod: one person may now fill two required roles",
            "prod",
            "distinct_signers",
        ),
        (
            "skip evals in staging",
            "staging: eval gate removed (require_evals)",
            "staging",
            "require_evals",
        ),
        (
            "let staging skip dev",
            "staging: releases may now skip the previous environment",
            "staging",
            "promote_from_previous",
        ),
        (
            "remove staging",
            "environment `staging` removed",
            "prod",
            "name",
        ),
        (
            "prod before staging",
            "environment order changed from dev → staging → prod to dev → prod → staging",
            "prod",
            "name",
        ),
        (
            "an ungated canary before prod",
            "environment `canary` inserted before prod without its gates: required roles owner, security; require_evals",
            "canary",
            "name",
        ),
        (
            "shorten the year-end freeze",
            "prod: freeze window 2026-12-20T00:00:00Z – 2027-01-04T00:00:00Z shortened (2026-12-27T00:00:00Z – 2027-01-04T00:00:00Z no longer frozen)",
            "prod",
            "freeze",
        ),
        (
            "lift the year-end freeze",
            "prod: freeze window 2026-12-20T00:00:00Z – 2027-01-04T00:00:00Z lifted",
            "prod",
            "freeze",
        ),
    ];
    each_pull_request(&s, &attacks, |name, report, s| {
        let (_, needle, env, key) = expected
            .iter()
            .find(|(n, ..)| *n == name)
            .expect("an expectation per attack");
        assert_eq!(
            error_rules(report),
            BTreeSet::from(["policy-weakened".to_string()]),
            "{name}: {report:#}"
        );
        let f = error_with(name, report, "policy-weakened", needle);
        assert!(
            f["file"].as_str().expect("file").ends_with("agentctl.toml"),
            "{name}: {f:#}"
        );
        let text = s.read("agentctl.toml");
        at_line(name, &f, key_line(&text, env, key));
    });
}

/// 1-based line of `key` in the `[[environment]]` table named `env` (the
/// name line itself for `name`).
#[track_caller]
fn key_line(text: &str, env: &str, key: &str) -> u64 {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == format!("name = \"{env}\""))
        .unwrap_or_else(|| panic!("no environment {env} in\n{text}"));
    let at = lines[start..]
        .iter()
        .take_while(|l| !l.starts_with("[["))
        .position(|l| l.starts_with(&format!("{key} ")))
        .unwrap_or_else(|| panic!("no {key} in {env}'s table in\n{text}"));
    (start + at + 1) as u64
}

#[test]
fn gated_insertions_and_expired_freezes_are_not_weakening() {
    let s = gated_base();
    let attacks: Vec<Attack> = vec![
        (
            "a canary with prod's gates",
            Box::new(edit_config(
                "[[environment]]\nname = \"prod\"",
                "[[environment]]\nname = \"canary\"\nrequired_roles = [\"owner\", \"security\"]\nrequire_evals = true\n\n[[environment]]\nname = \"prod\"",
            )),
            0,
        ),
        (
            "a new environment after prod",
            Box::new(|s: &Scratch| {
                append(s, "agentctl.toml", "\n[[environment]]\nname = \"dr\"\n")
            }),
            0,
        ),
        (
            "drop the expired freeze",
            Box::new(edit_config(
                "  { from = \"2026-01-01T00:00:00Z\", until = \"2026-01-02T00:00:00Z\", reason = \"expired\" },\n",
                "",
            )),
            0,
        ),
        (
            "a longer freeze and more gates",
            Box::new(|s: &Scratch| {
                replace_in(
                    s,
                    "agentctl.toml",
                    "until = \"2027-01-04T00:00:00Z\"",
                    "until = \"2027-01-10T00:00:00Z\"",
                );
                replace_in(
                    s,
                    "agentctl.toml",
                    "name = \"dev\"\n",
                    "name = \"dev\"\nrequire_evals = true\n",
                );
            }),
            0,
        ),
    ];
    each_pull_request(&s, &attacks, |name, report, _| {
        assert!(
            messages(report, "policy-weakened").is_empty(),
            "{name}: {report:#}"
        );
    });
}

#[test]
fn a_new_signer_role_holder_is_a_named_high_risk_warning() {
    let s = gated_base();
    replace_in(
        &s,
        "agentctl.toml",
        "security = [\"rachel.osei@example.com\"]",
        "security = [\"rachel.osei@example.com\", \"mallory@example.com\"]",
    );
    s.commit_all("mallory reviews security now");
    let report = check_json(&s, "HEAD~1", 0);
    let trust = with_rule(&report, "trust-changed");
    assert_eq!(trust.len(), 1, "{report:#}");
    assert_eq!(trust[0]["severity"], "warning");
    assert_eq!(
        trust[0]["message"],
        "high risk: mallory@example.com given the `security` signer role"
    );
    assert_eq!(trust[0]["line"], 2);
    assert_eq!(trust[0]["column"], 41);
}

// ---------------------------------------------------------------------------
// .agentctl/allowed_signers
// ---------------------------------------------------------------------------

fn signers_base() -> Scratch {
    let s = Scratch::new();
    append(
        &s,
        ".agentctl/allowed_signers",
        &format!(
            "alice@example.com,!mallory@example.com namespaces=\"agentctl\",valid-after=\"20260101\",valid-before=\"20270101\" {KEY_A}\n\
             *@example.com cert-authority {KEY_B}\n"
        ),
    );
    s.commit_all("alice signs; the CA certifies example.com");
    s
}

fn edit_signers(from: &'static str, to: &'static str) -> impl Fn(&Scratch) {
    move |s: &Scratch| replace_in(s, ".agentctl/allowed_signers", from, to)
}

#[test]
fn every_widening_of_allowed_signers_is_an_error() {
    let s = signers_base();
    let attacks: Vec<Attack> = vec![
        (
            "alice's key signs as anyone",
            Box::new(edit_signers("alice@example.com,", "*,")),
            1,
        ),
        (
            "alice's key signs as any one-letter name",
            Box::new(edit_signers("alice@example.com,", "?@example.com,")),
            1,
        ),
        (
            "the negation dropped",
            Box::new(edit_signers(",!mallory@example.com", "")),
            1,
        ),
        (
            "the CA signs directly",
            Box::new(edit_signers(
                "*@example.com cert-authority ",
                "*@example.com ",
            )),
            1,
        ),
        (
            "no expiry",
            Box::new(edit_signers(",valid-before=\"20270101\"", "")),
            1,
        ),
        (
            "a later expiry",
            Box::new(edit_signers(
                "valid-before=\"20270101\"",
                "valid-before=\"20300101\"",
            )),
            1,
        ),
        (
            "an earlier start",
            Box::new(edit_signers(
                "valid-after=\"20260101\"",
                "valid-after=\"20200101\"",
            )),
            1,
        ),
        (
            "no start",
            Box::new(edit_signers("valid-after=\"20260101\",", "")),
            1,
        ),
        (
            "any namespace",
            Box::new(edit_signers("namespaces=\"agentctl\",", "")),
            1,
        ),
        (
            "one more namespace",
            Box::new(edit_signers(
                "namespaces=\"agentctl\",",
                "namespaces=\"agentctl,git\",",
            )),
            1,
        ),
    ];
    let expected = [
        (
            "alice's key signs as anyone",
            "wildcard principal `*`",
            "*,",
        ),
        (
            "alice's key signs as any one-letter name",
            "wildcard principal `?@example.com`",
            "?@example.com",
        ),
        (
            "the negation dropped",
            "negation `!mallory@example.com` removed",
            "alice@example.com",
        ),
        (
            "the CA signs directly",
            "cert-authority removed",
            "*@example.com",
        ),
        (
            "no expiry",
            "valid-before limit 2027-01-01T00:00:00Z removed",
            "alice@example.com",
        ),
        (
            "a later expiry",
            "valid-before moved later: 2027-01-01T00:00:00Z → 2030-01-01T00:00:00Z",
            "valid-before",
        ),
        (
            "an earlier start",
            "valid-after moved earlier: 2026-01-01T00:00:00Z → 2020-01-01T00:00:00Z",
            "valid-after",
        ),
        (
            "no start",
            "valid-after limit 2026-01-01T00:00:00Z removed",
            "alice@example.com",
        ),
        (
            "any namespace",
            "namespaces=\"agentctl\" restriction removed",
            "alice@example.com",
        ),
        (
            "one more namespace",
            "namespaces widened by git",
            "namespaces",
        ),
    ];
    each_pull_request(&s, &attacks, |name, report, s| {
        let (_, needle, column_at) = expected
            .iter()
            .find(|(n, _, _)| *n == name)
            .expect("an expectation per attack");
        assert_eq!(
            error_rules(report),
            BTreeSet::from(["signer-widened".to_string()]),
            "{name}: {report:#}"
        );
        let f = error_with(name, report, "signer-widened", needle);
        assert!(
            f["file"]
                .as_str()
                .expect("file")
                .ends_with(".agentctl/allowed_signers"),
            "{name}: {f:#}"
        );
        let text = s.read(".agentctl/allowed_signers");
        let line_no = f["line"].as_u64().expect("line");
        let line = text.lines().nth(line_no as usize - 1).expect("the line");
        let column = line.find(column_at).expect("the column's text") as u64 + 1;
        at_line(name, &f, line_no);
        assert_eq!(f["column"], column, "{name}: {f:#}\n{line}");
        assert!(
            f["message"].as_str().expect("message").contains("SHA256:"),
            "{name}: names the key: {f:#}"
        );
    });
}

#[test]
fn a_new_signer_line_is_a_warning_naming_principals_and_key() {
    let s = signers_base();
    append(
        &s,
        ".agentctl/allowed_signers",
        &format!("bob@example.com,carol@example.com namespaces=\"agentctl\" {KEY_C}\n"),
    );
    s.commit_all("bob and carol share a key");
    let report = check_json(&s, "HEAD~1", 0);
    let trust = with_rule(&report, "trust-changed");
    assert_eq!(trust.len(), 1, "{report:#}");
    assert_eq!(trust[0]["severity"], "warning");
    assert_eq!(
        trust[0]["message"],
        format!("high risk: signers bob@example.com, carol@example.com added with key {FP_C}")
    );
    at_line("new signer", &trust[0], 6);

    // A new line with a wildcard principal signs as anyone: an error.
    s.git(&["reset", "-q", "--hard", "HEAD~1"]);
    append(&s, ".agentctl/allowed_signers", &format!("* {KEY_C}\n"));
    s.commit_all("a key for everyone");
    let report = check_json(&s, "HEAD~1", 1);
    error_with(
        "wildcard signer",
        &report,
        "signer-widened",
        "wildcard principal `*`",
    );
}

// ---------------------------------------------------------------------------
// environments/<env>.log and <env>.yaml
// ---------------------------------------------------------------------------

fn promoted_base() -> Scratch {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    s
}

/// Rewrite line `n` (1-based) of a repository file.
fn rewrite_line(s: &Scratch, rel: &str, n: usize, f: impl Fn(&str) -> String) {
    let text = s.read(rel);
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == n { f(l) } else { l.to_string() })
        .collect();
    s.write(rel, &format!("{}\n", lines.join("\n")));
}

#[test]
fn an_environment_log_only_grows() {
    let s = promoted_base();
    assert_eq!(s.log("dev").len(), 3);
    let attacks: Vec<Attack> = vec![
        (
            "reword an event",
            Box::new(|s: &Scratch| {
                rewrite_line(s, "environments/dev.log", 2, |l| {
                    l.replace("\"actor\":\"Test User", "\"actor\":\"Someone Else")
                })
            }),
            1,
        ),
        (
            "delete the last event",
            Box::new(|s: &Scratch| {
                let text = s.read("environments/dev.log");
                let kept: Vec<&str> = text.lines().take(2).collect();
                s.write("environments/dev.log", &format!("{}\n", kept.join("\n")));
            }),
            1,
        ),
        (
            "delete the log",
            Box::new(|s: &Scratch| {
                std::fs::remove_file(s.root.join("environments/dev.log")).expect("rm")
            }),
            1,
        ),
    ];
    each_pull_request(&s, &attacks, |name, report, s| {
        let f = error_with(name, report, "log-rewritten", "dev.log");
        assert!(
            f["file"]
                .as_str()
                .expect("file")
                .ends_with("environments/dev.log"),
            "{name}: {f:#}"
        );
        let message = f["message"].as_str().expect("message");
        match name {
            "reword an event" => {
                assert!(message.contains("line 2"), "{name}: {message}");
                let line = s
                    .read("environments/dev.log")
                    .lines()
                    .nth(1)
                    .expect("line 2")
                    .to_string();
                at_line(name, &f, 2);
                assert_eq!(
                    f["column"],
                    line.find("Someone").expect("the change") as u64 + 1,
                    "{name}: {f:#}"
                );
            }
            "delete the last event" => {
                assert!(message.contains("line 3"), "{name}: {message}");
                at_line(name, &f, 3);
            }
            _ => assert!(message.contains("deleted"), "{name}: {message}"),
        }
    });
}

#[test]
fn appending_through_agentctl_passes() {
    let s = promoted_base();
    // A pull request that carries a promotion made with --no-commit, and a
    // log whose final newline went missing.
    s.ok(&["promote", "staging", "--no-commit"]);
    let dev = s.read("environments/dev.log");
    s.write("environments/dev.log", dev.trim_end_matches('\n'));
    s.commit_all("promote to staging");
    let report = check_json(&s, "HEAD~1", 0);
    assert!(error_rules(&report).is_empty(), "{report:#}");
    assert!(messages(&report, "log-rewritten").is_empty(), "{report:#}");
    assert!(
        messages(&report, "environment-hand-edited").is_empty(),
        "{report:#}"
    );
}

#[test]
fn a_pin_must_follow_from_the_base_and_the_appended_events() {
    let s = promoted_base();
    let attacks: Vec<Attack> = vec![
        (
            "forge who promoted",
            Box::new(|s: &Scratch| {
                replace_in(
                    s,
                    "environments/dev.yaml",
                    "updated_by: Test User <test@example.com>",
                    "updated_by: Release Bot <bot@example.com>",
                )
            }),
            1,
        ),
        (
            "an appended event that does not follow from the base",
            Box::new(|s: &Scratch| {
                let log = s.log("dev");
                let mut forged = log
                    .iter()
                    .find(|e| e["agent"] == "support-triage")
                    .expect("support-triage was promoted")
                    .clone();
                forged["op"] = 2.into();
                forged["version"] = "1.3.9".into();
                forged["previous_version"] = "1.0.0".into();
                append(s, "environments/dev.log", &format!("{forged}\n"));
                replace_in(
                    s,
                    "environments/dev.yaml",
                    "version: \"1.4.0\"",
                    "version: \"1.3.9\"",
                );
            }),
            1,
        ),
        (
            "an appended event the pin ignores",
            Box::new(|s: &Scratch| {
                let log = s.log("dev");
                let mut e = log
                    .iter()
                    .find(|e| e["agent"] == "lead-router")
                    .expect("lead-router was promoted")
                    .clone();
                e["op"] = 2.into();
                e["action"] = "mode".into();
                e["previous_version"] = e["version"].clone();
                e["previous_digest"] = e["digest"].clone();
                e["previous_mode"] = "active".into();
                e["mode"] = "disabled".into();
                append(s, "environments/dev.log", &format!("{e}\n"));
            }),
            1,
        ),
    ];
    each_pull_request(&s, &attacks, |name, report, s| {
        assert_eq!(
            error_rules(report),
            BTreeSet::from(["environment-hand-edited".to_string()]),
            "{name}: {report:#}"
        );
        match name {
            "forge who promoted" => {
                let f = error_with(name, report, "environment-hand-edited", "updated_by");
                assert!(
                    f["message"]
                        .as_str()
                        .expect("message")
                        .contains("no event appended to dev.log"),
                    "{f:#}"
                );
                at_line(
                    name,
                    &f,
                    line_of(&s.read("environments/dev.yaml"), "  invoice-matcher:"),
                );
            }
            "an appended event that does not follow from the base" => {
                let f = error_with(name, report, "environment-hand-edited", "1.0.0");
                assert!(
                    f["file"]
                        .as_str()
                        .expect("file")
                        .ends_with("environments/dev.log"),
                    "{f:#}"
                );
                at_line(name, &f, 4);
            }
            _ => {
                let f = error_with(name, report, "environment-hand-edited", "lead-router");
                assert!(
                    f["message"].as_str().expect("message").contains("disabled"),
                    "{f:#}"
                );
            }
        }
    });
}

// ---------------------------------------------------------------------------
// releases/
// ---------------------------------------------------------------------------

const EVALS: &str = "releases/support-triage/1.4.0/evals/triage-accuracy.json";
const SIG: &str = "releases/support-triage/1.4.0/signatures/maya.lindqvist@example.com.sig";

fn released_base() -> Scratch {
    let s = promoted_base();
    let results = s.sandbox.path().join("results.json");
    std::fs::write(
        &results,
        r#"{"suite": "triage-accuracy", "passed": 9, "failed": 1, "errors": 0, "run_at": "2026-11-20T09:00:00Z"}"#,
    )
    .expect("write results");
    s.ok(&[
        "evals",
        "record",
        "support-triage@1.4.0",
        results.to_str().expect("utf-8"),
    ]);
    s.write(
        SIG,
        "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n",
    );
    s.commit_all("an approval");
    s
}

#[test]
fn recorded_evals_and_release_files_are_immutable() {
    let s = released_base();
    assert!(s.read(EVALS).contains("\"passed\": 9"), "{}", s.read(EVALS));
    let attacks: Vec<Attack> = vec![
        (
            "better eval results",
            Box::new(|s: &Scratch| replace_in(s, EVALS, "\"passed\": 9", "\"passed\": 10")),
            1,
        ),
        (
            "forget the eval results",
            Box::new(|s: &Scratch| std::fs::remove_file(s.root.join(EVALS)).expect("rm")),
            1,
        ),
        (
            "a different release record",
            Box::new(|s: &Scratch| {
                append(
                    s,
                    "releases/support-triage/1.4.0/release.yaml",
                    "# reviewed\n",
                )
            }),
            1,
        ),
    ];
    each_pull_request(&s, &attacks, |name, report, _| {
        let f = with_rule(report, "release-modified")
            .into_iter()
            .find(|f| f["severity"] == "error")
            .unwrap_or_else(|| panic!("{name}: no release-modified error: {report:#}"));
        let message = f["message"].as_str().expect("message");
        match name {
            "better eval results" => assert!(
                message.contains("evals/triage-accuracy.json was changed"),
                "{message}"
            ),
            "forget the eval results" => assert!(
                message.contains("evals/triage-accuracy.json was deleted"),
                "{message}"
            ),
            _ => assert!(message.contains("release.yaml"), "{message}"),
        }
        assert!(f["hint"].as_str().is_some(), "{f:#}");
    });
}

#[test]
fn new_eval_records_pass_and_replaced_signatures_warn() {
    let s = released_base();
    let results = s.sandbox.path().join("guardrails.json");
    std::fs::write(
        &results,
        r#"{"suite": "guardrails", "passed": 8, "failed": 0, "errors": 0, "run_at": "2026-11-20T09:00:00Z"}"#,
    )
    .expect("write results");
    let out = s.run(&[
        "evals",
        "record",
        "support-triage@1.4.0",
        results.to_str().expect("utf-8"),
        "--no-commit",
    ]);
    assert_code(&out, 0);
    s.commit_all("guardrails results");
    let report = check_json(&s, "HEAD~1", 0);
    assert!(
        findings(&report)
            .iter()
            .all(|f| f["rule"] != "release-modified"),
        "{report:#}"
    );

    s.git(&["reset", "-q", "--hard", "HEAD~1"]);
    s.write(
        SIG,
        "-----BEGIN SSH SIGNATURE-----\nBBBB\n-----END SSH SIGNATURE-----\n",
    );
    s.commit_all("a fresh approval");
    let report = check_json(&s, "HEAD~1", 0);
    let replaced = with_rule(&report, "signature-replaced");
    assert_eq!(replaced.len(), 1, "{report:#}");
    assert_eq!(replaced[0]["severity"], "warning");
    assert!(
        replaced[0]["file"].as_str().expect("file").ends_with(SIG),
        "{:#}",
        replaced[0]
    );
    assert_code(&check(&s, &["--base", "HEAD~1", "--warnings-as-errors"]), 1);
}

// ---------------------------------------------------------------------------
// .gitattributes
// ---------------------------------------------------------------------------

#[test]
fn attributes_that_change_checked_out_bytes_are_errors() {
    let s = Scratch::new();
    assert!(s.read(".gitattributes").contains("agents/** -text"));
    let attacks: Vec<Attack> = vec![
        (
            "convert agents to CRLF",
            Box::new(|s: &Scratch| {
                replace_in(
                    s,
                    ".gitattributes",
                    "agents/** -text",
                    "agents/** text eol=crlf",
                )
            }),
            1,
        ),
        (
            "normalize everything",
            Box::new(|s: &Scratch| append(s, ".gitattributes", "* text=auto\n")),
            1,
        ),
        (
            "a filter on environments",
            Box::new(|s: &Scratch| append(s, ".gitattributes", "environments/*.yaml filter=lfs\n")),
            1,
        ),
        (
            "drop -text for releases",
            Box::new(|s: &Scratch| replace_in(s, ".gitattributes", "releases/** -text\n", "")),
            1,
        ),
        (
            "a bundle's own attributes",
            Box::new(|s: &Scratch| {
                s.write("agents/support-triage/.gitattributes", "*.j2 ident\n");
            }),
            1,
        ),
    ];
    each_pull_request(&s, &attacks, |name, report, s| {
        let f = error_with(name, report, "gitattributes-changed", "");
        let message = f["message"].as_str().expect("message");
        match name {
            "convert agents to CRLF" => {
                assert!(
                    message.contains("`agents/** -text` → `agents/** text eol=crlf`"),
                    "{message}"
                );
                at_line(name, &f, line_of(&s.read(".gitattributes"), "agents/**"));
            }
            "normalize everything" => {
                assert!(message.contains("`* text=auto` added"), "{message}");
                at_line(name, &f, line_of(&s.read(".gitattributes"), "* text=auto"));
            }
            "a filter on environments" => {
                assert!(message.contains("filter=lfs"), "{message}");
            }
            "drop -text for releases" => {
                assert!(message.contains("`releases/** -text` removed"), "{message}");
            }
            _ => {
                assert!(
                    f["file"]
                        .as_str()
                        .expect("file")
                        .ends_with("agents/support-triage/.gitattributes"),
                    "{f:#}"
                );
                at_line(name, &f, 1);
            }
        }
    });
}

#[test]
fn attributes_elsewhere_or_harmless_pass() {
    let s = Scratch::new();
    append(
        &s,
        ".gitattributes",
        "docs/** text eol=crlf\n*.md diff=markdown\nagents/**/*.md linguist-documentation\n",
    );
    s.commit_all("docs attributes");
    let report = check_json(&s, "HEAD~1", 0);
    assert!(
        messages(&report, "gitattributes-changed").is_empty(),
        "{report:#}"
    );
}

// ---------------------------------------------------------------------------
// Every format
// ---------------------------------------------------------------------------

/// One pull request with every attack at once: each new rule reaches every
/// output format, SARIF validates and describes each rule, and the exit code
/// says no.
#[test]
fn every_rule_reaches_every_format() {
    let s = released_base();
    append(
        &s,
        ".agentctl/allowed_signers",
        &format!("alice@example.com namespaces=\"agentctl\",valid-before=\"20270101\" {KEY_A}\n"),
    );
    s.commit_all("alice signs until 2027");
    // A bad signature blocks promotion (promote counts what verify counts):
    // promote without it, then put it back for the attack below.
    let sig = s.read(SIG);
    std::fs::remove_file(s.root.join(SIG)).expect("rm");
    s.commit_all("drop the placeholder approval");
    s.ok(&["promote", "staging"]);
    s.write(SIG, &sig);
    s.commit_all("an approval");
    // The attack.
    replace_in(
        &s,
        "agentctl.toml",
        "name = \"staging\"\n",
        "name = \"staging\"\npromote_from_previous = false\n",
    );
    replace_in(
        &s,
        ".agentctl/allowed_signers",
        ",valid-before=\"20270101\"",
        "",
    );
    append(
        &s,
        ".agentctl/allowed_signers",
        &format!("bob@example.com {KEY_C}\n"),
    );
    rewrite_line(&s, "environments/staging.log", 1, |l| {
        l.replace("\"op\":1", "\"op\":7")
    });
    replace_in(
        &s,
        "environments/dev.yaml",
        "updated_by: Test User <test@example.com>",
        "updated_by: Bot <bot@example.com>",
    );
    replace_in(&s, EVALS, "\"passed\": 9", "\"passed\": 10");
    s.write(
        SIG,
        "-----BEGIN SSH SIGNATURE-----\nCCCC\n-----END SSH SIGNATURE-----\n",
    );
    append(&s, ".gitattributes", "* text=auto\n");
    s.commit_all("everything at once");

    let rules = [
        "policy-weakened",
        "signer-widened",
        "trust-changed",
        "log-rewritten",
        "environment-hand-edited",
        "release-modified",
        "signature-replaced",
        "gitattributes-changed",
    ];
    let report = check_json(&s, "HEAD~1", 1);
    let used: BTreeSet<String> = findings(&report)
        .iter()
        .map(|f| f["rule"].as_str().expect("rule").to_string())
        .collect();
    for rule in rules {
        assert!(used.contains(rule), "no {rule} in {report:#}");
    }
    for format in ["human", "github", "sarif", "junit", "markdown"] {
        // JUnit lists what fails the gate: warnings only when they do.
        let mut args = vec!["--base", "HEAD~1", "--format", format];
        if format == "junit" {
            args.push("--warnings-as-errors");
        }
        let out = check(&s, &args);
        assert_code(&out, 1);
        let text = stdout(&out);
        for rule in rules {
            assert!(text.contains(rule), "{format} output lacks {rule}:\n{text}");
        }
    }
    let out = check(&s, &["--base", "HEAD~1", "--format", "sarif"]);
    let log = json(&out);
    assert_valid_sarif(&sarif_validator(), &log);
    let described = &log["runs"][0]["tool"]["driver"]["rules"];
    for rule in rules {
        let r = described
            .as_array()
            .expect("rules")
            .iter()
            .find(|r| r["id"] == rule)
            .unwrap_or_else(|| panic!("{rule} not in the SARIF rules"));
        let text = r["shortDescription"]["text"].as_str().expect("description");
        assert_ne!(text, rule, "{rule} has no description in the rule catalog");
    }
    for r in log["runs"][0]["results"].as_array().expect("results") {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .expect("uri");
        assert!(!uri.starts_with('/') && !uri.contains(".."), "{uri}");
    }
}
