//! `agentctl schema`

use super::{CliResult, Context, Format, ui};

/// Print the manifest's JSON Schema (draft 2020-12).
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run it.
pub fn run(ctx: &Context, _args: Args) -> CliResult<u8> {
    ctx.require_format(&[Format::Human, Format::Json])?;
    ui::write_stdout(&ctx.ui, |w| {
        w.write_all(agentctl::schema::manifest_schema_json().as_bytes())
    })?;
    Ok(0)
}
