//! SSH signatures over release statements, interoperable with OpenSSH.
//!
//! A signature is an armored SSHSIG (`ssh-keygen -Y sign -n agentctl`) over
//! the release statement, so `agentctl statement NAME@VERSION | ssh-keygen -Y
//! verify -f .agentctl/allowed_signers -I PRINCIPAL -n agentctl -s SIG`
//! succeeds, and signatures made by `ssh-keygen -Y sign` verify here. The
//! wire format is the `ssh-key` crate's; this module adds the statement, the
//! `allowed_signers` file (with `namespaces=`, `valid-after=`,
//! `valid-before=`), keys held in ssh-agent, and roles.

use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};
use std::path::{Path, PathBuf};

/// The SSHSIG namespace agentctl signs and verifies in.
pub const NAMESPACE: &str = "agentctl";

/// The bytes that are signed for a release.
pub fn statement(name: &str, version: &str, digest: &str) -> String {
    format!("agentctl release v1\nname: {name}\nversion: {version}\ndigest: {digest}\n")
}

/// Signing and verification failures.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// A key file could not be read or parsed.
    #[error("{path}: {message}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The key is encrypted and no passphrase was given.
    #[error("{0} is passphrase-protected; no passphrase was given")]
    NeedPassphrase(PathBuf),
    /// The passphrase did not decrypt the key.
    #[error("wrong passphrase for {0}")]
    WrongPassphrase(PathBuf),
    /// ssh-agent could not be reached or refused.
    #[error("ssh-agent: {0}")]
    Agent(String),
    /// A malformed allowed_signers line.
    #[error("{path}:{line}: {message}")]
    AllowedSigners {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The signing operation failed.
    #[error("signing failed: {0}")]
    Sign(String),
}

/// Where the private key is.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// An OpenSSH private key file, read once (still encrypted, if it is).
    File {
        /// The file, for messages.
        path: PathBuf,
        /// The key.
        key: Box<PrivateKey>,
    },
    /// The private key of this public key, held by ssh-agent (`SSH_AUTH_SOCK`).
    Agent(PublicKey),
}

/// Decide how `path` signs: a private key file signs itself; a public key
/// (like git's `user.signingKey` with `gpg.format=ssh`) signs through ssh-agent.
pub fn key_source(path: &Path) -> Result<KeySource, SignError> {
    let text = std::fs::read_to_string(path).map_err(|e| SignError::Key {
        path: path.into(),
        message: format!("cannot read: {e}"),
    })?;
    if text
        .trim_start()
        .starts_with("-----BEGIN OPENSSH PRIVATE KEY-----")
    {
        let key = PrivateKey::from_openssh(text.trim()).map_err(|e| SignError::Key {
            path: path.into(),
            message: format!("not an OpenSSH private key: {e}"),
        })?;
        return Ok(KeySource::File {
            path: path.into(),
            key: Box::new(key),
        });
    }
    let public = PublicKey::from_openssh(text.trim()).map_err(|e| SignError::Key {
        path: path.into(),
        message: format!("neither an OpenSSH private key nor a public key: {e}"),
    })?;
    Ok(KeySource::Agent(public))
}

/// The public key a source signs with (a private key file stores its
/// public half unencrypted).
pub fn public_key(source: &KeySource) -> PublicKey {
    match source {
        KeySource::Agent(p) => p.clone(),
        KeySource::File { key, .. } => key.public_key().clone(),
    }
}

