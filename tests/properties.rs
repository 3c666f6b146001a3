//! Property tests: a release round-trips whatever the bundle holds.

use agentctl::ops::WriteOptions;
use agentctl::repo::Repo;
use agentctl::repo::transaction::Record;
use proptest::prelude::*;
use std::path::Path;

fn example_manifest() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid/minimal-agent/agent.yaml"),
    )
    .expect("minimal fixture")
}

fn repo_with(dir: &Path) -> Repo {
    let git = git2::Repository::init(dir).expect("git init");
    let mut cfg = git.config().expect("config");
    cfg.set_str("user.name", "Prop Test").expect("name");
    cfg.set_str("user.email", "prop@example.com")
        .expect("email");
    agentctl::ops::init::init(dir, Record::Commit).expect("agentctl init");
    Repo::open(dir).expect("open")
}

fn name() -> impl Strategy<Value = String> {
    "[a-z0-9_][a-z0-9 ._-]{0,10}".prop_filter("not . or ..", |s| s != "." && s != "..")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Whatever extra files a bundle holds, its release is a byte copy with
    /// the source's digest, release.yaml reads back, and releasing again is
    /// a no-op.
    #[test]
    fn a_release_round_trips(
        extra in proptest::collection::vec(
            (proptest::collection::vec(name(), 1..3), proptest::collection::vec(any::<u8>(), 0..512)),
            0..6,
        ),
        version in (0u64..20, 0u64..20, 0u64..20),
    ) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("repo");
        std::fs::create_dir_all(&root).expect("mkdir");
        let repo = repo_with(&root);
        let bundle = root.join("agents/prop-agent");
        std::fs::create_dir_all(&bundle).expect("mkdir");
        let version = format!("{}.{}.{}", version.0, version.1, version.2);
        let manifest = example_manifest()
            .replace("name: minimal-agent", "name: prop-agent")
            .replace("version: 1.0.0", &format!("version: {version}"));
        std::fs::write(bundle.join("agent.yaml"), manifest).expect("write manifest");
        for (parts, bytes) in &extra {
            let rel = format!("extra/{}", parts.join("/"));
            let path = bundle.join(&rel);
            if path.exists() || path.ancestors().skip(1).any(|a| a.is_file()) {
                continue;
            }
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, bytes).expect("write");
        }
        // A release freezes what is committed.
        for args in [&["add", "-A"][..], &["-c", "user.name=Prop", "-c", "user.email=prop@example.com", "commit", "-qm", "bundle"][..]] {
            let ok = std::process::Command::new("git").arg("-C").arg(&root).args(args).status().expect("git");
            prop_assert!(ok.success());
        }
        let source = agentctl::digest::digest_dir(&bundle).expect("digest source");
        let opts = WriteOptions { actor: Some("Prop <prop@example.com>".into()), reason: None, record: Record::Commit };
        let report = agentctl::ops::release::release(&repo, "prop-agent", &opts).expect("release");
        prop_assert!(report.created);
        prop_assert_eq!(&report.version, &version);
        prop_assert_eq!(&report.digest, &source.digest);
        let released = agentctl::digest::digest_dir(&repo.release_path("prop-agent", &version).join("bundle"))
            .expect("digest release");
        prop_assert_eq!(&released.digest, &source.digest);
        prop_assert_eq!(released.files, source.files);
        let meta = repo.verify_release("prop-agent", &version, Some(&source.digest)).expect("verify");
        prop_assert_eq!(&meta.digest, &source.digest);
        prop_assert_eq!(meta.name.as_str(), "prop-agent");
        let again = agentctl::ops::release::release(&repo, "prop-agent", &opts).expect("release again");
        prop_assert!(!again.created, "same version and digest: a no-op");
    }
}
