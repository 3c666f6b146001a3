//! `agentctl diff` end to end: every risk rule, the three output formats,
//! exit codes, environments, releases, git refs (shallow clones included),
//! binary files, and agents added or removed.
//!
//! Real parts only: the built `agentctl` binary and the `git` CLI against
//! copies of examples/agents in temporary directories, with a private HOME, no
//! system git config and a fixed clock (see tests/common/mod.rs).

mod common;

use agentctl::diff::semantic::RISK_RULES;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Copy examples/agents/NAME to DEST/NAME.
fn copy_example(name: &str, dest: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/agents")
        .join(name);
    for entry in walkdir::WalkDir::new(&src) {
        let entry = entry.expect("walk example");
        let to = dest
            .join(name)
            .join(entry.path().strip_prefix(&src).expect("prefix"));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &to).expect("copy example file");
        }
    }
}

/// Two copies of one example bundle in a sandbox, `old/NAME` and `new/NAME`,
/// compared by relative paths from the sandbox (so labels hold no temp path).
struct Pair {
    sb: Sandbox,
    name: &'static str,
}

impl Pair {
    fn new(name: &'static str) -> Pair {
        let sb = Sandbox::new();
        copy_example(name, &sb.path().join("old"));
        copy_example(name, &sb.path().join("new"));
        Pair { sb, name }
    }

    fn support_triage() -> Pair {
        Pair::new("support-triage")
    }

    fn old(&self) -> PathBuf {
        self.sb.path().join("old").join(self.name)
    }

    fn new_dir(&self) -> PathBuf {
        self.sb.path().join("new").join(self.name)
    }

    fn old_arg(&self) -> String {
        format!("old/{}", self.name)
    }

    fn new_arg(&self) -> String {
        format!("new/{}", self.name)
    }

    /// `agentctl diff old/NAME new/NAME EXTRA…`, run in the sandbox.
    fn diff(&self, extra: &[&str]) -> Output {
        let (a, b) = (self.old_arg(), self.new_arg());
        let mut args = vec!["diff", a.as_str(), b.as_str()];
        args.extend_from_slice(extra);
        self.sb.agentctl(self.sb.path(), &args)
    }

    /// `agentctl diff old new EXTRA…`: the two directories of bundles, so a
    /// side whose bundle was removed is an agent added or removed.
    fn diff_dirs(&self, extra: &[&str]) -> Output {
        let mut args = vec!["diff", "old", "new"];
        args.extend_from_slice(extra);
        self.sb.agentctl(self.sb.path(), &args)
    }

    /// The JSON report, which must come with exit 0.
    #[track_caller]
    fn diff_json(&self) -> Value {
        let out = self.diff(&["--format", "json"]);
        assert_code(&out, 0);
        json(&out)
    }

    /// stdout of a diff that must exit 0.
    #[track_caller]
    fn diff_text(&self, extra: &[&str]) -> String {
        let out = self.diff(extra);
        assert_code(&out, 0);
        stdout(&out)
    }
}

/// Replace `from` with `to` in DIR/FILE; `from` must occur exactly once.
#[track_caller]
fn replace_once(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {file}: {e}"));
    let n = text.matches(from).count();
    assert_eq!(n, 1, "{from:?} occurs {n} times in {file}, expected once");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write edited file");
}

/// Insert `text` just before `anchor` (which must occur once) in DIR/FILE.
#[track_caller]
fn insert_before(dir: &Path, file: &str, anchor: &str, text: &str) {
    replace_once(dir, file, anchor, &format!("{text}{anchor}"));
}

/// Remove a YAML list item from DIR/FILE: the line equal to `first_line`
/// and every following line indented deeper than its `- ` marker.
#[track_caller]
fn remove_item(dir: &Path, file: &str, first_line: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).expect("read file");
    let indent = first_line.len() - first_line.trim_start().len();
    let mut out = Vec::new();
    let mut found = 0;
    let mut skipping = false;
    for line in text.lines() {
        if line == first_line {
            found += 1;
            skipping = true;
            continue;
        }
        if skipping {
            let line_indent = line.len() - line.trim_start().len();
            if !line.trim().is_empty() && line_indent > indent {
                continue;
            }
            skipping = false;
        }
        out.push(line);
    }
    assert_eq!(found, 1, "{first_line:?} found {found} times in {file}");
    std::fs::write(&path, out.join("\n") + "\n").expect("write file");
}

/// Rename DIR/FROM to DIR/TO.
fn rename(dir: &Path, from: &str, to: &str) {
    std::fs::rename(dir.join(from), dir.join(to)).expect("rename bundle file");
}

/// Replace temp paths and digests so output is the same on every run.
fn normalize(text: &str, roots: &[&Path]) -> String {
    let mut s = text.to_string();
    for root in roots {
        let shown = root.display().to_string();
        s = s.replace(&shown, "<tmp>");
        if let Ok(canon) = root.canonicalize() {
            s = s.replace(&canon.display().to_string(), "<tmp>");
        }
    }
    replace_digests(&s)
}

/// `sha256:` followed by 64 lowercase hex digits → `sha256:<digest>`.
fn replace_digests(s: &str) -> String {
    const TAG: &str = "sha256:";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(TAG) {
        let after = &rest[i + TAG.len()..];
        let hex = after
            .bytes()
            .take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            .count();
        out.push_str(&rest[..i + TAG.len()]);
        if hex == 64 {
            out.push_str("<digest>");
            rest = &after[64..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The agent named NAME in a JSON report.
#[track_caller]
fn agent<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["agents"]
        .as_array()
        .expect("agents array")
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no agent {name} in report:\n{report:#}"))
}

/// The `rule` of every change of an agent in a JSON report.
fn rules_of(agent: &Value) -> Vec<String> {
    agent["changes"]
        .as_array()
        .expect("changes array")
        .iter()
        .map(|c| c["rule"].as_str().expect("rule").to_string())
        .collect()
}

/// The names of the agents in a JSON report.
fn agent_names(report: &Value) -> Vec<String> {
    report["agents"]
        .as_array()
        .expect("agents array")
        .iter()
        .map(|a| a["name"].as_str().expect("name").to_string())
        .collect()
}

/// The command between backticks in a `hint: fetch it first: `…`` line.
#[track_caller]
fn hinted_command(stderr: &str) -> Vec<String> {
    let start = stderr
        .find("fetch it first: `")
        .unwrap_or_else(|| panic!("no fetch hint in:\n{stderr}"))
        + "fetch it first: `".len();
    let end = stderr[start..].find('`').expect("closing backtick") + start;
    stderr[start..end]
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------------------
// Realistic edits of examples/agents/support-triage
// ---------------------------------------------------------------------------

const MANIFEST: &str = "agent.yaml";
const SYSTEM_PROMPT: &str = "prompts/system.md.j2";

fn keep(_: &Path) {}

fn add_write_tool(d: &Path) {
    insert_before(
        d,
        MANIFEST,
        "\nknowledge:\n",
        "  - name: helpdesk.add_internal_note\n    \
         description: Add an internal note with the triage summary to a ticket.\n    \
         access: write\n    \
         approval: none\n    \
         timeout: 5s\n    \
         retry:\n      max_attempts: 2\n      backoff: fixed\n      initial_delay: 1s\n    \
         on_failure: escalate\n",
    );
}

fn add_read_tool(d: &Path) {
    insert_before(
        d,
        MANIFEST,
        "\nknowledge:\n",
        "  - name: crm.get_account\n    \
         description: Look up the customer's account manager and renewal date in the CRM.\n    \
         access: read\n    \
         approval: none\n    \
         timeout: 5s\n    \
         retry:\n      max_attempts: 3\n      backoff: exponential\n      initial_delay: 500ms\n    \
         on_failure: fallback\n",
    );
}

fn raise_retention(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "    retention_days: 30\n",
        "    retention_days: 365\n",
    );
}

/// Two sentences of the system prompt, reworded.
fn rewrite_prompt(d: &Path) {
    replace_once(
        d,
        SYSTEM_PROMPT,
        "Judge by the impact the ticket describes, not by the tone. Capital letters, \
         \"ASAP\" or \"URGENT\" in the subject are not evidence.",
        "Judge by the business impact the ticket describes, never by its tone. Capital \
         letters, exclamation marks, \"ASAP\" or \"URGENT\" in the subject are not evidence \
         of urgency.",
    );
}

/// The multi-change edit of the snapshots: a write tool without approval,
/// retention 30 → 365 days, and a two-sentence prompt rewrite.
fn multi_change(d: &Path) {
    add_write_tool(d);
    raise_retention(d);
    rewrite_prompt(d);
}

fn widen_get_ticket(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "the last 20 comments.\n    access: read\n",
        "the last 20 comments.\n    access: write\n",
    );
}

fn drop_set_priority_approval(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "Urgent pages the on-call support engineer.\n    access: write\n    approval: required\n",
        "Urgent pages the on-call support engineer.\n    access: write\n    approval: none\n",
    );
}

fn remove_backup_owner(d: &Path) {
    remove_item(d, MANIFEST, "  - name: Tomas Ferreira");
}

fn reviewer_becomes_backup(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "    email: aisha.okafor@example.com\n    role: reviewer\n",
        "    email: aisha.okafor@example.com\n    role: backup\n",
    );
}

fn pii_false(d: &Path) {
    replace_once(d, MANIFEST, "    pii: true\n", "    pii: false\n");
}

fn lower_threshold(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "  min_pass_rate: 0.9\n",
        "  min_pass_rate: 0.85\n",
    );
}

fn drop_guardrails_suite(d: &Path) {
    remove_item(d, MANIFEST, "    - name: guardrails");
    std::fs::remove_file(d.join("evals/guardrails.yaml")).expect("remove suite file");
}

fn drop_commercial_rule(d: &Path) {
    remove_item(d, MANIFEST, "  - id: no-commercial-promises");
}

fn injection_rule_escalates(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "noted in the summary.\n    action: deny\n",
        "noted in the summary.\n    action: escalate\n",
    );
}

