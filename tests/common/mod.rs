//! Shared helpers for the integration tests.
//!
//! Everything runs the real `agentctl` binary and the real `git` CLI against
//! real repositories in temporary directories. Every process gets a private
//! HOME whose .gitconfig names "Test User <test@example.com>", no system git
//! config, and a fixed clock (`AGENTCTL_NOW`), so runs are hermetic and
//! reproducible.

// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

pub mod checks;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The fixed clock every process sees.
pub const NOW: &str = "2026-11-21T10:00:00Z";
/// The git identity every process sees.
pub const ACTOR: &str = "Test User <test@example.com>";
/// The example agents, in the order agentctl sorts them.
pub const AGENTS: [&str; 3] = ["invoice-matcher", "lead-router", "support-triage"];
/// Their versions in examples/agents.
pub const VERSIONS: [(&str, &str); 3] = [
    ("invoice-matcher", "0.9.2"),
    ("lead-router", "2.1.0"),
    ("support-triage", "1.4.0"),
];

/// Environment variables a developer's shell or a git hook could leak into
/// child processes and change what they do.
const SCRUBBED: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_CEILING_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "EMAIL",
    "AGENTCTL_FAULT",
    "AGENTCTL_TEST_HOLD_LOCK_MS",
    "AGENTCTL_NOW",
    "AGENTCTL_SSH_PASSPHRASE",
    "SSH_AUTH_SOCK",
];

/// A private world for one test: a temp dir holding HOME and any number of
/// repositories.
pub struct Sandbox {
    tmp: tempfile::TempDir,
    home: PathBuf,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    /// A new sandbox with a HOME holding the test identity.
    pub fn new() -> Sandbox {
        let tmp = tempfile::Builder::new()
            .prefix("agentctl-it-")
            .tempdir()
            .expect("create temp dir");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(home.join(".config")).expect("create HOME");
        std::fs::write(
            home.join(".gitconfig"),
            "[user]\n\tname = Test User\n\temail = test@example.com\n\
             [init]\n\tdefaultBranch = main\n\
             [commit]\n\tgpgsign = false\n\
             [advice]\n\tdetachedHead = false\n",
        )
        .expect("write .gitconfig");
        Sandbox { tmp, home }
    }

    /// The sandbox directory (repositories go under it).
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Apply the hermetic environment to a command.
    pub fn hermetic(&self, cmd: &mut Command) {
        for var in SCRUBBED {
            cmd.env_remove(var);
        }
        cmd.env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_AUTHOR_DATE", NOW)
            .env("GIT_COMMITTER_DATE", NOW)
            .env("AGENTCTL_NOW", NOW)
            .env("NO_COLOR", "1")
            .env("LC_ALL", "C");
    }

    /// An `agentctl` command in `dir`, not yet run (for spawning, extra env).
    pub fn agentctl_cmd(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentctl"));
        cmd.current_dir(dir).args(args);
        self.hermetic(&mut cmd);
        cmd
    }

    /// Run `agentctl` in `dir`.
    pub fn agentctl(&self, dir: &Path, args: &[&str]) -> Output {
        self.agentctl_cmd(dir, args).output().expect("run agentctl")
    }

    /// Run `agentctl` in `dir` with extra environment variables.
    pub fn agentctl_env(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.agentctl_cmd(dir, args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run agentctl")
    }

    /// A `git` command in `dir`, not yet run.
    pub fn git_cmd(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.current_dir(dir).args(args);
        self.hermetic(&mut cmd);
        cmd
    }

    /// Run `git` in `dir`, whatever its exit status.
    pub fn git_output(&self, dir: &Path, args: &[&str]) -> Output {
        self.git_cmd(dir, args).output().expect("run git")
    }

    /// Run `git` in `dir`, which must succeed; returns trimmed stdout.
    #[track_caller]
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git_output(dir, args);
        assert!(
            out.status.success(),
            "git {args:?} in {} failed:\n{}",
            dir.display(),
            describe(&out)
        );
        stdout(&out).trim_end().to_string()
    }

