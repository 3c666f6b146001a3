//! Authors' and operators' features: new, render, docs, eval gates, the tour.

mod common;

use common::*;
use std::path::Path;

fn examples_config(s: &Scratch) {
    let cfg = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/agentctl.toml"),
    )
    .expect("examples config");
    s.write("agentctl.toml", &cfg);
    s.commit_all("examples config");
}

fn findings(out: &std::process::Output) -> Vec<(String, String, Option<u64>)> {
    let v = json(out);
    let mut all = Vec::new();
    for b in v["bundles"].as_array().expect("bundles") {
        for f in b["findings"].as_array().expect("findings") {
            all.push((
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["file"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64(),
            ));
        }
    }
    all
}

#[test]
fn a_scaffold_is_refused_until_a_person_fills_the_blanks() {
    let s = Scratch::new();
    let out = s.run(&["new", "refund-helper"]);
    assert_code(&out, 0);
    for f in [
        "agent.yaml",
        "prompts/system.md.j2",
        "prompts/rules.md.j2",
        "evals/basic.yaml",
        "docs/runbook.md",
        "docs/faq.md",
    ] {
        assert!(
            s.root.join("agents/refund-helper").join(f).is_file(),
            "{f} scaffolded"
        );
    }
    // A second `new` with the same name is refused and changes nothing.
    let before = s.snapshot();
    assert_code(&s.run(&["new", "refund-helper"]), 2);
    assert_eq!(s.snapshot(), before);

    let out = s.run(&["validate", "agents/refund-helper", "--format", "json"]);
    assert_code(&out, 1);
    let rules: Vec<String> = findings(&out).into_iter().map(|f| f.0).collect();
    for rule in [
        "placeholder",
        "security-incomplete",
        "security-checklist-failed",
    ] {
        assert!(rules.iter().any(|r| r == rule), "{rule} in {rules:?}");
    }
    // The owner blank is pointed at.
    let owner = findings(&out)
        .into_iter()
        .find(|f| f.0 == "placeholder" && f.2 == Some(12))
        .map(|f| f.1);
    assert!(
        owner.is_some_and(|f| f.ends_with("agent.yaml")),
        "owners[0].name on line 12"
    );

    // Fill them as a person would.
    let manifest = s.read("agents/refund-helper/agent.yaml");
    let filled = manifest
        .replace("FILL-ME one or two sentences on what refund-helper does, for people.", "Drafts refund decisions for a human to approve.")
        .replace("FILL-ME production owner's full name", "Dana Reyes")
        .replace("FILL-ME@example.com", "dana.reyes@example.com")
        .replace("FILL-ME backup owner's full name", "Sam Okoro")
        .replace("FILL-ME-backup@example.com", "sam.okoro@example.com")
        .replace("\"FILL-ME #channel-or-queue\"", "\"#refunds-oncall\"")
        .replace("FILL-ME on-call engineer", "Refunds on-call")
        .replace("FILL-ME-oncall@example.com", "refunds-oncall@example.com")
        .replace("FILL-ME the one job this agent does.", "Draft refund decisions.")
        .replace("FILL-ME a task it handles", "Reading refund requests.")
        .replace("FILL-ME what this read-only tool returns.", "Looks up an order.")
        .replace("\"FILL-ME #channel-the-operators-read\"", "\"#refunds-alerts\"")
        .replace("\"FILL-ME human queue\"", "\"queue:refunds\"")
        .replace("FILL-ME security reviewer <FILL-ME-security@example.com>", "Priya Shah <priya.shah@example.com>")
        .replace("FILL-ME YYYY-MM-DD", "2026-11-01")
        .replace("[FILL-ME data the agent reads]", "[orders, refund requests]")
        .replace("    # pii: true or false          (required: does personal data pass through the agent?)", "    pii: true")
        .replace("    # retention_days: 30          (required: how long logs and outputs are kept)", "    retention_days: 30")
        .replace("FILL-ME how the agent authenticates", "oauth2-client-credentials")
        .replace("FILL-ME service account", "svc-refund-helper")
        .replace("FILL-ME where credentials are kept (never the credentials)", "vault:secret/agents/refund-helper")
        .replace("FILL-ME region and hosting", "eu-west-1, provider API")
        .replace("FILL-ME retention and training use, as reviewed", "no training; 30-day retention")
        .replace("status: fail", "status: pass")
        .replace("FILL-ME link to the test run", "SEC-4242");
    let blanks: Vec<&str> = filled
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && l.contains("FILL-ME"))
        .collect();
    assert!(blanks.is_empty(), "every blank filled: {blanks:?}");
    s.write("agents/refund-helper/agent.yaml", &filled);
    let out = s.run(&["validate", "agents/refund-helper", "--format", "json"]);
    assert_code(&out, 0);
    assert!(findings(&out).iter().all(|f| f.0 != "placeholder"));
    // And it releases.
    s.commit_all("refund-helper");
    assert_code(&s.run(&["release", "refund-helper"]), 0);
}

