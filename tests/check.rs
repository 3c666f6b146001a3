//! `agentctl check`, the CI gate for a pull request, end to end.
//!
//! Every test builds a real git history in a temporary directory (a base
//! commit and a "pull request" on top), runs the built `agentctl` binary with
//! a hermetic environment (tests/common/mod.rs), and checks the exit code and
//! what each output format says: human, JSON, GitHub workflow commands,
//! SARIF 2.1.0 (validated against the vendored OASIS schema), JUnit XML
//! (parsed with roxmltree) and Markdown.

mod common;

use common::checks::*;
use common::*;
use regex::Regex;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const ST_MANIFEST: &str = "agents/support-triage/agent.yaml";
const ST_SYSTEM: &str = "agents/support-triage/prompts/system.md.j2";
const ALL_FORMATS: [&str; 6] = ["human", "json", "github", "sarif", "junit", "markdown"];

/// An AWS access key id shape: AKIA + 16 uppercase alphanumerics.
const AWS_KEY: &str = "AKIAZ7Q2R4T6V8X0B1C3";
/// 40 literal characters assigned to `api_key`.
const API_KEY_VALUE: &str = "Zq8rT2vX9pL4mN7bK1cH5jW3sD6fG0aY2eR8uI4o";
/// A GitHub token shape (ghp_ + 36 alphanumerics).
const GH_TOKEN: &str = "ghp_Abcdefghijklmnopqrstuvwxyz0123456789";
/// A real ed25519 public key (its private half was thrown away).
const NEW_SIGNER_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMyFHsaapNkRzSwPeNCUoGRV+WHdZqGiCzpfS2UCK4Aq";

/// The bundle of one name in a JSON report.
#[track_caller]
fn bundle<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["bundles"]
        .as_array()
        .expect("bundles")
        .iter()
        .find(|b| b["name"] == name)
        .unwrap_or_else(|| panic!("no bundle {name} in {report:#}"))
}

/// Names of the bundles a report checked.
fn bundle_names(report: &Value) -> Vec<String> {
    report["bundles"]
        .as_array()
        .expect("bundles")
        .iter()
        .map(|b| b["name"].as_str().expect("name").to_string())
        .collect()
}

/// A content change to support-triage's system prompt (no version bump).
fn edit_prompt(s: &Scratch) {
    append(
        s,
        ST_SYSTEM,
        "Always write the triage summary in English.\n",
    );
}

/// Copy a directory tree.
fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk");
        let dest = to.join(entry.path().strip_prefix(from).expect("prefix"));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy");
        }
    }
}

/// Assert no output stream of `out` holds `secret` or its tail (the report
/// may show a secret's first four characters, never more).
#[track_caller]
fn assert_no_secret(out: &Output, secret: &str, what: &str) {
    let all = all_output(out);
    let tail = &secret[4..];
    assert!(
        !all.contains(tail),
        "{what}: the secret {secret} (or its tail {tail}) leaked:\n{all}"
    );
}

/// Decode the `%XX` escapes of a GitHub workflow-command property.
fn gh_unescape(s: &str) -> String {
    s.replace("%2C", ",")
        .replace("%3A", ":")
        .replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%25", "%")
}

/// The properties of one `::level props::data` line, unescaped.
fn gh_props(line: &str) -> Vec<(String, String)> {
    let rest = line.strip_prefix("::").expect("starts with ::");
    let (head, _) = rest.split_once("::").expect("has ::data");
    let (_, props) = head.split_once(' ').expect("level and properties");
    props
        .split(',')
        .map(|p| {
            let (k, v) = p.split_once('=').expect("key=value");
            (k.to_string(), gh_unescape(v))
        })
        .collect()
}

fn prop<'a>(props: &'a [(String, String)], key: &str) -> Option<&'a str> {
    props
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Base: prod requires owner + security signatures, Rachel holds `security`.
fn require_prod_roles(s: &Scratch) {
    replace_in(
        s,
        "agentctl.toml",
        "security = []",
        "security = [\"rachel.osei@example.com\"]",
    );
    replace_in(
        s,
        "agentctl.toml",
        "# required_roles = [\"owner\", \"security\"]",
        "required_roles = [\"owner\", \"security\"]",
    );
    s.commit_all("prod needs owner and security signatures");
}

// ---------------------------------------------------------------------------
// 1. Version bump
// ---------------------------------------------------------------------------

/// A backup owner added to a bundle signs as owner from then on: check says
/// so, as it does for a new allowed_signers line (issue 20). A reviewer
/// does not sign, so adding one is no trust change.
#[test]
fn a_new_owner_signer_is_a_trust_change_and_a_reviewer_is_not() {
    let s = Scratch::new();
    s.git(&["checkout", "-q", "-b", "pr"]);
    replace_in(&s, ST_MANIFEST, "version: 1.4.0\n", "version: 1.4.1\n");
    replace_in(
        &s,
        ST_MANIFEST,
        "\nescalation:\n",
        "  - name: Jonas Weber\n    email: jonas.weber@example.com\n    role: backup\n  - name: Lena Park\n    email: lena.park@example.com\n    role: reviewer\n\nescalation:\n",
    );
    s.commit_all("add a backup owner and a reviewer");
    let report = check_json(&s, "main", 0);
    let found = with_rule(&report, "trust-changed");
    assert_eq!(found.len(), 1, "{report:#}");
    let message = found[0]["message"].as_str().expect("message");
    assert!(message.contains("jonas.weber@example.com"), "{message}");
    assert_eq!(
        found[0]["line"],
        line_of(&s.read(ST_MANIFEST), "  - name: Jonas Weber"),
        "{report:#}"
    );
}

