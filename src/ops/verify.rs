//! `agentctl verify [ENV | NAME@VERSION]`: digests, pins and signatures.
//!
//! What a deploy job runs before it loads an environment. The trust root
//! (allowed_signers and signer roles) can come from outside the repository,
//! so a pull request cannot approve itself by adding its own key.

use crate::repo::evidence::{MAX_STATEMENT_BYTES, Statement};
use crate::repo::release::ReleaseRef;
use crate::repo::{Layout, Repo, RepoError};
use crate::signing::{self, AllowedSigners, Verdict};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Who is trusted, and with which roles.
#[derive(Debug, Clone)]
pub struct Trust {
    /// The allowed_signers file.
    pub allowed: AllowedSigners,
    /// Role → principals.
    pub roles: BTreeMap<String, Vec<String>>,
    /// Where each came from, for reports.
    pub source: String,
}

/// Roles file given with `--signer-roles`: the `[roles]` table of agentctl.toml.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RolesFile {
    #[serde(default)]
    roles: BTreeMap<String, Vec<String>>,
}

impl Trust {
    /// The in-repository trust root, or files given from outside.
    pub fn load(
        repo: &Repo,
        allowed_signers: Option<&Path>,
        roles: Option<&Path>,
    ) -> Result<Trust, RepoError> {
        let in_repo = repo.path(".agentctl/allowed_signers");
        if allowed_signers.is_none()
            && let Some(link) =
                crate::files::first_link(&repo.root, Path::new(".agentctl/allowed_signers"))
        {
            return Err(crate::files::FileError::Link { path: link }.into());
        }
        let allowed_path = allowed_signers.map(Path::to_path_buf).unwrap_or(in_repo);
        let allowed = if allowed_path.exists() || allowed_signers.is_some() {
            AllowedSigners::load(&allowed_path).map_err(|e| RepoError::Corrupt {
                message: e.to_string(),
                hint: "each line: `<email> [namespaces=\"agentctl\"] ssh-ed25519 AAAA…`".into(),
            })?
        } else {
            AllowedSigners {
                path: allowed_path.clone(),
                entries: Vec::new(),
            }
        };
        let role_map = match roles {
            Some(p) => {
                let bytes = crate::files::read_input(p, 1 << 20)?;
                let text = String::from_utf8(bytes).map_err(|_| RepoError::Corrupt {
                    message: format!("{}: not valid UTF-8", p.display()),
                    hint: "the roles file is TOML text".into(),
                })?;
                let f: RolesFile = toml::from_str(&text).map_err(|e| RepoError::Corrupt {
                    message: format!("{}: {}", p.display(), e.message()),
                    hint: "the file holds a `[roles]` table: `security = [\"priya@example.com\"]`"
                        .into(),
                })?;
                f.roles
            }
            None => repo.config.roles.clone(),
        };
        let source = match (allowed_signers, roles) {
            (None, None) => "repository (.agentctl/allowed_signers, agentctl.toml)".to_string(),
            _ => format!(
                "{}{}",
                allowed_path.display(),
                roles
                    .map(|r| format!(" + {}", r.display()))
                    .unwrap_or_default()
            ),
        };
        Ok(Trust {
            allowed,
            roles: role_map,
            source,
        })
    }

    /// Config roles of a principal.
    pub fn roles_of(&self, principal: &str) -> Vec<String> {
        self.roles
            .iter()
            .filter(|(_, ps)| ps.iter().any(|p| p == principal))
            .map(|(r, _)| r.clone())
            .collect()
    }
}

/// One signature's verdict and the roles it carries.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureResult {
    /// The principal (from the file name).
    pub principal: String,
    /// The signature file.
    pub file: PathBuf,
    /// Good, bad or unknown signer.
    pub verdict: Verdict,
    /// Roles it satisfies (empty unless good).
    pub roles: Vec<String>,
    /// Fingerprint of the signing key (`SHA256:…`), when readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// What the signature vouches for (its statement), when good.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<Statement>,
}

impl SignatureResult {
    /// Whether this good signature vouches for an eval record with this hash.
    pub fn vouches_for_record(&self, suite: &str, hash: &str) -> bool {
        self.verdict == Verdict::Good
            && self
                .statement
                .as_ref()
                .is_some_and(|st| st.evals.get(suite).is_some_and(|h| h == hash))
    }