#[test]
fn an_undefined_variable_fails_at_its_line_for_the_environment_that_lacks_it() {
    let s = Scratch::new();
    examples_config(&s);
    // prod has no `support_portal` in this config.
    let cfg = s.read("agentctl.toml").replace(
        "vars = { support_portal = \"https://support.example.com\" }",
        "vars = { other = \"x\" }",
    );
    s.write("agentctl.toml", &cfg);
    let prompt = s.read("agents/support-triage/prompts/system.md.j2");
    let line = prompt.lines().count() + 2;
    s.write(
        "agents/support-triage/prompts/system.md.j2",
        &format!("{prompt}\nPoint customers to {{{{ vars.support_portal }}}}.\n"),
    );
    let out = s.run(&["validate", "--format", "json"]);
    assert_code(&out, 1);
    let v = json(&out);
    let hits: Vec<&serde_json::Value> = v["bundles"]
        .as_array()
        .expect("bundles")
        .iter()
        .flat_map(|b| b["findings"].as_array().expect("findings").iter())
        .filter(|f| f["rule"] == "prompt-undefined")
        .collect();
    assert_eq!(hits.len(), 1, "{v:#}");
    assert!(
        hits[0]["file"]
            .as_str()
            .expect("file")
            .ends_with("prompts/system.md.j2")
    );
    assert_eq!(hits[0]["line"].as_u64(), Some(line as u64));
    let message = hits[0]["message"].as_str().expect("message");
    assert!(
        message.contains("prod") && !message.contains("staging") && !message.contains("dev"),
        "{message}"
    );

    // render shows dev fine and refuses prod at the same line.
    let out = s.run(&[
        "render",
        "support-triage",
        "--env",
        "dev",
        "--source",
        "--prompt",
        "system",
    ]);
    assert_code(&out, 0);
    assert!(stdout(&out).contains("Point customers to https://support.dev.example.com."));
    let out = s.run(&["render", "support-triage", "--env", "prod", "--source"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains(&format!("system.md.j2:{line}:")),
        "{}",
        describe(&out)
    );
}

#[test]
fn hostile_templates_are_stopped_quickly_and_cannot_leave_the_bundle() {
    let s = Scratch::new();
    for (template, rule) in [
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            "prompt-limit",
        ),
        (
            "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
            "prompt-limit",
        ),
        ("{% include \"../../agentctl.toml\" %}", "prompt-include"),
        ("{% include \"/etc/passwd\" %}", "prompt-include"),
        ("{% if %}", "prompt-syntax"),
    ] {
        s.write("agents/lead-router/prompts/rules.md.j2", template);
        let out = s.run(&["validate", "agents/lead-router", "--format", "json"]);
        assert_code(&out, 1);
        let rules: Vec<String> = findings(&out).into_iter().map(|f| f.0).collect();
        assert!(rules.iter().any(|r| r == rule), "{template}: {rules:?}");
    }
}

