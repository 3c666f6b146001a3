//! `agentctl demo`: the whole life of an agent release, in a scratch repository.
//!
//! Builds a git repository in a temp directory from the bundled examples and
//! walks through what a team does, printing each step as the command a
//! person would type and what it did. Everything runs through the same
//! library calls the commands use.

use super::{CliError, CliResult, Context};
use agentctl::ops::{self, Recorded, WriteOptions};
use agentctl::repo::Repo;
use agentctl::repo::release::ReleaseRef;
use agentctl::repo::transaction::{self, Change, Message, Record};
use anstyle::{AnsiColor, Style};
use include_dir::{Dir, include_dir};
use std::io::Write;
use std::path::{Path, PathBuf};

static EXAMPLES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/examples/agents");
const EXAMPLE_CONFIG: &str = include_str!("../../examples/agentctl.toml");

/// Tour agentctl end to end in a scratch repository.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Build the scratch repository here instead of a new temp directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

struct Tour<'a> {
    out: &'a mut dyn Write,
    step: u32,
    /// The reader went away (`agentctl demo | head`): the tour goes on
    /// quietly, as `ui::write_stdout` treats a closed pipe.
    closed: bool,
}

const HEAD: Style = AnsiColor::Cyan.on_default().bold();
const CMD: Style = Style::new().bold();
const DIM: Style = AnsiColor::BrightBlack.on_default();

impl Tour<'_> {
    fn line(&mut self, text: std::fmt::Arguments) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match writeln!(self.out, "{text}") {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }

    fn step(&mut self, title: &str, command: &str) -> std::io::Result<()> {
        self.step += 1;
        let n = self.step;
        self.line(format_args!("\n{HEAD}{n:>2}. {title}{HEAD:#}"))?;
        self.line(format_args!("    {CMD}$ {command}{CMD:#}"))
    }

    fn say(&mut self, text: &str) -> std::io::Result<()> {
        for line in text.lines() {
            self.line(format_args!("    {line}"))?;
        }
        Ok(())
    }

    fn note(&mut self, text: &str) -> std::io::Result<()> {
        self.line(format_args!("    {DIM}{text}{DIM:#}"))
    }
}

fn fail(what: &str, e: impl std::fmt::Display) -> CliError {
    CliError::usage(format!("demo step failed: {what}: {e}"))
}

/// Run it.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    ctx.require_format(&[super::Format::Human])?;
    let dir = match args.dir {
        Some(d) => d,
        None => {
            let stamp = jiff::Timestamp::now().as_second();
            std::env::temp_dir().join(format!("agentctl-demo-{stamp}-{}", std::process::id()))
        }
    };
    if dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(
            CliError::usage(format!("{} exists and is not empty", dir.display()))
                .hinted("pass --dir with a new or empty directory"),
        );
    }
    let keys = PathBuf::from(format!("{}-keys", dir.display()));
    let mut stdout = ctx.ui.stdout();
    let mut tour = Tour {
        out: &mut stdout,
        step: 0,
        closed: false,
    };
    let existed = dir.exists();
    if let Err(e) = tour_all(&mut tour, &dir, &keys) {
        // Leave nothing half-made behind: a rerun starts clean.
        if !existed {
            let _ = std::fs::remove_dir_all(&dir);
        }
        let _ = std::fs::remove_dir_all(&keys);
        return Err(e);
    }
    Ok(0)
}

