//! What a signature vouches for: the release statement.
//!
//! A signer approves more than the bundle's bytes: the eval records present
//! when they signed (so a record edited afterwards stops counting) and each
//! environment's `vars` (so a vars change, which alters what prompts say
//! without a new release, needs a new approval). The statement is a small
//! text, signed as it is with `ssh-keygen -Y sign -n agentctl`:
//!
//! ```text
//! agentctl release v2
//! name: support-triage
//! version: 1.4.0
//! digest: sha256:…
//! eval guardrails: sha256:…        (sha256 of releases/…/evals/guardrails.json)
//! vars prod: sha256:…              (sha256 of prod's vars as canonical JSON)
//! ```
//!
//! It is stored beside the signature (`signatures/P.statement`), since the
//! records and vars may change after signing. A signature without one
//! (made by agentctl 0.1) signed the v1 statement (the first four lines,
//! `v1`): it approves the content and vouches for nothing else.

use super::config::Config;
use super::release::release_dir;
use super::{Layout, RepoError};
use std::collections::BTreeMap;
use std::path::Path;

/// The most bytes a statement file may hold.
pub const MAX_STATEMENT_BYTES: u64 = 64 * 1024;

/// A parsed release statement.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Statement {
    /// Agent.
    pub name: String,
    /// Version.
    pub version: String,
    /// Bundle digest.
    pub digest: String,
    /// Suite → sha256 of its eval record file, as present when signed.
    pub evals: BTreeMap<String, String>,
    /// Environment → sha256 of its vars.
    pub vars: BTreeMap<String, String>,
    /// A v1 statement (content only).
    pub legacy: bool,
}

impl Statement {
    /// The exact text that is signed.
    pub fn render(&self) -> String {
        if self.legacy {
            return crate::signing::statement(&self.name, &self.version, &self.digest);
        }
        let mut s = format!(
            "agentctl release v2\nname: {}\nversion: {}\ndigest: {}\n",
            self.name, self.version, self.digest
        );
        for (suite, hash) in &self.evals {
            s.push_str(&format!("eval {suite}: {hash}\n"));
        }
        for (env, hash) in &self.vars {
            s.push_str(&format!("vars {env}: {hash}\n"));
        }
        s
    }

    /// Parse a statement's text (v1 or v2); it must round-trip exactly.
    pub fn parse(text: &str) -> Result<Statement, String> {
        let mut lines = text.lines();
        let legacy = match lines.next() {
            Some("agentctl release v1") => true,
            Some("agentctl release v2") => false,
            _ => return Err("not an agentctl release statement".into()),
        };
        let mut field = |key: &str| -> Result<String, String> {
            lines
                .next()
                .and_then(|l| l.strip_prefix(key))
                .and_then(|l| l.strip_prefix(": "))
                .map(str::to_string)
                .ok_or_else(|| format!("expected `{key}:`"))
        };
        let mut st = Statement {
            name: field("name")?,
            version: field("version")?,
            digest: field("digest")?,
            legacy,
            ..Statement::default()
        };
        for line in lines {
            let (key, hash) = line
                .split_once(": ")
                .ok_or_else(|| format!("unexpected line `{line}`"))?;
            if legacy {
                return Err("a v1 statement has four lines".into());
            }
            let plain = |n: &str| {
                !n.is_empty()
                    && n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            };
            match key.split_once(' ') {
                Some((_, n)) if !plain(n) => return Err(format!("unexpected line `{line}`")),
                Some(("eval", suite)) => {
                    st.evals.insert(suite.to_string(), hash.to_string());
                }
                Some(("vars", env)) => {
                    st.vars.insert(env.to_string(), hash.to_string());
                }
                _ => return Err(format!("unexpected line `{line}`")),
            }
        }
        if st.render() != text {
            return Err("not in canonical form".into());
        }
        Ok(st)
    }
}

/// `sha256:<hex>` of some bytes.
pub fn hash(bytes: &[u8]) -> String {
    format!("sha256:{}", crate::digest::hash_bytes(bytes))
}

