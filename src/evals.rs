//! Eval results bound to the content they were run against.
//!
//! `agentctl evals record NAME@VERSION FILE` reads promptfoo's JSON output
//! (`promptfoo eval -o results.json`) or a small native format, and stores a
//! normalized record under `releases/NAME/VERSION/evals/<suite>.json` with
//! the release digest. An environment with `require_evals` refuses a release
//! whose records are missing, were made for another digest, or whose pass
//! rate, passed / (passed + failed + errors), is below the bundle's
//! `evals.min_pass_rate`.
//!
//! Results files and stored records come from pull requests and CI jobs, so
//! their numbers are checked before any arithmetic: whole numbers, at most
//! [`MAX_CASES`] per suite in total, at least one case, and (see
//! [`declared_cases`]) no fewer cases than the suite file declares.

use serde::{Deserialize, Serialize};

/// The largest results file accepted.
pub const MAX_RESULTS_BYTES: u64 = 64 * 1024 * 1024;

/// The most test cases one suite's run may report (passed + failed + errors).
pub const MAX_CASES: u64 = 10_000_000;

/// Why a results file (or a stored record) cannot be taken at its word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultsError {
    /// Not JSON at all.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// JSON, but neither format.
    #[error(
        "neither promptfoo output (no `results` object) nor native results (`suite`, `passed`, `failed`)"
    )]
    UnknownFormat,
    /// The native format, with a missing or unknown field.
    #[error("native eval results: {0}")]
    Native(String),
    /// promptfoo output without anything to count.
    #[error("promptfoo output has neither `results.stats` nor a `results.results` list")]
    NoCounts,
    /// A required count is missing.
    #[error("`{field}` is missing")]
    Missing {
        /// The field, as a JSON path.
        field: String,
    },
    /// A count that is not a whole, non-negative number.
    #[error("`{field}` is {found}, not a whole number of test cases")]
    NotACount {
        /// The field, as a JSON path.
        field: String,
        /// What it holds instead.
        found: String,
    },
    /// One count over the bound.
    #[error("`{field}` is {value}; a suite's run has at most {MAX_CASES} cases")]
    TooMany {
        /// The field, as a JSON path.
        field: String,
        /// Its value.
        value: u64,
    },
    /// The counts together over the bound.
    #[error(
        "{passed} passed + {failed} failed + {errors} errors is {total} cases; a suite's run has at most {MAX_CASES}"
    )]
    TotalTooMany {
        /// Passed.
        passed: u64,
        /// Failed.
        failed: u64,
        /// Errors.
        errors: u64,
        /// Their sum.
        total: u64,
    },
    /// Nothing ran.
    #[error("no test cases ran (passed, failed and errors are all 0)")]
    Empty,
}

/// Check a run's counts (named by `fields`, for messages) and return the
/// number of cases: each and their sum at most [`MAX_CASES`], and not 0.
pub fn total_cases(
    [passed, failed, errors]: [u64; 3],
    fields: [&str; 3],
) -> Result<u64, ResultsError> {
    for (value, field) in [passed, failed, errors].into_iter().zip(fields) {
        if value > MAX_CASES {
            return Err(ResultsError::TooMany {
                field: field.to_string(),
                value,
            });
        }
    }
    // Cannot overflow after the bounds above; checked all the same.
    let total = passed
        .checked_add(failed)
        .and_then(|t| t.checked_add(errors))
        .ok_or(ResultsError::TooMany {
            field: fields[1].to_string(),
            value: failed,
        })?;
    if total > MAX_CASES {
        return Err(ResultsError::TotalTooMany {
            passed,
            failed,
            errors,
            total,
        });
    }
    if total == 0 {
        return Err(ResultsError::Empty);
    }
    Ok(total)
}

/// A normalized eval record, as stored in the release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalRecord {
    /// Suite name.
    pub suite: String,
    /// The release digest the results were recorded for.
    pub digest: String,
    /// Test cases that passed.
    pub passed: u64,
    /// Test cases that failed their assertions.
    pub failed: u64,
    /// Test cases that errored (provider or harness failures).
    pub errors: u64,
    /// When the evals ran (RFC 3339), as the results say.
    pub run_at: Option<String>,
    /// `promptfoo` or `native`.
    pub format: String,
    /// When recorded.
    pub recorded_at: String,
    /// Who recorded it.
    pub recorded_by: String,
}

impl EvalRecord {
    /// The record's number of cases, checked as a results file's are.
    pub fn total(&self) -> Result<u64, ResultsError> {
        total_cases(
            [self.passed, self.failed, self.errors],
            ["passed", "failed", "errors"],
        )
    }

