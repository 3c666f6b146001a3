//! Prompt templates, rendered as an environment will see them, under limits.
//!
//! Prompts are minijinja templates. They see `agent` (the manifest), `env`
//! (`env.name`) and `vars` (the environment's variables from agentctl.toml).
//! Templates come from pull requests, so rendering is bounded: undefined
//! variables are errors (strict mode); a fuel limit stops endless loops and
//! recursion; includes resolve only inside the bundle (no `..`, no absolute
//! paths, no symlinks); output is capped.

use crate::bundle::manifest::Manifest;
use crate::bundle::{self, readiness};
use crate::finding::{Finding, Position};
use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Instructions a template may execute per render. Real prompts use a few
/// thousand; an endless loop is stopped in milliseconds.
pub const FUEL: u64 = 200_000;
/// Nesting of includes, macros and blocks.
pub const RECURSION_LIMIT: usize = 64;
/// The most a rendered prompt may be.
pub const MAX_OUTPUT_BYTES: usize = 1024 * 1024;

/// What one environment gives templates.
#[derive(Debug, Clone, Default)]
pub struct RenderEnv {
    /// The environment's name (`env.name`).
    pub name: String,
    /// Its variables (`vars.*`).
    pub vars: BTreeMap<String, toml::Value>,
}

impl RenderEnv {
    /// Every environment of a config.
    pub fn all(config: &crate::repo::config::Config) -> Vec<RenderEnv> {
        config.environments.iter().map(RenderEnv::of).collect()
    }

    /// What one configured environment gives templates.
    pub fn of(env: &crate::repo::config::EnvironmentConfig) -> RenderEnv {
        RenderEnv {
            name: env.name.clone(),
            vars: env.vars.clone(),
        }
    }

    /// The stand-in used when there is no agentctl.toml (validating loose bundles).
    pub fn standalone() -> Vec<RenderEnv> {
        vec![RenderEnv {
            name: "default".into(),
            vars: BTreeMap::new(),
        }]
    }
}

/// A rendered prompt.
#[derive(Debug, Clone, Serialize)]
pub struct Rendered {
    /// The prompt's name.
    pub name: String,
    /// Its file in the bundle.
    pub file: String,
    /// The text.
    pub text: String,
}

/// A render failure, located in the template that failed.
#[derive(Debug, Clone)]
pub struct RenderError {
    /// Rule id: `prompt-undefined`, `prompt-syntax`, `prompt-limit`, `prompt-include`, `prompt-render`.
    pub rule: &'static str,
    /// The template file (bundle-relative).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
    /// What went wrong.
    pub message: String,
}

fn environment(bundle_dir: &Path) -> Environment<'static> {
    let root: PathBuf = bundle_dir.to_path_buf();
    bounded(move |name: &str| load_template(&root, name))
}

/// An environment with the limits every render runs under, loading
/// templates through `loader`.
fn bounded(
    loader: impl Fn(&str) -> Result<Option<String>, minijinja::Error> + Send + Sync + 'static,
) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(RECURSION_LIMIT);
    // Prompts are plain text: no HTML escaping.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_loader(loader);
    env
}

fn load_template(root: &Path, name: &str) -> Result<Option<String>, minijinja::Error> {
    let refuse = |why: &str| {
        Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            format!("cannot include `{name}`: {why}"),
        ))
    };
    if !readiness::is_contained(name) {
        return refuse(
            "templates may only include files inside their own bundle (no `..`, no absolute paths)",
        );
    }
    if let Some(link) = crate::files::first_link(root, Path::new(name)) {
        let shown = link
            .strip_prefix(root)
            .unwrap_or(&link)
            .display()
            .to_string();
        return refuse(&format!("`{shown}` is a symlink"));
    }
    let full = root.join(name);
    match std::fs::symlink_metadata(&full) {
        Err(_) => Ok(None),
        Ok(m) if !m.is_file() => refuse("it is not a regular file"),
        Ok(_) => match bundle::read_text(&full, Path::new(name), bundle::MAX_TEXT_FILE_BYTES) {
            Ok(text) => Ok(Some(text)),
            Err(f) => refuse(&f.message),
        },
    }
}

/// Writes into a String, refusing to grow past the output cap.
struct Capped(String);

impl std::fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.0.len() + s.len() > MAX_OUTPUT_BYTES {
            return Err(std::fmt::Error);
        }
        self.0.push_str(s);
        Ok(())
    }
}

