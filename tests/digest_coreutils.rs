//! The digest equals the coreutils pipeline of DESIGN.md, byte for byte.

use agentctl::digest::{DigestError, digest_dir};
use proptest::prelude::*;
use std::path::Path;
use std::process::Command;

const PIPELINE: &str =
    "find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -r -d '\\n' sha256sum | sha256sum";

fn coreutils_digest(dir: &Path) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(PIPELINE)
        .current_dir(dir)
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "pipeline failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("hex output");
    format!("sha256:{}", text.split_whitespace().next().expect("a hash"))
}

fn write(dir: &Path, rel: &str, bytes: &[u8]) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

#[test]
fn nested_odd_names_and_binary_files_match_coreutils() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    write(d, "agent.yaml", b"name: x\n");
    write(d, "prompts/system.md.j2", b"You are helpful.\n");
    write(d, "prompts/deep/er/still/x.txt", b"deep");
    write(d, "a-c", b"sorts before a/b by bytes");
    write(d, "a/b", b"");
    write(d, "with space.md", b"spaces");
    write(d, "dir/-dash-inside", b"dash");
    write(d, "caf\u{e9} \u{1F916}.md", "unicode name".as_bytes());
    write(d, "q'uote\"s%&#.txt", b"quotes");
    write(d, ".hidden", b"dotfile");
    write(d, "Upper.txt", b"uppercase sorts before lowercase");
    let binary: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    write(d, "bin/blob.bin", &binary);
    write(d, "bin/nul", b"\0\0\0");
    let ours = digest_dir(d).expect("digest");
    assert_eq!(ours.digest, coreutils_digest(d));
    assert_eq!(ours.files.len(), 13);
}

#[test]
fn refuses_symlinks_special_files_and_bad_names() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    write(d, "ok.txt", b"ok");
    std::os::unix::fs::symlink("ok.txt", d.join("link")).expect("symlink");
    assert!(matches!(digest_dir(d), Err(DigestError::Symlink { .. })));
    std::fs::remove_file(d.join("link")).expect("rm");

    let fifo = d.join("pipe");
    let status = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(status.success());
    assert!(matches!(digest_dir(d), Err(DigestError::Special { .. })));
    std::fs::remove_file(&fifo).expect("rm");

    write(d, "new\nline", b"x");
    let err = digest_dir(d).expect_err("newline refused");
    assert!(err.to_string().contains("line break"), "{err}");
    std::fs::remove_file(d.join("new\nline")).expect("rm");

    write(d, "back\\slash", b"x");
    let err = digest_dir(d).expect_err("backslash refused");
    assert!(err.to_string().contains("backslash"), "{err}");
    std::fs::remove_file(d.join("back\\slash")).expect("rm");

    write(d, "-dash", b"x");
    let err = digest_dir(d).expect_err("leading dash refused");
    assert!(err.to_string().contains("dash"), "{err}");
}

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_][a-zA-Z0-9 ._-]{0,11}".prop_filter("not . or ..", |s| s != "." && s != "..")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random trees of random bytes digest exactly as coreutils does.
    #[test]
    fn random_trees_match_coreutils(
        files in proptest::collection::vec(
            (proptest::collection::vec(name(), 1..4), proptest::collection::vec(any::<u8>(), 0..2048)),
            0..12,
        )
    ) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path();
        for (parts, bytes) in &files {
            let rel = parts.join("/");
            let path = d.join(&rel);
            // Skip paths that collide with an existing file or directory.
            if path.exists() || path.ancestors().skip(1).any(|a| a.is_file()) {
                continue;
            }
            write(d, &rel, bytes);
        }
        let ours = digest_dir(d).expect("digest");
        prop_assert_eq!(ours.digest, coreutils_digest(d));
    }
}
