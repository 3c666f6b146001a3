//! Filesystem attacks: committed links, FIFOs, devices, oversized files and
//! uncommitted bytes. Each test is an attack a pull request (or an unlucky
//! work tree) could mount; each must be refused with nothing written.
#![allow(clippy::print_stderr, clippy::print_stdout)] // a skip says why; the kill campaign prints its seed

mod common;

use common::*;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Run agentctl with a liveness bound: a read of /dev/zero or a FIFO must
/// not hang. (Not a speed assertion: the bound is far above any honest run.)
fn bounded(s: &Scratch, args: &[&str]) -> std::process::Output {
    let started = Instant::now();
    let out = s.run(args);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "agentctl {args:?} took {:?}",
        started.elapsed()
    );
    out
}

fn mkfifo(path: &Path) -> bool {
    Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn no_commit_release_does_not_write_through_a_committed_bundle_link() {
    let s = Scratch::new();
    let victim = s.sandbox.path().join("victim-ssh");
    std::fs::create_dir_all(&victim).expect("mkdir");
    std::fs::write(victim.join("authorized_keys"), "ssh-ed25519 AAAA good\n").expect("write");
    std::fs::create_dir_all(s.root.join("releases/support-triage/1.4.0")).expect("mkdir");
    symlink(&victim, s.root.join("releases/support-triage/1.4.0/bundle")).expect("symlink");
    s.commit_all("innocent-looking release dir");
    for args in [
        &["release", "support-triage", "--no-commit"][..],
        &["promote", "dev", "--no-commit"][..],
        &["release", "support-triage"][..],
    ] {
        let before = s.snapshot();
        let out = s.run(args);
        assert_code(&out, 2);
        assert!(
            stderr(&out).contains("symbolic link"),
            "{args:?}: {}",
            describe(&out)
        );
        assert_eq!(files_in(&victim), ["authorized_keys"], "{args:?}");
        assert_eq!(
            std::fs::read_to_string(victim.join("authorized_keys")).expect("read"),
            "ssh-ed25519 AAAA good\n"
        );
        assert_eq!(s.snapshot(), before, "{args:?} wrote something");
    }
}

#[test]
fn a_linked_environments_directory_is_never_written_into() {
    let s = Scratch::new();
    let target = s.sandbox.path().join("elsewhere");
    std::fs::create_dir_all(&target).expect("mkdir");
    std::fs::remove_dir_all(s.root.join("environments")).expect("rm");
    symlink(&target, s.root.join("environments")).expect("symlink");
    s.commit_all("environments as a link");
    let out = s.run(&["promote", "dev", "--no-commit"]);
    assert_code(&out, 2);
    assert!(stderr(&out).contains("symbolic link"), "{}", describe(&out));
    assert!(files_in(&target).is_empty(), "{:?}", files_in(&target));
}

#[test]
fn links_to_devices_and_secrets_are_refused_at_once() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    let rel = "releases/support-triage/1.4.0";
    std::fs::create_dir_all(s.root.join(rel).join("signatures")).expect("mkdir");
    symlink(
        "/etc/shadow",
        s.root.join(rel).join("signatures/eve@example.com.sig"),
    )
    .expect("symlink");
    let out = bounded(&s, &["verify", "support-triage@1.4.0"]);
    assert_code(&out, 1);
    assert!(
        all_output(&out).contains("symbolic link"),
        "{}",
        describe(&out)
    );
    std::fs::remove_file(s.root.join(rel).join("signatures/eve@example.com.sig")).expect("rm");
    symlink(
        "/dev/zero",
        s.root.join(rel).join("signatures/eve@example.com.sig"),
    )
    .expect("symlink");
    let out = bounded(&s, &["verify", "support-triage@1.4.0"]);
    assert_code(&out, 1);
    std::fs::remove_file(s.root.join(rel).join("signatures/eve@example.com.sig")).expect("rm");

    for (file, cmd) in [
        (
            format!("{rel}/release.yaml"),
            vec!["verify", "support-triage@1.4.0"],
        ),
        ("environments/dev.yaml".to_string(), vec!["status"]),
        ("environments/dev.log".to_string(), vec!["history", "dev"]),
        (
            ".agentctl/allowed_signers".to_string(),
            vec!["verify", "support-triage@1.4.0"],
        ),
        ("agentctl.toml".to_string(), vec!["status"]),
    ] {
        let path = s.root.join(&file);
        let saved = std::fs::read(&path).expect("read");
        std::fs::remove_file(&path).expect("rm");
        symlink("/dev/zero", &path).expect("symlink");
        let out = bounded(&s, &cmd);
        assert_ne!(out.status.code(), Some(0), "{file}: {}", describe(&out));
        assert!(
            all_output(&out).contains("symbolic link") || all_output(&out).contains("link"),
            "{file}: {}",
            describe(&out)
        );
        std::fs::remove_file(&path).expect("rm");
        std::fs::write(&path, saved).expect("restore");
    }
}