/// Render every prompt of a bundle for one environment.
pub fn render_all(
    bundle_dir: &Path,
    manifest: &Manifest,
    target: &RenderEnv,
) -> Result<Vec<Rendered>, RenderError> {
    Renderer::new(bundle_dir, manifest).render(target)
}

/// Renders one bundle's prompts for many environments, compiling each
/// template once.
pub struct Renderer<'m> {
    bundle_dir: PathBuf,
    manifest: &'m Manifest,
    env: Environment<'static>,
    agent: Value,
}

impl<'m> Renderer<'m> {
    /// Prepare to render `manifest`'s prompts from `bundle_dir`.
    pub fn new(bundle_dir: &Path, manifest: &'m Manifest) -> Self {
        Renderer {
            bundle_dir: bundle_dir.to_path_buf(),
            manifest,
            env: environment(bundle_dir),
            agent: Value::from(minijinja::value::Serde(manifest)),
        }
    }

    /// Render every prompt for one environment.
    pub fn render(&self, target: &RenderEnv) -> Result<Vec<Rendered>, RenderError> {
        let dir = &self.bundle_dir;
        render_with(
            &self.env,
            &|file| std::fs::symlink_metadata(dir.join(file)).is_ok_and(|m| m.is_file()),
            self.manifest,
            &self.agent,
            target,
        )
    }
}

fn render_with(
    env: &Environment<'static>,
    is_file: &dyn Fn(&str) -> bool,
    manifest: &Manifest,
    agent: &Value,
    target: &RenderEnv,
) -> Result<Vec<Rendered>, RenderError> {
    let ctx = minijinja::context! {
        agent => agent.clone(),
        env => minijinja::context! { name => target.name.clone() },
        vars => Value::from(minijinja::value::Serde(&target.vars)),
    };
    let mut out = Vec::new();
    for p in &manifest.prompts {
        if !readiness::is_contained(&p.file) || !is_file(&p.file) {
            // Reported by the readiness checks (file-missing / file-outside-bundle).
            continue;
        }
        let tmpl = env
            .get_template(&p.file)
            .map_err(|e| convert(&e, &p.file))?;
        let mut buf = Capped(String::new());
        let result = tmpl.render_captured_to(ctx.clone(), FmtToIo(&mut buf));
        match result {
            Ok(_) => {}
            Err(e)
                if buf.0.len() + 1 >= MAX_OUTPUT_BYTES || e.kind() == ErrorKind::WriteFailure =>
            {
                return Err(RenderError {
                    rule: "prompt-limit",
                    file: p.file.clone(),
                    line: None,
                    column: None,
                    message: format!("rendered prompt is over {} bytes", MAX_OUTPUT_BYTES),
                });
            }
            Err(e) => return Err(convert(&e, &p.file)),
        }
        out.push(Rendered {
            name: p.name.clone(),
            file: p.file.clone(),
            text: buf.0,
        });
    }
    Ok(out)
}

/// Renders the prompts of a bundle held in memory (bundle-relative path →
/// bytes, as `diff` reads them from a directory or from git objects), under
/// the same limits, and records which templates the prompts reached.
pub struct FilesRenderer<'m> {
    files: std::sync::Arc<BTreeMap<String, Vec<u8>>>,
    manifest: &'m Manifest,
    env: Environment<'static>,
    agent: Value,
    reached: std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>,
}

impl<'m> FilesRenderer<'m> {
    /// Prepare to render `manifest`'s prompts from `files`.
    pub fn new(files: &BTreeMap<String, Vec<u8>>, manifest: &'m Manifest) -> Self {
        let files = std::sync::Arc::new(files.clone());
        let reached = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
        let (f, r) = (files.clone(), reached.clone());
        let env = bounded(move |name: &str| {
            if !readiness::is_contained(name) {
                return Err(minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    format!(
                        "cannot include `{name}`: templates may only include files inside their own bundle"
                    ),
                ));
            }
            let Some(bytes) = f.get(name) else {
                return Ok(None);
            };
            if let Ok(mut set) = r.lock() {
                set.insert(name.to_string());
            }
            String::from_utf8(bytes.clone()).map(Some).map_err(|_| {
                minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    format!("cannot include `{name}`: it is not UTF-8 text"),
                )
            })
        });
        FilesRenderer {
            files,
            manifest,
            env,
            agent: Value::from(minijinja::value::Serde(manifest)),
            reached,
        }
    }

    /// Render every prompt for one environment.
    pub fn render(&self, target: &RenderEnv) -> Result<Vec<Rendered>, RenderError> {
        let files = &self.files;
        render_with(
            &self.env,
            &|file| files.contains_key(file),
            self.manifest,
            &self.agent,
            target,
        )
    }

    /// Every template a render so far loaded (prompts and what they include or import).
    pub fn reached(&self) -> std::collections::BTreeSet<String> {
        self.reached.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// Adapts the capped String to `io::Write` for minijinja.
struct FmtToIo<'a>(&'a mut Capped);

