//! Helpers for the tests of `agentctl check`: running it, reading its JSON
//! report, and editing the repository a pull request changes.

use super::{Scratch, assert_code, json};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

/// `agentctl check ARGS…` in the repository.
pub fn check(s: &Scratch, args: &[&str]) -> Output {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    s.run(&all)
}

/// `agentctl check --base BASE --format json`: the parsed report, after
/// asserting the exit code.
#[track_caller]
pub fn check_json(s: &Scratch, base: &str, code: i32) -> Value {
    let out = check(s, &["--base", base, "--format", "json"]);
    assert_code(&out, code);
    json(&out)
}

/// Every finding of a JSON report: the bundles' checks, then the repository's.
pub fn findings(report: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for b in report["bundles"].as_array().expect("bundles array") {
        for c in b["checks"].as_array().expect("checks array") {
            out.extend(c["findings"].as_array().expect("findings array").clone());
        }
    }
    out.extend(
        report["repository"]
            .as_array()
            .expect("repository array")
            .clone(),
    );
    out
}

/// The findings of one rule.
pub fn with_rule(report: &Value, rule: &str) -> Vec<Value> {
    findings(report)
        .into_iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// The rule ids of a report's error findings, sorted and deduplicated.
pub fn error_rules(report: &Value) -> BTreeSet<String> {
    findings(report)
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["rule"].as_str().expect("rule").to_string())
        .collect()
}

/// 1-based line of the first line of `text` starting with `prefix`.
#[track_caller]
pub fn line_of(text: &str, prefix: &str) -> u64 {
    text.lines()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?}")) as u64
        + 1
}

/// Append lines to a file of the repository.
pub fn append(s: &Scratch, rel: &str, lines: &str) {
    let mut text = std::fs::read_to_string(s.root.join(rel)).unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(lines);
    s.write(rel, &text);
}

/// Replace the first `from` in a repository file (which must contain it).
#[track_caller]
pub fn replace_in(s: &Scratch, rel: &str, from: &str, to: &str) {
    let text = s.read(rel);
    assert!(text.contains(from), "{rel} does not contain {from:?}");
    s.write(rel, &text.replacen(from, to, 1));
}

/// The vendored SARIF 2.1.0 schema, compiled.
pub fn sarif_validator() -> jsonschema::Validator {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif/sarif-schema-2.1.0.json");
    let text = std::fs::read_to_string(&path).expect("read the SARIF schema");
    let schema: Value = serde_json::from_str(&text).expect("the SARIF schema is JSON");
    jsonschema::draft4::new(&schema).expect("the SARIF schema compiles")
}

/// Assert `log` is valid SARIF 2.1.0.
#[track_caller]
pub fn assert_valid_sarif(validator: &jsonschema::Validator, log: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF output does not validate:\n{}\n{log:#}",
        errors.join("\n")
    );
}