/// The hash of an environment's vars: sha256 of their canonical JSON (keys
/// sorted), so any change to what templates see as `vars.*` changes it.
pub fn vars_hash(config: &Config, env: &str) -> String {
    let vars = config
        .environment(env)
        .map(|(_, e)| e.vars.clone())
        .unwrap_or_default();
    let json = serde_json::to_value(&vars).unwrap_or_default();
    hash(canonical_json(&json).as_bytes())
}

fn canonical_json(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => {
            let sorted: BTreeMap<&String, String> =
                m.iter().map(|(k, v)| (k, canonical_json(v))).collect();
            let inner: Vec<String> = sorted
                .iter()
                .map(|(k, v)| format!("{}:{v}", serde_json::Value::String((*k).clone())))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        serde_json::Value::Array(a) => {
            format!(
                "[{}]",
                a.iter().map(canonical_json).collect::<Vec<_>>().join(",")
            )
        }
        other => other.to_string(),
    }
}

/// The eval records of a release: suite → (file bytes' hash). Records
/// that cannot be read are left out (the eval gate reports them).
pub fn record_hashes(layout: &Layout, name: &str, version: &str) -> BTreeMap<String, String> {
    let rel = format!("{}/evals", release_dir(name, version));
    let mut out = BTreeMap::new();
    if !crate::files::is_dir(&layout.root, Path::new(&rel)) {
        return out;
    }
    let Ok(rd) = std::fs::read_dir(layout.root.join(&rel)) else {
        return out;
    };
    for entry in rd.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(suite) = file.strip_suffix(".json") else {
            continue;
        };
        if let Ok(Some(bytes)) =
            crate::files::read(&layout.root, Path::new(&format!("{rel}/{file}")), 1 << 20)
        {
            out.insert(suite.to_string(), hash(&bytes));
        }
    }
    out
}

/// The statement a signer approves now: the release, its eval records as
/// they are, and every environment's vars.
pub fn current(layout: &Layout, name: &str, version: &str) -> Result<Statement, RepoError> {
    let meta = layout.verify_release(name, version, None)?;
    Ok(Statement {
        name: meta.name,
        version: meta.version,
        digest: meta.digest,
        evals: record_hashes(layout, name, version),
        vars: layout
            .config
            .environments
            .iter()
            .map(|e| (e.name.clone(), vars_hash(&layout.config, &e.name)))
            .collect(),
        legacy: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_round_trip_and_refuse_anything_else() {
        let mut st = Statement {
            name: "a".into(),
            version: "1.0.0".into(),
            digest: "sha256:00".into(),
            ..Statement::default()
        };
        st.evals.insert("accuracy".into(), "sha256:11".into());
        st.vars.insert("prod".into(), "sha256:22".into());
        let text = st.render();
        assert_eq!(Statement::parse(&text).expect("parse"), st);
        let v1 = crate::signing::statement("a", "1.0.0", "sha256:00");
        let legacy = Statement::parse(&v1).expect("v1");
        assert!(legacy.legacy && legacy.evals.is_empty());
        for bad in [
            format!("{v1}eval x: sha256:1\n"),
            text.replace("eval accuracy", "eval  accuracy"),
            text.replace("v2", "v3"),
            format!("{text}extra\n"),
        ] {
            assert!(Statement::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn vars_hash_ignores_key_order_and_sees_every_value() {
        let a = "[[environment]]\nname = \"prod\"\nvars = { a = 1, b = \"x\" }\n";
        let b = "[[environment]]\nname = \"prod\"\nvars = { b = \"x\", a = 1 }\n";
        let c = "[[environment]]\nname = \"prod\"\nvars = { b = \"y\", a = 1 }\n";
        let load = |t: &str| Config::parse(t, Path::new("agentctl.toml")).expect("config");
        assert_eq!(vars_hash(&load(a), "prod"), vars_hash(&load(b), "prod"));
        assert_ne!(vars_hash(&load(a), "prod"), vars_hash(&load(c), "prod"));
    }
}
