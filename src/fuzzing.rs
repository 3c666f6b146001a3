//! Entry points for the fuzz targets in `fuzz/` and for replaying their
//! corpus in the regular test suite (`tests/fuzz_corpus.rs`). Each takes
//! arbitrary bytes and must never panic, whatever they are.

use std::path::Path;

/// The manifest loader: text checks, YAML, typed manifest, readiness, placeholders.
pub fn manifest(data: &[u8]) {
    let file = Path::new("fuzz/agent.yaml");
    let Ok(text) = crate::bundle::text_from_bytes(data.to_vec(), file) else {
        return;
    };
    if let Ok(loaded) = crate::bundle::parse_manifest(&text, file) {
        let _ = crate::bundle::readiness::check(
            &loaded.manifest,
            &loaded.map,
            Path::new("/nonexistent/fuzz"),
            file,
            Some("fuzz"),
        );
        let _ = crate::bundle::readiness::placeholders(&loaded.value, &loaded.map, file);
        for p in [
            "",
            "/name",
            "/tools/0/access",
            "/security/checklist/3/status",
            "/x/~1y",
        ] {
            let _ = loaded.map.nearest(p);
        }
    }
}

/// `agentctl.toml`.
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::repo::config::Config::parse(text, Path::new("agentctl.toml"));
    }
}

/// `.agentctl/allowed_signers`.
pub fn allowed_signers(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(a) = crate::signing::AllowedSigners::parse(text, Path::new("allowed_signers"))
    {
        for e in &a.entries {
            let _ = a.principals_for(&e.key);
        }
    }
}

/// A fixed trust root for [`sshsig`].
const TRUST: &str = "fuzz@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n";

/// Verifying an arbitrary signature file against a fixed statement.
pub fn sshsig(data: &[u8]) {
    let allowed = crate::signing::AllowedSigners::parse(TRUST, Path::new("allowed_signers"))
        .expect("the fixed trust root parses");
    let statement = crate::signing::statement("fuzz", "1.0.0", "sha256:00");
    let _ = crate::signing::verify(
        &allowed,
        "fuzz@example.com",
        data,
        statement.as_bytes(),
        jiff::Timestamp::UNIX_EPOCH,
    );
    let _ = crate::signing::signer_fingerprint(data);
}

/// `environments/ENV.log` and `environments/ENV.yaml`.
pub fn env_log(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(events) = crate::repo::environment::parse_log(text) {
            for e in &events {
                let _ = crate::repo::environment::rollback_target(&events, &e.agent, "1.0.0");
            }
        }
        let _ = crate::repo::environment::EnvState::parse(text);
    }
}
