//! `agentctl new NAME`

use super::common::{open_repo, write_created, write_json};
use super::{CliResult, Context, Format, ui};

/// Scaffold a complete bundle under agents/NAME from templates.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The agent's name (lowercase letters, digits, dashes).
    pub name: String,
}

/// Run it.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    ctx.require_format(&[Format::Human, Format::Json])?;
    let repo = open_repo()?;
    let report = agentctl::ops::scaffold::new_bundle(&repo, &args.name)?;
    ui::write_stdout(&ctx.ui, |w| match ctx.format {
        Format::Json => write_json(w, &report),
        _ => write_created(w, &report.files),
    })?;
    ctx.ui.status(&format!(
        "scaffolded agents/{} from {}; replace every FILL-ME (`agentctl validate agents/{}` lists them), then commit",
        report.name, report.templates, report.name
    ));
    Ok(0)
}
