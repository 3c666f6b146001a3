//! Fault injection for every state-changing command.
//!
//! Each command is killed (`AGENTCTL_FAULT=<step>` aborts the process) at
//! each write step of its transaction. Afterwards `git fsck` is clean,
//! `agentctl status` and `agentctl verify` succeed, and the repository is
//! exactly as before or exactly as after: one commit more, a clean work
//! tree, and the change the command makes.
#![allow(clippy::print_stderr, clippy::print_stdout)] // a skip says why; the kill campaign prints its seed

mod common;

use common::*;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

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

/// After a kill: git is sound, the next agentctl command (a read-only one)
/// cleans up, and the repository is exactly as before or exactly as after
/// with nothing of agentctl's left behind (journal, temp files, git locks).
fn check_recovered(sb: &Sandbox, dir: &Path, case: &Case, before: &Snapshot, how: &str) {
    let out = sb.agentctl(dir, &["status"]);
    assert_code(&out, 0);
    fsck(sb, dir);
    assert_eq!(
        porcelain(sb, dir),
        "",
        "{} {how}: work tree and index agree with HEAD",
        case.name
    );
    let now = Snapshot::take(sb, dir);
    if now.head == before.head {
        assert_eq!(&now, before, "{} {how}: exactly as before", case.name);
    } else {
        assert_eq!(
            sb.git(dir, &["rev-parse", "HEAD~1"]),
            before.head,
            "{} {how}: one commit",
            case.name
        );
        assert_eq!(
            sb.git(dir, &["log", "-1", "--format=%s"]),
            case.subject,
            "{} {how}",
            case.name
        );
        assert!(!now.journal, "{} {how}: journal removed", case.name);
    }
    let git_dir = dir.join(".git");
    for lock in [
        "index.lock",
        "refs/heads/main.lock",
        "agentctl-journal.json",
    ] {
        assert!(
            !git_dir.join(lock).exists(),
            "{} {how}: {lock} left behind",
            case.name
        );
    }
    let strays: Vec<_> = walkdir(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".agentctl-tmp-"))
        .collect();
    assert!(
        strays.is_empty(),
        "{} {how}: temp files left: {strays:?}",
        case.name
    );
    // And it keeps working: a state change goes through.
    let out = sb.agentctl(
        dir,
        &[
            "mode",
            "dev",
            "support-triage",
            "review-only",
            "--reason",
            "after a kill",
        ],
    );
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{} {how}: the next change is not blocked: {}",
        case.name,
        describe(&out)
    );
    assert!(
        !stderr(&out).contains("run the command again") && !stderr(&out).contains("uncommitted"),
        "{} {how}: {}",
        case.name,
        describe(&out)
    );
}

fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}

/// A case prepared once, copied fresh for every kill.
struct Prepared {
    sandbox: Sandbox,
    template: std::path::PathBuf,
    args: Vec<String>,
    case: Case,
}

impl Prepared {
    fn new(case: Case) -> Prepared {
        let s = Scratch::new();
        let args = (case.setup)(&s);
        Prepared {
            template: s.root.clone(),
            sandbox: s.sandbox,
            args,
            case,
        }
    }

    /// A fresh copy of the prepared repository.
    fn copy(&self, name: &str) -> std::path::PathBuf {
        let dir = self.sandbox.path().join(name);
        let ok = std::process::Command::new("cp")
            .arg("-a")
            .arg(&self.template)
            .arg(&dir)
            .status()
            .expect("cp");
        assert!(ok.success());
        dir
    }

    fn args(&self) -> Vec<&str> {
        self.args.iter().map(String::as_str).collect()
    }
}

/// Kill each command at every counted write step in turn (each temporary
/// file written, each rename, each transaction step), until it runs through.
#[test]
fn every_state_change_survives_a_kill_at_every_write_and_rename() {
    for case in cases() {
        let p = Prepared::new(case);
        let mut n = 1u64;
        loop {
            let dir = p.copy(&format!("step-{n}"));
            let before = Snapshot::take(&p.sandbox, &dir);
            let out = p.sandbox.agentctl_env(
                &dir,
                &p.args(),
                &[("AGENTCTL_FAULT", &format!("step:{n}"))],
            );
            if out.status.signal().is_none() {
                assert_code(&out, 0);
                assert!(n > 3, "{}: only {n} steps?", p.case.name);
                eprintln!("{}: killed at each of {} steps", p.case.name, n - 1);
                break;
            }
            assert_eq!(out.status.signal(), Some(6), "{}", describe(&out));
            check_recovered(
                &p.sandbox,
                &dir,
                &p.case,
                &before,
                &format!("killed at step {n}"),
            );
            std::fs::remove_dir_all(&dir).expect("rm");
            n += 1;
            assert!(n < 500, "{}: never finished", p.case.name);
        }
    }
}

