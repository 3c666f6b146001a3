//! Concurrent agentctl processes: on one repository (the lock) and on many
//! clones of one remote (`--push`, which redoes an operation that lost the
//! race). Nothing is lost, nothing is duplicated, and the loser's exit code
//! says a retry is safe.
//!
//! Real binary, real git repositories in temp dirs, fixed clock.

mod common;

use common::*;
use serde_json::Value;
use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Whether process `pid` holds a flock on `path` (from /proc/locks; reading it
/// does not disturb the lock, unlike probing with flock(1)).
fn holds_flock(pid: u32, path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    let Ok(locks) = std::fs::read_to_string("/proc/locks") else {
        return false;
    };
    let ino = meta.ino().to_string();
    locks.lines().any(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        // "1: FLOCK ADVISORY WRITE <pid> <maj>:<min>:<inode> 0 EOF"; blocked
        // waiters have a "->" field and are skipped.
        f.len() >= 6
            && f[1] == "FLOCK"
            && f[4] == pid.to_string()
            && f[5].rsplit(':').next() == Some(ino.as_str())
    })
}

fn spawn(cmd: &mut std::process::Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn agentctl")
}

#[test]
fn a_second_promoter_exits_3_at_once_while_the_first_holds_the_lock() {
    let s = Scratch::new();
    let commits = s.commit_count();
    let head = s.head();

    let mut a_cmd = s.sandbox.agentctl_cmd(&s.root, &["promote", "dev"]);
    a_cmd.env("AGENTCTL_TEST_HOLD_LOCK_MS", "1500");
    let a_started = Instant::now();
    let mut a = spawn(&mut a_cmd);

    // ~300 ms, and until A really holds the lock (a loaded machine may be slow).
    std::thread::sleep(Duration::from_millis(300));
    let lock = s.root.join(".git/agentctl.lock");
    while !holds_flock(a.id(), &lock) {
        assert!(
            a_started.elapsed() < Duration::from_secs(10),
            "A never took the lock"
        );
        assert!(a.try_wait().expect("poll A").is_none(), "A exited early");
        std::thread::sleep(Duration::from_millis(20));
    }

    let b_started = Instant::now();
    let b = s.run(&["promote", "dev"]);
    let b_took = b_started.elapsed();
    assert_code(&b, 3);
    assert!(
        stderr(&b).contains("another agentctl process"),
        "{}",
        describe(&b)
    );
    assert!(
        stderr(&b).contains("nothing was written"),
        "{}",
        describe(&b)
    );
    assert!(
        a.try_wait().expect("poll A").is_none(),
        "B finished while A still held the lock (B took {b_took:?})"
    );
    assert!(b_took < Duration::from_millis(1200), "B waited: {b_took:?}");

    let a = a.wait_with_output().expect("wait for A");
    assert_code(&a, 0);
    assert!(a_started.elapsed() >= Duration::from_millis(1500));
    assert_eq!(s.commit_count(), commits + 1, "exactly one new commit");
    assert_eq!(s.git(&["rev-parse", "HEAD~1"]), head);
    assert_eq!(s.head_subject(), "promote 3 agents → dev");
    assert_eq!(s.log("dev").len(), 3, "no duplicated events");
    assert_eq!(s.porcelain(), "");
    s.fsck();
}

/// What clone `i` does, and the environment whose log records it.
fn job(i: usize) -> (Vec<String>, &'static str) {
    let reason = format!("clone-{i}");
    let args: Vec<&str> = match i {
        0..=2 => vec!["mode", "dev", AGENTS[i], "review-only", "--reason", &reason],
        _ => vec!["promote", "staging", "--reason", &reason],
    };
    let mut args: Vec<String> = args.into_iter().map(String::from).collect();
    args.push("--push".into());
    (args, if i < 3 { "dev" } else { "staging" })
}