    /// `ssh-keygen -t ed25519` a key at `key` (the public half at `<key>.pub`).
    #[track_caller]
    pub fn ssh_keygen(&self, key: &Path, comment: &str, passphrase: &str) {
        let mut cmd = Command::new("ssh-keygen");
        cmd.args(["-q", "-t", "ed25519", "-C", comment, "-N", passphrase, "-f"])
            .arg(key);
        self.hermetic(&mut cmd);
        let out = cmd.output().expect("run ssh-keygen");
        assert!(
            out.status.success(),
            "ssh-keygen failed:\n{}",
            describe(&out)
        );
    }

    /// `git clone --bare FROM NAME` in the sandbox; returns the bare repository.
    #[track_caller]
    pub fn bare_clone(&self, from: &Path, name: &str) -> PathBuf {
        let bare = self.path().join(name);
        self.git(
            self.path(),
            &[
                "clone",
                "-q",
                "--bare",
                from.to_str().expect("utf-8"),
                bare.to_str().expect("utf-8"),
            ],
        );
        bare
    }

    /// `agentctl init DIR`, the example agents copied into DIR/agents, and
    /// one git commit of them. Returns DIR.
    #[track_caller]
    pub fn scratch_repo(&self, name: &str) -> PathBuf {
        let dir = self.path().join(name);
        let out = self.agentctl(self.path(), &["init", name]);
        assert_code(&out, 0);
        copy_examples(&dir.join("agents"));
        self.git(&dir, &["add", "-A"]);
        self.git(&dir, &["commit", "-q", "-m", "add example agents"]);
        dir
    }
}

/// One scratch agentctl repository in its own sandbox: the common case.
pub struct Scratch {
    /// The sandbox (HOME, temp dir).
    pub sandbox: Sandbox,
    /// The repository (agentctl root and git work tree).
    pub root: PathBuf,
}

impl Default for Scratch {
    fn default() -> Self {
        Self::new()
    }
}

impl Scratch {
    /// `agentctl init`, the three examples under agents/, committed.
    pub fn new() -> Scratch {
        let sandbox = Sandbox::new();
        let root = sandbox.scratch_repo("repo");
        Scratch { sandbox, root }
    }

    /// Run agentctl in the repository.
    pub fn run(&self, args: &[&str]) -> Output {
        self.sandbox.agentctl(&self.root, args)
    }