    /// Whether this good signature approved the environment's vars as they
    /// are now. A signature made before vars were covered (v1) approved
    /// only empty vars.
    pub fn covers_vars(&self, env: &str, hash: &str, empty_hash: &str) -> bool {
        self.verdict == Verdict::Good
            && match &self.statement {
                Some(st) if !st.legacy => st.vars.get(env).is_some_and(|h| h == hash),
                _ => hash == empty_hash,
            }
    }
}

/// Check every signature of a release against the trust root.
pub fn check_signatures(
    repo: &Layout,
    trust: &Trust,
    name: &str,
    version: &str,
    digest: &str,
) -> Result<Vec<SignatureResult>, RepoError> {
    let dir = repo.release_path(name, version).join("signatures");
    let rel_dir = format!(
        "{}/signatures",
        crate::repo::release::release_dir(name, version)
    );
    if let Some(link) = crate::files::first_link(&repo.root, Path::new(&rel_dir)) {
        return Err(crate::files::FileError::Link { path: link }.into());
    }
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "sig"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(crate::repo::io_error(&dir, e)),
    };
    files.sort();
    // Parsing the manifest is only needed to name owners; skip it when
    // there is nothing to attribute.
    let owners = if files.is_empty() {
        Vec::new()
    } else {
        owner_emails(repo, name, version)
    };
    let now = crate::repo::now();
    let mut out = Vec::new();
    for file in files {
        let principal = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut key = None;
        let mut statement = None;
        let verdict = match (
            crate::files::read_no_follow(&file, 64 * 1024),
            read_statement(repo, &rel_dir, &principal, name, version, digest),
        ) {
            (_, Err(reason)) => Verdict::Bad { reason },
            (Ok(bytes), Ok(stored)) => {
                key = signing::signer_fingerprint(&bytes);
                // Without a stored statement (a signature made with
                // `agentctl statement | ssh-keygen -Y sign`, or by agentctl
                // 0.1), try the statement as it would be now, then v1.
                let candidates = match stored {
                    Some(st) => vec![st],
                    None => {
                        let mut c = Vec::new();
                        if let Ok(now_st) = crate::repo::evidence::current(repo, name, version) {
                            c.push(now_st);
                        }
                        c.push(Statement {
                            name: name.into(),
                            version: version.into(),
                            digest: digest.into(),
                            legacy: true,
                            ..Statement::default()
                        });
                        c
                    }
                };
                let mut verdict = Verdict::Bad {
                    reason: "no statement".into(),
                };
                for st in candidates {
                    verdict = signing::verify(
                        &trust.allowed,
                        &principal,
                        &bytes,
                        st.render().as_bytes(),
                        now,
                    );
                    if verdict == Verdict::Good {
                        statement = Some(st);
                        break;
                    }
                }
                verdict
            }
            (Err(crate::files::FileError::TooLarge { .. }), _) => Verdict::Bad {
                reason: "signature file is over 64 KiB".into(),
            },
            (Err(e), _) => Verdict::Bad {
                reason: format!("cannot read: {e}"),
            },
        };
        let roles = if verdict == Verdict::Good {
            let mut r = Vec::new();
            if owners.iter().any(|o| o == &principal) {
                r.push("owner".to_string());
            }
            r.extend(trust.roles_of(&principal));
            r
        } else {
            Vec::new()
        };
        if verdict != Verdict::Good {
            statement = None;
        }
        out.push(SignatureResult {
            principal,
            file,
            verdict,
            roles,
            key,
            statement,
        });
    }
    Ok(out)
}

/// The statement a signature covers: `P.statement` beside it, which must be
/// about this very release, or (an agentctl 0.1 signature) the v1 statement.
fn read_statement(
    repo: &Layout,
    rel_dir: &str,
    principal: &str,
    name: &str,
    version: &str,
    digest: &str,
) -> Result<Option<Statement>, String> {
    let rel = format!("{rel_dir}/{principal}.statement");
    let text = match crate::files::read_text(&repo.root, Path::new(&rel), MAX_STATEMENT_BYTES) {
        Ok(Some(t)) => t,
        Ok(None) => return Ok(None),
        Err(e) => return Err(format!("cannot read its statement: {e}")),
    };
    let st = Statement::parse(&text).map_err(|e| format!("{rel}: {e}"))?;
    if st.name != name || st.version != version || st.digest != digest {
        return Err(format!(
            "{rel} is about {}@{} ({}), not this release",
            st.name, st.version, st.digest
        ));
    }
    Ok(Some(st))
}

