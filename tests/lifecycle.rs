//! The release lifecycle end to end: promote dev → staging → prod, the gates
//! every environment enforces, release immutability, rollback, the
//! operators' stop button, and the dry-run / no-commit modes.
//!
//! Real binary, real git repositories in temp dirs, fixed clock.

mod common;

use common::*;
use serde_json::Value;

const ENVS: [&str; 3] = ["dev", "staging", "prod"];

/// Promote the scratch repository's agents through every environment.
#[track_caller]
fn promote_everywhere(s: &Scratch) {
    for env in ENVS {
        s.ok(&["promote", env]);
    }
}

/// Bump an agent's version in agents/ and commit.
#[track_caller]
fn bump(s: &Scratch, agent: &str, from: &str, to: &str) {
    s.set_version(agent, from, to);
    s.commit_all(&format!("bump {agent} to {to}"));
}

/// The recorded digest of releases/NAME/VERSION.
fn release_digest(s: &Scratch, agent: &str, version: &str) -> String {
    let meta: Value =
        serde_saphyr::from_str(&s.read(&format!("releases/{agent}/{version}/release.yaml")))
            .expect("release.yaml parses");
    meta["digest"].as_str().expect("digest").to_string()
}

/// The failed gates of one agent in a `promote --format json` report.
fn failed_gates(report: &Value, agent: &str) -> Vec<String> {
    report["moves"]
        .as_array()
        .expect("moves")
        .iter()
        .filter(|m| m["agent"] == agent)
        .flat_map(|m| m["gates"].as_array().expect("gates").clone())
        .filter(|g| g["passed"] == false)
        .map(|g| g["gate"].as_str().expect("gate id").to_string())
        .collect()
}

