//! `agentctl docs NAME [--env ENV] [--out FILE]`

use super::common::open_repo;
use super::{CliError, CliResult, Context, Format, ui};
use std::path::PathBuf;

/// Generate the operator runbook (Markdown) from the bundle.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The agent.
    pub name: String,

    /// Document the release this environment runs [default: agents/NAME].
    #[arg(long)]
    pub env: Option<String>,

    /// Write to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Run it.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    ctx.require_format(&[Format::Human, Format::Markdown])?;
    let repo = open_repo()?;
    let text = agentctl::ops::docs::runbook(&repo, &args.name, args.env.as_deref())?;
    match &args.out {
        Some(path) => {
            agentctl::files::write_output(path, text.as_bytes())
                .map_err(agentctl::repo::RepoError::from)
                .map_err(CliError::from)?;
            ctx.ui.status(&format!("wrote {}", path.display()));
        }
        None => ui::write_stdout(&ctx.ui, |w| w.write_all(text.as_bytes()))?,
    }
    Ok(0)
}