impl std::io::Write for FmtToIo<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let s = std::str::from_utf8(buf).map_err(std::io::Error::other)?;
        std::fmt::Write::write_str(self.0, s).map_err(|_| std::io::Error::other("output limit"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn convert(outer: &minijinja::Error, entry: &str) -> RenderError {
    // An error inside an included template arrives wrapped ("error in
    // \"prompts/rules.md.j2\""): report the innermost one, where it happened.
    let mut e = outer;
    while let Some(inner) =
        std::error::Error::source(e).and_then(|s| s.downcast_ref::<minijinja::Error>())
    {
        e = inner;
    }
    let rule = match e.kind() {
        ErrorKind::UndefinedError => "prompt-undefined",
        ErrorKind::SyntaxError => "prompt-syntax",
        ErrorKind::OutOfFuel => "prompt-limit",
        ErrorKind::TemplateNotFound => "prompt-include",
        ErrorKind::InvalidOperation if e.to_string().contains("cannot include") => "prompt-include",
        ErrorKind::InvalidOperation if e.to_string().contains("recursion") => "prompt-limit",
        _ => "prompt-render",
    };
    let mut message = e
        .detail()
        .map(str::to_string)
        .unwrap_or_else(|| e.kind().to_string());
    if e.kind() == ErrorKind::OutOfFuel {
        message = format!(
            "template ran over its instruction budget ({FUEL}); an endless loop or recursion?"
        );
    }
    if e.kind() == ErrorKind::UndefinedError {
        let snippet = e
            .template_source()
            .zip(e.range())
            .and_then(|(src, r)| src.get(r))
            .map(str::to_string);
        message = match snippet {
            Some(s) => format!("undefined variable in `{s}`"),
            None => "undefined variable".into(),
        };
    }
    let position = e
        .template_source()
        .zip(e.range())
        .map(|(src, r)| bundle::position_of_offset(src, r.start));
    RenderError {
        rule,
        file: e
            .name()
            .map(str::to_string)
            .unwrap_or_else(|| entry.to_string()),
        line: position
            .map(|p| p.line)
            .or_else(|| e.line().and_then(|l| u32::try_from(l).ok())),
        column: position.map(|p| p.column),
        message,
    }
}

/// Render every prompt for every environment; one finding per distinct
/// failure, naming the environments it happens in.
pub fn check(bundle_dir: &Path, manifest: &Manifest, envs: &[RenderEnv]) -> Vec<Finding> {
    type Place = (String, Option<u32>, Option<u32>, &'static str, String);
    let mut by_place: BTreeMap<Place, Vec<String>> = BTreeMap::new();
    let renderer = Renderer::new(bundle_dir, manifest);
    for env in envs {
        if let Err(e) = renderer.render(env) {
            by_place
                .entry((e.file, e.line, e.column, e.rule, e.message))
                .or_default()
                .push(env.name.clone());
        }
    }
    by_place
        .into_iter()
        .map(|((file, line, column, rule, message), envs)| {
            let hint = match rule {
                "prompt-undefined" => "templates see `agent`, `env.name` and `vars` (set per environment in agentctl.toml under `vars`)",
                "prompt-syntax" => "fix the template syntax (minijinja, Jinja2-compatible)",
                "prompt-limit" => "templates must finish within their budget: no endless loops or recursion",
                "prompt-include" => "include files by their path inside the bundle, e.g. {% include \"prompts/rules.md.j2\" %}",
                _ => "fix the template",
            };
            Finding::error(rule, bundle_dir.join(&file), format!("{message} (environment{} {})", crate::report::plural(envs.len()), envs.join(", ")))
                .at(line.map(|l| Position {
                    line: l,
                    column: column.unwrap_or(1),
                }))
                .hint(hint)
        })
        .collect()
}

/// Render rule ids, for docs and SARIF.
pub const RULES: &[(&str, &str)] = &[
    (
        "prompt-undefined",
        "a prompt uses a variable the environment does not define",
    ),
    ("prompt-syntax", "a prompt is not a valid template"),
    (
        "prompt-limit",
        "a prompt loops, recurses or outputs too much",
    ),
    (
        "prompt-include",
        "a prompt includes a file outside its bundle, or one that does not exist",
    ),
    ("prompt-render", "a prompt fails to render"),
];