/// Sign `message` in the agentctl namespace; returns the armored signature.
/// `passphrase` is asked only when the key file is encrypted.
pub fn sign(
    source: &KeySource,
    message: &[u8],
    passphrase: &dyn Fn() -> Option<String>,
) -> Result<String, SignError> {
    let sig = match source {
        KeySource::File { path, key } => {
            let decrypted;
            let key = if key.is_encrypted() {
                let pass = passphrase().ok_or_else(|| SignError::NeedPassphrase(path.clone()))?;
                decrypted = key
                    .decrypt(pass.as_bytes())
                    .map_err(|_| SignError::WrongPassphrase(path.clone()))?;
                &decrypted
            } else {
                key.as_ref()
            };
            key.sign(NAMESPACE, HashAlg::Sha512, message)
                .map_err(|e| SignError::Sign(e.to_string()))?
        }
        KeySource::Agent(public) => {
            let sock = std::env::var_os("SSH_AUTH_SOCK").ok_or_else(|| {
                SignError::Agent("SSH_AUTH_SOCK is not set; is ssh-agent running?".into())
            })?;
            let mut client =
                ssh_agent_client_rs::Client::connect(Path::new(&sock)).map_err(|e| {
                    SignError::Agent(format!(
                        "cannot connect to {}: {e}",
                        Path::new(&sock).display()
                    ))
                })?;
            let data = SshSig::signed_data(NAMESPACE, HashAlg::Sha512, message)
                .map_err(|e| SignError::Sign(e.to_string()))?;
            let signature = client.sign(public.clone(), &data).map_err(|e| {
                SignError::Agent(format!(
                    "the agent did not sign (is the key added? `ssh-add -l`): {e}"
                ))
            })?;
            SshSig::new(
                public.key_data().clone(),
                NAMESPACE,
                HashAlg::Sha512,
                signature,
            )
            .map_err(|e| SignError::Sign(e.to_string()))?
        }
    };
    sig.to_pem(LineEnding::LF)
        .map_err(|e| SignError::Sign(e.to_string()))
}

/// One line of an allowed_signers file.
#[derive(Debug, Clone)]
pub struct AllowedSigner {
    /// Principal patterns (`*` and `?` wildcards, `!` negation).
    pub principals: Vec<String>,
    /// `namespaces=` patterns, when given.
    pub namespaces: Option<Vec<String>>,
    /// `valid-after=`.
    pub valid_after: Option<jiff::Timestamp>,
    /// `valid-before=`.
    pub valid_before: Option<jiff::Timestamp>,
    /// `cert-authority`: this key signs certificates, not statements.
    pub cert_authority: bool,
    /// The key.
    pub key: PublicKey,
    /// 1-based line in the file.
    pub line: usize,
}

/// A parsed allowed_signers file.
#[derive(Debug, Clone, Default)]
pub struct AllowedSigners {
    /// The file it came from.
    pub path: PathBuf,
    /// Its entries, in order.
    pub entries: Vec<AllowedSigner>,
}

impl AllowedSigners {
    /// Read and parse a file.
    pub fn load(path: &Path) -> Result<AllowedSigners, SignError> {
        let bytes = crate::files::read_input(path, 4 << 20).map_err(|e| SignError::Key {
            path: path.into(),
            message: format!("cannot read allowed_signers: {e}"),
        })?;
        let text = String::from_utf8(bytes).map_err(|_| SignError::Key {
            path: path.into(),
            message: "allowed_signers is not valid UTF-8".into(),
        })?;
        AllowedSigners::parse(&text, path)
    }

