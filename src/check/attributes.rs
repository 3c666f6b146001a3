//! `.gitattributes`: nothing may change the bytes a checkout writes under
//! the directories agentctl digests and reads.
//!
//! Digests are over bytes, so `text`, `eol`, `crlf`, `filter`, `ident`,
//! `working-tree-encoding` (and `binary`, which unsets `text`) decide whether
//! a clone sees what was signed. The rule is deliberately simple and errs
//! on the safe side: any added, changed, removed or reordered line that
//! sets one of those attributes (or a macro defined with one) and whose
//! pattern could match anything under `agents/`, `releases/`,
//! `environments/` or `.agentctl/` is an error. The one exception is a new
//! line that only turns conversion off (`-text`, `-crlf`, `binary`), as
//! `agentctl init` writes: checkouts then keep the committed bytes.

use super::rules::GITATTRIBUTES_CHANGED;
use crate::finding::{Finding, Position};
use std::collections::BTreeSet;
use std::path::Path;

/// The directories whose checked-out bytes must not change, relative to the
/// agentctl root.
pub const PROTECTED: [&str; 4] = ["agents", "releases", "environments", ".agentctl"];

/// Attributes that change what a checkout writes.
const BYTE_ATTRIBUTES: [&str; 7] = [
    "text",
    "eol",
    "crlf",
    "filter",
    "ident",
    "working-tree-encoding",
    "binary",
];

/// One line that matters, normalized (whitespace collapsed).
#[derive(Debug, Clone)]
struct Relevant {
    text: String,
    pattern: String,
    line: usize,
    /// Every byte attribute it sets turns conversion off (`-text`,
    /// `-crlf`, `binary`), so checkouts write the committed bytes.
    pins_bytes: bool,
}

/// Changes between two versions of one `.gitattributes` file that could
/// alter checked-out bytes under `targets`: the protected directories as
/// paths relative to the file's directory (`[""]` when the file lies inside
/// one, so whatever it matches is protected).
pub fn attribute_changes(
    file: &Path,
    targets: &[String],
    base_text: &str,
    head_text: &str,
) -> Vec<Finding> {
    let macros: BTreeSet<String> = [base_text, head_text]
        .iter()
        .flat_map(|t| byte_macros(t))
        .collect();
    let base = relevant(base_text, targets, &macros);
    let head = relevant(head_text, targets, &macros);
    let hint = "agentctl digests bytes: keep `-text` (from `agentctl init`) for agents/, releases/, environments/ and .agentctl/, and put no conversion or filter on them";
    let mut out = Vec::new();
    let mut push = |line: Option<usize>, message: String| {
        out.push(
            GITATTRIBUTES_CHANGED
                .finding(file, message)
                .at(line.map(|l| Position {
                    line: u32::try_from(l).unwrap_or(u32::MAX),
                    column: 1,
                }))
                .hint(hint),
        );
    };
    // Multiset difference, in file order.
    let mut unmatched_head: Vec<&Relevant> = head.iter().collect();
    let mut removed: Vec<&Relevant> = Vec::new();
    for b in &base {
        match unmatched_head.iter().position(|h| h.text == b.text) {
            Some(i) => {
                unmatched_head.remove(i);
            }
            None => removed.push(b),
        }
    }
    // A new line that only turns conversion off keeps checkouts at the
    // committed bytes: what `agentctl init` itself writes.
    let (pinning, mut added): (Vec<&Relevant>, Vec<&Relevant>) =
        unmatched_head.into_iter().partition(|h| h.pins_bytes);
    let head_order: Vec<&Relevant> = head
        .iter()
        .filter(|h| !pinning.iter().any(|p| p.line == h.line))
        .collect();
    let reordered = removed.is_empty()
        && added.is_empty()
        && !base
            .iter()
            .map(|r| &r.text)
            .eq(head_order.iter().map(|r| &r.text));
    for r in removed {
        match added.iter().position(|h| h.pattern == r.pattern) {
            Some(i) => {
                let h = added.remove(i);
                push(
                    Some(h.line),
                    format!(
                        "`{}` → `{}`: this can change checked-out bytes",
                        r.text, h.text
                    ),
                );
            }
            None => push(
                None,
                format!(
                    "`{}` removed (line {} at the base): this can change checked-out bytes",
                    r.text, r.line
                ),
            ),
        }
    }
    for h in added {
        push(
            Some(h.line),
            format!("`{}` added: this can change checked-out bytes", h.text),
        );
    }
    if reordered {
        // Later lines win: the same lines in another order mean other attributes.
        let first = base
            .iter()
            .zip(&head_order)
            .find(|(b, h)| b.text != h.text)
            .map(|(_, h)| h.line);
        push(
            first,
            "lines reordered: later lines win, so this can change checked-out bytes".into(),
        );
    }
    out
}

