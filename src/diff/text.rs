//! Text diffs of bundle files: unified, with word-level highlights.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

/// How a file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    /// New.
    Added,
    /// Gone.
    Removed,
    /// Different bytes.
    Modified,
}

/// A piece of a changed line; `emphasized` marks the words that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// Whether this piece changed within the line.
    pub emphasized: bool,
    /// The text.
    pub text: String,
}

/// One line of a hunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    /// `+`, `-` or ` `.
    pub tag: char,
    /// The line in pieces (no trailing newline).
    pub segments: Vec<Segment>,
}

/// One file's diff.
#[derive(Debug, Clone, Serialize)]
pub struct FileDiff {
    /// Path inside the bundle.
    pub path: String,
    /// Added, removed, modified.
    pub status: FileStatus,
    /// Whether either side is binary (not UTF-8, or has NUL bytes).
    pub binary: bool,
    /// Size before.
    pub old_size: Option<u64>,
    /// Size after.
    pub new_size: Option<u64>,
    /// The unified diff (3 lines of context), for text files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unified: Option<String>,
    /// Hunks with word-level highlights, for renderers.
    #[serde(skip)]
    pub hunks: Vec<Vec<Line>>,
    /// Each hunk's `@@ -a,b +c,d @@` header.
    #[serde(skip)]
    pub hunk_headers: Vec<String>,
}

fn as_text(bytes: Option<&[u8]>) -> Option<Option<&str>> {
    match bytes {
        None => Some(None),
        Some(b) if b.contains(&0) => None,
        Some(b) => std::str::from_utf8(b).ok().map(Some),
    }
}

/// Diff one file's two versions.
pub fn diff_file(path: &str, old: Option<&[u8]>, new: Option<&[u8]>) -> FileDiff {
    let status = match (old, new) {
        (None, _) => FileStatus::Added,
        (_, None) => FileStatus::Removed,
        _ => FileStatus::Modified,
    };
    let mut out = FileDiff {
        path: path.to_string(),
        status,
        binary: false,
        old_size: old.map(|b| b.len() as u64),
        new_size: new.map(|b| b.len() as u64),
        unified: None,
        hunks: Vec::new(),
        hunk_headers: Vec::new(),
    };
    let (Some(a), Some(b)) = (as_text(old), as_text(new)) else {
        out.binary = true;
        return out;
    };
    // Diffs end up in pull-request comments: never show a credential.
    let (a, b) = (
        crate::check::secrets::redact_text(a.unwrap_or("")),
        crate::check::secrets::redact_text(b.unwrap_or("")),
    );
    let (a, b) = (a.as_ref(), b.as_ref());
    let diff = TextDiff::from_lines(a, b);
    out.unified = Some(
        diff.unified_diff()
            .context_radius(3)
            .header(&format!("a/{path}"), &format!("b/{path}"))
            .to_string(),
    );
    for group in diff.grouped_ops(3) {
        if let (Some(first), Some(last)) = (group.first(), group.last()) {
            let (o, n) = (first.old_range().start, first.new_range().start);
            let (ol, nl) = (last.old_range().end - o, last.new_range().end - n);
            out.hunk_headers
                .push(format!("@@ -{},{ol} +{},{nl} @@", o + 1, n + 1));
        }
        let mut lines = Vec::new();
        for op in group {
            for change in diff.iter_inline_changes(&op) {
                let tag = match change.tag() {
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                    ChangeTag::Equal => ' ',
                };
                let segments = change
                    .iter_strings_lossy()
                    .map(|(emphasized, text)| Segment {
                        emphasized,
                        text: text.trim_end_matches(['\n', '\r']).to_string(),
                    })
                    .filter(|s| !s.text.is_empty())
                    .collect();
                lines.push(Line { tag, segments });
            }
        }
        out.hunks.push(lines);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_words_are_emphasized() {
        let d = diff_file(
            "p.md",
            Some(b"You are a helpful agent.\n"),
            Some(b"You are a careful agent.\n"),
        );
        assert!(!d.binary);
        assert!(
            d.unified
                .as_deref()
                .is_some_and(|u| u.contains("-You are a helpful agent."))
        );
        let emphasized: Vec<&str> = d.hunks[0]
            .iter()
            .flat_map(|l| l.segments.iter())
            .filter(|s| s.emphasized)
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(emphasized, ["helpful", "careful"]);
    }

    #[test]
    fn binary_files_have_no_text_diff() {
        let d = diff_file("logo.png", Some(&[0x89, 0, 1]), Some(&[0x89, 0, 2, 3]));
        assert!(d.binary);
        assert_eq!((d.old_size, d.new_size), (Some(3), Some(4)));
        assert!(d.unified.is_none());
    }
}