    /// Parse allowed_signers text (the format of ssh-keygen(1), ALLOWED SIGNERS).
    pub fn parse(text: &str, path: &Path) -> Result<AllowedSigners, SignError> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |message: String| SignError::AllowedSigners {
                path: path.into(),
                line: i + 1,
                message,
            };
            let tokens = tokenize(line).map_err(err)?;
            let mut it = tokens.into_iter();
            let principals: Vec<String> = it
                .next()
                .ok_or_else(|| err("empty line".into()))?
                .split(',')
                .map(str::to_string)
                .collect();
            if principals.iter().any(String::is_empty) {
                return Err(err("empty principal".into()));
            }
            let mut next = it.next().ok_or_else(|| err("missing key".into()))?;
            let (mut namespaces, mut valid_after, mut valid_before) = (None, None, None);
            let mut cert_authority = false;
            if !is_key_type(&next) {
                for opt in split_options(&next) {
                    let (k, v) = match opt.split_once('=') {
                        Some((k, v)) => (
                            k.to_ascii_lowercase(),
                            Some(v.trim_matches('"').to_string()),
                        ),
                        None => (opt.to_ascii_lowercase(), None),
                    };
                    match (k.as_str(), v) {
                        ("cert-authority", None) => cert_authority = true,
                        ("namespaces", Some(v)) => {
                            namespaces = Some(v.split(',').map(|s| s.trim().to_string()).collect());
                        }
                        ("valid-after", Some(v)) => {
                            valid_after = Some(
                                parse_ssh_time(&v)
                                    .ok_or_else(|| err(format!("bad valid-after time `{v}`")))?,
                            );
                        }
                        ("valid-before", Some(v)) => {
                            valid_before = Some(
                                parse_ssh_time(&v)
                                    .ok_or_else(|| err(format!("bad valid-before time `{v}`")))?,
                            );
                        }
                        (other, _) => return Err(err(format!("unknown option `{other}`"))),
                    }
                }
                next = it.next().ok_or_else(|| err("missing key type".into()))?;
            }
            let blob = it
                .next()
                .ok_or_else(|| err(format!("missing key data after `{next}`")))?;
            let key = PublicKey::from_openssh(&format!("{next} {blob}"))
                .map_err(|e| err(format!("invalid {next} key: {e}")))?;
            entries.push(AllowedSigner {
                principals,
                namespaces,
                valid_after,
                valid_before,
                cert_authority,
                key,
                line: i + 1,
            });
        }
        Ok(AllowedSigners {
            path: path.into(),
            entries,
        })
    }

    /// The principals listed for `key` (first match wins when signing).
    pub fn principals_for(&self, key: &PublicKey) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| e.key.key_data() == key.key_data() && !e.cert_authority)
            .flat_map(|e| e.principals.iter().map(String::as_str))
            .filter(|p| !p.contains(['*', '?', '!']))
            .collect()
    }
}

/// Why allowed_signers does not let a key sign for a principal now.
///
/// Judged exactly as `ssh-keygen -Y verify` judges it (OpenSSH 9): every
/// line whose principals match and whose key is the key is tried in order;
/// the first that allows the `agentctl` namespace at `now` admits the key,
/// and when none does, the first one's reason is the answer. A validity
/// window is judged at the time of the check (signing or verification),
/// never at a signing time, which SSHSIG does not record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyRefusal {
    /// No line lists this key for the principal.
    #[error("{}", not_listed(.path, .principal.as_deref(), .fingerprint, .listed_for))]
    NotListed {
        /// The principal asked for (`None`: whoever the key belongs to).
        principal: Option<String>,
        /// `SHA256:…` of the key.
        fingerprint: String,
        /// The principals (or patterns) the file does list this key for.
        listed_for: Vec<String>,
        /// Whether any line names the principal at all (with another key).
        principal_listed: bool,
        /// The allowed_signers file.
        path: PathBuf,
    },
    /// The key's line restricts namespaces and `agentctl` is not among them.
    #[error("{}:{line} does not allow namespace `{NAMESPACE}` for {principal}'s key", .path.display())]
    Namespace {
        /// The principal.
        principal: String,
        /// The allowed_signers file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
    },
    /// The key's `valid-after` is later than now.
    #[error("{principal}'s key is not valid until {valid_after} ({}:{line}, valid-after)", .path.display())]
    NotYetValid {
        /// The principal.
        principal: String,
        /// When it becomes valid.
        valid_after: jiff::Timestamp,
        /// The allowed_signers file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
    },
    /// The key's `valid-before` has passed.
    #[error("{principal}'s key expired at {valid_before} ({}:{line}, valid-before)", .path.display())]
    Expired {
        /// The principal.
        principal: String,
        /// When it stopped being valid.
        valid_before: jiff::Timestamp,
        /// The allowed_signers file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
    },
}

