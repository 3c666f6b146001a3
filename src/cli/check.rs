//! `agentctl check [--base REF] [--all]`

use super::common::{open_repo, write_json};
use super::error::EXIT_NO;
use super::{CliError, CliResult, Context, Format, ui};
use agentctl::check::{CheckError, CheckOptions, CheckReport, check};
use agentctl::finding::Finding;
use agentctl::report::ci::{self, Paths};
use agentctl::report::count;
use agentctl::report::human::SnippetWriter;
use std::io::Write;
use std::path::PathBuf;

/// The CI gate for a pull request: validate what changed, version bumped,
/// no secrets, policy preview, and changes that weaken policy or trust.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Check the bundles that differ from the merge base of REF and HEAD
    /// (e.g. origin/main) [default without it: every bundle].
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,

    /// Check every bundle, even with --base.
    #[arg(long)]
    pub all: bool,

    /// Fail on warnings too (except the informational policy preview).
    #[arg(long)]
    pub warnings_as_errors: bool,

    /// Write the report in --format to FILE; the terminal still gets the
    /// human report (one run can feed a SARIF upload and a log).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Run it.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    let repo = open_repo()?;
    let report = check(
        &repo,
        &CheckOptions {
            base: args.base.clone(),
            all: args.all,
        },
    )
    .map_err(|e| match e {
        CheckError::MissingBase { name, fetch } => CliError::usage(format!(
            "base ref `{name}` is not in this clone (a shallow CI checkout?)"
        ))
        .hinted(format!("fetch it first: `{fetch}`")),
        CheckError::NoMergeBase { name, fetch } => CliError::usage(format!(
            "`{name}` and HEAD share no history in this clone (it is too shallow)"
        ))
        .hinted(format!(
            "deepen it: `{fetch}` (or fetch all of it: `git fetch --unshallow`)"
        )),
        CheckError::Repo(r) => CliError::from(r),
        e @ CheckError::Read(_) => CliError::usage(e.to_string()),
    })?;
    let base_dir = repo
        .git
        .as_ref()
        .and_then(|g| g.workdir().map(std::path::Path::to_path_buf))
        .unwrap_or_else(|| repo.root.clone());
    let paths = Paths::new(&base_dir);
    let render = |w: &mut dyn Write, format: Format| -> std::io::Result<()> {
        let findings: Vec<&Finding> = report.findings().collect();
        match format {
            Format::Json => write_json(w, &report),
            Format::Github => ci::github(w, &findings, &paths),
            Format::Sarif => ci::sarif(w, &findings, &paths),
            Format::Junit => ci::junit(w, &report, &paths, args.warnings_as_errors),
            Format::Markdown => ci::markdown(w, &report, &paths),
            Format::Human => human(w, &report),
        }
    };
    match &args.output {
        Some(file) => {
            let mut buf = Vec::new();
            render(&mut buf, ctx.format)?;
            agentctl::files::write_output(file, &buf)
                .map_err(|e| CliError::from(agentctl::repo::RepoError::from(e)))?;
            ui::write_stdout(&ctx.ui, |w| render(w, Format::Human))?;
            ctx.ui.status(&format!(
                "wrote the {} report to {}",
                ctx.format.name(),
                file.display()
            ));
        }
        None => ui::write_stdout(&ctx.ui, |w| render(w, ctx.format))?,
    }
    let s = report.summary;
    let line = format!(
        "checked {}{}: {}, {}",
        count(s.bundles, "bundle"),
        args.base
            .as_deref()
            .map(|b| format!(" against {b}"))
            .unwrap_or_default(),
        count(s.errors, "error"),
        count(s.warnings, "warning")
    );
    let failed = report.failed(args.warnings_as_errors);
    if failed {
        ctx.ui.error(&line, None);
        Ok(EXIT_NO)
    } else {
        ctx.ui.status(&line);
        Ok(0)
    }
}

fn human(w: &mut dyn Write, report: &CheckReport) -> std::io::Result<()> {
    let bold = anstyle::Style::new().bold();
    let mut snippets = SnippetWriter::default();
    for b in &report.bundles {
        let version = b.version_label();
        let count: usize = b.checks.iter().map(|c| c.findings.len()).sum();
        writeln!(
            w,
            "{bold}{}{bold:#} ({}, {version}): {}",
            b.name,
            b.change,
            if count == 0 {
                "ok".to_string()
            } else {
                format!("{count} finding(s)")
            }
        )?;
        for c in &b.checks {
            snippets.write_all(w, &c.findings)?;
        }
    }
    if !report.repository.is_empty() {
        writeln!(w, "{bold}repository{bold:#}:")?;
        snippets.write_all(w, &report.repository)?;
    }
    if let Some(d) = &report.diff
        && d.has_differences()
    {
        writeln!(w)?;
        agentctl::report::diff::human(w, d)?;
    }
    Ok(())
}
