//! Every fixture through one harness.
//!
//! - `tests/fixtures/valid/<name>/` and `examples/agents/<name>/` must load
//!   and have no error findings.
//! - `tests/fixtures/invalid/<case>/` must produce exactly the error findings
//!   listed in `tests/fixtures/invalid/<case>.expected.toml` (rule id and
//!   line), plus any warnings listed there.
//! - For every fixture, the typed loader and `schemas/agent.schema.json`
//!   (through the `jsonschema` crate) agree on whether the manifest is
//!   well-formed.
//! - The committed schema equals the one generated from the Rust types.

use agentctl::bundle::{self, yaml};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    /// Whether the typed loader accepts the manifest.
    loads: bool,
    #[serde(default)]
    finding: Vec<ExpectedFinding>,
}

#[derive(Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord, Clone)]
#[serde(deny_unknown_fields)]
struct ExpectedFinding {
    rule: String,
    line: Option<u32>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn dirs(path: &Path) -> Vec<PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("schemas/agent.schema.json"))
        .expect("committed schema");
    let value: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::draft202012::new(&value).expect("schema compiles")
}

/// Whether the loader and the schema agree on this manifest; returns whether it loads.
fn assert_agreement(validator: &jsonschema::Validator, dir: &Path) -> bool {
    let file = dir.join(bundle::MANIFEST_FILE);
    let Ok(bytes) = std::fs::read(&file) else {
        return false;
    };
    let Ok(text) = bundle::text_from_bytes(bytes, &file) else {
        return false;
    };
    let loads = bundle::parse_manifest(&text, &file).is_ok();
    if let Ok((value, _)) = yaml::parse(&text) {
        let schema_ok = validator.is_valid(&value);
        assert_eq!(
            loads,
            schema_ok,
            "{}: loader says {}, schema says {}; schema errors: {:?}",
            dir.display(),
            if loads { "valid" } else { "invalid" },
            if schema_ok { "valid" } else { "invalid" },
            validator
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
        );
    } else {
        assert!(
            !loads,
            "{}: YAML does not parse but the loader accepted it",
            dir.display()
        );
    }
    loads
}

#[test]
fn committed_schema_is_fresh() {
    let committed = std::fs::read_to_string(root().join("schemas/agent.schema.json"))
        .expect("committed schema");
    assert!(
        committed == agentctl::schema::manifest_schema_json(),
        "schemas/agent.schema.json is stale: run `cargo run -- schema > schemas/agent.schema.json`"
    );
}

#[test]
fn valid_fixtures_and_examples_pass() {
    let validator = schema();
    let mut all = dirs(&root().join("tests/fixtures/valid"));
    all.extend(dirs(&root().join("examples/agents")));
    assert!(
        all.len() >= 5,
        "expected the valid fixtures and three examples"
    );
    for dir in all {
        assert!(
            assert_agreement(&validator, &dir),
            "{} does not load",
            dir.display()
        );
        let checked = bundle::check_dir(&dir);
        let errors: Vec<_> = checked.findings.iter().filter(|f| f.is_error()).collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", dir.display());
    }
}

#[test]
fn invalid_fixtures_report_expected_rules_and_lines() {
    let validator = schema();
    let cases = dirs(&root().join("tests/fixtures/invalid"));
    assert!(
        cases.len() >= 30,
        "expected one invalid fixture per rule, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for dir in cases {
        let expected_path = dir.with_extension("expected.toml");
        let text = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        let expected: Expected =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        let loads = assert_agreement(&validator, &dir);
        if loads != expected.loads {
            failures.push(format!(
                "{}: loads={loads}, expected {}",
                dir.display(),
                expected.loads
            ));
        }
        let checked = bundle::check_dir(&dir);
        let listed_warnings: Vec<_> = expected.finding.iter().map(|f| f.rule.as_str()).collect();
        let mut got: Vec<ExpectedFinding> = checked
            .findings
            .iter()
            .filter(|f| f.is_error() || listed_warnings.contains(&f.rule))
            .map(|f| ExpectedFinding {
                rule: f.rule.to_string(),
                line: f.position.map(|p| p.line),
            })
            .collect();
        got.sort();
        let mut want = expected.finding.clone();
        want.sort();
        if got != want {
            failures.push(format!(
                "{}:\n  expected {want:?}\n  got      {got:?}",
                dir.display()
            ));
        }
        assert!(
            checked.findings.iter().any(|f| f.is_error()),
            "{}: an invalid fixture must have an error",
            dir.display()
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
