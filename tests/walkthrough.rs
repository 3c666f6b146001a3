//! The README's walk-through is `examples/walkthrough.sh`: the suite runs
//! it end to end in a scratch directory, and fails if the README's copy
//! drifts from the script.

mod common;

use common::*;
use std::process::Command;

const SCRIPT: &str = include_str!("../examples/walkthrough.sh");
const README: &str = include_str!("../README.md");

#[test]
fn the_readme_shows_the_walkthrough_script_exactly() {
    let body = SCRIPT
        .split_once("\n# 1. ")
        .map(|(_, rest)| format!("# 1. {rest}"))
        .expect("the script's steps");
    assert!(
        README.contains(&body),
        "README.md's walk-through differs from examples/walkthrough.sh: copy the script's steps (from `# 1.`) into the README"
    );
}

#[test]
fn the_walkthrough_runs_to_the_end() {
    let sb = Sandbox::new();
    let dir = sb.path().join("walk");
    let mut cmd = Command::new("bash");
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/walkthrough.sh"
    ))
    .arg(&dir)
    .current_dir(sb.path())
    .env("AGENTCTL", env!("CARGO_BIN_EXE_agentctl"));
    sb.hermetic(&mut cmd);
    let out = cmd.output().expect("run the walk-through");
    assert_code(&out, 0);
    assert!(
        stdout(&out).contains("walk-through done"),
        "{}",
        describe(&out)
    );
    // It leaves what it says: prod ran 1.5.0, rolled back to 1.4.0, stopped.
    let prod = pins_at(&dir, "prod");
    assert_eq!(prod["support-triage"]["version"], "1.4.0");
    assert_eq!(prod["support-triage"]["mode"], "disabled");
    fsck(&sb, &dir);
    assert_eq!(porcelain(&sb, &dir), "");
}