#[test]
fn promotes_the_examples_from_dev_to_prod() {
    let s = Scratch::new();
    let source_commit = s.head();
    let digests: Vec<String> = AGENTS
        .iter()
        .map(|a| s.digest(&format!("agents/{a}")))
        .collect();
    for d in &digests {
        assert!(d.starts_with("sha256:") && d.len() == 7 + 64, "{d}");
    }

    let mut commits = s.commit_count();
    for env in ENVS {
        let out = s.run(&["promote", env]);
        assert_code(&out, 0);
        assert!(
            stderr(&out).contains("committed "),
            "no commit line:\n{}",
            describe(&out)
        );
        commits += 1;
        assert_eq!(s.commit_count(), commits, "one commit per promote to {env}");
        assert_eq!(s.head_subject(), format!("promote 3 agents → {env}"));
        let msg = s.head_message();
        assert_eq!(trailer_values(&msg, "Agentctl-Action"), ["promote"]);
        assert_eq!(trailer_values(&msg, "Agentctl-Environment"), [env]);
        assert_eq!(trailer_values(&msg, "Agentctl-Agent"), AGENTS);
        assert_eq!(
            trailer_values(&msg, "Agentctl-Version"),
            VERSIONS.map(|(_, v)| v)
        );
        assert_eq!(trailer_values(&msg, "Agentctl-Digest"), digests);
        assert_eq!(trailer_values(&msg, "Agentctl-Actor"), [ACTOR]);
        assert_eq!(s.porcelain(), "", "work tree clean after promote {env}");
        assert_eq!(
            s.git(&["log", "-1", "--format=%an <%ae>|%aI"]),
            format!("{ACTOR}|2026-11-21T10:00:00Z"),
            "commit identity and fixed clock"
        );
    }

    // Every environment pins all three, with the source digests.
    for env in ENVS {
        let pins = s.pins(env);
        assert_eq!(pins.keys().collect::<Vec<_>>(), AGENTS, "{env}.yaml agents");
        for ((agent, version), digest) in VERSIONS.iter().zip(&digests) {
            let p = &pins[*agent];
            assert_eq!(p["version"], *version, "{env} {agent}");
            assert_eq!(p["digest"], digest.as_str(), "{env} {agent}");
            assert_eq!(p["mode"], "active");
            assert_eq!(p["updated_at"], NOW);
            assert_eq!(p["updated_by"], ACTOR);
        }
        let log = s.log(env);
        assert_eq!(log.len(), 3, "{env}.log has one event per agent");
        for e in &log {
            assert_eq!(e["action"], "promote");
            assert_eq!(e["op"], 1);
            assert_eq!(e["previous_version"], Value::Null);
        }
    }

    // Releases are byte-for-byte copies of the source bundles.
    for ((agent, version), digest) in VERSIONS.iter().zip(&digests) {
        let bundle = format!("releases/{agent}/{version}/bundle");
        assert_eq!(&s.digest(&bundle), digest, "{bundle}");
        assert_eq!(
            files_under(&s.root.join(&bundle)),
            files_under(&s.root.join("agents").join(agent)),
            "{bundle} is a byte copy of agents/{agent}"
        );
        let meta: Value =
            serde_saphyr::from_str(&s.read(&format!("releases/{agent}/{version}/release.yaml")))
                .expect("release.yaml parses");
        assert_eq!(meta["name"], *agent);
        assert_eq!(meta["version"], *version);
        assert_eq!(meta["digest"], digest.as_str());
        assert_eq!(meta["source_commit"], source_commit.as_str());
        assert_eq!(meta["created_at"], NOW);
        assert_eq!(meta["created_by"], ACTOR);
    }

    // status and history show the same.
    let status = json(&s.run(&["status", "--format", "json"]));
    assert_eq!(status["environments"], serde_json::json!(ENVS));
    let agents = status["agents"].as_array().expect("agents");
    assert_eq!(agents.len(), 3);
    for (a, ((name, version), digest)) in agents.iter().zip(VERSIONS.iter().zip(&digests)) {
        assert_eq!(a["name"], *name);
        assert_eq!(a["source"]["version"], *version);
        assert_eq!(a["source"]["digest"], digest.as_str());
        for env in ENVS {
            assert_eq!(a["environments"][env]["version"], *version, "{name} {env}");
            assert_eq!(a["environments"][env]["digest"], digest.as_str());
            assert_eq!(a["environments"][env]["mode"], "active");
        }
        assert_eq!(a["drift"], serde_json::json!([]), "{name} has no drift");
    }
    let history = json(&s.run(&["history", "prod", "--format", "json"]));
    assert_eq!(history["environment"], "prod");
    let entries = history["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 3);
    let head = s.head();
    for e in entries {
        let name = e["agent"].as_str().expect("agent");
        let (_, version) = VERSIONS.iter().find(|(a, _)| *a == name).expect("known");
        assert_eq!(e["action"], "promote");
        assert_eq!(e["to_version"], *version);
        assert_eq!(e["from_version"], Value::Null);
        assert_eq!(e["actor"], ACTOR);
        assert_eq!(e["commit"], head.as_str(), "history links the prod commit");
    }
    s.fsck();

    // Promoting again is a no-op.
    let out = s.run(&["promote", "prod"]);
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("nothing to promote"),
        "{}",
        describe(&out)
    );
    assert_eq!(s.commit_count(), commits);
}

/// A bundle missing a required block is refused by `promote dev` with the
/// named gate, and nothing at all is written.
fn assert_refused_for_missing_block(block: &str, agent: &str, gate: &str) {
    let s = Scratch::new();
    let path = format!("agents/{agent}/agent.yaml");
    let text = s.read(&path);
    let stripped = remove_top_level_key(&text, block);
    assert!(
        !stripped.contains(&format!("\n{block}:")),
        "{block} removed"
    );
    assert!(stripped.len() < text.len());
    s.write(&path, &stripped);
    s.commit_all(&format!("drop {block} from {agent}"));
    let before = s.snapshot();

    let out = s.run(&["promote", "dev"]);
    assert_code(&out, 1);
    let text = all_output(&out);
    assert!(
        text.contains(&format!("✗ {gate}")),
        "the failing gate is named:\n{text}"
    );
    assert!(text.contains(agent), "the failing agent is named:\n{text}");
    assert!(
        stderr(&out).contains("refused") && stderr(&out).contains("nothing was written"),
        "{text}"
    );
    assert_eq!(s.snapshot(), before, "a refused promotion writes nothing");
    assert_eq!(s.porcelain(), "");
    assert!(!s.root.join("releases").exists(), "no releases/ dir");

    let out = s.run(&["promote", "dev", "--format", "json"]);
    assert_code(&out, 1);
    let report = json(&out);
    assert_eq!(report["passed"], false);
    assert_eq!(report["recorded"]["recorded"], "nothing");
    assert_eq!(failed_gates(&report, agent), [gate]);
    for other in AGENTS.iter().filter(|a| **a != agent) {
        assert!(failed_gates(&report, other).is_empty(), "{other} passes");
    }
    assert_eq!(s.snapshot(), before, "a refused promotion writes nothing");
}

