//! Findings: what `validate`, `check` and the gates report.
//!
//! Every finding carries a stable rule id (documented in the README), a
//! severity, the file and position it is about, a message that says what is
//! wrong, and a hint that says what to do. Renderers in `report` turn the same
//! findings into human, JSON, GitHub, SARIF, JUnit and Markdown output.

use serde::Serialize;
use std::path::PathBuf;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never blocks.
    Warning,
    /// Blocks a release, a promotion or a merge.
    Error,
}

impl Severity {
    /// The lowercase word used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A 1-based line and column in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

/// One problem found in a bundle or repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable rule id, e.g. `owner-production-missing`.
    pub rule: &'static str,
    /// Whether it blocks.
    pub severity: Severity,
    /// The file it is about, relative to the directory the command ran on
    /// (or absolute when outside it).
    pub file: PathBuf,
    /// Where in the file, when known.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// A span of the source line that must never be shown (a secret).
    #[serde(skip)]
    pub redaction: Option<Redaction>,
}

/// A span of a source line to mask in snippets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redaction {
    /// 1-based column where the secret starts.
    pub column: u32,
    /// Its length in characters.
    pub length: u32,
}

impl Finding {
    /// An error finding with no position yet.
    pub fn error(rule: &'static str, file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Finding {
            rule,
            severity: Severity::Error,
            file: file.into(),
            position: None,
            message: message.into(),
            hint: None,
            redaction: None,
        }
    }

    /// A warning finding with no position yet.
    pub fn warning(
        rule: &'static str,
        file: impl Into<PathBuf>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(rule, file, message)
        }
    }

    /// Attach a position.
    pub fn at(mut self, position: Option<Position>) -> Self {
        self.position = position;
        self
    }

    /// Attach a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Whether this finding blocks.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sort findings by file, position, then rule, so output is stable.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (&a.file, a.position, a.rule, &a.message).cmp(&(&b.file, b.position, b.rule, &b.message))
    });
}
