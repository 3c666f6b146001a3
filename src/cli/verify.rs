//! `agentctl verify [ENV | NAME@VERSION]`

use super::common::{TrustArgs, open_repo, print_report};
use super::error::EXIT_NO;
use super::{CliResult, Context, Format};
use agentctl::ops::admission::TrustRoot;
use agentctl::ops::verify::{Target, VerifyReport, verify_with_progress};
use agentctl::signing::Verdict;
use anstyle::AnsiColor;
use std::io::Write;

/// Check digests, environment pins and signatures; exit 1 on any mismatch.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// An environment or NAME@VERSION [default: every environment].
    pub target: Option<String>,

    #[command(flatten)]
    pub trust: TrustArgs,
}

/// Run it.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    ctx.require_format(&[Format::Human, Format::Json])?;
    let repo = open_repo()?;
    let target = match &args.target {
        None => Target::All,
        Some(t) if t.contains('@') => Target::Release(super::statement::parse_release(t)?),
        Some(t) => Target::Environment(t.clone()),
    };
    let trust = TrustRoot::load(
        &repo,
        args.trust.trust_root.as_deref(),
        args.trust.allowed_signers.as_deref(),
        args.trust.signer_roles.as_deref(),
    )?;
    let bar = ctx.progress(0, "verifying");
    let report = verify_with_progress(&repo, &trust, &target, &super::ui::ticker(&bar))?;
    bar.finish_and_clear();
    print_report(ctx, &report, |w| render(w, &report))?;
    if report.ok {
        ctx.ui.status(&format!(
            "verified {} release(s) against {}",
            report.releases.len(),
            report.trust
        ));
        Ok(0)
    } else {
        let bad = report.releases.iter().filter(|r| !r.ok()).count();
        let env_bad = report.environment_problems.len();
        ctx.ui.error(&format!("{bad} release(s) and {env_bad} environment problem(s) failed verification"), Some("see the report above; releases and signatures are restored from git, approvals with `agentctl sign`"));
        Ok(EXIT_NO)
    }
}

fn render(w: &mut dyn Write, report: &VerifyReport) -> std::io::Result<()> {
    let ok = AnsiColor::Green.on_default().bold();
    let bad = AnsiColor::Red.on_default().bold();
    let bold = anstyle::Style::new().bold();
    if report.releases.is_empty() && report.environment_problems.is_empty() {
        return writeln!(w, "nothing to verify: no environment pins a release yet");
    }
    for r in &report.releases {
        let pinned = if r.pinned_in.is_empty() {
            String::new()
        } else {
            format!(" (in {})", r.pinned_in.join(", "))
        };
        writeln!(w, "{bold}{}@{}{bold:#}{pinned}", r.name, r.version)?;
        if r.digest_problems.is_empty() {
            writeln!(w, "  {ok}✓{ok:#} digest      {}", r.digest)?;
        }
        for p in &r.digest_problems {
            writeln!(w, "  {bad}✗{bad:#} digest      {p}")?;
        }
        if r.signatures.is_empty() {
            writeln!(w, "    signatures  none")?;
        }
        for s in &r.signatures {
            match &s.verdict {
                Verdict::Good => writeln!(
                    w,
                    "  {ok}✓{ok:#} signature   {} good{}",
                    s.principal,
                    if s.roles.is_empty() {
                        String::new()
                    } else {
                        format!(" (roles: {})", s.roles.join(", "))
                    }
                )?,
                Verdict::UnknownSigner { reason } => writeln!(
                    w,
                    "  {bad}✗{bad:#} signature   {} unknown signer: {reason}",
                    s.principal
                )?,
                Verdict::Bad { reason } => writeln!(
                    w,
                    "  {bad}✗{bad:#} signature   {} bad: {reason}",
                    s.principal
                )?,
            }
        }
        for e in &r.gates {
            for g in &e.gates {
                if g.passed {
                    writeln!(
                        w,
                        "  {ok}✓{ok:#} {:<11} {}: {}",
                        g.gate, e.environment, g.message
                    )?;
                } else {
                    writeln!(
                        w,
                        "  {bad}✗{bad:#} {:<11} {}: {}",
                        g.gate, e.environment, g.message
                    )?;
                    if let Some(h) = &g.hint {
                        writeln!(w, "                hint: {h}")?;
                    }
                }
            }
        }
    }
    for p in &report.environment_problems {
        writeln!(w, "{bad}✗{bad:#} {p}")?;
    }
    if !report.proved.is_empty() {
        writeln!(w, "{bold}what this checks{bold:#}")?;
        for p in &report.proved {
            writeln!(w, "  - {p}")?;
        }
    }
    Ok(())
}
