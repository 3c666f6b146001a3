//! `agentctl.toml`: environments in order, their policies, signer roles.
//!
//! ```toml
//! [roles]
//! security = ["priya.shah@example.com"]
//!
//! [[environment]]
//! name = "dev"
//!
//! [[environment]]
//! name = "prod"
//! promote_from_previous = true
//! required_roles = ["owner", "security"]
//! distinct_signers = true
//! require_evals = true
//! vars = { support_url = "https://support.example.com" }
//! freeze = [{ from = "2026-12-20T00:00:00Z", until = "2027-01-04T00:00:00Z", reason = "year-end" }]
//! ```

use crate::finding::Position;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The parsed config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Signer roles: role name → principals (emails) holding it. The `owner`
    /// role is implicit: a bundle's owners hold it for that bundle.
    #[serde(default)]
    pub roles: BTreeMap<String, Vec<String>>,
    /// Environments, in promotion order.
    #[serde(default, rename = "environment")]
    pub environments: Vec<EnvironmentConfig>,
}

/// One environment's policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// Name (`dev`, `staging`, `prod`): lowercase letters, digits, dashes.
    pub name: String,
    /// Only releases its predecessor runs may be promoted here. Default true
    /// for every environment but the first.
    #[serde(default = "default_true")]
    pub promote_from_previous: bool,
    /// Signer roles whose valid signatures a release needs here.
    #[serde(default)]
    pub required_roles: Vec<String>,
    /// Whether one principal may not fill two required roles. Default true.
    #[serde(default = "default_true")]
    pub distinct_signers: bool,
    /// Whether recorded evals must meet the bundle's `min_pass_rate`.
    #[serde(default)]
    pub require_evals: bool,
    /// Windows in which promotions are refused (mode changes and rollbacks
    /// are always allowed).
    #[serde(default)]
    pub freeze: Vec<Freeze>,
    /// Variables prompt templates see as `vars.NAME` in this environment.
    #[serde(default)]
    pub vars: BTreeMap<String, toml::Value>,
}

fn default_true() -> bool {
    true
}

/// A freeze window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Freeze {
    /// Start (RFC 3339).
    pub from: String,
    /// End (RFC 3339), exclusive.
    pub until: String,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}

impl Freeze {
    /// Whether `now` falls in the window. Malformed times were refused at load.
    pub fn covers(&self, now: jiff::Timestamp) -> bool {
        match (
            self.from.parse::<jiff::Timestamp>(),
            self.until.parse::<jiff::Timestamp>(),
        ) {
            (Ok(from), Ok(until)) => from <= now && now < until,
            _ => false,
        }
    }
}

/// A config that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}{}: {message}", position.map(|p| format!(":{}:{}", p.line, p.column)).unwrap_or_default())]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// Where, when known.
    pub position: Option<Position>,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: Option<String>,
}