#[test]
fn every_runbook_names_owners_contacts_and_the_exact_commands() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    for name in ["support-triage", "lead-router", "invoice-matcher"] {
        let out = s.run(&["docs", name]);
        assert_code(&out, 0);
        let text = stdout(&out);
        let manifest: serde_json::Value = {
            let yaml = s.read(&format!("agents/{name}/agent.yaml"));
            let (v, _) = agentctl::bundle::yaml::parse(&yaml).expect("yaml");
            v
        };
        for o in manifest["owners"].as_array().expect("owners") {
            assert!(
                text.contains(o["name"].as_str().expect("name")),
                "{name}: owner name"
            );
            assert!(
                text.contains(o["email"].as_str().expect("email")),
                "{name}: owner email"
            );
        }
        for c in manifest["escalation"]["contacts"]
            .as_array()
            .expect("contacts")
        {
            assert!(
                text.contains(c["name"].as_str().expect("name")),
                "{name}: contact"
            );
        }
        assert!(
            text.contains(&format!("agentctl mode prod {name} disabled --reason")),
            "{name}: stop"
        );
        assert!(
            text.contains(&format!("agentctl mode prod {name} review-only --reason")),
            "{name}: review-only"
        );
        assert!(
            text.contains(&format!("agentctl rollback prod {name} --reason")),
            "{name}: rollback"
        );
        assert!(text.contains("| dev |"), "{name}: where it runs");
    }
    // --out writes the same text to a file.
    let file = s.root.join("../RUNBOOK.md");
    assert_code(
        &s.run(&[
            "docs",
            "support-triage",
            "--out",
            file.to_str().expect("utf-8"),
        ]),
        0,
    );
    assert_eq!(
        std::fs::read_to_string(&file).expect("runbook"),
        stdout(&s.run(&["docs", "support-triage"]))
    );
}

fn evals_gate(s: &Scratch) -> serde_json::Value {
    let out = s.run(&[
        "promote",
        "prod",
        "support-triage",
        "--dry-run",
        "--format",
        "json",
    ]);
    let v = json(&out);
    v["moves"][0]["gates"]
        .as_array()
        .expect("gates")
        .iter()
        .find(|g| g["gate"] == "evals")
        .cloned()
        .expect("an evals gate")
}

