//! One bundle's two versions compared as content: the manifest field by
//! field (`semantic`), every prompt as each environment renders it, and the
//! other files by what they are (eval suites, docs, the rest). Pure: a pair
//! of file maps in, changes out, so the corpus in tests/fixtures/diff runs
//! without a repository.

use super::semantic::{self, Change, Rule};
use crate::bundle::{self, Manifest};
use crate::render::{FilesRenderer, RenderEnv};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub(super) fn parse(files: &BTreeMap<String, Vec<u8>>) -> Option<Manifest> {
    let text = std::str::from_utf8(files.get(bundle::MANIFEST_FILE)?).ok()?;
    bundle::parse_manifest(text, Path::new(bundle::MANIFEST_FILE))
        .ok()
        .map(|m| m.manifest)
}

/// Every change between two versions of one bundle, each given as its files
/// (bundle-relative path → bytes), with prompts rendered for each of `envs`.
/// Pure: reads nothing but its arguments.
pub fn compare_files(
    a: &BTreeMap<String, Vec<u8>>,
    b: &BTreeMap<String, Vec<u8>>,
    envs: &[RenderEnv],
) -> Vec<Change> {
    let (ma, mb) = (parse(a), parse(b));
    let mut changes = changed_bundle(a, ma.as_ref(), b, mb.as_ref(), envs);
    redact(&mut changes);
    changes.sort_by_key(|c| std::cmp::Reverse(c.risk));
    changes
}

/// Values from manifests end up in pull-request comments: redact credentials.
pub(super) fn redact(changes: &mut [Change]) {
    for c in changes {
        // A bare value may be a credential only by its key (`api_key: …`).
        let key = c.path.rsplit('.').next().unwrap_or_default().to_string();
        for v in c.before.iter_mut().chain(c.after.iter_mut()) {
            let framed = format!("{key}: {v}");
            if matches!(
                crate::check::secrets::redact_text(&framed),
                std::borrow::Cow::Owned(_)
            ) {
                if v.len() >= 4 {
                    c.summary = c.summary.replace(v.as_str(), "[REDACTED]");
                }
                *v = "[REDACTED]".into();
            }
        }
        for v in [&mut c.summary]
            .into_iter()
            .chain(c.before.iter_mut())
            .chain(c.after.iter_mut())
        {
            if let std::borrow::Cow::Owned(r) = crate::check::secrets::redact_text(v) {
                *v = r;
            }
        }
    }
}

/// Words whose loss turns a prohibition into a permission ("never" →
/// "always", "do not" → "do").
const NEGATIONS: &[&str] = &[
    "never",
    "not",
    "no",
    "cannot",
    "nor",
    "none",
    "nothing",
    "refuse",
    "deny",
    "forbidden",
    "prohibited",
    "without",
];

fn negations(text: &str) -> BTreeMap<&'static str, usize> {
    let lower = text.to_lowercase();
    let mut counts = BTreeMap::new();
    for w in lower.split(|c: char| !c.is_alphanumeric()) {
        if let Some(n) = NEGATIONS.iter().find(|n| **n == w) {
            *counts.entry(*n).or_insert(0) += 1;
        }
    }
    counts.insert(
        "n't",
        lower.matches("n't").count() + lower.matches("n’t").count(),
    );
    counts
}

/// Fewer negations in all: "not" → "never" is a rewording, "never" →
/// "always" is not.
fn weakened(old: &str, new: &str) -> bool {
    negations(new).values().sum::<usize>() < negations(old).values().sum::<usize>()
}

/// What the prompts of both sides render to, compared per prompt and
/// environment; and every template either side reached.
fn prompt_changes(
    a: &BTreeMap<String, Vec<u8>>,
    ma: &Manifest,
    b: &BTreeMap<String, Vec<u8>>,
    mb: &Manifest,
    envs: &[RenderEnv],
    changes: &mut Vec<Change>,
) -> (BTreeSet<String>, bool) {
    let (ra, rb) = (FilesRenderer::new(a, ma), FilesRenderer::new(b, mb));
    // prompt name → (file, environments where its text changed, weakened)
    let mut changed: BTreeMap<String, (String, Vec<String>, bool)> = BTreeMap::new();
    let mut broken: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut unrendered = false;
    for env in envs {
        let (old, new) = (ra.render(env), rb.render(env));
        match (old, new) {
            // Neither side renders here (e.g. `vars` this repository does
            // not define): what changed is judged by the template files.
            (Err(_), Err(_)) => unrendered = true,
            (_, Err(e)) => broken
                .entry((e.file, e.message))
                .or_default()
                .push(env.name.clone()),
            // The old side did not render: every prompt may read differently.
            (Err(_), Ok(new)) => {
                for p in new {
                    let entry = changed.entry(p.name).or_insert((p.file, Vec::new(), false));
                    entry.1.push(env.name.clone());
                }
            }
            (Ok(old), Ok(new)) => {
                for p in new {
                    let Some(o) = old.iter().find(|o| o.name == p.name) else {
                        continue;
                    };
                    if o.text != p.text {
                        let w = weakened(&o.text, &p.text);
                        let entry = changed.entry(p.name).or_insert((p.file, Vec::new(), false));
                        entry.1.push(env.name.clone());
                        entry.2 |= w;
                    }
                }
            }
        }
    }
    for ((file, message), in_envs) in broken {
        changes.push(Change::new(
            Rule::PromptUnrenderable,
            file.clone(),
            format!(
                "prompt {file} does not render ({message}) in {}, so what the model reads cannot be compared",
                in_envs.join(", ")
            ),
            None,
            None,
        ));
    }
    for (_, (file, in_envs, weak)) in changed {
        let rule = if weak {
            Rule::PromptGuardrailWeakened
        } else {
            Rule::PromptTextChanged
        };
        let mut summary = if weak {
            format!("prompt {file} changed and lost a negation (never, not, no …)")
        } else {
            format!("prompt {file} changed")
        };
        if in_envs.len() < envs.len() {
            summary.push_str(&format!(" in {}", in_envs.join(", ")));
        }
        changes.push(Change::new(rule, file, summary, None, None));
    }
    let mut reached = ra.reached();
    reached.extend(rb.reached());
    (reached, unrendered)
}

