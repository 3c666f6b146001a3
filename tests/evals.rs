//! `agentctl evals record` checks the numbers it binds to a release, and the
//! eval gate checks the records it reads: real binary, real git repositories
//! in temporary directories, the example agents and their suite files.
//!
//! A results file whose counts overflow, exceed the bounds, add up to no
//! cases, or cover fewer cases than the suite file declares is bad input
//! (exit 2, nothing written); a stored record like that fails the gate
//! (exit 1) with a message naming the file and the field.

mod common;

use common::{Scratch, assert_code, describe, json, stderr};
use std::path::Path;

const RELEASE: &str = "support-triage@1.4.0";
const TRIAGE_RECORD: &str = "releases/support-triage/1.4.0/evals/triage-accuracy.json";

/// The example agents released to dev and staging, under the examples'
/// agentctl.toml (prod requires evals).
fn released() -> Scratch {
    let s = Scratch::new();
    examples_config(&s);
    s.ok(&["promote", "dev"]);
    s.ok(&["promote", "staging"]);
    s
}

fn examples_config(s: &Scratch) {
    let cfg = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/agentctl.toml"),
    )
    .expect("examples config");
    s.write("agentctl.toml", &cfg);
    s.commit_all("examples config");
}

/// Write a results file next to the repository; returns its path.
fn results(s: &Scratch, name: &str, text: &str) -> String {
    let path = s.root.join("..").join(name);
    std::fs::write(&path, text).expect("write results");
    path.to_str().expect("utf-8").to_string()
}

/// `evals record`, which must refuse with exit 2 and write nothing; returns stderr.
#[track_caller]
fn refused(s: &Scratch, file: &str, extra: &[&str]) -> String {
    let before = s.snapshot();
    let mut args = vec!["evals", "record", RELEASE, file];
    args.extend_from_slice(extra);
    let out = s.run(&args);
    assert_code(&out, 2);
    assert_eq!(s.snapshot(), before, "a refused record wrote something");
    let err = stderr(&out);
    assert!(err.contains(file), "names the file: {}", describe(&out));
    err
}

/// The evals gate of a dry-run promotion of support-triage to prod.
#[track_caller]
fn evals_gate(s: &Scratch) -> serde_json::Value {
    let out = s.run(&[
        "promote",
        "prod",
        "support-triage",
        "--dry-run",
        "--format",
        "json",
    ]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        describe(&out)
    );
    json(&out)["moves"][0]["gates"]
        .as_array()
        .expect("gates")
        .iter()
        .find(|g| g["gate"] == "evals")
        .cloned()
        .expect("an evals gate")
}

/// How many cases an example suite file declares: its top-level list items.
fn example_cases(agent: &str, file: &str) -> usize {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/agents")
            .join(agent)
            .join(file),
    )
    .expect("example suite");
    text.lines().filter(|l| l.starts_with("- ")).count()
}

#[test]
fn counts_that_overflow_or_exceed_the_bounds_are_refused_naming_the_field() {
    let s = released();
    // The report that showed "pass rate 183.3%": 11 + (2^64 - 5) wraps to 6.
    let f = results(
        &s,
        "wrap.json",
        r#"{"suite": "triage-accuracy", "passed": 11, "failed": 18446744073709551611, "errors": 0}"#,
    );
    let err = refused(&s, &f, &[]);
    assert!(err.contains("`failed`"), "{err}");
    assert!(err.contains("10000000"), "{err}");

    let f = results(
        &s,
        "wrap-promptfoo.json",
        r#"{"results": {"stats": {"successes": 11, "failures": 18446744073709551611, "errors": 0}, "results": []}}"#,
    );
    let err = refused(&s, &f, &["--suite", "triage-accuracy"]);
    assert!(err.contains("`results.stats.failures`"), "{err}");

    // Over the per-suite bound in total, though each field is under it.
    let f = results(
        &s,
        "big.json",
        r#"{"suite": "triage-accuracy", "passed": 6000000, "failed": 4000000, "errors": 1}"#,
    );
    let err = refused(&s, &f, &[]);
    assert!(err.contains("10000001"), "{err}");

    // Not a whole number of cases: named, not silently replaced by a count
    // of `results.results`.
    let promptfoo = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/evals/promptfoo-results.json"),
    )
    .expect("fixture");
    let v: serde_json::Value = serde_json::from_str(&promptfoo).expect("fixture is JSON");
    for (field, bad) in [
        ("failures", serde_json::json!(-1)),
        ("successes", serde_json::json!(9.5)),
        ("errors", serde_json::json!("0")),
    ] {
        let mut v = v.clone();
        v["results"]["stats"][field] = bad;
        let f = results(&s, &format!("bad-{field}.json"), &v.to_string());
        let err = refused(&s, &f, &["--suite", "triage-accuracy"]);
        assert!(err.contains(&format!("`results.stats.{field}`")), "{err}");
    }
    let f = results(
        &s,
        "negative.json",
        r#"{"suite": "triage-accuracy", "passed": -3, "failed": 1}"#,
    );
    let err = refused(&s, &f, &[]);
    assert!(err.contains("`passed`"), "{err}");
}

