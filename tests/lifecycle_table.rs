//! The lifecycle as the README states it ("The lifecycle, exactly"), one
//! row per situation: what each command pins, what it refuses and with
//! which exit code. Each row runs in a fresh repository.

mod common;

use common::*;

const T: &str = "support-triage";

/// dev runs support-triage 1.4.0, then 1.5.0, then 1.6.0 (three promotions).
fn three_versions_in_dev(s: &Scratch) {
    s.ok(&["promote", "dev"]);
    for (from, to) in [("1.4.0", "1.5.0"), ("1.5.0", "1.6.0")] {
        s.set_version(T, from, to);
        s.commit_all(to);
        s.ok(&["promote", "dev", T]);
    }
}

fn freeze_dev(s: &Scratch) {
    let cfg = s.read("agentctl.toml").replace(
        "name = \"dev\"\npromote_from_previous = false\n",
        "name = \"dev\"\npromote_from_previous = false\nfreeze = [{ from = \"2026-01-01T00:00:00Z\", until = \"2027-12-31T00:00:00Z\", reason = \"test\" }]\n",
    );
    assert!(cfg.contains("freeze = [{ from"), "{cfg}");
    s.write("agentctl.toml", &cfg);
    s.commit_all("freeze dev");
}

fn pin(s: &Scratch, env: &str, agent: &str) -> Option<(String, String)> {
    s.pins(env).get(agent).map(|p| {
        (
            p["version"].as_str().unwrap_or_default().to_string(),
            p["mode"].as_str().unwrap_or("active").to_string(),
        )
    })
}

struct Row {
    situation: &'static str,
    setup: fn(&Scratch),
    command: &'static [&'static str],
    exit: i32,
    /// (env, agent, Some((version, mode)) or None for "not pinned").
    then: (
        &'static str,
        &'static str,
        Option<(&'static str, &'static str)>,
    ),
}

