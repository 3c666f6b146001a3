//! `agentctl new NAME`

use super::common::{open_repo, print_report, write_created};
use super::{CliResult, Context, Format};

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
    print_report(ctx, &report, |w| write_created(w, &report.files))?;
    ctx.ui.status(&format!(
        "scaffolded agents/{} from {}; replace every FILL-ME (`agentctl validate agents/{}` lists them), then commit",
        report.name, report.templates, report.name
    ));
    Ok(0)
}