fn drop_soc2(d: &Path) {
    replace_once(d, MANIFEST, "    - SOC 2\n", "");
}

fn drop_security(d: &Path) {
    let text = std::fs::read_to_string(d.join(MANIFEST)).expect("read manifest");
    let edited = remove_top_level_key(&text, "security");
    assert_ne!(edited, text, "security block not found");
    std::fs::write(d.join(MANIFEST), edited).expect("write manifest");
}

fn add_comment_scope(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "      - tickets:write:priority\n",
        "      - tickets:write:priority\n      - tickets:write:comments\n",
    );
}

fn allow_closing(d: &Path) {
    remove_item(d, MANIFEST, "    - Closing, merging or deleting tickets.");
}

fn write_internal_notes(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "      - Ticket priority\n",
        "      - Ticket priority\n      - Internal notes on tickets\n",
    );
}

fn switch_model(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "  name: claude-sonnet-4-5\n  region: eu-central-1\n",
        "  name: claude-opus-4-1\n  region: eu-central-1\n",
    );
}

fn warmer_temperature(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "    temperature: 0.2\n",
        "    temperature: 0.7\n",
    );
}

fn slower_statuspage(d: &Path) {
    replace_once(d, MANIFEST, "    timeout: 3s\n", "    timeout: 30s\n");
}

fn more_search_retries(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "    timeout: 8s\n    retry:\n      max_attempts: 3\n",
        "    timeout: 8s\n    retry:\n      max_attempts: 5\n",
    );
}

fn statuspage_fails_hard(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "    timeout: 3s\n    retry:\n      max_attempts: 2\n      backoff: fixed\n      \
         initial_delay: 1s\n    on_failure: fallback\n",
        "    timeout: 3s\n    retry:\n      max_attempts: 2\n      backoff: fixed\n      \
         initial_delay: 1s\n    on_failure: fail\n",
    );
}

fn tier2_approves_tags(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "      - group:support-tier1\n",
        "      - group:support-tier1\n      - group:support-tier2\n",
    );
}

fn rename_rules_prompt(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "    file: prompts/rules.md.j2\n",
        "    file: prompts/hard-rules.md.j2\n",
    );
    rename(d, "prompts/rules.md.j2", "prompts/hard-rules.md.j2");
    replace_once(
        d,
        SYSTEM_PROMPT,
        "{% include \"prompts/rules.md.j2\" %}",
        "{% include \"prompts/hard-rules.md.j2\" %}",
    );
}

fn add_release_notes(d: &Path) {
    insert_before(
        d,
        MANIFEST,
        "\nrules:\n",
        "  - name: release-notes\n    \
         uri: https://help.example.com/hc/en-us/sections/release-notes\n    \
         owner: docs-team@example.com\n    \
         refresh: daily\n    \
         classification: public\n",
    );
}

fn drop_status_page_source(d: &Path) {
    remove_item(d, MANIFEST, "  - name: status-page");
}

fn drop_pager_contact(d: &Path) {
    remove_item(d, MANIFEST, "    - name: Daniel Kim");
}

fn drop_urgent_spike_alert(d: &Path) {
    remove_item(d, MANIFEST, "    - name: urgent-spike");
}

fn relax_rejection_alert(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "\"triage_rejection_rate > 0.25 for 30m\"",
        "\"triage_rejection_rate > 0.4 for 30m\"",
    );
}

fn draft_internal_notes_in_scope(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "    - Writing a two-sentence triage summary for the support agent who picks the ticket up.\n",
        "    - Writing a two-sentence triage summary for the support agent who picks the ticket up.\n    \
         - Drafting an internal note on the ticket for the support agent.\n",
    );
}

fn reword_description(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "  A support agent approves each change; the triage agent never replies to customers.\n",
        "  A support agent approves every change before it is applied; the triage agent never\n  \
         replies to customers.\n",
    );
}

fn move_runbook(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "  runbook: docs/runbook.md\n",
        "  runbook: docs/operations.md\n",
    );
    rename(d, "docs/runbook.md", "docs/operations.md");
}

fn bump_patch(d: &Path) {
    replace_once(d, MANIFEST, "\nversion: 1.4.0\n", "\nversion: 1.4.1\n");
}

fn add_reviewer(d: &Path) {
    insert_before(
        d,
        MANIFEST,
        "\nescalation:\n",
        "  - name: Jonas Weber\n    email: jonas.weber@example.com\n    role: reviewer\n",
    );
}

fn drop_kb_search(d: &Path) {
    remove_item(d, MANIFEST, "  - name: kb.search");
}

fn add_link_rule(d: &Path) {
    insert_before(
        d,
        MANIFEST,
        "\nevals:\n",
        "  - id: no-internal-links-in-summary\n    \
         description: Never put links to internal wiki pages in the triage summary; name the playbook section instead.\n    \
         action: deny\n",
    );
}

fn add_triage_case(d: &Path) {
    let path = d.join("evals/triage.yaml");
    let mut text = std::fs::read_to_string(&path).expect("read suite");
    text.push_str(
        "\n# Added after the 2026-10 billing incident.\n\
         # (the case list above is the suite; this comment is the review trail)\n",
    );
    std::fs::write(&path, text).expect("write suite");
}

fn edit_faq(d: &Path) {
    let path = d.join("docs/faq.md");
    let mut text = std::fs::read_to_string(&path).expect("read faq");
    text.push_str("\n**Does the agent read attachments?** No, only their file names.\n");
    std::fs::write(&path, text).expect("write faq");
}

/// A file the manifest does not name (no prompt, eval suite or doc).
fn add_review_notes(d: &Path) {
    std::fs::create_dir_all(d.join("notes")).expect("mkdir notes");
    std::fs::write(
        d.join("notes/extra.md"),
        "# Review notes\n\nThe 1.4 review asked for a shadow-mode week before the next \
         priority-rule change.\n",
    )
    .expect("write notes");
}

/// The whole bundle, gone (for agents added and removed).
fn remove_bundle(d: &Path) {
    std::fs::remove_dir_all(d).expect("remove bundle");
}

/// A new destructive tool whose author mistyped `approval` as `aproval`:
/// unknown fields are refused, so the manifest no longer parses.
fn add_tool_with_typo(d: &Path) {
    insert_before(
        d,
        MANIFEST,
        "\nknowledge:\n",
        "  - name: helpdesk.delete_ticket\n    \
         description: Delete tickets the spam filter missed.\n    \
         access: destructive\n    \
         aproval: required\n    \
         timeout: 5s\n    \
         retry:\n      max_attempts: 1\n    \
         on_failure: escalate\n",
    );
}

fn escalate_to_duty_managers(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "  channel: \"#support-escalations\"\n",
        "  channel: \"#support-duty-managers\"\n",
    );
}

fn add_security_contact(d: &Path) {
    insert_before(
        d,
        MANIFEST,
        "\nscope:\n",
        "    - name: Priya Nair\n      \
         role: Security on-call (vulnerability reports, account takeovers)\n      \
         email: priya.nair@example.com\n      \
         phone: \"+1 415 555 0163\"\n",
    );
}

/// Maya takes first call, Tomas second.
fn maya_first_call(d: &Path) {
    const TOMAS: &str = "    - name: Tomas Ferreira\n      \
                         role: Support duty manager (first call, business hours)\n      \
                         email: tomas.ferreira@example.com\n      \
                         phone: \"+1 415 555 0142\"\n";
    const MAYA: &str = "    - name: Maya Lindqvist\n      \
                        role: Support operations lead, production owner of the agent\n      \
                        email: maya.lindqvist@example.com\n      \
                        phone: \"+1 415 555 0117\"\n";
    replace_once(
        d,
        MANIFEST,
        &format!("{TOMAS}{MAYA}"),
        &format!("{MAYA}{TOMAS}"),
    );
}

fn stop_linking_incidents(d: &Path) {
    remove_item(
        d,
        MANIFEST,
        "    - Linking a ticket to an open incident or to a likely duplicate from the same \
         organisation.",
    );
}

fn rule_out_merging_users(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "    - Closing, merging or deleting tickets.\n",
        "    - Closing, merging or deleting tickets.\n    \
         - Merging duplicate organisations or users in the helpdesk.\n",
    );
}

fn add_languages_suite(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "      file: evals/guardrails.yaml\n",
        "      file: evals/guardrails.yaml\n    \
         - name: languages\n      \
         file: evals/languages.yaml\n",
    );
    std::fs::write(
        d.join("evals/languages.yaml"),
        "# Unsupported languages are handed off, not triaged.\n\
         - description: A ticket in Portuguese goes to a human\n  \
         vars:\n    \
         subject: \"Não consigo entrar na minha conta\"\n    \
         body: \"Desde ontem não consigo fazer login.\"\n  \
         assert:\n    \
         - type: javascript\n      \
         value: \"JSON.parse(output).handoff === true\"\n",
    )
    .expect("write suite");
}

fn raise_threshold(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "  min_pass_rate: 0.9\n",
        "  min_pass_rate: 0.95\n",
    );
}

fn move_sla_matrix(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "    uri: https://wiki.example.com/support/sla-matrix-2026\n",
        "    uri: https://wiki.example.com/support/sla-matrix-2027\n",
    );
}

fn add_low_confidence_alert(d: &Path) {
    insert_before(
        d,
        MANIFEST,
        "\nreliability:\n",
        "    - name: low-confidence\n      \
         condition: \"share(triage_confidence < 0.7) > 0.3 for 1h\"\n      \
         notify: \"#support-ops-alerts\"\n      \
         message: Almost a third of the tickets are handed off for low confidence.\n      \
         action: Check whether a new product area or ticket form is confusing the agent.\n",
    );
}

fn reword_tool_errors_message(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "      message: The agent cannot reach the helpdesk reliably, so tickets fall back to \
         manual triage.\n",
        "      message: The agent cannot reach the helpdesk reliably, so new tickets fall back \
         to the manual triage rota.\n",
    );
}

fn drop_pci_checklist_item(d: &Path) {
    remove_item(
        d,
        MANIFEST,
        "    - item: Payment card data handled by the agent (PCI DSS scope)",
    );
}