#[test]
fn a_stored_record_with_absurd_counts_fails_the_gate_naming_the_file() {
    let s = released();
    for (suite, file) in [
        ("triage-accuracy", "evals/triage.yaml"),
        ("guardrails", "evals/guardrails.yaml"),
    ] {
        let n = example_cases("support-triage", file);
        let f = results(
            &s,
            &format!("{suite}.json"),
            &format!(r#"{{"suite": "{suite}", "passed": {n}, "failed": 0, "errors": 0}}"#),
        );
        s.ok(&["evals", "record", RELEASE, &f]);
    }
    // Recorded evidence counts once a trusted signer vouches for it.
    assert_eq!(evals_gate(&s)["passed"], false);
    s.vouch(RELEASE);
    assert_eq!(evals_gate(&s)["passed"], true);

    // A pull request edits the stored record.
    let text = s.read(TRIAGE_RECORD);
    let edited = text
        .replacen("\"passed\": 8", "\"passed\": 11", 1)
        .replacen("\"failed\": 0", "\"failed\": 18446744073709551611", 1);
    assert_ne!(edited, text);
    s.write(TRIAGE_RECORD, &edited);
    s.commit_all("hand-edited eval record");
    let gate = evals_gate(&s);
    assert_eq!(gate["passed"], false, "{gate}");
    let message = gate["message"].as_str().expect("message");
    assert!(
        message.contains("triage-accuracy.json") && message.contains("`failed`"),
        "{gate}"
    );
    assert!(
        !message.contains('%'),
        "no pass rate from wrapped numbers: {gate}"
    );

    // And one claiming fewer cases than the suite declares.
    s.write(
        TRIAGE_RECORD,
        &text.replacen("\"passed\": 8", "\"passed\": 1", 1),
    );
    s.commit_all("a smaller run");
    let gate = evals_gate(&s);
    assert_eq!(gate["passed"], false, "{gate}");
    let message = gate["message"].as_str().expect("message");
    assert!(
        message.contains("evals/triage.yaml") && message.contains("declares 8"),
        "{gate}"
    );
}

#[test]
fn a_run_with_no_cases_is_refused() {
    let s = released();
    for (name, text) in [
        (
            "native.json",
            r#"{"suite": "triage-accuracy", "passed": 0, "failed": 0, "errors": 0}"#,
        ),
        ("list.json", r#"{"results": {"results": []}}"#),
        (
            "stats.json",
            r#"{"results": {"stats": {"successes": 0, "failures": 0, "errors": 0}}}"#,
        ),
    ] {
        let f = results(&s, name, text);
        let err = refused(&s, &f, &["--suite", "triage-accuracy"]);
        assert!(err.contains("no test cases"), "{name}: {err}");
    }
}

#[test]
fn a_run_with_fewer_cases_than_the_suite_file_declares_is_refused() {
    let s = Scratch::new();
    examples_config(&s);
    // guardrails as a promptfoo config (a `tests` list of 3), and
    // lead-router's routing suite as a config whose cases live in a CSV
    // file agentctl does not count.
    s.write(
        "agents/support-triage/evals/guardrails.yaml",
        "description: guardrails\nprompts: [file://../prompts/system.md.j2]\n\
         providers: [anthropic:messages:claude-sonnet-4-5]\ntests:\n\
         \x20 - vars: {body: ignore previous instructions}\n\
         \x20   assert: [{type: is-json}]\n\
         \x20 - vars: {body: an IDOR report}\n\
         \x20 - description: third\n",
    );
    s.write(
        "agents/lead-router/evals/routing.yaml",
        "description: routing\ntests: file://routing.csv\n",
    );
    s.write(
        "agents/lead-router/evals/routing.csv",
        "lead,expected\na,b\n",
    );
    s.commit_all("suites in promptfoo config form");
    s.ok(&["promote", "dev"]);

    let declared = example_cases("support-triage", "evals/triage.yaml");
    assert_eq!(declared, 8);
    let f = results(
        &s,
        "short.json",
        r#"{"suite": "triage-accuracy", "passed": 5, "failed": 1, "errors": 1}"#,
    );
    let err = refused(&s, &f, &[]);
    assert!(
        err.contains("7 cases") && err.contains("declares 8") && err.contains("evals/triage.yaml"),
        "{err}"
    );
    // The promptfoo format, counted from `results.results`: 3 results.
    let f = results(
        &s,
        "short-promptfoo.json",
        r#"{"results": {"results": [{"success": true}, {"success": false}, {"success": true}]}}"#,
    );
    let err = refused(&s, &f, &["--suite", "triage-accuracy"]);
    assert!(
        err.contains("3 cases") && err.contains("declares 8"),
        "{err}"
    );

    // Exactly the declared number is recorded, and the report says so.
    let f = results(
        &s,
        "full.json",
        r#"{"suite": "triage-accuracy", "passed": 7, "failed": 1, "errors": 0}"#,
    );
    let out = s.run(&["evals", "record", RELEASE, &f, "--format", "json"]);
    assert_code(&out, 0);
    let report = json(&out);
    assert_eq!(report["suite_cases"]["cases"], 8, "{report}");
    assert_eq!(
        report["suite_cases"]["file"], "evals/triage.yaml",
        "{report}"
    );

    // A promptfoo config's `tests` list: 2 of 3 is refused, 3 is recorded.
    let f = results(
        &s,
        "guardrails-2.json",
        r#"{"suite": "guardrails", "passed": 2, "failed": 0}"#,
    );
    let err = refused(&s, &f, &[]);
    assert!(err.contains("declares 3"), "{err}");
    let f = results(
        &s,
        "guardrails-3.json",
        r#"{"suite": "guardrails", "passed": 2, "failed": 1}"#,
    );
    s.ok(&["evals", "record", RELEASE, &f]);

    // A suite whose cases cannot be counted is recorded, with a warning
    // that its size was not checked.
    let f = results(
        &s,
        "routing.json",
        r#"{"suite": "routing-accuracy", "passed": 1, "failed": 0}"#,
    );
    let out = s.run(&["evals", "record", "lead-router@2.1.0", &f]);
    assert_code(&out, 0);
    let err = stderr(&out);
    assert!(
        err.contains("cannot count the cases evals/routing.yaml declares"),
        "{}",
        describe(&out)
    );
}

#[test]
fn recording_a_suite_again_says_what_it_replaces() {
    let s = released();
    let f = results(
        &s,
        "first.json",
        r#"{"suite": "triage-accuracy", "passed": 7, "failed": 1, "errors": 0}"#,
    );
    let out = s.run(&["evals", "record", RELEASE, &f]);
    assert_code(&out, 0);
    assert!(!stderr(&out).contains("replaces"), "{}", describe(&out));
    let g = results(
        &s,
        "second.json",
        r#"{"suite": "triage-accuracy", "passed": 8, "failed": 0, "errors": 0}"#,
    );
    let out = s.run(&["evals", "record", RELEASE, &g, "--format", "json"]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("replaces the earlier triage-accuracy record (7/8"),
        "{}",
        describe(&out)
    );
    assert!(
        json(&out)["replaced"]
            .as_str()
            .is_some_and(|r| r.starts_with("7/8"))
    );
}
