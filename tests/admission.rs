//! Admission attacks: what a pull request can edit (agentctl.toml, the
//! environment files, eval records, the log) must not make `promote`,
//! `rollback` or `verify` pass against a trust root held outside the
//! repository. Each test is one attack from the admission issue.

mod common;

use common::*;
use std::path::{Path, PathBuf};

const OWNER: &str = "maya.lindqvist@example.com";
const SECURITY: &str = "rachel.osei@example.com";

/// The examples' policy (prod: owner + security, evals), support-triage
/// 1.4.0 evaluated, approved and running in prod, and a trust root the
/// deploy job exported from that good state.
struct Prod {
    s: Scratch,
    owner_key: PathBuf,
    security_key: PathBuf,
    trust: PathBuf,
}

impl Prod {
    fn new() -> Prod {
        let s = Scratch::new();
        let cfg = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/agentctl.toml"),
        )
        .expect("examples config");
        s.write("agentctl.toml", &cfg);
        let owner_key = s.sandbox.path().join("owner");
        let security_key = s.sandbox.path().join("security");
        s.sandbox.ssh_keygen(&owner_key, "owner", "");
        s.sandbox.ssh_keygen(&security_key, "security", "");
        let mut signers = s.read(".agentctl/allowed_signers");
        for (who, key) in [(OWNER, &owner_key), (SECURITY, &security_key)] {
            let public = std::fs::read_to_string(key.with_extension("pub")).expect("pub");
            signers.push_str(&format!("{who} {public}"));
        }
        s.write(".agentctl/allowed_signers", &signers);
        s.commit_all("examples policy and two signers");
        s.ok(&["promote", "dev"]);
        s.ok(&["promote", "staging"]);
        let p = Prod {
            trust: s.sandbox.path().join("trust-root"),
            s,
            owner_key,
            security_key,
        };
        p.evaluate_and_approve("support-triage@1.4.0");
        p.s.ok(&["promote", "prod", "support-triage"]);
        p.s.ok(&["trust", "export", p.trust.to_str().expect("utf-8")]);
        p
    }

    fn trust(&self) -> &str {
        self.trust.to_str().expect("utf-8")
    }

    /// Record passing evals for both suites, then both approvals.
    fn evaluate_and_approve(&self, release: &str) {
        for suite in ["triage-accuracy", "guardrails"] {
            let f = self.s.sandbox.path().join(format!("{suite}-results.json"));
            std::fs::write(
                &f,
                format!(r#"{{"suite": "{suite}", "passed": 100, "failed": 0, "errors": 0}}"#),
            )
            .expect("write results");
            self.s
                .ok(&["evals", "record", release, f.to_str().expect("utf-8")]);
        }
        self.sign(release);
    }

    fn sign(&self, release: &str) {
        for key in [&self.owner_key, &self.security_key] {
            self.s
                .ok(&["sign", release, "--key", key.to_str().expect("utf-8")]);
        }
    }
}

#[test]
fn a_weakened_prod_policy_does_not_pass_a_deploy_jobs_trust_root() {
    let p = Prod::new();
    let s = &p.s;
    // The pull request: prod requires nothing any more.
    let cfg = s
        .read("agentctl.toml")
        .replace(
            "required_roles = [\"owner\", \"security\"]",
            "required_roles = []",
        )
        .replace("require_evals = true", "require_evals = false");
    s.write("agentctl.toml", &cfg);
    s.commit_all("relax prod");
    // Its own repository now waves an unsigned, unevaluated release through...
    let out = s.run(&["promote", "prod", "lead-router", "--dry-run"]);
    assert_code(&out, 0);
    // ...but not against the deploy job's trust root.
    let out = s.run(&[
        "promote",
        "prod",
        "lead-router",
        "--dry-run",
        "--trust-root",
        p.trust(),
    ]);
    assert_code(&out, 1);
    assert!(
        stdout(&out).contains("missing a valid signature"),
        "{}",
        describe(&out)
    );
    // Merged and promoted anyway: verify with the trust root says no.
    s.ok(&["promote", "prod", "lead-router"]);
    let out = s.run(&["verify", "prod", "--trust-root", p.trust()]);
    assert_code(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains("required_roles lacks `owner`"),
        "{}",
        describe(&out)
    );
    assert!(
        text.contains("require_evals = false (trust root: true)"),
        "{}",
        describe(&out)
    );
    assert!(text.contains("✗ signatures"), "{}", describe(&out));
    // The same through the environment variable a deploy job sets.
    let out = s.run_env(&["verify", "prod"], &[("AGENTCTL_TRUST_ROOT", p.trust())]);
    assert_code(&out, 1);
}

