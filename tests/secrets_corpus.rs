//! Recall and precision of the secret scanner on tests/fixtures/secrets/
//! (see generate.py there): every positive is found by the rule it names,
//! no negative is a finding.

use agentctl::check::secrets;
use std::path::Path;

/// The cases of one corpus file: (label, text), U+00B7 splices removed.
fn cases(file: &str) -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/secrets")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("the corpus is committed");
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(label) = line.strip_prefix("=== ") {
            out.push((label.to_string(), String::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push_str(&line.replace('\u{b7}', ""));
            body.push('\n');
        }
    }
    out
}

#[test]
fn corpus_recall_and_precision() {
    let positives = cases("positives.txt");
    let negatives = cases("negatives.txt");
    assert!(positives.len() >= 150 && negatives.len() >= 150);
    let mut missed = Vec::new();
    for (rule, text) in &positives {
        let hits = secrets::hits(text);
        if !hits.iter().any(|h| h.rule.id == rule) {
            let got: Vec<&str> = hits.iter().map(|h| h.rule.id).collect();
            missed.push(format!("{rule} (found {got:?}): {text}"));
        }
    }
    let mut false_positives = Vec::new();
    for (what, text) in &negatives {
        let hits = secrets::hits(text);
        if !hits.is_empty() {
            let got: Vec<&str> = hits.iter().map(|h| h.rule.id).collect();
            false_positives.push(format!("{what} ({got:?}): {text}"));
        }
    }
    // Every rule of the table is measured.
    for r in secrets::TABLE {
        assert!(
            positives.iter().any(|(id, _)| id == r.id),
            "no corpus positive for rule {}",
            r.id
        );
    }
    let tp = positives.len() - missed.len();
    let recall = tp as f64 / positives.len() as f64;
    let precision = tp as f64 / (tp + false_positives.len()) as f64;
    assert!(
        missed.is_empty() && false_positives.is_empty(),
        "recall {recall:.3}, precision {precision:.3}\nmissed:\n{}\nfalse positives:\n{}",
        missed.join("\n"),
        false_positives.join("\n")
    );
}
