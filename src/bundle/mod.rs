//! Agent bundles: the manifest model, loading with positions, and checks.
//!
//! Loading never stops at the first problem it can get past: unreadable or
//! malformed input yields one finding with a location, a well-formed manifest
//! yields every readiness finding at once.

pub mod manifest;
pub mod readiness;
pub mod yaml;

use crate::finding::{Finding, Position};
pub use manifest::Manifest;
use std::path::Path;
use yaml::{SourceMap, YamlErrorKind};

/// The manifest's file name inside a bundle directory.
pub const MANIFEST_FILE: &str = "agent.yaml";
/// The largest manifest accepted. Real ones are a few KB.
pub const MAX_MANIFEST_BYTES: u64 = 256 * 1024;
/// The largest prompt, rule or doc file accepted. Real prompts are a few KB.
pub const MAX_TEXT_FILE_BYTES: u64 = 1024 * 1024;

/// Parse-level rule ids, for docs and SARIF.
pub const RULES: &[(&str, &str)] = &[
    (
        "file-unreadable",
        "the file cannot be read, or is a directory",
    ),
    ("file-too-large", "the file is over agentctl's size limit"),
    ("text-not-utf8", "text files must be UTF-8"),
    (
        "text-bom",
        "text files must not start with a byte-order mark",
    ),
    ("text-crlf", "text files must use LF line endings"),
    ("manifest-empty", "agent.yaml is empty"),
    ("yaml-syntax", "agent.yaml is not valid YAML"),
    (
        "yaml-duplicate-key",
        "the same key appears twice in one mapping",
    ),
    (
        "yaml-limit",
        "agent.yaml is nested too deeply or expands too far",
    ),
    (
        "manifest-unknown-key",
        "a key the manifest format does not define",
    ),
    (
        "manifest-invalid",
        "a value of the wrong type, a bad enum value or a missing field",
    ),
    (
        "bundle-unreadable",
        "the bundle directory holds something that cannot be digested",
    ),
];

/// A loaded manifest with the map of where each value is.
#[derive(Debug, Clone)]
pub struct LoadedManifest {
    /// The typed manifest.
    pub manifest: Manifest,
    /// Positions of keys and values.
    pub map: SourceMap,
    /// The manifest as plain JSON (what the schema sees).
    pub value: serde_json::Value,
}

/// Read a text file under a size limit, refusing what would make its bytes
/// differ across platforms or tools: invalid UTF-8, a BOM, CRLF line endings.
pub fn read_text(path: &Path, display: &Path, max: u64) -> Result<String, Finding> {
    use crate::files::FileError;
    let bytes = crate::files::read_no_follow(path, max).map_err(|e| match e {
        FileError::Link { .. } => Finding::error(
            "file-unreadable",
            display,
            format!(
                "{} is a symlink; bundles hold regular files only",
                display.display()
            ),
        )
        .hint("replace the symlink with the file itself"),
        FileError::NotRegular { kind, .. } => Finding::error(
            "file-unreadable",
            display,
            format!("{} is {kind}, not a regular file", display.display()),
        )
        .hint("bundles hold regular files only"),
        FileError::TooLarge { limit, .. } => Finding::error(
            "file-too-large",
            display,
            format!(
                "{} is larger than the limit of {limit} bytes",
                display.display()
            ),
        )
        .hint("keep prompts and manifests small; move bulk data to a knowledge source"),
        e => Finding::error(
            "file-unreadable",
            display,
            format!("cannot read {}: {e}", display.display()),
        )
        .hint("check that the file exists and is readable"),
    })?;
    text_from_bytes(bytes, display)
}

/// [`read_text`] of `rel` inside the bundle `dir`, refusing a symlink on
/// any component of the way (a directory link would lead outside).
pub fn read_text_in(dir: &Path, rel: &str, display: &Path, max: u64) -> Result<String, Finding> {
    if let Some(link) = crate::files::first_link(dir, Path::new(rel)) {
        let shown = link
            .strip_prefix(dir)
            .unwrap_or(&link)
            .display()
            .to_string();
        return Err(Finding::error(
            "file-outside-bundle",
            display,
            format!("`{shown}` is a symlink; bundles hold regular files and directories only"),
        )
        .hint("replace the symlink with the file or directory itself"));
    }
    read_text(&dir.join(rel), display, max)
}

