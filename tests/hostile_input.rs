//! Hostile input never crashes agentctl and never hangs it.
//!
//! Generated here rather than committed because of their size. Each case
//! must exit 1 (findings) with the expected rule id, never 101 (panic); a
//! generous timeout catches hangs. Timings are measured by the benchmark
//! script, not here.

use std::fs::File;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const HANG: Duration = Duration::from_secs(20);

fn bundle(dir: &Path, name: &str, manifest: &[u8]) -> std::path::PathBuf {
    let b = dir.join(name);
    std::fs::create_dir_all(b.join("prompts")).expect("mkdir");
    std::fs::write(b.join("agent.yaml"), manifest).expect("write");
    b
}

fn validate(path: &Path) -> (i32, String) {
    // Output goes to files, not pipes: a large report must not fill a pipe
    // nobody reads yet and pass for a hang.
    let out_dir = tempfile::tempdir().expect("tempdir");
    let (stdout, stderr) = (out_dir.path().join("stdout"), out_dir.path().join("stderr"));
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_agentctl"))
        .args(["validate", "--format", "json"])
        .arg(path)
        .stdout(File::create(&stdout).expect("stdout file"))
        .stderr(File::create(&stderr).expect("stderr file"))
        .spawn()
        .expect("spawn agentctl");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            panic!("agentctl hung on {}", path.display());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let read =
        |p: &Path| String::from_utf8_lossy(&std::fs::read(p).expect("read output")).into_owned();
    let code = status.code().unwrap_or(-1);
    assert_ne!(code, 101, "panic on {}: {}", path.display(), read(&stderr));
    (code, read(&stdout))
}

fn minimal(name: &str) -> String {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid/minimal-agent/agent.yaml"),
    )
    .expect("minimal fixture");
    text.replace("name: minimal-agent", &format!("name: {name}"))
}

#[test]
fn deeply_nested_flow_sequences() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // Over the manifest size limit: refused before parsing.
    let big = bundle(tmp.path(), "nested-big", "[".repeat(1024 * 1024).as_bytes());
    let (code, out) = validate(&big);
    assert_eq!(code, 1);
    assert!(out.contains("\"file-too-large\""), "{out}");
    // Under the size limit: the parser's depth limit answers.
    let small = bundle(
        tmp.path(),
        "nested-small",
        "[".repeat(200 * 1024).as_bytes(),
    );
    let (code, out) = validate(&small);
    assert_eq!(code, 1);
    assert!(out.contains("\"yaml-limit\""), "{out}");
}

#[test]
fn deeply_nested_block_mappings() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut text = String::new();
    for depth in 0..2000 {
        text.push_str(&" ".repeat(depth));
        text.push_str("a:\n");
    }
    let b = bundle(tmp.path(), "nested-block", text.as_bytes());
    let (code, out) = validate(&b);
    assert_eq!(code, 1);
    assert!(
        out.contains("\"yaml-limit\"") || out.contains("\"file-too-large\""),
        "{out}"
    );
}

#[test]
fn billion_laughs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut text = String::from(
        "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..10 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p}]\n"
        ));
    }
    let b = bundle(tmp.path(), "laughs", text.as_bytes());
    let (code, out) = validate(&b);
    assert_eq!(code, 1);
    assert!(out.contains("\"yaml-limit\""), "{out}");
}

#[test]
fn fifty_megabyte_prompt() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let b = bundle(tmp.path(), "big-prompt", minimal("big-prompt").as_bytes());
    let manifest = std::fs::read_to_string(b.join("agent.yaml")).expect("read");
    let manifest = format!("{manifest}prompts:\n  - name: system\n    file: prompts/system.md\n");
    std::fs::write(b.join("agent.yaml"), manifest).expect("write");
    let f = std::fs::File::create(b.join("prompts/system.md")).expect("create");
    f.set_len(50 * 1024 * 1024).expect("50 MB");
    let (code, out) = validate(&b);
    assert_eq!(code, 1);
    assert!(out.contains("\"file-too-large\""), "{out}");
    assert!(out.contains("system.md"), "{out}");
}

#[test]
fn random_bytes_and_truncations_never_panic() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let full = minimal("cut");
    // Every truncation of a valid manifest, at a stride, plus byte garbage.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for (i, cut) in (0..full.len()).step_by(37).enumerate() {
        let b = bundle(tmp.path(), &format!("cut-{i}"), &full.as_bytes()[..cut]);
        let _ = validate(&b);
    }
    for i in 0..20 {
        let bytes: Vec<u8> = (0..512)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect();
        let b = bundle(tmp.path(), &format!("garbage-{i}"), &bytes);
        let (code, _) = validate(&b);
        assert_eq!(code, 1);
    }
}
