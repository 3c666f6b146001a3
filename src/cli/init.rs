//! `agentctl init [DIR]`

use super::common::{print_report, record, write_created};
use super::{CliResult, Context, Format};
use std::path::PathBuf;

/// Create an agentctl repository (and a git repository if there is none).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where [default: the current directory].
    pub dir: Option<PathBuf>,

    /// Write the files only, without a commit.
    #[arg(long)]
    pub no_commit: bool,
}

/// Run it.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    ctx.require_format(&[Format::Human, Format::Json])?;
    let dir = match args.dir {
        Some(d) => d,
        None => std::env::current_dir()?,
    };
    let report = agentctl::ops::init::init(&dir, record(args.no_commit))?;
    print_report(ctx, &report, |w| write_created(w, &report.files))?;
    if report.created_git {
        ctx.ui.status(&format!(
            "initialized a git repository in {}",
            dir.display()
        ));
    }
    super::common::recorded_line(ctx, &report.recorded);
    ctx.ui.status(
        "next: `agentctl new NAME` or copy a bundle into agents/, then `agentctl promote dev`",
    );
    Ok(0)
}