#[test]
fn a_forged_pin_and_log_line_fail_verify() {
    let p = Prod::new();
    let s = &p.s;
    // A signed release that never ran in staging and has no evals.
    s.set_version("support-triage", "1.4.0", "1.5.0");
    s.commit_all("1.5.0");
    s.ok(&["promote", "dev", "support-triage"]);
    p.sign("support-triage@1.5.0");
    let digest = s.digest("releases/support-triage/1.5.0/bundle");
    let prod = s.read("environments/prod.yaml");
    let old = s.pins("prod")["support-triage"]["digest"]
        .as_str()
        .expect("digest")
        .to_string();
    s.write(
        "environments/prod.yaml",
        &prod.replace("1.4.0", "1.5.0").replace(&old, &digest),
    );
    let log = s.read("environments/prod.log");
    let last = log.lines().last().expect("a line").to_string();
    let forged = last
        .replace("\"version\":\"1.4.0\"", "\"version\":\"1.5.0\"")
        .replacen(&old, &digest, 1);
    s.write("environments/prod.log", &format!("{log}{forged}\n"));
    s.commit_all("hand-edited pin");
    let out = s.run(&["verify", "prod", "--trust-root", p.trust()]);
    assert_code(&out, 1);
    let text = stdout(&out);
    assert!(text.contains("✗ promotion-order"), "{}", describe(&out));
    assert!(text.contains("never ran in staging"), "{}", describe(&out));
    assert!(text.contains("✗ evals"), "{}", describe(&out));
}

#[test]
fn rollback_to_a_release_that_never_ran_here_is_a_promotion() {
    let p = Prod::new();
    let s = &p.s;
    s.set_version("support-triage", "1.4.0", "1.5.0");
    s.commit_all("1.5.0");
    s.ok(&["promote", "dev", "support-triage"]);
    p.evaluate_and_approve("support-triage@1.5.0");
    let before = s.snapshot();
    let out = s.run(&[
        "rollback",
        "prod",
        "support-triage",
        "--to",
        "1.5.0",
        "--reason",
        "skip staging",
    ]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("never ran in prod"),
        "{}",
        describe(&out)
    );
    assert!(
        stderr(&out).contains("promotion-order"),
        "{}",
        describe(&out)
    );
    assert_eq!(s.snapshot(), before);
    // Through staging it is an ordinary promotion.
    s.ok(&["promote", "staging", "support-triage"]);
    s.ok(&["promote", "prod", "support-triage"]);
    // And rolling back to what ran before still needs its evidence.
    let out = s.run(&[
        "rollback",
        "prod",
        "support-triage",
        "--reason",
        "bad answers",
    ]);
    assert_code(&out, 0);
}

