//! Sharing one environment repository between many CI runners: `--push`.
//!
//! Fetch and push go through the `git` command, so the credentials, SSH
//! keys, proxies and URL rewrites the runner already has for git just work;
//! commits are still made by agentctl itself. A push that loses a race is
//! not an error: the runner drops its own commit, fast-forwards to what won,
//! and redoes the operation from scratch, every gate re-checked.

use super::{Repo, RepoError};
use git2::Oid;
use std::process::Command;

/// How many times an operation is redone after losing a push race.
pub const MAX_PUSH_ATTEMPTS: u32 = 8;

/// The result of a push.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed {
    /// The remote took it.
    Accepted,
    /// The remote branch moved; fetch and redo.
    Rejected,
}

fn git_cmd(repo: &Repo) -> Result<Command, RepoError> {
    let git = repo.git()?;
    let wd = git.workdir().ok_or_else(|| RepoError::Unsafe {
        message: "a bare repository cannot be pushed from".into(),
        hint: "run agentctl in a clone".into(),
    })?;
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(wd).env("GIT_TERMINAL_PROMPT", "0");
    Ok(cmd)
}

/// The checked-out branch's short name (`main`).
pub fn current_branch(repo: &Repo) -> Result<String, RepoError> {
    let head = repo.git()?.head()?;
    super::head_name(&head)?
        .strip_prefix("refs/heads/")
        .map(str::to_string)
        .ok_or_else(|| RepoError::Unsafe {
            message: "HEAD is not on a branch".into(),
            hint: "check out the branch environments live on".into(),
        })
}

/// Fetch `remote`'s `branch`; returns the commit it points at.
pub fn fetch(repo: &Repo, remote: &str, branch: &str) -> Result<Oid, RepoError> {
    let tracking = format!("refs/remotes/{remote}/{branch}");
    let out = git_cmd(repo)?
        .args(["fetch", "--quiet", "--no-tags", remote])
        .arg(format!("+refs/heads/{branch}:{tracking}"))
        .output()
        .map_err(|e| RepoError::Git(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        return Err(RepoError::Unsafe {
            message: format!(
                "git fetch {remote} {branch} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            hint: format!("check that remote `{remote}` exists and is reachable (`git remote -v`)"),
        });
    }
    let git = repo.git()?;
    Ok(git.refname_to_id(&tracking)?)
}

/// Push HEAD to `remote`'s `branch`.
pub fn push(repo: &Repo, remote: &str, branch: &str) -> Result<Pushed, RepoError> {
    let out = git_cmd(repo)?
        .args(["push", "--porcelain", remote])
        .arg(format!("HEAD:refs/heads/{branch}"))
        .output()
        .map_err(|e| RepoError::Git(format!("cannot run git: {e}")))?;
    if out.status.success() {
        return Ok(Pushed::Accepted);
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lower = text.to_ascii_lowercase();
    if [
        "[rejected]",
        "non-fast-forward",
        "fetch first",
        "stale info",
        "cannot lock ref",
        "failed to update ref",
    ]
    .iter()
    .any(|s| lower.contains(s))
    {
        return Ok(Pushed::Rejected);
    }
    Err(RepoError::Unsafe {
        message: format!("git push {remote} failed: {}", text.trim()),
        hint: "check the remote and your credentials (`git push` by hand shows the same error)"
            .into(),
    })
}

/// Move the checked-out branch from `expected` to `target`, updating the
/// work tree safely (local edits elsewhere are kept; a conflicting one stops it).
pub fn move_branch(repo: &Repo, expected: Oid, target: Oid) -> Result<(), RepoError> {
    if expected == target {
        return Ok(());
    }
    let _lock = repo.lock()?;
    let git = repo.git()?;
    let head = git.head()?;
    let branch = super::head_name(&head)?.to_string();
    if head.target() != Some(expected) {
        return Err(RepoError::Conflict(format!(
            "{branch} moved while agentctl was syncing"
        )));
    }
    let commit = git.find_commit(target)?;
    let mut co = git2::build::CheckoutBuilder::new();
    // `safe` keeps local edits; files the two commits differ in are
    // agentctl's own (environments/, releases/), which begin() has checked
    // are clean.
    co.safe();
    git.checkout_tree(commit.as_object(), Some(&mut co))
        .map_err(|e| RepoError::Unsafe {
            message: format!("cannot update the work tree to {target}: {}", e.message()),
            hint: "commit or stash local changes, then retry".into(),
        })?;
    git.reference_matching(
        &branch,
        target,
        true,
        expected,
        "agentctl: sync with remote",
    )?;
    Ok(())
}

/// Bring the local branch level with the remote before an operation:
/// fast-forward when behind; when diverged because agentctl commits of an
/// earlier run never reached the remote (a runner killed between its
/// commit and its push), re-apply those operations on the remote's tip.
pub fn sync(repo: &Repo, remote: &str, branch: &str) -> Result<(), RepoError> {
    let remote_tip = fetch(repo, remote, branch)?;
    let git = repo.git()?;
    let local = git.head()?.peel_to_commit()?.id();
    if local == remote_tip || git.graph_descendant_of(local, remote_tip)? {
        return Ok(());
    }
    if git.graph_descendant_of(remote_tip, local)? {
        return move_branch(repo, local, remote_tip);
    }
    let replayed = super::replay::replay_unpushed(repo, local, remote_tip, remote, branch)?;
    move_branch(repo, local, replayed)
}

/// After a rejected push: drop our own commit (HEAD, made by this process)
/// so the next sync can fast-forward.
pub fn drop_own_commit(repo: &Repo, own: Oid) -> Result<(), RepoError> {
    let git = repo.git()?;
    let parent = git.find_commit(own)?.parent_id(0)?;
    move_branch(repo, own, parent)
}
