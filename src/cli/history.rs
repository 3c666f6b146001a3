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
    // On a terminal, long actors and reasons are cut to keep one line per
    // event; `--format json` (and a pipe) has every character.
    let cut = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let fit = |text: &str, width: usize| -> String {
        if !cut || text.chars().count() <= width {
            return text.to_string();
        }
        let mut t: String = text.chars().take(width - 1).collect();
        t.push('…');
        t
    };
    print_report(ctx, &report, |w| {
        if report.entries.is_empty() {
            return writeln!(w, "no history in {} yet", report.environment);
        }
        let rows: Vec<[String; 8]> = report
            .entries
            .iter()
            .map(|e| {
                let change = match (&e.from_version, &e.to_version, e.mode) {
                    (_, _, Some(m)) => format!(
                        "{} → {m}",
                        e.from_mode
                            .map(|f| f.to_string())
                            .unwrap_or_else(|| "?".into())
                    ),
                    (f, Some(t), _) => format!("{} → {t}", f.as_deref().unwrap_or("(new)")),
                    (Some(f), None, _) => format!("{f} → (removed)"),
                    (None, None, _) => String::new(),
                };
                [
                    format!("{}#{}", report.environment, e.op),
                    e.time.clone(),
                    e.action.as_str().to_string(),
                    e.agent.clone(),
                    change,
                    fit(&e.actor, 32),
                    fit(e.reason.as_deref().unwrap_or("-"), 40),
                    e.commit
                        .as_deref()
                        .map(|c| c[..c.len().min(10)].to_string())
                        .unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        let header = [
            "OP",
            "TIME",
            "ACTION",
            "AGENT",
            "FROM → TO",
            "ACTOR",
            "REASON",
            "COMMIT",
        ];
        let mut widths = header.map(|h| h.chars().count());
        for r in &rows {
            for (i, c) in r.iter().enumerate() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let line = |w: &mut dyn std::io::Write, cells: &[String]| -> std::io::Result<()> {
            let mut out = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    out.push_str(c);
                } else {
                    let pad = widths[i] - c.chars().count();
                    out.push_str(c);
                    out.push_str(&" ".repeat(pad + 2));
                }
            }
            writeln!(w, "{}", out.trim_end())
        };
        line(w, &header.map(String::from))?;
        for r in &rows {
            line(w, r)?;
        }
        Ok(())
    })?;
    Ok(0)
}
