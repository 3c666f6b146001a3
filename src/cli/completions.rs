//! `agentctl completions SHELL` and `agentctl man`

use super::{Cli, CliResult, Context, ui};
use clap::CommandFactory;

/// Print a shell completion script.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Print the man page (roff).
#[derive(Debug, clap::Args)]
pub struct ManArgs {}

/// Run `completions`.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    let mut cmd = Cli::command();
    ui::write_stdout(&ctx.ui, |w| {
        clap_complete::generate(args.shell, &mut cmd, "agentctl", w);
        Ok(())
    })?;
    Ok(0)
}

/// Run `man`.
pub fn run_man(ctx: &Context, _args: ManArgs) -> CliResult<u8> {
    let cmd = Cli::command();
    ui::write_stdout(&ctx.ui, |w| clap_mangen::Man::new(cmd).render(w))?;
    Ok(0)
}