/// Semver precedence ignores build metadata: `1.4.0+build.7` is no bump
/// over `1.4.0`, and with 1.4.0 released it is that released version with
/// other content (issue 20).
#[test]
fn build_metadata_is_neither_a_bump_nor_a_new_version() {
    let s = Scratch::new();
    s.ok(&["release", "support-triage"]);
    s.git(&["checkout", "-q", "-b", "pr"]);
    edit_prompt(&s);
    replace_in(
        &s,
        ST_MANIFEST,
        "version: 1.4.0\n",
        "version: 1.4.0+build.7\n",
    );
    s.commit_all("reword the system prompt as 1.4.0+build.7");
    let report = check_json(&s, "main", 1);
    assert_eq!(
        error_rules(&report),
        BTreeSet::from([
            "version-not-bumped".to_string(),
            "version-already-released".to_string()
        ]),
        "{report:#}"
    );
    // `release` agrees: the same version with other content is refused.
    let out = s.run(&["release", "support-triage"]);
    assert_code(&out, 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1.4.0+build.7 is already released as 1.4.0"),
        "{err}"
    );
}

#[test]
fn unbumped_content_change_fails_and_a_bump_passes() {
    let s = Scratch::new();
    s.git(&["checkout", "-q", "-b", "pr"]);
    edit_prompt(&s);
    s.commit_all("reword the system prompt");

    let report = check_json(&s, "main", 1);
    assert_eq!(bundle_names(&report), ["support-triage"], "{report:#}");
    let st = bundle(&report, "support-triage");
    assert_eq!(st["change"], "changed");
    assert_eq!(st["base_version"], "1.4.0");
    assert_eq!(st["version"], "1.4.0");
    assert_eq!(
        error_rules(&report),
        BTreeSet::from(["version-not-bumped".to_string()]),
        "{report:#}"
    );
    let f = &with_rule(&report, "version-not-bumped")[0];
    let version_line = line_of(&s.read(ST_MANIFEST), "version:");
    assert!(
        f["file"].as_str().expect("file").ends_with(ST_MANIFEST),
        "{f:#}"
    );
    assert_eq!(f["line"], version_line, "{f:#}");
    assert_eq!(f["column"], "version: ".len() + 1, "{f:#}");
    assert!(f["hint"].as_str().expect("hint").contains("1.4.1"), "{f:#}");
    assert_eq!(report["summary"]["errors"], 1);

    let human = check(&s, &["--base", "main"]);
    assert_code(&human, 1);
    let text = stdout(&human);
    assert!(text.contains("error[version-not-bumped]"), "{text}");
    assert!(
        text.contains(&format!("{ST_MANIFEST}:{version_line}:10")),
        "{text}"
    );

    s.set_version("support-triage", "1.4.0", "1.4.1");
    s.commit_all("bump support-triage");
    let report = check_json(&s, "main", 0);
    let st = bundle(&report, "support-triage");
    assert_eq!(st["change"], "changed");
    assert_eq!(st["base_version"], "1.4.0");
    assert_eq!(st["version"], "1.4.1");
    assert!(error_rules(&report).is_empty(), "{report:#}");
    assert_code(&check(&s, &["--base", "main"]), 0);
}

// ---------------------------------------------------------------------------
// 2. A new bundle
// ---------------------------------------------------------------------------

