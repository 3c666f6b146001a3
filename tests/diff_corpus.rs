//! The semantic diff measured: a corpus of single edits, each with the rule
//! and risk a reviewer expects, run through the pure compare function
//! (`agentctl::diff::compare_files`, no binary, no sandbox).
//!
//! Each `tests/fixtures/diff/<case>.toml` names an example bundle
//! (`examples/agents/<base>/`), optional `[[setup]]` edits applied to both
//! sides, the `[[edit]]` of the new side, and what the diff must say:
//! `rule` and `risk` (a change with that rule at that risk is reported) and
//! `highest` (the highest risk of any change; defaults to `risk`), or
//! `nothing = true` (no change at all: comments, whitespace, key order,
//! quoting, flow style).
//!
//! Also here: every manifest field in `schemas/agent.schema.json` has a diff
//! rule or a documented reason it is not compared (`semantic::FIELDS`).

use agentctl::diff::semantic::{Coverage, FIELDS, RISK_RULES, Rule};
use agentctl::render::RenderEnv;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    base: String,
    section: String,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    risk: Option<String>,
    #[serde(default)]
    highest: Option<String>,
    #[serde(default)]
    nothing: bool,
    /// Paths that must each carry a change (a prompt reached through an include).
    #[serde(default)]
    paths: Vec<String>,
    /// Text the expected change's summary must contain.
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    setup: Vec<Edit>,
    #[serde(default)]
    edit: Vec<Edit>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Edit {
    file: String,
    #[serde(default)]
    find: Option<String>,
    #[serde(default)]
    replace: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    delete: bool,
}

type Files = BTreeMap<String, Vec<u8>>;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load_bundle(name: &str) -> Files {
    let dir = root().join("examples/agents").join(name);
    let mut files = Files::new();
    for e in walkdir::WalkDir::new(&dir) {
        let e = e.expect("walk example bundle");
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(&dir).expect("prefix");
            files.insert(
                rel.to_string_lossy().replace('\\', "/"),
                std::fs::read(e.path()).expect("read example file"),
            );
        }
    }
    files
}

fn apply(files: &mut Files, e: &Edit) -> Result<(), String> {
    if e.delete {
        return files
            .remove(&e.file)
            .map(|_| ())
            .ok_or_else(|| format!("delete: no file {}", e.file));
    }
    if let Some(c) = &e.content {
        files.insert(e.file.clone(), c.clone().into_bytes());
        return Ok(());
    }
    let (Some(find), Some(replace)) = (&e.find, &e.replace) else {
        return Err(format!(
            "edit of {} needs find + replace, content or delete",
            e.file
        ));
    };
    let text = files
        .get(&e.file)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .ok_or_else(|| format!("no file {}", e.file))?;
    if text.matches(find.as_str()).count() != 1 {
        return Err(format!(
            "{} contains {:?} {} times, not once",
            e.file,
            find,
            text.matches(find.as_str()).count()
        ));
    }
    files.insert(
        e.file.clone(),
        text.replacen(find.as_str(), replace, 1).into_bytes(),
    );
    Ok(())
}

fn envs() -> Vec<RenderEnv> {
    let path = root().join("examples/agentctl.toml");
    let text = std::fs::read_to_string(&path).expect("examples/agentctl.toml");
    let config = agentctl::repo::config::Config::parse(&text, Path::new("agentctl.toml"))
        .expect("examples/agentctl.toml parses");
    RenderEnv::all(&config)
}