    /// passed / (passed + failed + errors); 0 when the counts do not check.
    pub fn pass_rate(&self) -> f64 {
        self.total()
            .map_or(0.0, |total| pass_rate(self.passed, total))
    }
}

/// passed / total; 0 when nothing ran.
pub fn pass_rate(passed: u64, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    passed as f64 / total as f64
}

/// Whether a pass rate reaches a threshold (a rate printed as equal to it
/// is not refused over floating-point rounding).
pub fn meets(rate: f64, min_pass_rate: f64) -> bool {
    rate + 1e-12 >= min_pass_rate
}

/// Counts read from a results file (checked: see [`total_cases`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// Suite name, when the file names one.
    pub suite: Option<String>,
    /// Passed.
    pub passed: u64,
    /// Failed.
    pub failed: u64,
    /// Errors.
    pub errors: u64,
    /// passed + failed + errors.
    pub total: u64,
    /// When it ran.
    pub run_at: Option<String>,
    /// Which format it was.
    pub format: &'static str,
}

/// The native format (counts are read, and checked, from the JSON value).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Native {
    suite: String,
    #[serde(rename = "passed")]
    _passed: serde_json::Value,
    #[serde(rename = "failed")]
    _failed: serde_json::Value,
    #[serde(default, rename = "errors")]
    _errors: serde_json::Value,
    run_at: Option<String>,
}

/// A count in `object` at `key` (`path` names it in messages): `None` when absent.
fn count(object: &serde_json::Value, key: &str, path: &str) -> Result<Option<u64>, ResultsError> {
    match object.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| ResultsError::NotACount {
            field: path.to_string(),
            found: v.to_string(),
        }),
    }
}

fn required(value: Option<u64>, path: &str) -> Result<u64, ResultsError> {
    value.ok_or_else(|| ResultsError::Missing {
        field: path.to_string(),
    })
}

/// Parse a results file: promptfoo output or the native format.
pub fn parse(text: &str) -> Result<Parsed, ResultsError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ResultsError::NotJson(e.to_string()))?;
    if value.get("passed").is_some() && value.get("suite").is_some() {
        let n: Native = serde_json::from_value(value.clone())
            .map_err(|e| ResultsError::Native(e.to_string()))?;
        let counts = [
            required(count(&value, "passed", "passed")?, "passed")?,
            required(count(&value, "failed", "failed")?, "failed")?,
            count(&value, "errors", "errors")?.unwrap_or(0),
        ];
        let total = total_cases(counts, ["passed", "failed", "errors"])?;
        let [passed, failed, errors] = counts;
        return Ok(Parsed {
            suite: Some(n.suite),
            passed,
            failed,
            errors,
            total,
            run_at: n.run_at,
            format: "native",
        });
    }
    // promptfoo: { evalId, results: { version, timestamp, results: [...], stats: {...} }, config: {...} }
    let summary = value
        .get("results")
        .filter(|r| r.is_object())
        .ok_or(ResultsError::UnknownFormat)?;
    let run_at = summary
        .get("timestamp")
        .and_then(|t| t.as_str())
        .map(str::to_string);
    let suite = value
        .get("config")
        .and_then(|c| c.get("description"))
        .and_then(|d| d.as_str())
        .map(str::to_string);
    let stats = summary
        .get("stats")
        .filter(|s| s.get("successes").is_some() || s.get("failures").is_some());
    let (counts, fields) = match stats {
        Some(stats) => (
            [
                required(
                    count(stats, "successes", "results.stats.successes")?,
                    "results.stats.successes",
                )?,
                required(
                    count(stats, "failures", "results.stats.failures")?,
                    "results.stats.failures",
                )?,
                count(stats, "errors", "results.stats.errors")?.unwrap_or(0),
            ],
            [
                "results.stats.successes",
                "results.stats.failures",
                "results.stats.errors",
            ],
        ),
        None => {
            let results = summary
                .get("results")
                .and_then(|r| r.as_array())
                .ok_or(ResultsError::NoCounts)?;
            let mut counts = [0u64; 3];
            for r in results {
                // failureReason 2 is ERROR in promptfoo's ResultFailureReason.
                let errored = r.get("failureReason").and_then(|v| v.as_u64()) == Some(2);
                let i = match (r.get("success").and_then(|v| v.as_bool()), errored) {
                    (Some(true), _) => 0,
                    (_, true) => 2,
                    _ => 1,
                };
                counts[i] = counts[i].saturating_add(1);
            }
            (counts, ["results.results"; 3])
        }
    };
    let total = total_cases(counts, fields)?;
    let [passed, failed, errors] = counts;
    Ok(Parsed {
        suite,
        passed,
        failed,
        errors,
        total,
        run_at,
        format: "promptfoo",
    })
}

