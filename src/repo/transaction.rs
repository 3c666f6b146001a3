//! One state change, one commit, all or nothing.
//!
//! Order of work, and why a kill at any point is safe:
//!
//! 1. Take the repository lock (a second process exits 3 at once).
//! 2. Write blobs, trees and the commit as git objects. Objects are written
//!    atomically and are invisible until a ref points at them; a kill here
//!    leaves at most unreferenced objects, which `git fsck` accepts.
//! 3. Write a journal (`.git/agentctl-journal.json`) naming the branch, the
//!    old and new commit and the paths about to change.
//! 4. Move the branch from the old commit to the new one with a
//!    compare-and-swap; if it moved meanwhile, stop with a conflict (exit 3).
//!    This single ref update is the commit point.
//! 5. Bring the work tree and index up to date for the changed paths, each
//!    file written to a temporary name and renamed into place.
//! 6. Delete the journal.
//!
//! A process killed between 4 and 6 leaves a journal; the next agentctl
//! command that opens the repository finishes step 5 from the commit (or,
//! if the branch never moved, just drops the journal). So every agentctl
//! command sees the repository exactly as before or exactly as after.

use super::{Lock, Repo, RepoError, io_error};
use crate::files;
use git2::{ErrorCode, Oid, Repository, Status, StatusOptions};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A file to write (or delete, when `content` is `None`), relative to the
/// agentctl root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Path relative to the directory holding agentctl.toml, `/`-separated.
    pub path: String,
    /// New bytes, or `None` to delete.
    pub content: Option<Vec<u8>>,
}

impl Change {
    /// Write `content` to `path`.
    pub fn write(path: impl Into<String>, content: impl Into<Vec<u8>>) -> Change {
        Change {
            path: path.into(),
            content: Some(content.into()),
        }
    }
}

/// A commit message: subject, body, and machine-readable trailers.
#[derive(Debug, Clone, Default)]
pub struct Message {
    /// First line, e.g. `promote support-triage 1.4.0 → prod`.
    pub subject: String,
    /// Free text after the subject.
    pub body: String,
    /// `Agentctl-*` trailers, in order.
    pub trailers: Vec<(String, String)>,
}

impl Message {
    /// Add a trailer (newlines in the value become spaces).
    pub fn trailer(&mut self, key: &str, value: &str) {
        let value = value.replace(['\n', '\r'], " ");
        self.trailers.push((format!("Agentctl-{key}"), value));
    }

    /// The full commit message text.
    pub fn render(&self) -> String {
        let mut s = self.subject.clone();
        s.push_str("\n\n");
        if !self.body.trim().is_empty() {
            s.push_str(self.body.trim_end());
            s.push_str("\n\n");
        }
        for (k, v) in &self.trailers {
            s.push_str(&format!("{k}: {v}\n"));
        }
        s
    }
}

/// Where a committing change started: the branch and the commit it pointed at.
#[derive(Debug, Clone)]
pub struct Start {
    /// Full ref name of the checked-out branch (`refs/heads/main`).
    pub branch: String,
    /// The commit the branch pointed at (`None` on an unborn branch).
    pub head: Option<Oid>,
}

/// How changes are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// Make one commit (the default).
    Commit,
    /// Write the files only (for pull-request flows).
    FilesOnly,
}

/// What a transaction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Committed as this commit.
    Committed(String),
    /// Files written, no commit.
    Written,
}

/// What a transaction is about to change, kept in `.git/agentctl-journal.json`
/// from before the commit point until the work tree is up to date.
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    /// The branch moved (empty for `--no-commit`).
    branch: String,
    /// Where it pointed before.
    old: Option<String>,
    /// The new commit, or (files only) the tree holding the new content.
    new: String,
    /// `--no-commit`: no ref moves; `new` is a tree.
    #[serde(default)]
    files_only: bool,
    prefix: String,
    paths: Vec<String>,
}

/// A fault injection point (test builds only; see [`crate::fault`]).
pub fn fault_point(step: &str) {
    crate::fault::point(step);
}