#[test]
fn four_push_promoters_against_one_remote_lose_nothing_and_duplicate_nothing() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    let sb = &s.sandbox;
    let remote = sb.bare_clone(&s.root, "remote.git");
    let url = format!("file://{}", remote.display());
    let base = sb.git(&remote, &["rev-parse", "main"]);
    let base_count = commit_count(sb, &remote);
    let clones: Vec<_> = (0..4)
        .map(|i| {
            let name = format!("clone-{i}");
            sb.git(sb.path(), &["clone", "-q", &url, &name]);
            sb.path().join(name)
        })
        .collect();

    // Every process holds its lock a little after syncing, so all four
    // commit on the same remote tip and race to push.
    let children: Vec<(usize, Child)> = clones
        .iter()
        .enumerate()
        .map(|(i, dir)| {
            let (args, _) = job(i);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut cmd = sb.agentctl_cmd(dir, &args);
            cmd.env("AGENTCTL_TEST_HOLD_LOCK_MS", "300");
            (i, spawn(&mut cmd))
        })
        .collect();
    let results: Vec<(usize, std::process::Output)> = children
        .into_iter()
        .map(|(i, c)| (i, c.wait_with_output().expect("wait")))
        .collect();

    let mut succeeded = Vec::new();
    for (i, out) in &results {
        let code = out.status.code();
        assert!(
            code == Some(0) || code == Some(3),
            "clone-{i} exited {code:?}\n{}",
            describe(out)
        );
        if code == Some(0) {
            succeeded.push(*i);
        }
        assert_eq!(
            porcelain(sb, &clones[*i]),
            "",
            "clone-{i} left a clean tree"
        );
        fsck(sb, &clones[*i]);
    }
    assert!(!succeeded.is_empty(), "someone won");

    // The test must really race: some process made a commit, lost the push,
    // dropped it and redid its work (reflog: every commit agentctl made).
    let commits_made: usize = clones
        .iter()
        .map(|dir| {
            sb.git(dir, &["reflog", "--format=%gs"])
                .lines()
                .filter(|l| l.starts_with("mode ") || l.starts_with("promote "))
                .count()
        })
        .sum();
    assert!(
        commits_made > succeeded.len(),
        "no push race happened ({commits_made} commits for {} successes)",
        succeeded.len()
    );

    // Look at what the remote holds, from a fresh clone.
    fsck(sb, &remote);
    sb.git(sb.path(), &["clone", "-q", &url, "check"]);
    let check = sb.path().join("check");
    assert_eq!(
        commit_count(sb, &check),
        base_count + succeeded.len(),
        "one commit per successful process"
    );
    let merges = sb.git(&check, &["rev-list", "--merges", "HEAD"]);
    assert_eq!(merges, "", "linear history");
    assert_eq!(
        sb.git(&check, &["rev-list", "--count", &format!("{base}..HEAD")]),
        succeeded.len().to_string()
    );

    let dev = log_at(&check, "dev");
    let staging = log_at(&check, "staging");
    for (env, log) in [("dev", &dev), ("staging", &staging)] {
        let mut lines = HashSet::new();
        let mut op_agent = HashSet::new();
        for e in log.iter() {
            assert!(lines.insert(e.to_string()), "duplicate event in {env}: {e}");
            assert!(
                op_agent.insert((e["op"].as_u64(), e["agent"].to_string())),
                "two events for one agent in one op in {env}: {e}"
            );
        }
    }
    let with_reason = |log: &[Value], r: &str| -> Vec<Value> {
        log.iter().filter(|e| e["reason"] == r).cloned().collect()
    };
    let dev_pins = pins_at(&check, "dev");
    for i in 0..4 {
        let reason = format!("clone-{i}");
        let (_, env) = job(i);
        let won = succeeded.contains(&i);
        let events = with_reason(if env == "dev" { &dev } else { &staging }, &reason);
        if i < 3 {
            assert_eq!(events.len(), usize::from(won), "{reason}: {events:?}");
            if won {
                assert_eq!(events[0]["action"], "mode");
                assert_eq!(events[0]["agent"], AGENTS[i]);
                assert_eq!(events[0]["mode"], "review-only");
            }
            let mode = if won { "review-only" } else { "active" };
            assert_eq!(dev_pins[AGENTS[i]]["mode"], mode, "{}", AGENTS[i]);
        } else {
            assert_eq!(
                events.len(),
                if won { 3 } else { 0 },
                "{reason}: {events:?}"
            );
            assert!(events.iter().all(|e| e["action"] == "promote"));
            let ops: HashSet<_> = events.iter().map(|e| e["op"].as_u64()).collect();
            assert!(ops.len() <= 1, "one promotion, one op");
            assert_eq!(pins_at(&check, "staging").len(), if won { 3 } else { 0 });
        }
    }
    // dev.log: the promotion plus one event per successful mode change.
    let dev_modes = succeeded.iter().filter(|i| **i < 3).count();
    assert_eq!(dev.len(), 3 + dev_modes);
}

