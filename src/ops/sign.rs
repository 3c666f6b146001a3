//! `agentctl sign NAME@VERSION --key K`: approve a release with an SSH key.

use super::{Recorded, WriteOptions, actor};
use crate::repo::release::ReleaseRef;
use crate::repo::transaction::{self, Change, Message};
use crate::repo::{Repo, RepoError};
use crate::signing::{self, KeySource, SignError};
use serde::Serialize;

/// Why signing failed.
#[derive(Debug, thiserror::Error)]
pub enum SignReleaseError {
    /// The repository refused.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// The key or agent failed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// No principal could be determined.
    #[error("the key is not in {0}; cannot tell whose signature this is")]
    UnknownPrincipal(String),
}

/// What `sign` did.
#[derive(Debug, Clone, Serialize)]
pub struct SignReport {
    /// Release.
    pub name: String,
    /// Version.
    pub version: String,
    /// Digest signed.
    pub digest: String,
    /// Principal.
    pub principal: String,
    /// Signature file.
    pub file: String,
    /// The commit.
    pub recorded: Recorded,
}

/// Sign a release.
pub fn sign(
    repo: &Repo,
    release: &ReleaseRef,
    key: &KeySource,
    principal: Option<&str>,
    passphrase: &dyn Fn() -> Option<String>,
    opts: &WriteOptions,
) -> Result<SignReport, SignReleaseError> {
    let actor = actor(repo, opts.actor.as_deref())?;
    let (lock, start) = transaction::begin(repo, opts.record)?;
    let meta = repo.verify_release(&release.name, &release.version, None)?;
    let principal = match principal {
        Some(p) => p.to_string(),
        None => {
            let public = signing::public_key(key);
            let allowed_path = repo.path(".agentctl/allowed_signers");
            let allowed = signing::AllowedSigners::load(&allowed_path)?;
            allowed
                .principals_for(&public)
                .first()
                .map(|p| p.to_string())
                .ok_or_else(|| {
                    SignReleaseError::UnknownPrincipal(allowed_path.display().to_string())
                })?
        }
    };
    if principal.is_empty() || principal.contains(['/', '\\', '\n']) || principal.starts_with('.') {
        return Err(RepoError::Unsafe {
            message: format!("`{principal}` cannot name a signature file"),
            hint: "principals are emails such as priya.shah@example.com".into(),
        }
        .into());
    }
    let statement = signing::statement(&meta.name, &meta.version, &meta.digest);
    let armored = signing::sign(key, statement.as_bytes(), passphrase)?;
    let file = format!(
        "{}/signatures/{principal}.sig",
        crate::repo::release::release_dir(&meta.name, &meta.version)
    );
    let mut message = Message {
        subject: format!("sign {} {} as {principal}", meta.name, meta.version),
        body: format!("Approves {} ({}).", release, meta.digest),
        ..Message::default()
    };
    message.trailer("Action", "sign");
    message.trailer("Agent", &meta.name);
    message.trailer("Version", &meta.version);
    message.trailer("Digest", &meta.digest);
    message.trailer("Principal", &principal);
    message.trailer("Actor", &actor);
    if let Some(r) = &opts.reason {
        message.trailer("Reason", r);
    }
    let outcome = transaction::apply(
        repo,
        &lock,
        start.as_ref(),
        &[Change::write(file.clone(), armored)],
        &message,
    )?;
    Ok(SignReport {
        name: meta.name,
        version: meta.version,
        digest: meta.digest,
        principal,
        file,
        recorded: outcome.into(),
    })
}