fn tour_all(t: &mut Tour, dir: &Path, keys: &Path) -> CliResult<()> {
    let platform = "Sam Platform <sam.platform@example.com>";
    let oncall = "Olu Oncall <olu.oncall@example.com>";

    t.step(
        "Create a GitOps repository",
        &format!("agentctl init {}", dir.display()),
    )?;
    // The scratch repository gets its own identity before its first commit,
    // so the demo runs on a machine where git has none.
    std::fs::create_dir_all(dir).map_err(|e| fail("init", e))?;
    let mut init = git2::RepositoryInitOptions::new();
    init.initial_head("main");
    git2::Repository::init_opts(dir, &init).map_err(|e| fail("init", e))?;
    set_identity(dir)?;
    ops::init::init(dir, Record::Commit).map_err(|e| fail("init", e))?;
    t.say(&format!(
        "created {} (git repository, agentctl.toml, environments dev → staging → prod)",
        dir.display()
    ))?;

    t.step(
        "Add three agents from examples/agents; prod will require signatures and evals",
        "cp -r examples/agents/* agents/ && git commit",
    )?;
    let repo = Repo::open(dir).map_err(|e| fail("open", e))?;
    let mut changes = vec![Change::write("agentctl.toml", EXAMPLE_CONFIG)];
    changes.extend(
        agentctl::ops::scaffold::embedded_files(&EXAMPLES)
            .into_iter()
            .map(|(rel, bytes)| Change::write(format!("agents/{rel}"), bytes)),
    );
    commit(
        &repo,
        &changes,
        "add example agents: support-triage, lead-router, invoice-matcher",
    )?;
    let repo = Repo::open(dir).map_err(|e| fail("open", e))?;
    t.say("support-triage   triages helpdesk tickets (tags with approval)")?;
    t.say("lead-router      routes sales leads in the CRM (owner changes with approval)")?;
    t.say("invoice-matcher  matches invoices in the ERP (voiding is destructive: approval)")?;
    t.note(
        "prod requires an owner's and a security reviewer's signatures and passing evals (examples/agentctl.toml)",
    )?;

    t.step("Validate every bundle", "agentctl validate")?;
    let dirs =
        agentctl::validate::bundle_dirs(&[dir.join("agents")]).map_err(|e| fail("validate", e))?;
    let report = agentctl::validate::validate(
        &dirs,
        &agentctl::render::RenderEnv::all(&repo.config),
        &|| {},
    );
    t.say(&format!(
        "{} bundles: {} errors, {} warnings",
        report.summary.bundles, report.summary.errors, report.summary.warnings
    ))?;

    t.step("Release and promote to dev", "agentctl promote dev")?;
    let p = promote(&repo, "dev", platform, None)?;
    show_promote(t, &p)?;

    t.step("Promote to staging", "agentctl promote staging")?;
    let p = promote(&repo, "staging", platform, None)?;
    show_promote(t, &p)?;

    t.step(
        "Try prod before anyone has approved",
        "agentctl promote prod",
    )?;
    let p = promote(&repo, "prod", platform, None)?;
    for m in &p.moves {
        for g in m.gates.iter().filter(|g| !g.passed) {
            t.say(&format!("✗ {} {}: {}", m.agent, g.gate, g.message))?;
        }
    }
    t.note("refused, and nothing was written: prod needs signatures and eval results for exactly this content")?;

    t.step(
        "Record eval results for each release (promptfoo JSON or native)",
        "agentctl evals record support-triage@1.4.0 results.json",
    )?;
    record_evals(t, &repo, keys, &p, platform)?;

    t.step(
        "Owners and the security reviewer sign with their SSH keys",
        "agentctl sign support-triage@1.4.0 --key ~/.ssh/id_ed25519",
    )?;
    let (owner_key, security_key) = make_keys(&repo, keys)?;
    let repo = Repo::open(dir).map_err(|e| fail("open", e))?;
    for m in &p.moves {
        let r = ReleaseRef {
            name: m.agent.clone(),
            version: m.to_version.clone(),
        };
        for s in approve(&repo, &r, &owner_key, &security_key, platform)? {
            t.say(&format!(
                "signed {}@{} as {}",
                s.name, s.version, s.principal
            ))?;
        }
    }
    t.note(&format!(
        "throwaway keys in {}; their public halves are in .agentctl/allowed_signers",
        keys.display()
    ))?;

    t.step(
        "Verify what prod is about to run, as a deploy job would",
        "agentctl verify staging",
    )?;
    let trust =
        ops::admission::TrustRoot::load(&repo, None, None, None).map_err(|e| fail("verify", e))?;
    let v = ops::verify::verify(
        &repo,
        &trust,
        &ops::verify::Target::Environment("staging".into()),
    )
    .map_err(|e| fail("verify", e))?;
    for r in &v.releases {
        let good = r
            .signatures
            .iter()
            .filter(|s| s.verdict == agentctl::signing::Verdict::Good)
            .count();
        t.say(&format!(
            "{}@{}: digest ok, {good} good signature(s)",
            r.name, r.version
        ))?;
    }
    t.note("the same check works with plain OpenSSH: agentctl statement NAME@VERSION | ssh-keygen -Y verify …")?;

    t.step(
        "Promote to prod",
        "agentctl promote prod --reason \"weekly release\"",
    )?;
    let p = promote(&repo, "prod", platform, Some("weekly release"))?;
    show_promote(t, &p)?;

    t.step(
        "Change a prompt and loosen a tool's timeout; bump the version",
        "$EDITOR agents/support-triage/{agent.yaml,prompts/system.md.j2} && git commit",
    )?;
    edit_support_triage(&repo)?;
    let repo = Repo::open(dir).map_err(|e| fail("open", e))?;
    t.say("support-triage 1.4.0 → 1.5.0: one sentence added to the system prompt, helpdesk timeout raised")?;

    t.step(
        "Review the change as a pull request would",
        "agentctl diff --base HEAD~1 --format markdown",
    )?;
    let before = agentctl::diff::side_at_ref(&repo, "HEAD~1").map_err(|e| fail("diff", e))?;
    let after = agentctl::diff::side_at_ref(&repo, "HEAD").map_err(|e| fail("diff", e))?;
    let d = agentctl::diff::compare(Some(&repo), &before, &after).map_err(|e| fail("diff", e))?;
    for a in &d.agents {
        t.say(&format!(
            "{} {}  [{} risk]",
            a.name,
            a.status_line(),
            a.risk
        ))?;
        for c in &a.changes {
            t.say(&format!("  {:<6} {}", c.risk, c.summary))?;
        }
    }

    t.step("Gate it as CI would", "agentctl check --base HEAD~1")?;
    let report = agentctl::check::check(
        &repo,
        &agentctl::check::CheckOptions {
            base: Some("HEAD~1".into()),
            all: false,
        },
    )
    .map_err(|e| fail("check", e))?;
    for b in &report.bundles {
        let passed: Vec<&str> = b
            .checks
            .iter()
            .filter(|c| c.findings.iter().all(|f| !f.is_error()))
            .map(|c| c.check)
            .collect();
        t.say(&format!(
            "{} ({}): passed {}",
            b.name,
            b.change,
            passed.join(", ")
        ))?;
    }
    for f in report.findings().filter(|f| f.rule == "policy-preview") {
        t.note(&f.message)?;
    }
    t.say(&format!(
        "{} errors: the change may merge",
        report.summary.errors
    ))?;

    t.step(
        "Promote the change through dev and staging",
        "agentctl promote dev && agentctl promote staging",
    )?;
    show_promote(t, &promote(&repo, "dev", platform, None)?)?;
    show_promote(t, &promote(&repo, "staging", platform, None)?)?;

    t.step(
        "Record evals, approve and promote 1.5.0 to prod",
        "agentctl evals record … && agentctl sign support-triage@1.5.0 … && agentctl promote prod",
    )?;
    let r = ReleaseRef {
        name: "support-triage".into(),
        version: "1.5.0".into(),
    };
    // Evals first, then approvals: a signature vouches for the eval
    // records present when it is made.
    let pending = preview_promote(&repo, "prod", platform)?;
    record_evals(t, &repo, keys, &pending, platform)?;
    approve(&repo, &r, &owner_key, &security_key, platform)?;
    show_promote(t, &promote(&repo, "prod", platform, Some("better tone"))?)?;

    t.step(
        "Customers complain: roll prod back in one command",
        "agentctl rollback prod support-triage --reason \"answers too long\"",
    )?;
    let rb = ops::rollback::rollback(
        &repo,
        &ops::rollback::RollbackOptions {
            env: "prod".into(),
            agent: Some("support-triage".into()),
            to: None,
            write: opts(oncall, Some("answers too long")),
            trust_root: None,
            allowed_signers: None,
            signer_roles: None,
        },
    )
    .map_err(|e| fail("rollback", e))?;
    for s in &rb.steps {
        t.say(&format!(
            "{}: {} → {}",
            s.agent,
            s.from_version,
            s.to_version.as_deref().unwrap_or("(removed)")
        ))?;
    }

    t.step(
        "An operator pulls the stop button (no engineer needed)",
        "agentctl mode prod invoice-matcher disabled --reason \"ERP maintenance\"",
    )?;
    let m = ops::mode::set_mode(
        &repo,
        "prod",
        "invoice-matcher",
        Some(agentctl::repo::environment::Mode::Disabled),
        &opts(oncall, Some("ERP maintenance")),
    )
    .map_err(|e| fail("mode", e))?;
    t.say(&format!(
        "invoice-matcher in prod: {} → disabled",
        m.previous_mode
    ))?;

    t.step("See what runs where", "agentctl status")?;
    let st = ops::status::status(&repo).map_err(|e| fail("status", e))?;
    for a in &st.agents {
        let cells: Vec<String> = st
            .environments
            .iter()
            .map(|e| match a.pin(e) {
                Some(p) if p.mode == agentctl::repo::environment::Mode::Active => {
                    format!("{e} {}", p.version)
                }
                Some(p) => format!("{e} {} ({})", p.version, p.mode),
                None => format!("{e} -"),
            })
            .collect();
        t.say(&format!("{:<16} {}", a.name, cells.join("   ")))?;
    }

    let commits = count_commits(dir);
    t.line(format_args!(
        "\n{HEAD}Done.{HEAD:#} The scratch repository is {}",
        dir.display()
    ))?;
    t.say(&format!(
        "{commits} commits, one per change, each with machine-readable trailers. Explore it:"
    ))?;
    t.say(&format!("  cd {}", dir.display()))?;
    t.say("  git log --stat                 # every release, promotion, signature, rollback")?;
    t.say("  agentctl status                # what runs where")?;
    t.say("  agentctl history prod          # who changed what, when, why")?;
    t.say(
        "  agentctl verify prod           # digests and signatures, as a deploy job checks them",
    )?;
    t.note(&format!(
        "(without agentctl installed: `cargo run -- -C {} status` from the agentctl checkout)",
        dir.display()
    ))?;
    Ok(())
}

