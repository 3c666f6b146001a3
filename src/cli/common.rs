//! Options and helpers several subcommands share.

use super::{CliResult, Context};
use agentctl::ops::{Recorded, WriteOptions};
use agentctl::repo::Repo;
use agentctl::repo::transaction::Record;

/// Options of every command that changes the repository.
#[derive(Debug, Clone, clap::Args)]
pub struct WriteArgs {
    /// Who is acting (default: git's user.name <user.email>).
    #[arg(long, value_name = "NAME <EMAIL>")]
    pub actor: Option<String>,

    /// Write the files only, without a commit (for pull-request flows).
    #[arg(long)]
    pub no_commit: bool,
}

impl WriteArgs {
    /// Library options, with a reason.
    pub fn options(&self, reason: Option<String>) -> WriteOptions {
        WriteOptions {
            actor: self.actor.clone(),
            reason,
            record: if self.no_commit {
                Record::FilesOnly
            } else {
                Record::Commit
            },
        }
    }
}

/// Open the repository around the current directory.
pub fn open_repo() -> CliResult<Repo> {
    let cwd = std::env::current_dir()?;
    Ok(Repo::discover(&cwd)?)
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