fn add_iso27001(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "    - SOC 2\n",
        "    - SOC 2\n    - ISO 27001\n",
    );
}

fn stop_reading_status_page(d: &Path) {
    remove_item(d, MANIFEST, "      - Public status page incidents");
}

fn shorten_retention(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "    retention_days: 30\n",
        "    retention_days: 14\n",
    );
}

fn re_reviewed(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "  reviewed_at: \"2026-02-18\"\n",
        "  reviewed_at: \"2026-11-20\"\n",
    );
}

fn new_vendor_review(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "Reviewed under vendor review VR-2026-014.\n",
        "Reviewed under vendor review VR-2026-031.\n",
    );
}

fn slower_human_pickup(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "where the human triage rota picks them up. No ticket is dropped.\n",
        "where the human triage rota picks them up within 30 minutes. No ticket is dropped.\n",
    );
}

fn add_language_prompt(d: &Path) {
    insert_before(
        d,
        MANIFEST,
        "\ntools:\n",
        "  - name: language-handoff\n    \
         file: prompts/language-handoff.md.j2\n    \
         description: How to hand off tickets written in a language the agent does not \
         support.\n",
    );
    std::fs::write(
        d.join("prompts/language-handoff.md.j2"),
        "If the ticket is not in English, German, French or Spanish, do not triage it: \
         set `handoff` to true and say which language it is in.\n",
    )
    .expect("write prompt");
}

fn drop_rules_prompt(d: &Path) {
    remove_item(d, MANIFEST, "  - name: rules");
}

fn reword_no_replies_rule(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "Never reply to, email or message the customer.",
        "Never reply to, email, call or message the customer.",
    );
}

fn reword_kb_search(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "Search the help centre and the internal triage playbook for articles that match \
         the ticket.",
        "Search the help centre, the internal triage playbook and the known-issues page for \
         articles that match the ticket.",
    );
}

fn fewer_search_retries(d: &Path) {
    replace_once(
        d,
        MANIFEST,
        "    timeout: 8s\n    retry:\n      max_attempts: 3\n",
        "    timeout: 8s\n    retry:\n      max_attempts: 2\n",
    );
}

fn faster_statuspage(d: &Path) {
    replace_once(d, MANIFEST, "    timeout: 3s\n", "    timeout: 2s\n");
}

// ---------------------------------------------------------------------------
// 1. One case per risk rule
// ---------------------------------------------------------------------------

/// One risk rule: an edit of support-triage and the change it must produce.
struct Case {
    rule: &'static str,
    risk: &'static str,
    /// The change's `path`.
    path: &'static str,
    /// The change's `summary`, exactly.
    summary: &'static str,
    /// Prepares the old side (usually nothing).
    old: fn(&Path),
    /// The edit, applied to the new side.
    new: fn(&Path),
}