impl Config {
    /// Read and check `agentctl.toml`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let bytes = crate::files::read_no_follow(path, 1 << 20).map_err(|e| ConfigError {
            path: path.into(),
            position: None,
            message: format!("cannot read: {e}"),
            hint: Some(match e {
                crate::files::FileError::Link { .. } => {
                    "agentctl.toml must be a regular file, not a link".into()
                }
                _ => "run `agentctl init` to create one".into(),
            }),
        })?;
        let text = String::from_utf8(bytes).map_err(|_| ConfigError {
            path: path.into(),
            position: None,
            message: "not valid UTF-8".into(),
            hint: None,
        })?;
        Config::parse(&text, path)
    }

    /// Parse and check config text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let position = e
                .span()
                .map(|s| crate::bundle::position_of_offset(text, s.start));
            let message = e.message().trim().to_string();
            let hint = unknown_key_hint(&message)
                .or_else(|| Some("see the agentctl.toml reference in the README".into()));
            ConfigError {
                path: path.into(),
                position,
                message,
                hint,
            }
        })?;
        config.check(text, path)?;
        Ok(config)
    }

    fn check(&self, text: &str, path: &Path) -> Result<(), ConfigError> {
        let err = |message: String, needle: &str, hint: &str| ConfigError {
            path: path.into(),
            position: text
                .find(needle)
                .map(|o| crate::bundle::position_of_offset(text, o)),
            message,
            hint: Some(hint.into()),
        };
        if self.environments.is_empty() {
            return Err(err(
                "no environments defined".into(),
                "",
                "add at least one `[[environment]]` table with a `name`",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for env in &self.environments {
            if !crate::bundle::readiness::is_valid_name(&env.name) {
                return Err(err(
                    format!("environment name `{}` is not valid", env.name),
                    &format!("\"{}\"", env.name),
                    "use lowercase letters, digits and dashes, e.g. `prod`",
                ));
            }
            if !seen.insert(env.name.as_str()) {
                return Err(err(
                    format!("environment `{}` is defined twice", env.name),
                    &format!("\"{}\"", env.name),
                    "each environment appears once, in promotion order",
                ));
            }
            for f in &env.freeze {
                for t in [&f.from, &f.until] {
                    if t.parse::<jiff::Timestamp>().is_err() {
                        return Err(err(
                            format!(
                                "freeze time `{t}` in environment `{}` is not an RFC 3339 timestamp",
                                env.name
                            ),
                            t,
                            "write times like 2026-12-20T00:00:00Z",
                        ));
                    }
                }
            }
            for role in &env.required_roles {
                if role != "owner" && !self.roles.contains_key(role) {
                    return Err(err(
                        format!(
                            "environment `{}` requires role `{role}`, which no principal holds",
                            env.name
                        ),
                        role,
                        &format!("add `{role} = [\"someone@example.com\"]` under [roles]"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The environment named `name`, with its index in the order.
    pub fn environment(&self, name: &str) -> Option<(usize, &EnvironmentConfig)> {
        self.environments
            .iter()
            .enumerate()
            .find(|(_, e)| e.name == name)
    }

    /// Names of all environments, in order.
    pub fn environment_names(&self) -> Vec<&str> {
        self.environments.iter().map(|e| e.name.as_str()).collect()
    }
}

fn unknown_key_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected: Vec<String> = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some(match crate::bundle::suggest(field, &expected) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("valid keys here: {}", expected.join(", ")),
    })
}

/// The config `agentctl init` writes.
pub const DEFAULT_CONFIG: &str = r#"# agentctl.toml: environments in promotion order, their policies, signer roles.
# Reference: https://github.com/agentctl/agentctl#agentctltoml

# Principals (the emails in .agentctl/allowed_signers) holding each signer role.
# The `owner` role is implicit: a bundle's owners hold it for that bundle.
[roles]
security = []

[[environment]]
name = "dev"
promote_from_previous = false

[[environment]]
name = "staging"
require_evals = false

[[environment]]
name = "prod"
# Uncomment once your security reviewers are listed under [roles]:
# required_roles = ["owner", "security"]
distinct_signers = true
require_evals = false
# freeze = [{ from = "2026-12-20T00:00:00Z", until = "2027-01-04T00:00:00Z", reason = "year-end freeze" }]
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_parses() {
        let c = Config::parse(DEFAULT_CONFIG, Path::new("agentctl.toml")).expect("default config");
        assert_eq!(c.environment_names(), ["dev", "staging", "prod"]);
        assert!(!c.environments[0].promote_from_previous);
        assert!(c.environments[1].promote_from_previous);
    }

    #[test]
    fn unknown_key_has_line_and_suggestion() {
        let text = "[[environment]]\nname = \"dev\"\nrequire_eval = true\n";
        let e = Config::parse(text, Path::new("agentctl.toml")).expect_err("unknown key");
        assert_eq!(e.position.map(|p| p.line), Some(3), "{e:?}");
        assert_eq!(e.hint.as_deref(), Some("did you mean `require_evals`?"));
    }

    #[test]
    fn required_role_must_be_defined() {
        let text = "[[environment]]\nname = \"prod\"\nrequired_roles = [\"security\"]\n";
        let e = Config::parse(text, Path::new("agentctl.toml")).expect_err("undefined role");
        assert!(e.message.contains("security"), "{e:?}");
    }
}
