#!/usr/bin/env bash
# Benchmarks against the floor, written to BENCHMARKS.md.
#
#   benches/run.sh                 # N=10000 agents, long history 50000 commits
#   N=2000 LONG=5000 benches/run.sh
#
# Needs: hyperfine (Debian: hyperfine), GNU time (Debian: time),
# check-jsonschema (PyPI), python3, git. Everything runs on the same
# generated trees in one run; results are ratios, so the machine matters less.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
LONG=${LONG:-50000}
RUNS=${RUNS:-5}
WORK=${WORK:-$(mktemp -d /tmp/agentctl-bench.XXXXXX)}
OUT=${OUT:-BENCHMARKS.md}

for tool in hyperfine python3 git check-jsonschema; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "missing: /usr/bin/time (Debian package: time)" >&2; exit 2; }

cargo build --release --quiet
BIN=$PWD/target/release/agentctl

echo "generating $N agents in $WORK (short and long history)" >&2
python3 benches/generate.py --out "$WORK/short" --agents "$N" >/dev/null
python3 benches/generate.py --out "$WORK/long" --agents "$N" --history "$LONG" >/dev/null

json() { echo "$WORK/$1.json"; }
mean() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][int(sys.argv[2])]['mean'])" "$1" "$2"; }
peak() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}'; }

cd "$WORK/short"
# The floor's file lists are made once, outside the timings.
find agents -type f -print0 > "$WORK/agents.list"
# prod pins release 1.0.0 of every agent (see benches/generate.py).
find releases -path '*/1.0.0/bundle/*' -type f -print0 > "$WORK/prod.list"
FILES_AGENTS="xargs -0 -a $WORK/agents.list -n 4000 sha256sum > /dev/null"
FILES_PROD="xargs -0 -a $WORK/prod.list -n 4000 sha256sum > /dev/null"

hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$(json validate)" \
    -n "agentctl validate" "$BIN validate -q" \
    -n "sha256sum floor (agents/)" "$FILES_AGENTS" >&2
hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$(json verify)" \
    -n "agentctl verify prod" "$BIN verify prod -q > /dev/null" \
    -n "sha256sum floor (prod releases)" "$FILES_PROD" >&2
hyperfine --style basic --runs 1 --export-json "$(json jsonschema)" \
    -n "check-jsonschema" "check-jsonschema --schemafile schemas/agent.schema.json agents/*/agent.yaml > /dev/null" >&2
hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$(json diff)" \
    -n "agentctl diff staging prod" "$BIN diff staging prod > /dev/null" >&2
hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$(json status)" \
    -n "agentctl status" "$BIN status > /dev/null" >&2

RSS_VALIDATE=$(peak "$BIN" validate -q)
RSS_VERIFY=$(peak "$BIN" verify prod -q)
RSS_DIFF=$(peak "$BIN" diff staging prod)
RSS_STATUS=$(peak "$BIN" status)

# promote / rollback of one agent (agent-00000 differs between staging and
# prod), short vs long history, vs a plain git add + commit of the same files.
git_ops() {
    local repo=$1 name=$2
    cd "$repo"
    local base
    base=$(git rev-parse HEAD)
    "$BIN" promote prod agent-00000 -q >/dev/null
    cp environments/prod.yaml "$WORK/prod.yaml.$name"
    cp environments/prod.log "$WORK/prod.log.$name"
    git reset -q --hard "$base"
    hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$(json "git-$name")" \
        --prepare "git reset -q --hard $base" \
        -n "agentctl promote ($name history)" "$BIN promote prod agent-00000 -q > /dev/null" \
        -n "agentctl rollback ($name history)" \
        --prepare "git reset -q --hard $base && $BIN promote prod agent-00000 -q > /dev/null" \
        "$BIN rollback prod agent-00000 --reason bench -q > /dev/null" \
        -n "git add + commit ($name history)" \
        --prepare "git reset -q --hard $base" \
        "cp $WORK/prod.yaml.$name environments/prod.yaml && cp $WORK/prod.log.$name environments/prod.log && git add environments/prod.yaml environments/prod.log && git commit -q -m bench" >&2
    git reset -q --hard "$base"
}
git_ops "$WORK/short" short
git_ops "$WORK/long" long