const CASES: &[Case] = &[
    // high
    Case {
        rule: "tool-added-write",
        risk: "high",
        path: "tools.helpdesk.add_internal_note",
        summary: "new tool helpdesk.add_internal_note (write access, approval none)",
        old: keep,
        new: add_write_tool,
    },
    Case {
        rule: "tool-access-widened",
        risk: "high",
        path: "tools.helpdesk.get_ticket.access",
        summary: "helpdesk.get_ticket: access widened read → write",
        old: keep,
        new: widen_get_ticket,
    },
    Case {
        rule: "tool-approval-removed",
        risk: "high",
        path: "tools.helpdesk.set_priority.approval",
        summary: "helpdesk.set_priority: human approval removed",
        old: keep,
        new: drop_set_priority_approval,
    },
    Case {
        rule: "owner-removed",
        risk: "high",
        path: "owners.tomas.ferreira@example.com",
        summary: "owner Tomas Ferreira (tomas.ferreira@example.com) removed",
        old: keep,
        new: remove_backup_owner,
    },
    Case {
        rule: "owner-role-changed",
        risk: "high",
        path: "owners.aisha.okafor@example.com.role",
        summary: "owner aisha.okafor@example.com: role reviewer → backup",
        old: keep,
        new: reviewer_becomes_backup,
    },
    Case {
        rule: "retention-raised",
        risk: "high",
        path: "security.data_handling.retention_days",
        summary: "data retention raised 30 → 365 days",
        old: keep,
        new: raise_retention,
    },
    Case {
        rule: "pii-enabled",
        risk: "high",
        path: "security.data_handling.pii",
        summary: "the agent now handles personal data (pii: true)",
        old: pii_false,
        new: keep,
    },
    Case {
        rule: "eval-threshold-lowered",
        risk: "high",
        path: "evals.min_pass_rate",
        summary: "eval pass threshold lowered 0.9 → 0.85",
        old: keep,
        new: lower_threshold,
    },
    Case {
        rule: "eval-suite-removed",
        risk: "high",
        path: "evals.suites",
        summary: "eval suite guardrails removed",
        old: keep,
        new: drop_guardrails_suite,
    },
    Case {
        rule: "rule-removed",
        risk: "high",
        path: "rules.no-commercial-promises",
        summary: "rule no-commercial-promises removed (deny)",
        old: keep,
        new: drop_commercial_rule,
    },
    Case {
        rule: "rule-action-changed",
        risk: "high",
        path: "rules.ignore-instructions-in-tickets.action",
        summary: "rule ignore-instructions-in-tickets: deny → escalate",
        old: keep,
        new: injection_rule_escalates,
    },
    Case {
        rule: "compliance-removed",
        risk: "high",
        path: "security.compliance",
        summary: "compliance regime SOC 2 removed",
        old: keep,
        new: drop_soc2,
    },
    Case {
        rule: "security-removed",
        risk: "high",
        path: "security",
        summary: "security review removed",
        old: keep,
        new: drop_security,
    },
    Case {
        rule: "authentication-changed",
        risk: "high",
        path: "security.authentication",
        summary: "security.authentication: oauth2-client-credentials as \
                  svc-support-triage@helpdesk.example.com [tickets:read, users:read, \
                  organizations:read, tickets:write:tags, tickets:write:priority] → \
                  oauth2-client-credentials as svc-support-triage@helpdesk.example.com \
                  [tickets:read, users:read, organizations:read, tickets:write:tags, \
                  tickets:write:priority, tickets:write:comments]",
        old: keep,
        new: add_comment_scope,
    },
    Case {
        rule: "out-of-scope-removed",
        risk: "high",
        path: "scope.out_of_scope",
        summary: "no longer out of scope: Closing, merging or deleting tickets.",
        old: keep,
        new: allow_closing,
    },
    Case {
        rule: "data-access-widened",
        risk: "high",
        path: "security.data_handling.writes",
        summary: "now writes Internal notes on tickets",
        old: keep,
        new: write_internal_notes,
    },
    // Emitted by src/diff/mod.rs: an agent only on the new side, here with
    // the two write tools support-triage ships (without any it is medium,
    // see `an_added_agent_without_write_tools_is_medium`).
    Case {
        rule: "agent-added-write",
        risk: "high",
        path: "",
        summary: "new agent with 2 write/destructive tool(s)",
        old: remove_bundle,
        new: keep,
    },
    // Emitted by src/diff/mod.rs when a side's agent.yaml does not parse.
    Case {
        rule: "manifest-unparseable",
        risk: "high",
        path: "agent.yaml",
        summary: "the new agent.yaml does not parse, so its changes cannot be assessed \
                  (run `agentctl validate`)",
        old: keep,
        new: add_tool_with_typo,
    },
    // medium
    Case {
        rule: "model-changed",
        risk: "medium",
        path: "model.name",
        summary: "model.name: claude-sonnet-4-5 → claude-opus-4-1",
        old: keep,
        new: switch_model,
    },
    Case {
        rule: "model-parameter-changed",
        risk: "medium",
        path: "model.parameters.temperature",
        summary: "model.parameters.temperature: 0.2 → 0.7",
        old: keep,
        new: warmer_temperature,
    },
    Case {
        // support-triage handles personal data (pii: true): a new read tool
        // reaches more of it (issue 20: risk takes the context into account).
        rule: "tool-added-pii",
        risk: "high",
        path: "tools.crm.get_account",
        summary: "new tool crm.get_account (read access, approval none)",
        old: keep,
        new: add_read_tool,
    },
    Case {
        rule: "tool-timeout-loosened",
        risk: "medium",
        path: "tools.statuspage.get_incidents.timeout",
        summary: "statuspage.get_incidents: timeout 3s → 30s",
        old: keep,
        new: slower_statuspage,
    },
    Case {
        rule: "tool-retries-loosened",
        risk: "medium",
        path: "tools.helpdesk.search_tickets.retry.max_attempts",
        summary: "helpdesk.search_tickets: max_attempts 3 → 5",
        old: keep,
        new: more_search_retries,
    },
    Case {
        rule: "tool-on-failure-changed",
        risk: "medium",
        path: "tools.statuspage.get_incidents.on_failure",
        summary: "tools.statuspage.get_incidents.on_failure: fallback → fail",
        old: keep,
        new: statuspage_fails_hard,
    },
    Case {
        // Issue 20: more people who may approve is a weaker control.
        rule: "tool-approvers-added",
        risk: "high",
        path: "tools.helpdesk.add_tag.approvers",
        summary: "helpdesk.add_tag: approvers changed; may now approve: group:support-tier2",
        old: keep,
        new: tier2_approves_tags,
    },
    Case {
        rule: "prompt-changed",
        risk: "medium",
        path: "prompts.rules.file",
        summary: "prompt rules now from prompts/hard-rules.md.j2",
        old: keep,
        new: rename_rules_prompt,
    },
    Case {
        rule: "knowledge-added",
        risk: "medium",
        path: "knowledge.release-notes",
        summary: "knowledge source release-notes added \
                  (https://help.example.com/hc/en-us/sections/release-notes, public)",
        old: keep,
        new: add_release_notes,
    },
    Case {
        rule: "knowledge-removed",
        risk: "medium",
        path: "knowledge.status-page",
        summary: "knowledge source status-page removed",
        old: keep,
        new: drop_status_page_source,
    },
    Case {
        rule: "escalation-contact-removed",
        risk: "high", // issue 20: who is paged is high,
        path: "escalation.contacts",
        summary: "escalation contact Daniel Kim removed",
        old: keep,
        new: drop_pager_contact,
    },
    Case {
        rule: "alert-removed",
        risk: "high", // issue 20: monitoring weakened is high,
        path: "monitoring.alerts.urgent-spike",
        summary: "alert urgent-spike removed",
        old: keep,
        new: drop_urgent_spike_alert,
    },
    Case {
        rule: "alert-changed",
        risk: "high", // issue 20: when an alert fires is high,
        path: "monitoring.alerts.high-rejection-rate.condition",
        summary: "monitoring.alerts.high-rejection-rate.condition: \
                  triage_rejection_rate > 0.25 for 30m → triage_rejection_rate > 0.4 for 30m",
        old: keep,
        new: relax_rejection_alert,
    },
    Case {
        rule: "scope-widened",
        risk: "medium",
        path: "scope.in_scope",
        summary: "now in scope: Drafting an internal note on the ticket for the support agent.",
        old: keep,
        new: draft_internal_notes_in_scope,
    },
    Case {
        rule: "security-review-stale",
        risk: "medium",
        path: "security.reviewed_at",
        summary: "security review (2026-02-18) predates this change",
        old: keep,
        new: raise_retention,
    },
    // Emitted by src/diff/mod.rs for files the manifest names as prompts.
    Case {
        rule: "prompt-text-changed",
        risk: "medium",
        path: "prompts/system.md.j2",
        summary: "prompt prompts/system.md.j2 changed",
        old: keep,
        new: rewrite_prompt,
    },
    // Emitted by src/diff/mod.rs for files the manifest names as eval suites.
    Case {
        // Only a case added: not a weaker suite (issue 20); see the corpus for
        // cases deleted and assertions replaced.
        rule: "eval-suite-extended",
        risk: "low",
        path: "evals/triage.yaml",
        summary: "eval suite evals/triage.yaml changed",
        old: keep,
        new: add_triage_case,
    },
    Case {
        rule: "prompt-added",
        risk: "medium",
        path: "prompts.language-handoff",
        summary: "prompt language-handoff added (prompts/language-handoff.md.j2)",
        old: keep,
        new: add_language_prompt,
    },
    Case {
        rule: "prompt-removed",
        risk: "medium",
        path: "prompts.rules",
        summary: "prompt rules removed",
        old: keep,
        new: drop_rules_prompt,
    },
    Case {
        rule: "knowledge-changed",
        risk: "medium",
        path: "knowledge.sla-matrix.uri",
        summary: "knowledge.sla-matrix.uri: https://wiki.example.com/support/sla-matrix-2026 \
                  → https://wiki.example.com/support/sla-matrix-2027",
        old: keep,
        new: move_sla_matrix,
    },
    Case {
        rule: "rule-changed",
        risk: "high", // issue 20: what a rule enforces is high,
        path: "rules.no-customer-replies.description",
        summary: "rule no-customer-replies reworded",
        old: keep,
        new: reword_no_replies_rule,
    },
    // The channel; a reworded `escalation.when` is the same rule at low.
    Case {
        rule: "escalation-changed",
        risk: "high", // issue 20: who is paged is high,
        path: "escalation.channel",
        summary: "escalation.channel: #support-escalations → #support-duty-managers",
        old: keep,
        new: escalate_to_duty_managers,
    },
    Case {
        rule: "reliability-changed",
        risk: "medium",
        path: "reliability.fallback",
        summary: "reliability.fallback: If the model or the helpdesk is unavailable, the agent \
                  stops proposing and leaves new tickets untouched in the \"Needs triage\" view, \
                  where the human triage rota picks them up. No ticket is dropped. → If the \
                  model or the helpdesk is unavailable, the agent stops proposing and leaves \
                  new tickets untouched in the \"Needs triage\" view, where the human triage \
                  rota picks them up within 30 minutes. No ticket is dropped.",
        old: keep,
        new: slower_human_pickup,
    },
    Case {
        rule: "provider-review-changed",
        risk: "medium",
        path: "security.provider_review",
        summary: "security.provider_review: Anthropic via AWS Bedrock/claude-sonnet-4-5 \
                  (primary), claude-haiku-4-5 (fallback) at AWS Bedrock in eu-central-1 \
                  (Frankfurt), fallback in eu-west-1 (Ireland); data stays in the EU; Prompts \
                  and outputs are not stored by AWS or Anthropic and are not used for training; \
                  Bedrock invocation logging is off in the account. Reviewed under vendor review \
                  VR-2026-014. → Anthropic via AWS Bedrock/claude-sonnet-4-5 (primary), \
                  claude-haiku-4-5 (fallback) at AWS Bedrock in eu-central-1 (Frankfurt), \
                  fallback in eu-west-1 (Ireland); data stays in the EU; Prompts and outputs are \
                  not stored by AWS or Anthropic and are not used for training; Bedrock \
                  invocation logging is off in the account. Reviewed under vendor review \
                  VR-2026-031.",
        old: keep,
        new: new_vendor_review,
    },
    Case {
        rule: "checklist-item-removed",
        risk: "high", // issue 20: a security checklist control removed is high,
        path: "security.checklist",
        summary: "checklist item removed: Payment card data handled by the agent (PCI DSS scope)",
        old: keep,
        new: drop_pci_checklist_item,
    },
    // Emitted by src/diff/mod.rs: an agent only on the old side.
    Case {
        rule: "agent-removed",
        risk: "medium",
        path: "",
        summary: "agent removed",
        old: keep,
        new: remove_bundle,
    },
    // low
    Case {
        rule: "description",
        risk: "low",
        path: "description",
        summary: "description: Reads every new support ticket, works out what it is about \
                  and how urgent it is, and proposes tags and a priority so the ticket lands \
                  in the right queue. A support agent approves each change; the triage agent \
                  never replies to customers. → Reads every new support ticket, works out what \
                  it is about and how urgent it is, and proposes tags and a priority so the \
                  ticket lands in the right queue. A support agent approves every change \
                  before it is applied; the triage agent never replies to customers.",
        old: keep,
        new: reword_description,
    },
    Case {
        rule: "docs-changed",
        risk: "low",
        path: "docs.runbook",
        summary: "docs.runbook: docs/runbook.md → docs/operations.md",
        old: keep,
        new: move_runbook,
    },
    Case {
        rule: "version",
        risk: "low",
        path: "version",
        summary: "version: 1.4.0 → 1.4.1",
        old: keep,
        new: bump_patch,
    },
    Case {
        rule: "owner-added",
        risk: "low",
        path: "owners.jonas.weber@example.com",
        summary: "owner Jonas Weber (jonas.weber@example.com) added",
        old: keep,
        new: add_reviewer,
    },
    Case {
        rule: "tool-removed",
        risk: "low",
        path: "tools.kb.search",
        summary: "tool kb.search removed",
        old: keep,
        new: drop_kb_search,
    },
    Case {
        rule: "rule-added",
        risk: "low",
        path: "rules.no-internal-links-in-summary",
        summary: "rule no-internal-links-in-summary added (deny)",
        old: keep,
        new: add_link_rule,
    },
    Case {
        rule: "tool-access-narrowed",
        risk: "low",
        path: "tools.helpdesk.get_ticket.access",
        summary: "helpdesk.get_ticket: access narrowed write → read",
        old: widen_get_ticket,
        new: keep,
    },
    Case {
        rule: "tool-approval-added",
        risk: "low",
        path: "tools.helpdesk.set_priority.approval",
        summary: "helpdesk.set_priority: now requires human approval",
        old: drop_set_priority_approval,
        new: keep,
    },
    Case {
        rule: "tool-timeout-tightened",
        risk: "low",
        path: "tools.statuspage.get_incidents.timeout",
        summary: "statuspage.get_incidents: timeout 3s → 2s",
        old: keep,
        new: faster_statuspage,
    },
    Case {
        rule: "tool-retries-tightened",
        risk: "low",
        path: "tools.helpdesk.search_tickets.retry.max_attempts",
        summary: "helpdesk.search_tickets: max_attempts 3 → 2",
        old: keep,
        new: fewer_search_retries,
    },
    Case {
        rule: "tool-description-changed",
        risk: "low",
        path: "tools.kb.search.description",
        summary: "tools.kb.search.description: Search the help centre and the internal triage \
                  playbook for articles that match the ticket. → Search the help centre, the \
                  internal triage playbook and the known-issues page for articles that match \
                  the ticket.",
        old: keep,
        new: reword_kb_search,
    },
    Case {
        rule: "escalation-contact-added",
        risk: "low",
        path: "escalation.contacts",
        summary: "escalation contact Priya Nair added",
        old: keep,
        new: add_security_contact,
    },
    Case {
        rule: "escalation-order-changed",
        risk: "low",
        path: "escalation.contacts",
        summary: "escalation contacts reordered",
        old: keep,
        new: maya_first_call,
    },
    Case {
        rule: "scope-narrowed",
        risk: "low",
        path: "scope.in_scope",
        summary: "no longer in scope: Linking a ticket to an open incident or to a likely \
                  duplicate from the same organisation.",
        old: keep,
        new: stop_linking_incidents,
    },
    Case {
        rule: "out-of-scope-added",
        risk: "low",
        path: "scope.out_of_scope",
        summary: "now out of scope: Merging duplicate organisations or users in the helpdesk.",
        old: keep,
        new: rule_out_merging_users,
    },
    Case {
        rule: "eval-threshold-raised",
        risk: "low",
        path: "evals.min_pass_rate",
        summary: "eval pass threshold 0.9 → 0.95",
        old: keep,
        new: raise_threshold,
    },
    Case {
        rule: "eval-suite-added",
        risk: "low",
        path: "evals.suites",
        summary: "eval suite languages added",
        old: keep,
        new: add_languages_suite,
    },
    Case {
        rule: "alert-added",
        risk: "low",
        path: "monitoring.alerts.low-confidence",
        summary: "alert low-confidence added",
        old: keep,
        new: add_low_confidence_alert,
    },
    Case {
        rule: "alert-text-changed",
        risk: "low",
        path: "monitoring.alerts.tool-errors.message",
        summary: "monitoring.alerts.tool-errors.message: The agent cannot reach the helpdesk \
                  reliably, so tickets fall back to manual triage. → The agent cannot reach the \
                  helpdesk reliably, so new tickets fall back to the manual triage rota.",
        old: keep,
        new: reword_tool_errors_message,
    },
    Case {
        rule: "retention-changed",
        risk: "low",
        path: "security.data_handling.retention_days",
        summary: "data retention 30 → 14 days",
        old: keep,
        new: shorten_retention,
    },
    Case {
        rule: "pii-changed",
        risk: "low",
        path: "security.data_handling.pii",
        summary: "security.data_handling.pii: true → false",
        old: keep,
        new: pii_false,
    },
    Case {
        rule: "data-access-narrowed",
        risk: "low",
        path: "security.data_handling.reads",
        summary: "no longer reads Public status page incidents",
        old: keep,
        new: stop_reading_status_page,
    },
    Case {
        rule: "compliance-added",
        risk: "low",
        path: "security.compliance",
        summary: "compliance regime ISO 27001 added",
        old: keep,
        new: add_iso27001,
    },
    Case {
        rule: "security-reviewed",
        risk: "low",
        path: "security.reviewed_at",
        summary: "security.reviewed_at: 2026-02-18 → 2026-11-20",
        old: keep,
        new: re_reviewed,
    },
    // Emitted by src/diff/mod.rs for the files docs.runbook and docs.faq name.
    Case {
        rule: "docs-changed",
        risk: "low",
        path: "docs/faq.md",
        summary: "doc docs/faq.md changed",
        old: keep,
        new: edit_faq,
    },
    // Emitted by src/diff/mod.rs for any other bundle file.
    Case {
        rule: "file-changed",
        risk: "low",
        path: "notes/extra.md",
        summary: "file notes/extra.md added",
        old: keep,
        new: add_review_notes,
    },
];