/// Check and convert file bytes to text (see [`read_text`]).
pub fn text_from_bytes(bytes: Vec<u8>, display: &Path) -> Result<String, Finding> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(Finding::error(
            "text-bom",
            display,
            "file starts with a UTF-8 byte-order mark",
        )
        .at(Some(Position { line: 1, column: 1 }))
        .hint("save the file as UTF-8 without BOM"));
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let pos = position_of_offset(std::str::from_utf8(valid).unwrap_or(""), valid.len());
            return Err(Finding::error(
                "text-not-utf8",
                display,
                format!("invalid UTF-8 at byte {}", valid.len()),
            )
            .at(Some(pos))
            .hint("save the file as UTF-8"));
        }
    };
    if let Some(i) = text.find("\r\n") {
        return Err(Finding::error(
            "text-crlf",
            display,
            "file has CRLF (Windows) line endings; bundles use LF so digests match on every platform",
        )
        .at(Some(position_of_offset(&text, i)))
        .hint("convert to LF (e.g. `sed -i 's/\\r$//' FILE`) and keep `.gitattributes` from `agentctl init`"));
    }
    Ok(text)
}

/// The 1-based line and column of a byte offset in `text`.
pub fn position_of_offset(text: &str, offset: usize) -> Position {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Position {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(col).unwrap_or(u32::MAX),
    }
}

/// Read and parse `DIR/agent.yaml` (within the manifest size limit).
pub fn load_manifest(dir: &Path) -> Result<LoadedManifest, Finding> {
    let file = dir.join(MANIFEST_FILE);
    read_text(&file, &file, MAX_MANIFEST_BYTES).and_then(|text| parse_manifest(&text, &file))
}

/// Parse manifest text: YAML, then the typed model. `file` names it in findings.
pub fn parse_manifest(text: &str, file: &Path) -> Result<LoadedManifest, Finding> {
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(
            Finding::error("manifest-empty", file, "agent.yaml is empty")
                .hint("start from `agentctl new NAME`, or copy an example from examples/agents"),
        );
    }
    let (value, map) = yaml::parse(text).map_err(|e| {
        let (rule, hint) = match e.kind {
            YamlErrorKind::DuplicateKey => (
                "yaml-duplicate-key",
                "remove or merge the second occurrence",
            ),
            YamlErrorKind::Limit => (
                "yaml-limit",
                "manifests may nest at most 32 levels, hold 50,000 nodes and use 200 aliases",
            ),
            YamlErrorKind::ComplexKey => ("yaml-syntax", "use plain words as keys"),
            YamlErrorKind::Syntax if e.message.contains("tab") => (
                "yaml-syntax",
                "indent with spaces; YAML does not allow tabs",
            ),
            YamlErrorKind::Syntax => ("yaml-syntax", "fix the YAML syntax at this position"),
        };
        let position = match e.kind {
            YamlErrorKind::Syntax if e.message.contains("tab") => {
                first_indent_tab(text).or(e.position)
            }
            _ => e.position,
        };
        let hint = if e.message.contains("one YAML document") {
            "remove the `---` and everything after it; one manifest per file"
        } else {
            hint
        };
        Finding::error(rule, file, e.message)
            .at(position)
            .hint(hint)
    })?;
    if !value.is_object() {
        return Err(Finding::error(
            "manifest-invalid",
            file,
            "agent.yaml must be a mapping of keys to values",
        )
        .at(map.value(""))
        .hint("start with `apiVersion: agentctl/v1` and `kind: Agent`"));
    }
    let manifest: Manifest = serde_path_to_error::deserialize(&value)
        .map_err(|e| typed_error_finding(&e, &map, file))?;
    Ok(LoadedManifest {
        manifest,
        map,
        value,
    })
}

/// The first tab used for indentation, where YAML forbids it.
fn first_indent_tab(text: &str) -> Option<Position> {
    for (i, line) in text.lines().enumerate() {
        let indent: &str = &line[..line.len() - line.trim_start().len()];
        if let Some(col) = indent.find('\t') {
            return Some(Position {
                line: u32::try_from(i + 1).ok()?,
                column: u32::try_from(col + 1).ok()?,
            });
        }
    }
    None
}