/// Sign a release as its first owner and as the security reviewer.
fn approve(
    repo: &Repo,
    r: &ReleaseRef,
    owner_key: &Path,
    security_key: &Path,
    actor: &str,
) -> CliResult<Vec<ops::sign::SignReport>> {
    let owner = ops::verify::owner_emails(repo, &r.name, &r.version)
        .into_iter()
        .next()
        .ok_or_else(|| fail("sign", "the release names no owner email"))?;
    let opts = opts(actor, None);
    let mut out = Vec::new();
    for (key, principal) in [
        (owner_key, owner.as_str()),
        (security_key, "rachel.osei@example.com"),
    ] {
        let source = agentctl::signing::key_source(key).map_err(|e| fail("sign", e))?;
        out.push(
            ops::sign::sign(repo, r, &source, Some(principal), &|| None, &opts)
                .map_err(|e| fail("sign", e))?,
        );
    }
    Ok(out)
}

/// Record a passing native eval result for every suite of every planned move.
fn record_evals(
    t: &mut Tour,
    repo: &Repo,
    keys: &Path,
    plan: &ops::promote::PromoteReport,
    actor: &str,
) -> CliResult<()> {
    std::fs::create_dir_all(keys).map_err(|e| fail("evals", e))?;
    for m in &plan.moves {
        let r = ReleaseRef {
            name: m.agent.clone(),
            version: m.to_version.clone(),
        };
        let suites: Vec<String> = repo
            .release_manifest(&r.name, &r.version)
            .and_then(|m| m.evals)
            .map(|e| e.suites.into_iter().map(|s| s.name).collect())
            .unwrap_or_default();
        for suite in suites {
            let results_file = keys.join(format!("{}-{}-{suite}.json", r.name, r.version));
            let results = serde_json::json!({
                "suite": suite,
                "passed": 48,
                "failed": 1,
                "errors": 0,
                "run_at": agentctl::repo::format_time(agentctl::repo::now()),
            });
            std::fs::write(&results_file, results.to_string()).map_err(|e| fail("evals", e))?;
            let rec = ops::evals::record(
                repo,
                &r,
                &results_file,
                Some(&suite),
                None,
                &opts(actor, None),
            )
            .map_err(|e| fail("evals record", e))?;
            t.say(&format!(
                "{}@{} {suite}: {}/{} passed ({:.0}%)",
                r.name,
                r.version,
                rec.record.passed,
                rec.record.passed + rec.record.failed + rec.record.errors,
                rec.pass_rate * 100.0
            ))?;
        }
    }
    Ok(())
}