    /// Run agentctl with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.sandbox.agentctl_env(&self.root, args, env)
    }

    /// Run agentctl, which must exit 0; returns stdout.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_code(&out, 0);
        stdout(&out)
    }

    /// Run git in the repository, which must succeed; trimmed stdout.
    #[track_caller]
    pub fn git(&self, args: &[&str]) -> String {
        self.sandbox.git(&self.root, args)
    }

    /// Run git in the repository, whatever happens.
    pub fn git_output(&self, args: &[&str]) -> Output {
        self.sandbox.git_output(&self.root, args)
    }

    /// The commit HEAD points at.
    pub fn head(&self) -> String {
        head(&self.sandbox, &self.root)
    }

    /// Commits reachable from HEAD.
    pub fn commit_count(&self) -> usize {
        commit_count(&self.sandbox, &self.root)
    }

    /// `git status --porcelain` (untracked files included).
    pub fn porcelain(&self) -> String {
        porcelain(&self.sandbox, &self.root)
    }

    /// Assert `git fsck --strict` is clean.
    #[track_caller]
    pub fn fsck(&self) {
        fsck(&self.sandbox, &self.root)
    }

    /// Full message of HEAD.
    pub fn head_message(&self) -> String {
        self.git(&["log", "-1", "--format=%B"])
    }

    /// Subject of HEAD.
    pub fn head_subject(&self) -> String {
        self.git(&["log", "-1", "--format=%s"])
    }

    /// Read a file under the root.
    #[track_caller]
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Write a file under the root.
    #[track_caller]
    pub fn write(&self, rel: &str, content: &str) {
        let p = self.root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, content).unwrap_or_else(|e| panic!("write {rel}: {e}"));
    }

    /// `git add -A && git commit -m MSG`.
    #[track_caller]
    pub fn commit_all(&self, msg: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", msg]);
    }

    /// `agentctl digest agents/NAME` (or any path), trimmed.
    #[track_caller]
    pub fn digest(&self, rel: &str) -> String {
        self.ok(&["digest", rel]).trim().to_string()
    }

    /// environments/ENV.yaml parsed: agent → pin fields.
    #[track_caller]
    pub fn pins(&self, env: &str) -> BTreeMap<String, serde_json::Value> {
        pins_at(&self.root, env)
    }

    /// environments/ENV.log parsed.
    #[track_caller]
    pub fn log(&self, env: &str) -> Vec<serde_json::Value> {
        log_at(&self.root, env)
    }

    /// Change the `version:` of agents/NAME/agent.yaml.
    #[track_caller]
    pub fn set_version(&self, agent: &str, from: &str, to: &str) {
        set_version(&self.root, agent, from, to);
    }

    /// Sign `release` (of support-triage) as its owner with a fresh key
    /// that allowed_signers lists: the approval that vouches for the eval
    /// records recorded so far.
    #[track_caller]
    pub fn vouch(&self, release: &str) {
        let key = self.sandbox.path().join("owner-key");
        if !key.exists() {
            self.sandbox.ssh_keygen(&key, "owner", "");
            let public = std::fs::read_to_string(key.with_extension("pub")).expect("public key");
            let signers = self.read(".agentctl/allowed_signers");
            self.write(
                ".agentctl/allowed_signers",
                &format!("{signers}maya.lindqvist@example.com {public}"),
            );
            self.commit_all("trust the owner's key");
        }
        self.ok(&["sign", release, "--key", key.to_str().expect("utf-8")]);
    }

    /// A snapshot of everything agentctl could have written.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::take(&self.sandbox, &self.root)
    }
}

/// Everything a refused command must leave untouched: HEAD, every ref, the
/// status, every file of the work tree, and no journal.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// `git rev-parse HEAD` (or the error text on an unborn/odd HEAD).
    pub head: String,
    /// `git for-each-ref`.
    pub refs: String,
    /// `git status --porcelain`.
    pub porcelain: String,
    /// Every file outside .git, with its bytes.
    pub files: BTreeMap<PathBuf, Vec<u8>>,
    /// Whether an agentctl journal exists.
    pub journal: bool,
}

impl Snapshot {
    /// Take one of the work tree at `dir`.
    pub fn take(sb: &Sandbox, dir: &Path) -> Snapshot {
        let git_dir = PathBuf::from(sb.git(dir, &["rev-parse", "--absolute-git-dir"]));
        Snapshot {
            head: stdout(&sb.git_output(dir, &["rev-parse", "HEAD"]))
                .trim_end()
                .to_string(),
            refs: sb.git(dir, &["for-each-ref"]),
            porcelain: porcelain(sb, dir),
            files: files_under(dir),
            journal: git_dir.join("agentctl-journal.json").exists(),
        }
    }
}

/// Every regular file under `dir` (relative path → bytes), skipping `.git`.
pub fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git")
    {
        let entry = entry.expect("walk");
        if entry.file_type().is_file() {
            let rel = entry
                .path()
                .strip_prefix(dir)
                .expect("prefix")
                .to_path_buf();
            out.insert(rel, std::fs::read(entry.path()).expect("read file"));
        }
    }
    out
}

/// Copy /work/main/examples/agents/* into `dest`.
pub fn copy_examples(dest: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/agents");
    for entry in walkdir::WalkDir::new(&src) {
        let entry = entry.expect("walk examples");
        let rel = entry.path().strip_prefix(&src).expect("prefix");
        let to = dest.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &to).expect("copy example file");
        }
    }
}