#[test]
fn a_vars_change_needs_new_approvals() {
    let p = Prod::new();
    let s = &p.s;
    s.ok(&["verify", "prod", "--trust-root", p.trust()]);
    let base = s.head();
    let cfg = s.read("agentctl.toml").replace(
        "vars = { support_portal = \"https://support.example.com\" }",
        "vars = { support_portal = \"https://evil.example.net/login?ask=password\" }",
    );
    s.write("agentctl.toml", &cfg);
    s.commit_all("a new portal");
    let out = s.run(&["verify", "prod", "--trust-root", p.trust()]);
    assert_code(&out, 1);
    assert!(stdout(&out).contains("✗ vars"), "{}", describe(&out));
    let out = s.run(&["check", "--base", &base, "--format", "json"]);
    let text = stdout(&out);
    assert!(text.contains("vars-changed"), "{}", describe(&out));
    assert!(text.contains("support-triage"), "{}", describe(&out));
    // The review diff shows it against the agent too, at high risk.
    let out = s.run(&["diff", "--base", &base, "--format", "json"]);
    let diff = json(&out);
    let agent = diff["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["name"] == "support-triage")
        .unwrap_or_else(|| panic!("support-triage in the diff: {}", describe(&out)));
    assert_eq!(agent["risk"], "high", "{agent}");
    assert_eq!(agent["changes"][0]["rule"], "vars-changed", "{agent}");
    // The approvers look at the new prompts and sign again.
    p.sign("support-triage@1.4.0");
    s.ok(&["verify", "prod", "--trust-root", p.trust()]);
}

#[test]
fn a_rewritten_eval_record_stops_counting() {
    let p = Prod::new();
    let s = &p.s;
    let rec = "releases/support-triage/1.4.0/evals/guardrails.json";
    let text = s.read(rec);
    assert!(text.contains("\"failed\": 0"), "{text}");
    // Pretend a failing run had passed: the numbers stay plausible.
    s.write(rec, &text.replace("\"passed\": 100", "\"passed\": 101"));
    s.commit_all("better numbers");
    let out = s.run(&["verify", "prod", "--trust-root", p.trust()]);
    assert_code(&out, 1);
    assert!(stdout(&out).contains("vouches"), "{}", describe(&out));
}

#[test]
fn signatures_made_before_the_evals_do_not_vouch_for_them() {
    let p = Prod::new();
    let s = &p.s;
    s.set_version("support-triage", "1.4.0", "1.5.0");
    s.commit_all("1.5.0");
    s.ok(&["promote", "dev", "support-triage"]);
    s.ok(&["promote", "staging", "support-triage"]);
    // Approve first, record later: the records are not vouched for.
    p.sign("support-triage@1.5.0");
    for suite in ["triage-accuracy", "guardrails"] {
        let f = s.sandbox.path().join(format!("{suite}-late.json"));
        std::fs::write(
            &f,
            format!(r#"{{"suite": "{suite}", "passed": 100, "failed": 0, "errors": 0}}"#),
        )
        .expect("write");
        s.ok(&[
            "evals",
            "record",
            "support-triage@1.5.0",
            f.to_str().expect("utf-8"),
        ]);
    }
    let out = s.run(&["promote", "prod", "support-triage", "--dry-run"]);
    assert_code(&out, 1);
    assert!(stdout(&out).contains("vouches"), "{}", describe(&out));
    p.sign("support-triage@1.5.0");
    let out = s.run(&["promote", "prod", "support-triage", "--dry-run"]);
    assert_code(&out, 0);
}

#[test]
fn promote_and_verify_count_the_same_signatures() {
    let p = Prod::new();
    let s = &p.s;
    // A signature that does not verify (a removed key's, a forged one).
    let sig = "releases/support-triage/1.4.0/signatures/eve@example.com.sig";
    s.write(
        sig,
        "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n",
    );
    s.commit_all("eve");
    let out = s.run(&["verify", "prod"]);
    assert_code(&out, 1);
    let out = s.run(&[
        "rollback",
        "prod",
        "support-triage",
        "--to",
        "1.4.0",
        "--reason",
        "r",
    ]);
    // Already runs 1.4.0: refused for that; the gates below decide the rest.
    assert_code(&out, 1);
    s.set_version("support-triage", "1.4.0", "1.6.0");
    s.commit_all("1.6.0");
    s.ok(&["promote", "dev", "support-triage"]);
    s.ok(&["promote", "staging", "support-triage"]);
    p.evaluate_and_approve("support-triage@1.6.0");
    let sig6 = "releases/support-triage/1.6.0/signatures/eve@example.com.sig";
    s.write(
        sig6,
        "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n",
    );
    s.commit_all("eve again");
    let out = s.run(&["promote", "prod", "support-triage", "--dry-run"]);
    assert_code(&out, 1);
    assert!(
        stdout(&out).contains("eve@example.com is not valid"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_partial_refusal_names_the_command_that_promotes_the_rest() {
    let p = Prod::new();
    let s = &p.s;
    s.set_version("support-triage", "1.4.0", "1.5.0");
    s.commit_all("1.5.0");
    s.ok(&["promote", "dev", "support-triage"]);
    s.ok(&["promote", "staging", "support-triage"]);
    p.evaluate_and_approve("support-triage@1.5.0");
    let out = s.run(&["promote", "prod"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("`agentctl promote prod support-triage`"),
        "{}",
        describe(&out)
    );
}
