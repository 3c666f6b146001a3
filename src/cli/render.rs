//! `agentctl render NAME --env ENV`

use super::common::{open_repo, print_report};
use super::error::EXIT_NO;
use super::{CliError, CliResult, Context, Format};
use agentctl::bundle;
use agentctl::finding::{Finding, Position};
use agentctl::render::{RenderEnv, render_all};
use agentctl::report::human::SnippetWriter;

/// Print each prompt as an environment will see it.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The agent.
    pub name: String,

    /// The environment whose variables (and pinned release) to use.
    #[arg(long)]
    pub env: String,

    /// Render the source bundle in agents/ even if the environment pins a release.
    #[arg(long)]
    pub source: bool,

    /// Print only this prompt, with no header.
    #[arg(long, value_name = "NAME")]
    pub prompt: Option<String>,
}

/// Run it.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    ctx.require_format(&[Format::Human, Format::Json])?;
    let repo = open_repo()?;
    let (_, env_cfg) = repo.environment(&args.env)?;
    let target = RenderEnv::of(env_cfg);
    repo.check_known_agent(&args.name)?;
    let state = agentctl::ops::read_state(&repo, &args.env)?;
    let dir = match state.agents.get(&args.name) {
        Some(pin) if !args.source => {
            ctx.ui.status(&format!(
                "rendering {}@{}, which {} runs",
                args.name, pin.version, args.env
            ));
            repo.bundle_dir_checked(
                &args.name,
                &format!("releases/{}/{}/bundle", args.name, pin.version),
            )?
        }
        _ => {
            if !args.source {
                ctx.ui.status(&format!(
                    "{} does not run in {}; rendering agents/{}",
                    args.name, args.env, args.name
                ));
            }
            repo.bundle_dir_checked(&args.name, &format!("agents/{}", args.name))?
        }
    };
    let file = dir.join(bundle::MANIFEST_FILE);
    if !file.is_file() {
        return Err(CliError::usage(format!("no agent `{}`", args.name)).hinted(repo.agents_hint()));
    }
    let manifest = bundle::load_manifest(&dir)
        .map_err(|f| {
            CliError::usage(f.message).hinted(format!("run `agentctl validate {}`", dir.display()))
        })?
        .manifest;
    match render_all(&dir, &manifest, &target) {
        Ok(mut prompts) => {
            if let Some(p) = &args.prompt {
                prompts.retain(|r| &r.name == p);
                if prompts.is_empty() {
                    return Err(
                        CliError::usage(format!("{} has no prompt `{p}`", args.name)).hinted(
                            format!(
                                "prompts: {}",
                                manifest
                                    .prompts
                                    .iter()
                                    .map(|p| p.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ),
                    );
                }
            }
            let single = args.prompt.is_some();
            print_report(ctx, &prompts, |w| {
                for p in &prompts {
                    if !single {
                        writeln!(w, "===== {} ({}) for {} =====", p.name, p.file, args.env)?;
                    }
                    w.write_all(p.text.as_bytes())?;
                    if !p.text.ends_with('\n') {
                        writeln!(w)?;
                    }
                }
                Ok(())
            })?;
            Ok(0)
        }
        Err(e) => {
            let finding = Finding::error(e.rule, dir.join(&e.file), format!("{} (environment {})", e.message, args.env))
                .at(e.line.map(|l| Position { line: l, column: e.column.unwrap_or(1) }))
                .hint("templates see `agent`, `env.name` and `vars`; fix the template or the environment's vars in agentctl.toml");
            let mut err = ctx.ui.stderr();
            let _ = SnippetWriter::default().write(&mut err, &finding);
            Ok(EXIT_NO)
        }
    }
}
