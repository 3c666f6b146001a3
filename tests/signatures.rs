//! Signatures and approvals, end to end with real parts only: the built
//! `agentctl` binary, real git repositories in temporary directories, the
//! real `ssh-keygen`, and a real `ssh-agent` started (and killed) by the test.
//!
//! Interoperability with OpenSSH is the contract (DESIGN.md, "Signatures and
//! approvals"): what agentctl signs, `ssh-keygen -Y verify` accepts, and what
//! `ssh-keygen -Y sign -n agentctl` signs, agentctl accepts.

mod common;

use common::Scratch;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SECURITY: &str = "priya.shah@example.com";
const RELEASE: &str = "support-triage@1.4.0";
const SIG_DIR: &str = "releases/support-triage/1.4.0/signatures";

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/agents")
}

/// The production owner's email, read from the example manifest (the line
/// after `email:` whose next line is `role: production`).
fn production_owner(agent: &str) -> String {
    let text = std::fs::read_to_string(examples().join(agent).join("agent.yaml"))
        .expect("read example manifest");
    let lines: Vec<&str> = text.lines().collect();
    for pair in lines.windows(2) {
        let (a, b) = (pair[0].trim(), pair[1].trim());
        if let Some(email) = a.strip_prefix("email:")
            && b == "role: production"
        {
            return email.trim().trim_matches('"').to_string();
        }
    }
    panic!("no production owner in examples/agents/{agent}/agent.yaml");
}