fn typed_error_finding(
    e: &serde_path_to_error::Error<serde_json::Error>,
    map: &SourceMap,
    file: &Path,
) -> Finding {
    let mut pointer = String::new();
    let mut dotted = String::new();
    for seg in e.path().iter() {
        match seg {
            serde_path_to_error::Segment::Seq { index } => {
                pointer.push_str(&format!("/{index}"));
                dotted.push_str(&format!("[{index}]"));
            }
            serde_path_to_error::Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&yaml::pointer_token(key));
                if !dotted.is_empty() {
                    dotted.push('.');
                }
                dotted.push_str(key);
            }
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {}
        }
    }
    let inner = e.inner().to_string();
    let inner = inner
        .split(" at line ")
        .next()
        .unwrap_or(&inner)
        .to_string();
    if let Some((field, expected)) = parse_unknown(&inner, "unknown field `") {
        // The path ends at the unknown key itself; findings name its parent.
        let token = format!("/{}", yaml::pointer_token(&field));
        if let Some(parent) = pointer.strip_suffix(&token) {
            pointer = parent.to_string();
            dotted = dotted
                .strip_suffix(&field)
                .map(|d| d.trim_end_matches('.').to_string())
                .unwrap_or(dotted);
        }
        let key_ptr = format!("{pointer}/{}", yaml::pointer_token(&field));
        let place = if dotted.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in `{dotted}`")
        };
        let hint = match suggest(&field, &expected) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("valid keys here: {}", expected.join(", ")),
        };
        return Finding::error(
            "manifest-unknown-key",
            file,
            format!("unknown key `{field}` {place}"),
        )
        .at(map.key(&key_ptr).or_else(|| map.nearest(&pointer)))
        .hint(hint);
    }
    if let Some((variant, expected)) = parse_unknown(&inner, "unknown variant `") {
        let hint = match suggest(&variant, &expected) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("use one of: {}", expected.join(", ")),
        };
        return Finding::error(
            "manifest-invalid",
            file,
            format!(
                "`{dotted}`: `{variant}` is not one of {}",
                expected.join(", ")
            ),
        )
        .at(map.value(&pointer).or_else(|| map.nearest(&pointer)))
        .hint(hint);
    }
    if let Some(rest) = inner.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or("");
        let place = if dotted.is_empty() {
            "the manifest".to_string()
        } else {
            format!("`{dotted}`")
        };
        return Finding::error(
            "manifest-invalid",
            file,
            format!("{place} is missing required key `{field}`"),
        )
        .at(map.nearest(&pointer))
        .hint(format!(
            "add `{field}:`; see the manifest reference in docs/manifest.md"
        ));
    }
    let what = if dotted.is_empty() {
        "manifest".to_string()
    } else {
        format!("`{dotted}`")
    };
    let hint = if inner.contains("invalid duration") {
        "write a number and a unit: `500ms`, `10s`, `2m` or `1h`"
    } else if inner.contains("invalid type") {
        "see the manifest reference in docs/manifest.md; quote values that YAML would read as numbers or booleans"
    } else {
        "see the manifest reference in docs/manifest.md"
    };
    Finding::error("manifest-invalid", file, format!("{what}: {inner}"))
        .at(map.value(&pointer).or_else(|| map.nearest(&pointer)))
        .hint(hint)
}

/// Parse serde's "unknown field `x`, expected one of `a`, `b`" message.
fn parse_unknown(message: &str, prefix: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix(prefix)?;
    let (name, rest) = rest.split_once('`')?;
    let expected = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((name.to_string(), expected))
}

/// The closest of `candidates` to `word`, if close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: &'a [String]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (c, strsim::jaro_winkler(word, c)))
        .filter(|(c, score)| *score >= 0.8 || strsim::levenshtein(word, c) <= 2)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c.as_str())
}

/// The result of validating one bundle directory.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The manifest, when it parsed.
    pub manifest: Option<LoadedManifest>,
    /// Every finding.
    pub findings: Vec<Finding>,
}

/// The most bytes one file of a bundle may hold, named by the manifest or not.
pub const MAX_BUNDLE_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// The most bytes a whole bundle may hold.
pub const MAX_BUNDLE_BYTES: u64 = 64 * 1024 * 1024;
/// The most files a bundle may hold.
pub const MAX_BUNDLE_FILES: usize = 10_000;

