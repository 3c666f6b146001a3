//! Replays the fuzz corpus (`fuzz/corpus/<target>/`) through the same entry
//! points the fuzzers use, so every interesting input the fuzzers found (and
//! every crash they found, once fixed) stays a regression test on stable
//! Rust, in CI, without cargo-fuzz.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("corpus entry").path();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // A panic here fails the test and names the input.
        let result = std::panic::catch_unwind(|| run(&bytes));
        assert!(result.is_ok(), "{} panicked", path.display());
        n += 1;
    }
    n
}

#[test]
fn manifest_corpus() {
    assert!(replay("manifest", agentctl::fuzzing::manifest) >= 10);
}

#[test]
fn config_corpus() {
    assert!(replay("config", agentctl::fuzzing::config) >= 3);
}

#[test]
fn allowed_signers_corpus() {
    assert!(replay("allowed_signers", agentctl::fuzzing::allowed_signers) >= 2);
}

#[test]
fn sshsig_corpus() {
    assert!(replay("sshsig", agentctl::fuzzing::sshsig) >= 4);
}

#[test]
fn env_log_corpus() {
    assert!(replay("env_log", agentctl::fuzzing::env_log) >= 2);
}
