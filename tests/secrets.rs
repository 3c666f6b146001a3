//! Secrets end to end: wherever a secret can ship (release, promote,
//! validate, check's agentctl.toml, files the manifest does not name, binary
//! files) it is refused at file:line:col, and no output of check, diff or
//! validate in any format shows more of it than a short prefix. The
//! property test plants a randomised secret of every rule of the table in
//! random files and positions.
//!
//! Secret values are assembled at run time from the rule table's example
//! pieces, so this file holds no credential-shaped string.

mod common;

use agentctl::check::secrets::{self, TABLE};
use common::*;
use proptest::prelude::*;
use std::process::Output;

const ST: &str = "agents/support-triage";
const ST_SYSTEM: &str = "agents/support-triage/prompts/system.md.j2";

/// The example of a table rule, joined.
fn example(id: &str) -> String {
    TABLE
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no rule {id}"))
        .example
        .concat()
}

/// The secret part of a text (the span the scanner finds).
fn secret_of(text: &str) -> String {
    let h = secrets::hits(text);
    assert!(!h.is_empty(), "no secret in {text:?}");
    text[h[0].start..h[0].end].to_string()
}

/// Whether any 8-character run of `secret` (ignoring runs that are only
/// the format's fixed prefix or structure) appears in `out`.
#[track_caller]
fn assert_no_leak(out: &str, secret: &str, keep: &str, what: &str) {
    let chars: Vec<char> = secret.chars().collect();
    for w in chars.windows(8) {
        let run: String = w.iter().collect();
        if keep.contains(&run) {
            continue;
        }
        assert!(
            !out.contains(&run),
            "{what}: `{run}` of the secret {secret:?} leaked:\n{out}"
        );
    }
}

fn all(out: &Output) -> String {
    all_output(out)
}

#[test]
fn release_refuses_a_secret_in_a_file_the_manifest_does_not_name() {
    let s = Scratch::new();
    let token = example("github-token");
    s.write(
        &format!("{ST}/notes/handover.txt"),
        &format!("Handover notes\n\nold  {token} (rotate me)\n"),
    );
    s.commit_all("notes");
    let commits = s.commit_count();
    let out = s.run(&["release", "support-triage"]);
    assert_code(&out, 1);
    let text = all(&out);
    assert!(text.contains("notes/handover.txt:3:6"), "{text}");
    assert!(text.contains("secret-vcs-token"), "{text}");
    assert!(text.contains("hint"), "{text}");
    assert_no_leak(&text, &token, "ghp_", "release");
    assert_eq!(s.commit_count(), commits, "nothing committed");
    assert!(!s.root.join("releases/support-triage").exists());
}

#[test]
fn promote_refuses_to_freeze_a_secret() {
    let s = Scratch::new();
    let key = example("anthropic-api-key");
    append_line(&s, ST_SYSTEM, &format!("Use {key} for the model.\n"));
    s.commit_all("key in prompt");
    let commits = s.commit_count();
    let out = s.run(&["promote", "dev", "support-triage"]);
    assert_code(&out, 1);
    assert_no_leak(&all(&out), &key, "sk-ant-", "promote");
    assert_eq!(s.commit_count(), commits, "nothing committed");
    assert!(!s.root.join("releases/support-triage").exists());
    let out = s.run(&["promote", "dev", "support-triage", "--format", "json"]);
    assert_code(&out, 1);
    assert!(all(&out).contains("secret-provider-key"), "{}", all(&out));
}