/// Whether `new` only adds lines to `old`.
fn only_adds_lines(old: &[u8], new: &[u8]) -> bool {
    let (Ok(old), Ok(new)) = (std::str::from_utf8(old), std::str::from_utf8(new)) else {
        return false;
    };
    let mut rest = new.lines();
    old.lines().all(|l| rest.any(|n| n == l))
}

pub(super) fn changed_bundle(
    fa: &BTreeMap<String, Vec<u8>>,
    ma: Option<&Manifest>,
    fb: &BTreeMap<String, Vec<u8>>,
    mb: Option<&Manifest>,
    envs: &[RenderEnv],
) -> Vec<Change> {
    let mut changes = match (ma, mb) {
        (Some(x), Some(y)) => semantic::compare(x, y),
        _ => Vec::new(),
    };
    // A manifest that does not parse hides every change in it: that is the
    // highest risk there is, not none.
    for (side, m) in [("old", ma), ("new", mb)] {
        if m.is_none() {
            changes.push(Change::new(
                Rule::ManifestUnparseable,
                bundle::MANIFEST_FILE,
                format!(
                    "the {side} agent.yaml does not parse, so its changes cannot be assessed (run `agentctl validate`)"
                ),
                None,
                None,
            ));
        }
    }
    let manifest_changes = changes.len();
    let (reached, unrendered) = match (ma, mb) {
        (Some(x), Some(y)) => prompt_changes(fa, x, fb, y, envs, &mut changes),
        _ => (BTreeSet::new(), true),
    };
    let manifests = || [ma, mb].into_iter().flatten();
    let prompt_files: BTreeSet<String> = manifests()
        .flat_map(|m| m.prompts.iter().map(|p| p.file.clone()))
        .collect();
    let eval_files: BTreeSet<String> = manifests()
        .filter_map(|m| m.evals.as_ref())
        .flat_map(|e| e.suites.iter().map(|s| s.file.clone()))
        .collect();
    let doc_files: BTreeSet<String> = manifests()
        .filter_map(|m| m.docs.as_ref())
        .flat_map(|d| d.runbook.iter().chain(d.faq.iter()).cloned())
        .collect();
    let paths: BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
    for p in paths {
        let (x, y) = (fa.get(p), fb.get(p));
        if x == y || p == bundle::MANIFEST_FILE {
            continue;
        }
        // What a prompt template says is compared as rendered text above;
        // where it could not be, a changed template is changed prompt text.
        let template = unrendered && p.ends_with(".j2");
        if prompt_files.contains(p) || reached.contains(p.as_str()) || template {
            if unrendered {
                changes.push(Change::new(
                    Rule::PromptTextChanged,
                    p.clone(),
                    format!("prompt {p} changed"),
                    None,
                    None,
                ));
            }
            continue;
        }
        let (rule, what) = if eval_files.contains(p) {
            // A new file (a new suite's) only adds cases; a removed one loses them all.
            match (x, y) {
                (x, Some(y)) if only_adds_lines(x.map_or(&[][..], Vec::as_slice), y) => {
                    (Rule::EvalSuiteExtended, "eval suite")
                }
                _ => (Rule::EvalSuiteChanged, "eval suite"),
            }
        } else if doc_files.contains(p) {
            (Rule::DocsChanged, "doc")
        } else {
            (Rule::FileChanged, "file")
        };
        let verb = match (x, y) {
            (None, _) => "added",
            (_, None) => "removed",
            _ => "changed",
        };
        changes.push(Change::new(
            rule,
            p.clone(),
            format!("{what} {p} {verb}"),
            None,
            None,
        ));
    }
    // Listed with the manifest's changes, where the review lives.
    if let (Some(x), Some(y)) = (ma, mb)
        && let Some(stale) = semantic::review_stale(x, y, &changes)
    {
        changes.insert(manifest_changes, stale);
    }
    changes
}
