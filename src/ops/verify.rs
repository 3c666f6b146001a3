//! `agentctl verify [ENV | NAME@VERSION]`: digests, pins and signatures.
//!
//! What a deploy job runs before it loads an environment. The trust root
//! (allowed_signers and signer roles) can come from outside the repository,
//! so a pull request cannot approve itself by adding its own key.

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
    let statement = signing::statement(name, version, digest);
    let now = crate::repo::now();
    let mut out = Vec::new();
    for file in files {
        let principal = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut key = None;
        let verdict = match crate::files::read_no_follow(&file, 64 * 1024) {
            Ok(bytes) => {
                key = signing::signer_fingerprint(&bytes);
                signing::verify(
                    &trust.allowed,
                    &principal,
                    &bytes,
                    statement.as_bytes(),
                    now,
                )
            }
            Err(crate::files::FileError::TooLarge { .. }) => Verdict::Bad {
                reason: "signature file is over 64 KiB".into(),
            },
            Err(e) => Verdict::Bad {
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
        out.push(SignatureResult {
            principal,
            file,
            verdict,
            roles,
            key,
        });
    }
    Ok(out)
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

/// Whether an environment's signature policy is met; `None` when it requires no roles.
#[derive(Debug, Clone, Serialize)]
pub struct Approval {
    /// Environment.
    pub environment: String,
    /// Roles required.
    pub required: Vec<String>,
    /// Roles no valid signature fills.
    pub missing: Vec<String>,
    /// Who could sign each missing role.
    pub could_sign: BTreeMap<String, Vec<String>>,
}

/// Evaluate an environment's required roles against signature results.
pub fn approval(
    repo: &Layout,
    trust: &Trust,
    env: &str,
    name: &str,
    version: &str,
    sigs: &[SignatureResult],
) -> Option<Approval> {
    let (_, cfg) = repo.config.environment(env)?;
    if cfg.required_roles.is_empty() {
        return None;
    }
    // One key is one person, whatever principals it is listed under: group
    // good signatures by key so one key cannot fill two distinct roles.
    let mut holders: Vec<(String, Vec<String>)> = Vec::new();
    for s in sigs.iter().filter(|s| s.verdict == Verdict::Good) {
        let id = s.key.clone().unwrap_or_else(|| s.principal.clone());
        match holders.iter_mut().find(|(k, _)| *k == id) {
            Some((_, roles)) => {
                for r in &s.roles {
                    if !roles.contains(r) {
                        roles.push(r.clone());
                    }
                }
            }
            None => holders.push((id, s.roles.clone())),
        }
    }
    let missing = signing::missing_roles(&cfg.required_roles, &holders, cfg.distinct_signers);
    let mut could_sign = BTreeMap::new();
    for role in &missing {
        let who = if role == "owner" {
            owner_emails(repo, name, version)
        } else {
            trust.roles.get(role).cloned().unwrap_or_default()
        };
        could_sign.insert(role.clone(), who);
    }
    Some(Approval {
        environment: env.to_string(),
        required: cfg.required_roles.clone(),
        missing,
        could_sign,
    })
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
    /// Policy per pinning environment that requires roles.
    pub approvals: Vec<Approval>,
}

impl ReleaseCheck {
    /// Whether everything about this release checks out.
    pub fn ok(&self) -> bool {
        self.digest_problems.is_empty()
            && self.signatures.iter().all(|s| s.verdict == Verdict::Good)
            && self.approvals.iter().all(|a| a.missing.is_empty())
    }
}

/// The result of `verify`.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// Where trust came from.
    pub trust: String,
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
pub fn verify(repo: &Repo, trust: &Trust, target: &Target) -> Result<VerifyReport, RepoError> {
    verify_with_progress(repo, trust, target, &|_| {})
}

/// [`verify`], reporting the number of releases to check and then each one done
/// (`progress(Some(total))` once, then `progress(None)` per release).
pub fn verify_with_progress(
    repo: &Repo,
    trust: &Trust,
    target: &Target,
    progress: &(dyn Fn(Option<u64>) + Sync),
) -> Result<VerifyReport, RepoError> {
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
            wanted.insert((r.name.clone(), r.version.clone()), Vec::new());
            Vec::new()
        }
    };
    for env in &envs {
        let state = super::read_state(repo, env)?;
        for (name, pin) in state.agents {
            wanted
                .entry((name, pin.version))
                .or_default()
                .push((env.clone(), pin.digest));
        }
    }
    // Releases are independent: check them on every core.
    let files = &repo.layout;
    let wanted: Vec<_> = wanted.into_iter().collect();
    progress(Some(wanted.len() as u64));
    let checks: Vec<ReleaseCheck> = wanted
        .par_iter()
        .map(|((name, version), pins)| {
            let r = check_release(files, trust, name, version, pins);
            progress(None);
            r
        })
        .collect::<Result<_, _>>()?;
    let ok = checks.iter().all(ReleaseCheck::ok);
    Ok(VerifyReport {
        trust: trust.source.clone(),
        releases: checks,
        ok,
    })
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
    let approvals = pins
        .iter()
        .filter_map(|(env, _)| approval(repo, trust, env, name, version, &signatures))
        .collect();
    Ok(ReleaseCheck {
        name: name.to_string(),
        version: version.to_string(),
        digest,
        digest_problems: problems,
        pinned_in: pins.iter().map(|(e, _)| e.clone()).collect(),
        signatures,
        approvals,
    })
}