#[test]
fn brand_new_bundle_passes_without_a_base_version() {
    let s = Scratch::new();
    copy_tree(
        &s.root.join("agents/support-triage"),
        &s.root.join("agents/new-agent"),
    );
    replace_in(
        &s,
        "agents/new-agent/agent.yaml",
        "\nname: support-triage\n",
        "\nname: new-agent\n",
    );
    s.commit_all("add new-agent");

    let report = check_json(&s, "HEAD~1", 0);
    assert_eq!(bundle_names(&report), ["new-agent"], "{report:#}");
    let b = bundle(&report, "new-agent");
    assert_eq!(b["change"], "added");
    assert!(b["base_version"].is_null(), "{b:#}");
    assert_eq!(b["version"], "1.4.0");
    let checks: Vec<&str> = b["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| c["check"].as_str().expect("check"))
        .collect();
    assert_eq!(checks, ["validate", "version", "secrets", "policy"]);
    assert!(error_rules(&report).is_empty(), "{report:#}");
    assert_eq!(report["summary"]["errors"], 0);
    assert_eq!(report["summary"]["bundles"], 1);

    let human = check(&s, &["--base", "HEAD~1"]);
    assert_code(&human, 0);
    assert!(
        stdout(&human).contains("new-agent (added, 1.4.0): ok"),
        "{}",
        describe(&human)
    );
}

// ---------------------------------------------------------------------------
// 3. Secrets
// ---------------------------------------------------------------------------

#[test]
fn secrets_fail_with_rule_line_column_and_never_leak() {
    let s = Scratch::new();
    let base_lines = s.read(ST_SYSTEM).lines().count() as u64;
    append(
        &s,
        ST_SYSTEM,
        &format!("Use the key {AWS_KEY} for the bucket.\n  api_key: \"{API_KEY_VALUE}\"\n"),
    );
    // Bump, so the secrets are the only errors.
    s.set_version("support-triage", "1.4.0", "1.4.1");
    s.commit_all("prompt with credentials");
    // The test is only meaningful if the secrets are really in the bundle.
    assert!(s.read(ST_SYSTEM).contains(AWS_KEY) && s.read(ST_SYSTEM).contains(API_KEY_VALUE));

    let report = check_json(&s, "HEAD~1", 1);
    assert_eq!(
        error_rules(&report),
        BTreeSet::from([
            "secret-assignment".to_string(),
            "secret-cloud-key".to_string()
        ]),
        "{report:#}"
    );
    for (rule, line, redacted) in [
        ("secret-cloud-key", base_lines + 1, "[redacted, 20 chars]"),
        ("secret-assignment", base_lines + 2, "[redacted, 40 chars]"),
    ] {
        let fs = with_rule(&report, rule);
        assert_eq!(fs.len(), 1, "{rule}: {fs:#?}");
        let f = &fs[0];
        assert!(
            f["file"].as_str().expect("file").ends_with(ST_SYSTEM),
            "{f:#}"
        );
        assert_eq!(f["line"], line, "{f:#}");
        assert_eq!(f["column"], 13, "{f:#}");
        assert!(
            f["message"].as_str().expect("message").contains(redacted),
            "{f:#}"
        );
    }

    for format in ALL_FORMATS {
        let out = check(&s, &["--base", "HEAD~1", "--format", format]);
        assert_code(&out, 1);
        assert_no_secret(&out, AWS_KEY, format);
        assert_no_secret(&out, API_KEY_VALUE, format);
        let text = stdout(&out);
        match format {
            "human" => {
                // The snippet masks the secret; the diff masks it too.
                assert!(text.contains("[REDACTED]"), "{text}");
                assert!(text.contains("AKIA…[redacted, 20 chars]"), "{text}");
                assert!(
                    text.contains(&format!("{ST_SYSTEM}:{}:13", base_lines + 1)),
                    "{text}"
                );
            }
            "json" => assert!(text.contains("[redacted, 40 chars]"), "{text}"),
            "github" => assert!(
                text.contains(&format!(
                    "file={ST_SYSTEM},line={},col=13,title=agentctl secret-cloud-key::",
                    base_lines + 1
                )),
                "{text}"
            ),
            _ => assert!(text.contains("redacted"), "{format}: {text}"),
        }
    }
}

#[test]
fn two_secrets_on_one_line_are_both_masked_in_human_output() {
    let s = Scratch::new();
    append(
        &s,
        ST_SYSTEM,
        &format!("keys {AWS_KEY} and {GH_TOKEN} here\n"),
    );
    s.set_version("support-triage", "1.4.0", "1.4.1");
    s.commit_all("two credentials on one line");

    let report = check_json(&s, "HEAD~1", 1);
    assert_eq!(
        error_rules(&report),
        BTreeSet::from([
            "secret-cloud-key".to_string(),
            "secret-vcs-token".to_string()
        ]),
        "{report:#}"
    );
    let out = check(&s, &["--base", "HEAD~1"]);
    assert_code(&out, 1);
    assert_no_secret(&out, AWS_KEY, "human");
    assert_no_secret(&out, GH_TOKEN, "human");
}

/// Regression: a secret in a manifest field used to be printed in clear by
/// the semantic diff's change summary (and before/after in JSON).
#[test]
fn secret_in_a_manifest_field_never_leaks_through_the_diff() {
    let webhook = "https://hooks.slack.com/services/T0ABCDEFG/B0HIJKLMN/q1w2e3r4t5y6u7i8o9p0zxcv";
    let s = Scratch::new();
    replace_in(
        &s,
        ST_MANIFEST,
        "      notify: \"#support-ops-alerts\"\n      message: Support agents",
        &format!("      notify: \"{webhook}\"\n      message: Support agents"),
    );
    s.set_version("support-triage", "1.4.0", "1.4.1");
    s.commit_all("alert straight to a webhook");

    let report = check_json(&s, "HEAD~1", 1);
    assert_eq!(
        with_rule(&report, "secret-chat-token").len(),
        1,
        "{report:#}"
    );
    let secret_tail = "q1w2e3r4t5y6u7i8o9p0zxcv";
    for format in ALL_FORMATS {
        let out = check(&s, &["--base", "HEAD~1", "--format", format]);
        assert_code(&out, 1);
        assert!(
            !all_output(&out).contains(secret_tail),
            "{format}: the webhook leaked:\n{}",
            all_output(&out)
        );
    }
}

// ---------------------------------------------------------------------------
// 4. GitHub workflow commands
// ---------------------------------------------------------------------------

#[test]
fn github_annotations_follow_workflow_command_syntax() {
    let s = Scratch::new();
    let odd_file = "agents/support-triage/docs/100%,a:b.md";
    // Unbumped change, a finding in a file whose name needs escaping, and a
    // message holding `%`, `,` and `:` (a missing prompt file).
    edit_prompt(&s);
    s.write(odd_file, "token: Zq8rT2vX9pL4mN7bK1\n");
    replace_in(
        &s,
        ST_MANIFEST,
        "file: prompts/rules.md.j2",
        "file: \"prompts/50%,off:x.md.j2\"",
    );
    s.commit_all("pr");

    let out = check(&s, &["--base", "HEAD~1", "--format", "github"]);
    assert_code(&out, 1);
    let text = stdout(&out);
    let syntax =
        Regex::new(r"^::(error|warning) file=[^,:]+(,line=\d+,col=\d+)?,title=[^:,]+::.+$")
            .expect("regex");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    for line in &lines {
        assert!(syntax.is_match(line), "not a workflow command: {line:?}");
        // Every `%` starts one of the escapes src/report/ci.rs writes.
        for (i, _) in line.match_indices('%') {
            let escape = line.get(i..i + 3).unwrap_or("");
            assert!(
                ["%25", "%0D", "%0A", "%3A", "%2C"].contains(&escape),
                "unescaped % at {i}: {line:?}"
            );
        }
        assert!(!line.contains('\r'), "raw CR: {line:?}");
    }

    let find = |rule: &str| -> Vec<&str> {
        lines
            .iter()
            .copied()
            .filter(|l| prop(&gh_props(l), "title") == Some(&format!("agentctl {rule}")))
            .collect()
    };
    let version = find("version-not-bumped");
    assert_eq!(version.len(), 1, "{text}");
    assert!(version[0].starts_with("::error "), "{}", version[0]);
    let props = gh_props(version[0]);
    let version_line = line_of(&s.read(ST_MANIFEST), "version:").to_string();
    assert_eq!(prop(&props, "file"), Some(ST_MANIFEST));
    assert_eq!(prop(&props, "line"), Some(version_line.as_str()));
    assert_eq!(prop(&props, "col"), Some("10"));
    // The hint is on a second line of the message: an escaped LF.
    assert!(
        version[0].contains("%0Ahint: bump `version`"),
        "{}",
        version[0]
    );

    let secret = find("secret-assignment");
    assert_eq!(secret.len(), 1, "{text}");
    assert!(
        secret[0]
            .starts_with("::error file=agents/support-triage/docs/100%25%2Ca%3Ab.md,line=1,col=8,"),
        "{}",
        secret[0]
    );
    assert_eq!(prop(&gh_props(secret[0]), "file"), Some(odd_file));

    let missing = find("file-missing");
    assert_eq!(missing.len(), 1, "{text}");
    let data = missing[0]
        .split_once("::")
        .and_then(|(_, r)| r.split_once("::"))
        .expect("data")
        .1;
    assert!(data.contains("`prompts/50%25,off:x.md.j2`"), "{data}");
}

// ---------------------------------------------------------------------------
// 5. SARIF
// ---------------------------------------------------------------------------

#[test]
fn sarif_validates_and_locates_every_result() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    // The PR: an unbumped change with a secret to a released version, a
    // released file modified, and a new signer role holder.
    append(
        &s,
        ST_SYSTEM,
        &format!("Use the key {AWS_KEY} for the bucket.\n"),
    );
    let released = "releases/lead-router/2.1.0/bundle/docs/faq.md";
    append(&s, released, "tampered\n");
    replace_in(
        &s,
        "agentctl.toml",
        "security = []",
        "security = [\"mallory@example.com\"]",
    );
    s.commit_all("pr");

    let out = check(&s, &["--base", "HEAD~1", "--format", "sarif"]);
    assert_code(&out, 1);
    assert_no_secret(&out, AWS_KEY, "sarif");
    let log = json(&out);
    let validator = sarif_validator();
    assert_valid_sarif(&validator, &log);
    // The validator is not vacuous: a wrong version is refused.
    let mut broken = log.clone();
    broken["version"] = "2.0.0".into();
    assert!(
        !validator.is_valid(&broken),
        "the schema accepted version 2.0.0"
    );

    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "agentctl");
    let rules: Vec<&str> = driver["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["id"].as_str().expect("rule id"))
        .collect();
    let results = runs[0]["results"].as_array().expect("results");
    let used: BTreeSet<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().expect("ruleId"))
        .collect();
    for rule in [
        "version-not-bumped",
        "version-already-released",
        "secret-cloud-key",
        "release-modified",
        "trust-changed",
    ] {
        assert!(used.contains(rule), "no {rule} result: {used:?}");
    }
    for r in results {
        let id = r["ruleId"].as_str().expect("ruleId");
        assert!(
            rules.contains(&id),
            "{id} is not in tool.driver.rules {rules:?}"
        );
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules.get(index), Some(&id), "ruleIndex of {r:#}");
        let level = if id == "trust-changed" {
            "warning"
        } else {
            "error"
        };
        assert_eq!(r["level"], level, "{r:#}");
        let physical = &r["locations"][0]["physicalLocation"];
        let uri = physical["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(
            !uri.starts_with('/') && !uri.contains(":/") && !uri.contains(".."),
            "{uri}"
        );
        assert!(
            s.root.join(uri).exists(),
            "{uri} is not a path in the repository"
        );
        let region = &physical["region"];
        if id == "release-modified" {
            // About a whole file or release: no position to give.
            continue;
        }
        assert!(
            region["startLine"].as_u64().is_some_and(|l| l >= 1),
            "{r:#}"
        );
        assert!(
            region["startColumn"].as_u64().is_some_and(|c| c >= 1),
            "{r:#}"
        );
    }
    let by_rule = |id: &str| results.iter().find(|r| r["ruleId"] == id).expect("result");
    let v = &by_rule("version-not-bumped")["locations"][0]["physicalLocation"];
    assert_eq!(v["artifactLocation"]["uri"], ST_MANIFEST);
    assert_eq!(
        v["region"]["startLine"],
        line_of(&s.read(ST_MANIFEST), "version:")
    );
    let t = &by_rule("trust-changed")["locations"][0]["physicalLocation"];
    assert_eq!(t["artifactLocation"]["uri"], "agentctl.toml");
}