/// Owner emails of a release's bundle: the `owner` role holders. Owners
/// with role `production` or `backup` approve as owner; a `reviewer` does not.
pub fn owner_emails(repo: &Layout, name: &str, version: &str) -> Vec<String> {
    repo.release_manifest(name, version)
        .map(|m| {
            m.owners
                .into_iter()
                .filter(|o| o.role != crate::bundle::manifest::OwnerRole::Reviewer)
                .filter_map(|o| o.email)
                .collect()
        })
        .unwrap_or_default()
}

/// The gates one environment applies to a release it pins.
#[derive(Debug, Clone, Serialize)]
pub struct EnvGates {
    /// Environment.
    pub environment: String,
    /// Every gate's verdict (the same `promote` gives).
    pub gates: Vec<crate::policy::GateResult>,
}

/// One release's verification.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseCheck {
    /// Agent.
    pub name: String,
    /// Version.
    pub version: String,
    /// Digest recorded in release.yaml (empty if unreadable).
    pub digest: String,
    /// Problems with the files, release.yaml or pins (empty: digest ok).
    pub digest_problems: Vec<String>,
    /// Environments that pin it.
    pub pinned_in: Vec<String>,
    /// Signatures.
    pub signatures: Vec<SignatureResult>,
    /// Each pinning environment's gates.
    pub gates: Vec<EnvGates>,
}

impl ReleaseCheck {
    /// Whether everything about this release checks out.
    pub fn ok(&self) -> bool {
        self.digest_problems.is_empty()
            && self.signatures.iter().all(|s| s.verdict == Verdict::Good)
            && self.gates.iter().all(|e| e.gates.iter().all(|g| g.passed))
    }
}

/// The result of `verify`.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// Where trust came from.
    pub trust: String,
    /// What was proved, in words.
    pub proved: Vec<String>,
    /// Problems with an environment itself: pins the log does not explain,
    /// log lines that do not parse, a policy weaker than the trust root's.
    pub environment_problems: Vec<String>,
    /// Each release checked.
    pub releases: Vec<ReleaseCheck>,
    /// Whether all passed.
    pub ok: bool,
}

/// What to verify.
#[derive(Debug, Clone)]
pub enum Target {
    /// Every environment.
    All,
    /// One environment.
    Environment(String),
    /// One release.
    Release(ReleaseRef),
}

/// Verify.
pub fn verify(
    repo: &Repo,
    root: &super::admission::TrustRoot,
    target: &Target,
) -> Result<VerifyReport, RepoError> {
    verify_with_progress(repo, root, target, &|_| {})
}

/// [`verify`], reporting the number of releases to check and then each one done
/// (`progress(Some(total))` once, then `progress(None)` per release).
pub fn verify_with_progress(
    repo: &Repo,
    root: &super::admission::TrustRoot,
    target: &Target,
    progress: &(dyn Fn(Option<u64>) + Sync),
) -> Result<VerifyReport, RepoError> {
    use super::admission::{self, Candidate, Route};
    // (name, version) → environments pinning it with the digest they pin.
    let mut wanted: BTreeMap<(String, String), Vec<(String, String)>> = BTreeMap::new();
    let envs: Vec<String> = match target {
        Target::All => repo
            .config
            .environment_names()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        Target::Environment(e) => {
            repo.environment(e)?;
            vec![e.clone()]
        }
        Target::Release(r) => {
            if repo.release_meta(&r.name, &r.version)?.is_none() {
                return Err(RepoError::Unsafe {
                    message: format!("release {r} does not exist"),
                    hint: repo.releases_hint(&r.name),
                });
            }
            wanted.insert((r.name.clone(), r.version.clone()), Vec::new());
            Vec::new()
        }
    };
    let mut environment_problems = root.weaknesses(repo);
    let mut effective = BTreeMap::new();
    for env in &envs {
        let state = super::read_state(repo, env)?;
        environment_problems.extend(log_agreement(repo, env, &state));
        effective.insert(env.clone(), root.effective(repo, env)?);
        for (name, pin) in state.agents {
            wanted
                .entry((name, pin.version))
                .or_default()
                .push((env.clone(), pin.digest));
        }
    }
    let now = crate::repo::now();
    // Releases are independent: check them on every core.
    let files = &repo.layout;
    let wanted: Vec<_> = wanted.into_iter().collect();
    progress(Some(wanted.len() as u64));
    let checks: Vec<ReleaseCheck> = wanted
        .par_iter()
        .map(|((name, version), pins)| {
            let mut r = check_release(files, &root.trust, name, version, pins)?;
            if r.digest_problems.is_empty() {
                for (env, digest) in pins {
                    let eval = admission::evaluate(
                        files,
                        root,
                        env,
                        &effective[env],
                        Candidate {
                            name,
                            version,
                            digest,
                        },
                        Route::Verify,
                        now,
                    )?;
                    r.gates.push(EnvGates {
                        environment: env.clone(),
                        gates: eval.gates,
                    });
                }
            }
            progress(None);
            Ok(r)
        })
        .collect::<Result<_, RepoError>>()?;
    let ok = environment_problems.is_empty() && checks.iter().all(ReleaseCheck::ok);
    let mut proved = vec![format!(
        "every release's files digest to what release.yaml records and what the environments pin; every signature verifies against {}",
        root.trust.source
    )];
    if !envs.is_empty() {
        proved.push(format!(
            "for each pin in {}: every gate promote applies (owner, security, readiness, promotion order, signatures by the required roles, vouched evals where required, approved vars), under {}",
            envs.join(", "),
            match &root.dir {
                Some(d) => format!("the stricter of agentctl.toml and the trust root {}", d.display()),
                None => "agentctl.toml's policy (no trust root given: the repository vouches for itself)".into(),
            }
        ));
        proved.push("each pin is what the environment's log says it last set".into());
    }
    Ok(VerifyReport {
        trust: root.trust.source.clone(),
        proved,
        environment_problems,
        releases: checks,
        ok,
    })
}