#[test]
fn eval_results_from_a_fifo_or_a_device_answer_at_once() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    let fifo = s.sandbox.path().join("results.fifo");
    if !mkfifo(&fifo) {
        eprintln!("skipped the FIFO case: mkfifo is not available");
    } else {
        let out = bounded(
            &s,
            &[
                "evals",
                "record",
                "support-triage@1.4.0",
                fifo.to_str().expect("utf-8"),
                "--suite",
                "triage-accuracy",
            ],
        );
        assert_code(&out, 2);
        assert!(stderr(&out).contains("FIFO"), "{}", describe(&out));
    }
    let out = bounded(
        &s,
        &[
            "evals",
            "record",
            "support-triage@1.4.0",
            "/dev/zero",
            "--suite",
            "triage-accuracy",
        ],
    );
    assert_code(&out, 2);
    assert!(stderr(&out).contains("device"), "{}", describe(&out));
}

#[test]
fn render_and_docs_never_read_outside_the_bundle() {
    let s = Scratch::new();
    // An include reached through a directory link inside the bundle.
    let bundle = s.root.join("agents/support-triage");
    symlink("/etc", bundle.join("prompts/shared")).expect("symlink");
    let system = bundle.join("prompts/system.md.j2");
    let text = std::fs::read_to_string(&system).expect("read");
    std::fs::write(
        &system,
        format!("{text}\n{{% include \"prompts/shared/passwd\" %}}\n"),
    )
    .expect("write");
    let out = s.run(&["render", "support-triage", "--env", "dev", "--source"]);
    assert_ne!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(!stdout(&out).contains("root:"), "{}", describe(&out));
    assert!(all_output(&out).contains("symlink"), "{}", describe(&out));
    // A named file reached through the link is refused by validate too.
    let out = s.run(&["validate", "agents/support-triage"]);
    assert_code(&out, 1);

    for args in [
        &["render", "../../etc", "--env", "dev", "--source"][..],
        &["docs", "../../etc"][..],
    ] {
        let out = s.run(args);
        assert_code(&out, 2);
        assert!(
            stderr(&out).contains("not a valid agent name"),
            "{args:?}: {}",
            describe(&out)
        );
    }
}

#[test]
fn a_linked_bundle_directory_is_an_error_everywhere() {
    let s = Scratch::new();
    let outside = s.sandbox.path().join("outside-bundle");
    copy_examples(&s.sandbox.path().join("copies"));
    std::fs::rename(s.sandbox.path().join("copies/lead-router"), &outside).expect("mv");
    let content = std::fs::read_to_string(outside.join("agent.yaml")).expect("read");
    std::fs::write(
        outside.join("agent.yaml"),
        content.replace("name: lead-router", "name: linked-agent"),
    )
    .expect("write");
    symlink(&outside, s.root.join("agents/linked-agent")).expect("symlink");
    s.commit_all("a linked bundle");
    let out = s.run(&["validate"]);
    assert_code(&out, 1);
    assert!(
        stdout(&out).contains("bundle-is-link"),
        "{}",
        describe(&out)
    );
    let before = s.snapshot();
    let out = s.run(&["release", "linked-agent"]);
    assert_code(&out, 1);
    assert_eq!(s.snapshot(), before);
    let out = s.run(&["promote", "dev"]);
    assert_code(&out, 1);
    assert!(
        all_output(&out).contains("bundle-is-link"),
        "{}",
        describe(&out)
    );
    assert_eq!(s.snapshot(), before);
}

#[test]
fn an_oversized_unnamed_file_fails_validate_as_release_would() {
    let s = Scratch::new();
    let big = s.root.join("agents/support-triage/data.bin");
    let f = std::fs::File::create(&big).expect("create");
    // Sparse: 6 GiB on paper, no disk used.
    f.set_len(6 << 30).expect("truncate");
    drop(f);
    let out = bounded(&s, &["validate", "agents/support-triage"]);
    assert_code(&out, 1);
    assert!(
        stdout(&out).contains("file-too-large"),
        "{}",
        describe(&out)
    );
    let out = bounded(&s, &["release", "support-triage"]);
    assert_code(&out, 1);
}

