//! The command line: global options, the command enum, and dispatch.
//!
//! Each subcommand lives in its own file with an `Args` struct and a `run`
//! function that makes one call into the library and renders the result.

mod check;
mod common;
mod completions;
mod demo;
mod diff;
mod digest;
mod docs;
pub mod error;
mod evals;
mod history;
mod init;
mod merge_log;
mod mode;
mod new;
mod promote;
mod release;
mod render;
mod rollback;
mod schema;
mod sign;
mod statement;
mod status;
mod trust;
pub mod ui;
mod validate;
mod verify;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub use error::{CliError, CliResult};

/// Ship AI agents like software: validate, diff, sign, promote and roll back
/// versioned agent bundles through git.
#[derive(Debug, Parser)]
#[command(name = "agentctl", version, about, max_term_width = 100)]
pub struct Cli {
    /// Run as if started in DIR.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,

    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// When to use color in human output.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,

    /// Print only data and errors; no status, progress or hints on success.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// Output formats. Each command accepts the ones that fit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: colored on a terminal, with snippets and hints.
    Human,
    /// One JSON document on stdout.
    Json,
    /// A pull-request comment.
    Markdown,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// JUnit XML.
    Junit,
}

impl Format {
    /// The flag spelling.
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Markdown => "markdown",
            Format::Github => "github",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
        }
    }
}

/// When to color output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Tour agentctl end to end in a scratch repository (start here).
    Demo(demo::Args),
    /// Create an agentctl repository (and a git repository if needed).
    Init(init::Args),
    /// Scaffold a complete bundle under agents/NAME.
    New(new::Args),
    /// Check bundles: schema, files, readiness gates, prompt templates.
    Validate(validate::Args),
    /// The CI gate for a pull request.
    Check(check::Args),
    /// Semantic, risk-ranked diff of agents.
    Diff(diff::Args),
    /// Freeze agents/NAME as an immutable release.
    Release(release::Args),
    /// Move releases into an environment through every gate.
    Promote(promote::Args),
    /// Pin the previous (or given) release again.
    Rollback(rollback::Args),
    /// Set an agent's mode: the operators' stop button.
    Mode(mode::Args),
    /// Remove an agent from an environment for good.
    Retire(mode::RetireArgs),
    /// Print the release statement (the bytes a signature covers).
    Statement(statement::Args),
    /// Approve a release: sign it with your SSH key.
    Sign(sign::Args),
    /// Check digests, pins and signatures (what a deploy job runs).
    Verify(verify::Args),
    /// Bind eval results to releases.
    Evals(evals::Args),
    /// Show what runs where.
    Status(status::Args),
    /// Show who changed what in an environment, when and why.
    History(history::Args),
    /// Print each prompt as an environment will see it.
    Render(render::Args),
    /// Generate the operator runbook from the bundle.
    Docs(docs::Args),
    /// Print the canonical digest of a bundle directory.
    Digest(digest::Args),
    /// Print the manifest's JSON Schema.
    Schema(schema::Args),
    /// Print a shell completion script (bash, zsh, fish, …).
    Completions(completions::Args),
    /// Print the man page.
    Man(completions::ManArgs),
    /// Write a trust root (allowed signers, roles, policies) for a deploy job.
    Trust(trust::Args),
    /// Merge two environment logs (git's merge driver, set up by agentctl).
    #[command(hide = true)]
    MergeLog(merge_log::Args),
}

/// Global context handed to every command.
pub struct Context {
    /// Parsed global options.
    pub format: Format,
    /// The terminal.
    pub ui: ui::Ui,
}

impl Context {
    /// Refuse a format this command does not support.
    pub fn require_format(&self, allowed: &[Format]) -> CliResult<()> {
        if allowed.contains(&self.format) {
            return Ok(());
        }
        let names: Vec<_> = allowed.iter().map(|f| f.name()).collect();
        Err(CliError::usage(format!(
            "--format {} is not supported by this command",
            self.format.name()
        ))
        .hinted(format!("use one of: {}", names.join(", "))))
    }
}

impl Context {
    /// A progress bar for `len` items (hidden unless a person watches).
    pub fn progress(&self, len: u64, what: &str) -> indicatif::ProgressBar {
        self.ui.progress(len, what, self.format != Format::Human)
    }
}

/// Run the parsed command; returns the exit code.
pub fn run(cli: Cli) -> CliResult<u8> {
    if let Some(dir) = &cli.directory {
        std::env::set_current_dir(dir).map_err(|e| {
            CliError::usage(format!("cannot change to directory {}: {e}", dir.display()))
                .hinted("-C takes an existing directory")
        })?;
    }
    let ctx = Context {
        format: cli.format,
        ui: ui::Ui::new(cli.color, cli.quiet),
    };
    match cli.command {
        Command::Demo(args) => demo::run(&ctx, args),
        Command::Init(args) => init::run(&ctx, args),
        Command::New(args) => new::run(&ctx, args),
        Command::Validate(args) => validate::run(&ctx, args),
        Command::Evals(args) => evals::run(&ctx, args),
        Command::Render(args) => render::run(&ctx, args),
        Command::Docs(args) => docs::run(&ctx, args),
        Command::Check(args) => check::run(&ctx, args),
        Command::Diff(args) => diff::run(&ctx, args),
        Command::Release(args) => release::run(&ctx, args),
        Command::Promote(args) => promote::run(&ctx, args),
        Command::Rollback(args) => rollback::run(&ctx, args),
        Command::Mode(args) => mode::run(&ctx, args),
        Command::Retire(args) => mode::run_retire(&ctx, args),
        Command::Statement(args) => statement::run(&ctx, args),
        Command::Sign(args) => sign::run(&ctx, args),
        Command::Verify(args) => verify::run(&ctx, args),
        Command::Status(args) => status::run(&ctx, args),
        Command::History(args) => history::run(&ctx, args),
        Command::Digest(args) => digest::run(&ctx, args),
        Command::Schema(args) => schema::run(&ctx, args),
        Command::Completions(args) => completions::run(&ctx, args),
        Command::Man(args) => completions::run_man(&ctx, args),
        Command::Trust(args) => trust::run(&ctx, args),
        Command::MergeLog(args) => merge_log::run(&ctx, args),
    }
}
