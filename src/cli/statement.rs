//! `agentctl statement NAME@VERSION`

use super::common::open_repo;
use super::{CliError, CliResult, Context, Format, ui};
use agentctl::repo::release::ReleaseRef;

/// Print the release statement a signature made now covers.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The release, as NAME@VERSION.
    pub release: String,
}

/// Parse NAME@VERSION or explain.
pub fn parse_release(s: &str) -> CliResult<ReleaseRef> {
    ReleaseRef::parse(s).ok_or_else(|| {
        CliError::usage(format!("`{s}` is not NAME@VERSION")).hinted("e.g. support-triage@1.4.0")
    })
}

/// Run it.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    ctx.require_format(&[Format::Human])?;
    let r = parse_release(&args.release)?;
    let repo = open_repo()?;
    // Recompute from the files: a statement for tampered content is refused
    // (exit 1), so `agentctl statement | ssh-keygen -Y verify` cannot be fooled.
    let text = agentctl::repo::evidence::current(&repo, &r.name, &r.version)?.render();
    ui::write_stdout(&ctx.ui, |w| w.write_all(text.as_bytes()))?;
    Ok(0)
}
