//! The repository rules of `check`: what a pull request may not do to the
//! files that decide admission. Each rule's id, severity and summary are
//! stated once, here, and every finding of the rule is made through it, so
//! the SARIF rule list, the docs and the findings cannot disagree.

use crate::finding::{Finding, Severity};
use std::path::PathBuf;

/// One repository rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The stable id.
    pub id: &'static str,
    /// Errors fail the check; warnings are high risk and need a reviewer.
    pub severity: Severity,
    /// What the rule catches, in one line (SARIF's rule description).
    pub summary: &'static str,
}

impl Rule {
    /// A finding of this rule; a warning's message says "high risk".
    pub fn finding(self, file: impl Into<PathBuf>, message: impl Into<String>) -> Finding {
        match self.severity {
            Severity::Error => Finding::error(self.id, file, message),
            Severity::Warning => {
                Finding::warning(self.id, file, format!("high risk: {}", message.into()))
            }
        }
    }
}

/// agentctl.toml lowers an environment's bar.
pub const POLICY_WEAKENED: Rule = Rule {
    id: "policy-weakened",
    severity: Severity::Error,
    summary: "agentctl.toml lowers an environment's bar: a required role, distinct signers, the eval gate or promotion from the previous environment dropped, an environment removed, reordered or preceded by a new one without its gates, a freeze lifted or shortened",
};

/// An allowed_signers line accepts more than it did.
pub const SIGNER_WIDENED: Rule = Rule {
    id: "signer-widened",
    severity: Severity::Error,
    summary: "an allowed_signers line accepts more: a wildcard principal, a `!` negation or `cert-authority` removed, a validity limit or namespaces restriction removed or widened",
};

/// Someone new can approve.
pub const TRUST_CHANGED: Rule = Rule {
    id: "trust-changed",
    severity: Severity::Warning,
    summary: "a signer added, a key replaced, a key made a certificate authority, or a signer role given to someone (high risk)",
};

/// An environment log was not only appended to.
pub const LOG_REWRITTEN: Rule = Rule {
    id: "log-rewritten",
    severity: Severity::Error,
    summary: "an environment log line was changed or deleted; logs only grow",
};

/// A pin the base and the appended events do not explain.
pub const ENVIRONMENT_HAND_EDITED: Rule = Rule {
    id: "environment-hand-edited",
    severity: Severity::Error,
    summary: "an environment pin that the base and the events appended to its log do not explain, or an appended event that does not follow from the base",
};

/// A released file changed.
pub const RELEASE_MODIFIED: Rule = Rule {
    id: "release-modified",
    severity: Severity::Error,
    summary: "a released file (bundle, release.yaml, a recorded eval result) was changed or deleted, or a release no longer matches its digest; releases are immutable",
};

/// An approval replaced or removed.
pub const SIGNATURE_REPLACED: Rule = Rule {
    id: "signature-replaced",
    severity: Severity::Warning,
    summary: "a release's signature file was replaced or removed (high risk)",
};

/// Checkout could now change the bytes agentctl digests.
pub const GITATTRIBUTES_CHANGED: Rule = Rule {
    id: "gitattributes-changed",
    severity: Severity::Error,
    summary: "a .gitattributes line that can change checked-out bytes (text, eol, crlf, filter, ident, working-tree-encoding, binary) was added, changed or removed for agents/, releases/, environments/ or .agentctl/",
};

/// An environment's vars changed: what every agent it runs renders.
pub const VARS_CHANGED: Rule = Rule {
    id: "vars-changed",
    severity: Severity::Warning,
    summary: "an environment's vars changed: every prompt it renders changes without a new release, and its approvals no longer cover them until re-signed (high risk)",
};

/// Every repository rule.
pub const ALL: [Rule; 9] = [
    VARS_CHANGED,
    POLICY_WEAKENED,
    SIGNER_WIDENED,
    TRUST_CHANGED,
    LOG_REWRITTEN,
    ENVIRONMENT_HAND_EDITED,
    RELEASE_MODIFIED,
    SIGNATURE_REPLACED,
    GITATTRIBUTES_CHANGED,
];

const fn catalog<const N: usize>(rules: [Rule; N]) -> [(&'static str, &'static str); N] {
    let mut out = [("", ""); N];
    let mut i = 0;
    while i < N {
        out[i] = (rules[i].id, rules[i].summary);
        i += 1;
    }
    out
}

const CATALOG: [(&str, &str); ALL.len()] = catalog(ALL);

/// Repository rule ids and summaries, for docs and SARIF.
pub const RULES: &[(&str, &str)] = &CATALOG;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_warnings_say_high_risk() {
        let mut ids: Vec<&str> = ALL.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len());
        assert_eq!(RULES.len(), ALL.len());
        let f = TRUST_CHANGED.finding("f", "x");
        assert_eq!(f.message, "high risk: x");
        assert!(!f.is_error());
        assert!(POLICY_WEAKENED.finding("f", "x").is_error());
    }
}
