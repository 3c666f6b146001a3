//! `agentctl promote ENV [NAME…]`

use super::common::{TrustArgs, WriteArgs, print_report, recorded_line};
use super::{CliError, CliResult, Context, Format};
use agentctl::ops::promote::{self, PromoteError, PromoteOptions, PromoteReport};
use anstyle::AnsiColor;
use std::io::Write;

/// Move releases from the previous environment into ENV through every gate.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Target environment.
    pub env: String,

    /// Only these agents [default: every agent that differs].
    pub agents: Vec<String>,

    /// Show the plan and the gate results; write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Why (recorded in the log and the commit).
    #[arg(long)]
    pub reason: Option<String>,

    #[command(flatten)]
    pub write: WriteArgs,

    #[command(flatten)]
    pub trust: TrustArgs,
}

/// Run it.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    ctx.require_format(&[Format::Human, Format::Json])?;
    let opts = PromoteOptions {
        env: args.env.clone(),
        agents: args.agents.clone(),
        dry_run: args.dry_run,
        write: args.write.options(args.reason.clone()),
        allowed_signers: args.trust.allowed_signers.clone(),
        signer_roles: args.trust.signer_roles.clone(),
        trust_root: args.trust.trust_root.clone(),
    };
    let report = args
        .write
        .execute(|repo| promote::promote(repo, &opts), |r| &r.recorded)?
        .map_err(|e| match e {
            PromoteError::Repo(r) => CliError::from(r),
            e @ PromoteError::NotACandidate(..) => {
                let hint = e.hint().unwrap_or_default().to_string();
                CliError::usage(e.to_string()).hinted(hint)
            }
            e @ PromoteError::NotInSource(..) => {
                let hint = e.hint().unwrap_or_default().to_string();
                CliError::refused(e.to_string()).hinted(hint)
            }
        })?;
    print_report(ctx, &report, |w| render(w, &report))?;
    if report.moves.is_empty() {
        ctx.ui.status(&format!(
            "nothing to promote: {} already runs what {} has",
            report.environment, report.source
        ));
        return Ok(0);
    }
    if !report.passed {
        let failures = promote::failures(&report);
        return Err(CliError::refused(format!(
            "promotion to {} refused: {} agent{} failed a gate; nothing was written",
            report.environment,
            failures.len(),
            agentctl::report::plural(failures.len())
        ))
        .hinted({
            // Promotion is all or nothing; say how to ship the ones that pass.
            let passing: Vec<&str> = report
                .moves
                .iter()
                .filter(|m| m.passed())
                .map(|m| m.agent.as_str())
                .collect();
            if passing.is_empty() {
                "fix each failing gate above, then promote again".to_string()
            } else {
                format!(
                    "fix each failing gate above, then promote again; {} pass{}: `agentctl promote {} {}`",
                    passing.join(", "),
                    if passing.len() == 1 { "es" } else { "" },
                    report.environment,
                    passing.join(" ")
                )
            }
        }));
    }
    recorded_line(ctx, &report.recorded);
    Ok(0)
}

fn render(w: &mut dyn Write, report: &PromoteReport) -> std::io::Result<()> {
    let ok = AnsiColor::Green.on_default().bold();
    let bad = AnsiColor::Red.on_default().bold();
    let bold = anstyle::Style::new().bold();
    for m in &report.moves {
        let from = m.from_version.as_deref().unwrap_or("(new)");
        let dry = matches!(report.recorded, agentctl::ops::Recorded::DryRun);
        let release = match (m.new_release, dry) {
            (true, false) => " (released now)",
            (true, true) => " (to be released on promotion)",
            _ => "",
        };
        let stays = match m.mode {
            agentctl::repo::environment::Mode::Active => String::new(),
            mode => format!(" — stays {mode}, as an operator set it"),
        };
        writeln!(
            w,
            "{bold}{}{bold:#} {from} → {}{release} in {}{stays}",
            m.agent, m.to_version, report.environment
        )?;
        for g in &m.gates {
            if g.passed {
                writeln!(w, "  {ok}✓{ok:#} {:<14} {}", g.gate, g.message)?;
            } else {
                writeln!(w, "  {bad}✗{bad:#} {:<14} {}", g.gate, g.message)?;
                if let Some(h) = &g.hint {
                    writeln!(w, "    hint: {h}")?;
                }
            }
        }
    }
    Ok(())
}