/// Check every file of a bundle, named by the manifest or not: the
/// directory is no link, holds only regular files with plain names, and
/// stays within the limits `release` applies.
pub fn check_files(dir: &Path) -> Vec<Finding> {
    let mut findings = Vec::new();
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        findings.push(
            Finding::error(
                "bundle-is-link",
                dir,
                format!(
                    "{} is a symbolic link; a bundle is a real directory",
                    dir.display()
                ),
            )
            .hint("a linked bundle would release content from outside the repository; replace the link with the directory itself"),
        );
        return findings;
    }
    let listed = match crate::digest::list_files(dir) {
        Ok(l) => l,
        Err(e) => {
            findings.push(
                Finding::error("bundle-unreadable", dir, e.to_string())
                    .hint("bundles hold regular files with plain names only; remove it"),
            );
            return findings;
        }
    };
    if listed.len() > MAX_BUNDLE_FILES {
        findings.push(
            Finding::error(
                "bundle-too-large",
                dir,
                format!(
                    "the bundle holds {} files; the limit is {MAX_BUNDLE_FILES}",
                    listed.len()
                ),
            )
            .hint("keep bulk data out of bundles; reference it as a knowledge source"),
        );
    }
    let mut total = 0u64;
    for (rel, full) in &listed {
        let size = std::fs::symlink_metadata(full)
            .map(|m| m.len())
            .unwrap_or(0);
        total = total.saturating_add(size);
        if size > MAX_BUNDLE_FILE_BYTES {
            findings.push(
                Finding::error(
                    "file-too-large",
                    full,
                    format!(
                        "{rel} is {size} bytes; a bundle file may hold at most {MAX_BUNDLE_FILE_BYTES} bytes"
                    ),
                )
                .hint("keep bulk data out of bundles; reference it as a knowledge source"),
            );
        }
    }
    if total > MAX_BUNDLE_BYTES {
        findings.push(
            Finding::error(
                "bundle-too-large",
                dir,
                format!("the bundle holds {total} bytes; the limit is {MAX_BUNDLE_BYTES}"),
            )
            .hint("keep bulk data out of bundles; reference it as a knowledge source"),
        );
    }
    findings
}

/// Load and check a source bundle directory: parse, readiness, named text
/// files. `name` must equal the directory's name.
pub fn check_dir(dir: &Path) -> Checked {
    check_dir_as(dir, None, &crate::render::RenderEnv::standalone())
}

/// Load and check a bundle directory whose `name` must be `expected_name`
/// (a release's `bundle/`), or the directory name when `None`.
///
/// Every prompt is rendered for every environment in `envs`.
pub fn check_dir_as(
    dir: &Path,
    expected_name: Option<&str>,
    envs: &[crate::render::RenderEnv],
) -> Checked {
    let file = dir.join(MANIFEST_FILE);
    let mut findings = Vec::new();
    let loaded = match load_manifest(dir) {
        Ok(l) => Some(l),
        Err(f) => {
            findings.push(f);
            None
        }
    };
    if let Some(l) = &loaded {
        findings.extend(readiness::placeholders(&l.value, &l.map, &file));
        findings.extend(readiness::check(
            &l.manifest,
            &l.map,
            dir,
            &file,
            expected_name,
        ));
        for (_, rel) in readiness::named_files(&l.manifest) {
            let full = dir.join(rel);
            let regular = std::fs::symlink_metadata(&full).is_ok_and(|m| m.is_file());
            if readiness::is_contained(rel)
                && regular
                && crate::files::first_link(dir, Path::new(rel)).is_none()
                && let Err(f) = read_text(&full, &full, MAX_TEXT_FILE_BYTES)
            {
                findings.push(f);
            }
        }
        // Render only when every named file reads cleanly; otherwise the
        // findings above already say what is wrong.
        if !findings
            .iter()
            .any(|f| f.is_error() && f.rule.starts_with("text-") || f.rule == "file-too-large")
        {
            findings.extend(crate::render::check(dir, &l.manifest, envs));
        }
    }
    findings.extend(check_files(dir));
    // Every file ships in the release, named by the manifest or not.
    findings.extend(crate::check::secrets::scan_dir(dir));
    crate::finding::sort(&mut findings);
    Checked {
        manifest: loaded,
        findings,
    }
}
