//! `agentctl history ENV [NAME]`

use super::common::{open_repo, print_report};
use super::{CliResult, Context, Format};
use agentctl::ops::history::history;

/// Show who changed what in an environment, when and why (newest first).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment.
    pub env: String,
    /// Only this agent.
    pub name: Option<String>,
    /// At most this many entries.
    #[arg(short = 'n', long)]
    pub limit: Option<usize>,
}

/// Run it.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    ctx.require_format(&[Format::Human, Format::Json])?;
    let repo = open_repo()?;
    let report = history(&repo, &args.env, args.name.as_deref(), args.limit)?;
    print_report(ctx, &report, |w| {
        if report.entries.is_empty() {
            return writeln!(w, "no history in {} yet", report.environment);
        }
        for e in &report.entries {
            let change = match (&e.from_version, &e.to_version, e.mode) {
                (_, _, Some(m)) => format!("mode → {m}"),
                (f, Some(t), _) => format!("{} → {t}", f.as_deref().unwrap_or("(new)")),
                (Some(f), None, _) => format!("{f} → (removed)"),
                (None, None, _) => String::new(),
            };
            let commit = e
                .commit
                .as_deref()
                .map(|c| &c[..c.len().min(10)])
                .unwrap_or("-");
            writeln!(
                w,
                "{}  {:<8} {:<20} {:<22} {}  {}{}",
                e.time,
                e.action.as_str(),
                e.agent,
                change,
                commit,
                e.actor,
                e.reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            )?;
        }
        Ok(())
    })?;
    Ok(0)
}
