//! `agentctl merge-log BASE OURS THEIRS`: git's merge driver for
//! environment logs (`environments/*.log merge=agentctl-log`).
//!
//! git runs it for a person's merge or rebase when both sides appended to
//! the same log; it writes the merged log to OURS, with the ops only
//! theirs appended renumbered after ours, and exits 0, or exits 1 (git
//! then reports a conflict) when a side rewrote the log.

use super::{CliError, CliResult, Context};
use std::path::PathBuf;

/// Merge two environment logs (git's merge driver; configured by agentctl).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The common ancestor's log (git's %O).
    pub base: PathBuf,
    /// Our log, overwritten with the result (git's %A).
    pub ours: PathBuf,
    /// Their log (git's %B).
    pub theirs: PathBuf,
}

/// Run it.
pub fn run(_ctx: &Context, args: Args) -> CliResult<u8> {
    let limit = agentctl::repo::environment::MAX_LOG_BYTES;
    let read = |p: &PathBuf| -> CliResult<String> {
        let bytes =
            agentctl::files::read_input(p, limit).map_err(|e| CliError::usage(e.to_string()))?;
        String::from_utf8(bytes).map_err(|_| CliError::usage(format!("{}: not UTF-8", p.display())))
    };
    let (base, ours, theirs) = (read(&args.base)?, read(&args.ours)?, read(&args.theirs)?);
    let merged = agentctl::repo::environment::merge_logs(&base, &ours, &theirs).map_err(|e| {
        CliError::refused(format!("cannot merge environment logs: {e}"))
            .hinted("logs only grow by appending; keep both sides' lines and restore what was rewritten from git")
    })?;
    agentctl::files::write_output(&args.ours, merged.as_bytes())
        .map_err(|e| CliError::usage(e.to_string()))?;
    Ok(0)
}
