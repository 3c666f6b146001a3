//! `agentctl rollback ENV [NAME] [--to VERSION] --reason R`

use super::common::{TrustArgs, WriteArgs, print_report, recorded_line};
use super::{CliResult, Context, Format};
use agentctl::ops::rollback::{self, RollbackOptions};

/// Pin the previous (or given) release again.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment.
    pub env: String,

    /// The agent [default: every agent the last promotion changed].
    pub name: Option<String>,

    /// Roll back to this version instead of the previous one.
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,

    /// Why (required; recorded in the log and the commit).
    #[arg(long)]
    pub reason: String,

    #[command(flatten)]
    pub write: WriteArgs,

    #[command(flatten)]
    pub trust: TrustArgs,
}

/// Run it.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    ctx.require_format(&[Format::Human, Format::Json])?;
    let opts = RollbackOptions {
        env: args.env,
        agent: args.name,
        to: args.to,
        write: args.write.options(Some(args.reason)),
        trust_root: args.trust.trust_root.clone(),
        allowed_signers: args.trust.allowed_signers.clone(),
        signer_roles: args.trust.signer_roles.clone(),
    };
    let report = args
        .write
        .execute(|repo| rollback::rollback(repo, &opts), |r| &r.recorded)??;
    print_report(ctx, &report, |w| {
        for s in &report.steps {
            writeln!(
                w,
                "rolled back {} in {}: {} → {}",
                s.agent,
                report.environment,
                s.from_version,
                s.to_version
                    .as_deref()
                    .unwrap_or("(removed: the promotion added it)")
            )?;
        }
        Ok(())
    })?;
    recorded_line(ctx, &report.recorded);
    Ok(0)
}