/// How many test cases a suite file declares, at least: the length of a
/// promptfoo test file (a top-level list of test cases, as the example
/// suites and `agentctl new`'s scaffold are) or of a promptfoo config's
/// `tests` list. A lower bound, because promptfoo runs each case once per
/// prompt and provider, and once per combination of list-valued `vars`.
/// `Err` says why the number cannot be told (a `tests: file://…` reference,
/// entries that are file references, another harness's format); callers
/// then do not check the run's size rather than guess it.
pub fn declared_cases(text: &str) -> Result<u64, String> {
    let (value, _) = crate::bundle::yaml::parse(text).map_err(|e| match e.position {
        Some(p) => format!("it is not YAML agentctl can read (line {})", p.line),
        None => "it is not YAML agentctl can read".to_string(),
    })?;
    let (cases, what) = match &value {
        serde_json::Value::Array(items) => (items, "its list"),
        serde_json::Value::Object(config) => match config.get("tests") {
            Some(serde_json::Value::Array(items)) => (items, "`tests`"),
            Some(serde_json::Value::String(reference)) => {
                return Err(format!("`tests` refers to {reference}"));
            }
            Some(_) => return Err("`tests` is not a list".into()),
            None => return Err("it has no `tests` list".into()),
        },
        _ => return Err("it is neither a list of test cases nor a config with `tests`".into()),
    };
    if let Some(other) = cases.iter().find(|c| !c.is_object()) {
        return Err(format!(
            "{what} holds {other}, not a test case (a file reference?)"
        ));
    }
    u64::try_from(cases.len()).map_err(|_| "too many cases to count".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_and_pass_rate() {
        let p = parse(r#"{"suite":"triage","passed":9,"failed":1,"errors":0,"run_at":"2026-11-20T10:00:00Z"}"#).expect("native");
        assert_eq!(
            (p.passed, p.failed, p.errors, p.format),
            (9, 1, 0, "native")
        );
        let r = EvalRecord {
            suite: "x".into(),
            digest: "d".into(),
            passed: 8,
            failed: 1,
            errors: 1,
            run_at: None,
            format: "native".into(),
            recorded_at: String::new(),
            recorded_by: String::new(),
        };
        assert!((r.pass_rate() - 0.8).abs() < 1e-9);
    }

    #[test]
    fn promptfoo_counts_from_results_when_stats_missing() {
        let text = r#"{"results":{"version":3,"timestamp":"t","results":[{"success":true},{"success":false,"failureReason":1},{"success":false,"failureReason":2}]}}"#;
        let p = parse(text).expect("promptfoo");
        assert_eq!((p.passed, p.failed, p.errors), (1, 1, 1));
    }

    #[test]
    fn rejects_other_json() {
        assert!(parse(r#"{"hello":1}"#).is_err());
        assert!(parse("not json").is_err());
    }

    #[test]
    fn counts_are_bounded_checked_and_not_empty() {
        let f = ["passed", "failed", "errors"];
        assert_eq!(total_cases([8, 1, 1], f), Ok(10));
        assert_eq!(total_cases([MAX_CASES, 0, 0], f), Ok(MAX_CASES));
        assert_eq!(total_cases([0, 0, 0], f), Err(ResultsError::Empty));
        assert!(matches!(
            total_cases([11, u64::MAX - 4, 0], f),
            Err(ResultsError::TooMany { field, .. }) if field == "failed"
        ));
        assert!(matches!(
            total_cases([MAX_CASES, 1, 0], f),
            Err(ResultsError::TotalTooMany { total, .. }) if total == MAX_CASES + 1
        ));
        let wrapped = r#"{"suite":"s","passed":11,"failed":18446744073709551611}"#;
        assert!(
            matches!(parse(wrapped), Err(ResultsError::TooMany { field, .. }) if field == "failed")
        );
        let fraction = r#"{"suite":"s","passed":1.5,"failed":0}"#;
        assert!(
            matches!(parse(fraction), Err(ResultsError::NotACount { field, .. }) if field == "passed")
        );
    }

    #[test]
    fn declared_cases_of_test_files_and_configs() {
        assert_eq!(
            declared_cases("- vars: {a: 1}\n- description: two\n"),
            Ok(2)
        );
        assert_eq!(
            declared_cases("prompts: [p]\ntests:\n  - vars: {a: 1}\n"),
            Ok(1)
        );
        assert_eq!(declared_cases("[]"), Ok(0));
        for uncountable in [
            "tests: file://cases.csv\n",
            "tests:\n  - file://more.yaml\n",
            "- file://a.yaml\n",
            "prompts: [p]\n",
            "just text",
            "a: [unclosed\n",
        ] {
            assert!(declared_cases(uncountable).is_err(), "{uncountable}");
        }
    }
}