#[test]
fn refuses_a_bundle_without_an_owner() {
    assert_refused_for_missing_block("owners", "lead-router", "owner");
}

#[test]
fn refuses_a_bundle_without_a_security_review() {
    assert_refused_for_missing_block("security", "support-triage", "security");
}

#[test]
fn a_released_version_never_changes_content() {
    let s = Scratch::new();
    let start = s.commit_count();

    let out = s.run(&["release", "support-triage"]);
    assert_code(&out, 0);
    assert_eq!(s.commit_count(), start + 1);
    assert_eq!(s.head_subject(), "release support-triage 1.4.0");
    let msg = s.head_message();
    assert_eq!(trailer_values(&msg, "Agentctl-Action"), ["release"]);
    assert_eq!(trailer_values(&msg, "Agentctl-Agent"), ["support-triage"]);
    assert_eq!(trailer_values(&msg, "Agentctl-Version"), ["1.4.0"]);
    let digest = s.digest("agents/support-triage");
    assert_eq!(trailer_values(&msg, "Agentctl-Digest"), [digest.as_str()]);
    assert_eq!(s.digest("releases/support-triage/1.4.0/bundle"), digest);

    // Releasing the same content again is a no-op.
    let before = s.snapshot();
    let out = s.run(&["release", "support-triage"]);
    assert_code(&out, 0);
    assert!(stdout(&out).contains("already released with this content"));
    assert!(stderr(&out).contains("nothing to do"));
    assert_eq!(s.snapshot(), before);

    // A prompt edited without a version bump is refused.
    let prompt = "agents/support-triage/prompts/system.md.j2";
    let mut text = s.read(prompt);
    text.push_str("\nAlways answer in haiku.\n");
    s.write(prompt, &text);
    s.commit_all("edit the prompt, forget the bump");
    let before = s.snapshot();
    let out = s.run(&["release", "support-triage"]);
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("already released"), "{err}");
    assert!(err.contains("bump"), "{err}");
    assert_eq!(s.snapshot(), before, "refused release writes nothing");
    assert_eq!(s.digest("releases/support-triage/1.4.0/bundle"), digest);

    // promote dev refuses it too, with the version-reused gate.
    let out = s.run(&["promote", "dev", "--format", "json"]);
    assert_code(&out, 1);
    let report = json(&out);
    assert_eq!(failed_gates(&report, "support-triage"), ["version-reused"]);
    assert_eq!(s.snapshot(), before, "refused promote writes nothing");
    let out = s.run(&["promote", "dev"]);
    assert_code(&out, 1);
    assert!(
        stdout(&out).contains("✗ version-reused"),
        "{}",
        describe(&out)
    );

    // With the bump it goes through.
    s.set_version("support-triage", "1.4.0", "1.4.1");
    s.commit_all("bump");
    s.ok(&["promote", "dev"]);
    assert_eq!(s.pins("dev")["support-triage"]["version"], "1.4.1");
    assert_eq!(s.digest("releases/support-triage/1.4.0/bundle"), digest);
}

