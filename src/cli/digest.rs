//! `agentctl digest PATH`

use super::common::print_report;
use super::{CliError, CliResult, Context, Format};
use std::path::PathBuf;

/// Print the canonical digest of a bundle directory.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The bundle directory.
    pub path: PathBuf,
}

/// Run it.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    ctx.require_format(&[Format::Human, Format::Json])?;
    if !args.path.is_dir() {
        return Err(
            CliError::usage(format!("{} is not a directory", args.path.display()))
                .hinted("pass a bundle directory such as agents/NAME"),
        );
    }
    let d = agentctl::digest::digest_dir(&args.path).map_err(|e| {
        CliError::usage(e.to_string())
            .hinted("bundles hold regular files with plain names only; remove the offending entry")
    })?;
    let files: Vec<_> = d
        .files
        .iter()
        .map(|f| serde_json::json!({"path": f.path, "sha256": f.hash.to_string(), "size": f.size}))
        .collect();
    let json = serde_json::json!({"digest": d.digest, "files": files});
    print_report(ctx, &json, |w| writeln!(w, "{}", d.digest))?;
    Ok(0)
}
