//! Finding bundles and checking them, many at once.

use crate::bundle::{self, MANIFEST_FILE};
use crate::finding::{Finding, Severity};
use rayon::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Why the set of bundles to check could not be determined.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// A path given on the command line does not exist.
    #[error("{0} does not exist")]
    NotFound(PathBuf),
    /// A directory could not be listed.
    #[error("cannot list {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Turn command-line paths into bundle directories.
///
/// A path may be a bundle directory (it holds `agent.yaml`), the manifest
/// file itself, or a directory of bundles (every subdirectory not starting
/// with `.` is taken as a bundle).
pub fn bundle_dirs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, TargetError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|_| TargetError::NotFound(p.clone()))?;
        if meta.is_file() {
            let parent = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            out.push(parent.to_path_buf());
        } else if p.join(MANIFEST_FILE).exists() {
            out.push(p.clone());
        } else {
            out.extend(subdirectories(p)?);
        }
    }
    out.dedup();
    Ok(out)
}

/// The non-hidden subdirectories of `dir`, sorted.
pub fn subdirectories(dir: &Path) -> Result<Vec<PathBuf>, TargetError> {
    let io = |source| TargetError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let ft = entry.file_type().map_err(io)?;
        // A linked directory is listed so that checking it says it is a
        // link (a bundle must be a real directory), never skipped silently.
        if ft.is_dir() || (ft.is_symlink() && entry.path().is_dir()) {
            dirs.push(entry.path());
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// One bundle's result.
#[derive(Debug, Clone, Serialize)]
pub struct BundleResult {
    /// The bundle directory.
    pub path: PathBuf,
    /// The manifest's name, when it parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The manifest's version, when it parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Every finding, sorted.
    pub findings: Vec<Finding>,
}

/// Counts over a report.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// Bundles checked.
    pub bundles: usize,
    /// Error findings.
    pub errors: usize,
    /// Warning findings.
    pub warnings: usize,
}

impl Summary {
    /// Count `findings` over `bundles` bundles.
    pub fn count<'a>(bundles: usize, findings: impl Iterator<Item = &'a Finding>) -> Summary {
        let mut summary = Summary {
            bundles,
            ..Summary::default()
        };
        for f in findings {
            match f.severity {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
            }
        }
        summary
    }
}

/// The result of validating a set of bundles.
#[derive(Debug, Clone, Serialize)]
pub struct ValidateReport {
    /// Per bundle, in the order given.
    pub bundles: Vec<BundleResult>,
    /// Totals.
    pub summary: Summary,
}

impl ValidateReport {
    /// Every finding of every bundle.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.bundles.iter().flat_map(|b| b.findings.iter())
    }
}

/// Check every bundle directory in parallel; `tick` is called once per bundle done.
/// Prompts are rendered for every environment in `envs`.
pub fn validate(
    dirs: &[PathBuf],
    envs: &[crate::render::RenderEnv],
    tick: &(dyn Fn() + Sync),
) -> ValidateReport {
    let bundles: Vec<BundleResult> = dirs
        .par_iter()
        .map(|dir| {
            let checked = bundle::check_dir_as(dir, None, envs);
            tick();
            BundleResult {
                path: dir.clone(),
                name: checked.manifest.as_ref().map(|m| m.manifest.name.clone()),
                version: checked
                    .manifest
                    .as_ref()
                    .map(|m| m.manifest.version.clone()),
                findings: checked.findings,
            }
        })
        .collect();
    let summary = Summary::count(bundles.len(), bundles.iter().flat_map(|b| &b.findings));
    ValidateReport { bundles, summary }
}