V=$(mean "$(json validate)" 0); VF=$(mean "$(json validate)" 1)
R=$(mean "$(json verify)" 0); RF=$(mean "$(json verify)" 1)
J=$(mean "$(json jsonschema)" 0)
D=$(mean "$(json diff)" 0); S=$(mean "$(json status)" 0)
PS=$(mean "$(json git-short)" 0); RBS=$(mean "$(json git-short)" 1); GS=$(mean "$(json git-short)" 2)
PL=$(mean "$(json git-long)" 0); RBL=$(mean "$(json git-long)" 1); GL=$(mean "$(json git-long)" 2)

ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$1" "$2"; }
ms() { python3 -c "import sys; print(f'{float(sys.argv[1])*1000:.0f} ms')" "$1"; }
ok() { python3 -c "import sys; print('met' if float(sys.argv[1]) <= float(sys.argv[2]) else 'missed')" "$1" "$2"; }

cd - >/dev/null
CPU=$(lscpu | awk -F: '/Model name/ {gsub(/^ +/,"",$2); print $2; exit}')
MEM=$(free -g | awk '/Mem:/ {print $2 " GiB"}')
{
cat <<EOF
# Benchmarks

Generated by \`benches/run.sh\` on $(date -u +%Y-%m-%d): $N synthetic agents
(8 files each, a few KB of prompts; releases of every agent pinned in dev,
staging and prod; 1% of agents changed between staging and prod), in one run
on the same trees. Machine: $CPU, $(nproc) cores, $MEM RAM; $(uname -sr).
agentctl $($BIN --version | awk '{print $2}') built with \`cargo build --release\`.

Reproduce: \`N=$N LONG=$LONG benches/run.sh\` (needs hyperfine, GNU time,
check-jsonschema). Times are hyperfine means over $RUNS runs (1 for
check-jsonschema); the floor is single-threaded \`sha256sum\` over exactly
the same files.

| measurement | time | ratio | target | |
|---|---|---|---|---|
| \`agentctl validate\` (all $N bundles) vs sha256sum over agents/ | $(ms "$V") vs $(ms "$VF") | $(ratio "$V" "$VF")× | ≤ 1.0× | $(ok "$(ratio "$V" "$VF")" 1.0) |
| \`agentctl validate\` vs check-jsonschema (schema only) | $(ms "$V") vs $(ms "$J") | $(ratio "$J" "$V")× faster | ≥ 20× | $(ok 20 "$(ratio "$J" "$V")") |
| \`agentctl verify prod\` vs sha256sum over prod's releases | $(ms "$R") vs $(ms "$RF") | $(ratio "$R" "$RF")× | ≤ 1.0× | $(ok "$(ratio "$R" "$RF")" 1.0) |
| \`agentctl verify prod\` vs check-jsonschema | $(ms "$R") vs $(ms "$J") | $(ratio "$J" "$R")× faster | ≥ 20× | $(ok 20 "$(ratio "$J" "$R")") |
| \`agentctl diff staging prod\` (1% changed) vs validate | $(ms "$D") vs $(ms "$V") | $(ratio "$D" "$V")× | ≤ 0.2× | $(ok "$(ratio "$D" "$V")" 0.2) |
| \`agentctl status\` | $(ms "$S") | | | |
| promote, long/short history | $(ms "$PL") / $(ms "$PS") | $(ratio "$PL" "$PS")× | ≤ 1.2× | $(ok "$(ratio "$PL" "$PS")" 1.2) |
| rollback, long/short history | $(ms "$RBL") / $(ms "$RBS") | $(ratio "$RBL" "$RBS")× | ≤ 1.2× | $(ok "$(ratio "$RBL" "$RBS")" 1.2) |
| promote vs git add + commit (short) | $(ms "$PS") vs $(ms "$GS") | $(ratio "$PS" "$GS")× | ≤ 2× | $(ok "$(ratio "$PS" "$GS")" 2) |
| promote vs git add + commit (long) | $(ms "$PL") vs $(ms "$GL") | $(ratio "$PL" "$GL")× | ≤ 2× | $(ok "$(ratio "$PL" "$GL")" 2) |
| rollback vs git add + commit (short) | $(ms "$RBS") vs $(ms "$GS") | $(ratio "$RBS" "$GS")× | ≤ 2× | $(ok "$(ratio "$RBS" "$GS")" 2) |

Peak memory (\`/usr/bin/time -v\`, maximum resident set, target ≤ 200 MB):
validate $((RSS_VALIDATE / 1024)) MB, verify prod $((RSS_VERIFY / 1024)) MB,
diff $((RSS_DIFF / 1024)) MB, status $((RSS_STATUS / 1024)) MB.
EOF
} > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "wrote $OUT (work dir: $WORK)" >&2