// ---------------------------------------------------------------------------
// 6. JUnit
// ---------------------------------------------------------------------------

#[test]
fn junit_is_well_formed_with_true_counts() {
    let s = Scratch::new();
    // support-triage: unbumped; lead-router: bumped but holds a secret;
    // staging.yaml: a pin no log entry explains.
    edit_prompt(&s);
    append(
        &s,
        "agents/lead-router/docs/faq.md",
        &format!("token: {GH_TOKEN}\n"),
    );
    s.set_version("lead-router", "2.1.0", "2.2.0");
    s.write(
        "environments/staging.yaml",
        "agents:\n  support-triage:\n    version: \"1.4.0\"\n    digest: sha256:7010420cf301b4392fe0bab2451b0b9493bba356155e6cf73aacfac99c4a319f\n    mode: active\n    updated_at: \"2026-11-21T10:00:00Z\"\n    updated_by: Test User <test@example.com>\n",
    );
    s.commit_all("pr");

    let report = check_json(&s, "HEAD~1", 1);
    assert_eq!(bundle_names(&report), ["lead-router", "support-triage"]);
    let out = check(&s, &["--base", "HEAD~1", "--format", "junit"]);
    assert_code(&out, 1);
    assert_no_secret(&out, GH_TOKEN, "junit");
    let text = stdout(&out);
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("JUnit output is not XML ({e}):\n{text}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let attr = |n: roxmltree::Node, a: &str| -> usize {
        n.attribute(a)
            .unwrap_or_else(|| panic!("no {a} on {n:?}"))
            .parse()
            .expect("a count")
    };
    let suites: Vec<roxmltree::Node> = root.children().filter(|n| n.is_element()).collect();
    assert!(suites.iter().all(|n| n.has_tag_name("testsuite")));
    let names: Vec<&str> = suites
        .iter()
        .map(|n| n.attribute("name").expect("name"))
        .collect();
    assert_eq!(
        names,
        ["agents/lead-router", "agents/support-triage", "repository"]
    );

    let (mut total_tests, mut total_failures) = (0, 0);
    let mut failing: Vec<String> = Vec::new();
    for suite in &suites {
        let cases: Vec<roxmltree::Node> = suite.children().filter(|n| n.is_element()).collect();
        assert!(
            cases.iter().all(|n| n.has_tag_name("testcase")),
            "{suite:?}"
        );
        let failed: Vec<&roxmltree::Node> = cases
            .iter()
            .filter(|c| c.children().any(|f| f.has_tag_name("failure")))
            .collect();
        assert_eq!(attr(*suite, "tests"), cases.len(), "tests of {names:?}");
        assert_eq!(
            attr(*suite, "failures"),
            failed.len(),
            "failures of {names:?}"
        );
        let suite_name = suite.attribute("name").expect("name");
        if suite_name != "repository" {
            let case_names: Vec<&str> = cases
                .iter()
                .map(|c| c.attribute("name").expect("name"))
                .collect();
            assert_eq!(
                case_names,
                ["validate", "version", "secrets", "policy"],
                "{suite_name}"
            );
        } else {
            assert_eq!(cases.len(), 1);
        }
        total_tests += cases.len();
        total_failures += failed.len();
        for c in failed {
            failing.push(format!(
                "{suite_name}/{}",
                c.attribute("name").expect("name")
            ));
        }
    }
    assert_eq!(attr(root, "tests"), total_tests);
    assert_eq!(attr(root, "failures"), total_failures);
    assert_eq!(total_tests, 9);
    assert_eq!(
        failing,
        [
            "agents/lead-router/secrets",
            "agents/support-triage/version",
            "repository/policy, trust and hand edits"
        ]
    );
    // The same verdicts as the JSON report: a check fails iff it has an error.
    for b in report["bundles"].as_array().expect("bundles") {
        for c in b["checks"].as_array().expect("checks") {
            let has_error = c["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .any(|f| f["severity"] == "error");
            let id = format!(
                "{}/{}",
                b["path"].as_str().expect("path"),
                c["check"].as_str().expect("check")
            );
            assert_eq!(failing.contains(&id), has_error, "{id}");
        }
    }
}

// ---------------------------------------------------------------------------
// 7. --output
// ---------------------------------------------------------------------------

#[test]
fn output_file_gets_sarif_while_stdout_gets_the_human_report() {
    let s = Scratch::new();
    edit_prompt(&s);
    s.commit_all("pr");
    let file = s.sandbox.path().join("check.sarif");
    let out = check(
        &s,
        &[
            "--base",
            "HEAD~1",
            "--format",
            "sarif",
            "--output",
            file.to_str().expect("utf-8"),
        ],
    );
    assert_code(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains("support-triage (changed, 1.4.0): 1 finding(s)"),
        "{text}"
    );
    assert!(text.contains("error[version-not-bumped]"), "{text}");
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "stdout is JSON:\n{text}"
    );
    assert!(
        stderr(&out).contains("wrote the sarif report to"),
        "{}",
        stderr(&out)
    );

    let written = std::fs::read_to_string(&file).expect("the --output file exists");
    let log: Value = serde_json::from_str(&written).expect("the --output file is JSON");
    assert_valid_sarif(&sarif_validator(), &log);
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{log:#}");
    assert_eq!(results[0]["ruleId"], "version-not-bumped");
}

// ---------------------------------------------------------------------------
// 8. Shallow clones
// ---------------------------------------------------------------------------

/// A repository with several commits, cloned `--depth 1`; returns the clone.
fn shallow_clone(s: &Scratch) -> std::path::PathBuf {
    // Commits outside what agentctl checks, so only history differs.
    for i in 1..=3 {
        append(s, "notes.txt", &format!("Note {i}.\n"));
        s.commit_all(&format!("note {i}"));
    }
    let url = format!("file://{}", s.root.display());
    s.sandbox.git(
        s.sandbox.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let clone = s.sandbox.path().join("shallow");
    assert_eq!(
        s.sandbox
            .git(&clone, &["rev-parse", "--is-shallow-repository"]),
        "true"
    );
    assert_eq!(commit_count(&s.sandbox, &clone), 1);
    clone
}

#[test]
fn shallow_clone_without_the_base_exits_2_with_a_fetch_hint() {
    let s = Scratch::new();
    let clone = shallow_clone(&s);
    // The base exists in the origin, so these fail only for shallowness.
    s.git(&["rev-parse", "--verify", "-q", "HEAD~3"]);

    let out = s
        .sandbox
        .agentctl(&clone, &["check", "--base", "origin/some-missing-branch"]);
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("origin/some-missing-branch"), "{err}");
    assert!(
        err.contains("hint:") && err.contains("git fetch") && err.contains("some-missing-branch"),
        "{err}"
    );
    assert!(stdout(&out).is_empty(), "{}", describe(&out));

    let out = s
        .sandbox
        .agentctl(&clone, &["check", "--base", "HEAD~3", "--format", "sarif"]);
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("HEAD~3"), "{err}");
    assert!(err.contains("hint:") && err.contains("git fetch"), "{err}");
    assert!(
        stdout(&out).is_empty(),
        "no report on a usage error: {}",
        describe(&out)
    );
}

