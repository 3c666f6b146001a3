//! `releases/`: written once by agentctl, never changed.
//!
//! A released bundle file, `release.yaml` or a recorded eval result that
//! existed at the base and was changed or deleted is an error: a pull
//! request could otherwise improve its own eval results or swap content
//! under a signed digest. New files (a new release, new eval results, new
//! signatures) are fine. A signature replaced or removed is a high-risk
//! warning: it is a different approval, which a reviewer should look at.

use super::rules::{RELEASE_MODIFIED, SIGNATURE_REPLACED};
use crate::finding::Finding;
use crate::repo::Repo;
use std::collections::BTreeSet;
use std::path::Path;

/// What happened to a file that existed at the base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileChange {
    /// Its content changed.
    Changed,
    /// It is gone.
    Deleted,
}

impl FileChange {
    fn word(self) -> &'static str {
        match self {
            FileChange::Changed => "changed",
            FileChange::Deleted => "deleted",
        }
    }
}

/// The finding for a path under `releases/` (relative to the agentctl
/// root) that existed at the base; `None` for paths that are not part of a
/// release.
pub fn release_file_finding(rel: &str, change: FileChange) -> Option<Finding> {
    let parts: Vec<&str> = rel.split('/').collect();
    let [_, name, version, area, ..] = parts.as_slice() else {
        return None;
    };
    let restore = format!("restore it from the base (`git checkout <base> -- {rel}`)");
    Some(match *area {
        "signatures" => {
            let principal = parts
                .last()
                .map(|f| f.strip_suffix(".sig").unwrap_or(f))
                .unwrap_or_default();
            let word = match change {
                FileChange::Changed => "replaced",
                FileChange::Deleted => "removed",
            };
            SIGNATURE_REPLACED
                .finding(rel, format!("the signature of {principal} on {name}@{version} was {word}"))
                .hint(format!(
                    "a new signature is a new approval: check who made it (`agentctl verify {name}@{version}`) and why the old one went, or {restore}"
                ))
        }
        "evals" => RELEASE_MODIFIED
            .finding(
                rel,
                format!(
                    "{rel} was {}; recorded eval results are immutable",
                    change.word()
                ),
            )
            .hint(format!(
                "{restore}; record results for new content in a new release"
            )),
        _ => RELEASE_MODIFIED
            .finding(
                rel,
                format!("{rel} was {}; releases are immutable", change.word()),
            )
            .hint(format!("{restore}; release a new version instead")),
    })
}

/// Findings for the changed paths under `releases/`: each file that existed
/// at the base, and each touched release whose files no longer match its
/// digest.
pub fn release_changes(repo: &Repo, base: &git2::Tree, changed: &[String]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut touched: BTreeSet<(&str, &str)> = BTreeSet::new();
    for p in changed.iter().filter(|p| p.starts_with("releases/")) {
        let parts: Vec<&str> = p.split('/').collect();
        if let [_, name, version, _, ..] = parts.as_slice() {
            touched.insert((name, version));
        }
        // agentctl writes only regular files and directories here; a link
        // (to /dev/zero, to a secret, to a victim's directory) is an attack.
        if let Some(link) = crate::files::first_link(&repo.root, Path::new(p)) {
            let shown = link
                .strip_prefix(&repo.root)
                .unwrap_or(&link)
                .display()
                .to_string();
            out.push(
                RELEASE_MODIFIED
                    .finding(p, format!("{shown} is a symbolic link; agentctl writes only regular files under releases/"))
                    .hint("remove the link: releases are written by agentctl only"),
            );
            continue;
        }
        let existed = base
            .get_path(Path::new(&format!("{}{p}", repo.prefix)))
            .is_ok();
        if !existed {
            continue;
        }
        let change = if repo.path(p).symlink_metadata().is_ok() {
            FileChange::Changed
        } else {
            FileChange::Deleted
        };
        out.extend(release_file_finding(p, change));
    }
    for (name, version) in touched {
        if let Ok(Some(_)) = repo.release_meta(name, version)
            && let Err(e) = repo.verify_release(name, version, None)
        {
            out.push(
                RELEASE_MODIFIED
                    .finding(repo.release_path(name, version), e.to_string())
                    .hint("releases are written by agentctl only; restore the files from git"),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn released_files_and_eval_records_are_immutable() {
        for (rel, change, message) in [
            (
                "releases/a/1.0.0/release.yaml",
                FileChange::Changed,
                "releases/a/1.0.0/release.yaml was changed; releases are immutable",
            ),
            (
                "releases/a/1.0.0/bundle/prompts/system.md",
                FileChange::Deleted,
                "releases/a/1.0.0/bundle/prompts/system.md was deleted; releases are immutable",
            ),
            (
                "releases/a/1.0.0/evals/accuracy.json",
                FileChange::Changed,
                "releases/a/1.0.0/evals/accuracy.json was changed; recorded eval results are immutable",
            ),
            (
                "releases/a/1.0.0/evals/accuracy.json",
                FileChange::Deleted,
                "releases/a/1.0.0/evals/accuracy.json was deleted; recorded eval results are immutable",
            ),
        ] {
            let f = release_file_finding(rel, change).expect("a finding");
            assert_eq!(
                (f.rule, f.is_error(), f.message.as_str()),
                ("release-modified", true, message)
            );
            assert!(f.hint.is_some());
        }
    }

    #[test]
    fn a_replaced_signature_is_a_warning() {
        let f = release_file_finding(
            "releases/a/1.0.0/signatures/sam@example.com.sig",
            FileChange::Changed,
        )
        .expect("a finding");
        assert_eq!(f.rule, "signature-replaced");
        assert!(!f.is_error());
        assert_eq!(
            f.message,
            "high risk: the signature of sam@example.com on a@1.0.0 was replaced"
        );
        let f = release_file_finding(
            "releases/a/1.0.0/signatures/sam@example.com.sig",
            FileChange::Deleted,
        )
        .expect("a finding");
        assert!(f.message.ends_with("was removed"));
    }

    #[test]
    fn paths_outside_a_release_are_not_judged() {
        assert!(release_file_finding("releases/a/README", FileChange::Changed).is_none());
    }
}