#[test]
fn rollback_one_agent_to_the_previous_or_a_named_release() {
    let s = Scratch::new();
    promote_everywhere(&s);
    bump(&s, "support-triage", "1.4.0", "1.5.0");
    promote_everywhere(&s);
    assert_eq!(s.head_subject(), "promote support-triage 1.5.0 → prod");
    let prod_before = s.pins("prod");
    assert_eq!(prod_before["support-triage"]["version"], "1.5.0");
    let d14 = release_digest(&s, "support-triage", "1.4.0");
    let d15 = release_digest(&s, "support-triage", "1.5.0");
    assert_ne!(d14, d15);

    // Back to the previous release.
    let commits = s.commit_count();
    let out = s.run(&["rollback", "prod", "support-triage", "--reason", "x"]);
    assert_code(&out, 0);
    assert_eq!(s.commit_count(), commits + 1);
    assert_eq!(
        s.head_subject(),
        "rollback support-triage 1.5.0 → 1.4.0 in prod"
    );
    let msg = s.head_message();
    assert_eq!(trailer_values(&msg, "Agentctl-Action"), ["rollback"]);
    assert_eq!(trailer_values(&msg, "Agentctl-Environment"), ["prod"]);
    assert_eq!(trailer_values(&msg, "Agentctl-Version"), ["1.4.0"]);
    assert_eq!(trailer_values(&msg, "Agentctl-Digest"), [d14.as_str()]);
    assert_eq!(trailer_values(&msg, "Agentctl-Reason"), ["x"]);
    let prod = s.pins("prod");
    assert_eq!(prod["support-triage"]["version"], "1.4.0");
    assert_eq!(prod["support-triage"]["digest"], d14.as_str());
    assert_eq!(
        prod["lead-router"], prod_before["lead-router"],
        "others untouched"
    );
    assert_eq!(prod["invoice-matcher"], prod_before["invoice-matcher"]);
    let last = s.log("prod").pop().expect("an event");
    assert_eq!(last["action"], "rollback");
    assert_eq!(last["agent"], "support-triage");
    assert_eq!(last["version"], "1.4.0");
    assert_eq!(last["previous_version"], "1.5.0");
    assert_eq!(last["reason"], "x");
    assert_eq!(s.porcelain(), "");

    // There is nothing earlier than 1.4.0 to roll back to.
    let before = s.snapshot();
    let out = s.run(&["rollback", "prod", "support-triage", "--reason", "x"]);
    assert_ne!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stderr(&out).contains("no earlier release"),
        "{}",
        describe(&out)
    );
    assert_eq!(s.snapshot(), before);

    // --to names the release explicitly.
    let out = s.run(&[
        "rollback",
        "prod",
        "support-triage",
        "--to",
        "1.5.0",
        "--reason",
        "x",
    ]);
    assert_code(&out, 0);
    let prod = s.pins("prod");
    assert_eq!(prod["support-triage"]["version"], "1.5.0");
    assert_eq!(prod["support-triage"]["digest"], d15.as_str());
    assert_eq!(s.commit_count(), commits + 2);

    // --to a version that does not exist is refused.
    let before = s.snapshot();
    let out = s.run(&[
        "rollback",
        "prod",
        "support-triage",
        "--to",
        "9.9.9",
        "--reason",
        "x",
    ]);
    assert_code(&out, 2);
    assert!(stderr(&out).contains("not released"), "{}", describe(&out));
    assert_eq!(s.snapshot(), before);
    s.fsck();
}

