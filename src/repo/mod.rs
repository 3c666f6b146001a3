//! The repository agentctl manages: config, releases, environments, commits.

use std::path::{Path, PathBuf};

/// The config file that marks an agentctl repository's root.
pub const CONFIG_FILE: &str = "agentctl.toml";

/// The nearest directory at or above `start` holding `agentctl.toml`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join(CONFIG_FILE).is_file())
        .map(Path::to_path_buf)
}
