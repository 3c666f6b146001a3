//! `agentctl sign NAME@VERSION --key PATH [--principal P]`

use super::common::{WriteArgs, print_report, recorded_line};
use super::{CliError, CliResult, Context, Format};
use agentctl::ops::sign::{SignReleaseError, sign};
use agentctl::signing::{KeyRefusal, SignError, key_source};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Environment variable holding the key's passphrase (for CI).
pub const PASSPHRASE_ENV: &str = "AGENTCTL_SSH_PASSPHRASE";

/// Approve a release: sign its statement with your SSH key.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The release, as NAME@VERSION.
    pub release: String,

    /// Your SSH key: a private key file, or a public key whose private half
    /// ssh-agent holds (as with git's gpg.format=ssh).
    #[arg(long, value_name = "PATH")]
    pub key: PathBuf,

    /// Sign as this principal [default: the key's principal in .agentctl/allowed_signers].
    #[arg(long)]
    pub principal: Option<String>,

    #[command(flatten)]
    pub write: WriteArgs,
}

/// Run it.
pub fn run(ctx: &Context, args: Args) -> CliResult<u8> {
    ctx.require_format(&[Format::Human, Format::Json])?;
    let release = super::statement::parse_release(&args.release)?;
    let key = key_source(&args.key).map_err(sign_error)?;
    let ask = || -> Option<String> {
        if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
            return Some(p);
        }
        if std::io::stdin().is_terminal() {
            return rpassword::prompt_password(format!("passphrase for {}: ", args.key.display()))
                .ok();
        }
        None
    };
    // Asked once, even when --push redoes the signing on a newer tip.
    let answer = std::cell::OnceCell::new();
    let passphrase = || answer.get_or_init(ask).clone();
    let opts = args.write.options(None);
    let report = args
        .write
        .execute(
            |repo| {
                sign(
                    repo,
                    &release,
                    &key,
                    args.principal.as_deref(),
                    &passphrase,
                    &opts,
                )
            },
            |r| &r.recorded,
        )?
        .map_err(|e| match e {
            SignReleaseError::Repo(r) => CliError::from(r),
            SignReleaseError::Sign(s) => sign_error(s),
            SignReleaseError::NotAuthorized(r) => refusal_error(&r),
            e @ SignReleaseError::SelfCheck { .. } => CliError::refused(e.to_string()).hinted(
                "sign with the private key file, or check which key ssh-agent holds (`ssh-add -l`)",
            ),
        })?;
    print_report(ctx, &report, |w| {
        writeln!(
            w,
            "signed {}@{} ({}) as {} → {}",
            report.name, report.version, report.digest, report.principal, report.file
        )
    })?;
    recorded_line(ctx, &report.recorded);
    Ok(0)
}

fn sign_error(e: SignError) -> CliError {
    let hint = match &e {
        SignError::NeedPassphrase(_) => {
            format!("set {PASSPHRASE_ENV}, or run on a terminal to be asked")
        }
        SignError::WrongPassphrase(_) => "check the passphrase".to_string(),
        SignError::Agent(_) => {
            "start ssh-agent and `ssh-add` your key, or pass the private key file".to_string()
        }
        SignError::Key { .. } => {
            "pass an OpenSSH private key (ssh-keygen -t ed25519) or its .pub with ssh-agent"
                .to_string()
        }
        SignError::AllowedSigners { .. } => "fix the line: `<email> ssh-ed25519 AAAA…`".to_string(),
        SignError::Sign(_) => "try again; if it persists, report a bug".to_string(),
    };
    CliError::usage(e.to_string()).hinted(hint)
}

/// A key allowed_signers does not admit: exit 1 (a signature it would not
/// verify is not made), with what would make it admissible.
fn refusal_error(r: &KeyRefusal) -> CliError {
    let through = "through a reviewed pull request";
    let hint = match r {
        KeyRefusal::NotListed {
            principal: Some(p),
            listed_for,
            ..
        } => match listed_for.first() {
            Some(mine) if !mine.contains(['*', '?']) => {
                format!(
                    "this key signs as {mine}: pass `--principal {mine}`, or sign with {p}'s own key"
                )
            }
            Some(_) => format!("sign with a key .agentctl/allowed_signers lists for {p}"),
            None => format!(
                "add `{p} <this key's .pub>` to .agentctl/allowed_signers {through}, or sign with a key it lists for {p}"
            ),
        },
        KeyRefusal::NotListed {
            principal: None,
            listed_for,
            ..
        } => {
            if listed_for.is_empty() {
                format!(
                    "add `you@example.com <this key's .pub>` to .agentctl/allowed_signers {through}"
                )
            } else {
                "pass --principal you@example.com (a name the pattern matches)".to_string()
            }
        }
        KeyRefusal::Namespace { .. } => {
            format!("add `agentctl` to the line's namespaces=\"…\" {through}")
        }
        KeyRefusal::NotYetValid { .. } => {
            "sign with a key that is valid now, or after the line's valid-after".to_string()
        }
        KeyRefusal::Expired { .. } => format!(
            "validity is judged when a signature is verified, so an expired key's signatures do not count: sign with a current key, or renew the line's valid-before {through}"
        ),
    };
    CliError::refused(r.to_string()).hinted(hint)
}