/// Names of macros (`[attr]name …`) whose definition sets a byte attribute.
fn byte_macros(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("[attr]"))
        .filter_map(|rest| {
            let mut tokens = rest.split_whitespace();
            let name = tokens.next()?;
            tokens
                .any(|t| is_byte_attribute(t, &BTreeSet::new()))
                .then(|| name.to_string())
        })
        .collect()
}

fn is_byte_attribute(token: &str, macros: &BTreeSet<String>) -> bool {
    let name = token.trim_start_matches(['-', '!']);
    let name = name.split_once('=').map_or(name, |(n, _)| n);
    BYTE_ATTRIBUTES.contains(&name) || macros.contains(name)
}

/// The lines of a file that set a byte attribute on a path that could lie
/// under a target.
fn relevant(text: &str, targets: &[String], macros: &BTreeSet<String>) -> Vec<Relevant> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let tokens: Vec<&str> = trimmed.split_whitespace().collect();
        let Some((pattern, attributes)) = tokens.split_first() else {
            continue;
        };
        // A macro definition changes every line that uses the macro.
        let is_macro = pattern.starts_with("[attr]");
        let sets_bytes = attributes.iter().any(|a| is_byte_attribute(a, macros));
        let matters = sets_bytes
            && (is_macro
                || pattern.starts_with('"')
                || targets.iter().any(|t| could_match(pattern, t)));
        if matters {
            let pins_bytes = !is_macro
                && attributes
                    .iter()
                    .filter(|a| is_byte_attribute(a, macros))
                    .all(|a| matches!(*a, "-text" | "-crlf" | "binary"));
            out.push(Relevant {
                text: tokens.join(" "),
                pattern: pattern.to_string(),
                line: i + 1,
                pins_bytes,
            });
        }
    }
    out
}

/// Whether a gitattributes `pattern` could match some path at or under
/// `target` (a `/`-separated directory; empty: anything). Errs towards yes.
pub fn could_match(pattern: &str, target: &str) -> bool {
    if target.is_empty() {
        return true;
    }
    let anchored = pattern.strip_prefix('/');
    let pattern = anchored.unwrap_or(pattern).trim_end_matches('/');
    // Without a slash a pattern matches a name at any depth.
    if anchored.is_none() && !pattern.contains('/') {
        return true;
    }
    let pattern_parts: Vec<&str> = pattern.split('/').collect();
    let target_parts: Vec<&str> = target.split('/').collect();
    for (i, p) in pattern_parts.iter().enumerate() {
        if p.contains("**") {
            return true;
        }
        let Some(t) = target_parts.get(i) else {
            // The pattern goes deeper than the target: inside it.
            return true;
        };
        if !glob(p, t) {
            return false;
        }
    }
    // The pattern names the target or one of its parents.
    true
}

