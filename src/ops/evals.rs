//! `agentctl evals record NAME@VERSION FILE`: bind eval results to a release.

use super::{Recorded, WriteOptions, actor};
use crate::bundle::manifest::EvalSuite;
use crate::evals::{self, EvalRecord, ResultsError};
use crate::policy::GateResult;
use crate::repo::release::{ReleaseRef, release_dir};
use crate::repo::transaction::{self, Change, Message};
use crate::repo::{Layout, Repo, RepoError, format_time, now};
use serde::Serialize;
use std::path::{Component, Path, PathBuf};

/// The longest suite name `evals record` accepts (it names a file).
const MAX_SUITE_NAME: usize = 100;

/// Why `evals record` refused a results file.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The repository or release refused.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// The file does not hold results whose numbers check.
    #[error("{}: {source}", .path.display())]
    Results {
        /// The results file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: ResultsError,
    },
    /// The run covered fewer cases than the suite file declares.
    #[error(
        "{}: {ran} cases ran, but suite `{suite}` ({file}) declares {declared}",
        .path.display()
    )]
    TooFewCases {
        /// The results file.
        path: PathBuf,
        /// The suite.
        suite: String,
        /// The suite file, inside the bundle.
        file: String,
        /// Cases it declares (at least).
        declared: u64,
        /// Cases the results report.
        ran: u64,
    },
}

/// What a suite file declares, as far as agentctl can count it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum SuiteCases {
    /// The file declares at least `cases` test cases.
    Counted {
        /// The suite file, inside the bundle.
        file: String,
        /// Cases declared (a lower bound; see [`evals::declared_cases`]).
        cases: u64,
    },
    /// The number cannot be told; a run's size is not checked.
    Uncounted {
        /// The suite file, inside the bundle.
        file: String,
        /// Why.
        reason: String,
    },
    /// The bundle declares no such suite (it declares none).
    Undeclared,
}

/// Count the cases a release's suite file declares.
pub fn suite_cases(repo: &Layout, name: &str, version: &str, suite: &EvalSuite) -> SuiteCases {
    let file = suite.file.clone();
    let rel = Path::new(&suite.file);
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return SuiteCases::Uncounted {
            file,
            reason: "its path leaves the bundle".into(),
        };
    }
    let path = repo.release_path(name, version).join("bundle").join(rel);
    match crate::bundle::read_text(&path, rel, crate::bundle::MAX_TEXT_FILE_BYTES)
        .map_err(|f| f.message)
        .and_then(|text| evals::declared_cases(&text))
    {
        Ok(cases) => SuiteCases::Counted { file, cases },
        Err(reason) => SuiteCases::Uncounted { file, reason },
    }
}

/// What `evals record` did.
#[derive(Debug, Clone, Serialize)]
pub struct RecordReport {
    /// The stored record.
    pub record: EvalRecord,
    /// Its pass rate.
    pub pass_rate: f64,
    /// The bundle's threshold, if it has one.
    pub min_pass_rate: Option<f64>,
    /// What the suite file declares (the run had no fewer cases).
    pub suite_cases: SuiteCases,
    /// Where it was stored.
    pub file: String,
    /// An earlier record of the same suite this one replaced (its
    /// passed/total), if there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced: Option<String>,
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
) -> Result<RecordReport, RecordError> {
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
        )
        .into());
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
            )
            .into(),
            e => RecordError::from(RepoError::from(e)),
        })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        RecordError::from(refuse(
            format!("{} is not UTF-8 text", results.display()),
            "pass promptfoo's JSON output or the native JSON format",
        ))
    })?;
    let parsed = evals::parse(&text).map_err(|source| RecordError::Results {
        path: results.to_path_buf(),
        source,
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
        )
        .into());
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
        )
        .into());
    }
    let suite_cases = manifest
        .as_ref()
        .and_then(|m| m.evals.as_ref())
        .and_then(|e| e.suites.iter().find(|s| s.name == suite))
        .map_or(SuiteCases::Undeclared, |s| {
            suite_cases(repo, &meta.name, &meta.version, s)
        });
    if let SuiteCases::Counted { file, cases } = &suite_cases
        && parsed.total < *cases
    {
        return Err(RecordError::TooFewCases {
            path: results.to_path_buf(),
            suite,
            file: file.clone(),
            declared: *cases,
            ran: parsed.total,
        });
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
    let replaced = crate::files::read(&repo.root, std::path::Path::new(&file), 1 << 20)
        .ok()
        .flatten()
        .and_then(|b| serde_json::from_slice::<EvalRecord>(&b).ok())
        .map(|old| {
            format!(
                "{}/{} recorded at {} by {}",
                old.passed,
                old.passed
                    .saturating_add(old.failed)
                    .saturating_add(old.errors),
                old.recorded_at,
                old.recorded_by
            )
        });
    let mut json = serde_json::to_string_pretty(&record).expect("eval records always serialize");
    json.push('\n');
    let mut message = Message {
        subject: format!(
            "record evals {} {}: {suite} {}/{} passed",
            meta.name, meta.version, record.passed, parsed.total
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
        replaced,
        pass_rate: record.pass_rate(),
        min_pass_rate: manifest.and_then(|m| m.evals.map(|e| e.min_pass_rate)),
        suite_cases,
        record,
        file,
        recorded: outcome.into(),
    })
}

