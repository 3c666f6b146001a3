//! `agentctl status`

use super::common::{open_repo, print_report};
use super::{CliResult, Context, Format};
use agentctl::ops::status::{StatusReport, format_age, status};
use agentctl::repo::environment::Mode;
use anstyle::AnsiColor;
use std::io::Write;

/// Show what runs where: versions, modes, ages, drift.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Run it.
pub fn run(ctx: &Context, _args: Args) -> CliResult<u8> {
    ctx.require_format(&[Format::Human, Format::Json])?;
    let repo = open_repo()?;
    let report = status(&repo)?;
    print_report(ctx, &report, |w| render(w, &report))?;
    Ok(0)
}

fn render(w: &mut dyn Write, r: &StatusReport) -> std::io::Result<()> {
    if r.agents.is_empty() {
        return writeln!(
            w,
            "no agents yet: add one under agents/ (`agentctl new NAME`)"
        );
    }
    let bold = anstyle::Style::new().bold();
    let warn = AnsiColor::Yellow.on_default();
    let stop = AnsiColor::Red.on_default().bold();
    let name_width = r
        .agents
        .iter()
        .map(|a| a.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut header = format!("{:<name_width$}  {:<10}", "AGENT", "SOURCE");
    for env in &r.environments {
        header.push_str(&format!("  {:<26}", env.to_uppercase()));
    }
    writeln!(w, "{bold}{}{bold:#}", header.trim_end())?;
    for a in &r.agents {
        let source = a
            .source
            .as_ref()
            .map(|s| s.version.clone().unwrap_or_else(|| "invalid".into()))
            .unwrap_or_else(|| "-".into());
        let mut line = format!("{:<name_width$}  {source:<10}", a.name);
        for env in &r.environments {
            let cell = match a.pin(env) {
                Some(p) => {
                    let text = format!("{} ({})", p.version, format_age(p.age_seconds));
                    // The mode is colored: pad by its plain width.
                    let (mode, mode_width) = match p.mode {
                        Mode::Active => (String::new(), 0),
                        m => (format!(" {stop}{m}{stop:#}"), m.as_str().len() + 1),
                    };
                    let pad = " ".repeat(26usize.saturating_sub(text.len() + mode_width));
                    format!("{text}{mode}{pad}")
                }
                None => format!("{:<26}", "-"),
            };
            line.push_str("  ");
            line.push_str(&cell);
        }
        writeln!(w, "{}", line.trim_end())?;
        for d in &a.drift {
            writeln!(w, "{:<name_width$}  {warn}↳ {d}{warn:#}", "")?;
        }
    }
    Ok(())
}
