//! The repository agentctl manages: config, releases, environments, commits.
//!
//! Every state change goes through [`transaction`]: the new files are built
//! as git objects first, the branch moves with a compare-and-swap, and only
//! then is the work tree brought up to date, under a lock and with a journal
//! so a process killed at any moment leaves the repository as before or as
//! after (see the README, "Crash safety").

pub mod config;
pub mod environment;
pub mod evidence;
pub mod release;
pub mod remote;
pub mod replay;
pub mod transaction;

use config::{Config, ConfigError};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The config file that marks an agentctl repository's root.
pub const CONFIG_FILE: &str = "agentctl.toml";

/// The nearest directory at or above `start` holding `agentctl.toml`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        // A link or special file named agentctl.toml still marks the root,
        // so that loading it says what is wrong instead of looking higher.
        .find(|d| std::fs::symlink_metadata(d.join(CONFIG_FILE)).is_ok_and(|m| !m.is_dir()))
        .map(Path::to_path_buf)
}

/// Why the repository cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// No agentctl.toml here or above.
    #[error("not an agentctl repository (no agentctl.toml in {0} or any parent)")]
    NotARepository(PathBuf),
    /// agentctl.toml is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// git refused or failed.
    #[error("git: {0}")]
    Git(String),
    /// The repository is in a state where changing it is unsafe.
    #[error("{message}")]
    Unsafe {
        /// What is wrong.
        message: String,
        /// What to do.
        hint: String,
    },
    /// The answer is no: nothing to roll back to, an agent not deployed.
    #[error("{message}")]
    Refused {
        /// What was refused.
        message: String,
        /// What to do.
        hint: String,
    },
    /// Another process holds the lock, or the branch moved.
    #[error("{0}")]
    Conflict(String),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What happened.
        message: String,
    },
    /// A repository file could not be read or written safely (a link, a
    /// FIFO, an oversized file, a full disk).
    #[error(transparent)]
    File(#[from] crate::files::FileError),
    /// Repository content is inconsistent (a hand-edited file, a missing release).
    #[error("{message}")]
    Corrupt {
        /// What is wrong.
        message: String,
        /// What to do.
        hint: String,
    },
}

impl From<git2::Error> for RepoError {
    fn from(e: git2::Error) -> Self {
        RepoError::Git(e.message().to_string())
    }
}

/// Where an agentctl repository's files are, and its config. Shareable
/// across threads; [`Repo`] adds the git handle (git2 handles are not `Sync`).
#[derive(Debug, Clone)]
pub struct Layout {
    /// The directory holding agentctl.toml.
    pub root: PathBuf,
    /// `root` relative to the git work tree, `/`-terminated (empty at top).
    pub prefix: String,
    /// The parsed config.
    pub config: Config,
}

/// An opened agentctl repository: its [`Layout`] and its git repository.
pub struct Repo {
    /// Files and config (also reachable through `Deref`).
    pub layout: Layout,
    /// The git repository, when there is one.
    pub git: Option<git2::Repository>,
    /// Something the person should know that did not stop the command
    /// (e.g. an interrupted change a read-only checkout could not finish).
    pub notes: Vec<String>,
}

impl std::ops::Deref for Repo {
    type Target = Layout;

    fn deref(&self) -> &Layout {
        &self.layout
    }
}

/// An exclusive lock on the repository for one state change.
pub struct Lock {
    _file: File,
}

impl Repo {
    /// Find and open the repository around `start`.
    pub fn discover(start: &Path) -> Result<Repo, RepoError> {
        let root = match find_root(start) {
            Some(root) => root,
            None => {
                // A killed `init` may have committed agentctl.toml without
                // writing it to the work tree yet: finish that, then look again.
                if let Ok(git) = git2::Repository::discover(start) {
                    let _ = transaction::recover_git(&git)?;
                }
                find_root(start).ok_or_else(|| RepoError::NotARepository(start.to_path_buf()))?
            }
        };
        Repo::open(&root)
    }