#[test]
fn shallow_base_with_no_merge_base_exits_2_with_a_deepen_hint() {
    let s = Scratch::new();
    // A feature branch that forked before the last commits of main.
    s.git(&["branch", "feature", "HEAD"]);
    let clone = shallow_clone(&s);
    s.git(&["checkout", "-q", "feature"]);
    append(&s, "agents/invoice-matcher/docs/faq.md", "Feature note.\n");
    s.commit_all("feature");
    s.git(&["checkout", "-q", "main"]);
    s.sandbox.git(
        &clone,
        &[
            "fetch",
            "-q",
            "--depth",
            "1",
            "origin",
            "feature:refs/remotes/origin/feature",
        ],
    );

    let out = s
        .sandbox
        .agentctl(&clone, &["check", "--base", "origin/feature"]);
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("share no history"), "{err}");
    assert!(err.contains("hint:") && err.contains("--deepen"), "{err}");
    // The full clone has the history: the same check runs there.
    assert_code(&s.run(&["check", "--base", "feature"]), 0);
}

/// Regression: the hint for a missing `HEAD~3` used to be the invalid
/// refspec `origin HEAD~3:refs/remotes/origin/HEAD~3`.
#[test]
fn following_the_hint_for_a_relative_base_works() {
    let s = Scratch::new();
    let clone = shallow_clone(&s);
    let out = s.sandbox.agentctl(&clone, &["check", "--base", "HEAD~3"]);
    assert_code(&out, 2);
    let err = stderr(&out);
    let command = err
        .split_once("hint:")
        .and_then(|(_, h)| h.split('`').nth(1))
        .unwrap_or_else(|| panic!("no `command` in the hint: {err}"));
    let args: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(args.first(), Some(&"git"), "{command}");
    let fetched = s.sandbox.git_output(&clone, &args[1..]);
    assert!(
        fetched.status.success(),
        "the hinted `{command}` failed:\n{}",
        describe(&fetched)
    );
    assert_code(
        &s.sandbox.agentctl(&clone, &["check", "--base", "HEAD~3"]),
        0,
    );
}

