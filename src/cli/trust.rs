//! `agentctl trust export DIR`: write a trust root for a deploy job to keep.

use super::common::{open_repo, print_report};
use super::{CliResult, Context, Format};
use std::path::PathBuf;

/// Manage trust roots held outside the repository.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: TrustCommand,
}

/// Trust root commands.
#[derive(Debug, clap::Subcommand)]
pub enum TrustCommand {
    /// Write allowed_signers and policy.toml (roles, environment policies)
    /// from the repository as it is now into DIR.
    Export {
        /// The trust root directory (created if missing; keep it outside the repository).
        #[arg(value_hint = clap::ValueHint::DirPath)]
        dir: PathBuf,
    },
}

/// Run it.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    ctx.require_format(&[Format::Human, Format::Json])?;
    let TrustCommand::Export { dir } = args.command;
    let repo = open_repo()?;
    let written = agentctl::ops::admission::export(&repo, &dir)?;
    let json = serde_json::json!({ "trust_root": dir, "files": written });
    print_report(ctx, &json, |w| {
        for f in &written {
            writeln!(w, "wrote {}", f.display())?;
        }
        Ok(())
    })?;
    ctx.ui.status(&format!(
        "deploy jobs: `agentctl verify prod --trust-root {}` (or AGENTCTL_TRUST_ROOT)",
        dir.display()
    ));
    Ok(0)
}