/// One path segment against a glob: `*`, `?`, `[…]` (any one character, to
/// err towards a match) and `\` escapes.
fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('*') => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            Some('?') => !t.is_empty() && go(&p[1..], &t[1..]),
            Some('[') => match p.iter().position(|c| *c == ']') {
                Some(end) if end > 1 => !t.is_empty() && go(&p[end + 1..], &t[1..]),
                _ => t.first() == Some(&'[') && go(&p[1..], &t[1..]),
            },
            Some('\\') if p.len() > 1 => t.first() == Some(&p[1]) && go(&p[2..], &t[1..]),
            Some(c) => t.first() == Some(c) && go(&p[1..], &t[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    go(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INIT: &str = "# Written by agentctl init\nagents/** -text\nreleases/** -text\nenvironments/** -text\n.agentctl/** -text\n";

    fn targets() -> Vec<String> {
        PROTECTED.iter().map(|s| s.to_string()).collect()
    }

    fn messages(base: &str, head: &str) -> Vec<(String, Option<u32>)> {
        attribute_changes(Path::new(".gitattributes"), &targets(), base, head)
            .into_iter()
            .map(|f| {
                assert_eq!(f.rule, "gitattributes-changed");
                assert!(f.is_error());
                (f.message, f.position.map(|p| p.line))
            })
            .collect()
    }

    #[test]
    fn patterns_that_could_reach_a_protected_directory() {
        for (pattern, target, expected) in [
            ("*", "agents", true),
            ("*.md", "agents", true),
            ("agents/**", "agents", true),
            ("/agents/*.yaml", "agents", true),
            ("agents", "agents", true),
            ("a*/x", "agents", true),
            ("[ab]gents/**", "agents", true),
            ("**/x.md", "releases", true),
            ("docs/**", "agents", false),
            ("examples/** ", "agents", false),
            ("/docs/x", "agents", false),
            ("sub/agents/**", "sub/agents", true),
            ("sub/**", "sub/agents", true),
            ("other/agents/**", "sub/agents", false),
            ("sub", "sub/agents", true),
            ("anything/at/all", "", true),
        ] {
            assert_eq!(
                could_match(pattern.trim(), target),
                expected,
                "{pattern} vs {target}"
            );
        }
    }

    #[test]
    fn the_same_attributes_or_harmless_ones_are_fine() {
        assert!(messages(INIT, INIT).is_empty());
        let head = format!(
            "{INIT}# comment\n*.md diff=markdown\ndocs/** text eol=crlf\nagents/**  linguist-generated\n"
        );
        assert!(messages(INIT, &head).is_empty());
        // Whitespace is not a change.
        assert!(messages(INIT, &INIT.replace("agents/** -text", "agents/**\t-text")).is_empty());
    }

    #[test]
    fn byte_changing_lines_added_changed_removed_or_reordered() {
        assert_eq!(
            messages(
                INIT,
                &INIT.replace("agents/** -text", "agents/** text eol=crlf")
            ),
            [(
                "`agents/** -text` → `agents/** text eol=crlf`: this can change checked-out bytes"
                    .to_string(),
                Some(2)
            )]
        );
        assert_eq!(
            messages(INIT, &format!("{INIT}* text=auto\n")),
            [(
                "`* text=auto` added: this can change checked-out bytes".to_string(),
                Some(6)
            )]
        );
        assert_eq!(
            messages(INIT, &INIT.replace("releases/** -text\n", "")),
            [("`releases/** -text` removed (line 3 at the base): this can change checked-out bytes".to_string(), None)]
        );
        assert_eq!(messages(INIT, "").len(), 4);
        for line in [
            "*.json filter=lfs",
            "*.j2 ident",
            "environments/*.log working-tree-encoding=UTF-16",
            "*.yaml !text",
            "*.yaml crlf",
            "*.yaml text=auto",
        ] {
            assert_eq!(
                messages(INIT, &format!("{INIT}{line}\n")).len(),
                1,
                "{line}"
            );
        }
        let reordered = "agents/** -text\nagents/*.md text\n";
        let swapped = "agents/*.md text\nagents/** -text\n";
        assert_eq!(
            messages(reordered, swapped),
            [(
                "lines reordered: later lines win, so this can change checked-out bytes"
                    .to_string(),
                Some(1)
            )]
        );
    }

    #[test]
    fn new_lines_that_only_turn_conversion_off_are_fine() {
        assert!(messages("", INIT).is_empty(), "what agentctl init writes");
        assert!(
            messages(
                INIT,
                &format!("{INIT}*.png binary\nagents/** -crlf -diff\n")
            )
            .is_empty()
        );
        assert_eq!(
            messages(INIT, &format!("{INIT}*.md -text eol=lf\n")).len(),
            1
        );
        // Moving the lines that pin bytes is still a reorder.
        let swapped =
            "releases/** -text\nagents/** -text\nenvironments/** -text\n.agentctl/** -text\n";
        assert_eq!(messages(INIT, swapped).len(), 1);
    }

    #[test]
    fn macros_that_set_byte_attributes_count() {
        let head = format!("{INIT}[attr]crlfy text eol=crlf\n*.md crlfy\n");
        assert_eq!(messages(INIT, &head).len(), 2);
        let harmless = format!("{INIT}[attr]docs diff=markdown\n*.md docs\n");
        assert!(messages(INIT, &harmless).is_empty());
    }

    #[test]
    fn a_file_inside_a_protected_directory_matters_whatever_it_matches() {
        let found = attribute_changes(
            Path::new("agents/a/.gitattributes"),
            &[String::new()],
            "",
            "docs/x.md eol=crlf\n",
        );
        assert_eq!(found.len(), 1);
    }
}