fn not_listed(
    path: &Path,
    principal: Option<&str>,
    fingerprint: &str,
    listed_for: &[String],
) -> String {
    let path = path.display();
    match (principal, listed_for) {
        (Some(p), []) => {
            format!("{path} does not list this key for {p} or anyone else (key {fingerprint})")
        }
        (Some(p), others) => format!(
            "{path} does not list this key for {p}; it is listed for {} (key {fingerprint})",
            others.join(", ")
        ),
        (None, []) => format!(
            "{path} does not list this key for anyone (key {fingerprint}); cannot tell whose signature this is"
        ),
        (None, patterns) => format!(
            "{path} lists this key only for {} (key {fingerprint}); cannot tell whose signature this is",
            patterns.join(", ")
        ),
    }
}

impl AllowedSigners {
    /// The principal fields (names and patterns, negations left out) of the
    /// lines that list `key`, for messages.
    pub fn listed_for(&self, key: &ssh_key::public::KeyData) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in self
            .entries
            .iter()
            .filter(|e| !e.cert_authority && e.key.key_data() == key)
        {
            for p in e.principals.iter().filter(|p| !p.starts_with('!')) {
                if !out.contains(p) {
                    out.push(p.clone());
                }
            }
        }
        out
    }

    /// Whether `key` may sign as `principal` in the agentctl namespace at
    /// `now` (see [`KeyRefusal`] for the rule); the admitting line when so.
    pub fn authorize(
        &self,
        principal: &str,
        key: &ssh_key::public::KeyData,
        now: jiff::Timestamp,
    ) -> Result<&AllowedSigner, KeyRefusal> {
        let mut first_refusal = None;
        for e in self.entries.iter().filter(|e| {
            !e.cert_authority && matches_list(&e.principals, principal) && e.key.key_data() == key
        }) {
            let refusal = if e
                .namespaces
                .as_ref()
                .is_some_and(|ns| !matches_list(ns, NAMESPACE))
            {
                KeyRefusal::Namespace {
                    principal: principal.into(),
                    path: self.path.clone(),
                    line: e.line,
                }
            } else if let Some(t) = e.valid_after.filter(|t| now < *t) {
                KeyRefusal::NotYetValid {
                    principal: principal.into(),
                    valid_after: t,
                    path: self.path.clone(),
                    line: e.line,
                }
            // Inclusive, as OpenSSH: the key is valid at valid-before itself.
            } else if let Some(t) = e.valid_before.filter(|t| now > *t) {
                KeyRefusal::Expired {
                    principal: principal.into(),
                    valid_before: t,
                    path: self.path.clone(),
                    line: e.line,
                }
            } else {
                return Ok(e);
            };
            first_refusal.get_or_insert(refusal);
        }
        Err(first_refusal.unwrap_or_else(|| KeyRefusal::NotListed {
            principal: Some(principal.into()),
            fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
            listed_for: self.listed_for(key),
            principal_listed: self
                .entries
                .iter()
                .any(|e| matches_list(&e.principals, principal)),
            path: self.path.clone(),
        }))
    }
}

fn is_key_type(s: &str) -> bool {
    s.starts_with("ssh-") || s.starts_with("ecdsa-sha2-") || s.starts_with("sk-")
}

