//! `agentctl sign NAME@VERSION --key K`: approve a release with an SSH key.
//!
//! Signing makes only what `verify` accepts: a key the repository's
//! allowed_signers does not admit for the principal now (not listed for it,
//! namespaces without `agentctl`, outside its validity window) is refused
//! before anything is signed, and the new signature is verified before it is
//! written, so a good `.sig` is never replaced by a bad one.

use super::{Recorded, WriteOptions, actor};
use crate::repo::release::ReleaseRef;
use crate::repo::transaction::{self, Change, Message};
use crate::repo::{Repo, RepoError};
use crate::signing::{self, AllowedSigners, KeyRefusal, KeySource, SignError, Verdict};
use serde::Serialize;
use ssh_key::HashAlg;

/// Why signing failed.
#[derive(Debug, thiserror::Error)]
pub enum SignReleaseError {
    /// The repository refused.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// The key or agent failed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// allowed_signers does not let this key sign as the principal now:
    /// the signature would not verify, so it is not made.
    #[error(transparent)]
    NotAuthorized(#[from] KeyRefusal),
    /// The signature just made does not verify (an ssh-agent that signed
    /// with another key or algorithm); nothing was written.
    #[error("the new signature by {principal} does not verify ({reason}); nothing was written")]
    SelfCheck {
        /// The principal.
        principal: String,
        /// What verification said.
        reason: String,
    },
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
    let allowed = allowed_signers(repo)?;
    let public = signing::public_key(key);
    let now = crate::repo::now();
    let principal = match principal {
        Some(p) => p.to_string(),
        // The key's principal: the first whose line admits the key now,
        // else the first listed (whose refusal then explains why).
        None => {
            let listed = allowed.principals_for(&public);
            listed
                .iter()
                .find(|p| allowed.authorize(p, public.key_data(), now).is_ok())
                .or(listed.first())
                .map(|p| p.to_string())
                .ok_or_else(|| KeyRefusal::NotListed {
                    principal: None,
                    fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
                    listed_for: allowed.listed_for(public.key_data()),
                    principal_listed: false,
                    path: allowed.path.clone(),
                })?
        }
    };
    if principal.is_empty()
        || principal.contains(['/', '\\', '\n', '*', '?', '!', ','])
        || principal.starts_with('.')
    {
        return Err(RepoError::Unsafe {
            message: format!("`{principal}` cannot name a signature file"),
            hint: "a principal is one email such as priya.shah@example.com, not a pattern".into(),
        }
        .into());
    }
    // Refused before signing (no passphrase asked, nothing written) for
    // exactly what `verify` would refuse the signature for.
    allowed.authorize(&principal, public.key_data(), now)?;
    // The approval covers the bundle, the eval records present now and
    // every environment's vars (see `repo::evidence`); the statement is
    // kept beside the signature.
    let statement = crate::repo::evidence::current(repo, &meta.name, &meta.version)?.render();
    let armored = signing::sign(key, statement.as_bytes(), passphrase)?;
    // Whatever replaces an existing signature file verifies.
    if let Verdict::Bad { reason } | Verdict::UnknownSigner { reason } = signing::verify(
        &allowed,
        &principal,
        armored.as_bytes(),
        statement.as_bytes(),
        now,
    ) {
        return Err(SignReleaseError::SelfCheck { principal, reason });
    }
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
    let statement_file = format!(
        "{}/signatures/{principal}.statement",
        crate::repo::release::release_dir(&meta.name, &meta.version)
    );
    let outcome = transaction::apply(
        repo,
        &lock,
        start.as_ref(),
        &[
            Change::write(statement_file, statement),
            Change::write(file.clone(), armored),
        ],
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

/// The repository's allowed_signers; a missing file lists no one.
fn allowed_signers(repo: &Repo) -> Result<AllowedSigners, SignError> {
    let path = repo.path(".agentctl/allowed_signers");
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(AllowedSigners {
            path,
            entries: Vec::new(),
        }),
        _ => AllowedSigners::load(&path),
    }
}