#[test]
fn rollback_of_a_whole_environment_undoes_the_last_promotion() {
    let s = Scratch::new();
    promote_everywhere(&s);
    let first = s.pins("prod");
    bump(&s, "lead-router", "2.1.0", "2.2.0");
    bump(&s, "invoice-matcher", "0.9.2", "0.9.3");
    promote_everywhere(&s);
    assert_eq!(s.head_subject(), "promote 2 agents → prod");
    let second = s.pins("prod");
    assert_eq!(second["lead-router"]["version"], "2.2.0");
    assert_eq!(second["invoice-matcher"]["version"], "0.9.3");

    let commits = s.commit_count();
    let out = s.run(&["rollback", "prod", "--reason", "x"]);
    assert_code(&out, 0);
    assert_eq!(s.commit_count(), commits + 1);
    assert_eq!(s.head_subject(), "rollback 2 agents in prod");
    let msg = s.head_message();
    assert_eq!(
        trailer_values(&msg, "Agentctl-Agent"),
        ["invoice-matcher", "lead-router"]
    );
    assert_eq!(trailer_values(&msg, "Agentctl-Version"), ["0.9.2", "2.1.0"]);
    let prod = s.pins("prod");
    for agent in AGENTS {
        assert_eq!(prod[agent]["version"], first[agent]["version"], "{agent}");
        assert_eq!(prod[agent]["digest"], first[agent]["digest"], "{agent}");
    }
    let log = s.log("prod");
    let rollbacks: Vec<&Value> = log.iter().filter(|e| e["action"] == "rollback").collect();
    assert_eq!(rollbacks.len(), 2);
    assert_eq!(rollbacks[0]["op"], rollbacks[1]["op"], "one operation");
    assert!(rollbacks.iter().all(|e| e["reason"] == "x"));

    // The promotion is undone: a second whole-environment rollback refuses.
    let before = s.snapshot();
    let out = s.run(&["rollback", "prod", "--reason", "again"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("already been undone"),
        "{}",
        describe(&out)
    );
    assert_eq!(s.snapshot(), before);
    s.fsck();
}

#[test]
fn rollback_needs_a_reason() {
    let s = Scratch::new();
    promote_everywhere(&s);
    bump(&s, "support-triage", "1.4.0", "1.5.0");
    promote_everywhere(&s);
    let before = s.snapshot();
    let out = s.run(&["rollback", "prod", "support-triage"]);
    assert_code(&out, 2);
    assert!(stderr(&out).contains("--reason"), "{}", describe(&out));
    assert_eq!(s.snapshot(), before);
    for blank in ["", "   "] {
        let out = s.run(&["rollback", "prod", "support-triage", "--reason", blank]);
        assert_code(&out, 2);
        assert!(
            stderr(&out).contains("needs a reason"),
            "{}",
            describe(&out)
        );
        assert_eq!(s.snapshot(), before);
    }
}

#[test]
fn mode_is_the_stop_button_even_in_a_freeze_and_survives_promotion() {
    let s = Scratch::new();
    promote_everywhere(&s);

    // Stop one agent in prod.
    let commits = s.commit_count();
    let out = s.run(&[
        "mode",
        "prod",
        "support-triage",
        "disabled",
        "--reason",
        "r",
    ]);
    assert_code(&out, 0);
    assert_eq!(s.commit_count(), commits + 1);
    assert_eq!(
        s.head_subject(),
        "mode support-triage active → disabled in prod"
    );
    let msg = s.head_message();
    assert_eq!(trailer_values(&msg, "Agentctl-Action"), ["mode"]);
    assert_eq!(trailer_values(&msg, "Agentctl-Mode"), ["disabled"]);
    assert_eq!(trailer_values(&msg, "Agentctl-Reason"), ["r"]);
    assert_eq!(s.pins("prod")["support-triage"]["mode"], "disabled");
    assert_eq!(s.pins("prod")["lead-router"]["mode"], "active");
    assert_eq!(s.pins("staging")["support-triage"]["mode"], "active");
    let status = json(&s.run(&["status", "--format", "json"]));
    let st = status["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["name"] == "support-triage")
        .expect("support-triage in status")
        .clone();
    assert_eq!(st["environments"]["prod"]["mode"], "disabled");
    assert!(
        st["drift"]
            .as_array()
            .expect("drift")
            .iter()
            .any(|d| d == "disabled in prod"),
        "{st}"
    );
    let history = json(&s.run(&["history", "prod", "support-triage", "--format", "json"]));
    let newest = &history["entries"][0];
    assert_eq!(newest["action"], "mode");
    assert_eq!(newest["mode"], "disabled");
    assert_eq!(newest["reason"], "r");
    assert_eq!(newest["commit"], s.head().as_str());

    // Freeze prod around the fixed clock.
    let config = s.read("agentctl.toml");
    let frozen = config.replacen(
        "# freeze = [{ from = \"2026-12-20T00:00:00Z\", until = \"2027-01-04T00:00:00Z\", reason = \"year-end freeze\" }]",
        "freeze = [{ from = \"2026-11-01T00:00:00Z\", until = \"2026-12-01T00:00:00Z\", reason = \"test freeze\" }]",
        1,
    );
    assert_ne!(frozen, config, "freeze line found in the default config");
    s.write("agentctl.toml", &frozen);
    s.commit_all("freeze prod");
    bump(&s, "support-triage", "1.4.0", "1.5.0");
    s.ok(&["promote", "dev"]);
    s.ok(&["promote", "staging"]);

    let before = s.snapshot();
    let out = s.run(&["promote", "prod", "--format", "json"]);
    assert_code(&out, 1);
    assert_eq!(failed_gates(&json(&out), "support-triage"), ["freeze"]);
    assert_eq!(s.snapshot(), before, "frozen promotion writes nothing");
    let out = s.run(&["promote", "prod"]);
    assert_code(&out, 1);
    assert!(stdout(&out).contains("test freeze"), "{}", describe(&out));

    // The stop button works in the freeze.
    let out = s.run(&[
        "mode",
        "prod",
        "lead-router",
        "review-only",
        "--reason",
        "incident",
    ]);
    assert_code(&out, 0);
    assert_eq!(s.pins("prod")["lead-router"]["mode"], "review-only");

    // Thaw; the promotion keeps the operators' modes.
    s.write("agentctl.toml", &config);
    s.commit_all("thaw prod");
    s.ok(&["promote", "prod"]);
    let prod = s.pins("prod");
    assert_eq!(prod["support-triage"]["version"], "1.5.0");
    assert_eq!(prod["support-triage"]["mode"], "disabled");
    assert_eq!(prod["lead-router"]["mode"], "review-only");
    let last = s.log("prod").pop().expect("event");
    assert_eq!(last["action"], "promote");
    assert_eq!(last["mode"], "disabled");
    assert_eq!(last["previous_mode"], "disabled");

    // Retire removes the agent from the environment; its releases stay.
    let out = s.run(&["retire", "prod", "invoice-matcher"]);
    assert_code(&out, 2);
    let out = s.run(&["retire", "prod", "invoice-matcher", "--reason", "gone"]);
    assert_code(&out, 0);
    assert_eq!(s.head_subject(), "retire invoice-matcher from prod");
    let prod = s.pins("prod");
    assert!(!prod.contains_key("invoice-matcher"), "retired from prod");
    assert_eq!(prod.len(), 2);
    assert!(s.pins("staging").contains_key("invoice-matcher"));
    assert!(
        s.root
            .join("releases/invoice-matcher/0.9.2/release.yaml")
            .is_file()
    );
    let last = s.log("prod").pop().expect("event");
    assert_eq!(last["action"], "retire");
    assert_eq!(last["version"], Value::Null);
    assert_eq!(last["previous_version"], "0.9.2");
    assert_eq!(last["reason"], "gone");
    assert_eq!(s.porcelain(), "");
    s.fsck();
}

#[test]
fn dry_run_writes_nothing_and_no_commit_makes_no_commit() {
    let s = Scratch::new();
    let before = s.snapshot();
    let commits = s.commit_count();

    let out = s.run(&["promote", "dev", "--dry-run"]);
    assert_code(&out, 0);
    let plan = stdout(&out);
    for (agent, version) in VERSIONS {
        assert!(
            plan.contains(&format!(
                "{agent} (new) → {version} (to be released on promotion) in dev"
            )),
            "plan names {agent}:\n{plan}"
        );
    }
    assert!(stderr(&out).contains("dry run: nothing written"));
    assert_eq!(s.snapshot(), before, "--dry-run writes nothing");

    let out = s.run(&["promote", "dev", "--dry-run", "--format", "json"]);
    assert_code(&out, 0);
    let report = json(&out);
    assert_eq!(report["recorded"]["recorded"], "dry-run");
    assert_eq!(report["passed"], true);
    assert_eq!(report["moves"].as_array().expect("moves").len(), 3);
    assert_eq!(s.snapshot(), before, "--dry-run writes nothing");

    // --no-commit writes the files, makes no commit.
    let out = s.run(&["promote", "dev", "--no-commit"]);
    assert_code(&out, 0);
    assert!(stderr(&out).contains("not committed"), "{}", describe(&out));
    assert_eq!(s.commit_count(), commits);
    assert_eq!(s.head(), before.head);
    let pins = s.pins("dev");
    assert_eq!(pins.keys().collect::<Vec<_>>(), AGENTS);
    assert_eq!(s.log("dev").len(), 3);
    for (agent, version) in VERSIONS {
        assert_eq!(
            s.digest(&format!("releases/{agent}/{version}/bundle")),
            s.digest(&format!("agents/{agent}"))
        );
    }
    let status = s.porcelain();
    assert!(status.contains(" M environments/dev.yaml"), "{status}");
    assert!(status.contains("?? environments/dev.log"), "{status}");
    assert!(status.contains("?? releases/"), "{status}");

    // The pull-request flow: commit the files by hand, keep going.
    s.commit_all("promote to dev (reviewed)");
    s.ok(&["promote", "staging"]);
    assert_eq!(s.pins("staging").len(), 3);
    assert_eq!(s.commit_count(), commits + 2);
}

#[test]
fn agent_names_on_the_command_line_are_validated() {
    let s = Scratch::new();
    let source = s.digest("agents/support-triage");
    for args in [
        &["release", "../agents/support-triage", "--no-commit"][..],
        &["release", "../agents/support-triage"],
        &["promote", "dev", "../agents/support-triage", "--no-commit"],
    ] {
        let before = s.snapshot();
        let out = s.run(args);
        assert_code(&out, 2);
        assert!(
            stderr(&out).contains("../agents/support-triage"),
            "{args:?}: the bad name is quoted\n{}",
            describe(&out)
        );
        assert_eq!(s.snapshot(), before, "{args:?} wrote files");
        assert_eq!(
            s.digest("agents/support-triage"),
            source,
            "{args:?} changed the source bundle"
        );
    }
}

#[test]
fn naming_an_agent_twice_promotes_it_once() {
    let s = Scratch::new();
    let out = s.run(&["promote", "dev", "support-triage", "support-triage"]);
    assert_code(&out, 0);
    assert_eq!(s.head_subject(), "promote support-triage 1.4.0 → dev");
    assert_eq!(s.log("dev").len(), 1, "one event");

    let s = Scratch::new();
    let out = s.run(&[
        "promote",
        "dev",
        "support-triage",
        "support-triage",
        "--no-commit",
    ]);
    assert_code(&out, 0);
    assert_eq!(s.log("dev").len(), 1, "one event, not a duplicate");
}

/// `history` names the commit agentctl made for each event: a commit that
/// only carries a matching `Agentctl-Op:` line (written by hand) does not
/// take the event over, and an event no commit recorded says so.
#[test]
fn history_credits_the_commit_agentctl_made() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    let real = s.head();
    s.git(&[
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "notes",
        "-m",
        "Agentctl-Action: promote\nAgentctl-Environment: dev\nAgentctl-Op: dev#1",
    ]);
    let out = s.run(&["history", "dev", "--format", "json"]);
    assert_code(&out, 0);
    let v = json(&out);
    for e in v["entries"].as_array().expect("entries") {
        assert_eq!(e["commit"], real.as_str(), "{e}");
    }
    // Files only: no commit recorded it, and the entry says so.
    s.ok(&[
        "mode",
        "dev",
        "lead-router",
        "disabled",
        "--reason",
        "r",
        "--no-commit",
    ]);
    let v = json(&s.run(&["history", "dev", "--format", "json"]));
    let newest = &v["entries"][0];
    assert!(newest["commit"].is_null(), "{newest}");
    assert!(
        newest["commit_note"]
            .as_str()
            .is_some_and(|n| n.contains("--no-commit")),
        "{newest}"
    );
}

/// `history` is a table a kubectl user reads at a glance: a header, op
/// numbers, from → to (the previous mode for mode changes).
#[test]
fn history_is_a_table_with_op_numbers_and_previous_modes() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    s.ok(&[
        "mode",
        "dev",
        "lead-router",
        "review-only",
        "--reason",
        "watch it",
    ]);
    let out = s.ok(&["history", "dev", "lead-router"]);
    let mut lines = out.lines();
    let header = lines.next().expect("header");
    for col in [
        "OP",
        "TIME",
        "ACTION",
        "AGENT",
        "FROM → TO",
        "ACTOR",
        "REASON",
        "COMMIT",
    ] {
        assert!(header.contains(col), "{header}");
    }
    let newest = lines.next().expect("an entry");
    assert!(newest.starts_with("dev#2"), "{newest}");
    assert!(newest.contains("active → review-only"), "{newest}");
    assert!(newest.contains("watch it"), "{newest}");
    let v = json(&s.run(&["history", "dev", "--format", "json"]));
    assert_eq!(v["entries"][0]["op"], 2);
    assert_eq!(v["entries"][0]["from_mode"], "active");
}

/// A mistyped agent name gets "did you mean" and exit 2 in every command
/// that takes one.
#[test]
fn mistyped_agent_names_get_a_suggestion_everywhere() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    for args in [
        &["promote", "staging", "lead-routr"][..],
        &["rollback", "dev", "lead-routr", "--reason", "r"][..],
        &["mode", "dev", "lead-routr", "disabled", "--reason", "r"][..],
        &["retire", "dev", "lead-routr", "--reason", "r"][..],
        &["history", "dev", "lead-routr"][..],
        &["render", "lead-routr", "--env", "dev"][..],
        &["docs", "lead-routr"][..],
    ] {
        let out = s.run(args);
        assert_code(&out, 2);
        assert!(
            stderr(&out).contains("did you mean `lead-router`?"),
            "{args:?}: {}",
            describe(&out)
        );
    }
}