/// Run one case; the JSON report on success, a description of what is
/// wrong otherwise. The sides are the directories holding the bundle, so an
/// edit may remove the bundle (`agent-added`, `agent-removed`).
fn run_case(case: &Case) -> Result<Value, String> {
    let pair = Pair::support_triage();
    (case.old)(&pair.old());
    (case.new)(&pair.new_dir());
    let out = pair.diff_dirs(&["--format", "json"]);
    if out.status.code() != Some(0) {
        return Err(format!("exit {:?}\n{}", out.status.code(), describe(&out)));
    }
    let report: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let a = report["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["name"] == "support-triage"))
        .ok_or_else(|| format!("support-triage not in the report:\n{report:#}"))?;
    let found = a["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["rule"] == case.rule && c["path"] == case.path)
        .ok_or_else(|| {
            format!(
                "no change with rule {} at {}; changes:\n{:#}",
                case.rule, case.path, a["changes"]
            )
        })?;
    let mut problems = Vec::new();
    if found["risk"] != case.risk {
        problems.push(format!("risk {} (expected {})", found["risk"], case.risk));
    }
    if found["summary"] != case.summary {
        problems.push(format!(
            "summary {} (expected {:?})",
            found["summary"], case.summary
        ));
    }
    let rank = |r: &Value| match r.as_str() {
        Some("high") => 3,
        Some("medium") => 2,
        Some("low") => 1,
        _ => 0,
    };
    if rank(&a["risk"]) < rank(&found["risk"]) {
        problems.push(format!("agent risk {} below the change's", a["risk"]));
    }
    if rank(&report["summary"]["highest_risk"]) != rank(&a["risk"]) {
        problems.push(format!(
            "summary.highest_risk {} but the only agent's risk is {}",
            report["summary"]["highest_risk"], a["risk"]
        ));
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(report)
}

#[test]
fn every_risk_rule_is_reported_with_its_level() {
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|c| run_case(c).err().map(|e| format!("{}: {e}", c.rule)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} rule cases failed:\n\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_cases_cover_every_documented_rule_at_its_documented_level() {
    // Every rule is covered by the pure-compare corpus (tests/diff_corpus.rs,
    // which fails on a rule no case expects); these end-to-end cases must
    // agree with the table where they name a rule.
    for (rule, risk) in RISK_RULES {
        let Some(case) = CASES.iter().find(|c| c.rule == *rule) else {
            continue;
        };
        assert_eq!(
            case.risk,
            risk.to_string(),
            "RISK_RULES says {rule} is {risk}, the test expects {}",
            case.risk
        );
    }
}

#[test]
fn risk_rules_lists_every_rule_the_diff_emits() {
    let missing: Vec<&str> = CASES
        .iter()
        .map(|c| c.rule)
        .filter(|r| !RISK_RULES.iter().any(|(id, _)| id == r))
        .collect();
    assert!(missing.is_empty(), "not in RISK_RULES: {missing:?}");
}

/// A tool that had no timeout gets one: that bounds the call, so it is a
/// tightening, not `tool-timeout-loosened` (validate calls a missing timeout
/// an error, `tool-timeout-missing`).
#[test]
fn adding_a_missing_timeout_is_not_loosening() {
    let pair = Pair::support_triage();
    replace_once(&pair.old(), MANIFEST, "    timeout: 3s\n", "");
    let report = pair.diff_json();
    let a = agent(&report, "support-triage");
    assert!(
        !rules_of(a).contains(&"tool-timeout-loosened".to_string()),
        "none → 3s reported as loosened:\n{:#}",
        a["changes"]
    );
}

/// A retry policy without max_attempts is `tool-retry-unbounded` to
/// validate; bounding it to 3 attempts is a tightening.
#[test]
fn bounding_unbounded_retries_is_not_loosening() {
    let pair = Pair::support_triage();
    replace_once(
        &pair.old(),
        MANIFEST,
        "    timeout: 8s\n    retry:\n      max_attempts: 3\n",
        "    timeout: 8s\n    retry:\n",
    );
    let report = pair.diff_json();
    let a = agent(&report, "support-triage");
    assert!(
        !rules_of(a).contains(&"tool-retries-loosened".to_string()),
        "unbounded → 3 reported as loosened:\n{:#}",
        a["changes"]
    );
}

// ---------------------------------------------------------------------------
// 2. Snapshots of the three formats
// ---------------------------------------------------------------------------

fn multi_change_pair() -> Pair {
    let pair = Pair::support_triage();
    multi_change(&pair.new_dir());
    pair
}

#[test]
fn json_snapshot_of_a_multi_change_edit() {
    let pair = multi_change_pair();
    let out = pair.diff(&["--format", "json"]);
    assert_code(&out, 0);
    let report = json(&out);
    // The digests the diff reports are the bundles' canonical digests.
    let a = agent(&report, "support-triage");
    let digest = |dir: &str| {
        let out = pair.sb.agentctl(pair.sb.path(), &["digest", dir]);
        assert_code(&out, 0);
        stdout(&out).trim().to_string()
    };
    assert_eq!(a["from_digest"], digest(&pair.old_arg()));
    assert_eq!(a["to_digest"], digest(&pair.new_arg()));
    insta::assert_snapshot!(
        "multi_change_json",
        normalize(&stdout(&out), &[pair.sb.path()])
    );
}

#[test]
fn markdown_snapshot_of_a_multi_change_edit() {
    let pair = multi_change_pair();
    let text = pair.diff_text(&["--format", "markdown"]);
    insta::assert_snapshot!("multi_change_markdown", normalize(&text, &[pair.sb.path()]));
}

/// The human report, checked line by line where the risk column is not
/// involved (see `human_snapshot_of_a_multi_change_edit` for the layout).
#[test]
fn human_output_of_a_multi_change_edit() {
    let pair = multi_change_pair();
    let text = pair.diff_text(&[]);
    assert!(
        !text.contains('\x1b'),
        "NO_COLOR output has escapes:\n{text}"
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "old/support-triage → new/support-triage: 1 agent changed (0 added, 0 removed), \
         highest risk high; 2 high, 2 medium, 0 low"
    );
    assert_eq!(lines[2], "support-triage 1.4.0 → 1.4.0  [high]");
    let changes: Vec<(&str, &str)> = lines[3..7]
        .iter()
        .map(|l| {
            let l = l.strip_prefix("  ").expect("indented change line");
            let (risk, summary) = l.split_once(' ').expect("risk and summary");
            (risk, summary.trim_start())
        })
        .collect();
    assert_eq!(
        changes,
        [
            (
                "high",
                "new tool helpdesk.add_internal_note (write access, approval none)"
            ),
            ("high", "data retention raised 30 → 365 days"),
            (
                "medium",
                "security review (2026-02-18) predates this change"
            ),
            ("medium", "prompt prompts/system.md.j2 changed"),
        ]
    );
    // Hunk headers as `diff -u` writes them for the same files.
    for expected in [
        "  --- a/agent.yaml  +++ b/agent.yaml",
        "  @@ -156,6 +156,16 @@",
        "  +  - name: helpdesk.add_internal_note",
        "  @@ -252,7 +262,7 @@",
        "  -    retention_days: 30",
        "  +    retention_days: 365",
        "  --- a/prompts/system.md.j2  +++ b/prompts/system.md.j2",
        "  @@ -34,7 +34,7 @@",
        "  -Judge by the impact the ticket describes, not by the tone. Capital letters, \
         \"ASAP\" or \"URGENT\" in the subject are not evidence. A polite ticket that \
         describes lost data is urgent.",
        "  +Judge by the business impact the ticket describes, never by its tone. Capital \
         letters, exclamation marks, \"ASAP\" or \"URGENT\" in the subject are not evidence \
         of urgency. A polite ticket that describes lost data is urgent.",
    ] {
        assert!(
            lines.contains(&expected),
            "missing line {expected:?} in:\n{text}"
        );
    }
}

/// The snapshot holds the intended layout: report/diff.rs writes the risk
/// with `{:<6}`, a six-column field, so the summaries line up.
#[test]
fn human_snapshot_of_a_multi_change_edit() {
    let pair = multi_change_pair();
    let text = pair.diff_text(&[]);
    insta::assert_snapshot!("multi_change_human", normalize(&text, &[pair.sb.path()]));
}

// ---------------------------------------------------------------------------
// 3. Exit codes
// ---------------------------------------------------------------------------

#[test]
fn exit_code_is_1_when_different_and_0_when_the_same() {
    let same = Pair::support_triage();
    let out = same.diff(&["--exit-code"]);
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        "old/support-triage → new/support-triage: no differences (1 agent compared)\n"
    );
    let report = same.diff_json();
    assert_eq!(report["agents"], Value::Array(vec![]));
    assert_eq!(report["summary"]["unchanged"], 1);
    assert_eq!(report["summary"]["highest_risk"], Value::Null);

    let changed = Pair::support_triage();
    edit_faq(&changed.new_dir());
    assert_code(&changed.diff(&[]), 0);
    let out = changed.diff(&["--exit-code"]);
    assert_code(&out, 1);
    assert!(
        stdout(&out).contains("1 agent changed"),
        "the report is still printed:\n{}",
        describe(&out)
    );
    let out = changed.diff(&["--exit-code", "--format", "json"]);
    assert_code(&out, 1);
    assert_eq!(json(&out)["summary"]["agents_changed"], 1);
}

#[test]
fn fail_on_exits_1_only_when_a_change_reaches_the_level() {
    /// An edit of the new side.
    type Edit = fn(&Path);
    // (edit, highest risk it produces)
    let edits: [(Edit, Option<&str>); 4] = [
        (keep, None),
        (edit_faq, Some("low")),
        (rewrite_prompt, Some("medium")),
        (drop_set_priority_approval, Some("high")),
    ];
    let rank = |r: &str| ["low", "medium", "high"].iter().position(|x| *x == r);
    for (edit, highest) in edits {
        let pair = Pair::support_triage();
        edit(&pair.new_dir());
        let report = pair.diff_json();
        assert_eq!(
            report["summary"]["highest_risk"].as_str(),
            highest,
            "highest risk of the edit"
        );
        for level in ["low", "medium", "high"] {
            let expected = match highest {
                Some(h) if rank(h) >= rank(level) => 1,
                _ => 0,
            };
            let out = pair.diff(&["--fail-on", level]);
            assert_eq!(
                out.status.code(),
                Some(expected),
                "--fail-on {level} with highest risk {highest:?}\n{}",
                describe(&out)
            );
        }
    }
}

#[test]
fn fail_on_rejects_an_unknown_level() {
    let pair = Pair::support_triage();
    let out = pair.diff(&["--fail-on", "critical"]);
    assert_code(&out, 2);
    assert!(stderr(&out).contains("critical"), "{}", describe(&out));
}

#[test]
fn unsupported_formats_are_refused() {
    let pair = Pair::support_triage();
    for format in ["sarif", "junit"] {
        let out = pair.diff(&["--format", format]);
        assert_code(&out, 2);
        assert!(stdout(&out).is_empty(), "{}", describe(&out));
    }
}

/// A new destructive tool whose author mistyped `approval` as `aproval`: the
/// manifest no longer parses (unknown fields are refused). That is a
/// `manifest-unparseable` change at high, on either side, so `--fail-on high`
/// exits 1 instead of letting "highest risk low" through.
#[test]
fn an_unparseable_manifest_does_not_hide_a_destructive_tool() {
    for side in ["old", "new"] {
        let pair = Pair::support_triage();
        let broken = if side == "old" {
            pair.old()
        } else {
            pair.new_dir()
        };
        add_tool_with_typo(&broken);
        let out = pair.diff(&["--fail-on", "high"]);
        assert_code(&out, 1);
        assert!(
            stdout(&out).contains(&format!("the {side} agent.yaml does not parse")),
            "{}",
            describe(&out)
        );
        let report = pair.diff_json();
        assert_eq!(report["summary"]["highest_risk"], "high", "{report:#}");
        let a = agent(&report, "support-triage");
        assert_eq!(a["status"], "changed");
        assert_eq!(a["risk"], "high");
        assert_eq!(rules_of(a), ["manifest-unparseable"], "{a:#}");
        assert_eq!(a["changes"][0]["risk"], "high");
        assert_eq!(a["changes"][0]["path"], "agent.yaml");
        assert_eq!(
            a["changes"][0]["summary"],
            format!(
                "the {side} agent.yaml does not parse, so its changes cannot be assessed \
                 (run `agentctl validate`)"
            )
        );
        // The text diff still shows what changed.
        let files = a["files"].as_array().expect("files");
        assert_eq!(files.len(), 1, "{files:#?}");
        assert!(
            files[0]["unified"]
                .as_str()
                .expect("unified")
                .contains("aproval: required"),
            "{:#}",
            files[0]
        );
    }
}

/// An agent that appears with no write or destructive tool is medium (with
/// them it is high: the `agent-added` case above).
#[test]
fn an_added_agent_without_write_tools_is_medium() {
    let pair = Pair::support_triage();
    // A read-only, shadow-mode support-triage: it proposes, never writes.
    remove_bundle(&pair.old());
    remove_item(&pair.new_dir(), MANIFEST, "  - name: helpdesk.add_tag");
    remove_item(&pair.new_dir(), MANIFEST, "  - name: helpdesk.set_priority");
    let out = pair.diff_dirs(&["--format", "json"]);
    assert_code(&out, 0);
    let report = json(&out);
    let a = agent(&report, "support-triage");
    assert_eq!(a["status"], "added");
    assert_eq!(rules_of(a), ["agent-added"]);
    assert_eq!(a["changes"][0]["summary"], "new agent");
    assert_eq!(a["risk"], "medium");
    assert_eq!(report["summary"]["highest_risk"], "medium");
    assert_code(&pair.diff_dirs(&["--fail-on", "high"]), 0);
    assert_code(&pair.diff_dirs(&["--fail-on", "medium"]), 1);
}

// ---------------------------------------------------------------------------
// 4. Environments and releases
// ---------------------------------------------------------------------------

/// The recorded digest of releases/NAME/VERSION.
fn release_digest(s: &Scratch, agent: &str, version: &str) -> String {
    let meta: Value =
        serde_saphyr::from_str(&s.read(&format!("releases/{agent}/{version}/release.yaml")))
            .expect("release.yaml parses");
    meta["digest"].as_str().expect("digest").to_string()
}

/// dev and staging at 1.4.0; then support-triage 1.5.0 with a reworded
/// prompt promoted to dev only.
fn promoted_repo() -> Scratch {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    s.ok(&["promote", "staging"]);
    s.set_version("support-triage", "1.4.0", "1.5.0");
    rewrite_prompt(&s.root.join("agents/support-triage"));
    s.commit_all("support-triage 1.5.0: judge urgency by impact");
    s.ok(&["promote", "dev"]);
    s
}

#[test]
fn environments_and_releases_compare_what_they_pin() {
    let s = promoted_repo();
    assert_eq!(
        s.pins("dev")["support-triage"]["version"],
        "1.5.0",
        "dev runs the new release"
    );

    // Release vs release.
    let out = s.run(&[
        "diff",
        "support-triage@1.4.0",
        "support-triage@1.5.0",
        "--format",
        "json",
    ]);
    assert_code(&out, 0);
    let report = json(&out);
    assert_eq!(report["from"], "support-triage@1.4.0");
    assert_eq!(report["to"], "support-triage@1.5.0");
    assert_eq!(agent_names(&report), ["support-triage"]);
    let a = agent(&report, "support-triage");
    assert_eq!(a["status"], "changed");
    assert_eq!(a["from_version"], "1.4.0");
    assert_eq!(a["to_version"], "1.5.0");
    assert_eq!(
        a["from_digest"],
        release_digest(&s, "support-triage", "1.4.0")
    );
    assert_eq!(
        a["to_digest"],
        release_digest(&s, "support-triage", "1.5.0")
    );
    assert_eq!(rules_of(a), ["prompt-text-changed", "version"]);
    assert_eq!(a["risk"], "medium");
    let prompt = a["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["path"] == SYSTEM_PROMPT)
        .expect("the prompt's text diff");
    let unified = prompt["unified"].as_str().expect("unified diff");
    assert!(
        unified.contains("\n-Judge by the impact the ticket describes, not by the tone.")
            && unified.contains(
                "\n+Judge by the business impact the ticket describes, never by its tone."
            ),
        "{unified}"
    );

    // Environment vs environment: only support-triage differs.
    let out = s.run(&["diff", "staging", "dev", "--format", "json"]);
    assert_code(&out, 0);
    let report = json(&out);
    assert_eq!(report["from"], "staging");
    assert_eq!(report["to"], "dev");
    assert_eq!(agent_names(&report), ["support-triage"]);
    assert_eq!(report["summary"]["agents_changed"], 1);
    assert_eq!(report["summary"]["unchanged"], 2);
    assert_eq!(report["summary"]["added"], 0);
    assert_eq!(report["summary"]["removed"], 0);
    let a = agent(&report, "support-triage");
    assert_eq!(
        a["from_digest"],
        s.pins("staging")["support-triage"]["digest"]
    );
    assert_eq!(a["to_digest"], s.pins("dev")["support-triage"]["digest"]);
    assert_eq!(rules_of(a), ["prompt-text-changed", "version"]);

    let human = s.ok(&["diff", "staging", "dev"]);
    assert_eq!(
        human.lines().next(),
        Some(
            "staging → dev: 1 agent changed (0 added, 0 removed), highest risk medium; \
             0 high, 1 medium, 1 low"
        )
    );
    assert_code(&s.run(&["diff", "staging", "dev", "--exit-code"]), 1);

    // An environment against itself, and what promoting into dev would
    // change (dev's source is agents/ in the work tree).
    let out = s.run(&["diff", "dev", "dev", "--exit-code"]);
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        "dev → dev: no differences (3 agents compared)\n"
    );
    let out = s.run(&["diff", "dev", "--exit-code"]);
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        "dev → dev after promoting agents/: no differences (3 agents compared)\n"
    );

    // A release that does not exist.
    let out = s.run(&["diff", "support-triage@1.4.0", "support-triage@9.9.9"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("release support-triage@9.9.9 does not exist"),
        "{}",
        describe(&out)
    );
}

/// `agentctl diff NAME@VERSION` is "that vs the work tree": that agent only,
/// not every other agent in agents/ reported as added.
#[test]
fn one_release_against_the_work_tree_compares_only_that_agent() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    // Another agent's uncommitted edit is none of this diff's business.
    rewrite_lead_router_prompt(&s.root);
    let out = s.run(&["diff", "support-triage@1.4.0", "--exit-code"]);
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        "support-triage@1.4.0 → work tree: no differences (1 agent compared)\n"
    );

    raise_retention(&s.root.join("agents/support-triage"));
    let out = s.run(&["diff", "support-triage@1.4.0", "--format", "json"]);
    assert_code(&out, 0);
    let report = json(&out);
    assert_eq!(report["from"], "support-triage@1.4.0");
    assert_eq!(report["to"], "work tree");
    assert_eq!(agent_names(&report), ["support-triage"]);
    assert_eq!(report["summary"]["added"], 0);
    assert_eq!(report["summary"]["unchanged"], 0);
    let a = agent(&report, "support-triage");
    assert_eq!(a["status"], "changed");
    assert_eq!(
        a["from_digest"],
        release_digest(&s, "support-triage", "1.4.0")
    );
    assert!(
        rules_of(a).contains(&"retention-raised".to_string()),
        "{a:#}"
    );
}

/// A reflog ref (`HEAD@{1}`) is a whole-repository side like any other ref:
/// an agent added since then is reported as added, not filtered out as if
/// the `@` named one release.
#[test]
fn a_reflog_ref_compares_every_agent() {
    let s = Scratch::new();
    s.git(&["rm", "-q", "-r", "agents/lead-router"]);
    s.commit_all("drop lead-router");
    s.git(&["checkout", "HEAD~1", "--", "agents/lead-router"]);
    s.commit_all("bring lead-router back");

    let out = s.run(&["diff", "HEAD@{1}", "--format", "json"]);
    assert_code(&out, 0);
    let report = json(&out);
    assert_eq!(report["from"], "HEAD@{1}");
    assert_eq!(agent_names(&report), ["lead-router"]);
    assert_eq!(agent(&report, "lead-router")["status"], "added");
    assert_eq!(report["summary"]["added"], 1);
    assert_eq!(report["summary"]["unchanged"], 2);
}

/// Append a line to lead-router's system prompt under ROOT/agents.
fn rewrite_lead_router_prompt(root: &Path) {
    let prompt = root.join("agents/lead-router/prompts/system.md.j2");
    let mut text = std::fs::read_to_string(&prompt).expect("read prompt");
    text.push_str("\nNever route a lead to a rep who is out of office.\n");
    std::fs::write(&prompt, text).expect("write prompt");
}

// ---------------------------------------------------------------------------
// 5. Git refs: --base, the work tree, missing refs, shallow clones
// ---------------------------------------------------------------------------

#[test]
fn base_ref_and_work_tree() {
    let s = Scratch::new();
    raise_retention(&s.root.join("agents/support-triage"));
    s.commit_all("support-triage: keep tickets for a year");

    let out = s.run(&["diff", "--base", "HEAD~1", "--format", "json"]);
    assert_code(&out, 0);
    let report = json(&out);
    assert_eq!(report["from"], "HEAD~1");
    assert_eq!(report["to"], "work tree");
    assert_eq!(agent_names(&report), ["support-triage"]);
    assert_eq!(report["summary"]["unchanged"], 2);
    let a = agent(&report, "support-triage");
    assert!(
        rules_of(a).contains(&"retention-raised".to_string()),
        "{a:#}"
    );
    assert_eq!(a["risk"], "high");
    // Read from git objects, the digest is the same as on disk.
    assert_eq!(a["to_digest"], s.digest("agents/support-triage"));

    // HEAD vs the work tree: clean, then an uncommitted prompt edit.
    let out = s.run(&["diff", "--exit-code"]);
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out),
        "HEAD → work tree: no differences (3 agents compared)\n"
    );
    let before = s.digest("agents/lead-router");
    rewrite_lead_router_prompt(&s.root);
    let out = s.run(&["diff", "--format", "json"]);
    assert_code(&out, 0);
    let report = json(&out);
    assert_eq!(report["from"], "HEAD");
    assert_eq!(report["to"], "work tree");
    assert_eq!(agent_names(&report), ["lead-router"]);
    let a = agent(&report, "lead-router");
    assert_eq!(rules_of(a), ["prompt-text-changed"]);
    assert_eq!(a["from_digest"], before);
    assert_eq!(a["to_digest"], s.digest("agents/lead-router"));
    let files = a["files"].as_array().expect("files");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["path"], "prompts/system.md.j2");
    assert!(
        files[0]["unified"]
            .as_str()
            .expect("unified")
            .contains("+Never route a lead to a rep who is out of office."),
        "{:#}",
        files[0]
    );
    assert_code(&s.run(&["diff", "--exit-code"]), 1);
    // The committed base still sees both changes.
    let report = json(&s.run(&["diff", "--base", "HEAD~1", "--format", "json"]));
    assert_eq!(agent_names(&report), ["lead-router", "support-triage"]);
}

