#!/usr/bin/env bash
# A shipped build (no `test-hooks` feature) ignores AGENTCTL_NOW,
# AGENTCTL_FAULT and AGENTCTL_TEST_HOLD_LOCK_MS: nobody steps around a
# freeze window or a key's expiry, or back-dates the log, by setting a
# variable. Builds the binary without the feature and attacks it.
set -euo pipefail
cd "$(dirname "$0")/.."
# The same target directory as the tests (dependencies are reused); the
# binary is rebuilt without the feature the test suite turns on.
# (AGENTCTL_BIN=PATH checks another binary, e.g. a test build, which fails.)
if [[ -n "${AGENTCTL_BIN:-}" ]]; then
    bin="$(realpath "$AGENTCTL_BIN")"
else
    cargo build --quiet --bin agentctl
    bin="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/agentctl"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
git config --global user.name "Hook Test"
git config --global user.email hooks@example.com
git config --global init.defaultBranch main
repo="$work/repo"
"$bin" init "$repo" >/dev/null 2>&1
cp -r examples/agents/* "$repo/agents/"
# prod frozen for a year from now; the fake clock says 2020.
from="$(date -u -d '-1 day' +%Y-%m-%dT%H:%M:%SZ)"
until="$(date -u -d '+365 days' +%Y-%m-%dT%H:%M:%SZ)"
sed -i "s|^# freeze = .*|freeze = [{ from = \"$from\", until = \"$until\", reason = \"hook test\" }]|" "$repo/agentctl.toml"
git -C "$repo" add -A && git -C "$repo" commit -qm agents >/dev/null
cd "$repo"
"$bin" promote dev >/dev/null 2>&1
"$bin" promote staging >/dev/null 2>&1
fail=0
if AGENTCTL_NOW=2020-01-01T00:00:00Z "$bin" promote prod >/dev/null 2>&1; then
    echo "FAIL: AGENTCTL_NOW bypassed prod's freeze window in a shipped build" >&2
    fail=1
fi
if grep -q '"time":"2020-' environments/*.log; then
    echo "FAIL: AGENTCTL_NOW back-dated the log in a shipped build" >&2
    fail=1
fi
if git log -1 --format=%cI | grep -q '^2020-'; then
    echo "FAIL: AGENTCTL_NOW back-dated the commit in a shipped build" >&2
    fail=1
fi
if ! AGENTCTL_FAULT=ref "$bin" mode dev lead-router disabled --reason r >/dev/null 2>&1; then
    echo "FAIL: AGENTCTL_FAULT aborted a shipped build" >&2
    fail=1
fi
start=$(date +%s)
AGENTCTL_TEST_HOLD_LOCK_MS=5000 "$bin" mode dev lead-router active --reason r >/dev/null 2>&1 || true
if (( $(date +%s) - start >= 5 )); then
    echo "FAIL: AGENTCTL_TEST_HOLD_LOCK_MS held the lock in a shipped build" >&2
    fail=1
fi
if ((fail)); then exit 1; fi
echo "shipped build ignores the test hooks: 4 passed, 0 failed"
