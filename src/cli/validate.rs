//! `agentctl validate [PATH…]`

use super::common::{print_report, repo_root};
use super::{CliError, CliResult, Context, Format};
use crate::cli::error::EXIT_NO;
use agentctl::render::RenderEnv;
use agentctl::repo::config::Config;
use agentctl::report::count;
use agentctl::report::human::SnippetWriter;
use agentctl::validate;
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
    let root = repo_root();
    let paths = if args.paths.is_empty() {
        let root = root.as_ref().map_err(|e| {
            CliError::usage(e.message.clone())
                .hinted("run `agentctl init`, use -C DIR, or pass bundle paths explicitly")
        })?;
        vec![root.join("agents")]
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
    let bar = ctx.progress(dirs.len() as u64, "validating");
    // Prompts render for the repository's environments; loose bundles, or
    // a repository whose agentctl.toml does not load, get a stand-in.
    let config = root
        .ok()
        .map(|root| Config::load(&root.join(agentctl::repo::CONFIG_FILE)));
    let envs = match config {
        Some(Ok(c)) => RenderEnv::all(&c),
        Some(Err(e)) => {
            ctx.ui.warn(&format!(
                "{e}; prompts render without the environments' variables (`agentctl check` reports the config)"
            ));
            RenderEnv::standalone()
        }
        None => RenderEnv::standalone(),
    };
    let report = validate::validate(&dirs, &envs, &|| bar.inc(1));
    bar.finish_and_clear();
    print_report(ctx, &report, |w| {
        SnippetWriter::default().write_all(w, report.findings())
    })?;
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