// ---------------------------------------------------------------------------
// 9. Policy and trust
// ---------------------------------------------------------------------------

/// The SHA-256 fingerprint of NEW_SIGNER_KEY.
const NEW_SIGNER_FP: &str = "SHA256:F4rrkfceCogO64K9LzqjadTOC0u3+We6WjRM/FBjpb0";

/// PR: a new signer (no gate lowered). Returns the signer's line.
fn widen_trust(s: &Scratch) -> u64 {
    append(
        s,
        ".agentctl/allowed_signers",
        &format!("mallory@example.com namespaces=\"agentctl\" {NEW_SIGNER_KEY}\n"),
    );
    s.commit_all("add a signer");
    s.read(".agentctl/allowed_signers").lines().count() as u64
}

/// Base: prod requires roles. PR: the roles removed, a new signer added.
fn weaken_policy_and_trust(s: &Scratch) -> u64 {
    require_prod_roles(s);
    replace_in(
        s,
        "agentctl.toml",
        "required_roles = [\"owner\", \"security\"]\n",
        "",
    );
    widen_trust(s)
}

#[test]
fn weakened_policy_is_an_error_and_widened_trust_a_high_risk_warning() {
    let s = Scratch::new();
    let signer_line = weaken_policy_and_trust(&s);

    let report = check_json(&s, "HEAD~1", 1);
    assert_eq!(report["summary"]["errors"], 2);
    let weakened = with_rule(&report, "policy-weakened");
    let messages: BTreeSet<&str> = weakened
        .iter()
        .map(|f| f["message"].as_str().expect("message"))
        .collect();
    assert_eq!(
        messages,
        BTreeSet::from([
            "prod: required role `owner` removed",
            "prod: required role `security` removed",
        ]),
        "{report:#}"
    );
    // The required_roles line is gone: the findings point at prod's name.
    let prod_line = line_of(&s.read("agentctl.toml"), "name = \"prod\"");
    for f in &weakened {
        assert_eq!(f["severity"], "error");
        assert!(
            f["file"].as_str().expect("file").ends_with("agentctl.toml"),
            "{f:#}"
        );
        assert_eq!(f["line"], prod_line, "{f:#}");
    }
    let trust = with_rule(&report, "trust-changed");
    assert_eq!(trust.len(), 1, "{report:#}");
    assert_eq!(trust[0]["severity"], "warning");
    assert_eq!(
        trust[0]["message"],
        format!("high risk: signer mallory@example.com added with key {NEW_SIGNER_FP}")
    );
    assert!(
        trust[0]["file"]
            .as_str()
            .expect("file")
            .ends_with(".agentctl/allowed_signers"),
        "{:#}",
        trust[0]
    );
    assert_eq!(trust[0]["line"], signer_line);
    assert_eq!(report["summary"]["warnings"], 1);

    let github = check(&s, &["--base", "HEAD~1", "--format", "github"]);
    assert_code(&github, 1);
    let text = stdout(&github);
    assert!(
        text.contains(&format!(
            "::error file=agentctl.toml,line={prod_line},col=1,title=agentctl policy-weakened::prod: required role `owner` removed%0Ahint: "
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("::warning file=.agentctl/allowed_signers,line={signer_line},col=1,title=agentctl trust-changed::high risk: signer mallory@example.com added with key {NEW_SIGNER_FP}")),
        "{text}"
    );

    let human = check(&s, &["--base", "HEAD~1"]);
    assert_code(&human, 1);
    assert!(
        stdout(&human).contains("error[policy-weakened]"),
        "{}",
        describe(&human)
    );
}

#[test]
fn a_trust_change_alone_warns_and_fails_only_with_warnings_as_errors() {
    let s = Scratch::new();
    widen_trust(&s);
    let report = check_json(&s, "HEAD~1", 0);
    assert_eq!(report["summary"]["errors"], 0);
    assert_eq!(with_rule(&report, "trust-changed").len(), 1, "{report:#}");
    let strict = check(&s, &["--base", "HEAD~1", "--warnings-as-errors"]);
    assert_code(&strict, 1);
    assert!(
        stdout(&strict).contains("warning[trust-changed]"),
        "{}",
        describe(&strict)
    );
}

#[test]
fn policy_preview_alone_never_fails_even_with_warnings_as_errors() {
    let s = Scratch::new();
    require_prod_roles(&s);
    edit_prompt(&s);
    s.set_version("support-triage", "1.4.0", "1.4.1");
    s.commit_all("pr");
    let report = check_json(&s, "HEAD~1", 0);
    let preview = with_rule(&report, "policy-preview");
    assert_eq!(preview.len(), 1, "{report:#}");
    assert!(
        preview[0]["message"]
            .as_str()
            .expect("message")
            .starts_with("prod needs signatures from owner + security"),
        "{:#}",
        preview[0]
    );
    assert!(
        findings(&report)
            .iter()
            .all(|f| f["rule"] == "policy-preview"),
        "{report:#}"
    );
    assert_code(&check(&s, &["--base", "HEAD~1", "--warnings-as-errors"]), 0);
}

#[test]
fn repository_findings_have_repo_relative_paths_from_a_subdirectory() {
    let s = Scratch::new();
    weaken_policy_and_trust(&s);
    let out = s.sandbox.agentctl(
        &s.root.join("agents"),
        &["check", "--base", "HEAD~1", "--format", "github"],
    );
    assert_code(&out, 1);
    let files: BTreeSet<String> = stdout(&out)
        .lines()
        .filter_map(|l| prop(&gh_props(l), "file").map(str::to_string))
        .collect();
    assert_eq!(
        files,
        BTreeSet::from([
            "agentctl.toml".to_string(),
            ".agentctl/allowed_signers".to_string()
        ])
    );
}

// ---------------------------------------------------------------------------
// 10. Hand edits
// ---------------------------------------------------------------------------

#[test]
fn hand_edited_environment_and_modified_release_are_errors() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    assert_eq!(s.head_subject(), "promote 3 agents → dev");
    // The base itself is clean.
    assert_code(&check(&s, &["--base", "HEAD"]), 0);

    // PR 1: the dev pin edited by hand.
    replace_in(
        &s,
        "environments/dev.yaml",
        "version: \"1.4.0\"",
        "version: \"1.3.9\"",
    );
    s.commit_all("pin an older support-triage by hand");
    let report = check_json(&s, "HEAD~1", 1);
    assert_eq!(
        error_rules(&report),
        BTreeSet::from(["environment-hand-edited".to_string()])
    );
    let f = &with_rule(&report, "environment-hand-edited")[0];
    assert!(
        f["file"]
            .as_str()
            .expect("file")
            .ends_with("environments/dev.yaml"),
        "{f:#}"
    );
    assert_eq!(
        f["line"],
        line_of(&s.read("environments/dev.yaml"), "  support-triage:")
    );
    let message = f["message"].as_str().expect("message");
    assert!(
        message.contains("support-triage 1.3.9") && message.contains("dev.log"),
        "{message}"
    );

    // PR 2: one byte of a released file changed.
    s.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let released = "releases/support-triage/1.4.0/bundle/prompts/system.md.j2";
    let path = s.root.join(released);
    let mut bytes = std::fs::read(&path).expect("read released file");
    let at = bytes.iter().position(|b| *b == b'a').expect("an `a`");
    bytes[at] = b'A';
    std::fs::write(&path, bytes).expect("write released file");
    s.commit_all("fix a typo in a release");
    let report = check_json(&s, "HEAD~1", 1);
    assert_eq!(
        error_rules(&report),
        BTreeSet::from(["release-modified".to_string()])
    );
    let modified = with_rule(&report, "release-modified");
    assert!(
        modified
            .iter()
            .any(|f| f["file"].as_str().expect("file").ends_with(released)
                && f["message"]
                    .as_str()
                    .expect("message")
                    .contains("immutable")),
        "{modified:#?}"
    );
    assert!(
        modified.iter().any(|f| f["message"]
            .as_str()
            .expect("message")
            .contains("support-triage@1.4.0 was modified")),
        "{modified:#?}"
    );
    let human = check(&s, &["--base", "HEAD~1"]);
    assert_code(&human, 1);
    assert!(
        stdout(&human).contains("error[release-modified]"),
        "{}",
        describe(&human)
    );
}

