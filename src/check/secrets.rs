//! Credential-looking strings in bundle files.
//!
//! A bundle is copied into every release and every clone of the repository,
//! so a credential that lands in one is leaked for good. The detectors are
//! the well-known token shapes plus `password:`/`api_key:` style assignments
//! with a literal value. Every finding carries the secret's span so every
//! output format can redact it; the secret itself never appears in a report.

use crate::finding::{Finding, Position, Redaction};
use regex::Regex;
use std::path::Path;
use std::sync::LazyLock;

struct Detector {
    rule: &'static str,
    what: &'static str,
    regex: Regex,
    /// Capture group holding the secret (0: the whole match).
    group: usize,
}

static DETECTORS: LazyLock<Vec<Detector>> = LazyLock::new(|| {
    let d = |rule, what, pattern: &str, group| Detector {
        rule,
        what,
        regex: Regex::new(pattern).expect("detector patterns are valid"),
        group,
    };
    vec![
        d(
            "secret-private-key",
            "a private key",
            r"-----BEGIN ([A-Z]+ )*PRIVATE KEY( BLOCK)?-----",
            0,
        ),
        d(
            "secret-cloud-key",
            "an AWS access key id",
            r"\b((?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16})\b",
            1,
        ),
        d(
            "secret-cloud-key",
            "a Google API key",
            r"\b(AIza[0-9A-Za-z_\-]{35})\b",
            1,
        ),
        d(
            "secret-provider-key",
            "an Anthropic API key",
            r"\b(sk-ant-[A-Za-z0-9_\-]{20,})",
            1,
        ),
        d(
            "secret-provider-key",
            "an OpenAI API key",
            r"\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,})",
            1,
        ),
        d(
            "secret-vcs-token",
            "a GitHub token",
            r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,})\b",
            1,
        ),
        d(
            "secret-vcs-token",
            "a GitHub token",
            r"\b(github_pat_[A-Za-z0-9_]{22,})\b",
            1,
        ),
        d(
            "secret-vcs-token",
            "a GitLab token",
            r"\b(glpat-[A-Za-z0-9_\-]{20,})\b",
            1,
        ),
        d(
            "secret-chat-token",
            "a Slack token",
            r"\b(xox[abposr]-[A-Za-z0-9\-]{10,})\b",
            1,
        ),
        d(
            "secret-chat-token",
            "a Slack webhook URL",
            r"(https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]{20,})",
            1,
        ),
        d(
            "secret-payment-key",
            "a Stripe secret key",
            r"\b((?:sk|rk)_live_[0-9A-Za-z]{16,})\b",
            1,
        ),
        d(
            "secret-assignment",
            "a credential assigned a literal value",
            r#"(?i)\b(?:password|passwd|pwd|secret|client_secret|api[_-]?key|access[_-]?key|auth[_-]?token|private[_-]?key|token)\b["']?\s*[:=]\s*["']?([^\s"',;]{6,})"#,
            1,
        ),
    ]
});

/// Values that refer to a credential rather than being one.
fn is_reference(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    v.starts_with("${")
        || v.starts_with("{{")
        || v.starts_with('<')
        || v.starts_with('$')
        || v.starts_with("vault:")
        || v.starts_with("env:")
        || v.starts_with("secret:")
        || v.starts_with("ref+")
        || v.starts_with("arn:")
        || v.starts_with("projects/")
        || v.starts_with("fill-me")
        || v.contains("***")
        || v.contains("redacted")
        || v.contains("example")
        || v.chars().all(|c| c == 'x' || c == '*' || c == '.')
        || [
            "required",
            "optional",
            "none",
            "null",
            "true",
            "false",
            "changeme",
            "placeholder",
        ]
        .contains(&v.as_str())
}

/// How a secret is shown: its first four characters and a length.
pub fn redact(secret: &str) -> String {
    let prefix: String = secret.chars().take(4).collect();
    format!("{prefix}…[redacted, {} chars]", secret.chars().count())
}

