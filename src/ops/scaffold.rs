//! `agentctl new NAME`: scaffold a complete bundle from templates.
//!
//! Templates are `templates/bundle/**.tmpl` (minijinja, seeing `name`); a
//! repository's own `templates/bundle/` overrides the built-in set. Only a
//! person can name the owners and answer the security review, so those are
//! left as FILL-ME blanks that `validate` refuses.

use crate::bundle::readiness;
use crate::repo::transaction::{self, Change, Message, Record};
use crate::repo::{Repo, RepoError};
use include_dir::{Dir, include_dir};
use serde::Serialize;

static BUILTIN: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/templates/bundle");

/// What `new` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct NewReport {
    /// Agent.
    pub name: String,
    /// Files written, relative to the repository root.
    pub files: Vec<String>,
    /// Where the templates came from.
    pub templates: String,
}

fn template_files(repo: &Repo) -> Result<(Vec<(String, String)>, String), RepoError> {
    let custom = repo.path("templates/bundle");
    if custom.is_dir() {
        let mut out = Vec::new();
        for (rel, full) in crate::digest::list_files(&custom).map_err(|e| RepoError::Corrupt {
            message: e.to_string(),
            hint: "templates/bundle holds plain template files".into(),
        })? {
            let text = crate::bundle::read_text(&full, &full, crate::bundle::MAX_TEXT_FILE_BYTES)
                .map_err(|f| RepoError::Corrupt {
                message: f.message,
                hint: "templates must be UTF-8 text".into(),
            })?;
            out.push((rel, text));
        }
        return Ok((out, custom.display().to_string()));
    }
    let out = embedded_files(&BUILTIN)
        .into_iter()
        .filter_map(|(rel, bytes)| Some((rel, std::str::from_utf8(bytes).ok()?.to_string())))
        .collect();
    Ok((out, "built-in templates".into()))
}

/// Every file embedded in `dir` (recursively), with its `/`-separated path.
pub fn embedded_files(dir: &'static Dir<'static>) -> Vec<(String, &'static [u8])> {
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for f in d.files() {
            out.push((f.path().to_string_lossy().replace('\\', "/"), f.contents()));
        }
        stack.extend(d.dirs());
    }
    out
}

/// Scaffold `agents/NAME/` (files only: you fill the blanks, then commit).
pub fn new_bundle(repo: &Repo, name: &str) -> Result<NewReport, RepoError> {
    crate::repo::Layout::check_agent_name(name)?;
    let dir = repo.agent_dir(name);
    if dir.exists() {
        return Err(RepoError::Unsafe {
            message: format!("{} already exists", dir.display()),
            hint: "pick another name, or edit the existing bundle".into(),
        });
    }
    let (templates, source) = template_files(repo)?;
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_fuel(Some(crate::render::FUEL));
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    let mut changes = Vec::new();
    for (rel, text) in &templates {
        let Some(out_name) = rel.strip_suffix(".tmpl") else {
            continue;
        };
        if !readiness::is_contained(out_name) {
            continue;
        }
        let rendered = env
            .render_str(text, minijinja::context! { name => name })
            .map_err(|e| RepoError::Corrupt {
                message: format!("template {rel}: {e}"),
                hint: format!("fix the template in {source}"),
            })?;
        let rendered = if rendered.ends_with('\n') {
            rendered
        } else {
            format!("{rendered}\n")
        };
        changes.push(Change::write(format!("agents/{name}/{out_name}"), rendered));
    }
    if changes.is_empty() {
        return Err(RepoError::Corrupt {
            message: format!("no templates (*.tmpl) found in {source}"),
            hint: "templates/bundle/ needs at least agent.yaml.tmpl".into(),
        });
    }
    let (lock, start) = transaction::begin(repo, Record::FilesOnly)?;
    transaction::apply(repo, &lock, start.as_ref(), &changes, &Message::default())?;
    Ok(NewReport {
        name: name.to_string(),
        files: changes.into_iter().map(|c| c.path).collect(),
        templates: source,
    })
}