/// The tour's write options: a commit by `actor`.
fn opts(actor: &str, reason: Option<&str>) -> WriteOptions {
    WriteOptions {
        actor: Some(actor.to_string()),
        reason: reason.map(str::to_string),
        record: Record::Commit,
    }
}

fn promote(
    repo: &Repo,
    env: &str,
    actor: &str,
    reason: Option<&str>,
) -> CliResult<ops::promote::PromoteReport> {
    promote_as(repo, env, opts(actor, reason), false)
}

/// `promote ENV --dry-run`.
fn preview_promote(repo: &Repo, env: &str, actor: &str) -> CliResult<ops::promote::PromoteReport> {
    promote_as(repo, env, opts(actor, None), true)
}

fn promote_as(
    repo: &Repo,
    env: &str,
    write: WriteOptions,
    dry_run: bool,
) -> CliResult<ops::promote::PromoteReport> {
    ops::promote::promote(
        repo,
        &ops::promote::PromoteOptions {
            env: env.into(),
            agents: Vec::new(),
            dry_run,
            write,
            allowed_signers: None,
            signer_roles: None,
            trust_root: None,
        },
    )
    .map_err(|e| {
        let dry = if dry_run { " --dry-run" } else { "" };
        fail(&format!("promote {env}{dry}"), e)
    })
}