/// Whether an environment's pins are what its log's last event for each
/// agent set, and every log line parses.
fn log_agreement(
    repo: &Layout,
    env: &str,
    state: &crate::repo::environment::EnvState,
) -> Vec<String> {
    let (events, corrupt) = match crate::repo::environment::read_log_lenient(&repo.root, env) {
        Ok(x) => x,
        Err(e) => return vec![e],
    };
    let mut out: Vec<String> = corrupt
        .iter()
        .map(|e| format!("environments/{env}.log: {e}"))
        .collect();
    let mut last: BTreeMap<&str, &crate::repo::environment::Event> = BTreeMap::new();
    for e in &events {
        last.insert(e.agent.as_str(), e);
    }
    for (agent, pin) in &state.agents {
        match last.get(agent.as_str()) {
            Some(e)
                if e.version.as_deref() == Some(pin.version.as_str())
                    && e.digest.as_deref() == Some(pin.digest.as_str())
                    && e.mode.is_none_or(|m| m == pin.mode) => {}
            Some(e) => out.push(format!(
                "{env} pins {agent} {} ({}), but its log last set {} ({})",
                pin.version,
                pin.mode,
                e.version.as_deref().unwrap_or("nothing"),
                e.mode.map(|m| m.to_string()).unwrap_or_else(|| "?".into())
            )),
            None => out.push(format!(
                "{env} pins {agent} {}, but its log never mentions {agent}: a hand edit",
                pin.version
            )),
        }
    }
    for (agent, e) in &last {
        if e.version.is_some() && !state.agents.contains_key(*agent) {
            out.push(format!(
                "{env}'s log last set {agent} {}, but {env} does not pin it",
                e.version.as_deref().unwrap_or_default()
            ));
        }
    }
    out
}

fn check_release(
    repo: &Layout,
    trust: &Trust,
    name: &str,
    version: &str,
    pins: &[(String, String)],
) -> Result<ReleaseCheck, RepoError> {
    let mut problems = Vec::new();
    let meta = match repo.release_meta(name, version) {
        Ok(Some(m)) => Some(m),
        Ok(None) => {
            problems.push(format!("release {name}@{version} does not exist"));
            None
        }
        Err(e) => {
            problems.push(e.to_string());
            None
        }
    };
    let digest = meta.as_ref().map(|m| m.digest.clone()).unwrap_or_default();
    if meta.is_some() {
        match repo.release_digest(name, version) {
            Ok(actual) if actual.digest == digest => {}
            Ok(actual) => problems.push(format!(
                "files digest to {} but release.yaml records {digest}",
                actual.digest
            )),
            Err(e) => problems.push(e.to_string()),
        }
    }
    for (env, pinned) in pins {
        if meta.is_some() && pinned != &digest {
            problems.push(format!("{env} pins {pinned}, but the release is {digest}"));
        }
    }
    let signatures = if meta.is_some() {
        check_signatures(repo, trust, name, version, &digest)?
    } else {
        Vec::new()
    };
    Ok(ReleaseCheck {
        name: name.to_string(),
        version: version.to_string(),
        digest,
        digest_problems: problems,
        pinned_in: pins.iter().map(|(e, _)| e.clone()).collect(),
        signatures,
        gates: Vec::new(),
    })
}
