//! Concurrency at scale: eight processes promoting and rolling back
//! different agents in one environment through one bare remote with
//! `--push`, for a bounded number of rounds. Every successful operation
//! appears exactly once in the remote's log, no update is lost, and every
//! failure exits 3.

mod common;

use common::*;
use std::path::{Path, PathBuf};

const PROCESSES: usize = 8;
const ROUNDS: usize = 3;

fn agent(i: usize) -> String {
    format!("triage-{i}")
}

/// A repository with eight agents: dev runs 1.1.0 of each, staging 1.0.0.
fn seed(sb: &Sandbox) -> PathBuf {
    let dir = sb.path().join("seed");
    assert_code(&sb.agentctl(sb.path(), &["init", "seed"]), 0);
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/agents/support-triage");
    for i in 0..PROCESSES {
        let dest = dir.join("agents").join(agent(i));
        for (rel, full) in agentctl::digest::list_files(&example).expect("list example") {
            let target = dest.join(&rel);
            std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
            let bytes = std::fs::read(&full).expect("read example");
            let bytes = if rel == "agent.yaml" {
                String::from_utf8(bytes)
                    .expect("utf-8")
                    .replace("name: support-triage", &format!("name: {}", agent(i)))
                    .replace("version: 1.4.0", "version: 1.0.0")
                    .into_bytes()
            } else {
                bytes
            };
            std::fs::write(&target, bytes).expect("write");
        }
    }
    sb.git(&dir, &["add", "-A"]);
    sb.git(&dir, &["commit", "-q", "-m", "eight agents"]);
    assert_code(&sb.agentctl(&dir, &["promote", "dev"]), 0);
    assert_code(&sb.agentctl(&dir, &["promote", "staging"]), 0);
    for i in 0..PROCESSES {
        let manifest = dir.join("agents").join(agent(i)).join("agent.yaml");
        let text = std::fs::read_to_string(&manifest).expect("read");
        std::fs::write(&manifest, text.replace("version: 1.0.0", "version: 1.1.0")).expect("write");
    }
    sb.git(&dir, &["commit", "-q", "-am", "1.1.0 everywhere"]);
    assert_code(&sb.agentctl(&dir, &["promote", "dev"]), 0);
    dir
}

#[test]
fn eight_pushers_promote_and_roll_back_without_losing_an_update() {
    let sb = Sandbox::new();
    let seed = seed(&sb);
    let remote = sb.bare_clone(&seed, "remote.git");
    let clones: Vec<PathBuf> = (0..PROCESSES)
        .map(|i| {
            let c = sb.path().join(format!("runner-{i}"));
            sb.git(
                sb.path(),
                &[
                    "clone",
                    "-q",
                    remote.to_str().expect("utf-8"),
                    c.to_str().expect("utf-8"),
                ],
            );
            c
        })
        .collect();

    // Each runner alternates: promote its agent to staging (1.0.0 → 1.1.0),
    // then roll it back (→ 1.0.0), ROUNDS times, all runners at once.
    let results: Vec<Vec<(usize, i32)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = clones
            .iter()
            .enumerate()
            .map(|(i, clone)| {
                let sb = &sb;
                scope.spawn(move || {
                    let name = agent(i);
                    let mut codes = Vec::new();
                    for round in 0..ROUNDS * 2 {
                        let reason = format!("runner {i} round {round}");
                        let args: Vec<&str> = if round % 2 == 0 {
                            vec!["promote", "staging", &name, "--push", "--reason", &reason]
                        } else {
                            vec!["rollback", "staging", &name, "--push", "--reason", &reason]
                        };
                        let out = sb.agentctl(clone, &args);
                        let code = out.status.code().unwrap_or(-1);
                        assert!(
                            code == 0 || code == 3,
                            "runner {i} round {round}: {}",
                            describe(&out)
                        );
                        codes.push((round, code));
                        if code == 3 {
                            // The remote kept moving; a real runner would retry the job.
                            break;
                        }
                    }
                    codes
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("runner thread"))
            .collect()
    });

    // What landed, read from a fresh clone of the remote.
    let check = sb.path().join("check");
    sb.git(
        sb.path(),
        &[
            "clone",
            "-q",
            remote.to_str().expect("utf-8"),
            check.to_str().expect("utf-8"),
        ],
    );
    let log = log_at(&check, "staging");
    let pins = pins_at(&check, "staging");
    let mut total_ok = 0;
    for (i, codes) in results.iter().enumerate() {
        let name = agent(i);
        let ok: Vec<usize> = codes
            .iter()
            .filter(|(_, c)| *c == 0)
            .map(|(r, _)| *r)
            .collect();
        total_ok += ok.len();
        let reasons: Vec<String> = log
            .iter()
            .filter(|e| e["agent"] == name.as_str() && e["reason"].is_string())
            .map(|e| e["reason"].as_str().unwrap_or_default().to_string())
            .collect();
        // Exactly once each, in order, and nothing else for this agent.
        let expected: Vec<String> = ok.iter().map(|r| format!("runner {i} round {r}")).collect();
        assert_eq!(
            reasons, expected,
            "{name}: every success logged exactly once"
        );
        // No update lost: the pin is what the last success set.
        let want = match ok.last() {
            Some(r) if r % 2 == 0 => "1.1.0",
            _ => "1.0.0",
        };
        assert_eq!(pins[&name]["version"], want, "{name} pin");
    }
    assert!(total_ok >= PROCESSES, "most operations land ({total_ok})");
    // Operation numbers are unique per operation and every line parses.
    let mut ops: Vec<u64> = log
        .iter()
        .filter(|e| e["reason"].is_string())
        .filter_map(|e| e["op"].as_u64())
        .collect();
    let n = ops.len();
    ops.dedup();
    assert_eq!(ops.len(), n, "one op number per operation");
    fsck(&sb, &check);
    assert_code(&sb.agentctl(&check, &["verify", "staging"]), 0);
}
