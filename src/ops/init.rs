//! `agentctl init`: scaffold a repository.

use super::Recorded;
use crate::repo::config::{Config, DEFAULT_CONFIG};
use crate::repo::environment::{EnvState, state_path};
use crate::repo::transaction::{self, Change, Message, Record};
use crate::repo::{CONFIG_FILE, Repo, RepoError, io_error};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The allowed_signers file `init` writes.
pub const ALLOWED_SIGNERS: &str = "# OpenSSH allowed_signers: the principals whose signatures agentctl accepts.\n# One line per key:  <email> namespaces=\"agentctl\" ssh-ed25519 AAAA... comment\n# Protect this file with CODEOWNERS: whoever can edit it can approve releases.\n";

/// The .gitattributes `init` writes: bundle bytes never change on checkout.
pub const GITATTRIBUTES: &str = "# Written by agentctl init: digests are over bytes, so no line-ending conversion.\nagents/** -text\nreleases/** -text\nenvironments/** -text\n.agentctl/** -text\n# Logs only grow: a merge keeps both sides' events (agentctl's merge driver).\nenvironments/*.log merge=agentctl-log\n";

/// What init did.
#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    /// The repository root.
    pub root: PathBuf,
    /// Whether a new git repository was created.
    pub created_git: bool,
    /// Files created.
    pub files: Vec<String>,
    /// The commit.
    pub recorded: Recorded,
}

/// Create an agentctl repository in `dir` (creating the directory and a git
/// repository when needed).
pub fn init(dir: &Path, record: Record) -> Result<InitReport, RepoError> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    if dir.join(CONFIG_FILE).exists() {
        return Err(RepoError::Unsafe {
            message: format!("{} already has an agentctl.toml", dir.display()),
            hint: "this is already an agentctl repository; see `agentctl status`".into(),
        });
    }
    let (git, created_git) = match git2::Repository::discover(dir) {
        Ok(g) => (g, false),
        Err(_) => {
            let mut opts = git2::RepositoryInitOptions::new();
            opts.initial_head("main");
            (git2::Repository::init_opts(dir, &opts)?, true)
        }
    };
    let config = Config::parse(DEFAULT_CONFIG, Path::new(CONFIG_FILE))?;
    let mut changes = vec![
        Change::write(CONFIG_FILE, DEFAULT_CONFIG),
        Change::write(".agentctl/allowed_signers", ALLOWED_SIGNERS),
        Change::write(".gitattributes", merged_gitattributes(dir)),
        Change::write("agents/.gitkeep", ""),
        Change::write(
            ".agentctl/agent.schema.json",
            crate::schema::manifest_schema_json(),
        ),
    ];
    for env in &config.environments {
        changes.push(Change::write(
            state_path(&env.name),
            EnvState::default().to_yaml(),
        ));
    }
    let repo = Repo::from_parts(dir, config, Some(git))?;
    let (lock, start) = transaction::begin(&repo, record)?;
    let mut message = Message {
        subject: "init agentctl repository".into(),
        body: "Environments: dev → staging → prod.".into(),
        ..Message::default()
    };
    message.trailer("Action", "init");
    let outcome = transaction::apply(&repo, &lock, start.as_ref(), &changes, &message)?;
    Ok(InitReport {
        root: dir.to_path_buf(),
        created_git,
        files: changes.iter().map(|c| c.path.clone()).collect(),
        recorded: outcome.into(),
    })
}

fn merged_gitattributes(dir: &Path) -> String {
    match std::fs::read_to_string(dir.join(".gitattributes")) {
        Ok(existing) if existing.contains("agents/** -text") => existing,
        Ok(existing) => format!("{}\n{GITATTRIBUTES}", existing.trim_end()),
        Err(_) => GITATTRIBUTES.to_string(),
    }
}