const ROWS: &[Row] = &[
    Row {
        situation: "promote the first environment: releases agents/ and pins it",
        setup: |_| {},
        command: &["promote", "dev", T],
        exit: 0,
        then: ("dev", T, Some(("1.4.0", "active"))),
    },
    Row {
        situation: "promote NAME the previous environment does not run: no (1)",
        setup: |s| {
            s.ok(&["promote", "dev", "lead-router"]);
        },
        command: &["promote", "staging", T],
        exit: 1,
        then: ("staging", T, None),
    },
    Row {
        situation: "promote an agent that exists nowhere: unknown (2)",
        setup: |_| {},
        command: &["promote", "dev", "no-such-agent"],
        exit: 2,
        then: ("dev", T, None),
    },
    Row {
        situation: "promote during a freeze: no (1), nothing pinned",
        setup: freeze_dev,
        command: &["promote", "dev", T],
        exit: 1,
        then: ("dev", T, None),
    },
    Row {
        situation: "the stop button during a freeze: works",
        setup: |s| {
            s.ok(&["promote", "dev"]);
            freeze_dev(s);
        },
        command: &["mode", "dev", T, "disabled", "--reason", "incident"],
        exit: 0,
        then: ("dev", T, Some(("1.4.0", "disabled"))),
    },
    Row {
        situation: "rollback during a freeze to a release that ran here: works",
        setup: |s| {
            three_versions_in_dev(s);
            freeze_dev(s);
        },
        command: &["rollback", "dev", T, "--reason", "bad answers"],
        exit: 0,
        then: ("dev", T, Some(("1.5.0", "active"))),
    },
    Row {
        situation: "mode of an agent that does not run here: no (1)",
        setup: |_| {},
        command: &["mode", "dev", T, "disabled", "--reason", "r"],
        exit: 1,
        then: ("dev", T, None),
    },
    Row {
        situation: "retire an agent that does not run here: no (1)",
        setup: |_| {},
        command: &["retire", "dev", T, "--reason", "r"],
        exit: 1,
        then: ("dev", T, None),
    },
    Row {
        situation: "rollback an agent that does not run here: no (1)",
        setup: |_| {},
        command: &["rollback", "dev", T, "--reason", "r"],
        exit: 1,
        then: ("dev", T, None),
    },
    Row {
        situation: "rollback with nothing earlier: no (1)",
        setup: |s| {
            s.ok(&["promote", "dev"]);
        },
        command: &["rollback", "dev", T, "--reason", "r"],
        exit: 1,
        then: ("dev", T, Some(("1.4.0", "active"))),
    },
    Row {
        situation: "rollback --to without NAME: usage (2)",
        setup: |s| {
            s.ok(&["promote", "dev"]);
        },
        command: &["rollback", "dev", "--to", "1.4.0", "--reason", "r"],
        exit: 2,
        then: ("dev", T, Some(("1.4.0", "active"))),
    },
    Row {
        situation: "rollback --to an unreleased version: unknown (2)",
        setup: |s| {
            s.ok(&["promote", "dev"]);
        },
        command: &["rollback", "dev", T, "--to", "9.9.9", "--reason", "r"],
        exit: 2,
        then: ("dev", T, Some(("1.4.0", "active"))),
    },
    Row {
        situation: "rollback --to a release that never ran here is a promotion: allowed when it passes every gate",
        setup: |s| {
            three_versions_in_dev(s);
            s.ok(&["promote", "staging", T]);
        },
        command: &["rollback", "staging", T, "--to", "1.4.0", "--reason", "r"],
        exit: 0,
        then: ("staging", T, Some(("1.4.0", "active"))),
    },
    Row {
        situation: "rollback --to a release that never ran here nor in the previous environment: no (1)",
        setup: |s| {
            three_versions_in_dev(s);
            s.ok(&["promote", "staging", T]);
            s.set_version(T, "1.6.0", "1.7.0");
            s.commit_all("1.7.0");
            s.ok(&["release", T]);
        },
        command: &["rollback", "staging", T, "--to", "1.7.0", "--reason", "r"],
        exit: 1,
        then: ("staging", T, Some(("1.6.0", "active"))),
    },
    Row {
        situation: "a new version of a disabled agent stays disabled",
        setup: |s| {
            s.ok(&["promote", "dev"]);
            s.ok(&["mode", "dev", T, "disabled", "--reason", "incident"]);
            s.set_version(T, "1.4.0", "1.5.0");
            s.commit_all("1.5.0");
        },
        command: &["promote", "dev", T],
        exit: 0,
        then: ("dev", T, Some(("1.5.0", "disabled"))),
    },
    Row {
        situation: "rollback NAME twice walks back past the version rolled away from",
        setup: |s| {
            three_versions_in_dev(s);
            s.ok(&["rollback", "dev", T, "--reason", "first"]);
        },
        command: &["rollback", "dev", T, "--reason", "second"],
        exit: 0,
        then: ("dev", T, Some(("1.4.0", "active"))),
    },
    Row {
        situation: "rollback ENV undoes the last promotion, removing what it added",
        setup: |s| {
            s.ok(&["promote", "dev", "lead-router"]);
            s.ok(&["promote", "dev", T]);
        },
        command: &["rollback", "dev", "--reason", "undo"],
        exit: 0,
        then: ("dev", T, None),
    },
    Row {
        situation: "rollback ENV when the last promotion was already undone: no (1)",
        setup: |s| {
            s.ok(&["promote", "dev", "lead-router"]);
            s.ok(&["promote", "dev", T]);
            s.ok(&["rollback", "dev", "--reason", "undo"]);
        },
        command: &["rollback", "dev", "--reason", "again"],
        exit: 1,
        then: ("dev", "lead-router", Some(("2.1.0", "active"))),
    },
    Row {
        situation: "a roll forward (--to a newer release that ran here) does not mark the one it left",
        setup: |s| {
            three_versions_in_dev(s);
            s.ok(&["rollback", "dev", T, "--to", "1.4.0", "--reason", "back"]);
            s.ok(&["rollback", "dev", T, "--to", "1.6.0", "--reason", "forward"]);
        },
        command: &["rollback", "dev", T, "--reason", "again"],
        exit: 0,
        then: ("dev", T, Some(("1.4.0", "active"))),
    },
    Row {
        situation: "retire, then promote again: pinned anew",
        setup: |s| {
            s.ok(&["promote", "dev"]);
            s.ok(&["retire", "dev", T, "--reason", "gone"]);
        },
        command: &["promote", "dev", T],
        exit: 0,
        then: ("dev", T, Some(("1.4.0", "active"))),
    },
];

#[test]
fn every_row_of_the_lifecycle_table_holds() {
    let mut failures = Vec::new();
    for row in ROWS {
        let s = Scratch::new();
        (row.setup)(&s);
        let before = s.snapshot();
        let out = s.run(row.command);
        let (env, agent, want) = row.then;
        let got = pin(&s, env, agent);
        let want = want.map(|(v, m)| (v.to_string(), m.to_string()));
        if out.status.code() != Some(row.exit) || got != want {
            failures.push(format!(
                "{}: `agentctl {}` exited {:?} (want {}), {env} pins {agent} as {got:?} (want {want:?})\n{}",
                row.situation,
                row.command.join(" "),
                out.status.code(),
                row.exit,
                describe(&out)
            ));
        }
        if row.exit != 0 && s.snapshot() != before {
            failures.push(format!("{}: a refusal wrote something", row.situation));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