/// Change `version: FROM` to `version: TO` in agents/AGENT/agent.yaml under `root`.
#[track_caller]
pub fn set_version(root: &Path, agent: &str, from: &str, to: &str) {
    let p = root.join("agents").join(agent).join("agent.yaml");
    let text = std::fs::read_to_string(&p).expect("read agent.yaml");
    let needle = format!("\nversion: {from}\n");
    assert!(text.contains(&needle), "{agent} is not at version {from}");
    std::fs::write(&p, text.replacen(&needle, &format!("\nversion: {to}\n"), 1))
        .expect("write agent.yaml");
}

/// Remove a top-level key and its indented block from a YAML file's text.
pub fn remove_top_level_key(yaml: &str, key: &str) -> String {
    let mut out = Vec::new();
    let mut skipping = false;
    let head = format!("{key}:");
    for line in yaml.lines() {
        if line.starts_with(&head) {
            skipping = true;
            continue;
        }
        if skipping {
            let top_level = !line.is_empty()
                && !line.starts_with(' ')
                && !line.starts_with('\t')
                && !line.starts_with('#');
            if !top_level {
                continue;
            }
            skipping = false;
        }
        out.push(line);
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

/// environments/ENV.yaml under `root`, parsed: agent → pin fields.
#[track_caller]
pub fn pins_at(root: &Path, env: &str) -> BTreeMap<String, serde_json::Value> {
    let text = std::fs::read_to_string(root.join(format!("environments/{env}.yaml")))
        .expect("read environment file");
    let v: serde_json::Value = serde_saphyr::from_str(&text).expect("environment YAML parses");
    v["agents"]
        .as_object()
        .unwrap_or_else(|| panic!("no agents map in {env}.yaml:\n{text}"))
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// environments/ENV.log under `root`, every line parsed as JSON.
#[track_caller]
pub fn log_at(root: &Path, env: &str) -> Vec<serde_json::Value> {
    let path = root.join(format!("environments/{env}.log"));
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => panic!("read {}: {e}", path.display()),
    };
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{env}.log line {} is not JSON ({e}): {line:?}", i + 1))
        })
        .collect()
}

/// The commit HEAD points at in `dir`.
#[track_caller]
pub fn head(sb: &Sandbox, dir: &Path) -> String {
    sb.git(dir, &["rev-parse", "HEAD"])
}

/// Commits reachable from HEAD in `dir`.
#[track_caller]
pub fn commit_count(sb: &Sandbox, dir: &Path) -> usize {
    sb.git(dir, &["rev-list", "--count", "HEAD"])
        .parse()
        .expect("a count")
}

/// `git status --porcelain` in `dir`, untracked files included.
#[track_caller]
pub fn porcelain(sb: &Sandbox, dir: &Path) -> String {
    sb.git(dir, &["status", "--porcelain", "--untracked-files=all"])
}

/// Assert `git fsck --strict` is clean in `dir`.
#[track_caller]
pub fn fsck(sb: &Sandbox, dir: &Path) {
    let out = sb.git_output(dir, &["fsck", "--strict", "--no-progress"]);
    assert!(
        out.status.success(),
        "git fsck --strict failed in {}:\n{}",
        dir.display(),
        describe(&out)
    );
    let err = stderr(&out);
    assert!(
        !err.contains("error") && !err.contains("missing") && !err.contains("broken"),
        "git fsck --strict reported problems:\n{err}"
    );
}

/// The `Agentctl-*` trailers of a commit message, in order.
pub fn trailers(message: &str) -> Vec<(String, String)> {
    message
        .lines()
        .filter_map(|l| l.split_once(": "))
        .filter(|(k, _)| k.starts_with("Agentctl-"))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The values of one trailer key, in order.
pub fn trailer_values(message: &str, key: &str) -> Vec<String> {
    trailers(message)
        .into_iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v)
        .collect()
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// stdout and stderr together, for messages that may go to either.
pub fn all_output(out: &Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

/// The exit status and both streams, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        stdout(out),
        stderr(out)
    )
}

/// Assert a process exited with `code`.
#[track_caller]
pub fn assert_code(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit {code}\n{}",
        describe(out)
    );
}

/// Parse stdout as JSON.
#[track_caller]
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", describe(out)))
}
