//! `agentctl validate [PATH…]`

use super::{CliError, CliResult, Context, Format, ui};
use crate::cli::error::EXIT_NO;
use agentctl::render::RenderEnv;
use agentctl::repo::config::Config;
use agentctl::report::count;
use agentctl::report::human::SnippetWriter;
use agentctl::validate::{self, ValidateReport};
use std::io::Write;
use std::path::PathBuf;

/// Check bundles: schema, files, readiness gates.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Bundle directories, agent.yaml files, or directories of bundles
    /// [default: agents/ of the repository]
    pub paths: Vec<PathBuf>,

    /// Fail on warnings too.
    #[arg(long)]
    pub strict: bool,
}

/// Run it.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    ctx.require_format(&[Format::Human, Format::Json])?;
    let paths = if args.paths.is_empty() {
        vec![super::repo_agents_dir()?]
    } else {
        args.paths
    };
    let dirs = validate::bundle_dirs(&paths).map_err(|e| {
        CliError::usage(e.to_string())
            .hinted("pass a bundle directory, its agent.yaml, or a directory of bundles")
    })?;
    if dirs.is_empty() {
        return Err(CliError::usage(format!(
            "no bundles found in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .hinted("create one with `agentctl new NAME`"));
    }
    let bar = ctx
        .ui
        .progress(dirs.len() as u64, "validating", ctx.format != Format::Human);
    let envs = render_envs();
    let report = validate::validate(&dirs, &envs, &|| bar.inc(1));
    bar.finish_and_clear();
    ui::write_stdout(&ctx.ui, |w| render(ctx, &report, w))?;
    let s = report.summary;
    if ctx.format == Format::Human {
        let line = format!(
            "validated {}: {}, {}",
            count(s.bundles, "bundle"),
            count(s.errors, "error"),
            count(s.warnings, "warning")
        );
        if s.errors > 0 {
            ctx.ui.error(&line, None);
        } else {
            ctx.ui.status(&line);
        }
    }
    let failed = s.errors > 0 || (args.strict && s.warnings > 0);
    Ok(if failed { EXIT_NO } else { 0 })
}

fn render(ctx: &Context, report: &ValidateReport, w: &mut dyn Write) -> std::io::Result<()> {
    match ctx.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, report)?;
            writeln!(w)
        }
        _ => {
            let mut snippets = SnippetWriter::default();
            for f in report.findings() {
                snippets.write(w, f)?;
            }
            Ok(())
        }
    }
}

/// The environments of the repository around the current directory, or a
/// stand-in when validating loose bundles.
fn render_envs() -> Vec<RenderEnv> {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| agentctl::repo::find_root(&cwd))
        .and_then(|root| Config::load(&root.join(agentctl::repo::CONFIG_FILE)).ok())
        .map(|c| RenderEnv::all(&c))
        .unwrap_or_else(RenderEnv::standalone)
}
