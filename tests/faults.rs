//! Fault injection for every state-changing command.
//!
//! Each command is killed (`AGENTCTL_FAULT=<step>` aborts the process) at
//! each write step of its transaction. Afterwards `git fsck` is clean,
//! `agentctl status` and `agentctl verify` succeed, and the repository is
//! exactly as before or exactly as after: one commit more, a clean work
//! tree, and the change the command makes.

mod common;

use common::*;
use std::os::unix::process::ExitStatusExt;

const STEPS: [&str; 5] = ["objects", "journal", "ref", "worktree", "index"];

/// A command to break: how to prepare the repository, what to run, and the
/// subject its commit has.
struct Case {
    name: &'static str,
    setup: fn(&Scratch) -> Vec<String>,
    subject: &'static str,
}

fn promoted_everywhere(s: &Scratch) {
    for env in ["dev", "staging", "prod"] {
        s.ok(&["promote", env]);
    }
}

fn two_versions_in_prod(s: &Scratch) {
    promoted_everywhere(s);
    s.set_version("support-triage", "1.4.0", "1.5.0");
    let prompt = s.read("agents/support-triage/prompts/system.md.j2");
    s.write(
        "agents/support-triage/prompts/system.md.j2",
        &format!("{prompt}\nBe brief.\n"),
    );
    s.commit_all("support-triage 1.5.0");
    promoted_everywhere(s);
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "release",
            setup: |_| vec!["release".into(), "support-triage".into()],
            subject: "release support-triage 1.4.0",
        },
        Case {
            name: "promote",
            setup: |_| vec!["promote".into(), "dev".into()],
            subject: "promote 3 agents → dev",
        },
        Case {
            name: "rollback",
            setup: |s| {
                two_versions_in_prod(s);
                [
                    "rollback",
                    "prod",
                    "support-triage",
                    "--reason",
                    "bad answers",
                ]
                .map(String::from)
                .to_vec()
            },
            subject: "rollback support-triage 1.5.0 → 1.4.0 in prod",
        },
        Case {
            name: "mode",
            setup: |s| {
                promoted_everywhere(s);
                [
                    "mode",
                    "prod",
                    "lead-router",
                    "disabled",
                    "--reason",
                    "incident",
                ]
                .map(String::from)
                .to_vec()
            },
            subject: "mode lead-router active → disabled in prod",
        },
        Case {
            name: "retire",
            setup: |s| {
                promoted_everywhere(s);
                ["retire", "prod", "invoice-matcher", "--reason", "replaced"]
                    .map(String::from)
                    .to_vec()
            },
            subject: "retire invoice-matcher from prod",
        },
        Case {
            name: "sign",
            setup: |s| {
                s.ok(&["promote", "dev"]);
                let key = s.root.join("../signing-key");
                s.sandbox.ssh_keygen(&key, "owner", "");
                let public =
                    std::fs::read_to_string(key.with_extension("pub")).expect("public key");
                let signers = s.read(".agentctl/allowed_signers");
                s.write(
                    ".agentctl/allowed_signers",
                    &format!("{signers}maya.lindqvist@example.com {public}"),
                );
                s.commit_all("trust the owner's key");
                vec![
                    "sign".into(),
                    "support-triage@1.4.0".into(),
                    "--key".into(),
                    key.display().to_string(),
                ]
            },
            subject: "sign support-triage 1.4.0 as maya.lindqvist@example.com",
        },
        Case {
            name: "evals record",
            setup: |s| {
                s.ok(&["promote", "dev"]);
                let results = s.root.join("../results.json");
                std::fs::write(
                    &results,
                    r#"{"suite": "triage-accuracy", "passed": 9, "failed": 1, "errors": 0, "run_at": "2026-11-20T10:00:00Z"}"#,
                )
                .expect("write results");
                vec![
                    "evals".into(),
                    "record".into(),
                    "support-triage@1.4.0".into(),
                    results.display().to_string(),
                ]
            },
            subject: "record evals support-triage 1.4.0: triage-accuracy 9/10 passed",
        },
    ]
}

fn kill_and_recover(case: &Case, step: &str) {
    let s = Scratch::new();
    let args = (case.setup)(&s);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let before = s.snapshot();
    let commits = s.commit_count();

    let out = s.run_env(&args, &[("AGENTCTL_FAULT", step)]);
    assert_eq!(
        out.status.signal(),
        Some(6),
        "{} with AGENTCTL_FAULT={step} aborts\n{}",
        case.name,
        describe(&out)
    );
    s.fsck();

    // The next agentctl command (here a read-only one) finishes or discards.
    assert_code(&s.run(&["status"]), 0);
    s.fsck();
    assert_eq!(
        s.porcelain(),
        "",
        "{} at {step}: work tree and index agree with HEAD",
        case.name
    );

    let now = s.snapshot();
    if now.head == before.head {
        assert_eq!(
            now, before,
            "{} killed at {step}: exactly as before",
            case.name
        );
    } else {
        assert_eq!(
            s.commit_count(),
            commits + 1,
            "{} at {step}: one commit",
            case.name
        );
        assert_eq!(s.git(&["rev-parse", "HEAD~1"]), before.head);
        assert_eq!(s.head_subject(), case.subject, "{} at {step}", case.name);
        assert!(!now.journal, "journal removed");
    }
    // Either way the repository verifies and keeps working.
    let out = s.run(&["verify"]);
    assert_code(&out, 0);
    s.fsck();
}

#[test]
fn every_state_change_survives_a_kill_at_every_step() {
    for case in cases() {
        for step in STEPS {
            kill_and_recover(&case, step);
        }
    }
}

#[test]
fn init_survives_a_kill_at_every_step() {
    for step in STEPS {
        let sb = Sandbox::new();
        let dir = sb.path().join("fresh");
        std::fs::create_dir_all(&dir).expect("mkdir");
        sb.git(&dir, &["init", "-q", "-b", "main"]);
        let out = sb.agentctl_env(&dir, &["init"], &[("AGENTCTL_FAULT", step)]);
        assert_eq!(
            out.status.signal(),
            Some(6),
            "init at {step}: {}",
            describe(&out)
        );
        fsck(&sb, &dir);
        let committed = sb.git_output(&dir, &["rev-parse", "HEAD"]).status.success();
        if committed {
            // The branch moved: the next command completes the work tree.
            assert_code(&sb.agentctl(&dir, &["status"]), 0);
            assert_eq!(porcelain(&sb, &dir), "", "init at {step}");
            assert_eq!(commit_count(&sb, &dir), 1);
        } else {
            // Nothing was committed; init can simply be run again.
            assert_code(&sb.agentctl(&dir, &["init"]), 0);
            assert_eq!(commit_count(&sb, &dir), 1);
        }
        assert_code(&sb.agentctl(&dir, &["verify"]), 0);
        fsck(&sb, &dir);
    }
}