    /// Open the repository whose agentctl.toml is in `root`.
    pub fn open(root: &Path) -> Result<Repo, RepoError> {
        let config = Config::load(&root.join(CONFIG_FILE))?;
        let git = match git2::Repository::discover(root) {
            Ok(g) => Some(g),
            Err(e) if e.code() == git2::ErrorCode::Owner => {
                return Err(RepoError::Unsafe {
                    message: format!(
                        "git refuses to open {}: it is owned by another user (\"dubious ownership\")",
                        root.display()
                    ),
                    hint: format!(
                        "if you trust this repository: `git config --global --add safe.directory {}`",
                        root.display()
                    ),
                });
            }
            Err(_) => None,
        };
        let mut repo = Repo::from_parts(root, config, git)?;
        if let Some(note) = transaction::recover_if_needed(&repo)? {
            repo.notes.push(note);
        }
        Ok(repo)
    }

    /// The repository at `root` with `config` and the git repository
    /// holding it, if any (its position in the work tree worked out).
    pub(crate) fn from_parts(
        root: &Path,
        config: Config,
        git: Option<git2::Repository>,
    ) -> Result<Repo, RepoError> {
        let mut prefix = String::new();
        if let Some(g) = &git
            && let Some(wd) = g.workdir()
        {
            let wd = wd.canonicalize().map_err(|e| io_error(wd, e))?;
            let r = root.canonicalize().map_err(|e| io_error(root, e))?;
            if let Ok(rel) = r.strip_prefix(&wd) {
                for c in rel.components() {
                    prefix.push_str(&c.as_os_str().to_string_lossy());
                    prefix.push('/');
                }
            }
        }
        Ok(Repo {
            layout: Layout {
                root: root.to_path_buf(),
                prefix,
                config,
            },
            git,
            notes: Vec::new(),
        })
    }

    /// The git repository, or an error saying agentctl needs one here.
    pub fn git(&self) -> Result<&git2::Repository, RepoError> {
        self.git.as_ref().ok_or_else(|| RepoError::Unsafe {
            message: format!("{} is not inside a git repository", self.root.display()),
            hint: "run `git init` (or `agentctl init`, which does it for you)".into(),
        })
    }

    /// Take the repository's lock, failing at once if another process has it.
    pub fn lock(&self) -> Result<Lock, RepoError> {
        match &self.git {
            Some(g) => lock_dir(g.commondir()),
            None => lock_dir(&self.root),
        }
    }
}

impl Layout {
    /// The path of a repository file given relative to the root.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Refuse a name that is not a valid agent name (it would name paths).
    pub fn check_agent_name(name: &str) -> Result<(), RepoError> {
        if crate::bundle::readiness::is_valid_name(name) {
            return Ok(());
        }
        Err(RepoError::Unsafe {
            message: format!("`{name}` is not a valid agent name"),
            hint: "use lowercase letters, digits and dashes, starting with a letter (e.g. `support-triage`)"
                .into(),
        })
    }

    /// Refuse a version that could not name a release directory.
    pub fn check_version(version: &str) -> Result<(), RepoError> {
        if semver::Version::parse(version).is_ok() {
            return Ok(());
        }
        Err(RepoError::Unsafe {
            message: format!("`{version}` is not a semantic version"),
            hint: "releases are named NAME@MAJOR.MINOR.PATCH, e.g. support-triage@1.4.0".into(),
        })
    }

    /// A bundle directory below the root (`agents/NAME` or a release's
    /// `bundle/`), refused when the name is not an agent name or any
    /// component of the way is a link.
    pub fn bundle_dir_checked(&self, name: &str, rel: &str) -> Result<PathBuf, RepoError> {
        Self::check_agent_name(name)?;
        if let Some(link) = crate::files::first_link(&self.root, Path::new(rel)) {
            return Err(crate::files::FileError::Link { path: link }.into());
        }
        Ok(self.root.join(rel))
    }

