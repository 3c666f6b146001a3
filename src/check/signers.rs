//! `.agentctl/allowed_signers` at the base against the pull request.
//!
//! A line whose key the base already trusted may not accept more than it
//! did: no new wildcard principal, no `!` negation dropped, no
//! `cert-authority` dropped (the key would sign directly), no validity limit
//! or `namespaces=` restriction removed or widened. Those are errors. A new
//! key, a new principal for a key, or a key turned certificate authority is
//! a high-risk warning naming principals and fingerprint: it changes who can
//! approve without loosening a line, so a reviewer decides.

use super::rules::{SIGNER_WIDENED, TRUST_CHANGED};
use crate::finding::{Finding, Position};
use crate::signing::{AllowedSigner, AllowedSigners};
use ssh_key::HashAlg;
use std::path::Path;

const FILE: &str = ".agentctl/allowed_signers";
const HINT: &str = "whoever allowed_signers accepts can approve releases: this change needs security review (CODEOWNERS), and deploy jobs should verify with their own copy (--allowed-signers)";

/// Every line of `head` that accepts more than `base` did. A base that does
/// not parse counts as empty; a head that does not parse compares as
/// nothing (verify refuses it).
pub fn allowed_signers_changes(base_text: &str, head_text: &str) -> Vec<Finding> {
    let path = Path::new(FILE);
    let Ok(head) = AllowedSigners::parse(head_text, path) else {
        return Vec::new();
    };
    let base = AllowedSigners::parse(base_text, path).unwrap_or_default();
    let raw_lines: Vec<&str> = head_text.lines().collect();
    let mut out = Vec::new();
    for h in &head.entries {
        let raw = raw_lines.get(h.line.wrapping_sub(1)).copied().unwrap_or("");
        let line = Line {
            raw,
            number: h.line,
        };
        let fp = h.key.fingerprint(HashAlg::Sha256).to_string();
        let mut widened = |needle: &str, message: String| {
            out.push(
                SIGNER_WIDENED
                    .finding(FILE, format!("{message} for key {fp}"))
                    .at(line.at(needle))
                    .hint(HINT),
            );
        };
        let same_key: Vec<&AllowedSigner> = base
            .entries
            .iter()
            .filter(|b| b.key.key_data() == h.key.key_data())
            .collect();
        // The base line this one continues: the same key, most principals shared.
        let before = same_key.iter().copied().rev().max_by_key(|b| {
            h.principals
                .iter()
                .filter(|p| b.principals.contains(p))
                .count()
        });
        let old_principals: &[String] = before.map_or(&[], |b| &b.principals);
        for p in h.principals.iter().filter(|p| is_wildcard(p)) {
            // A new certificate authority line is judged as a whole below.
            if !old_principals.contains(p) && (before.is_some() || !h.cert_authority) {
                widened(
                    p,
                    format!("wildcard principal `{p}`: the line now accepts anyone it matches"),
                );
            }
        }
        if let Some(b) = before {
            for neg in b.principals.iter().filter(|p| p.starts_with('!')) {
                if !h.principals.contains(neg) {
                    widened(
                        "",
                        format!(
                            "negation `{neg}` removed: the line now accepts {}",
                            &neg[1..]
                        ),
                    );
                }
            }
            if b.cert_authority && !h.cert_authority {
                widened(
                    "",
                    format!(
                        "cert-authority removed: {} may now be signed for directly",
                        h.principals.join(",")
                    ),
                );
            }
            match (&b.namespaces, &h.namespaces) {
                (Some(x), None) => widened(
                    "",
                    format!("namespaces=\"{}\" restriction removed", x.join(",")),
                ),
                (Some(x), Some(y)) => {
                    let extra: Vec<&str> = y
                        .iter()
                        .filter(|n| !x.contains(n))
                        .map(String::as_str)
                        .collect();
                    if !extra.is_empty() {
                        widened(
                            "namespaces",
                            format!("namespaces widened by {}", extra.join(", ")),
                        );
                    }
                }
                _ => {}
            }
            match (b.valid_after, h.valid_after) {
                (Some(t), None) => widened("", format!("valid-after limit {t} removed")),
                (Some(t), Some(u)) if u < t => {
                    widened(
                        "valid-after",
                        format!("valid-after moved earlier: {t} → {u}"),
                    );
                }
                _ => {}
            }
            match (b.valid_before, h.valid_before) {
                (Some(t), None) => widened("", format!("valid-before limit {t} removed")),
                (Some(t), Some(u)) if u > t => {
                    widened(
                        "valid-before",
                        format!("valid-before moved later: {t} → {u}"),
                    );
                }
                _ => {}
            }
        }

        let trust = |needle: &str, message: String| {
            TRUST_CHANGED
                .finding(FILE, message)
                .at(line.at(needle))
                .hint(HINT)
        };
        if h.cert_authority && before.is_none_or(|b| !b.cert_authority) {
            let what = if before.is_some() { "made" } else { "added as" };
            out.push(trust(
                "cert-authority",
                format!(
                    "key {fp} {what} a certificate authority for {}",
                    h.principals.join(",")
                ),
            ));
            continue;
        }
        let mut added = Vec::new();
        for p in h
            .principals
            .iter()
            .filter(|p| !p.starts_with('!') && !is_wildcard(p))
        {
            let holders: Vec<&AllowedSigner> = base
                .entries
                .iter()
                .filter(|b| b.principals.contains(p))
                .collect();
            if holders.is_empty() {
                added.push(p.as_str());
            } else if !holders.iter().any(|b| b.key.key_data() == h.key.key_data()) {
                out.push(trust(
                    p,
                    format!("key of {p} replaced: {p} now signs with key {fp}"),
                ));
            }
        }
        if !added.is_empty() {
            let noun = if added.len() == 1 {
                "signer"
            } else {
                "signers"
            };
            out.push(trust(
                added[0],
                format!("{noun} {} added with key {fp}", added.join(", ")),
            ));
        }
    }
    out
}

