//! `agentctl evals record NAME@VERSION FILE`: bind eval results to a release.

use super::{Recorded, WriteOptions, actor};
use crate::evals::{self, EvalRecord};
use crate::policy::GateResult;
use crate::repo::release::{ReleaseRef, release_dir};
use crate::repo::transaction::{self, Change, Message};
use crate::repo::{Repo, RepoError, format_time, now};
use serde::Serialize;
use std::path::Path;

/// The longest suite name `evals record` accepts (it names a file).
const MAX_SUITE_NAME: usize = 100;

/// What `evals record` did.
#[derive(Debug, Clone, Serialize)]
pub struct RecordReport {
    /// The stored record.
    pub record: EvalRecord,
    /// Its pass rate.
    pub pass_rate: f64,
    /// The bundle's threshold, if it has one.
    pub min_pass_rate: Option<f64>,
    /// Where it was stored.
    pub file: String,
    /// The commit.
    pub recorded: Recorded,
}

fn refuse(message: String, hint: impl Into<String>) -> RepoError {
    RepoError::Unsafe {
        message,
        hint: hint.into(),
    }
}

/// Record results for a release. `ran_on` is the digest the evals ran
/// against (default: the release's); a mismatch is refused.
pub fn record(
    repo: &Repo,
    release: &ReleaseRef,
    results: &Path,
    suite: Option<&str>,
    ran_on: Option<&str>,
    opts: &WriteOptions,
) -> Result<RecordReport, RepoError> {
    let actor = actor(repo, opts.actor.as_deref())?;
    let (lock, start) = transaction::begin(repo, opts.record)?;
    let meta = repo.verify_release(&release.name, &release.version, None)?;
    if let Some(d) = ran_on
        && d != meta.digest
    {
        return Err(refuse(
            format!(
                "these results are for {d}, but {release} is {}",
                meta.digest
            ),
            "run the evals against the released content (`agentctl digest releases/NAME/VERSION/bundle`)",
        ));
    }
    // A FIFO, a device or an endless file answers at once; `-` is stdin.
    let bytes =
        crate::files::read_input(results, evals::MAX_RESULTS_BYTES).map_err(|e| match e {
            crate::files::FileError::TooLarge { .. } => refuse(
                format!(
                    "{} is larger than the limit of {} bytes",
                    results.display(),
                    evals::MAX_RESULTS_BYTES
                ),
                "record a summary (the native format) instead",
            ),
            e => RepoError::from(e),
        })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        refuse(
            format!("{} is not UTF-8 text", results.display()),
            "pass promptfoo's JSON output or the native JSON format",
        )
    })?;
    let parsed = evals::parse(&text).map_err(|e| {
        refuse(
            format!("{}: {e}", results.display()),
            "pass promptfoo's `promptfoo eval -o results.json` output, or {\"suite\": …, \"passed\": N, \"failed\": N, \"errors\": N, \"run_at\": …}",
        )
    })?;
    let manifest = repo.release_manifest(&release.name, &release.version);
    let declared: Vec<String> = manifest
        .as_ref()
        .and_then(|m| m.evals.as_ref())
        .map(|e| e.suites.iter().map(|s| s.name.clone()).collect())
        .unwrap_or_default();
    let stem = results
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned());
    let suite = suite
        .map(str::to_string)
        .or_else(|| parsed.suite.clone().filter(|s| declared.contains(s)))
        .or_else(|| (declared.len() == 1).then(|| declared[0].clone()))
        .or(stem)
        .unwrap_or_else(|| "default".into());
    if !declared.is_empty() && !declared.contains(&suite) {
        return Err(refuse(
            format!("{release} declares no eval suite `{suite}`"),
            format!("pass --suite with one of: {}", declared.join(", ")),
        ));
    }
    let nameable = !suite.is_empty()
        && suite.len() <= MAX_SUITE_NAME
        && suite
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !nameable {
        return Err(refuse(
            format!("suite name `{suite}` cannot name a file"),
            format!("pass --suite NAME: 1 to {MAX_SUITE_NAME} letters, digits, `-` or `_`"),
        ));
    }
    let record = EvalRecord {
        suite: suite.clone(),
        digest: meta.digest.clone(),
        passed: parsed.passed,
        failed: parsed.failed,
        errors: parsed.errors,
        run_at: parsed.run_at,
        format: parsed.format.to_string(),
        recorded_at: format_time(now()),
        recorded_by: actor.clone(),
    };
    let file = format!(
        "{}/evals/{suite}.json",
        release_dir(&meta.name, &meta.version)
    );
    let mut json = serde_json::to_string_pretty(&record).expect("eval records always serialize");
    json.push('\n');
    let mut message = Message {
        subject: format!(
            "record evals {} {}: {suite} {}/{} passed",
            meta.name,
            meta.version,
            record.passed,
            record.passed + record.failed + record.errors
        ),
        body: String::new(),
        ..Message::default()
    };
    message.trailer("Action", "evals");
    message.trailer("Agent", &meta.name);
    message.trailer("Version", &meta.version);
    message.trailer("Digest", &meta.digest);
    message.trailer("Actor", &actor);
    let outcome = transaction::apply(
        repo,
        &lock,
        start.as_ref(),
        &[Change::write(file.clone(), json)],
        &message,
    )?;
    Ok(RecordReport {
        pass_rate: record.pass_rate(),
        min_pass_rate: manifest.and_then(|m| m.evals.map(|e| e.min_pass_rate)),
        record,
        file,
        recorded: outcome.into(),
    })
}