/// A small, seeded generator (xorshift64*): the campaign is replayable
/// from the seed it prints.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// SIGKILL the real binary at random moments: at least 200 kills across
/// promote, release, rollback, mode, evals record and sign. Replay one with
/// `AGENTCTL_KILL_SEED=<seed> cargo test --test faults random_kill`.
#[test]
fn random_kill_campaign_leaves_no_unusable_repository() {
    let seed = std::env::var("AGENTCTL_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64 | 1)
                .unwrap_or(0x9E37_79B9_7F4A_7C15)
        });
    println!("kill campaign seed: {seed} (AGENTCTL_KILL_SEED={seed} replays it)");
    let mut rng = Rng(seed);
    let wanted = [
        "release",
        "promote",
        "rollback",
        "mode",
        "evals record",
        "sign",
    ];
    let prepared: Vec<Prepared> = cases()
        .into_iter()
        .filter(|c| wanted.contains(&c.name))
        .map(Prepared::new)
        .collect();
    const KILLS_PER_CASE: usize = 34;
    let mut kills = 0;
    let mut finished = 0;
    for p in &prepared {
        // How long an uninterrupted run takes bounds the kill moment.
        let dir = p.copy("timing");
        let started = std::time::Instant::now();
        assert_code(&p.sandbox.agentctl(&dir, &p.args()), 0);
        let span = started.elapsed().as_micros().max(1000) as u64;
        std::fs::remove_dir_all(&dir).expect("rm");
        let mut case_kills = 0;
        let mut i = 0;
        while case_kills < KILLS_PER_CASE {
            i += 1;
            assert!(
                i < 4 * KILLS_PER_CASE,
                "{}: the runs keep finishing first",
                p.case.name
            );
            let dir = p.copy(&format!("kill-{i}"));
            let before = Snapshot::take(&p.sandbox, &dir);
            let delay = rng.next() % span;
            let mut child = p
                .sandbox
                .agentctl_cmd(&dir, &p.args())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("spawn");
            std::thread::sleep(std::time::Duration::from_micros(delay));
            let _ = child.kill();
            let status = child.wait().expect("wait");
            if status.signal() == Some(9) {
                kills += 1;
                case_kills += 1;
            } else {
                finished += 1;
            }
            check_recovered(
                &p.sandbox,
                &dir,
                &p.case,
                &before,
                &format!("killed after {delay} µs (seed {seed})"),
            );
            std::fs::remove_dir_all(&dir).expect("rm");
        }
    }
    println!(
        "kill campaign: {kills} killed mid-run, {finished} finished first, 0 unusable (seed {seed})"
    );
    assert!(
        kills >= 200,
        "only {kills} runs were killed mid-run (seed {seed})"
    );
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

/// Locks a killed agentctl left are removed by the next command; a lock a
/// live process holds open is not. And once recovered, a person's next
/// `git commit` keeps agentctl's change (the index matches HEAD).
#[test]
fn stale_git_locks_are_removed_and_live_ones_kept() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    // Killed after the commit point: branch moved, work tree and index not.
    let out = s.run_env(
        &[
            "mode",
            "dev",
            "lead-router",
            "disabled",
            "--reason",
            "incident",
        ],
        &[("AGENTCTL_FAULT", "ref")],
    );
    assert_eq!(out.status.signal(), Some(6), "{}", describe(&out));
    let git_dir = s.root.join(".git");
    // As if killed inside libgit2's ref and index updates.
    std::fs::write(git_dir.join("refs/heads/main.lock"), "").expect("ref lock");
    std::fs::write(git_dir.join("index.lock"), "").expect("index lock");
    assert_code(&s.run(&["status"]), 0);
    assert!(!git_dir.join("refs/heads/main.lock").exists());
    assert!(!git_dir.join("index.lock").exists());
    assert_eq!(s.porcelain(), "");
    // A person's unrelated commit does not revert the mode change.
    s.write("NOTES.md", "notes\n");
    s.git(&["add", "NOTES.md"]);
    s.git(&["commit", "-q", "-m", "notes"]);
    assert_eq!(s.pins("dev")["lead-router"]["mode"], "disabled");
    let shown = s.git(&["show", "HEAD:environments/dev.yaml"]);
    assert!(shown.contains("disabled"), "{shown}");

    // A live git process's index.lock (held open) is never taken.
    let out = s.run_env(
        &["mode", "dev", "lead-router", "active", "--reason", "fixed"],
        &[("AGENTCTL_FAULT", "ref")],
    );
    assert_eq!(out.status.signal(), Some(6));
    let lock = git_dir.join("index.lock");
    let mut holder = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("exec 3>'{}'; sleep 30", lock.display()))
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !lock.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = s.run(&["status"]);
    let kept = lock.exists();
    let _ = holder.kill();
    let _ = holder.wait();
    assert!(
        kept,
        "a lock a live process holds was removed: {}",
        describe(&out)
    );
    assert_code(&out, 0);
    assert!(
        stderr(&out).contains("another git process holds"),
        "{}",
        describe(&out)
    );
    // Once it is gone, the next command finishes the interrupted change.
    let _ = std::fs::remove_file(&lock);
    assert_code(&s.run(&["status"]), 0);
    assert_eq!(s.porcelain(), "");
    assert_eq!(s.pins("dev")["lead-router"]["mode"], "active");
}