fn show_promote(t: &mut Tour, p: &ops::promote::PromoteReport) -> CliResult<()> {
    for m in &p.moves {
        let gates: Vec<&str> = m.gates.iter().map(|g| g.gate).collect();
        t.say(&format!(
            "{} {} → {}   gates passed: {}",
            m.agent,
            m.from_version.as_deref().unwrap_or("(new)"),
            m.to_version,
            gates.join(", ")
        ))?;
    }
    if let Recorded::Commit { commit } = &p.recorded {
        t.note(&format!("one commit: {}", &commit[..10]))?;
    }
    Ok(())
}

fn commit(repo: &Repo, changes: &[Change], subject: &str) -> CliResult<()> {
    let (lock, start) = transaction::begin(repo, Record::Commit).map_err(|e| fail(subject, e))?;
    let message = Message {
        subject: subject.into(),
        ..Message::default()
    };
    transaction::apply(repo, &lock, start.as_ref(), changes, &message)
        .map_err(|e| fail(subject, e))?;
    Ok(())
}

fn set_identity(dir: &Path) -> CliResult<()> {
    let git = git2::Repository::open(dir).map_err(|e| fail("git identity", e))?;
    let mut cfg = git.config().map_err(|e| fail("git identity", e))?;
    cfg.set_str("user.name", "agentctl demo")
        .map_err(|e| fail("git identity", e))?;
    cfg.set_str("user.email", "demo@example.com")
        .map_err(|e| fail("git identity", e))?;
    Ok(())
}

fn make_keys(repo: &Repo, keys: &Path) -> CliResult<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(keys).map_err(|e| fail("keys", e))?;
    let mut lines = String::from(agentctl::ops::init::ALLOWED_SIGNERS);
    let mut owners: Vec<String> = Vec::new();
    for name in repo.agent_names().map_err(|e| fail("keys", e))? {
        for v in repo.release_versions(&name).map_err(|e| fail("keys", e))? {
            owners.extend(ops::verify::owner_emails(repo, &name, &v));
        }
    }
    owners.sort();
    owners.dedup();
    let mut paths = Vec::new();
    for (file, principals) in [
        ("owner", owners.join(",")),
        ("security", "rachel.osei@example.com".to_string()),
    ] {
        let key = ssh_key::PrivateKey::random(&mut rand_core::OsRng, ssh_key::Algorithm::Ed25519)
            .map_err(|e| fail("keys", e))?;
        let path = keys.join(file);
        let pem = key
            .to_openssh(ssh_key::LineEnding::LF)
            .map_err(|e| fail("keys", e))?;
        // Private keys are 0600, as ssh-keygen insists.
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(|e| fail("keys", e))?;
            f.write_all(pem.as_bytes()).map_err(|e| fail("keys", e))?;
        }
        let public = key.public_key().to_openssh().map_err(|e| fail("keys", e))?;
        std::fs::write(keys.join(format!("{file}.pub")), format!("{public}\n"))
            .map_err(|e| fail("keys", e))?;
        lines.push_str(&format!("{principals} namespaces=\"agentctl\" {public}\n"));
        paths.push(path);
    }
    commit(
        repo,
        &[Change::write(".agentctl/allowed_signers", lines)],
        "trust the demo's owner and security keys",
    )?;
    Ok((paths[0].clone(), paths[1].clone()))
}

fn edit_support_triage(repo: &Repo) -> CliResult<()> {
    let dir = repo.agent_dir("support-triage");
    let manifest = std::fs::read_to_string(dir.join("agent.yaml")).map_err(|e| fail("edit", e))?;
    let manifest = manifest
        .replacen("version: 1.4.0", "version: 1.5.0", 1)
        .replacen("timeout: 5s", "timeout: 15s", 1);
    let prompt =
        std::fs::read_to_string(dir.join("prompts/system.md.j2")).map_err(|e| fail("edit", e))?;
    let prompt = format!("{prompt}\nKeep every reply under 120 words.\n");
    commit(
        repo,
        &[
            Change::write("agents/support-triage/agent.yaml", manifest),
            Change::write("agents/support-triage/prompts/system.md.j2", prompt),
        ],
        "support-triage 1.5.0: shorter replies, more patient helpdesk lookups",
    )
}

fn count_commits(dir: &Path) -> usize {
    git2::Repository::open(dir)
        .ok()
        .and_then(|g| {
            let mut walk = g.revwalk().ok()?;
            walk.push_head().ok()?;
            Some(walk.count())
        })
        .unwrap_or(0)
}