// ---------------------------------------------------------------------------
// 11. Completions and man page
// ---------------------------------------------------------------------------

#[test]
fn completions_and_man_page() {
    let sb = Sandbox::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = sb.agentctl(sb.path(), &["completions", shell]);
        assert_code(&out, 0);
        let text = stdout(&out);
        assert!(text.contains("agentctl"), "{shell}: {text}");
        assert!(
            text.contains("check"),
            "{shell} completions lack the check command"
        );
    }
    let out = sb.agentctl(sb.path(), &["man"]);
    assert_code(&out, 0);
    let roff = stdout(&out);
    assert!(
        roff.starts_with(".TH") || roff.contains(".SH NAME"),
        "{roff}"
    );
    assert!(roff.contains("agentctl"), "{roff}");
}

/// Output into a closed pipe (`agentctl completions bash | head -1`) ends
/// quietly with success instead of a panic or an I/O error; the demo still
/// builds its whole scratch repository.
#[test]
fn output_into_a_closed_pipe_does_not_panic() {
    let sb = Sandbox::new();
    let demo = sb.path().join("demo");
    let demo_dir = demo.to_str().expect("utf-8");
    for args in [
        &["completions", "bash"][..],
        &["man"][..],
        &["demo", "--dir", demo_dir][..],
    ] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = sb
            .agentctl_cmd(sb.path(), args)
            .stdout(writer)
            .output()
            .expect("run agentctl");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    }
    let prod = std::fs::read_to_string(demo.join("environments/prod.yaml")).expect("prod");
    assert!(prod.contains("support-triage"), "{prod}");
}

/// With --warnings-as-errors the JUnit report fails the same test cases the
/// exit code does: the repository suite fails on a trust change.
#[test]
fn junit_agrees_with_warnings_as_errors() {
    let s = Scratch::new();
    widen_trust(&s);
    for (strict, failures) in [(false, "0"), (true, "1")] {
        let mut args = vec!["--base", "HEAD~1", "--format", "junit"];
        if strict {
            args.push("--warnings-as-errors");
        }
        let out = check(&s, &args);
        assert_code(&out, if strict { 1 } else { 0 });
        let xml = stdout(&out);
        let doc = roxmltree::Document::parse(&xml).expect("well-formed JUnit");
        let repo_suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some("repository"))
            .expect("repository suite");
        assert_eq!(
            repo_suite.attribute("failures"),
            Some(failures),
            "strict={strict}\n{xml}"
        );
    }
}