#[test]
fn a_branch_moved_by_git_during_a_promotion_is_a_conflict_that_writes_nothing() {
    let s = Scratch::new();
    let mut a_cmd = s.sandbox.agentctl_cmd(&s.root, &["promote", "dev"]);
    a_cmd.env("AGENTCTL_TEST_HOLD_LOCK_MS", "1500");
    let started = Instant::now();
    let mut a = spawn(&mut a_cmd);
    let lock = s.root.join(".git/agentctl.lock");
    while !holds_flock(a.id(), &lock) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "A never took the lock"
        );
        assert!(a.try_wait().expect("poll A").is_none(), "A exited early");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Plain git does not know agentctl's lock: move the branch under A.
    s.write("NOTES.md", "moved under agentctl\n");
    s.commit_all("a commit made meanwhile");
    let moved = s.snapshot();
    assert!(
        a.try_wait().expect("poll A").is_none(),
        "A still holds the lock"
    );

    let a = a.wait_with_output().expect("wait for A");
    assert_code(&a, 3);
    assert!(
        stderr(&a).contains("moved while agentctl was working"),
        "{}",
        describe(&a)
    );
    assert_eq!(s.snapshot(), moved, "the losing promotion wrote nothing");
    assert!(!s.root.join("releases").exists());
    s.fsck();

    // Retrying is safe.
    s.ok(&["promote", "dev"]);
    assert_eq!(s.head_subject(), "promote 3 agents → dev");
    assert_eq!(s.git(&["rev-parse", "HEAD~1"]), moved.head);
    assert_eq!(s.log("dev").len(), 3);
}

#[test]
fn a_failed_push_leaves_nothing_behind_and_a_retry_pushes() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    let sb = &s.sandbox;
    let remote = sb.bare_clone(&s.root, "remote.git");
    let url = format!("file://{}", remote.display());
    sb.git(sb.path(), &["clone", "-q", &url, "ci"]);
    let ci = sb.path().join("ci");

    // The remote declines the next push once (a hook, an outage, a 503...).
    let marker = sb.path().join("decline-next-push");
    std::fs::write(&marker, "").expect("marker");
    let hook = remote.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nif [ -e '{m}' ]; then rm '{m}'; echo 'declined: try later' >&2; exit 1; fi\nexit 0\n",
            m = marker.display()
        ),
    )
    .expect("hook");
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");

    let remote_before = sb.git(&remote, &["rev-parse", "main"]);
    let local_before = head(sb, &ci);
    let args = [
        "mode",
        "dev",
        "lead-router",
        "disabled",
        "--reason",
        "incident",
        "--push",
    ];
    let out = sb.agentctl(&ci, &args);
    assert_ne!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(stderr(&out).contains("declined"), "{}", describe(&out));
    assert_eq!(sb.git(&remote, &["rev-parse", "main"]), remote_before);
    let mut problems = Vec::new();
    if head(sb, &ci) != local_before {
        problems.push("DESIGN says nothing is written on an error, but the failed --push left its commit on the local branch".to_string());
    }

    // The operator retries the stop button; it must reach the remote.
    let out = sb.agentctl(&ci, &args);
    assert_code(&out, 0);
    sb.git(sb.path(), &["clone", "-q", &url, "check"]);
    let check = sb.path().join("check");
    let mode = pins_at(&check, "dev")["lead-router"]["mode"].clone();
    if mode != "disabled" {
        problems.push(format!(
            "the retry exited 0 ({:?}) but the remote still has lead-router {mode}: nothing was pushed",
            stderr(&out).trim()
        ));
    }
    let events = log_at(&check, "dev")
        .into_iter()
        .filter(|e| e["reason"] == "incident")
        .count();
    if events != 1 {
        problems.push(format!(
            "{events} events for the mode change on the remote, want 1"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A runner killed between its local commit and its push: its next
/// `--push` re-applies the lost operation on the remote's tip (fresh op
/// numbers, every other runner's work kept), never asking for a rebase.
#[test]
fn a_runner_killed_before_its_push_re_applies_its_commit_next_time() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    let sb = &s.sandbox;
    let remote = sb.bare_clone(&s.root, "remote.git");
    let url = format!("file://{}", remote.display());
    sb.git(sb.path(), &["clone", "-q", &url, "a"]);
    sb.git(sb.path(), &["clone", "-q", &url, "b"]);
    let (a, b) = (sb.path().join("a"), sb.path().join("b"));

    // A promotes to staging and dies before pushing.
    let out = sb.agentctl_env(
        &a,
        &["promote", "staging", "--push", "--reason", "lost"],
        &[("AGENTCTL_FAULT", "push")],
    );
    assert_ne!(out.status.code(), Some(0), "{}", describe(&out));
    let stranded = head(sb, &a);
    assert_ne!(stranded, sb.git(&remote, &["rev-parse", "main"]));

    // B changes dev meanwhile.
    let out = sb.agentctl(
        &b,
        &[
            "mode",
            "dev",
            "lead-router",
            "disabled",
            "--reason",
            "incident",
            "--push",
        ],
    );
    assert_code(&out, 0);

    // A's next --push: both A's lost promotion and its new change land.
    let out = sb.agentctl(
        &a,
        &[
            "mode",
            "dev",
            "invoice-matcher",
            "review-only",
            "--reason",
            "watch",
            "--push",
        ],
    );
    assert_code(&out, 0);
    assert!(
        !stderr(&out).contains("pull --rebase"),
        "{}",
        describe(&out)
    );
    sb.git(&b, &["pull", "-q", "--ff-only"]);
    let pins = pins_at(&b, "staging");
    assert_eq!(pins.len(), 3, "the lost promotion was re-applied: {pins:?}");
    let dev = pins_at(&b, "dev");
    assert_eq!(dev["lead-router"]["mode"], "disabled");
    assert_eq!(dev["invoice-matcher"]["mode"], "review-only");
    for env in ["dev", "staging"] {
        let ops: Vec<u64> = log_at(&b, env)
            .iter()
            .map(|e| e["op"].as_u64().expect("op"))
            .collect();
        let mut distinct = ops.clone();
        distinct.dedup();
        assert!(ops.windows(2).all(|w| w[0] <= w[1]), "{env}: {ops:?}");
        let mut unique = distinct.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            distinct.len(),
            "{env}: duplicate op numbers {ops:?}"
        );
    }
    let out = sb.agentctl(&b, &["verify"]);
    assert_code(&out, 0);
    fsck(sb, &b);
    assert_eq!(porcelain(sb, &a), "");
}

/// When the remote changed the same agent meanwhile, the lost operation is
/// not applied blindly: exit 1, naming what changed; nothing is pushed.
#[test]
fn a_lost_operation_on_an_agent_the_remote_changed_is_refused() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    let sb = &s.sandbox;
    let remote = sb.bare_clone(&s.root, "remote.git");
    let url = format!("file://{}", remote.display());
    sb.git(sb.path(), &["clone", "-q", &url, "a"]);
    sb.git(sb.path(), &["clone", "-q", &url, "b"]);
    let (a, b) = (sb.path().join("a"), sb.path().join("b"));
    let out = sb.agentctl_env(
        &a,
        &[
            "mode",
            "dev",
            "lead-router",
            "disabled",
            "--reason",
            "x",
            "--push",
        ],
        &[("AGENTCTL_FAULT", "push")],
    );
    assert_ne!(out.status.code(), Some(0));
    assert_code(
        &sb.agentctl(
            &b,
            &[
                "mode",
                "dev",
                "lead-router",
                "review-only",
                "--reason",
                "y",
                "--push",
            ],
        ),
        0,
    );
    let remote_before = sb.git(&remote, &["rev-parse", "main"]);
    let out = sb.agentctl(
        &a,
        &[
            "mode",
            "dev",
            "invoice-matcher",
            "disabled",
            "--reason",
            "z",
            "--push",
        ],
    );
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("cannot re-apply"),
        "{}",
        describe(&out)
    );
    assert!(stderr(&out).contains("lead-router"), "{}", describe(&out));
    assert_eq!(sb.git(&remote, &["rev-parse", "main"]), remote_before);
}