fn is_wildcard(p: &str) -> bool {
    !p.starts_with('!') && p.contains(['*', '?'])
}

/// One line of the head file, to place findings on.
#[derive(Clone, Copy)]
struct Line<'a> {
    raw: &'a str,
    number: usize,
}

impl Line<'_> {
    /// The line, at the first `needle` (case-insensitive: option names are),
    /// or at its first column.
    fn at(self, needle: &str) -> Option<Position> {
        let lower = self.raw.to_ascii_lowercase();
        let column = lower
            .find(&needle.to_ascii_lowercase())
            .map_or(1, |o| self.raw[..o].chars().count() + 1);
        Some(Position {
            line: u32::try_from(self.number).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPr+dhluDxhfahovmg7TZYpQ36OkUkk6ogjQoqIABSqf";
    const KEY_B: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPZ0eIwz4kHyu5GUC+rcFr2mI/Em5I2Nzc8aZnBmjiOk";
    const FP_A: &str = "SHA256:igFq+LiqR57UssIEiAQlkyYYSWLO3YyklP2xy3e6EUA";
    const FP_B: &str = "SHA256:FO8qdgv5vw6qvccp05enFcdnG15bi+dhhw8M6RBEYPg";

    fn base() -> String {
        format!(
            "# signers\nalice@example.com,!eve@example.com namespaces=\"agentctl\",valid-after=\"20260101\",valid-before=\"20270101\" {KEY_A} alice\n"
        )
    }

    /// (rule, message, column) of each finding.
    fn found(base: &str, head: &str) -> Vec<(&'static str, String, u32)> {
        allowed_signers_changes(base, head)
            .into_iter()
            .map(|f| (f.rule, f.message, f.position.map_or(0, |p| p.column)))
            .collect()
    }

    #[test]
    fn an_unchanged_or_narrowed_file_is_quiet() {
        let b = base();
        assert!(found(&b, &b).is_empty());
        let narrower = b
            .replace("20270101", "20261201")
            .replace(",!eve", ",!eve@example.com,!mallory");
        assert!(found(&b, &narrower).is_empty());
        assert!(found(&b, "").is_empty(), "removing signers narrows");
    }

    #[test]
    fn each_widening_of_a_known_key_is_an_error() {
        let b = base();
        let cases = [
            (
                b.replace("alice@example.com,", "*@example.com,"),
                format!(
                    "wildcard principal `*@example.com`: the line now accepts anyone it matches for key {FP_A}"
                ),
                1,
            ),
            (
                b.replace(",!eve@example.com", ""),
                format!(
                    "negation `!eve@example.com` removed: the line now accepts eve@example.com for key {FP_A}"
                ),
                1,
            ),
            (
                b.replace("namespaces=\"agentctl\",", ""),
                format!("namespaces=\"agentctl\" restriction removed for key {FP_A}"),
                1,
            ),
            (
                b.replace("\"agentctl\"", "\"agentctl,*\""),
                format!("namespaces widened by * for key {FP_A}"),
                36,
            ),
            (
                b.replace(",valid-before=\"20270101\"", ""),
                format!("valid-before limit 2027-01-01T00:00:00Z removed for key {FP_A}"),
                1,
            ),
            (
                b.replace("20270101", "202701011200"),
                format!(
                    "valid-before moved later: 2027-01-01T00:00:00Z → 2027-01-01T12:00:00Z for key {FP_A}"
                ),
                81,
            ),
            (
                b.replace("20260101", "20251231"),
                format!(
                    "valid-after moved earlier: 2026-01-01T00:00:00Z → 2025-12-31T00:00:00Z for key {FP_A}"
                ),
                58,
            ),
            (
                b.replace("valid-after=\"20260101\",", ""),
                format!("valid-after limit 2026-01-01T00:00:00Z removed for key {FP_A}"),
                1,
            ),
        ];
        for (head, message, column) in cases {
            let got = found(&b, &head);
            assert_eq!(got, [("signer-widened", message, column)], "{head}");
        }
    }

    #[test]
    fn a_certificate_authority_that_signs_directly_is_an_error() {
        let b = format!("*@example.com cert-authority {KEY_B}\n");
        let head = format!("*@example.com {KEY_B}\n");
        assert_eq!(
            found(&b, &head),
            [(
                "signer-widened",
                format!(
                    "cert-authority removed: *@example.com may now be signed for directly for key {FP_B}"
                ),
                1
            )]
        );
        // Making a key a CA, or adding one, is for a reviewer.
        let got = found(&head, &b);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "trust-changed");
        assert_eq!(
            got[0].1,
            format!("high risk: key {FP_B} made a certificate authority for *@example.com")
        );
        let got = found("", &b);
        assert_eq!(
            got,
            [(
                "trust-changed",
                format!("high risk: key {FP_B} added as a certificate authority for *@example.com"),
                15
            )]
        );
    }

    #[test]
    fn new_keys_and_principals_are_named_warnings() {
        let b = base();
        let head = format!("{b}bob@example.com,carol@example.com {KEY_B}\n");
        let got = found(&b, &head);
        assert_eq!(
            got,
            [(
                "trust-changed",
                format!(
                    "high risk: signers bob@example.com, carol@example.com added with key {FP_B}"
                ),
                1
            )]
        );
        let replaced = format!("alice@example.com {KEY_B}\n");
        assert_eq!(
            found(&b, &replaced),
            [(
                "trust-changed",
                format!(
                    "high risk: key of alice@example.com replaced: alice@example.com now signs with key {FP_B}"
                ),
                1
            )]
        );
        // A new line with a wildcard accepts anyone: an error, whatever the key.
        let wild = format!("{b}* {KEY_B}\n");
        let got = found(&b, &wild);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, "signer-widened");
        // A second line for a known key may not drop the first one's limits.
        let second = format!("{b}alice@example.com {KEY_A}\n");
        let got = found(&b, &second);
        let rules: Vec<&str> = got.iter().map(|g| g.0).collect();
        assert_eq!(rules, ["signer-widened"; 4], "{got:?}");
    }

    #[test]
    fn an_unparseable_base_counts_as_empty() {
        let head = base();
        let got = found("not a signer line", &head);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "trust-changed");
        assert!(found(&head, "garbage").is_empty());
    }
}
