#!/usr/bin/env bash
# The README's walk-through, as a script the test suite runs: the whole life
# of an agent release, in a scratch directory, with nothing to invent.
#
#   bash examples/walkthrough.sh [DIR]     # DIR: where to build it (default: a temp dir)
#
# Uses `agentctl` from PATH, or $AGENTCTL (e.g. AGENTCTL="cargo run -q --").
set -euo pipefail
examples="$(cd "$(dirname "$0")" && pwd)"
agentctl() { ${AGENTCTL:-command agentctl} "$@"; }
dir="${1:-$(mktemp -d)}"

# 1. A GitOps repository with the three example agents and their policy.
agentctl init "$dir"
cd "$dir"
git config user.name >/dev/null || git config user.name "Walk Through"
git config user.email >/dev/null || git config user.email walk@example.com
cp -r "$examples"/agents/* agents/
cp "$examples/agentctl.toml" .      # prod requires an owner's and a security reviewer's signatures, and evals
git add -A && git commit -qm "add agents"
agentctl validate

# 2. dev and staging take every agent; prod refuses: no evals, no approvals yet.
agentctl promote dev --reason "first release"
agentctl promote staging --reason "first release"
agentctl diff prod                         # what promoting into prod would change (from staging), risk-ranked
agentctl promote prod support-triage --dry-run || echo "prod refuses, as it should"

# 3. Evidence first: eval results for exactly this content (native JSON here;
#    promptfoo's `-o results.json` output works the same way).
echo '{"suite": "triage-accuracy", "passed": 8, "failed": 0, "errors": 0}' > ../triage-results.json
echo '{"suite": "guardrails", "passed": 8, "failed": 0, "errors": 0}' > ../guardrails-results.json
agentctl evals record support-triage@1.4.0 ../triage-results.json
agentctl evals record support-triage@1.4.0 ../guardrails-results.json

# 4. Then approvals: the owner and the security reviewer, each with their own
#    key, listed in allowed_signers through a reviewed change.
ssh-keygen -q -t ed25519 -N "" -C maya -f ../maya
ssh-keygen -q -t ed25519 -N "" -C rachel -f ../rachel
echo "maya.lindqvist@example.com namespaces=\"agentctl\" $(cat ../maya.pub)" >> .agentctl/allowed_signers
echo "rachel.osei@example.com namespaces=\"agentctl\" $(cat ../rachel.pub)" >> .agentctl/allowed_signers
git commit -qam "trust the owner's and the security reviewer's keys"
agentctl sign support-triage@1.4.0 --key ../maya      # the owner
agentctl sign support-triage@1.4.0 --key ../rachel    # the security reviewer, on their machine
agentctl verify staging

# 5. A deploy job keeps its own trust root, outside the repository.
agentctl trust export ../trust-root
agentctl promote prod support-triage --reason "weekly release" --trust-root ../trust-root
agentctl verify prod --trust-root ../trust-root

# 6. A second version: edit, commit, promote, review, approve, ship.
sed -i 's/^version: 1.4.0$/version: 1.5.0/' agents/support-triage/agent.yaml
echo "Keep every internal note under 80 words." >> agents/support-triage/prompts/system.md.j2
git commit -qam "support-triage 1.5.0: shorter notes"
agentctl promote dev support-triage --reason "shorter notes"
agentctl promote staging support-triage --reason "shorter notes"
agentctl diff prod
agentctl evals record support-triage@1.5.0 ../triage-results.json
agentctl evals record support-triage@1.5.0 ../guardrails-results.json
agentctl sign support-triage@1.5.0 --key ../maya
agentctl sign support-triage@1.5.0 --key ../rachel
agentctl promote prod support-triage --reason "shorter notes" --trust-root ../trust-root

# 7. Operations: roll back, pull the stop button, look around.
agentctl rollback prod support-triage --reason "bad answers" --trust-root ../trust-root
agentctl mode prod support-triage disabled --reason "incident 42"
agentctl status
agentctl history prod
echo "walk-through done: $dir"