#[test]
fn eval_results_are_bound_to_the_release_digest_and_its_threshold() {
    let s = Scratch::new();
    examples_config(&s);
    s.ok(&["promote", "dev"]);
    s.ok(&["promote", "staging"]);
    let release = "support-triage@1.4.0";
    let gate = evals_gate(&s);
    assert_eq!(gate["passed"], false);
    assert!(
        gate["message"]
            .as_str()
            .expect("message")
            .contains("no eval results")
    );

    // Results for other content are refused outright.
    let good = s.root.join("../good.json");
    std::fs::write(&good, r#"{"suite": "triage-accuracy", "passed": 48, "failed": 1, "errors": 0, "run_at": "2026-11-20T10:00:00Z"}"#).expect("write");
    let before = s.snapshot();
    let out = s.run(&[
        "evals",
        "record",
        release,
        good.to_str().expect("utf-8"),
        "--digest",
        "sha256:0000000000000000000000000000000000000000000000000000000000000000",
    ]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("these results are for"),
        "{}",
        describe(&out)
    );
    assert_eq!(s.snapshot(), before);

    // promptfoo output, below the bundle's threshold (0.9): recorded, but the gate refuses.
    let promptfoo =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/evals/promptfoo-results.json");
    let bad = s.root.join("../bad.json");
    std::fs::write(
        &bad,
        r#"{"suite": "guardrails", "passed": 30, "failed": 10, "errors": 5}"#,
    )
    .expect("write");
    let out = s.run(&[
        "evals",
        "record",
        release,
        promptfoo.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert_code(&out, 0);
    let rec = json(&out);
    assert_eq!(rec["record"]["suite"], "triage-accuracy");
    assert_eq!(
        (
            rec["record"]["passed"].as_u64(),
            rec["record"]["failed"].as_u64()
        ),
        (Some(9), Some(1))
    );
    assert_eq!(rec["record"]["format"], "promptfoo");
    assert_code(
        &s.run(&["evals", "record", release, bad.to_str().expect("utf-8")]),
        0,
    );
    let gate = evals_gate(&s);
    assert_eq!(gate["passed"], false);
    assert!(
        gate["message"].as_str().expect("message").contains("below"),
        "{gate}"
    );
    let stored = s.read("releases/support-triage/1.4.0/evals/guardrails.json");
    assert!(
        stored.contains(&s.digest("releases/support-triage/1.4.0/bundle")),
        "bound to the digest"
    );

    // Good results for both suites: the gate passes.
    assert_code(
        &s.run(&["evals", "record", release, good.to_str().expect("utf-8")]),
        0,
    );
    std::fs::write(
        &bad,
        r#"{"suite": "guardrails", "passed": 50, "failed": 0, "errors": 0}"#,
    )
    .expect("write");
    assert_code(
        &s.run(&["evals", "record", release, bad.to_str().expect("utf-8")]),
        0,
    );
    let gate = evals_gate(&s);
    assert_eq!(gate["passed"], false, "{gate}");
    assert!(
        gate["message"]
            .as_str()
            .expect("message")
            .contains("vouches"),
        "{gate}"
    );
    s.vouch(release);
    let gate = evals_gate(&s);
    assert_eq!(gate["passed"], true, "{gate}");

    // A record copied from another release does not count.
    s.ok(&["promote", "dev"]);
    let copied = s
        .read("releases/support-triage/1.4.0/evals/guardrails.json")
        .replace(
            &s.digest("releases/support-triage/1.4.0/bundle"),
            "sha256:1111111111111111111111111111111111111111111111111111111111111111",
        );
    s.write(
        "releases/support-triage/1.4.0/evals/guardrails.json",
        &copied,
    );
    s.commit_all("hand-copied eval record");
    let gate = evals_gate(&s);
    assert_eq!(gate["passed"], false);
    assert!(
        gate["message"]
            .as_str()
            .expect("message")
            .contains("was recorded for"),
        "{gate}"
    );
}

#[test]
fn the_tour_runs_to_the_end_and_leaves_a_verifiable_repository() {
    let sb = Sandbox::new();
    let dir = sb.path().join("tour");
    let out = sb.agentctl(sb.path(), &["demo", "--dir", dir.to_str().expect("utf-8")]);
    assert_code(&out, 0);
    let text = stdout(&out);
    for step in [
        "agentctl promote prod",
        "agentctl evals record",
        "agentctl sign",
        "agentctl diff",
        "agentctl check --base HEAD~1",
        "agentctl rollback prod support-triage",
        "agentctl mode prod invoice-matcher disabled",
        "Done.",
    ] {
        assert!(text.contains(step), "tour shows {step}");
    }
    assert!(
        text.contains(&dir.display().to_string()),
        "ends with where the repository is"
    );
    assert_code(&sb.agentctl(&dir, &["verify"]), 0);
    fsck(&sb, &dir);
    assert_eq!(porcelain(&sb, &dir), "");
    let prod = pins_at(&dir, "prod");
    assert_eq!(prod["support-triage"]["version"], "1.4.0", "rolled back");
    assert_eq!(prod["invoice-matcher"]["mode"], "disabled");
}

/// `release` (and the promotion that releases on the way) renders prompts
/// with the repository's environments, as `validate` does: a prompt using an
/// environment variable every environment defines is releasable.
#[test]
fn a_prompt_using_environment_variables_releases() {
    let s = Scratch::new();
    examples_config(&s);
    let prompt = s.read("agents/support-triage/prompts/system.md.j2");
    s.write(
        "agents/support-triage/prompts/system.md.j2",
        &format!("{prompt}\nPortal: {{{{ vars.support_portal }}}}\n"),
    );
    s.commit_all("use the support portal variable");
    assert_code(&s.run(&["validate"]), 0);
    let out = s.run(&["release", "support-triage"]);
    assert_code(&out, 0);
    assert!(
        stdout(&out).contains("released support-triage@1.4.0"),
        "{}",
        describe(&out)
    );
    let out = s.run(&["promote", "dev", "--format", "json"]);
    assert_code(&out, 0);
    assert_eq!(json(&out)["passed"], true);
}

/// A suite name becomes a file name under the release: an empty, path-like,
/// spaced or overlong one is refused and nothing is written.
#[test]
fn a_suite_name_that_cannot_name_a_file_is_refused() {
    let s = Scratch::new();
    let manifest = s.read("agents/lead-router/agent.yaml");
    s.write(
        "agents/lead-router/agent.yaml",
        &remove_top_level_key(&manifest, "evals"),
    );
    s.commit_all("lead-router: no eval suites");
    s.ok(&["promote", "dev"]);
    let results = s.root.join("../results.json");
    std::fs::write(
        &results,
        r#"{"suite": "smoke", "passed": 9, "failed": 1, "errors": 0}"#,
    )
    .expect("write");
    let results = results.to_str().expect("utf-8");
    let release = "lead-router@2.1.0";

    let overlong = "a".repeat(101);
    for suite in ["", "../escape", "two words", overlong.as_str()] {
        let before = s.snapshot();
        let out = s.run(&["evals", "record", release, results, "--suite", suite]);
        assert_code(&out, 2);
        assert!(
            stderr(&out).contains("cannot name a file"),
            "{suite:?}: {}",
            describe(&out)
        );
        assert_eq!(s.snapshot(), before, "{suite:?}");
    }
    let longest = "a".repeat(100);
    s.ok(&["evals", "record", release, results, "--suite", &longest]);
    assert!(
        s.root
            .join(format!("releases/lead-router/2.1.0/evals/{longest}.json"))
            .is_file()
    );
}

/// validate in a repository whose agentctl.toml does not load says so, and
/// renders prompts with a stand-in environment instead of failing silently.
#[test]
fn validate_warns_when_the_repository_config_does_not_load() {
    let s = Scratch::new();
    let config = s.read("agentctl.toml");
    s.write("agentctl.toml", &format!("{config}bogus = [\n"));
    let out = s.run(&["validate"]);
    assert_code(&out, 0);
    let err = stderr(&out);
    assert!(
        err.contains("warning: ")
            && err.contains("agentctl.toml:")
            && err.contains("without the environments' variables"),
        "{}",
        describe(&out)
    );
}

/// The demo runs on a machine where git has no identity, writes private
/// keys ssh-keygen accepts (0600), and a failed run leaves nothing behind.
#[test]
fn the_demo_needs_no_git_identity_and_writes_usable_keys() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let bare_home = sb.path().join("bare-home");
    std::fs::create_dir_all(&bare_home).expect("mkdir");
    let dir = sb.path().join("tour");
    let mut cmd = sb.agentctl_cmd(sb.path(), &["demo", "--dir", dir.to_str().expect("utf-8")]);
    cmd.env("HOME", &bare_home)
        .env("XDG_CONFIG_HOME", bare_home.join(".config"));
    let out = cmd.output().expect("run demo");
    assert_code(&out, 0);
    let key = sb.path().join("tour-keys/owner");
    let mode = std::fs::metadata(&key).expect("key").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "private key mode {mode:o}");
    let derived = std::process::Command::new("ssh-keygen")
        .args(["-y", "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen");
    assert!(derived.status.success(), "{}", describe(&derived));

    // A run that fails (an unwritable keys directory) removes its half-made --dir.
    let dir2 = sb.path().join("tour2");
    std::fs::write(sb.path().join("tour2-keys"), "in the way").expect("write");
    let out = sb.agentctl(sb.path(), &["demo", "--dir", dir2.to_str().expect("utf-8")]);
    assert_ne!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(!dir2.exists(), "the failed demo left {}", dir2.display());
}