/// Scan one file's text.
pub fn scan(text: &str, file: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut taken: Vec<(usize, usize)> = Vec::new();
        for d in DETECTORS.iter() {
            for caps in d.regex.captures_iter(line) {
                let Some(m) = caps.get(d.group) else { continue };
                if taken.iter().any(|&(s, e)| m.start() < e && s < m.end()) {
                    continue;
                }
                let secret = m.as_str();
                if d.rule == "secret-assignment" && is_reference(secret) {
                    continue;
                }
                taken.push((m.start(), m.end()));
                let column = line[..m.start()].chars().count() + 1;
                let length = secret.chars().count();
                let mut f = Finding::error(
                    d.rule,
                    file,
                    format!("{} in a bundle file: {}", d.what, redact(secret)),
                )
                .at(Some(Position {
                    line: u32::try_from(i + 1).unwrap_or(u32::MAX),
                    column: u32::try_from(column).unwrap_or(u32::MAX),
                }))
                .hint("remove it, rotate it (it is in git history now), and reference it from your secret store instead (e.g. `credentials: vault:secret/agents/NAME`)");
                f.redaction = Some(Redaction {
                    column: u32::try_from(column).unwrap_or(u32::MAX),
                    length: u32::try_from(length).unwrap_or(u32::MAX),
                });
                out.push(f);
            }
        }
    }
    out
}

/// `text` with every detected secret replaced by `[REDACTED]`.
pub fn redact_text(text: &str) -> std::borrow::Cow<'_, str> {
    let findings = scan(text, Path::new(""));
    if findings.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    // Mask right to left so earlier columns stay valid.
    let mut spans: Vec<(usize, crate::finding::Redaction)> = findings
        .iter()
        .filter_map(|f| Some((f.position?.line as usize, f.redaction?)))
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse((s.0, s.1.column)));
    for (line, r) in spans {
        if let Some(l) = lines.get_mut(line.saturating_sub(1)) {
            *l = crate::report::human::mask(l, r);
        }
    }
    std::borrow::Cow::Owned(lines.join("\n"))
}

/// Scan every file of a bundle directory (binary files are skipped).
pub fn scan_dir(dir: &Path) -> Vec<Finding> {
    let Ok(files) = crate::digest::list_files(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (_, full) in files {
        let Ok(bytes) = crate::files::read_no_follow(&full, 8 * 1024 * 1024) else {
            continue;
        };
        if bytes.contains(&0) {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        out.extend(scan(&text, &full));
    }
    out
}

/// Secret rule ids, for docs and SARIF.
pub const RULES: &[(&str, &str)] = &[
    ("secret-private-key", "a private key block in a bundle file"),
    ("secret-cloud-key", "a cloud access key in a bundle file"),
    (
        "secret-provider-key",
        "a model-provider API key in a bundle file",
    ),
    (
        "secret-vcs-token",
        "a GitHub or GitLab token in a bundle file",
    ),
    (
        "secret-chat-token",
        "a Slack token or webhook in a bundle file",
    ),
    (
        "secret-payment-key",
        "a payment provider secret key in a bundle file",
    ),
    (
        "secret-assignment",
        "a password/api_key-style assignment with a literal value",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_redacts_known_shapes() {
        let text = "ok line\naws: AKIAIOSFODNN7EXAMPLF\nkey = sk-ant-api03-abcdefghijklmnopqrstuvwxyz\n-----BEGIN OPENSSH PRIVATE KEY-----\npassword: hunter22secret\n";
        let f = scan(text, Path::new("p.md"));
        let rules: Vec<_> = f
            .iter()
            .map(|f| (f.rule, f.position.map(|p| p.line)))
            .collect();
        assert_eq!(
            rules,
            [
                ("secret-cloud-key", Some(2)),
                ("secret-provider-key", Some(3)),
                ("secret-private-key", Some(4)),
                ("secret-assignment", Some(5))
            ]
        );
        for x in &f {
            assert!(
                !x.message.contains("hunter22secret") && !x.message.contains("IOSFODNN7"),
                "{}",
                x.message
            );
        }
        assert_eq!(f[1].position.map(|p| p.column), Some(7));
    }

    #[test]
    fn references_are_not_secrets() {
        let text = "credentials: vault:secret/agents/x\napi_key: ${API_KEY}\npassword: <your password>\ntoken: FILL-ME\n";
        assert!(scan(text, Path::new("a.yaml")).is_empty());
    }
}