#[test]
fn a_missing_base_ref_exits_2_with_a_fetch_hint() {
    let s = Scratch::new();
    let out = s.run(&["diff", "--base", "origin/main"]);
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("git ref `origin/main` is not in this clone"),
        "{}",
        describe(&out)
    );
    assert_eq!(
        hinted_command(&err),
        [
            "git",
            "fetch",
            "--no-tags",
            "origin",
            "main:refs/remotes/origin/main"
        ]
    );
    assert!(
        stdout(&out).is_empty(),
        "no report on error:\n{}",
        describe(&out)
    );
}

#[test]
fn shallow_clone_missing_branch_exits_2_and_the_hint_fetches_it() {
    let sb = Sandbox::new();
    let origin = sb.scratch_repo("origin");
    // The branch the clone will not have: the agents before a retention change.
    sb.git(&origin, &["branch", "some-branch-not-fetched"]);
    raise_retention(&origin.join("agents/support-triage"));
    sb.git(&origin, &["commit", "-q", "-am", "keep tickets for a year"]);

    let url = format!("file://{}", origin.display());
    sb.git(sb.path(), &["clone", "-q", "--depth", "1", &url, "clone"]);
    let clone = sb.path().join("clone");
    assert_eq!(
        sb.git(&clone, &["rev-parse", "--is-shallow-repository"]),
        "true"
    );

    let out = sb.agentctl(
        &clone,
        &["diff", "--base", "origin/some-branch-not-fetched"],
    );
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("git ref `origin/some-branch-not-fetched` is not in this clone"),
        "{}",
        describe(&out)
    );
    assert!(err.contains("git fetch"), "{}", describe(&out));
    let hint = hinted_command(&err);
    assert_eq!(
        hint,
        [
            "git",
            "fetch",
            "--no-tags",
            "origin",
            "some-branch-not-fetched:refs/remotes/origin/some-branch-not-fetched"
        ]
    );

    // Running the hint is enough.
    sb.git(
        &clone,
        &hint[1..].iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let out = sb.agentctl(
        &clone,
        &[
            "diff",
            "--base",
            "origin/some-branch-not-fetched",
            "--format",
            "json",
        ],
    );
    assert_code(&out, 0);
    let report = json(&out);
    assert_eq!(agent_names(&report), ["support-triage"]);
    assert!(
        rules_of(agent(&report, "support-triage")).contains(&"retention-raised".to_string()),
        "{report:#}"
    );
}