/// A test-only hook: `AGENTCTL_TEST_HOLD_LOCK_MS` keeps the lock held that
/// long after it is taken, so tests can make two processes overlap.
#[cfg(feature = "test-hooks")]
fn hold_lock_for_tests() {
    if let Some(ms) = std::env::var("AGENTCTL_TEST_HOLD_LOCK_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

#[cfg(not(feature = "test-hooks"))]
fn hold_lock_for_tests() {}

/// Lock the repository and check it is safe to change; returns where the
/// branch stood for the compare-and-swap.
pub fn begin(repo: &Repo, record: Record) -> Result<(Lock, Option<Start>), RepoError> {
    let lock = repo.lock()?;
    // A crash of an earlier process may have left work to finish.
    recover_locked(repo)?;
    if let Some(git) = &repo.git {
        configure_log_merge(git);
    }
    if record == Record::FilesOnly {
        return Ok((lock, None));
    }
    let git = repo.git()?;
    if git.is_bare() {
        return Err(RepoError::Unsafe {
            message: "this is a bare repository; agentctl needs a work tree".into(),
            hint: "clone it (`git clone`) and run agentctl in the clone".into(),
        });
    }
    let state = git.state();
    if state != git2::RepositoryState::Clean {
        return Err(RepoError::Unsafe {
            message: format!("the repository is in the middle of an operation ({state:?})"),
            hint: "finish or abort it first (`git merge --abort`, `git rebase --abort`, …)".into(),
        });
    }
    let head = match git.head() {
        Ok(h) => h,
        Err(e) if e.code() == ErrorCode::UnbornBranch => {
            let branch = unborn_branch(git)?;
            check_clean(repo, git)?;
            return Ok((lock, Some(Start { branch, head: None })));
        }
        Err(e) => return Err(e.into()),
    };
    if git.head_detached()? {
        return Err(RepoError::Unsafe {
            message: "HEAD is detached; agentctl commits to a branch".into(),
            hint: "check out the branch environments live on (e.g. `git switch main`)".into(),
        });
    }
    let branch = super::head_name(&head)?.to_string();
    let oid = head.peel_to_commit()?.id();
    check_clean(repo, git)?;
    hold_lock_for_tests();
    Ok((
        lock,
        Some(Start {
            branch,
            head: Some(oid),
        }),
    ))
}

/// Point git's `agentctl-log` merge driver (named for `environments/*.log`
/// in .gitattributes) at this binary, so a person's merge or rebase of two
/// branches that both appended to a log keeps both and renumbers ops. Best
/// effort: a clone where it is not set up gets git's ordinary conflict.
fn configure_log_merge(git: &Repository) {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let driver = format!(
        "'{}' merge-log %O %A %B",
        exe.display().to_string().replace('\'', "'\\''")
    );
    let Ok(mut config) = git
        .config()
        .and_then(|c| c.open_level(git2::ConfigLevel::Local))
    else {
        return;
    };
    if config
        .get_string("merge.agentctl-log.driver")
        .ok()
        .as_deref()
        != Some(driver.as_str())
    {
        let _ = config.set_str("merge.agentctl-log.name", "agentctl environment log");
        let _ = config.set_str("merge.agentctl-log.driver", &driver);
    }
}

fn unborn_branch(git: &Repository) -> Result<String, RepoError> {
    let head = git.find_reference("HEAD")?;
    Ok(head
        .symbolic_target()
        .ok()
        .flatten()
        .unwrap_or("refs/heads/main")
        .to_string())
}

/// Refuse uncommitted changes under environments/.
fn check_clean(repo: &Repo, git: &Repository) -> Result<(), RepoError> {
    check_paths_clean(repo, git, &["environments".to_string()])
}

/// Refuse uncommitted changes under `paths` (relative to the root).
///
/// Releases are checked only where an operation writes (their directories);
/// the releases it reads are checked byte for byte by the integrity gate, so
/// a repository of thousands of releases is not scanned on every change.
fn check_paths_clean(repo: &Repo, git: &Repository, paths: &[String]) -> Result<(), RepoError> {
    if paths.is_empty() {
        return Ok(());
    }
    let mut opts = StatusOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false);
    for p in paths {
        opts.pathspec(format!("{}{p}", repo.prefix));
    }
    let statuses = git.statuses(Some(&mut opts))?;
    let dirty: Vec<String> = statuses
        .iter()
        .filter(|s| s.status() != Status::CURRENT && !s.status().contains(Status::IGNORED))
        .filter_map(|s| s.path().ok().map(str::to_string))
        .take(5)
        .collect();
    if dirty.is_empty() {
        return Ok(());
    }
    Err(RepoError::Unsafe {
        message: format!(
            "uncommitted changes under environments/ or releases/: {}",
            dirty.join(", ")
        ),
        hint: "commit or discard them first (`git status`); agentctl owns these directories".into(),
    })
}

/// Check, before anything is written, that every change can be made
/// without following a link: each directory on the way is a real directory
/// (or missing) and each target a regular file (or missing).
fn preflight(root: &Path, changes: &[Change]) -> Result<(), RepoError> {
    for c in changes {
        files::check_writable(root, Path::new(&c.path))?;
    }
    Ok(())
}

/// Apply `changes`: commit them (with `start` from [`begin`]) or just write them.
pub fn apply(
    repo: &Repo,
    _lock: &Lock,
    start: Option<&Start>,
    changes: &[Change],
    message: &Message,
) -> Result<Outcome, RepoError> {
    preflight(&repo.root, changes)?;
    let Some(start) = start else {
        return apply_files_only(repo, changes);
    };
    let git = repo.git()?;
    let mut release_dirs: Vec<String> = changes
        .iter()
        .filter(|c| c.path.starts_with("releases/"))
        .filter_map(|c| {
            let parts: Vec<&str> = c.path.splitn(4, '/').collect();
            (parts.len() >= 3).then(|| parts[..3].join("/"))
        })
        .collect();
    release_dirs.sort();
    release_dirs.dedup();
    check_paths_clean(repo, git, &release_dirs)?;
    let parent = start.head.map(|oid| git.find_commit(oid)).transpose()?;
    let base = parent.as_ref().map(|p| p.tree()).transpose()?;
    let objects = git.path().join("objects");
    let tree_oid = build_tree(git, &repo.prefix, base.as_ref(), changes)
        .map_err(objects_error_in(&objects))?;
    let tree = git.find_tree(tree_oid)?;
    let sig = signature(git)?;
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let new = git
        .commit(None, &sig, &sig, &message.render(), &tree, &parents)
        .map_err(objects_error_in(&objects))?;
    fault_point("objects");

    let journal = Journal {
        branch: start.branch.clone(),
        old: start.head.map(|o| o.to_string()),
        new: new.to_string(),
        files_only: false,
        prefix: repo.prefix.clone(),
        paths: changes.iter().map(|c| c.path.clone()).collect(),
    };
    write_journal(git, &journal)?;
    fault_point("journal");

    let moved = match start.head {
        Some(old) => git.reference_matching(&start.branch, new, true, old, &message.subject),
        None => git.reference(&start.branch, new, false, &message.subject),
    };
    if let Err(e) = moved {
        let journal_path = journal_path(git);
        let _ = std::fs::remove_file(&journal_path);
        return Err(match e.code() {
            ErrorCode::Modified | ErrorCode::Exists | ErrorCode::Locked => {
                RepoError::Conflict(format!(
                    "{} moved while agentctl was working; nothing was written",
                    start.branch
                ))
            }
            _ => objects_error(e),
        });
    }
    fault_point("ref");
    sync_worktree(&repo.prefix, git, new, &journal.paths, true)?;
    remove_journal(git)?;
    Ok(Outcome::Committed(new.to_string()))
}

/// `--no-commit`: the new content still goes into git objects first (a tree
/// no ref points at), and the journal names it, so a kill halfway through
/// writing the files is finished by the next command instead of leaving a
/// half-written set.
fn apply_files_only(repo: &Repo, changes: &[Change]) -> Result<Outcome, RepoError> {
    let Some(git) = repo.git.as_ref() else {
        for c in changes {
            write_file(&repo.root, &c.path, c.content.as_deref())?;
        }
        return Ok(Outcome::Written);
    };
    let base = match git.head() {
        Ok(h) => Some(h.peel_to_tree()?),
        Err(_) => None,
    };
    let objects = git.path().join("objects");
    let tree = build_tree(git, &repo.prefix, base.as_ref(), changes)
        .map_err(objects_error_in(&objects))?;
    let journal = Journal {
        branch: String::new(),
        old: None,
        new: tree.to_string(),
        files_only: true,
        prefix: repo.prefix.clone(),
        paths: changes.iter().map(|c| c.path.clone()).collect(),
    };
    write_journal(git, &journal)?;
    fault_point("journal");
    sync_from_tree(&repo.prefix, git, tree, &journal.paths)?;
    remove_journal(git)?;
    Ok(Outcome::Written)
}

/// The tree of `base` with `changes` applied (from scratch without a base).
fn build_tree(
    git: &Repository,
    prefix: &str,
    base: Option<&git2::Tree>,
    changes: &[Change],
) -> Result<Oid, git2::Error> {
    match base {
        Some(base) => {
            let mut update = git2::build::TreeUpdateBuilder::new();
            for c in changes {
                let path = format!("{prefix}{}", c.path);
                match &c.content {
                    Some(bytes) => {
                        let blob = git.blob(bytes)?;
                        update.upsert(path, blob, git2::FileMode::Blob);
                    }
                    None => {
                        update.remove(path);
                    }
                }
            }
            update.create_updated(git, base)
        }
        // The first commit: build the tree from scratch (no empty base tree
        // object is left dangling).
        None => {
            let mut index = git2::Index::new()?;
            for c in changes {
                if let Some(bytes) = &c.content {
                    let entry = git2::IndexEntry {
                        ctime: git2::IndexTime::new(0, 0),
                        mtime: git2::IndexTime::new(0, 0),
                        dev: 0,
                        ino: 0,
                        mode: 0o100644,
                        uid: 0,
                        gid: 0,
                        file_size: 0,
                        id: git.blob(bytes)?,
                        flags: 0,
                        flags_extended: 0,
                        path: format!("{prefix}{}", c.path).into_bytes(),
                    };
                    index.add(&entry)?;
                }
            }
            index.write_tree_to(git)
        }
    }
}

/// A failure writing git objects or refs, in words that say what happened:
/// libgit2 sometimes loses the OS error of a full disk ("no error"), so an
/// empty message is followed by a probe write that recovers it.
fn objects_error(e: git2::Error) -> RepoError {
    let m = e.message().trim();
    if !m.is_empty() && !m.eq_ignore_ascii_case("no error") {
        return RepoError::Git(format!("cannot write git objects: {m}"));
    }
    RepoError::Git("cannot write git objects: the write failed without a reason".into())
}

/// [`objects_error`], probing `dir` (the objects directory) for the reason
/// libgit2 did not give.
fn objects_error_in(dir: &Path) -> impl Fn(git2::Error) -> RepoError + '_ {
    move |e| {
        let m = e.message().trim();
        if !m.is_empty() && !m.eq_ignore_ascii_case("no error") {
            return objects_error(e);
        }
        match files::write(dir, Path::new(".agentctl-probe"), &[0u8; 8192]) {
            Ok(()) => {
                let _ = std::fs::remove_file(dir.join(".agentctl-probe"));
                objects_error(e)
            }
            Err(probe) => RepoError::File(probe),
        }
    }
}

