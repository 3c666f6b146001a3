//! A diff report for people (terminal) and for pull requests (Markdown).

use crate::diff::DiffReport;
use crate::diff::semantic::Risk;
use crate::diff::text::{FileDiff, FileStatus};
use anstyle::{AnsiColor, Style};
use std::io::{self, Write};

const BOLD: Style = Style::new().bold();
const HIGH: Style = AnsiColor::Red.on_default().bold();
const MEDIUM: Style = AnsiColor::Yellow.on_default().bold();
const LOW: Style = AnsiColor::BrightBlack.on_default();
const ADD: Style = AnsiColor::Green.on_default();
const DEL: Style = AnsiColor::Red.on_default();
const ADD_EM: Style = AnsiColor::Green.on_default().bold().underline();
const DEL_EM: Style = AnsiColor::Red.on_default().bold().underline();
const HUNK: Style = AnsiColor::Cyan.on_default();

fn risk_style(r: Risk) -> Style {
    match r {
        Risk::High => HIGH,
        Risk::Medium => MEDIUM,
        Risk::Low => LOW,
    }
}

/// The summary's highest risk, or "none" when nothing changed.
fn highest_risk(r: &DiffReport) -> String {
    r.summary
        .highest_risk
        .map_or_else(|| "none".into(), |risk| risk.to_string())
}

fn summary_line(r: &DiffReport) -> String {
    let s = &r.summary;
    if r.agents.is_empty() {
        return format!(
            "{} → {}: no differences ({} compared)",
            r.from,
            r.to,
            super::count(s.unchanged, "agent")
        );
    }
    format!(
        "{} → {}: {} changed ({} added, {} removed), highest risk {}; {} high, {} medium, {} low",
        r.from,
        r.to,
        super::count(s.agents_changed, "agent"),
        s.added,
        s.removed,
        highest_risk(r),
        s.high,
        s.medium,
        s.low
    )
}

/// Terminal output: summary first, then per agent its changes and file diffs.
pub fn human(w: &mut dyn Write, r: &DiffReport) -> io::Result<()> {
    writeln!(w, "{BOLD}{}{BOLD:#}", summary_line(r))?;
    for a in &r.agents {
        writeln!(w)?;
        let rs = risk_style(a.risk);
        writeln!(
            w,
            "{BOLD}{}{BOLD:#} {}  {rs}[{}]{rs:#}",
            a.name,
            a.status_line(),
            a.risk
        )?;
        for c in &a.changes {
            let st = risk_style(c.risk);
            writeln!(w, "  {st}{:<6}{st:#} {}", c.risk, c.summary)?;
        }
        for f in &a.files {
            human_file(w, f)?;
        }
    }
    Ok(())
}

fn human_file(w: &mut dyn Write, f: &FileDiff) -> io::Result<()> {
    if f.binary {
        return writeln!(w, "  {BOLD}{}{BOLD:#}: {}", f.path, binary_summary(f));
    }
    writeln!(w, "  {BOLD}--- a/{}  +++ b/{}{BOLD:#}", f.path, f.path)?;
    for (i, hunk) in f.hunks.iter().enumerate() {
        let header = f.hunk_headers.get(i).map(String::as_str).unwrap_or("@@");
        writeln!(w, "  {HUNK}{header}{HUNK:#}")?;
        for line in hunk {
            let (base, em) = match line.tag {
                '+' => (ADD, ADD_EM),
                '-' => (DEL, DEL_EM),
                _ => (Style::new(), Style::new()),
            };
            write!(w, "  {base}{}{base:#}", line.tag)?;
            for s in &line.segments {
                let st = if s.emphasized { em } else { base };
                write!(w, "{st}{}{st:#}", s.text)?;
            }
            writeln!(w)?;
        }
    }
    Ok(())
}

/// `binary file changed (12 → 40 bytes)`.
fn binary_summary(f: &FileDiff) -> String {
    let size = |s: Option<u64>| s.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
    format!(
        "binary file {} ({} → {} bytes)",
        status_word(f.status),
        size(f.old_size),
        size(f.new_size)
    )
}

fn status_word(s: FileStatus) -> &'static str {
    match s {
        FileStatus::Added => "added",
        FileStatus::Removed => "removed",
        FileStatus::Modified => "changed",
    }
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn risk_badge(r: Risk) -> &'static str {
    match r {
        Risk::High => "🔴 high",
        Risk::Medium => "🟠 medium",
        Risk::Low => "⚪ low",
    }
}

/// A pull-request comment: summary table, one collapsible section per agent,
/// prompt diffs in ```diff blocks.
pub fn markdown(w: &mut dyn Write, r: &DiffReport) -> io::Result<()> {
    writeln!(w, "### agentctl diff: `{}` → `{}`\n", r.from, r.to)?;
    if r.agents.is_empty() {
        return writeln!(
            w,
            "No differences ({} compared).",
            super::count(r.summary.unchanged, "agent")
        );
    }
    let s = &r.summary;
    writeln!(
        w,
        "**{} changed**, highest risk **{}** ({} high, {} medium, {} low changes).\n",
        super::count(s.agents_changed, "agent"),
        highest_risk(r),
        s.high,
        s.medium,
        s.low
    )?;
    writeln!(w, "| agent | change | risk | high | medium | low |")?;
    writeln!(w, "|---|---|---|---:|---:|---:|")?;
    for a in &r.agents {
        let count = |level: Risk| a.changes.iter().filter(|c| c.risk == level).count();
        writeln!(
            w,
            "| `{}` | {} | {} | {} | {} | {} |",
            a.name,
            md_escape(&a.status_line()),
            risk_badge(a.risk),
            count(Risk::High),
            count(Risk::Medium),
            count(Risk::Low)
        )?;
    }
    for a in &r.agents {
        writeln!(w)?;
        writeln!(
            w,
            "<details{}>",
            if a.risk == Risk::High { " open" } else { "" }
        )?;
        writeln!(
            w,
            "<summary><b>{}</b> {} — {}</summary>\n",
            a.name,
            md_escape(&a.status_line()),
            risk_badge(a.risk)
        )?;
        for c in &a.changes {
            writeln!(w, "- **{}** {}", c.risk, md_escape(&c.summary))?;
        }
        for f in &a.files {
            writeln!(w)?;
            if f.binary {
                writeln!(w, "`{}`: {}", f.path, binary_summary(f))?;
            } else if let Some(u) = &f.unified {
                let fence = if u.contains("```") { "~~~~" } else { "```" };
                writeln!(w, "`{}`\n", f.path)?;
                writeln!(w, "{fence}diff\n{}{fence}", u.trim_end().to_string() + "\n")?;
            }
        }
        writeln!(w, "\n</details>")?;
    }
    Ok(())
}
