//! `agentctl docs NAME`: the operator runbook, generated from the bundle.

use crate::bundle;
use crate::repo::{Repo, RepoError};
use serde::Serialize;
use std::path::Path;

const BUILTIN: &str = include_str!("../../templates/runbook.md.j2");

#[derive(Serialize)]
struct EnvRow {
    name: String,
    version: Option<String>,
    mode: Option<String>,
    updated_at: Option<String>,
    updated_by: Option<String>,
}

/// Render the runbook for agent `name`: from the release `env` runs when
/// given (and it runs one), else from `agents/NAME`.
pub fn runbook(repo: &Repo, name: &str, env: Option<&str>) -> Result<String, RepoError> {
    repo.check_known_agent(name)?;
    let mut dir = repo.bundle_dir_checked(name, &format!("agents/{name}"))?;
    let mut rows = Vec::new();
    for e in &repo.config.environments {
        let state = super::read_state(repo, &e.name)?;
        let pin = state.agents.get(name);
        if Some(e.name.as_str()) == env
            && let Some(p) = pin
        {
            dir =
                repo.bundle_dir_checked(name, &format!("releases/{name}/{}/bundle", p.version))?;
        }
        rows.push(EnvRow {
            name: e.name.clone(),
            version: pin.map(|p| p.version.clone()),
            mode: pin.map(|p| p.mode.to_string()),
            updated_at: pin.map(|p| p.updated_at.clone()),
            updated_by: pin.map(|p| p.updated_by.clone()),
        });
    }
    if let Some(e) = env {
        repo.environment(e)?;
    }
    let file = dir.join(bundle::MANIFEST_FILE);
    if !file.is_file() {
        return Err(RepoError::Unsafe {
            message: format!("no agent `{name}` under agents/ or in any environment"),
            hint: repo.agents_hint(),
        });
    }
    let text = bundle::read_text(&file, &file, bundle::MAX_MANIFEST_BYTES).map_err(|f| {
        RepoError::Corrupt {
            message: f.message,
            hint: format!("run `agentctl validate {}`", dir.display()),
        }
    })?;
    let loaded = bundle::parse_manifest(&text, &file).map_err(|f| RepoError::Corrupt {
        message: format!("{}: {}", file.display(), f.message),
        hint: format!("run `agentctl validate {}`", dir.display()),
    })?;
    let m = loaded.manifest;
    let template = crate::files::read_text(
        &repo.root,
        Path::new("templates/runbook.md.j2"),
        crate::bundle::MAX_TEXT_FILE_BYTES,
    )?
    .unwrap_or_else(|| BUILTIN.to_string());
    let rel = |p: &Option<String>| p.as_ref().map(|p| format!("agents/{name}/{p}"));
    let prod = repo
        .config
        .environments
        .last()
        .map(|e| e.name.clone())
        .unwrap_or_else(|| "prod".into());
    let mut env_ = minijinja::Environment::new();
    env_.set_fuel(Some(crate::render::FUEL * 10));
    env_.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    let ctx = minijinja::context! {
        agent => minijinja::Value::from(minijinja::value::Serde(&m)),
        name => name,
        environments => minijinja::Value::from(minijinja::value::Serde(&rows)),
        prod => prod,
        envs => repo.config.environment_names().iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        bundle_runbook => rel(&m.docs.as_ref().and_then(|d| d.runbook.clone())),
        bundle_faq => rel(&m.docs.as_ref().and_then(|d| d.faq.clone())),
    };
    env_.render_str(&template, ctx)
        .map_err(|e| RepoError::Corrupt {
            message: format!("runbook template: {e}"),
            hint: "fix templates/runbook.md.j2 (or delete it to use the built-in one)".into(),
        })
}