#[test]
fn validate_reports_secrets_in_binary_and_non_utf8_files() {
    let s = Scratch::new();
    let key = example("aws-access-key-id");
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe\n".to_vec();
    bytes.extend_from_slice(format!("k={key}\n").as_bytes());
    bytes.extend_from_slice(b"\0\x01\x02\xc3\x28\n");
    std::fs::write(s.root.join(ST).join("docs/diagram.png"), &bytes).expect("write");
    for format in ["human", "json"] {
        let out = s.run(&["validate", ST, "--format", format]);
        assert_code(&out, 1);
        let text = all(&out);
        assert!(text.contains("secret-cloud-key"), "{text}");
        let at = match format {
            "json" => {
                text.contains("diagram.png\",\n          \"line\": 4,\n          \"column\": 3")
            }
            _ => text.contains("diagram.png:4:3"),
        };
        assert!(at, "{text}");
        assert!(
            !text.contains('\0') && !text.contains("IHDR"),
            "binary shown: {text}"
        );
        assert_no_leak(&text, &key, "AKIA", format);
    }
}

#[test]
fn check_scans_the_vars_of_agentctl_toml() {
    let s = Scratch::new();
    let token = example("slack-token");
    let toml = s.read("agentctl.toml").replacen(
        "promote_from_previous = false",
        &format!("promote_from_previous = false\nvars = {{ slack = \"{token}\" }}"),
        1,
    );
    assert!(toml.contains(&token), "the example agentctl.toml changed");
    s.write("agentctl.toml", &toml);
    s.commit_all("a token in vars");
    let out = s.run(&["check", "--format", "json"]);
    assert_code(&out, 1);
    let text = all(&out);
    assert!(
        text.contains("secret-chat-token") && text.contains("agentctl.toml"),
        "{text}"
    );
    assert_no_leak(&text, &token, "xoxb-", "check json");
}

#[test]
fn a_pem_body_and_a_quoted_password_never_leak_from_check_diff_or_validate() {
    let s = Scratch::new();
    let pem = example("pem-private-key");
    let password = "\"correct horse battery staple 42\"";
    append_line(
        &s,
        ST_SYSTEM,
        &format!("Deploy key:\n{pem}\npassword: {password}\n"),
    );
    s.set_version("support-triage", "1.4.0", "1.4.1");
    s.commit_all("a key and a password");
    let body: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut outputs = Vec::new();
    for format in ["human", "json", "github", "sarif", "junit", "markdown"] {
        outputs.push((
            format!("check {format}"),
            s.run(&["check", "--base", "HEAD~1", "--format", format]),
        ));
    }
    for format in ["human", "json", "markdown"] {
        outputs.push((
            format!("diff {format}"),
            s.run(&["diff", "HEAD~1", "HEAD", "--format", format]),
        ));
    }
    for format in ["human", "json"] {
        outputs.push((
            format!("validate {format}"),
            s.run(&["validate", ST, "--format", format]),
        ));
    }
    for (what, out) in &outputs {
        let text = all(out);
        for line in &body {
            assert_no_leak(&text, line, "", what);
        }
        assert_no_leak(&text, "horse battery staple 42", "", what);
    }
    // The refusal names the rule (check) and the diff still shows the lines changed.
    assert!(all(&outputs[1].1).contains("secret-private-key"));
    assert!(
        all(&outputs[6].1).contains("[REDACTED]"),
        "{}",
        all(&outputs[6].1)
    );
}

#[test]
fn an_allow_comment_with_a_reason_is_reported_and_does_not_fail() {
    let s = Scratch::new();
    let key = example("stripe-key");
    append_line(
        &s,
        &format!("{ST}/docs/runbook.md"),
        &format!(
            "<!-- agentctl-allow-secret: Stripe's documented test key -->\nTest with {key}.\n"
        ),
    );
    s.commit_all("doc");
    let out = s.run(&["validate", ST, "--format", "json"]);
    assert_code(&out, 0);
    let text = all(&out);
    assert!(
        text.contains("secret-allowed") && text.contains("documented test key"),
        "{text}"
    );
    assert_no_leak(&text, &key, "sk_live_", "validate");
}

fn append_line(s: &Scratch, rel: &str, lines: &str) {
    let mut text = s.read(rel);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(lines);
    s.write(rel, &text);
}