fn write_journal(git: &Repository, journal: &Journal) -> Result<(), RepoError> {
    let bytes = serde_json::to_vec(journal).expect("journal always serializes");
    files::write(git.path(), Path::new(JOURNAL), &bytes)?;
    Ok(())
}

fn remove_journal(git: &Repository) -> Result<(), RepoError> {
    files::remove(git.path(), Path::new(JOURNAL))?;
    Ok(())
}

fn signature(git: &Repository) -> Result<git2::Signature<'static>, RepoError> {
    let sig = git.signature().map_err(|_| RepoError::Unsafe {
        message: "git has no identity to commit with".into(),
        hint: "set one: `git config user.name \"Your Name\"` and `git config user.email you@example.com`".into(),
    })?;
    // Honour fixed clocks for reproducible commits in tests.
    let when = match super::fixed_now() {
        Some(t) => git2::Time::new(t.as_second(), 0),
        None => sig.when(),
    };
    let name = sig.name().unwrap_or("agentctl").to_string();
    let email = sig.email().unwrap_or("agentctl@localhost").to_string();
    Ok(git2::Signature::new(&name, &email, &when)?)
}

const JOURNAL: &str = "agentctl-journal.json";

fn journal_path(git: &Repository) -> PathBuf {
    git.path().join(JOURNAL)
}

