//! agentctl and git: refusing unsafe repository states, working in shallow
//! clones, linked worktrees and subdirectories, and surviving a kill at any
//! step of a commit.
//!
//! Real binary, real git repositories in temp dirs, fixed clock.

mod common;

use common::*;
use std::os::unix::process::ExitStatusExt;

/// Run `promote dev`, expect exit 2 with `needle` in stderr, and nothing written.
#[track_caller]
fn assert_refused(s: &Scratch, needle: &str) {
    let before = s.snapshot();
    let out = s.run(&["promote", "dev"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains(needle),
        "expected {needle:?} in stderr:\n{}",
        describe(&out)
    );
    assert_eq!(s.snapshot(), before, "a refused command writes nothing");
    assert!(!s.root.join("releases").exists(), "no releases/ written");
}

#[test]
fn refuses_uncommitted_changes_under_environments_and_releases() {
    let s = Scratch::new();
    let prod = s.read("environments/prod.yaml");
    s.write(
        "environments/prod.yaml",
        &format!("{prod}# edited by hand\n"),
    );
    assert_refused(&s, "uncommitted changes under environments/ or releases/");
    let out = s.run(&["promote", "dev"]);
    assert!(
        stderr(&out).contains("environments/prod.yaml"),
        "{}",
        describe(&out)
    );

    // Other state-changing commands refuse too.
    let before = s.snapshot();
    let out = s.run(&["release", "support-triage"]);
    assert_code(&out, 2);
    assert_eq!(s.snapshot(), before);

    // An untracked file in a release directory the operation writes counts
    // as well (the releases it only reads are checked by the integrity gate).
    s.git(&["checkout", "--", "environments/prod.yaml"]);
    s.write("releases/support-triage/1.4.0/stray.txt", "left over\n");
    let before = s.snapshot();
    let out = s.run(&["promote", "dev"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("releases/support-triage/1.4.0/stray.txt"),
        "{}",
        describe(&out)
    );
    assert_eq!(s.snapshot(), before);

    // A dirty file elsewhere (agents/ is the user's) does not block.
    std::fs::remove_dir_all(s.root.join("releases")).expect("rm releases/");
    s.write("NOTES.md", "scratch notes\n");
    s.ok(&["promote", "dev"]);
    assert_eq!(s.porcelain(), "?? NOTES.md");
}

#[test]
fn refuses_a_detached_head() {
    let s = Scratch::new();
    s.git(&["checkout", "-q", "--detach"]);
    assert_refused(&s, "HEAD is detached");
}

#[test]
fn refuses_a_bare_repository() {
    let s = Scratch::new();
    let bare = s.sandbox.bare_clone(&s.root, "bare.git");
    let refs = s.sandbox.git(&bare, &["for-each-ref"]);
    let files = files_under(&bare);
    let out = s
        .sandbox
        .agentctl(s.sandbox.path(), &["-C", "bare.git", "promote", "dev"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("not an agentctl repository"),
        "{}",
        describe(&out)
    );
    assert_eq!(s.sandbox.git(&bare, &["for-each-ref"]), refs);
    assert_eq!(
        files_under(&bare),
        files,
        "nothing written into the bare repo"
    );

    // A repository git treats as bare even though agentctl.toml is on disk.
    s.git(&["config", "core.bare", "true"]);
    let refs = s.git(&["for-each-ref"]);
    let files = files_under(&s.root);
    let out = s.run(&["promote", "dev"]);
    assert_code(&out, 2);
    assert!(
        stderr(&out).contains("bare repository"),
        "{}",
        describe(&out)
    );
    assert_eq!(s.git(&["for-each-ref"]), refs);
    assert_eq!(files_under(&s.root), files);
    assert!(!s.root.join(".git/agentctl-journal.json").exists());
}

/// Make `main` and `other` change the same line of a file differently.
fn diverge(s: &Scratch) {
    let faq = "agents/support-triage/docs/faq.md";
    let text = s.read(faq);
    s.git(&["checkout", "-q", "-b", "other"]);
    s.write(faq, &format!("{text}\nOther answer.\n"));
    s.commit_all("other side");
    s.git(&["checkout", "-q", "main"]);
    s.write(faq, &format!("{text}\nMain answer.\n"));
    s.commit_all("main side");
}

#[test]
fn refuses_mid_merge() {
    let s = Scratch::new();
    diverge(&s);
    let out = s.git_output(&["merge", "other"]);
    assert!(!out.status.success(), "the merge conflicts");
    assert!(s.root.join(".git/MERGE_HEAD").exists());
    assert_refused(&s, "in the middle of an operation");
}

#[test]
fn refuses_mid_rebase() {
    let s = Scratch::new();
    diverge(&s);
    s.git(&["checkout", "-q", "other"]);
    let out = s.git_output(&["rebase", "main"]);
    assert!(!out.status.success(), "the rebase stops on the conflict");
    assert!(s.root.join(".git/rebase-merge").is_dir());
    assert_refused(&s, "in the middle of an operation");
}

#[test]
fn refuses_outside_an_agentctl_repository() {
    let sb = Sandbox::new();
    let plain = sb.path().join("plain");
    std::fs::create_dir_all(&plain).expect("mkdir");
    for args in [
        &["promote", "dev"][..],
        &["status"],
        &["rollback", "prod", "--reason", "x"],
        &["mode", "prod", "x", "disabled", "--reason", "x"],
    ] {
        let out = sb.agentctl(&plain, args);
        assert_code(&out, 2);
        assert!(
            stderr(&out).contains("not an agentctl repository"),
            "{args:?}: {}",
            describe(&out)
        );
    }
    assert!(files_under(&plain).is_empty(), "nothing written");

    // A git repository without agentctl.toml is not one either.
    sb.git(&plain, &["init", "-q"]);
    let out = sb.agentctl(&plain, &["promote", "dev"]);
    assert_code(&out, 2);
    assert!(files_under(&plain).is_empty());
    assert!(!plain.join(".git/agentctl.lock").exists());
}

#[test]
fn shallow_clone_can_promote_and_roll_back() {
    let s = Scratch::new();
    for env in ["dev", "staging", "prod"] {
        s.ok(&["promote", env]);
    }
    s.set_version("support-triage", "1.4.0", "1.5.0");
    s.commit_all("bump support-triage");
    s.ok(&["promote", "dev"]);
    s.ok(&["promote", "staging"]);

    let sb = &s.sandbox;
    let remote = sb.bare_clone(&s.root, "remote.git");
    let url = format!("file://{}", remote.display());
    sb.git(sb.path(), &["clone", "-q", "--depth", "1", &url, "ci"]);
    let ci = sb.path().join("ci");
    assert_eq!(
        sb.git(&ci, &["rev-parse", "--is-shallow-repository"]),
        "true"
    );
    assert_eq!(commit_count(sb, &ci), 1);

    let out = sb.agentctl(&ci, &["promote", "prod"]);
    assert_code(&out, 0);
    assert_eq!(commit_count(sb, &ci), 2);
    assert_eq!(
        sb.git(&ci, &["log", "-1", "--format=%s"]),
        "promote support-triage 1.5.0 → prod"
    );
    assert_eq!(pins_at(&ci, "prod")["support-triage"]["version"], "1.5.0");

    let out = sb.agentctl(
        &ci,
        &["rollback", "prod", "support-triage", "--reason", "r"],
    );
    assert_code(&out, 0);
    assert_eq!(commit_count(sb, &ci), 3);
    let prod = pins_at(&ci, "prod");
    assert_eq!(prod["support-triage"]["version"], "1.4.0");
    assert_eq!(
        prod["support-triage"]["digest"],
        s.pins("prod")["support-triage"]["digest"],
        "the 1.4.0 digest prod ran before"
    );
    assert_eq!(porcelain(sb, &ci), "");
    fsck(sb, &ci);

    // History reaches the commits the clone has, and no further.
    let out = sb.agentctl(&ci, &["history", "prod", "--format", "json"]);
    assert_code(&out, 0);
    let entries = json(&out)["entries"].as_array().expect("entries").clone();
    assert_eq!(entries.len(), 5);
    assert_eq!(entries[0]["action"], "rollback");
    assert_eq!(entries[0]["commit"], head(sb, &ci).as_str());
    assert_eq!(entries[1]["action"], "promote");
    assert!(entries[1]["commit"].is_string());
    assert!(
        entries[2..].iter().all(|e| e["commit"].is_null()),
        "cut off"
    );

    // And the clone pushes back.
    sb.git(&ci, &["push", "-q", "origin", "HEAD:main"]);
    fsck(sb, &sb.path().join("remote.git"));
}

#[test]
fn promotes_in_a_linked_worktree() {
    let s = Scratch::new();
    let main_head = s.head();
    s.git(&["worktree", "add", "-q", "-b", "feature", "../wt"]);
    let wt = s.sandbox.path().join("wt");
    let out = s.sandbox.agentctl(&wt, &["promote", "dev"]);
    assert_code(&out, 0);

    let sb = &s.sandbox;
    assert_eq!(sb.git(&wt, &["rev-parse", "HEAD~1"]), main_head);
    assert_eq!(
        sb.git(&wt, &["log", "-1", "--format=%s"]),
        "promote 3 agents → dev"
    );
    assert_eq!(
        sb.git(&wt, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "feature"
    );
    assert_eq!(s.head(), main_head, "main's checkout is untouched");
    assert_eq!(s.git(&["rev-parse", "main"]), main_head);
    assert_eq!(pins_at(&wt, "dev").len(), 3);
    assert_eq!(s.pins("dev").len(), 0);
    assert_eq!(porcelain(sb, &wt), "");
    assert_eq!(s.porcelain(), "");
    s.fsck();
    let out = sb.agentctl(&wt, &["promote", "staging"]);
    assert_code(&out, 0);
    assert_eq!(porcelain(sb, &wt), "");
}

#[test]
fn agentctl_root_in_a_subdirectory_of_the_git_repository() {
    let sb = Sandbox::new();
    let mono = sb.path().join("mono");
    std::fs::create_dir_all(&mono).expect("mkdir");
    sb.git(&mono, &["init", "-q"]);
    std::fs::write(mono.join("README.md"), "a monorepo\n").expect("write");
    sb.git(&mono, &["add", "-A"]);
    sb.git(&mono, &["commit", "-q", "-m", "initial"]);

    let out = sb.agentctl(&mono, &["init", "sub/dir"]);
    assert_code(&out, 0);
    assert_eq!(commit_count(&sb, &mono), 2);
    let files = sb.git(&mono, &["show", "--name-only", "--format=", "HEAD"]);
    assert!(
        files.lines().all(|f| f.starts_with("sub/dir/")),
        "init commit paths:\n{files}"
    );
    assert!(files.lines().any(|f| f == "sub/dir/agentctl.toml"));
    assert_eq!(porcelain(&sb, &mono), "");

    let root = mono.join("sub/dir");
    copy_examples(&root.join("agents"));
    sb.git(&mono, &["add", "-A"]);
    sb.git(&mono, &["commit", "-q", "-m", "agents"]);
    let out = sb.agentctl(&root, &["promote", "dev"]);
    assert_code(&out, 0);
    let files = sb.git(&mono, &["show", "--name-only", "--format=", "HEAD"]);
    assert!(
        files.lines().all(|f| f.starts_with("sub/dir/")),
        "promote commit paths:\n{files}"
    );
    for f in [
        "sub/dir/environments/dev.yaml",
        "sub/dir/environments/dev.log",
    ] {
        assert!(files.lines().any(|l| l == f), "{f} in\n{files}");
    }
    assert!(
        files
            .lines()
            .any(|l| l == "sub/dir/releases/support-triage/1.4.0/release.yaml")
    );
    assert!(!mono.join("environments").exists());
    assert!(!mono.join("releases").exists());
    assert_eq!(porcelain(&sb, &mono), "");
    assert_eq!(pins_at(&root, "dev").len(), 3);

    // From deeper inside, the root is found by walking up.
    let out = sb.agentctl(&root.join("agents/support-triage"), &["promote", "staging"]);
    assert_code(&out, 0);
    let files = sb.git(&mono, &["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(
        files,
        "sub/dir/environments/staging.log\nsub/dir/environments/staging.yaml"
    );
    assert_eq!(porcelain(&sb, &mono), "");
    fsck(&sb, &mono);
}

/// Kill `promote dev` at `step`; the repository must end up exactly as
/// before (`committed == false`) or exactly as after.
fn survives_a_kill_at(step: &str, committed: bool) {
    let s = Scratch::new();
    let before = s.snapshot();
    let commits = s.commit_count();

    let out = s.run_env(&["promote", "dev"], &[("AGENTCTL_FAULT", step)]);
    assert_eq!(
        out.status.signal(),
        Some(6),
        "AGENTCTL_FAULT={step} aborts the process\n{}",
        describe(&out)
    );
    s.fsck();
    let journal = s.root.join(".git/agentctl-journal.json");

    // The next agentctl command, even a read-only one, finishes or discards.
    let out = s.run(&["status"]);
    assert_code(&out, 0);
    assert!(!journal.exists(), "journal gone after recovery");
    s.fsck();
    assert_eq!(s.porcelain(), "", "work tree and index agree with HEAD");

    if committed {
        assert_eq!(s.commit_count(), commits + 1);
        assert_eq!(s.git(&["rev-parse", "HEAD~1"]), before.head);
        assert_eq!(s.head_subject(), "promote 3 agents → dev");
        let pins = s.pins("dev");
        assert_eq!(pins.keys().collect::<Vec<_>>(), AGENTS);
        for (agent, version) in VERSIONS {
            assert_eq!(pins[agent]["version"], version);
            assert_eq!(
                s.digest(&format!("releases/{agent}/{version}/bundle")),
                s.digest(&format!("agents/{agent}"))
            );
        }
        assert_eq!(s.log("dev").len(), 3);
    } else {
        assert_eq!(s.snapshot(), before, "exactly as before");
        // The interrupted promotion can simply be run again.
        s.ok(&["promote", "dev"]);
        assert_eq!(s.commit_count(), commits + 1);
    }

    // The repository is fully usable afterwards.
    let out = s.run(&["promote", "staging"]);
    assert_code(&out, 0);
    assert_eq!(s.head_subject(), "promote 3 agents → staging");
    assert_eq!(s.pins("staging").len(), 3);
    assert_eq!(s.porcelain(), "");
    s.fsck();
}

#[test]
fn kill_after_writing_objects_leaves_the_repository_as_before() {
    survives_a_kill_at("objects", false);
}

#[test]
fn kill_after_writing_the_journal_leaves_the_repository_as_before() {
    survives_a_kill_at("journal", false);
}

#[test]
fn kill_after_moving_the_branch_is_finished_by_the_next_command() {
    survives_a_kill_at("ref", true);
}

#[test]
fn kill_while_updating_the_work_tree_is_finished_by_the_next_command() {
    survives_a_kill_at("worktree", true);
}

#[test]
fn kill_before_writing_the_index_is_finished_by_the_next_command() {
    survives_a_kill_at("index", true);
}

#[test]
fn kill_after_moving_the_branch_in_a_subdirectory_root_is_finished_too() {
    let sb = Sandbox::new();
    let mono = sb.path().join("mono");
    std::fs::create_dir_all(&mono).expect("mkdir");
    sb.git(&mono, &["init", "-q"]);
    std::fs::write(mono.join("README.md"), "a monorepo\n").expect("write");
    sb.git(&mono, &["add", "-A"]);
    sb.git(&mono, &["commit", "-q", "-m", "initial"]);
    assert_code(&sb.agentctl(&mono, &["init", "sub/dir"]), 0);
    let root = mono.join("sub/dir");
    copy_examples(&root.join("agents"));
    sb.git(&mono, &["add", "-A"]);
    sb.git(&mono, &["commit", "-q", "-m", "agents"]);
    let before = head(&sb, &mono);

    let out = sb.agentctl_env(&root, &["promote", "dev"], &[("AGENTCTL_FAULT", "ref")]);
    assert_eq!(out.status.signal(), Some(6), "{}", describe(&out));
    assert!(mono.join(".git/agentctl-journal.json").exists());
    assert_ne!(porcelain(&sb, &mono), "", "half done until recovery");

    // Recovery from the top of the git repository, via -C.
    assert_code(&sb.agentctl(&mono, &["-C", "sub/dir", "status"]), 0);
    assert!(!mono.join(".git/agentctl-journal.json").exists());
    assert_eq!(porcelain(&sb, &mono), "");
    assert_eq!(sb.git(&mono, &["rev-parse", "HEAD~1"]), before);
    assert_eq!(pins_at(&root, "dev").len(), 3);
    assert!(
        !mono.join("environments").exists(),
        "nothing outside sub/dir"
    );
    assert!(!mono.join("releases").exists(), "nothing outside sub/dir");
    fsck(&sb, &mono);
}

/// A mistyped environment is refused before anything is written, with the
/// nearest name when there is one.
#[test]
fn a_mistyped_environment_is_refused_with_a_suggestion() {
    let s = Scratch::new();
    let before = s.snapshot();
    for (args, hint) in [
        (&["promote", "prdo"][..], "did you mean `prod`?"),
        (
            &["rollback", "stagign", "--reason", "x"][..],
            "did you mean `staging`?",
        ),
        (&["history", "qa"][..], "environments: dev, staging, prod"),
    ] {
        let out = s.run(args);
        assert_code(&out, 2);
        let err = stderr(&out);
        assert!(err.contains("no environment `"), "{args:?}: {err}");
        assert!(err.contains(hint), "{args:?}: {err}");
    }
    assert_eq!(s.snapshot(), before);
}