/// Split on whitespace outside double quotes.
fn tokenize(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

/// Split an options field on commas outside quotes.
fn split_options(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Parse ssh-keygen's `YYYYMMDD[HHMM[SS]][Z]` (taken as UTC).
fn parse_ssh_time(s: &str) -> Option<jiff::Timestamp> {
    let digits = s.strip_suffix(['Z', 'z']).unwrap_or(s);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let padded = match digits.len() {
        8 => format!("{digits}000000"),
        12 => format!("{digits}00"),
        14 => digits.to_string(),
        _ => return None,
    };
    let dt = jiff::civil::DateTime::strptime("%Y%m%d%H%M%S", &padded).ok()?;
    dt.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// Glob match with `*` and `?`.
fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

/// Whether a pattern list (with `!` negations) matches.
fn matches_list(patterns: &[String], text: &str) -> bool {
    let mut matched = false;
    for p in patterns {
        if let Some(neg) = p.strip_prefix('!') {
            if glob(neg, text) {
                return false;
            }
        } else if glob(p, text) {
            matched = true;
        }
    }
    matched
}

/// The verdict on one signature file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Verdict {
    /// Valid, by a trusted key for this principal.
    Good,
    /// The key is not listed for this principal in allowed_signers.
    UnknownSigner {
        /// Why.
        reason: String,
    },
    /// Malformed, wrong namespace, expired, or does not match the statement.
    Bad {
        /// Why.
        reason: String,
    },
}

/// The SHA-256 fingerprint of the key that made an armored signature.
pub fn signer_fingerprint(armored: &[u8]) -> Option<String> {
    let sig = SshSig::from_pem(armored).ok()?;
    Some(sig.public_key().fingerprint(HashAlg::Sha256).to_string())
}

/// Check an armored signature by `principal` over `message`.
pub fn verify(
    allowed: &AllowedSigners,
    principal: &str,
    armored: &[u8],
    message: &[u8],
    now: jiff::Timestamp,
) -> Verdict {
    let sig = match SshSig::from_pem(armored) {
        Ok(s) => s,
        Err(e) => {
            return Verdict::Bad {
                reason: format!("not a valid SSH signature: {e}"),
            };
        }
    };
    if sig.namespace() != NAMESPACE {
        return Verdict::Bad {
            reason: format!(
                "signed for namespace `{}`, not `{NAMESPACE}`",
                sig.namespace()
            ),
        };
    }
    let entry = match allowed.authorize(principal, sig.public_key(), now) {
        Ok(entry) => entry,
        Err(KeyRefusal::NotListed {
            principal_listed, ..
        }) => {
            return Verdict::UnknownSigner {
                reason: if principal_listed {
                    format!(
                        "signed with a key that {} does not list for {principal}",
                        allowed.path.display()
                    )
                } else {
                    format!("{principal} is not in {}", allowed.path.display())
                },
            };
        }
        Err(KeyRefusal::Namespace { line, .. }) => {
            return Verdict::Bad {
                reason: format!(
                    "{}:{line} does not allow namespace `{NAMESPACE}` for this key",
                    allowed.path.display()
                ),
            };
        }
        Err(KeyRefusal::NotYetValid {
            valid_after, line, ..
        }) => {
            return Verdict::Bad {
                reason: format!(
                    "key for {principal} is not valid until {valid_after} (valid-after, line {line})"
                ),
            };
        }
        Err(KeyRefusal::Expired {
            valid_before, line, ..
        }) => {
            return Verdict::Bad {
                reason: format!(
                    "key for {principal} has expired: valid-before {valid_before} (line {line}); signatures count only while their key is valid"
                ),
            };
        }
    };
    match entry.key.verify(NAMESPACE, message, &sig) {
        Ok(()) => Verdict::Good,
        Err(_) => Verdict::Bad {
            reason:
                "the signature does not match this release's statement (signed for other content?)"
                    .into(),
        },
    }
}

/// Assign required roles to distinct principals (when `distinct`), or just
/// check each role has a holder. Returns the roles no one can fill.
pub fn missing_roles(
    required: &[String],
    holders: &[(String, Vec<String>)],
    distinct: bool,
) -> Vec<String> {
    if !distinct {
        return required
            .iter()
            .filter(|r| !holders.iter().any(|(_, roles)| roles.contains(r)))
            .cloned()
            .collect();
    }
    // Small bipartite matching by augmenting paths: roles → principals.
    let mut owner_of: Vec<Option<usize>> = vec![None; holders.len()];
    let mut unfilled = Vec::new();
    for (ri, role) in required.iter().enumerate() {
        let mut seen = vec![false; holders.len()];
        if !augment(ri, required, holders, &mut owner_of, &mut seen) {
            unfilled.push(role.clone());
        }
    }
    unfilled
}

fn augment(
    ri: usize,
    required: &[String],
    holders: &[(String, Vec<String>)],
    owner_of: &mut [Option<usize>],
    seen: &mut [bool],
) -> bool {
    for (pi, (_, roles)) in holders.iter().enumerate() {
        if seen[pi] || !roles.contains(&required[ri]) {
            continue;
        }
        seen[pi] = true;
        if owner_of[pi].is_none_or(|other| augment(other, required, holders, owner_of, seen)) {
            owner_of[pi] = Some(ri);
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_options_comments_and_reports_bad_lines() {
        let text = "# comment\n\nalice@example.com,bob@example.com namespaces=\"agentctl,git\",valid-before=\"20300101Z\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice\n";
        let a = AllowedSigners::parse(text, Path::new("allowed_signers")).expect("parses");
        assert_eq!(a.entries.len(), 1);
        let e = &a.entries[0];
        assert_eq!(e.principals, ["alice@example.com", "bob@example.com"]);
        assert_eq!(
            e.namespaces.as_deref(),
            Some(&["agentctl".to_string(), "git".to_string()][..])
        );
        assert!(e.valid_before.is_some());
        assert_eq!(e.line, 3);
        let bad = AllowedSigners::parse("ok\nx ssh-ed25519 notbase64\n", Path::new("f"))
            .expect_err("bad");
        assert!(
            matches!(bad, SignError::AllowedSigners { line: 1, .. }),
            "{bad}"
        );
    }

    #[test]
    fn distinct_roles_need_distinct_people() {
        let req = vec!["owner".to_string(), "security".to_string()];
        let one = vec![(
            "a".to_string(),
            vec!["owner".to_string(), "security".to_string()],
        )];
        assert_eq!(missing_roles(&req, &one, true), ["security"]);
        assert!(missing_roles(&req, &one, false).is_empty());
        let two = vec![
            (
                "a".to_string(),
                vec!["owner".to_string(), "security".to_string()],
            ),
            ("b".to_string(), vec!["owner".to_string()]),
        ];
        assert!(missing_roles(&req, &two, true).is_empty());
    }

    #[test]
    fn authorize_tries_every_line_and_windows_are_inclusive() {
        let key =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
        let text = format!(
            "a@x namespaces=\"git\" {key}\n\
             a@x valid-after=\"20260101Z\",valid-before=\"20270101Z\" {key}\n"
        );
        let a = AllowedSigners::parse(&text, Path::new("allowed_signers")).expect("parses");
        let data = a.entries[0].key.key_data().clone();
        let at = |t: &str| t.parse::<jiff::Timestamp>().expect("time");
        // The namespace-restricted first line is skipped; the second admits,
        // from valid-after to valid-before inclusive.
        for t in ["2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"] {
            assert_eq!(
                a.authorize("a@x", &data, at(t)).map(|e| e.line),
                Ok(2),
                "{t}"
            );
        }
        // Outside the window, the first line's refusal is the answer.
        for t in ["2025-12-31T23:59:59Z", "2027-01-01T00:00:01Z"] {
            assert!(
                matches!(
                    a.authorize("a@x", &data, at(t)),
                    Err(KeyRefusal::Namespace { line: 1, .. })
                ),
                "{t}"
            );
        }
        let refusal = a
            .authorize("b@x", &data, at("2026-06-01T00:00:00Z"))
            .expect_err("not b's key");
        assert!(
            matches!(&refusal, KeyRefusal::NotListed { listed_for, principal_listed: false, .. } if listed_for == &["a@x"]),
            "{refusal:?}"
        );
    }

    #[test]
    fn glob_patterns() {
        assert!(glob("*@example.com", "a@example.com"));
        assert!(!glob("*@example.com", "a@example.org"));
        assert!(matches_list(&["*".into(), "!bad@x".into()], "good@x"));
        assert!(!matches_list(&["*".into(), "!bad@x".into()], "bad@x"));
    }
}