/// The eval gate for a release in an environment with `require_evals`.
pub fn gate(repo: &Repo, name: &str, version: &str, digest: &str) -> GateResult {
    let Some(manifest) = repo.release_manifest(name, version) else {
        return GateResult::fail(
            "evals",
            format!("cannot read {name}@{version}'s manifest"),
            "restore the release from git",
        );
    };
    let Some(evals_cfg) = manifest.evals else {
        return GateResult::fail(
            "evals",
            format!("{name}@{version} declares no evals, and this environment requires them"),
            "add `evals: {min_pass_rate: 0.9, suites: [...]}` to agent.yaml and release a new version",
        );
    };
    let dir = repo.release_path(name, version).join("evals");
    let rel_dir = format!("{}/evals", crate::repo::release::release_dir(name, version));
    if let Some(link) = crate::files::first_link(&repo.root, std::path::Path::new(&rel_dir)) {
        return GateResult::fail(
            "evals",
            format!("{} is a symbolic link", link.display()),
            "eval records are regular files written by `agentctl evals record`; restore them from git",
        );
    }
    let mut records = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for entry in rd.filter_map(Result::ok) {
            let path = entry.path();
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            match crate::files::read_no_follow(&path, 1 << 20)
                .ok()
                .and_then(|t| serde_json::from_slice::<EvalRecord>(&t).ok())
            {
                Some(r) => records.push(r),
                None => {
                    return GateResult::fail(
                        "evals",
                        format!("{} is not a valid eval record", path.display()),
                        "records are written by `agentctl evals record`; restore it from git",
                    );
                }
            }
        }
    }
    let how = format!("run them and `agentctl evals record {name}@{version} results.json`");
    if records.is_empty() {
        return GateResult::fail(
            "evals",
            format!("no eval results recorded for {name}@{version}"),
            how,
        );
    }
    if let Some(r) = records.iter().find(|r| r.digest != digest) {
        return GateResult::fail(
            "evals",
            format!(
                "eval suite {} was recorded for {}, not for this release ({digest})",
                r.suite, r.digest
            ),
            format!("re-run the evals against this release and {how}"),
        );
    }
    let missing: Vec<&str> = evals_cfg
        .suites
        .iter()
        .map(|s| s.name.as_str())
        .filter(|s| !records.iter().any(|r| r.suite == *s))
        .collect();
    if !missing.is_empty() {
        return GateResult::fail(
            "evals",
            format!("no results recorded for suite(s) {}", missing.join(", ")),
            how,
        );
    }
    let passed: u64 = records.iter().map(|r| r.passed).sum();
    let total: u64 = records.iter().map(|r| r.passed + r.failed + r.errors).sum();
    let rate = evals::pass_rate(passed, total);
    if !evals::meets(rate, evals_cfg.min_pass_rate) {
        return GateResult::fail(
            "evals",
            format!(
                "pass rate {:.1}% ({passed}/{total}) is below the bundle's min_pass_rate {:.1}%",
                rate * 100.0,
                evals_cfg.min_pass_rate * 100.0
            ),
            "fix the failures and release a new version; lowering min_pass_rate shows up as a high-risk change in `agentctl diff`",
        );
    }
    GateResult::pass(
        "evals",
        format!(
            "pass rate {:.1}% ({passed}/{total}) ≥ {:.1}%",
            rate * 100.0,
            evals_cfg.min_pass_rate * 100.0
        ),
    )
}
