//! Options and helpers several subcommands share.

use super::{CliResult, Context, Format, ui};
use agentctl::ops::{Recorded, WriteOptions, with_push};
use agentctl::repo::transaction::Record;
use agentctl::repo::{Repo, RepoError};

/// Options of every command that changes the repository.
#[derive(Debug, Clone, clap::Args)]
pub struct WriteArgs {
    /// Who is acting (default: git's user.name <user.email>).
    #[arg(long, value_name = "NAME <EMAIL>")]
    pub actor: Option<String>,

    /// Write the files only, without a commit (for pull-request flows).
    #[arg(long, conflicts_with = "push")]
    pub no_commit: bool,

    /// Push the commit to REMOTE [default: origin]; if another runner pushed
    /// first, redo the operation on top of its work and retry.
    #[arg(long, value_name = "REMOTE", num_args = 0..=1, default_missing_value = "origin")]
    pub push: Option<String>,
}

impl WriteArgs {
    /// Library options, with a reason.
    pub fn options(&self, reason: Option<String>) -> WriteOptions {
        WriteOptions {
            actor: self.actor.clone(),
            reason,
            record: record(self.no_commit),
        }
    }

    /// Run `op` on the repository, pushing (with retries) when asked to.
    pub fn execute<T, E: From<RepoError>>(
        &self,
        op: impl FnMut(&Repo) -> Result<T, E>,
        recorded: impl Fn(&T) -> &Recorded,
    ) -> CliResult<Result<T, E>> {
        let mut op = op;
        match &self.push {
            None => {
                let repo = open_repo()?;
                Ok(op(&repo))
            }
            Some(remote) => Ok(with_push(&repo_root()?, remote, op, recorded)),
        }
    }
}

/// Open the repository around the current directory.
pub fn open_repo() -> CliResult<Repo> {
    let cwd = std::env::current_dir()?;
    let repo = Repo::discover(&cwd)?;
    for note in &repo.notes {
        super::ui::early_warning(note);
    }
    Ok(repo)
}

/// How a change is recorded: a commit, or with `--no-commit` files only.
pub fn record(no_commit: bool) -> Record {
    if no_commit {
        Record::FilesOnly
    } else {
        Record::Commit
    }
}

/// The root of the repository around the current directory (without
/// opening it).
pub fn repo_root() -> CliResult<std::path::PathBuf> {
    let cwd = std::env::current_dir()?;
    agentctl::repo::find_root(&cwd).ok_or_else(|| RepoError::NotARepository(cwd).into())
}

/// A status line saying what was recorded.
pub fn recorded_line(ctx: &Context, r: &Recorded) {
    match r {
        Recorded::Commit { commit } => ctx
            .ui
            .status(&format!("committed {}", &commit[..commit.len().min(12)])),
        Recorded::FilesOnly => ctx.ui.status("files written; not committed (--no-commit)"),
        Recorded::Nothing => ctx.ui.status("nothing to do"),
        Recorded::DryRun => ctx.ui.status("dry run: nothing written"),
    }
}

/// Write a value as pretty JSON with a newline.
pub fn write_json<T: serde::Serialize>(
    w: &mut dyn std::io::Write,
    value: &T,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value)?;
    writeln!(w)
}

/// Print `report` as JSON under `--format json`, otherwise as `human` writes it.
pub fn print_report<T: serde::Serialize>(
    ctx: &Context,
    report: &T,
    human: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    ui::write_stdout(&ctx.ui, |w| match ctx.format {
        Format::Json => write_json(w, report),
        _ => human(w),
    })
}

/// Where trust comes from, when not from the repository itself.
#[derive(Debug, Clone, clap::Args)]
pub struct TrustArgs {
    /// Judge against this trust root directory (allowed_signers, policy.toml)
    /// held outside the repository: its roles and environment policies win.
    #[arg(long, value_name = "DIR", env = "AGENTCTL_TRUST_ROOT", value_hint = clap::ValueHint::DirPath)]
    pub trust_root: Option<std::path::PathBuf>,

    /// Trust this allowed_signers file instead of the repository's own
    /// (a deploy job's copy: a pull request cannot approve itself).
    #[arg(long, value_name = "PATH")]
    pub allowed_signers: Option<std::path::PathBuf>,

    /// Take signer roles from this TOML file's `[roles]` table instead of agentctl.toml.
    #[arg(long, value_name = "PATH")]
    pub signer_roles: Option<std::path::PathBuf>,
}

/// `created PATH`, one line per file written.
pub fn write_created(w: &mut dyn std::io::Write, files: &[String]) -> std::io::Result<()> {
    for f in files {
        writeln!(w, "created {f}")?;
    }
    Ok(())
}