/// Make the work tree (and, with `index`, the index) match commit `new`
/// for `paths`.
fn sync_worktree(
    prefix: &str,
    git: &Repository,
    new: Oid,
    paths: &[String],
    index: bool,
) -> Result<(), RepoError> {
    let tree = git.find_commit(new)?.tree()?.id();
    sync_from_tree(prefix, git, tree, paths)?;
    if !index {
        return Ok(());
    }
    let Some(workdir) = git.workdir() else {
        return Ok(());
    };
    let mut index = git.index()?;
    for rel in paths {
        let git_path = format!("{prefix}{rel}");
        if files::is_file(workdir, Path::new(&git_path)) {
            index.add_path(Path::new(&git_path))?;
        } else {
            let _ = index.remove_path(Path::new(&git_path));
        }
    }
    fault_point("index");
    index.write().map_err(objects_error_in(git.path()))?;
    Ok(())
}

/// Write `paths` of the work tree from `tree` (deleting those it lacks).
fn sync_from_tree(
    prefix: &str,
    git: &Repository,
    tree: Oid,
    paths: &[String],
) -> Result<(), RepoError> {
    let tree = git.find_tree(tree)?;
    let Some(workdir) = git.workdir() else {
        return Ok(());
    };
    for (i, rel) in paths.iter().enumerate() {
        let git_path = format!("{prefix}{rel}");
        let content = match tree.get_path(Path::new(&git_path)) {
            Ok(entry) => Some(git.find_blob(entry.id())?.content().to_vec()),
            Err(e) if e.code() == ErrorCode::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        write_file(workdir, &git_path, content.as_deref())?;
        if i == 0 {
            fault_point("worktree");
        }
    }
    Ok(())
}

fn write_file(root: &Path, rel: &str, content: Option<&[u8]>) -> Result<(), RepoError> {
    match content {
        Some(bytes) => files::write(root, Path::new(rel), bytes)?,
        None => files::remove(root, Path::new(rel))?,
    }
    Ok(())
}

/// Finish or discard a journal left by a killed process, if the lock is free.
///
/// On a checkout agentctl cannot write (read-only mount, another user's
/// files), a leftover journal cannot be finished: read-only commands go on
/// and the returned note says the work tree may lag the branch.
pub fn recover_if_needed(repo: &Repo) -> Result<Option<String>, RepoError> {
    let envs = repo.root.join("environments");
    let needed = match &repo.git {
        Some(git) => journal_path(git).exists() || files::has_temps(git.path()),
        None => false,
    } || files::has_temps(&envs);
    if !needed {
        return Ok(None);
    }
    let attempt = repo.lock().and_then(|_lock| recover_locked(repo));
    settle(attempt)
}

/// The answer of a recovery attempt for a command that may only read.
fn settle(attempt: Result<(), RepoError>) -> Result<Option<String>, RepoError> {
    match attempt {
        Ok(()) => Ok(None),
        // A live process holds a lock: it will finish its own work, or the
        // next command finishes ours.
        Err(RepoError::Conflict(m)) => Ok(Some(m)),
        Err(e) if is_read_only(&e) => Ok(Some(format!(
            "an interrupted agentctl change could not be finished ({e}); this checkout is read-only, so its files may lag the branch (HEAD is the truth)"
        ))),
        Err(e) => Err(e),
    }
}

/// Finish or discard a journal in `git`, if there is one and the lock is
/// free. Works before agentctl.toml exists (a killed `init`).
pub fn recover_git(git: &Repository) -> Result<Option<String>, RepoError> {
    if !journal_path(git).exists() && !files::has_temps(git.path()) {
        return Ok(None);
    }
    let attempt = super::lock_dir(git.commondir()).and_then(|_lock| {
        recover_locked_git(git)?;
        files::remove_stale_temps(git.path())?;
        Ok(())
    });
    settle(attempt)
}

fn is_read_only(e: &RepoError) -> bool {
    match e {
        RepoError::File(f) => f.is_read_only(),
        RepoError::Io { message, .. } => {
            message.contains("Read-only file system") || message.contains("Permission denied")
        }
        _ => false,
    }
}

fn recover_locked(repo: &Repo) -> Result<(), RepoError> {
    if let Some(git) = &repo.git {
        recover_locked_git(git)?;
        files::remove_stale_temps(git.path())?;
    }
    // Temporary files of a killed `--no-commit` run, or of one killed
    // before its journal was written, are only ever next to environment
    // files or inside the directories a journal names.
    files::remove_stale_temps(&repo.root.join("environments"))?;
    Ok(())
}

fn recover_locked_git(git: &Repository) -> Result<(), RepoError> {
    let Some(bytes) = files::read(git.path(), Path::new(JOURNAL), 64 << 20)? else {
        return Ok(());
    };
    // The journal is written whole (temp file + rename), so one that does
    // not parse is not ours to act on: it is dropped.
    if let Ok(journal) = serde_json::from_slice::<Journal>(&bytes) {
        remove_stale_git_locks(git, &journal)?;
        if journal.files_only {
            let tree = Oid::from_str(&journal.new)?;
            if git.find_tree(tree).is_ok() {
                sync_from_tree(&journal.prefix, git, tree, &journal.paths)?;
            }
        } else {
            let current = git
                .find_reference(&journal.branch)
                .ok()
                .and_then(|r| r.target())
                .map(|o| o.to_string());
            if current.as_deref() == Some(journal.new.as_str()) {
                let new = Oid::from_str(&journal.new)?;
                sync_worktree(&journal.prefix, git, new, &journal.paths, true)?;
            }
        }
        if let Some(workdir) = git.workdir() {
            let mut dirs: Vec<PathBuf> = journal
                .paths
                .iter()
                .filter_map(|p| {
                    Path::new(&format!("{}{p}", journal.prefix))
                        .parent()
                        .map(|d| workdir.join(d))
                })
                .collect();
            dirs.sort();
            dirs.dedup();
            for d in dirs {
                files::remove_stale_temps(&d)?;
            }
        }
    }
    files::remove_stale_temps(git.path())?;
    remove_journal(git)
}

/// Remove the git lock files a killed agentctl left: the branch's ref lock
/// and the index lock. Only with a journal present (the process died
/// inside a transaction, the only time it takes them) and only when no
/// live process has the file open (a person's `git commit` holds its
/// index.lock open for as long as it exists).
fn remove_stale_git_locks(git: &Repository, journal: &Journal) -> Result<(), RepoError> {
    let mut locks = vec![git.path().join("index.lock")];
    if !journal.files_only && !journal.branch.is_empty() {
        locks.push(git.commondir().join(format!("{}.lock", journal.branch)));
    }
    for lock in locks {
        if lock.symlink_metadata().is_ok() && open_by_a_process(&lock) {
            return Err(RepoError::Conflict(format!(
                "another git process holds {}; the interrupted agentctl change is finished once it is done",
                lock.display()
            )));
        }
        if lock.symlink_metadata().is_ok() {
            match std::fs::remove_file(&lock) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&lock, e)),
            }
        }
    }
    Ok(())
}

/// Whether any process has `path` open (Linux: /proc/*/fd). Where /proc
/// cannot be read, assume it is open: never remove a lock we cannot judge.
fn open_by_a_process(path: &Path) -> bool {
    let Ok(target) = path.canonicalize() else {
        return false;
    };
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return true;
    };
    for p in procs.flatten() {
        if !p
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path()).is_ok_and(|l| l == target) {
                return true;
            }
        }
    }
    false
}