#[test]
fn a_release_freezes_the_commit_not_the_work_tree() {
    let s = Scratch::new();
    // An ignored file with a key inside the bundle.
    s.write(".gitignore", "local.env\n");
    s.commit_all("ignore local env files");
    s.write(
        "agents/support-triage/local.env",
        "OPENAI_API_KEY=sk-live\n",
    );
    let before = s.snapshot();
    let out = s.run(&["release", "support-triage"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("local.env"), "{}", describe(&out));
    assert!(stderr(&out).contains("commit"), "{}", describe(&out));
    assert_eq!(s.snapshot(), before);
    let out = s.run(&["promote", "dev", "support-triage"]);
    assert_code(&out, 1);
    assert!(all_output(&out).contains("local.env"), "{}", describe(&out));
    std::fs::remove_file(s.root.join("agents/support-triage/local.env")).expect("rm");

    // An uncommitted edit.
    let prompt = "agents/support-triage/prompts/system.md.j2";
    let text = s.read(prompt);
    s.write(prompt, &format!("{text}\nUncommitted line.\n"));
    let out = s.run(&["release", "support-triage"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains("system.md.j2"), "{}", describe(&out));
    s.commit_all("the edit, committed");

    // Now it releases, and source_commit holds exactly the released bytes.
    s.ok(&["release", "support-triage"]);
    let meta = s.read("releases/support-triage/1.4.0/release.yaml");
    let source = meta
        .lines()
        .find_map(|l| l.strip_prefix("source_commit: "))
        .expect("source_commit")
        .trim_matches('"')
        .to_string();
    let released = s.git(&[
        "ls-tree",
        "-r",
        "HEAD",
        "releases/support-triage/1.4.0/bundle/",
    ]);
    let committed = s.git(&["ls-tree", "-r", &source, "agents/support-triage/"]);
    let blobs = |t: &str| -> Vec<String> {
        let mut v: Vec<String> = t
            .lines()
            .map(|l| {
                let (meta, path) = l.split_once('\t').expect("ls-tree line");
                let path = path
                    .trim_start_matches("releases/support-triage/1.4.0/bundle/")
                    .trim_start_matches("agents/support-triage/");
                format!("{} {path}", meta.split_whitespace().nth(2).expect("oid"))
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(blobs(&released), blobs(&committed));
}

#[test]
fn the_stop_button_works_with_a_corrupt_log_line() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    let log = s.read("environments/dev.log");
    s.write(
        "environments/dev.log",
        &format!("{log}{{\"op\": 2, \"truncat"),
    );
    s.commit_all("a corrupt log line");
    let out = s.run(&[
        "mode",
        "dev",
        "support-triage",
        "disabled",
        "--reason",
        "incident 42",
    ]);
    assert_code(&out, 0);
    assert!(stderr(&out).contains("do not parse"), "{}", describe(&out));
    assert_eq!(s.pins("dev")["support-triage"]["mode"], "disabled");
    // The corrupt line is kept, the new event appended after it.
    let text = s.read("environments/dev.log");
    assert!(text.contains("\"truncat\n"), "{text}");
    assert!(text.trim_end().ends_with('}'), "{text}");
}

#[test]
fn op_numbers_cannot_wrap() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    let log = s.read("environments/dev.log");
    let last = log.lines().last().expect("a line").to_string();
    let forged = last.replacen("\"op\":1", "\"op\":18446744073709551615", 1);
    assert_ne!(forged, last);
    s.write("environments/dev.log", &format!("{log}{forged}\n"));
    s.commit_all("forged op number");
    // Promotions read the log strictly: a corrupt line stops them.
    let out = s.run(&["history", "dev"]);
    assert_code(&out, 2);
    assert!(stderr(&out).contains("out of range"), "{}", describe(&out));
    // The stop button still works, and numbers its op after the real ones.
    let out = s.run(&["mode", "dev", "lead-router", "disabled", "--reason", "stop"]);
    assert_code(&out, 0);
    let text = s.read("environments/dev.log");
    let new = text.lines().last().expect("line");
    assert!(new.contains("\"op\":2,"), "{new}");
}

#[test]
fn dubious_ownership_is_explained() {
    let s = Scratch::new();
    // git refuses a repository owned by someone else unless it is a
    // safe.directory; as root, simulate it by handing the work tree to
    // another uid.
    if unsafe_root_chown_unavailable(&s.root) {
        eprintln!("skipped: cannot change the owner of the repository here (not root)");
        return;
    }
    let out = s.run(&["status"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("safe.directory"),
        "{}",
        describe(&out)
    );
    assert!(
        stderr(&out).contains("owned by another user"),
        "{}",
        describe(&out)
    );
}

/// chown the repository to uid 12345 (only root can); true when that failed.
fn unsafe_root_chown_unavailable(root: &Path) -> bool {
    !Command::new("chown")
        .args(["-R", "12345:12345"])
        .arg(root)
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_read_only_checkout_with_a_leftover_journal_still_answers() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    // Kill a mode change right after its commit point: a journal is left.
    let out = s.run_env(
        &["mode", "dev", "support-triage", "disabled", "--reason", "r"],
        &[("AGENTCTL_FAULT", "ref")],
    );
    assert_ne!(out.status.code(), Some(0));
    let git_dir = s.root.join(".git");
    assert!(git_dir.join("agentctl-journal.json").exists());
    // A read-only checkout: nothing under it can be written.
    let status = |mode: &str| {
        Command::new("chmod")
            .args(["-R", mode])
            .arg(&s.root)
            .status()
            .expect("chmod")
    };
    status("a-w");
    let writable_anyway = std::fs::write(s.root.join(".probe"), "x").is_ok();
    if writable_anyway {
        // root ignores permission bits; a read-only bind mount would be
        // needed, which this machine may not allow.
        let _ = std::fs::remove_file(s.root.join(".probe"));
        status("u+w");
        let ro_mount = Command::new("mount")
            .args(["--bind", "-o", "ro"])
            .arg(&s.root)
            .arg(&s.root)
            .status()
            .is_ok_and(|st| st.success());
        if !ro_mount {
            eprintln!("skipped: cannot make a read-only checkout here");
            return;
        }
        let result = std::panic::catch_unwind(|| read_only_commands_answer(&s));
        let _ = Command::new("umount").arg(&s.root).status();
        if let Err(e) = result {
            std::panic::resume_unwind(e);
        }
    } else {
        let result = std::panic::catch_unwind(|| read_only_commands_answer(&s));
        status("u+w");
        if let Err(e) = result {
            std::panic::resume_unwind(e);
        }
    }
    // Writable again: the next command finishes the change.
    s.ok(&["status"]);
    assert!(!git_dir.join("agentctl-journal.json").exists());
    assert_eq!(s.pins("dev")["support-triage"]["mode"], "disabled");
    assert_eq!(s.porcelain(), "");
}

fn read_only_commands_answer(s: &Scratch) {
    for args in [
        &["status"][..],
        &["verify", "dev"][..],
        &["history", "dev"][..],
        &["diff", "dev", "staging"][..],
    ] {
        let out = s.run(args);
        assert!(
            matches!(out.status.code(), Some(0) | Some(1)),
            "{args:?}: {}",
            describe(&out)
        );
        assert!(
            stderr(&out).contains("read-only"),
            "{args:?}: {}",
            describe(&out)
        );
    }
}

#[test]
fn check_base_refuses_committed_links_to_devices_at_once() {
    let s = Scratch::new();
    s.ok(&["promote", "dev"]);
    let base = s.head();
    for file in [
        "releases/support-triage/1.4.0/release.yaml",
        "environments/dev.yaml",
        "environments/dev.log",
        ".agentctl/allowed_signers",
    ] {
        let path = s.root.join(file);
        let saved = std::fs::read(&path).expect("read");
        std::fs::remove_file(&path).expect("rm");
        symlink("/dev/zero", &path).expect("symlink");
        s.commit_all("a link to /dev/zero");
        let out = bounded(&s, &["check", "--base", &base]);
        assert_code(&out, 1);
        std::fs::remove_file(&path).expect("rm");
        std::fs::write(&path, saved).expect("restore");
        s.commit_all("restored");
    }
    let sig_dir = s.root.join("releases/support-triage/1.4.0/signatures");
    std::fs::create_dir_all(&sig_dir).expect("mkdir");
    symlink("/dev/zero", sig_dir.join("eve@example.com.sig")).expect("symlink");
    s.commit_all("a signature linked to /dev/zero");
    let out = bounded(&s, &["check", "--base", &base]);
    assert_code(&out, 1);
}

#[test]
fn a_full_disk_names_the_file_and_leaves_nothing_half_done() {
    let sb = Sandbox::new();
    let mnt = sb.path().join("small");
    std::fs::create_dir_all(&mnt).expect("mkdir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=8m", "tmpfs"])
        .arg(&mnt)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a small tmpfs here (needs root)");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(mnt.clone());
    let out = sb.agentctl(&mnt, &["init", "repo"]);
    assert_code(&out, 0);
    let root = mnt.join("repo");
    copy_examples(&root.join("agents"));
    sb.git(&root, &["add", "-A"]);
    sb.git(&root, &["commit", "-q", "-m", "agents"]);
    let before = Snapshot::take(&sb, &root);
    // Fill the disk to the last block.
    let filler = mnt.join("filler");
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=4096"])
        .arg(format!("of={}", filler.display()))
        .output();
    let out = sb.agentctl(&root, &["promote", "dev"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out)
            .to_lowercase()
            .contains("no space left on device"),
        "{}",
        describe(&out)
    );
    assert!(!stderr(&out).contains("no error"), "{}", describe(&out));
    std::fs::remove_file(&filler).expect("rm filler");
    // Nothing was committed; the next command works and finds it all as before.
    assert_code(&sb.agentctl(&root, &["status"]), 0);
    assert_eq!(Snapshot::take(&sb, &root).head, before.head);
    assert_eq!(porcelain(&sb, &root), "");
    fsck(&sb, &root);
    assert_code(&sb.agentctl(&root, &["promote", "dev"]), 0);
}
