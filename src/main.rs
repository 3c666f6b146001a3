//! The agentctl binary: parse, dispatch, map errors to exit codes and hints.

use clap::Parser;
use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let ui = cli::ui::Ui::new(cli.color, cli.quiet);
    match cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            ui.error(&e.message, e.hint.as_deref());
            ExitCode::from(e.code)
        }
    }
}
