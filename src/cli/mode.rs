//! `agentctl mode ENV NAME MODE --reason R` and `agentctl retire ENV NAME --reason R`

use super::common::{WriteArgs, print_report, recorded_line};
use super::{CliResult, Context, Format};
use agentctl::ops::mode::{ModeReport, set_mode};
use agentctl::repo::environment::Mode;

/// The operators' stop button: set an agent's mode.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environment.
    pub env: String,
    /// Agent.
    pub name: String,
    /// New mode.
    #[arg(value_enum)]
    pub mode: ModeArg,
    /// Why (required).
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub write: WriteArgs,
}

/// Remove an agent from an environment for good; its releases stay.
#[derive(Debug, clap::Args)]
pub struct RetireArgs {
    /// Environment.
    pub env: String,
    /// Agent.
    pub name: String,
    /// Why (required).
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub write: WriteArgs,
}

/// Modes on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ModeArg {
    /// Running normally.
    Active,
    /// Every action waits for a human.
    ReviewOnly,
    /// Stopped.
    Disabled,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::Active => Mode::Active,
            ModeArg::ReviewOnly => Mode::ReviewOnly,
            ModeArg::Disabled => Mode::Disabled,
        }
    }
}

/// Run `mode`.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    let mode = Some(args.mode.into());
    apply(ctx, &args.env, &args.name, mode, args.reason, &args.write)
}

/// Run `retire` (a mode of none).
pub fn run_retire(ctx: &Context, args: RetireArgs) -> CliResult<u8> {
    apply(ctx, &args.env, &args.name, None, args.reason, &args.write)
}

fn apply(
    ctx: &Context,
    env: &str,
    name: &str,
    mode: Option<Mode>,
    reason: String,
    write: &WriteArgs,
) -> CliResult<u8> {
    ctx.require_format(&[Format::Human, Format::Json])?;
    let opts = write.options(Some(reason));
    let report = write.execute(
        |repo| set_mode(repo, env, name, mode, &opts),
        |r| &r.recorded,
    )??;
    show(ctx, &report)
}

fn show(ctx: &Context, report: &ModeReport) -> CliResult<u8> {
    print_report(ctx, report, |w| match report.mode {
        Some(m) if m == report.previous_mode => {
            writeln!(
                w,
                "{} is already {m} in {}",
                report.agent, report.environment
            )
        }
        Some(m) => writeln!(
            w,
            "{} {} in {}: {} → {m}",
            report.agent, report.version, report.environment, report.previous_mode
        ),
        None => writeln!(
            w,
            "retired {} {} from {}",
            report.agent, report.version, report.environment
        ),
    })?;
    recorded_line(ctx, &report.recorded);
    if !report.corrupt_log_lines.is_empty() {
        let lines: Vec<String> = report
            .corrupt_log_lines
            .iter()
            .map(|l| l.to_string())
            .collect();
        ctx.ui.warn(&format!(
            "environments/{}.log has lines that do not parse (line {}); they were kept as they are: `agentctl verify {}` reports them, restore them from git",
            report.environment,
            lines.join(", "),
            report.environment
        ));
    }
    Ok(0)
}