fn cases() -> Vec<(String, Case)> {
    let dir = root().join("tests/fixtures/diff");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).expect("tests/fixtures/diff") {
        let path = e.expect("entry").path();
        if path.extension().is_some_and(|x| x == "toml") {
            let text = std::fs::read_to_string(&path).expect("read case");
            let case: Case =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = path
                .file_stem()
                .expect("stem")
                .to_string_lossy()
                .into_owned();
            out.push((name, case));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn run(case: &Case, envs: &[RenderEnv]) -> Result<(), String> {
    let mut old = load_bundle(&case.base);
    for e in &case.setup {
        apply(&mut old, e)?;
    }
    let mut new = old.clone();
    for e in &case.edit {
        apply(&mut new, e)?;
    }
    if new == old {
        return Err("the edit changes nothing".into());
    }
    let changes = agentctl::diff::compare_files(&old, &new, envs);
    let shown = || {
        changes
            .iter()
            .map(|c| format!("  {} {} {}: {}", c.risk, c.rule, c.path, c.summary))
            .collect::<Vec<_>>()
            .join("\n")
    };
    if case.nothing {
        return if changes.is_empty() {
            Ok(())
        } else {
            Err(format!("expected no change, got:\n{}", shown()))
        };
    }
    let (Some(rule), Some(risk)) = (&case.rule, &case.risk) else {
        return Err("a case names `rule` and `risk`, or says `nothing = true`".into());
    };
    let mut problems = Vec::new();
    if !changes
        .iter()
        .any(|c| c.rule == rule && c.risk.to_string() == *risk)
    {
        problems.push(format!("no {rule} at {risk}"));
    }
    for p in &case.paths {
        if !changes.iter().any(|c| c.path == *p) {
            problems.push(format!("no change at {p}"));
        }
    }
    if let Some(text) = &case.summary
        && !changes
            .iter()
            .any(|c| c.rule == rule && c.summary.contains(text.as_str()))
    {
        problems.push(format!("no {rule} summary contains {text:?}"));
    }
    let highest = case.highest.as_ref().unwrap_or(risk);
    let got = changes.iter().map(|c| c.risk).max().map(|r| r.to_string());
    if got.as_deref() != Some(highest.as_str()) {
        problems.push(format!("highest risk {got:?}, expected {highest}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}; changes:\n{}", problems.join("; "), shown()))
    }
}

#[test]
fn every_corpus_edit_is_reported_at_its_expected_rule_and_risk() {
    let envs = envs();
    let cases = cases();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(name, c)| run(c, &envs).err().map(|e| format!("{name}: {e}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} corpus cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_corpus_is_large_and_covers_every_rule_and_section() {
    let cases = cases();
    let edits = cases.iter().filter(|(_, c)| !c.nothing).count();
    assert!(edits >= 150, "only {edits} edits in tests/fixtures/diff");
    assert!(
        cases.iter().filter(|(_, c)| c.nothing).count() >= 5,
        "too few no-change cases"
    );
    for (name, c) in &cases {
        if let (Some(rule), Some(risk)) = (&c.rule, &c.risk) {
            let table = RISK_RULES.iter().find(|(id, _)| id == rule);
            assert!(
                table.is_some_and(|(_, r)| r.to_string() == *risk),
                "{name}: {rule} at {risk}, but RISK_RULES says {table:?}"
            );
        }
    }
    // Agent-level rules need two sides of a comparison, not two bundles:
    // tests/diff.rs covers them end to end.
    let agent_level = ["agent-added", "agent-added-write", "agent-removed"];
    let expected: BTreeSet<&str> = cases
        .iter()
        .filter_map(|(_, c)| c.rule.as_deref())
        .collect();
    let missing: Vec<&str> = Rule::ALL
        .iter()
        .map(|r| r.id())
        .filter(|id| !expected.contains(id) && !agent_level.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "rules no corpus case expects: {missing:?}"
    );
    let sections: BTreeSet<&str> = cases.iter().map(|(_, c)| c.section.as_str()).collect();
    for s in [
        "metadata",
        "owners",
        "escalation",
        "scope",
        "model",
        "prompts",
        "tools",
        "knowledge",
        "rules",
        "evals",
        "monitoring",
        "reliability",
        "security",
        "docs",
        "files",
    ] {
        assert!(sections.contains(s), "no corpus case edits {s}");
    }
}

/// Property paths of a schema node, resolving `$ref`, `anyOf` and `items`.
fn walk(
    schema: &serde_json::Value,
    node: &serde_json::Value,
    path: &str,
    out: &mut BTreeSet<String>,
) {
    if let Some(r) = node.get("$ref").and_then(|r| r.as_str()) {
        let name = r.trim_start_matches("#/$defs/");
        walk(schema, &schema["$defs"][name], path, out);
        return;
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(list) = node.get(key).and_then(|l| l.as_array()) {
            for n in list {
                walk(schema, n, path, out);
            }
        }
    }
    if let Some(items) = node.get("items") {
        walk(schema, items, &format!("{path}[]"), out);
    }
    if let Some(props) = node.get("properties").and_then(|p| p.as_object()) {
        for (k, v) in props {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            out.insert(p.clone());
            walk(schema, v, &p, out);
        }
    }
}

#[test]
fn every_schema_field_has_a_diff_rule_or_a_reason() {
    let text = std::fs::read_to_string(root().join("schemas/agent.schema.json")).expect("schema");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    let mut fields = BTreeSet::new();
    walk(&schema, &schema, "", &mut fields);
    assert!(fields.len() > 50, "the walk found only {fields:?}");
    let listed: BTreeMap<&str, &Coverage> = FIELDS.iter().map(|(p, c)| (*p, c)).collect();
    let missing: Vec<&String> = fields
        .iter()
        .filter(|f| !listed.contains_key(f.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "manifest fields with neither a diff rule nor a reason in semantic::FIELDS: {missing:?}"
    );
    let stale: Vec<&&str> = listed.keys().filter(|f| !fields.contains(**f)).collect();
    assert!(
        stale.is_empty(),
        "semantic::FIELDS lists fields the schema lacks: {stale:?}"
    );
    for (field, c) in FIELDS {
        match c {
            Coverage::Compared(rules) => assert!(!rules.is_empty(), "{field}: no rule"),
            Coverage::NotCompared(why) => assert!(why.len() > 20, "{field}: say why"),
        }
    }
}

/// The README's risk table is the rule table: every rule at its level.
#[test]
fn the_readme_risk_table_lists_every_rule_at_its_level() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    for (id, risk) in RISK_RULES {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| {risk} | ")))
            .unwrap_or_else(|| panic!("README has no `| {risk} |` row"));
        assert!(
            row.contains(&format!("`{id}`")),
            "README's {risk} row lacks `{id}`"
        );
        for other in ["high", "medium", "low"]
            .iter()
            .filter(|o| **o != risk.to_string())
        {
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| {other} | ")));
            assert!(
                !row.is_some_and(|r| r.contains(&format!("`{id}` "))),
                "README lists `{id}` as {other}, the rule table says {risk}"
            );
        }
    }
}
