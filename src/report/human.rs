//! Findings as a person reads them: rustc-style, with a source snippet.

use crate::finding::{Finding, Severity};
use anstyle::{AnsiColor, Style};
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::PathBuf;

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const ACCENT: Style = AnsiColor::Blue.on_default().bold();
const BOLD: Style = Style::new().bold();
const HINT: Style = AnsiColor::Cyan.on_default();

/// Writes findings with snippets, caching file contents.
#[derive(Default)]
pub struct SnippetWriter {
    files: HashMap<PathBuf, Option<Vec<String>>>,
}

impl SnippetWriter {
    /// Write one finding. ANSI styles are always emitted; wrap the writer in
    /// `anstream` to strip them when color is off.
    pub fn write(&mut self, w: &mut dyn Write, f: &Finding) -> io::Result<()> {
        let style = match f.severity {
            Severity::Error => ERROR,
            Severity::Warning => WARNING,
        };
        writeln!(
            w,
            "{style}{}[{}]{style:#}{BOLD}: {}{BOLD:#}",
            f.severity.as_str(),
            f.rule,
            f.message
        )?;
        match f.position {
            Some(p) => {
                writeln!(
                    w,
                    "  {ACCENT}-->{ACCENT:#} {}:{}:{}",
                    display(&f.file),
                    p.line,
                    p.column
                )?;
                if let Some(line) = self.line(f, p.line) {
                    let num = p.line.to_string();
                    let pad = " ".repeat(num.len());
                    let shown: String = line.chars().take(160).collect();
                    writeln!(w, "  {pad} {ACCENT}|{ACCENT:#}")?;
                    writeln!(w, "  {ACCENT}{num} |{ACCENT:#} {shown}")?;
                    let caret_at = usize::try_from(p.column.saturating_sub(1))
                        .unwrap_or(0)
                        .min(160);
                    let lead: String = shown
                        .chars()
                        .take(caret_at)
                        .map(|c| if c == '\t' { '\t' } else { ' ' })
                        .collect();
                    writeln!(w, "  {pad} {ACCENT}|{ACCENT:#} {lead}{style}^{style:#}")?;
                }
            }
            None => writeln!(w, "  {ACCENT}-->{ACCENT:#} {}", display(&f.file))?,
        }
        if let Some(h) = &f.hint {
            let mut lines = h.lines();
            if let Some(first) = lines.next() {
                writeln!(w, "  {HINT}= hint:{HINT:#} {first}")?;
            }
            for l in lines {
                writeln!(w, "          {l}")?;
            }
        }
        writeln!(w)
    }

    /// Write findings, sorted as given.
    pub fn write_all<'a>(
        &mut self,
        w: &mut dyn Write,
        findings: impl IntoIterator<Item = &'a Finding>,
    ) -> io::Result<()> {
        for f in findings {
            self.write(w, f)?;
        }
        Ok(())
    }

    fn line(&mut self, f: &Finding, line: u32) -> Option<String> {
        let lines = self.files.entry(f.file.clone()).or_insert_with(|| {
            let bytes = crate::files::read_no_follow(&f.file, 4 * 1024 * 1024).ok()?;
            // Binary content is never shown.
            let text = std::str::from_utf8(&bytes)
                .ok()
                .filter(|t| !t.contains('\0'))?;
            // Every credential in the file is masked, on every line it spans
            // (a PEM body line alone does not look like a secret).
            Some(
                crate::check::secrets::redact_text(text)
                    .lines()
                    .map(|l| l.trim_end_matches('\r').to_string())
                    .collect(),
            )
        });
        lines
            .as_ref()?
            .get(usize::try_from(line).ok()?.checked_sub(1)?)
            .cloned()
    }
}

/// A path as the user should see it: relative to the current directory when inside it.
pub fn display(path: &std::path::Path) -> String {
    if path.is_absolute()
        && let Ok(cwd) = std::env::current_dir()
        && let Ok(rel) = path.strip_prefix(&cwd)
    {
        return rel.display().to_string();
    }
    path.display().to_string()
}
