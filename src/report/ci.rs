//! Findings in the formats CI systems read: GitHub workflow commands,
//! SARIF 2.1.0, JUnit XML, and a Markdown pull-request comment.
//!
//! Paths are written relative to the git work tree (what GitHub and code
//! scanning resolve against). Secrets are never written: their messages are
//! already redacted, and no format here includes source lines.

use super::count;
use crate::check::CheckReport;
use crate::finding::Finding;
use serde_json::json;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Makes finding paths relative to a base directory.
#[derive(Debug, Clone)]
pub struct Paths {
    base: PathBuf,
}

impl Paths {
    /// Paths relative to `base` (usually the git work tree).
    pub fn new(base: &Path) -> Paths {
        Paths {
            base: base.canonicalize().unwrap_or_else(|_| base.to_path_buf()),
        }
    }

    /// `file`, relative to the base, `/`-separated.
    pub fn rel(&self, file: &Path) -> String {
        let abs = if file.is_absolute() {
            file.to_path_buf()
        } else {
            std::env::current_dir()
                .map(|d| d.join(file))
                .unwrap_or_else(|_| file.to_path_buf())
        };
        let abs = normalize(&abs);
        let rel = abs
            .strip_prefix(&self.base)
            .map(Path::to_path_buf)
            .unwrap_or(abs);
        rel.to_string_lossy().replace('\\', "/")
    }
}

/// Resolve `.` and `..` lexically (files may not exist any more).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn gh_prop(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: one `::error`/`::warning` per finding.
pub fn github(w: &mut dyn Write, findings: &[&Finding], paths: &Paths) -> io::Result<()> {
    for f in findings {
        let level = f.severity.as_str();
        let mut props = vec![format!("file={}", gh_prop(&paths.rel(&f.file)))];
        if let Some(p) = f.position {
            props.push(format!("line={}", p.line));
            props.push(format!("col={}", p.column));
        }
        props.push(format!(
            "title={}",
            gh_prop(&format!("agentctl {}", f.rule))
        ));
        let mut message = f.message.clone();
        if let Some(h) = &f.hint {
            message.push_str("\nhint: ");
            message.push_str(h);
        }
        writeln!(w, "::{level} {}::{}", props.join(","), gh_data(&message))?;
    }
    Ok(())
}

/// Every rule id agentctl reports, with a description (for SARIF's rule list).
pub fn rule_catalog() -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<(&str, &str)> = Vec::new();
    for table in [
        crate::bundle::RULES,
        crate::bundle::readiness::RULES,
        crate::render::RULES,
        crate::check::secrets::RULES,
        crate::check::repository::RULES,
        crate::check::RULES,
    ] {
        all.extend_from_slice(table);
    }
    all
}