/// A tiny deterministic generator, so one proptest seed drives a case.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick(&mut self, set: &[u8]) -> char {
        set[self.below(set.len())] as char
    }
}

/// A fresh secret of a rule's format: its example with every letter and
/// digit after the fixed first piece replaced by a random one of its class
/// (hex stays hex), structure (PEM armour lines, punctuation) kept.
fn random_secret(rule: &secrets::Rule, rng: &mut Rng) -> String {
    let fixed = rule.example[0];
    let rest: String = rule.example[1..].concat();
    let mut out = String::from(fixed);
    for line in rest.split_inclusive('\n') {
        if line.contains("-----") {
            out.push_str(line);
            continue;
        }
        for c in line.chars() {
            out.push(match c {
                '0'..='9' => rng.pick(b"0123456789"),
                'a'..='f' => rng.pick(b"abcdef"),
                'g'..='z' => rng.pick(b"ghijkmnopqrstuvwxyz"),
                'A'..='F' => rng.pick(b"ABCDEF"),
                'G'..='Z' => rng.pick(b"GHJKLMNPQRSTUVWXYZ"),
                c => c,
            });
        }
    }
    out
}

const PLANT_FILES: [&str; 5] = [
    "agents/support-triage/prompts/system.md.j2",
    "agents/support-triage/prompts/rules.md.j2",
    "agents/support-triage/docs/runbook.md",
    "agents/support-triage/notes/unnamed.txt",
    "agents/lead-router/prompts/system.md.j2",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_output_shows_8_characters_of_any_planted_secret(seed in 1u64..u64::MAX) {
        let mut rng = Rng(seed);
        let s = Scratch::new();
        s.write(PLANT_FILES[3], "unnamed file\n");
        s.commit_all("base");
        let mut planted: Vec<(String, String)> = Vec::new();
        for rule in TABLE {
            let text = random_secret(rule, &mut rng);
            let file = PLANT_FILES[rng.below(PLANT_FILES.len())];
            let mut lines: Vec<String> = s.read(file).lines().map(str::to_string).collect();
            let at = rng.below(lines.len() + 1);
            if at < lines.len() && rng.below(2) == 0 {
                lines[at].push(' ');
                lines[at].push_str(&text);
            } else {
                lines.insert(at, text.clone());
            }
            s.write(file, &(lines.join("\n") + "\n"));
            let secret = secret_of(&text);
            planted.push((rule.id.to_string(), secret));
        }
        s.commit_all("secrets everywhere");
        let mut runs: Vec<(String, Output)> = Vec::new();
        for format in ["human", "json", "github", "sarif", "junit", "markdown"] {
            runs.push((format!("check {format}"), s.run(&["check", "--base", "HEAD~1", "--format", format])));
        }
        for format in ["human", "json", "markdown"] {
            runs.push((format!("diff {format}"), s.run(&["diff", "HEAD~1", "HEAD", "--format", format])));
        }
        for format in ["human", "json"] {
            runs.push((format!("validate {format}"), s.run(&["validate", "agents", "--format", format])));
        }
        prop_assert_eq!(runs[0].1.status.code(), Some(1));
        for (what, out) in &runs {
            let text = all(out);
            for ((id, secret), rule) in planted.iter().zip(TABLE) {
                // The fixed part of a format and armour lines are not secret.
                let keep = format!("{}\n{}", rule.example[0], secret.lines().filter(|l| l.contains("-----")).collect::<Vec<_>>().join("\n"));
                for line in secret.lines().filter(|l| !l.contains("-----")) {
                    let chars: Vec<char> = line.chars().collect();
                    for w in chars.windows(8) {
                        let run: String = w.iter().collect();
                        prop_assert!(keep.contains(&run) || !text.contains(&run),
                            "{}: `{}` of the {} secret {:?} leaked (seed {})", what, run, id, secret, seed);
                    }
                }
            }
        }
    }
}