/// A person merging two branches that both appended to a log gets both
/// sides' events and no duplicate op numbers (agentctl's merge driver).
#[test]
fn a_persons_merge_of_two_logs_keeps_every_event_with_unique_ops() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    s.git(&["switch", "-q", "-c", "side"]);
    s.ok(&["mode", "dev", "lead-router", "disabled", "--reason", "side"]);
    s.git(&["switch", "-q", "main"]);
    s.ok(&[
        "mode",
        "dev",
        "invoice-matcher",
        "disabled",
        "--reason",
        "main",
    ]);
    let out = s.git_output(&["merge", "-q", "--no-edit", "side"]);
    let log: Vec<serde_json::Value> = s.log("dev");
    let reasons: Vec<&str> = log.iter().filter_map(|e| e["reason"].as_str()).collect();
    assert!(
        reasons.contains(&"side") && reasons.contains(&"main"),
        "{reasons:?}\n{}",
        describe(&out)
    );
    let mut ops: Vec<u64> = log.iter().map(|e| e["op"].as_u64().expect("op")).collect();
    let n = ops.len();
    ops.dedup();
    let mut unique = ops.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        ops.len(),
        "duplicate ops after merge: {log:?}"
    );
    assert!(n >= 5);
    assert!(!s.read("environments/dev.log").contains("<<<<<<<"));
}