/// A command's result, with everything needed to explain a failure.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    #[track_caller]
    fn code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    fn says(&self, needle: &str) -> &Run {
        assert!(
            self.all().contains(needle),
            "output lacks {needle:?}\n--- stdout\n{}--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    fn lacks(&self, needle: &str) -> &Run {
        assert!(
            !self.all().contains(needle),
            "output has {needle:?}\n--- stdout\n{}--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// A hermetic world (tests/common's scratch repository: the example agents
/// committed) with the examples released to dev.
struct World {
    s: Scratch,
    owner: String,
}

impl World {
    fn new() -> World {
        let w = World {
            s: Scratch::new(),
            owner: production_owner("support-triage"),
        };
        w.agentctl(&["promote", "dev"]).code(0);
        assert!(
            w.path("releases/support-triage/1.4.0/release.yaml")
                .is_file()
        );
        w
    }

    fn dir(&self) -> &Path {
        self.s.sandbox.path()
    }

    fn hermetic(&self, cmd: &mut Command) {
        self.s.sandbox.hermetic(cmd);
    }

    fn agentctl_cmd(&self, args: &[&str]) -> Command {
        self.s.sandbox.agentctl_cmd(&self.s.root, args)
    }

    fn agentctl(&self, args: &[&str]) -> Run {
        run(self.agentctl_cmd(args))
    }

    fn agentctl_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.agentctl_cmd(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(cmd)
    }

    fn git(&self, args: &[&str]) -> String {
        self.s.git(args)
    }

    fn commit(&self, msg: &str) {
        self.s.commit_all(msg);
    }

    fn commit_count(&self) -> usize {
        self.s.commit_count()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.s.root.join(rel)
    }

    fn allowed_signers(&self) -> PathBuf {
        self.path(".agentctl/allowed_signers")
    }

    /// `ssh-keygen -t ed25519` a key named `name` in the temp dir; returns
    /// the private key path (the public key is `<path>.pub`).
    fn keygen(&self, name: &str, passphrase: &str) -> PathBuf {
        let key = self.dir().join("keys").join(name);
        std::fs::create_dir_all(key.parent().expect("parent")).expect("mkdir keys");
        self.s.sandbox.ssh_keygen(&key, name, passphrase);
        key
    }

    /// Append `<principal> [options] <key.pub>` to the in-repo allowed_signers.
    fn allow(&self, principal: &str, options: &str, key: &Path) {
        let public = std::fs::read_to_string(pub_of(key)).expect("read .pub");
        let line = if options.is_empty() {
            format!("{principal} {}\n", public.trim())
        } else {
            format!("{principal} {options} {}\n", public.trim())
        };
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.allowed_signers())
            .expect("open allowed_signers");
        f.write_all(line.as_bytes()).expect("append");
    }

    /// The release statement, as `agentctl statement` prints it.
    fn statement(&self, release: &str) -> Vec<u8> {
        let r = self.agentctl(&["statement", release]);
        r.code(0);
        r.stdout.into_bytes()
    }

    /// `ssh-keygen -Y sign -n NAMESPACE -f KEY` over `message`: the armored signature.
    fn ssh_sign(&self, key: &Path, namespace: &str, message: &[u8]) -> Vec<u8> {
        let mut cmd = Command::new("ssh-keygen");
        self.hermetic(&mut cmd);
        cmd.args(["-Y", "sign", "-n", namespace, "-f"]).arg(key);
        let out = run_with_stdin(cmd, message);
        assert!(
            out.status.success(),
            "ssh-keygen -Y sign failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// `ssh-keygen -Y verify` of `sig` by `principal` over `message`.
    fn ssh_verify(&self, allowed: &Path, principal: &str, sig: &Path, message: &[u8]) -> Run {
        let mut cmd = Command::new("ssh-keygen");
        self.hermetic(&mut cmd);
        cmd.args(["-Y", "verify", "-n", "agentctl", "-I", principal, "-f"])
            .arg(allowed)
            .arg("-s")
            .arg(sig);
        Run::from(run_with_stdin(cmd, message))
    }

    /// `ssh-keygen -Y verify -Overify-time=TIME`: OpenSSH's verdict at a
    /// given instant (`YYYYMMDDHHMMSSZ`), to compare with `AGENTCTL_NOW`.
    fn ssh_verify_at(
        &self,
        allowed: &Path,
        principal: &str,
        sig: &Path,
        message: &[u8],
        time: &str,
    ) -> Run {
        let mut cmd = Command::new("ssh-keygen");
        self.hermetic(&mut cmd);
        cmd.args(["-Y", "verify", "-n", "agentctl", "-I", principal, "-f"])
            .arg(allowed)
            .arg("-s")
            .arg(sig)
            .arg(format!("-Overify-time={time}"));
        Run::from(run_with_stdin(cmd, message))
    }

    fn sig_path(&self, principal: &str) -> PathBuf {
        self.path(&format!("{SIG_DIR}/{principal}.sig"))
    }

    /// Save a signature file for support-triage@1.4.0 and commit it.
    fn put_sig(&self, principal: &str, bytes: &[u8]) {
        let path = self.sig_path(principal);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir signatures");
        std::fs::write(&path, bytes).expect("write sig");
        self.commit(&format!("add signature by {principal}"));
    }

    /// Edit agentctl.toml: the security role, and prod requires owner + security.
    fn require_prod_approvals(&self, security: &[&str]) {
        let path = self.path("agentctl.toml");
        let text = std::fs::read_to_string(&path).expect("read agentctl.toml");
        let holders: Vec<String> = security.iter().map(|s| format!("\"{s}\"")).collect();
        let roles = format!("security = [{}]", holders.join(", "));
        assert!(text.contains("security = []"), "{text}");
        let prod = "name = \"prod\"\n";
        assert!(text.contains(prod), "{text}");
        let text = text.replacen("security = []", &roles, 1).replacen(
            prod,
            &format!("{prod}required_roles = [\"owner\", \"security\"]\n"),
            1,
        );
        std::fs::write(&path, text).expect("write agentctl.toml");
        self.commit("prod requires owner + security");
    }
}

fn pub_of(key: &Path) -> PathBuf {
    let mut p = key.as_os_str().to_owned();
    p.push(".pub");
    PathBuf::from(p)
}

fn run(mut cmd: Command) -> Run {
    let out = cmd.output().expect("spawn");
    let r = Run::from(out);
    assert_ne!(r.code, 101, "panic: {}", r.stderr);
    r
}

fn run_with_stdin(mut cmd: Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

/// A real ssh-agent on a socket in the temp dir, killed on drop.
struct Agent {
    child: Child,
    sock: PathBuf,
}

impl Agent {
    fn start(w: &World) -> Agent {
        let sock = w.dir().join("agent.sock");
        let mut cmd = Command::new("ssh-agent");
        w.hermetic(&mut cmd);
        let child = cmd
            .arg("-D")
            .stdin(Stdio::null())
            .arg("-a")
            .arg(&sock)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ssh-agent");
        let agent = Agent { child, sock };
        let start = Instant::now();
        while !agent.sock.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "ssh-agent did not create its socket"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        agent
    }

    fn add(&self, w: &World, key: &Path) {
        let mut cmd = Command::new("ssh-add");
        w.hermetic(&mut cmd);
        cmd.env("SSH_AUTH_SOCK", &self.sock).arg(key);
        run(cmd).code(0);
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// 1. agentctl signs; OpenSSH verifies.
#[test]
fn agentctl_signature_verifies_with_ssh_keygen() {
    let w = World::new();
    let key = w.keygen("owner", "");
    w.allow(&w.owner, "", &key);
    w.commit("trust the owner");
    let before = w.commit_count();

    w.agentctl(&["sign", RELEASE, "--key", key.to_str().expect("utf-8")])
        .code(0)
        .says(&w.owner);

    // Exactly one commit, with the sign trailers, and a clean tree.
    assert_eq!(w.commit_count(), before + 1);
    let message = w.git(&["log", "-1", "--format=%B"]);
    let actions: Vec<&str> = message
        .lines()
        .filter(|l| l.starts_with("Agentctl-Action:"))
        .collect();
    assert_eq!(actions, ["Agentctl-Action: sign"], "{message}");
    assert!(
        message.contains(&format!("Agentctl-Principal: {}", w.owner)),
        "{message}"
    );
    assert_eq!(w.git(&["status", "--porcelain"]), "");

    // The file is where DESIGN.md says, armored, and committed.
    let sig = w.sig_path(&w.owner);
    let armored = std::fs::read_to_string(&sig).expect("signature file");
    assert!(
        armored.starts_with("-----BEGIN SSH SIGNATURE-----\n"),
        "{armored}"
    );
    assert!(armored.trim_end().ends_with("-----END SSH SIGNATURE-----"));
    let tracked = w.git(&["ls-files", SIG_DIR]);
    assert_eq!(
        tracked.trim(),
        format!("{SIG_DIR}/{o}.sig\n{SIG_DIR}/{o}.statement", o = w.owner)
    );
    // The statement signed is stored beside the signature, byte for byte
    // what `agentctl statement` prints now.
    assert_eq!(
        std::fs::read(w.path(&format!("{SIG_DIR}/{}.statement", w.owner))).expect("statement"),
        w.statement(RELEASE)
    );

    // The statement is the documented text, with the recorded digest.
    let statement = w.statement(RELEASE);
    let text = String::from_utf8(statement.clone()).expect("utf-8");
    let release_yaml =
        std::fs::read_to_string(w.path("releases/support-triage/1.4.0/release.yaml")).expect("r");
    let digest = text
        .lines()
        .find_map(|l| l.strip_prefix("digest: "))
        .expect("digest line");
    assert!(
        text.starts_with(
            "agentctl release v2\nname: support-triage\nversion: 1.4.0\ndigest: sha256:"
        ) && text.ends_with('\n')
            && text
                .lines()
                .skip(4)
                .all(|l| l.starts_with("eval ") || l.starts_with("vars ")),
        "{text:?}"
    );
    assert!(release_yaml.contains(digest), "{release_yaml}");

    w.ssh_verify(&w.allowed_signers(), &w.owner, &sig, &statement)
        .code(0)
        .says("Good \"agentctl\" signature")
        .says(&w.owner);
    // And OpenSSH does not accept it for other content.
    let other = text.replace("version: 1.4.0", "version: 1.4.1");
    assert_ne!(
        w.ssh_verify(&w.allowed_signers(), &w.owner, &sig, other.as_bytes())
            .code,
        0
    );
}

// 2. ssh-keygen signs; agentctl verifies.
#[test]
fn ssh_keygen_signature_verifies_with_agentctl() {
    let w = World::new();
    let key = w.keygen("owner", "");
    w.allow(&w.owner, "namespaces=\"agentctl\"", &key);
    w.commit("trust the owner");
    let sig = w.ssh_sign(&key, "agentctl", &w.statement(RELEASE));
    w.put_sig(&w.owner, &sig);

    w.agentctl(&["verify", RELEASE])
        .code(0)
        .says(&format!("{} good (roles: owner)", w.owner))
        .lacks("✗");
    // The JSON report says the same.
    let json = w.agentctl(&["verify", RELEASE, "--format", "json"]);
    json.code(0);
    assert!(
        json.stdout.contains("\"status\": \"good\""),
        "{}",
        json.stdout
    );
    assert!(json.stdout.contains("\"ok\": true"), "{}", json.stdout);
}

fn tamper_world() -> (World, PathBuf) {
    let w = World::new();
    let key = w.keygen("owner", "");
    w.allow(&w.owner, "", &key);
    w.commit("trust the owner");
    (w, key)
}

// 3a. One byte changed in a released prompt.
#[test]
fn tampered_release_bytes_fail_the_digest() {
    let (w, key) = tamper_world();
    w.agentctl(&["sign", RELEASE, "--key", key.to_str().expect("utf-8")])
        .code(0);
    w.agentctl(&["verify", RELEASE]).code(0);

    let prompt = w.path("releases/support-triage/1.4.0/bundle/prompts/system.md.j2");
    let mut bytes = std::fs::read(&prompt).expect("read prompt");
    bytes[10] ^= 0x01;
    std::fs::write(&prompt, bytes).expect("write prompt");
    w.commit("tamper");

    w.agentctl(&["verify", RELEASE])
        .code(1)
        .says("✗ digest")
        .says("release.yaml records");
    // No statement is printed for tampered content, so `agentctl statement |
    // ssh-keygen -Y verify` cannot vouch for it.
    let st = w.agentctl(&["statement", RELEASE]);
    assert_ne!(st.code, 0, "statement for tampered release: {}", st.stdout);
    assert_eq!(st.stdout, "", "statement printed for tampered content");
    st.code(1).says("was modified");
    // Nor can it be signed.
    let before = w.commit_count();
    let s = w.agentctl(&["sign", RELEASE, "--key", key.to_str().expect("utf-8")]);
    assert_ne!(s.code, 0, "signed a tampered release: {}", s.all());
    assert_eq!(w.commit_count(), before);
    // A failed verification, like verify's: exit 1, not a usage error.
    s.code(1).says("was modified");
}

// 3b. A signature copied from another release.
#[test]
fn signature_copied_from_another_release_is_bad() {
    let (w, key) = tamper_world();
    w.agentctl(&[
        "sign",
        "lead-router@2.1.0",
        "--key",
        key.to_str().expect("utf-8"),
    ])
    .code(0);
    let theirs = w.path(&format!(
        "releases/lead-router/2.1.0/signatures/{}.sig",
        w.owner
    ));
    let bytes = std::fs::read(theirs).expect("lead-router sig");
    w.put_sig(&w.owner, &bytes);

    w.agentctl(&["verify", RELEASE])
        .code(1)
        .says(&format!("{} bad", w.owner))
        .says("does not match this release's statement");
    // OpenSSH agrees.
    assert_ne!(
        w.ssh_verify(
            &w.allowed_signers(),
            &w.owner,
            &w.sig_path(&w.owner),
            &w.statement(RELEASE)
        )
        .code,
        0
    );
    // lead-router's own signature is still good.
    w.agentctl(&["verify", "lead-router@2.1.0"]).code(0);
}

// 3c. A signature in the wrong namespace.
#[test]
fn signature_in_git_namespace_is_bad() {
    let (w, key) = tamper_world();
    let sig = w.ssh_sign(&key, "git", &w.statement(RELEASE));
    w.put_sig(&w.owner, &sig);
    w.agentctl(&["verify", RELEASE])
        .code(1)
        .says(&format!("{} bad", w.owner))
        .says("namespace `git`");
}

// 3c'. An allowed_signers line restricted to another namespace.
#[test]
fn allowed_signers_namespaces_option_is_enforced() {
    let w = World::new();
    let key = w.keygen("owner", "");
    w.allow(&w.owner, "namespaces=\"git\"", &key);
    w.commit("trust the owner for git only");
    let sig = w.ssh_sign(&key, "agentctl", &w.statement(RELEASE));
    w.put_sig(&w.owner, &sig);
    w.agentctl(&["verify", RELEASE])
        .code(1)
        .says("does not allow namespace `agentctl`");
    // OpenSSH refuses it too.
    assert_ne!(
        w.ssh_verify(
            &w.allowed_signers(),
            &w.owner,
            &w.sig_path(&w.owner),
            &w.statement(RELEASE)
        )
        .code,
        0
    );
}

// 3d. A key not in allowed_signers.
#[test]
fn key_not_in_allowed_signers_is_unknown_signer() {
    let (w, _key) = tamper_world();
    let stranger = w.keygen("stranger", "");
    let sig = w.ssh_sign(&stranger, "agentctl", &w.statement(RELEASE));
    w.put_sig(&w.owner, &sig);
    w.agentctl(&["verify", RELEASE])
        .code(1)
        .says(&format!("{} unknown signer", w.owner));
    // A principal nobody listed is unknown too.
    std::fs::remove_file(w.sig_path(&w.owner)).expect("rm");
    w.put_sig("nobody@example.com", &sig);
    w.agentctl(&["verify", RELEASE])
        .code(1)
        .says("nobody@example.com unknown signer")
        .says("is not in");
    // And agentctl will not guess whose signature a stranger's key makes.
    let before = w.commit_count();
    // Refused (exit 1) like any other key allowed_signers does not list.
    w.agentctl(&["sign", RELEASE, "--key", stranger.to_str().expect("utf-8")])
        .code(1)
        .says("does not list this key")
        .says("cannot tell whose signature this is");
    assert_eq!(w.commit_count(), before);
}

// 3e. An expired key.
#[test]
fn expired_key_is_refused() {
    let w = World::new();
    let key = w.keygen("owner", "");
    w.allow(&w.owner, "valid-before=\"20200101Z\"", &key);
    w.commit("trust the owner until 2020");
    let sig = w.ssh_sign(&key, "agentctl", &w.statement(RELEASE));
    w.put_sig(&w.owner, &sig);
    w.agentctl(&["verify", RELEASE])
        .code(1)
        .says(&format!("{} bad", w.owner))
        .says("expired");
}

// 3f. Truncated and garbage signature files: a clear error, never a panic.
#[test]
fn truncated_and_garbage_signature_files_are_bad_not_a_crash() {
    let (w, key) = tamper_world();
    let good = w.ssh_sign(&key, "agentctl", &w.statement(RELEASE));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() / 2].to_vec()),
        (
            "truncated-body",
            // Armor intact, base64 body cut short.
            {
                let text = String::from_utf8(good.clone()).expect("ascii");
                let lines: Vec<&str> = text.lines().collect();
                let mut cut = vec![lines[0], &lines[1][..20]];
                cut.push(lines[lines.len() - 1]);
                (cut.join("\n") + "\n").into_bytes()
            },
        ),
        (
            "garbage",
            b"this is not a signature \x00\xff\xfe\n".to_vec(),
        ),
        ("empty", Vec::new()),
    ];
    for (what, bytes) in cases {
        w.put_sig(&w.owner, &bytes);
        let r = w.agentctl(&["verify", RELEASE]);
        assert_eq!(r.code, 1, "{what}: {}", r.all());
        r.says(&format!("{} bad", w.owner));
        assert!(
            r.all().contains("not a valid SSH signature"),
            "{what}: {}",
            r.all()
        );
    }
}

// 4. A passphrase-protected key.
#[test]
fn passphrase_protected_key() {
    let w = World::new();
    let key = w.keygen("owner", "secret");
    w.allow(&w.owner, "", &key);
    w.commit("trust the owner");
    let k = key.to_str().expect("utf-8");
    let before = w.commit_count();

    // No passphrase and no terminal: exit 2, says so, writes nothing.
    w.agentctl(&["sign", RELEASE, "--key", k])
        .code(2)
        .says("passphrase")
        .says("AGENTCTL_SSH_PASSPHRASE");
    // A wrong passphrase.
    w.agentctl_env(
        &["sign", RELEASE, "--key", k],
        &[("AGENTCTL_SSH_PASSPHRASE", "not-the-secret")],
    )
    .code(2)
    .says("wrong passphrase");
    assert_eq!(w.commit_count(), before);
    assert!(!w.sig_path(&w.owner).exists());

    // The right one.
    w.agentctl_env(
        &["sign", RELEASE, "--key", k],
        &[("AGENTCTL_SSH_PASSPHRASE", "secret")],
    )
    .code(0);
    assert_eq!(w.commit_count(), before + 1);
    w.ssh_verify(
        &w.allowed_signers(),
        &w.owner,
        &w.sig_path(&w.owner),
        &w.statement(RELEASE),
    )
    .code(0)
    .says("Good");
    w.agentctl(&["verify", RELEASE]).code(0);
}

// 5. A key held in a real ssh-agent.
#[test]
fn key_in_ssh_agent() {
    let w = World::new();
    let key = w.keygen("owner", "");
    w.allow(&w.owner, "", &key);
    w.commit("trust the owner");
    let public = pub_of(&key);
    let p = public.to_str().expect("utf-8");
    let agent = Agent::start(&w);
    let sock = agent.sock.to_str().expect("utf-8").to_string();

    // Agent running but the key not added: a clear error naming the fix.
    w.agentctl_env(&["sign", RELEASE, "--key", p], &[("SSH_AUTH_SOCK", &sock)])
        .code(2)
        .says("is the key added");

    agent.add(&w, &key);
    // The private key file is gone from reach: only the agent can sign.
    std::fs::rename(&key, w.dir().join("moved-away")).expect("move private key");

    // No SSH_AUTH_SOCK: a clear error.
    let before = w.commit_count();
    w.agentctl(&["sign", RELEASE, "--key", p])
        .code(2)
        .says("SSH_AUTH_SOCK is not set");
    assert_eq!(w.commit_count(), before);

    w.agentctl_env(&["sign", RELEASE, "--key", p], &[("SSH_AUTH_SOCK", &sock)])
        .code(0)
        .says(&w.owner);
    assert_eq!(w.commit_count(), before + 1);
    w.ssh_verify(
        &w.allowed_signers(),
        &w.owner,
        &w.sig_path(&w.owner),
        &w.statement(RELEASE),
    )
    .code(0)
    .says("Good");
    w.agentctl(&["verify", RELEASE]).code(0);
    drop(agent);
}

// 6. The trust root can come from outside the repository.
#[test]
fn deploy_job_trust_root_rejects_a_self_approving_commit() {
    let w = World::new();
    let key = w.keygen("owner", "");
    w.allow(&w.owner, "", &key);
    w.commit("trust the owner");
    // The deploy job's own copy, taken before the attack.
    let deploy = w.dir().join("deploy_allowed_signers");
    std::fs::copy(w.allowed_signers(), &deploy).expect("copy trust root");

    // The attack: a commit lists the attacker's key for the owner's email,
    // then signs with it.
    let attacker = w.keygen("attacker", "");
    w.allow(&w.owner, "", &attacker);
    w.commit("innocent-looking change");
    w.agentctl(&["sign", RELEASE, "--key", attacker.to_str().expect("utf-8")])
        .code(0);

    // Against the repository's own file it passes: that is why deploy jobs
    // bring their own.
    w.agentctl(&["verify", RELEASE]).code(0);
    let d = deploy.to_str().expect("utf-8");
    w.agentctl(&["verify", RELEASE, "--allowed-signers", d])
        .code(1)
        .says(&format!("{} unknown signer", w.owner))
        .says(d);
    // OpenSSH with the deploy copy agrees.
    assert_ne!(
        w.ssh_verify(
            &deploy,
            &w.owner,
            &w.sig_path(&w.owner),
            &w.statement(RELEASE)
        )
        .code,
        0
    );
    // A missing trust root file is an error, not "no signers, all fine".
    let missing = w.dir().join("no-such-file");
    let r = w.agentctl(&[
        "verify",
        RELEASE,
        "--allowed-signers",
        missing.to_str().expect("utf-8"),
    ]);
    assert_ne!(r.code, 0, "{}", r.all());
}

/// Promote the example agents to staging (no policy there).
fn to_staging(w: &World) {
    w.agentctl(&["promote", "staging"]).code(0);
}

fn prod_pin(w: &World) -> String {
    std::fs::read_to_string(w.path("environments/prod.yaml")).expect("prod.yaml")
}

// 7. Policy: prod requires owner + security, by distinct people.
#[test]
fn prod_requires_owner_and_security() {
    let w = World::new();
    let owner_key = w.keygen("owner", "");
    let security_key = w.keygen("security", "");
    w.allow(&w.owner, "", &owner_key);
    w.allow(SECURITY, "", &security_key);
    w.commit("trust owner and security");
    w.require_prod_approvals(&[SECURITY]);
    to_staging(&w);
    let before = w.commit_count();

    // No signatures: both roles missing, and who could sign each.
    w.agentctl(&["promote", "prod", "support-triage"])
        .code(1)
        .says("missing a valid signature for roles owner, security")
        .says(&format!("owner: {}", w.owner))
        .says(&format!("security: {SECURITY}"));
    assert_eq!(w.commit_count(), before, "a refused promotion wrote");
    assert!(!prod_pin(&w).contains("support-triage"));

    // The owner signs: security still missing.
    w.agentctl(&["sign", RELEASE, "--key", owner_key.to_str().expect("utf-8")])
        .code(0);
    w.agentctl(&["promote", "prod", "support-triage"])
        .code(1)
        .says("missing a valid signature for role security")
        .says(&format!("security: {SECURITY}"))
        .lacks("roles owner, security");
    w.agentctl(&["verify", RELEASE]).code(0);

    // Security signs: it goes.
    w.agentctl(&[
        "sign",
        RELEASE,
        "--key",
        security_key.to_str().expect("utf-8"),
    ])
    .code(0)
    .says(SECURITY);
    let before = w.commit_count();
    w.agentctl(&["promote", "prod", "support-triage"]).code(0);
    assert_eq!(w.commit_count(), before + 1);
    let prod = prod_pin(&w);
    assert!(
        prod.contains("support-triage") && prod.contains("1.4.0"),
        "{prod}"
    );
    // verify prod reports the approval met.
    w.agentctl(&["verify", "prod"])
        .code(0)
        .says("prod requires owner + security: met");
}

// 7b. One person cannot fill two roles.
#[test]
fn owner_who_is_also_security_cannot_approve_alone() {
    let w = World::new();
    let owner_key = w.keygen("owner", "");
    let security_key = w.keygen("security", "");
    w.allow(&w.owner, "", &owner_key);
    w.allow(SECURITY, "", &security_key);
    w.commit("trust owner and security");
    w.require_prod_approvals(&[SECURITY, &w.owner]);
    to_staging(&w);

    w.agentctl(&["sign", RELEASE, "--key", owner_key.to_str().expect("utf-8")])
        .code(0);
    let before = w.commit_count();
    w.agentctl(&["promote", "prod", "support-triage"])
        .code(1)
        .says("missing a valid signature for role security")
        .says("one person cannot fill two required roles");
    assert_eq!(w.commit_count(), before);
    assert!(!prod_pin(&w).contains("support-triage"));

    // A second, distinct person completes it (the owner takes `owner`).
    w.agentctl(&[
        "sign",
        RELEASE,
        "--key",
        security_key.to_str().expect("utf-8"),
    ])
    .code(0);
    w.agentctl(&["promote", "prod", "support-triage"]).code(0);
    assert!(prod_pin(&w).contains("support-triage"));
}

// 7c. One key listed under two principals is still one person.
#[test]
fn one_key_under_two_principals_cannot_fill_two_roles() {
    let w = World::new();
    let key = w.keygen("owner", "");
    // One line, two principals, one key (allowed_signers allows this).
    w.allow(&format!("{},{SECURITY}", w.owner), "", &key);
    w.commit("trust one key for two principals");
    w.require_prod_approvals(&[SECURITY]);
    to_staging(&w);
    let k = key.to_str().expect("utf-8");
    w.agentctl(&["sign", RELEASE, "--key", k, "--principal", &w.owner])
        .code(0);
    w.agentctl(&["sign", RELEASE, "--key", k, "--principal", SECURITY])
        .code(0);
    // Both signatures are individually good…
    w.agentctl(&["verify", RELEASE]).code(0);
    // …but one private key made both: one person, two roles.
    w.agentctl(&["promote", "prod", "support-triage"]).code(1);
    assert!(!prod_pin(&w).contains("support-triage"));
}

// 7d. The deploy job's trust root also governs promotion.
#[test]
fn promote_uses_the_given_trust_root() {
    let w = World::new();
    let owner_key = w.keygen("owner", "");
    let security_key = w.keygen("security", "");
    w.allow(&w.owner, "", &owner_key);
    w.commit("trust the owner");
    let deploy = w.dir().join("deploy_allowed_signers");
    std::fs::copy(w.allowed_signers(), &deploy).expect("copy trust root");
    // The security key is added in-repo only.
    w.allow(SECURITY, "", &security_key);
    w.commit("add security key");
    w.require_prod_approvals(&[SECURITY]);
    to_staging(&w);
    for k in [&owner_key, &security_key] {
        w.agentctl(&["sign", RELEASE, "--key", k.to_str().expect("utf-8")])
            .code(0);
    }
    let d = deploy.to_str().expect("utf-8");
    w.agentctl(&[
        "promote",
        "prod",
        "support-triage",
        "--dry-run",
        "--allowed-signers",
        d,
    ])
    .code(1)
    .says("missing a valid signature for role security")
    .says(&format!("{SECURITY} is not valid"));
    w.agentctl(&["promote", "prod", "support-triage"]).code(0);
}

// 8. A malformed allowed_signers line is reported with its line number.
#[test]
fn malformed_allowed_signers_line_is_reported_with_line_number() {
    let w = World::new();
    let key = w.keygen("owner", "");
    w.allow(&w.owner, "", &key);
    let sig_bytes = w.ssh_sign(&key, "agentctl", &w.statement(RELEASE));
    w.put_sig(&w.owner, &sig_bytes);
    w.agentctl(&["verify", RELEASE]).code(0);

    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(w.allowed_signers())
        .expect("open");
    f.write_all(b"priya.shah@example.com ssh-ed25519 this-is-not-base64!!\n")
        .expect("append");
    drop(f);
    w.commit("a broken line");
    let text = std::fs::read_to_string(w.allowed_signers()).expect("read");
    let line = text.lines().count();
    let needle = format!("allowed_signers:{line}:");

    let r = w.agentctl(&["verify", RELEASE]);
    assert_ne!(r.code, 0, "{}", r.all());
    r.says(&needle);
    // sign's principal lookup says the same.
    let r = w.agentctl(&["sign", RELEASE, "--key", key.to_str().expect("utf-8")]);
    assert_ne!(r.code, 0, "{}", r.all());
    r.says(&needle);

    // An unknown option is named too.
    let text = text.replace(
        "priya.shah@example.com ssh-ed25519 this-is-not-base64!!",
        &format!(
            "priya.shah@example.com valid-until=\"20300101\" {}",
            std::fs::read_to_string(pub_of(&key)).expect("pub").trim()
        ),
    );
    std::fs::write(w.allowed_signers(), text).expect("write");
    w.agentctl(&["verify", RELEASE])
        .says(&needle)
        .says("valid-until");
}

// 9. sign refuses what verify would refuse, and writes nothing.

/// The owner's key is trusted and has signed; the security reviewer's key is
/// trusted for the security reviewer only; a stranger's key for nobody.
fn signed_world() -> (World, PathBuf, PathBuf, PathBuf) {
    let w = World::new();
    let owner_key = w.keygen("owner", "");
    let security_key = w.keygen("security", "");
    let stranger = w.keygen("stranger", "");
    w.allow(&w.owner, "", &owner_key);
    w.allow(SECURITY, "", &security_key);
    w.commit("trust owner and security");
    w.agentctl(&["sign", RELEASE, "--key", owner_key.to_str().expect("utf-8")])
        .code(0);
    (w, owner_key, security_key, stranger)
}

#[test]
fn sign_refuses_a_key_allowed_signers_does_not_list_for_the_principal() {
    let (w, _owner_key, security_key, stranger) = signed_world();
    let good = std::fs::read(w.sig_path(&w.owner)).expect("owner's signature");
    let before = w.s.snapshot();

    // Someone else's trusted key, claiming to be the owner: refused, and the
    // message names whose key it is.
    w.agentctl(&[
        "sign",
        RELEASE,
        "--key",
        security_key.to_str().expect("utf-8"),
        "--principal",
        &w.owner,
    ])
    .code(1)
    .says(&format!("does not list this key for {}", w.owner))
    .says(&format!("it is listed for {SECURITY}"))
    .says(&format!("hint: this key signs as {SECURITY}"));
    assert_eq!(w.s.snapshot(), before, "a refused sign wrote something");

    // A key nobody listed, claiming to be the owner.
    w.agentctl(&[
        "sign",
        RELEASE,
        "--key",
        stranger.to_str().expect("utf-8"),
        "--principal",
        &w.owner,
    ])
    .code(1)
    .says(&format!("does not list this key for {} or anyone", w.owner))
    .says("hint: add");
    assert_eq!(w.s.snapshot(), before, "a refused sign wrote something");

    // The owner's good signature is untouched and still verifies.
    assert_eq!(
        std::fs::read(w.sig_path(&w.owner)).expect("owner's signature"),
        good
    );
    w.agentctl(&["verify", RELEASE])
        .code(0)
        .says(&format!("{} good", w.owner));
}

#[test]
fn sign_refuses_a_key_whose_line_excludes_the_agentctl_namespace() {
    let w = World::new();
    let key = w.keygen("owner", "");
    w.allow(&w.owner, "namespaces=\"git,file\"", &key);
    w.commit("trust the owner for git and files only");
    let before = w.s.snapshot();
    w.agentctl(&["sign", RELEASE, "--key", key.to_str().expect("utf-8")])
        .code(1)
        .says("does not allow namespace `agentctl`")
        .says("hint: add `agentctl` to the line's namespaces");
    assert_eq!(w.s.snapshot(), before, "a refused sign wrote something");
    assert!(!w.sig_path(&w.owner).exists());
}

#[test]
fn sign_refuses_a_key_outside_its_validity_window() {
    let w = World::new();
    // The owner has a current key, which has signed, and two more lines:
    // one expired (before the fixed clock, 2026-11-21), one not valid yet.
    let current = w.keygen("current", "");
    let expired = w.keygen("expired", "");
    let future = w.keygen("future", "");
    w.allow(&w.owner, "", &current);
    w.allow(&w.owner, "valid-before=\"20200101Z\"", &expired);
    w.allow(&w.owner, "valid-after=\"20300101Z\"", &future);
    w.commit("trust the owner's keys");
    w.agentctl(&["sign", RELEASE, "--key", current.to_str().expect("utf-8")])
        .code(0);
    let good = std::fs::read(w.sig_path(&w.owner)).expect("owner's signature");
    let before = w.s.snapshot();

    w.agentctl(&["sign", RELEASE, "--key", expired.to_str().expect("utf-8")])
        .code(1)
        .says("expired at 2020-01-01T00:00:00Z")
        .says("valid-before")
        .says("hint:");
    assert_eq!(
        w.s.snapshot(),
        before,
        "an expired key replaced a signature"
    );
    w.agentctl(&["sign", RELEASE, "--key", future.to_str().expect("utf-8")])
        .code(1)
        .says("not valid until 2030-01-01T00:00:00Z")
        .says("valid-after");
    assert_eq!(w.s.snapshot(), before, "a future key replaced a signature");
    assert_eq!(
        std::fs::read(w.sig_path(&w.owner)).expect("owner's signature"),
        good
    );
    w.agentctl(&["verify", RELEASE]).code(0);
}

#[test]
fn a_valid_re_sign_by_the_same_principal_replaces_the_signature() {
    let w = World::new();
    let old = w.keygen("old", "");
    let new = w.keygen("new", "");
    w.allow(&w.owner, "", &old);
    w.allow(&w.owner, "", &new);
    w.commit("trust both of the owner's keys");
    w.agentctl(&["sign", RELEASE, "--key", old.to_str().expect("utf-8")])
        .code(0);
    let first = std::fs::read(w.sig_path(&w.owner)).expect("first signature");
    w.agentctl(&["sign", RELEASE, "--key", new.to_str().expect("utf-8")])
        .code(0)
        .says(&w.owner);
    let second = std::fs::read(w.sig_path(&w.owner)).expect("second signature");
    assert_ne!(
        first, second,
        "the new key's signature replaced the old one"
    );
    w.agentctl(&["verify", RELEASE]).code(0);
    w.ssh_verify(
        &w.allowed_signers(),
        &w.owner,
        &w.sig_path(&w.owner),
        &w.statement(RELEASE),
    )
    .code(0);
}

// 10. Expiry and revocation: validity is judged when a signature is
// verified (as `ssh-keygen -Y verify` does), and removal is retroactive.

#[test]
fn an_expired_keys_signatures_stop_counting_at_verification_time() {
    let w = World::new();
    let key = w.keygen("owner", "");
    // Valid when signed (the fixed clock is 2026-11-21T10:00:00Z).
    w.allow(&w.owner, "valid-before=\"20270101Z\"", &key);
    w.commit("trust the owner until 2027");
    w.agentctl(&["sign", RELEASE, "--key", key.to_str().expect("utf-8")])
        .code(0);
    let (allowed, sig, statement) = (
        w.allowed_signers(),
        w.sig_path(&w.owner),
        w.statement(RELEASE),
    );

    // Before, and at the last instant of the window (valid-before is
    // inclusive in OpenSSH): good for both.
    for (now, ssh_time) in [
        ("2026-11-21T10:00:00Z", "20261121100000Z"),
        ("2027-01-01T00:00:00Z", "20270101000000Z"),
    ] {
        w.agentctl_env(&["verify", RELEASE], &[("AGENTCTL_NOW", now)])
            .code(0)
            .says(&format!("{} good", w.owner));
        w.ssh_verify_at(&allowed, &w.owner, &sig, &statement, ssh_time)
            .code(0)
            .says("Good");
    }
    // One second later: the same file no longer counts, for either.
    w.agentctl_env(
        &["verify", RELEASE],
        &[("AGENTCTL_NOW", "2027-01-01T00:00:01Z")],
    )
    .code(1)
    .says(&format!("{} bad", w.owner))
    .says("expired");
    let r = w.ssh_verify_at(&allowed, &w.owner, &sig, &statement, "20270101000001Z");
    assert_ne!(r.code, 0, "{}", r.all());
    r.says("expired");
}

#[test]
fn a_renewed_line_takes_over_from_an_expired_one() {
    // The same key listed twice for the owner: an expired line first, then
    // its renewal. OpenSSH skips the line that does not allow the signature
    // and accepts the one that does; so does agentctl.
    let w = World::new();
    let key = w.keygen("owner", "");
    w.allow(&w.owner, "valid-before=\"20200101Z\"", &key);
    w.allow(&w.owner, "valid-before=\"20300101Z\"", &key);
    w.commit("renew the owner's key");
    w.agentctl(&["sign", RELEASE, "--key", key.to_str().expect("utf-8")])
        .code(0);
    w.ssh_verify_at(
        &w.allowed_signers(),
        &w.owner,
        &w.sig_path(&w.owner),
        &w.statement(RELEASE),
        "20261121100000Z",
    )
    .code(0);
    w.agentctl(&["verify", RELEASE])
        .code(0)
        .says(&format!("{} good", w.owner));
}

#[test]
fn removing_a_key_from_allowed_signers_is_retroactive() {
    let w = World::new();
    let owner_key = w.keygen("owner", "");
    let security_key = w.keygen("security", "");
    w.allow(&w.owner, "", &owner_key);
    w.allow(SECURITY, "", &security_key);
    w.commit("trust owner and security");
    for k in [&owner_key, &security_key] {
        w.agentctl(&["sign", RELEASE, "--key", k.to_str().expect("utf-8")])
            .code(0);
    }
    w.agentctl(&["verify", RELEASE]).code(0);
    // The deploy job's copy, taken while both keys were trusted.
    let deploy = w.dir().join("deploy_allowed_signers");
    std::fs::copy(w.allowed_signers(), &deploy).expect("copy trust root");

    // The owner's key is revoked: its line removed, in the repository and
    // in the deploy job's trust root.
    let public = std::fs::read_to_string(pub_of(&owner_key)).expect("pub");
    for file in [w.allowed_signers(), deploy.clone()] {
        let text = std::fs::read_to_string(&file).expect("read allowed_signers");
        let kept: String = text
            .lines()
            .filter(|l| !l.contains(public.trim()))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_ne!(kept, text, "the owner's line was there");
        std::fs::write(&file, kept).expect("write allowed_signers");
    }
    w.commit("revoke the owner's key");

    // The signature made before the removal no longer counts, anywhere.
    let d = deploy.to_str().expect("utf-8");
    for args in [
        vec!["verify", RELEASE],
        vec!["verify", RELEASE, "--allowed-signers", d],
    ] {
        w.agentctl(&args)
            .code(1)
            .says(&format!("{} unknown signer", w.owner))
            .says(&format!("{SECURITY} good"));
    }
    let r = w.ssh_verify(
        &deploy,
        &w.owner,
        &w.sig_path(&w.owner),
        &w.statement(RELEASE),
    );
    assert_ne!(r.code, 0, "{}", r.all());
    // And the key cannot sign again.
    w.agentctl(&["sign", RELEASE, "--key", owner_key.to_str().expect("utf-8")])
        .code(1)
        .says("does not list this key");
}
