//! `agentctl evals record NAME@VERSION FILE`

use super::common::{WriteArgs, print_report, recorded_line};
use super::{CliError, CliResult, Context, Format};
use agentctl::evals::{MAX_CASES, ResultsError};
use agentctl::ops::evals::{RecordError, SuiteCases, record};
use std::path::PathBuf;

/// Eval results bound to releases.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: EvalsCommand,
}

/// `evals` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum EvalsCommand {
    /// Bind eval results (promptfoo JSON or native) to a release.
    Record(RecordArgs),
}

/// Arguments of `evals record`.
#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// The release, as NAME@VERSION.
    pub release: String,

    /// The results: `promptfoo eval -o results.json` output, or native JSON.
    pub file: PathBuf,

    /// The suite these results are for [default: from the file, or the bundle's only suite].
    #[arg(long)]
    pub suite: Option<String>,

    /// The digest the evals ran against; refused when it is not the release's.
    #[arg(long, value_name = "sha256:…")]
    pub digest: Option<String>,

    #[command(flatten)]
    pub write: WriteArgs,
}

/// Run it.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    ctx.require_format(&[Format::Human, Format::Json])?;
    let EvalsCommand::Record(args) = args.command;
    let release = super::statement::parse_release(&args.release)?;
    let opts = args.write.options(None);
    let report = args
        .write
        .execute(
            |repo| {
                record(
                    repo,
                    &release,
                    &args.file,
                    args.suite.as_deref(),
                    args.digest.as_deref(),
                    &opts,
                )
            },
            |r| &r.recorded,
        )?
        .map_err(record_error)?;
    print_report(ctx, &report, |w| {
        let r = &report.record;
        writeln!(
            w,
            "recorded {} for {release}: {} passed, {} failed, {} errors ({:.1}%{})",
            r.suite,
            r.passed,
            r.failed,
            r.errors,
            report.pass_rate * 100.0,
            report
                .min_pass_rate
                .map(|m| format!(", threshold {:.1}%", m * 100.0))
                .unwrap_or_default()
        )
    })?;
    if report
        .min_pass_rate
        .is_some_and(|m| !agentctl::evals::meets(report.pass_rate, m))
    {
        ctx.ui.warn("below the bundle's min_pass_rate: environments with require_evals will refuse this release");
    }
    if let Some(old) = &report.replaced {
        ctx.ui.warn(&format!(
            "this replaces the earlier {} record ({old}); approvals made before now no longer vouch for it",
            report.record.suite
        ));
    }
    if let SuiteCases::Uncounted { file, reason } = &report.suite_cases {
        ctx.ui.warn(&format!(
            "cannot count the cases {file} declares ({reason}); whether this run covered all of them was not checked"
        ));
    }
    recorded_line(ctx, &report.recorded);
    Ok(0)
}

/// A results file that does not check is unreadable input (exit 2).
fn record_error(e: RecordError) -> CliError {
    let hint = match &e {
        RecordError::Repo(_) => String::new(),
        RecordError::Results { source, .. } => match source {
            ResultsError::NotJson(_)
            | ResultsError::UnknownFormat
            | ResultsError::Native(_)
            | ResultsError::NoCounts
            | ResultsError::Missing { .. } => "pass promptfoo's `promptfoo eval -o results.json` output, or {\"suite\": …, \"passed\": N, \"failed\": N, \"errors\": N, \"run_at\": …}".to_string(),
            ResultsError::NotACount { .. }
            | ResultsError::TooMany { .. }
            | ResultsError::TotalTooMany { .. } => format!(
                "counts are whole numbers of test cases, at most {MAX_CASES} per suite in total; record the file the eval run wrote, unedited"
            ),
            ResultsError::Empty => {
                "a run with no cases proves nothing: run the suite, then record its results".to_string()
            }
        },
        RecordError::TooFewCases { file, .. } => format!(
            "record the results of a run of the whole suite (every case in {file}), not of a filtered or interrupted one"
        ),
    };
    match e {
        RecordError::Repo(r) => CliError::from(r),
        e => CliError::usage(e.to_string()).hinted_unless_empty(hint),
    }
}
