//! Errors at the edge: a message, a hint and an exit code.
//!
//! Exit codes (DESIGN.md): 0 success; 1 the answer is no; 2 usage error,
//! unreadable input, not an agentctl repository; 3 conflict (retry is safe).

use std::fmt;

/// The answer is no: findings, a refused gate, a bad signature.
pub const EXIT_NO: u8 = 1;
/// Usage error, unreadable input, not an agentctl repository.
pub const EXIT_USAGE: u8 = 2;
/// The repository changed underneath; retrying is safe.
pub const EXIT_CONFLICT: u8 = 3;

/// An error the CLI reports and exits with.
#[derive(Debug)]
pub struct CliError {
    /// Exit code.
    pub code: u8,
    /// What went wrong (first line of the report).
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

/// Result of a command: an exit code or an error.
pub type CliResult<T> = Result<T, CliError>;

impl CliError {
    /// A usage or input error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: EXIT_USAGE,
            message: message.into(),
            hint: None,
        }
    }

    /// A refusal (exit 1).
    pub fn refused(message: impl Into<String>) -> Self {
        CliError {
            code: EXIT_NO,
            message: message.into(),
            hint: None,
        }
    }

    /// A conflict (exit 3).
    pub fn conflict(message: impl Into<String>) -> Self {
        CliError {
            code: EXIT_CONFLICT,
            message: message.into(),
            hint: None,
        }
    }

    /// Add a hint.
    pub fn hinted(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Add a hint, unless it is empty.
    pub fn hinted_unless_empty(self, hint: String) -> Self {
        if hint.is_empty() {
            self
        } else {
            self.hinted(hint)
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::usage(format!("I/O error: {e}"))
    }
}

impl From<agentctl::repo::RepoError> for CliError {
    fn from(e: agentctl::repo::RepoError) -> Self {
        use agentctl::repo::RepoError as E;
        match e {
            E::NotARepository(_) => CliError::usage(e.to_string())
                .hinted("run `agentctl init` here, or use -C DIR to point at the repository"),
            E::Config(c) => {
                let hint = c.hint.clone();
                let mut err = CliError::usage(c.to_string());
                err.hint = hint;
                err
            }
            E::Git(m) => CliError::usage(format!("git: {m}")),
            E::Unsafe { message, hint } | E::Corrupt { message, hint } => {
                CliError::usage(message).hinted_unless_empty(hint)
            }
            E::Refused { message, hint } => CliError::refused(message).hinted_unless_empty(hint),
            E::Conflict(m) => {
                CliError::conflict(m).hinted("nothing was written; run the command again")
            }
            E::Io { .. } => CliError::usage(e.to_string()),
            E::File(f) => {
                use agentctl::files::FileError as F;
                let hint = match &f {
                    F::Link { .. } => {
                        "a link in the repository can point anywhere (your ~/.ssh, /dev/zero); replace it with the real file or directory, or remove it"
                    }
                    F::NotRegular { .. } => "replace it with a regular file",
                    F::TooLarge { .. } => {
                        "this file is larger than agentctl reads; check what it is"
                    }
                    F::Outside { .. } => "name a path inside the repository",
                    F::Io { source, .. } if source.raw_os_error() == Some(28) => {
                        "free some space and run the command again; nothing was committed"
                    }
                    F::Io { .. } => "",
                };
                CliError::usage(f.to_string()).hinted_unless_empty(hint.to_string())
            }
        }
    }
}
