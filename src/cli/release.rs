//! `agentctl release NAME`

use super::common::{WriteArgs, open_repo, print_report, recorded_line};
use super::{CliError, CliResult, Context, Format};
use agentctl::ops::release::{self, ReleaseError};
use agentctl::report::human::SnippetWriter;

/// Freeze agents/NAME as releases/NAME/VERSION.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The agent.
    pub name: String,

    #[command(flatten)]
    pub write: WriteArgs,
}

/// Run it.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    ctx.require_format(&[Format::Human, Format::Json])?;
    let opts = args.write.options(None);
    match args.write.execute(
        |repo| release::release(repo, &args.name, &opts),
        |r| &r.recorded,
    )? {
        Ok(report) => {
            print_report(ctx, &report, |w| {
                if report.created {
                    writeln!(
                        w,
                        "released {}@{} {}",
                        report.name, report.version, report.digest
                    )
                } else {
                    writeln!(
                        w,
                        "{}@{} is already released with this content ({})",
                        report.name, report.version, report.digest
                    )
                }
            })?;
            recorded_line(ctx, &report.recorded);
            Ok(0)
        }
        Err(ReleaseError::NotReady { name, findings, .. }) => {
            let refusal =
                serde_json::json!({"name": name, "released": false, "findings": findings});
            print_report(ctx, &refusal, |w| {
                SnippetWriter::default().write_all(w, &findings)
            })?;
            Err(CliError::refused(format!(
                "{name} is not ready to release: {} error(s); nothing was written",
                findings.len()
            ))
            .hinted(format!(
                "fix the findings above (`agentctl validate agents/{name}`)"
            )))
        }
        Err(e @ ReleaseError::VersionReused { .. }) => Err(CliError::refused(e.to_string())
            .hinted("bump `version` in agent.yaml: a released version never changes content")),
        Err(e @ ReleaseError::Uncommitted { .. }) => Err(CliError::refused(format!(
            "{e}; nothing was written"
        ))
        .hinted(
            "a release freezes the committed bundle: commit the changes (`git add agents/ && git commit`), or remove untracked and ignored files from the bundle directory",
        )),
        Err(e @ ReleaseError::NoSuchAgent(_)) => {
            Err(CliError::usage(e.to_string()).hinted(open_repo()?.agents_hint()))
        }
        Err(ReleaseError::Repo(e)) => Err(e.into()),
    }
}