/// The eval gate for a release in an environment with `require_evals`.
///
/// A record counts only when a good signature (against the trust root in
/// use) vouches for its exact bytes: the approvers sign after the evals are
/// recorded, and a record edited afterwards stops counting.
pub fn gate(
    repo: &crate::repo::Layout,
    name: &str,
    version: &str,
    digest: &str,
    signatures: &[crate::ops::verify::SignatureResult],
) -> GateResult {
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
    let mut unvouched: Vec<String> = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for entry in rd.filter_map(Result::ok) {
            let path = entry.path();
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let bytes = crate::files::read_no_follow(&path, 1 << 20).ok();
            match bytes
                .as_ref()
                .and_then(|t| serde_json::from_slice::<EvalRecord>(t).ok())
            {
                Some(r) => {
                    let hash = crate::repo::evidence::hash(bytes.as_deref().unwrap_or_default());
                    let suite = path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    if !signatures
                        .iter()
                        .any(|s| s.vouches_for_record(&suite, &hash))
                    {
                        unvouched.push(suite);
                    }
                    records.push((path, r));
                }
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
    if let Some((_, r)) = records.iter().find(|(_, r)| r.digest != digest) {
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
        .filter(|s| !records.iter().any(|(_, r)| r.suite == *s))
        .collect();
    if !missing.is_empty() {
        return GateResult::fail(
            "evals",
            format!("no results recorded for suite(s) {}", missing.join(", ")),
            how,
        );
    }
    // A stored record is checked as a results file is: it may be hand-edited.
    let (mut passed, mut total) = (0u64, 0u64);
    for (path, r) in &records {
        let cases = match r.total() {
            Ok(cases) => cases,
            Err(e) => {
                return GateResult::fail(
                    "evals",
                    format!("{}: {e}", path.display()),
                    format!(
                        "records are written by `agentctl evals record`; restore it from git, or {how}"
                    ),
                );
            }
        };
        let declared = evals_cfg
            .suites
            .iter()
            .find(|s| s.name == r.suite)
            .map(|s| suite_cases(repo, name, version, s));
        if let Some(SuiteCases::Counted { file, cases: want }) = declared
            && cases < want
        {
            return GateResult::fail(
                "evals",
                format!(
                    "eval suite {} was recorded with {cases} cases, but {file} declares {want}",
                    r.suite
                ),
                format!("run the whole suite and {how}"),
            );
        }
        // Bounded by MAX_CASES per record; checked all the same.
        match (passed.checked_add(r.passed), total.checked_add(cases)) {
            (Some(p), Some(t)) => (passed, total) = (p, t),
            _ => {
                return GateResult::fail(
                    "evals",
                    format!("the eval records of {name}@{version} add up to too many cases"),
                    "records are written by `agentctl evals record`; restore them from git",
                );
            }
        }
    }
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
    // Failing evidence fails whoever vouches for it; passing evidence
    // counts only when a trusted signer vouches for it.
    if !unvouched.is_empty() {
        unvouched.sort();
        return GateResult::fail(
            "evals",
            format!(
                "no trusted signer vouches for the eval record(s) of {} (signed before they were recorded, or edited since)",
                unvouched.join(", ")
            ),
            format!(
                "an approval covers the records present when it is made: record the evals first, then sign (`agentctl sign {name}@{version} --key …`)"
            ),
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