    /// Every agent name this repository knows: source bundles, released
    /// agents, and agents any environment pins.
    pub fn known_agents(&self) -> Vec<String> {
        let mut names = self.agent_names().unwrap_or_default();
        if let Ok(rd) = std::fs::read_dir(self.root.join("releases")) {
            names.extend(
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| crate::bundle::readiness::is_valid_name(n)),
            );
        }
        for env in self.config.environment_names() {
            if let Ok(state) = environment::read_state(&self.root, env) {
                names.extend(state.agents.into_keys());
            }
        }
        names.sort();
        names.dedup();
        names
    }

    /// Refuse (exit 2, with "did you mean") an agent name this repository
    /// does not know at all. An agent it knows but that is not where a
    /// command needs it is that command's "no" (exit 1).
    pub fn check_known_agent(&self, name: &str) -> Result<(), RepoError> {
        Self::check_agent_name(name)?;
        let known = self.known_agents();
        if known.iter().any(|k| k == name) {
            return Ok(());
        }
        Err(RepoError::Unsafe {
            message: format!("no agent `{name}` in this repository"),
            hint: match crate::bundle::suggest(name, &known) {
                Some(s) => format!("did you mean `{s}`? (agents: {})", known.join(", ")),
                None if known.is_empty() => "there are no agents yet: `agentctl new NAME`".into(),
                None => format!("agents: {}", known.join(", ")),
            },
        })
    }

    /// Source bundle directory of an agent.
    pub fn agent_dir(&self, name: &str) -> PathBuf {
        self.root.join("agents").join(name)
    }

    /// A hint naming the agents under `agents/` (or how to add one).
    pub fn agents_hint(&self) -> String {
        match self.agent_names() {
            Ok(names) if !names.is_empty() => format!("agents: {}", names.join(", ")),
            _ => "there are no agents under agents/ yet: `agentctl new NAME`".into(),
        }
    }

    /// A hint naming an agent's released versions (or how to make one).
    pub fn releases_hint(&self, name: &str) -> String {
        match self.release_versions(name) {
            Ok(v) if !v.is_empty() => format!("released versions of {name}: {}", v.join(", ")),
            _ => format!(
                "{name} has no releases yet: `agentctl release {name}` or `agentctl promote`"
            ),
        }
    }

    /// Names of the source bundles under `agents/`, sorted.
    pub fn agent_names(&self) -> Result<Vec<String>, RepoError> {
        let dir = self.root.join("agents");
        if !dir.exists() {
            return Ok(Vec::new());
        }
        let dirs = crate::validate::subdirectories(&dir).map_err(|e| RepoError::Io {
            path: dir.clone(),
            message: e.to_string(),
        })?;
        Ok(dirs
            .iter()
            .filter(|d| d.join(crate::bundle::MANIFEST_FILE).exists())
            .filter_map(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect())
    }

    /// Check an environment name against the config.
    pub fn environment(
        &self,
        name: &str,
    ) -> Result<(usize, &config::EnvironmentConfig), RepoError> {
        self.config.environment(name).ok_or_else(|| {
            let names: Vec<String> = self
                .config
                .environments
                .iter()
                .map(|e| e.name.clone())
                .collect();
            let list = format!("environments: {}", names.join(", "));
            RepoError::Unsafe {
                message: format!("no environment `{name}` in agentctl.toml"),
                hint: match crate::bundle::suggest(name, &names) {
                    Some(s) => format!("did you mean `{s}`? ({list})"),
                    None => list,
                },
            }
        })
    }
}

/// Take the agentctl lock in `dir` (the git common dir), failing at once
/// if another process holds it. The OS releases it if the process dies.
pub fn lock_dir(dir: &Path) -> Result<Lock, RepoError> {
    let path = dir.join("agentctl.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io_error(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(Lock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(RepoError::Conflict(
            "another agentctl process is changing this repository".into(),
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(io_error(&path, e)),
    }
}

/// Wrap an I/O error with its path.
pub fn io_error(path: &Path, e: std::io::Error) -> RepoError {
    RepoError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The full name of HEAD's reference (`refs/heads/main`).
pub(crate) fn head_name<'r>(head: &'r git2::Reference) -> Result<&'r str, RepoError> {
    head.name()
        .map_err(|_| RepoError::Git("branch name is not UTF-8".into()))
}

/// The time operations record and gates judge by: the real clock. Test
/// builds (feature `test-hooks`) honour `AGENTCTL_NOW` (RFC 3339) so tests
/// get fixed clocks; a shipped binary never reads it, so nobody can step
/// around a freeze window or a key's expiry by setting a variable.
pub fn now() -> jiff::Timestamp {
    fixed_now().unwrap_or_else(jiff::Timestamp::now)
}

/// The fixed clock from `AGENTCTL_NOW`, in test builds only.
#[cfg(feature = "test-hooks")]
pub fn fixed_now() -> Option<jiff::Timestamp> {
    std::env::var("AGENTCTL_NOW").ok()?.parse().ok()
}

/// The fixed clock: never, outside test builds.
#[cfg(not(feature = "test-hooks"))]
pub fn fixed_now() -> Option<jiff::Timestamp> {
    None
}

/// Format a timestamp as RFC 3339 in UTC, to the second.
pub fn format_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}