/// In a shallow clone HEAD~1 is missing too; the hint deepens the history
/// (a refspec built from `HEAD~1` is one git rejects), and running it is
/// enough.
#[test]
fn shallow_clone_missing_ancestor_hint_is_runnable() {
    let sb = Sandbox::new();
    let origin = sb.scratch_repo("origin");
    raise_retention(&origin.join("agents/support-triage"));
    sb.git(&origin, &["commit", "-q", "-am", "keep tickets for a year"]);
    let url = format!("file://{}", origin.display());
    sb.git(sb.path(), &["clone", "-q", "--depth", "1", &url, "clone"]);
    let clone = sb.path().join("clone");

    let out = sb.agentctl(&clone, &["diff", "--base", "HEAD~1"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("git ref `HEAD~1` is not in this clone"),
        "{}",
        describe(&out)
    );
    let hint = hinted_command(&stderr(&out));
    assert_eq!(
        hint,
        ["git", "fetch", "--no-tags", "--deepen=100", "origin"],
        "{}",
        describe(&out)
    );
    let fetched = sb.git_output(
        &clone,
        &hint[1..].iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(
        fetched.status.success(),
        "the hinted command {hint:?} fails:\n{}",
        describe(&fetched)
    );
    assert_code(&sb.agentctl(&clone, &["diff", "--base", "HEAD~1"]), 0);
}

/// A mistyped environment is not a missing git ref.
#[test]
fn a_mistyped_environment_is_not_reported_as_a_missing_git_ref() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    let out = s.run(&["diff", "stagin", "dev"]);
    assert_code(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("`stagin` is not an environment"),
        "{}",
        describe(&out)
    );
    assert!(
        err.contains("did you mean the environment `staging`?"),
        "{}",
        describe(&out)
    );
    assert!(
        !err.contains("shallow") && !err.contains("git fetch"),
        "{}",
        describe(&out)
    );
    assert!(stdout(&out).is_empty(), "{}", describe(&out));
    // The same on the new side.
    let out = s.run(&["diff", "dev", "stagin"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("did you mean the environment `staging`?"),
        "{}",
        describe(&out)
    );
}

// ---------------------------------------------------------------------------
// 6. Binary files
// ---------------------------------------------------------------------------

#[test]
fn binary_files_are_reported_with_sizes_and_no_text_diff() {
    let pair = Pair::support_triage();
    // A screenshot already in the bundle, replaced by a bigger one; and a
    // new diagram.
    let png = |extra: &[u8]| -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        b.extend_from_slice(extra);
        b
    };
    let old_shot = png(&[1, 2, 3]);
    let new_shot = png(&[1, 2, 3, 4, 5, 6, 7]);
    let diagram = png(&[0xff; 10]);
    std::fs::write(pair.old().join("docs/screenshot.png"), &old_shot).expect("write png");
    std::fs::write(pair.new_dir().join("docs/screenshot.png"), &new_shot).expect("write png");
    std::fs::write(pair.new_dir().join("docs/flow.png"), &diagram).expect("write png");

    let report = pair.diff_json();
    let a = agent(&report, "support-triage");
    let files = a["files"].as_array().expect("files");
    let file = |p: &str| {
        files
            .iter()
            .find(|f| f["path"] == p)
            .unwrap_or_else(|| panic!("no file {p}: {files:#?}"))
    };
    let shot = file("docs/screenshot.png");
    assert_eq!(shot["status"], "modified");
    assert_eq!(shot["binary"], true);
    assert_eq!(shot["old_size"], old_shot.len());
    assert_eq!(shot["new_size"], new_shot.len());
    assert!(shot.get("unified").is_none(), "{shot:#}");
    let flow = file("docs/flow.png");
    assert_eq!(flow["status"], "added");
    assert_eq!(flow["binary"], true);
    assert_eq!(flow["old_size"], Value::Null);
    assert_eq!(flow["new_size"], diagram.len());
    assert!(flow.get("unified").is_none(), "{flow:#}");
    assert_eq!(files.len(), 2);
    let mut rules = rules_of(a);
    rules.sort();
    assert_eq!(rules, ["file-changed", "file-changed"]);

    let human = pair.diff_text(&[]);
    let shot_line = format!(
        "  docs/screenshot.png: binary file changed ({} → {} bytes)",
        old_shot.len(),
        new_shot.len()
    );
    let flow_line = format!(
        "  docs/flow.png: binary file added (- → {} bytes)",
        diagram.len()
    );
    for line in [&shot_line, &flow_line] {
        assert!(human.lines().any(|l| l == line), "no {line:?} in:\n{human}");
    }
    assert!(!human.contains("IHDR"), "binary bytes printed:\n{human}");

    let md = pair.diff_text(&["--format", "markdown"]);
    assert!(
        md.contains(&format!(
            "`docs/screenshot.png`: binary file changed ({} → {} bytes)",
            old_shot.len(),
            new_shot.len()
        )),
        "{md}"
    );
    assert!(!md.contains("IHDR"), "binary bytes in markdown:\n{md}");
}

#[test]
fn a_binary_file_in_git_history_is_reported_as_binary() {
    let s = Scratch::new();
    let shot = s.root.join("agents/support-triage/docs/screenshot.png");
    std::fs::write(&shot, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\x01").expect("write png");
    s.commit_all("add a screenshot");
    std::fs::write(&shot, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\x01\x02\x03").expect("write png");
    let out = s.run(&["diff", "--format", "json"]);
    assert_code(&out, 0);
    let report = json(&out);
    let a = agent(&report, "support-triage");
    let files = a["files"].as_array().expect("files");
    assert_eq!(files.len(), 1, "{files:#?}");
    assert_eq!(files[0]["path"], "docs/screenshot.png");
    assert_eq!(files[0]["binary"], true);
    assert_eq!(files[0]["old_size"], 17);
    assert_eq!(files[0]["new_size"], 19);
    assert!(files[0].get("unified").is_none());
}

// ---------------------------------------------------------------------------
// Credentials never reach a pull-request comment
// ---------------------------------------------------------------------------

const OLD_TOKEN: &str = "xoxb-1234567890-abcdefghij";
const NEW_TOKEN: &str = "xoxb-0987654321-zyxwvutsrq";
const WEBHOOK: &str =
    "https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/abcdEFGHijklMNOPqrstUVWX";

#[test]
fn secrets_in_bundle_files_are_redacted_from_text_diffs() {
    let pair = Pair::support_triage();
    for (dir, token) in [(pair.old(), OLD_TOKEN), (pair.new_dir(), NEW_TOKEN)] {
        let path = dir.join("docs/runbook.md");
        let mut text = std::fs::read_to_string(&path).expect("read runbook");
        text.push_str(&format!(
            "\nStaging bot token (rotated monthly): {token}\nAsk #ai-platform-oncall for access.\n"
        ));
        std::fs::write(&path, text).expect("write runbook");
    }
    for format in ["human", "markdown", "json"] {
        let text = pair.diff_text(&["--format", format]);
        for token in [OLD_TOKEN, NEW_TOKEN] {
            assert!(
                !text.contains(token),
                "{format} output shows {token}:\n{text}"
            );
        }
        assert!(text.contains("docs/runbook.md"), "{format}:\n{text}");
    }
    // The runbook is the file docs.runbook names: a doc, not any file.
    let report = pair.diff_json();
    let a = agent(&report, "support-triage");
    assert_eq!(rules_of(a), ["docs-changed"]);
    assert_eq!(a["changes"][0]["summary"], "doc docs/runbook.md changed");
}

#[test]
fn secrets_in_manifest_values_are_redacted_from_change_summaries() {
    let pair = Pair::support_triage();
    replace_once(
        &pair.new_dir(),
        MANIFEST,
        "      notify: \"#ai-platform-oncall\"\n",
        &format!("      notify: \"{WEBHOOK}\"\n"),
    );
    for format in ["human", "markdown", "json"] {
        let text = pair.diff_text(&["--format", format]);
        assert!(
            !text.contains(WEBHOOK),
            "{format} output shows the webhook:\n{text}"
        );
    }
}

#[test]
fn a_credential_that_is_one_only_by_its_key_is_redacted_from_change_values() {
    let pair = Pair::support_triage();
    // Assembled here so this file holds no credential-shaped literal.
    let value = ["Qm7", "Rn2Sx8Tz4Uv1Wy6Xa3Bc"].concat();
    replace_once(
        &pair.new_dir(),
        MANIFEST,
        "    top_p: 0.9\n",
        &format!("    top_p: 0.9\n    api_key: \"{value}\"\n"),
    );
    for format in ["human", "markdown", "json"] {
        let text = pair.diff_text(&["--format", format]);
        assert!(
            text.contains("api_key"),
            "{format}: the change is shown:\n{text}"
        );
        assert!(
            !text.contains(&value[4..12]),
            "{format} output shows the api_key value:\n{text}"
        );
    }
}

// ---------------------------------------------------------------------------
// 7. Directories of bundles: agents added and removed
// ---------------------------------------------------------------------------

#[test]
fn agents_added_and_removed_between_directories_of_bundles() {
    let sb = Sandbox::new();
    let before = sb.path().join("before");
    let after = sb.path().join("after");
    for name in ["support-triage", "lead-router"] {
        copy_example(name, &before);
    }
    for name in ["support-triage", "invoice-matcher"] {
        copy_example(name, &after);
    }
    let out = sb.agentctl(sb.path(), &["diff", "before", "after", "--format", "json"]);
    assert_code(&out, 0);
    let report = json(&out);
    assert_eq!(report["from"], "before");
    assert_eq!(report["to"], "after");
    assert_eq!(agent_names(&report), ["invoice-matcher", "lead-router"]);
    let s = &report["summary"];
    assert_eq!(
        (
            &s["agents_changed"],
            &s["added"],
            &s["removed"],
            &s["unchanged"]
        ),
        (
            &Value::from(2),
            &Value::from(1),
            &Value::from(1),
            &Value::from(1)
        )
    );

    let added = agent(&report, "invoice-matcher");
    assert_eq!(added["status"], "added");
    assert_eq!(added["from_version"], Value::Null);
    assert_eq!(added["to_version"], "0.9.2");
    assert_eq!(added["from_digest"], Value::Null);
    assert_eq!(rules_of(added), ["agent-added-write"]);
    // invoice-matcher ships write tools, so adding it is high risk.
    assert_eq!(added["risk"], "high");
    assert!(
        added["changes"][0]["summary"]
            .as_str()
            .expect("summary")
            .starts_with("new agent with "),
        "{added:#}"
    );

    let removed = agent(&report, "lead-router");
    assert_eq!(removed["status"], "removed");
    assert_eq!(removed["from_version"], "2.1.0");
    assert_eq!(removed["to_version"], Value::Null);
    assert_eq!(removed["to_digest"], Value::Null);
    assert_eq!(rules_of(removed), ["agent-removed"]);
    assert_eq!(removed["risk"], "medium");

    let human = stdout(&sb.agentctl(sb.path(), &["diff", "before", "after"]));
    assert!(
        human.contains("\ninvoice-matcher added 0.9.2  [high]\n"),
        "{human}"
    );
    assert!(
        human.contains("\nlead-router removed (was 2.1.0)  [medium]\n"),
        "{human}"
    );
}

/// `diff ENV` shows what promoting into ENV would change, from its source
/// environment, with ENV as the old side.
#[test]
fn diff_of_one_environment_previews_the_promotion_into_it() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    let out = s.run(&["diff", "staging", "--format", "json"]);
    assert_code(&out, 0);
    let v = json(&out);
    assert_eq!(v["from"], "staging");
    assert_eq!(v["to"], "staging after promoting dev");
    assert_eq!(v["summary"]["added"], 3, "{v:#}");
    s.ok(&["promote", "staging"]);
    let out = s.run(&["diff", "staging", "--exit-code"]);
    assert_code(&out, 0);
    // Agents the source lacks are not shown as removed: promotion keeps them.
    s.ok(&["retire", "dev", "lead-router", "--reason", "gone from dev"]);
    let out = s.run(&["diff", "staging", "--exit-code"]);
    assert_code(&out, 0);
}