/// SARIF 2.1.0, one run, rules with ids and help, results with locations.
pub fn sarif(w: &mut dyn Write, findings: &[&Finding], paths: &Paths) -> io::Result<()> {
    let catalog = rule_catalog();
    let mut used: Vec<&str> = findings.iter().map(|f| f.rule).collect();
    used.sort_unstable();
    used.dedup();
    let rules: Vec<serde_json::Value> = used
        .iter()
        .map(|id| {
            let desc = catalog.iter().find(|(r, _)| r == id).map(|(_, d)| *d).unwrap_or(id);
            json!({
                "id": id,
                "name": id,
                "shortDescription": { "text": desc },
                "fullDescription": { "text": desc },
                "help": {
                    "text": format!("{desc}. See the rule ids in docs/manifest.md and the README of agentctl."),
                },
                "helpUri": format!("https://github.com/agentctl/agentctl/blob/main/docs/manifest.md#rule-ids"),
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let mut physical = json!({
                "artifactLocation": { "uri": paths.rel(&f.file), "uriBaseId": "%SRCROOT%" },
            });
            if let Some(p) = f.position {
                physical["region"] =
                    json!({ "startLine": p.line.max(1), "startColumn": p.column.max(1) });
            }
            let mut text = f.message.clone();
            if let Some(h) = &f.hint {
                text.push_str(" Hint: ");
                text.push_str(h);
            }
            json!({
                "ruleId": f.rule,
                "ruleIndex": used.iter().position(|r| *r == f.rule).unwrap_or(0),
                "level": f.severity.as_str(),
                "message": { "text": text },
                "locations": [ { "physicalLocation": physical } ],
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "agentctl",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/agentctl/agentctl",
                    "rules": rules,
                }
            },
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    });
    serde_json::to_writer_pretty(&mut *w, &log)?;
    writeln!(w)
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one test suite per bundle, one test case per check; the
/// repository's own checks as a last suite. With `warnings_as_errors`,
/// warnings fail test cases too (the informational policy preview excepted),
/// so the report agrees with the exit code.
pub fn junit(
    w: &mut dyn Write,
    report: &CheckReport,
    paths: &Paths,
    warnings_as_errors: bool,
) -> io::Result<()> {
    let fails = |f: &&Finding| crate::check::fails(f, warnings_as_errors);
    struct Case {
        name: String,
        failures: Vec<String>,
    }
    let mut suites: Vec<(String, Vec<Case>)> = Vec::new();
    for b in &report.bundles {
        let cases = b
            .checks
            .iter()
            .map(|c| Case {
                name: c.check.to_string(),
                failures: c
                    .findings
                    .iter()
                    .filter(fails)
                    .map(|f| describe(f, paths))
                    .collect(),
            })
            .collect();
        suites.push((b.path.clone(), cases));
    }
    suites.push((
        "repository".into(),
        vec![Case {
            name: "policy, trust and hand edits".into(),
            failures: report
                .repository
                .iter()
                .filter(fails)
                .map(|f| describe(f, paths))
                .collect(),
        }],
    ));
    let tests: usize = suites.iter().map(|(_, c)| c.len()).sum();
    let failures: usize = suites
        .iter()
        .flat_map(|(_, c)| c)
        .filter(|c| !c.failures.is_empty())
        .count();
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        w,
        r#"<testsuites name="agentctl check" tests="{tests}" failures="{failures}" errors="0">"#
    )?;
    for (name, cases) in &suites {
        let f = cases.iter().filter(|c| !c.failures.is_empty()).count();
        writeln!(
            w,
            r#"  <testsuite name="{}" tests="{}" failures="{f}" errors="0" skipped="0">"#,
            xml(name),
            cases.len()
        )?;
        for c in cases {
            let classname = format!("agentctl.{}", name.trim_start_matches("agents/"));
            if c.failures.is_empty() {
                writeln!(
                    w,
                    r#"    <testcase classname="{}" name="{}"/>"#,
                    xml(&classname),
                    xml(&c.name)
                )?;
            } else {
                writeln!(
                    w,
                    r#"    <testcase classname="{}" name="{}">"#,
                    xml(&classname),
                    xml(&c.name)
                )?;
                writeln!(
                    w,
                    r#"      <failure message="{} finding(s)" type="agentctl">{}</failure>"#,
                    c.failures.len(),
                    xml(&c.failures.join("\n"))
                )?;
                writeln!(w, "    </testcase>")?;
            }
        }
        writeln!(w, "  </testsuite>")?;
    }
    writeln!(w, "</testsuites>")
}

fn describe(f: &Finding, paths: &Paths) -> String {
    let at = match f.position {
        Some(p) => format!("{}:{}:{}", paths.rel(&f.file), p.line, p.column),
        None => paths.rel(&f.file),
    };
    format!("{at}: [{}] {}", f.rule, f.message)
}

/// A pull-request comment: what was checked, every finding, and the semantic diff.
pub fn markdown(w: &mut dyn Write, report: &CheckReport, paths: &Paths) -> io::Result<()> {
    let s = &report.summary;
    let verdict = if s.errors > 0 {
        "❌ changes must not merge yet"
    } else {
        "✅ ready to merge"
    };
    writeln!(w, "## agentctl check: {verdict}\n")?;
    writeln!(
        w,
        "{} checked{}: **{}**, {}.\n",
        count(s.bundles, "bundle"),
        report
            .base
            .as_deref()
            .map(|b| format!(" against `{b}`"))
            .unwrap_or_default(),
        count(s.errors, "error"),
        count(s.warnings, "warning")
    )?;
    if !report.bundles.is_empty() {
        writeln!(
            w,
            "| bundle | change | version | validate | version bump | secrets | policy |"
        )?;
        writeln!(w, "|---|---|---|---|---|---|---|")?;
        for b in &report.bundles {
            let cell = |check: &str| {
                let c = b.checks.iter().find(|c| c.check == check);
                let errors = c.map_or(0, |c| c.findings.iter().filter(|f| f.is_error()).count());
                let warnings = c.map_or(0, |c| c.findings.len()) - errors;
                match (errors, warnings) {
                    (0, 0) => "✅".to_string(),
                    (0, n) => format!("⚠️ {n}"),
                    (n, _) => format!("❌ {n}"),
                }
            };
            let version = b.version_label();
            writeln!(
                w,
                "| `{}` | {} | {} | {} | {} | {} | {} |",
                b.name,
                b.change,
                version,
                cell("validate"),
                cell("version"),
                cell("secrets"),
                cell("policy")
            )?;
        }
        writeln!(w)?;
    }
    let findings: Vec<&Finding> = report.findings().collect();
    if !findings.is_empty() {
        writeln!(w, "### Findings\n")?;
        for f in findings {
            let icon = if f.is_error() { "❌" } else { "⚠️" };
            let at = match f.position {
                Some(p) => format!("{}:{}", paths.rel(&f.file), p.line),
                None => paths.rel(&f.file),
            };
            writeln!(
                w,
                "- {icon} `{}` `{at}`: {}{}",
                f.rule,
                f.message.replace('|', "\\|"),
                f.hint
                    .as_deref()
                    .map(|h| format!(" — _{}_", h.lines().next().unwrap_or("")))
                    .unwrap_or_default()
            )?;
        }
        writeln!(w)?;
    }
    if let Some(d) = &report.diff {
        super::diff::markdown(w, d)?;
    }
    Ok(())
}
