//! Eval results bound to the content they were run against.
//!
//! `agentctl evals record NAME@VERSION FILE` reads promptfoo's JSON output
//! (`promptfoo eval -o results.json`) or a small native format, and stores a
//! normalized record under `releases/NAME/VERSION/evals/<suite>.json` with
//! the release digest. An environment with `require_evals` refuses a release
//! whose records are missing, were made for another digest, or whose pass
//! rate, passed / (passed + failed + errors), is below the bundle's
//! `evals.min_pass_rate`.

use serde::{Deserialize, Serialize};

/// The largest results file accepted.
pub const MAX_RESULTS_BYTES: u64 = 64 * 1024 * 1024;

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
    /// passed / (passed + failed + errors); 0 when nothing ran.
    pub fn pass_rate(&self) -> f64 {
        pass_rate(self.passed, self.passed + self.failed + self.errors)
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

/// Counts read from a results file.
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
    /// When it ran.
    pub run_at: Option<String>,
    /// Which format it was.
    pub format: &'static str,
}

/// The native format.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Native {
    suite: String,
    passed: u64,
    failed: u64,
    #[serde(default)]
    errors: u64,
    run_at: Option<String>,
}

/// Parse a results file: promptfoo output or the native format.
pub fn parse(text: &str) -> Result<Parsed, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    if value.get("passed").is_some() && value.get("suite").is_some() {
        let n: Native =
            serde_json::from_value(value).map_err(|e| format!("native eval results: {e}"))?;
        return Ok(Parsed {
            suite: Some(n.suite),
            passed: n.passed,
            failed: n.failed,
            errors: n.errors,
            run_at: n.run_at,
            format: "native",
        });
    }
    // promptfoo: { evalId, results: { version, timestamp, results: [...], stats: {...} }, config: {...} }
    let summary = value
        .get("results")
        .filter(|r| r.is_object())
        .ok_or("neither promptfoo output (no `results` object) nor native results (`suite`, `passed`, `failed`)")?;
    let run_at = summary
        .get("timestamp")
        .and_then(|t| t.as_str())
        .map(str::to_string);
    let suite = value
        .get("config")
        .and_then(|c| c.get("description"))
        .and_then(|d| d.as_str())
        .map(str::to_string);
    let count = |key: &str| {
        summary
            .get("stats")
            .and_then(|s| s.get(key))
            .and_then(|v| v.as_u64())
    };
    let (passed, failed, errors) = match (count("successes"), count("failures"), count("errors")) {
        (Some(p), Some(f), e) => (p, f, e.unwrap_or(0)),
        _ => {
            let results = summary.get("results").and_then(|r| r.as_array()).ok_or(
                "promptfoo output has neither `results.stats` nor a `results.results` list",
            )?;
            let mut counts = (0, 0, 0);
            for r in results {
                // failureReason 2 is ERROR in promptfoo's ResultFailureReason.
                let errored = r.get("failureReason").and_then(|v| v.as_u64()) == Some(2);
                match (r.get("success").and_then(|v| v.as_bool()), errored) {
                    (Some(true), _) => counts.0 += 1,
                    (_, true) => counts.2 += 1,
                    _ => counts.1 += 1,
                }
            }
            counts
        }
    };
    Ok(Parsed {
        suite,
        passed,
        failed,
        errors,
        run_at,
        format: "promptfoo",
    })
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
}
