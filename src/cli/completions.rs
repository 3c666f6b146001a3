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
    // clap_complete panics when its writer fails (a closed pipe, as in
    // `| head`), so generate into memory and write through `write_stdout`.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "agentctl", &mut script);
    ui::write_stdout(&ctx.ui, |w| w.write_all(&script))?;
    Ok(0)
}

/// Run `man`.
pub fn run_man(ctx: &Context, _args: ManArgs) -> CliResult<u8> {
    let cmd = Cli::command();
    ui::write_stdout(&ctx.ui, |w| clap_mangen::Man::new(cmd).render(w))?;
    Ok(0)
}
