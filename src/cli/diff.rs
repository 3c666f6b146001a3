//! `agentctl diff [A] [B] [--base REF]`

use super::common::write_json;
use super::error::EXIT_NO;
use super::{CliError, CliResult, Context, Format, ui};
use agentctl::diff::semantic::Risk;
use agentctl::diff::{self, DiffError, Side};
use agentctl::repo::Repo;

/// Semantic, risk-ranked diff of agents.
///
/// Each side is an environment (`staging`: the releases it pins), a release
/// (`NAME@VERSION`), a bundle path, or a git ref; `diff A B` shows what
/// changes from A to B, as `git diff A B`. With no sides: source bundles at
/// HEAD vs the work tree, like `git diff`. With one environment: what
/// promoting into it would change (from the environment before it). With
/// one other side: that vs the work tree.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The old side.
    pub from: Option<String>,

    /// The new side [default: the work tree's agents/].
    pub to: Option<String>,

    /// Compare source bundles at REF (read from git objects) with the work tree.
    #[arg(long, value_name = "REF", conflicts_with_all = ["from", "to"])]
    pub base: Option<String>,

    /// Exit 1 when there are differences (like `git diff --exit-code`).
    #[arg(long)]
    pub exit_code: bool,

    /// Exit 1 when any change reaches this risk level.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub fail_on: Option<Risk>,
}

/// Map a diff error to the CLI.
pub fn diff_error(e: DiffError) -> CliError {
    match e {
        DiffError::MissingRef { name, fetch } => CliError::usage(format!(
            "git ref `{name}` is not in this clone (a shallow CI checkout?)"
        ))
        .hinted(format!("fetch it first: `{fetch}`")),
        DiffError::Repo(r) => CliError::from(r),
        e @ DiffError::Unknown(_) => CliError::usage(e.to_string())
            .hinted("environments come from agentctl.toml; releases are NAME@VERSION"),
        e => CliError::usage(e.to_string()),
    }
}

/// [`diff_error`], with "did you mean" for a mistyped environment.
fn diff_error_in(e: DiffError, repo: Option<&Repo>) -> CliError {
    if let (DiffError::Unknown(spec), Some(r)) = (&e, repo) {
        let envs: Vec<String> = r
            .config
            .environment_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let hint = match agentctl::bundle::suggest(spec, &envs) {
            Some(s) => format!("did you mean the environment `{s}`?"),
            None => format!(
                "environments: {}; releases are NAME@VERSION",
                envs.join(", ")
            ),
        };
        return CliError::usage(e.to_string()).hinted(hint);
    }
    diff_error(e)
}

/// Run it.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    ctx.require_format(&[Format::Human, Format::Json, Format::Markdown])?;
    let cwd = std::env::current_dir()?;
    let repo = match Repo::discover(&cwd) {
        Ok(r) => {
            for note in &r.notes {
                super::ui::early_warning(note);
            }
            Some(r)
        }
        Err(agentctl::repo::RepoError::NotARepository(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let need_repo = || {
        repo.as_ref().ok_or_else(|| {
            CliError::usage("not an agentctl repository; pass two bundle paths to compare")
                .hinted("run inside a repository made by `agentctl init`, or use -C DIR")
        })
    };
    let worktree = |r: &Repo| -> CliResult<Side> { diff::side_worktree(r).map_err(diff_error) };
    // --base conflicts with FROM and TO (clap enforces it).
    let (from, to) = match (&args.from, &args.to) {
        // A ref (--base, else HEAD) against the work tree.
        (None, _) => {
            let r = need_repo()?;
            let at = args.base.as_deref().unwrap_or("HEAD");
            (diff::side_at_ref(r, at).map_err(diff_error)?, worktree(r)?)
        }
        // One environment: what promoting into it would change, from its
        // source (the previous environment, or agents/ for the first one).
        (Some(a), None) if need_repo()?.config.environment(a).is_some() => {
            let r = need_repo()?;
            let (index, cfg) = r.environment(a)?;
            let from = diff::side_environment(r, a).map_err(diff_error)?;
            let source = if index == 0 || !cfg.promote_from_previous {
                let mut w = worktree(r)?;
                w.label = "agents/".into();
                w
            } else {
                let prev = &r.config.environments[index - 1].name;
                diff::side_environment(r, prev).map_err(diff_error)?
            };
            // Promotion only adds and replaces: agents the source lacks stay.
            let mut to = from.clone();
            to.label = format!("{a} after promoting {}", source.label);
            to.bundles.extend(source.bundles);
            to.config = None;
            (from, to)
        }
        (Some(a), None) => {
            let r = need_repo()?;
            let from = diff::resolve(Some(r), a).map_err(|e| diff_error_in(e, Some(r)))?;
            let mut to = worktree(r)?;
            // One release or one bundle path: compare it with the same
            // agent(s) in the work tree, not with every agent there.
            if from.partial {
                to.bundles.retain(|name, _| from.bundles.contains_key(name));
            }
            (from, to)
        }
        (Some(a), Some(b)) => (
            diff::resolve(repo.as_ref(), a).map_err(|e| diff_error_in(e, repo.as_ref()))?,
            diff::resolve(repo.as_ref(), b).map_err(|e| diff_error_in(e, repo.as_ref()))?,
        ),
    };
    let bar = ctx.progress(0, "comparing");
    let report = diff::compare_with_progress(repo.as_ref(), &from, &to, &ui::ticker(&bar))
        .map_err(diff_error)?;
    bar.finish_and_clear();
    ui::write_stdout(&ctx.ui, |w| match ctx.format {
        Format::Json => write_json(w, &report),
        Format::Markdown => agentctl::report::diff::markdown(w, &report),
        _ => agentctl::report::diff::human(w, &report),
    })?;
    let failed_level = args
        .fail_on
        .is_some_and(|level| report.summary.highest_risk.is_some_and(|h| h >= level));
    if failed_level || (args.exit_code && report.has_differences()) {
        return Ok(EXIT_NO);
    }
    Ok(0)
}
