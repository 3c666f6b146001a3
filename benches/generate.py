#!/usr/bin/env python3
"""Generate a synthetic agentctl repository for benchmarks.

N agents (default 10,000), each a realistic bundle of 8 files including a
few KB of prompts; releases 1.0.0 of every agent, pinned in dev, staging and
prod; for a fraction of agents (default 1%) a second release 1.1.0 with a
changed prompt, which dev and staging run and prod does not (so `agentctl
diff staging prod` has that many changes). Optionally a git history of
--history commits below the final tree (built with git fast-import).

Usage: benches/generate.py --out DIR [--agents N] [--changed-percent P] [--history N]
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys

MANIFEST = """# yaml-language-server: $schema=../../schemas/agent.schema.json
apiVersion: agentctl/v1
kind: Agent
name: {name}
version: {version}
description: Routes {topic} requests for team {team} and drafts replies for a human to approve.
owners:
  - name: Owner {idx}
    email: owner{idx}@example.com
    role: production
  - name: Backup {idx}
    email: backup{idx}@example.com
    role: backup
escalation:
  channel: "#team-{team}-oncall"
  when:
    - The customer asks for a human.
    - A tool fails after its retries.
  contacts:
    - name: On-call {team}
      role: first responder
      email: oncall-{team}@example.com
      phone: +1 555 0100
scope:
  purpose: Triage {topic} requests.
  in_scope:
    - Reading {topic} requests.
    - Proposing a queue and a priority.
  out_of_scope:
    - Refunds, credits and legal questions.
model:
  provider: anthropic
  name: claude-sonnet-4-5
  region: eu-west-1
  hosting: provider-api
  parameters:
    temperature: 0.2
    max_tokens: 1024
  fallback:
    provider: anthropic
    name: claude-haiku-4-5
prompts:
  - name: system
    file: prompts/system.md.j2
  - name: rules
    file: prompts/rules.md.j2
  - name: examples
    file: prompts/examples.md
tools:
  - name: tickets.read
    description: Read a request.
    access: read
    approval: none
    timeout: 5s
    retry: {{max_attempts: 3, backoff: exponential, initial_delay: 1s}}
    on_failure: fallback
  - name: tickets.tag
    description: Tag a request.
    access: write
    approval: required
    approvers: [group:team-{team}]
    timeout: 5s
    retry: {{max_attempts: 2, backoff: fixed, initial_delay: 1s}}
    on_failure: escalate
knowledge:
  - name: playbook
    uri: https://wiki.example.com/{team}/playbook
    owner: owner{idx}@example.com
    refresh: daily
    classification: internal
rules:
  - id: no-promises
    description: Never promise refunds, credits or dates.
    action: deny
  - id: human-on-request
    description: Hand over to a human when asked.
    action: escalate
evals:
  min_pass_rate: 0.9
  suites:
    - name: basic
      file: evals/basic.yaml
monitoring:
  alerts:
    - name: escalations-high
      condition: escalation_rate > 0.3 for 30m
      notify: "#team-{team}-alerts"
      message: The agent hands an unusual share of requests to humans.
      action: Switch it to review-only and tell the owner.
reliability:
  fallback: Hand the request to the human queue.
  human_handoff:
    channel: "queue:{team}"
    when: The agent cannot finish within its rules.
security:
  reviewed_by: Security Reviewer <security@example.com>
  reviewed_at: 2026-10-01
  data_handling:
    reads: [requests]
    writes: [request tags]
    pii: true
    retention_days: 30
  authentication:
    method: oauth2-client-credentials
    identity: svc-{name}
    scopes: [tickets.read, tickets.tag]
    credentials: vault:secret/agents/{name}
  provider_review:
    provider: anthropic
    model: claude-sonnet-4-5
    hosting: eu-west-1
    data_policy: no training on inputs; 30-day retention
  compliance: [GDPR]
  checklist:
    - item: Prompt injection tested
      status: pass
      evidence: SEC-{idx}
docs:
  runbook: docs/runbook.md
  faq: docs/faq.md
"""

SYSTEM = """You are {{{{ agent.name }}}}, version {{{{ agent.version }}}}: {{{{ agent.scope.purpose }}}}
{{%- if env.name != "prod" %}}
(This is the {{{{ env.name }}}} environment.)
{{%- endif %}}

You handle:
{{% for task in agent.scope.in_scope %}}- {{{{ task }}}}
{{% endfor %}}
Tools:
{{% for tool in agent.tools %}}- {{{{ tool.name }}}} ({{{{ tool.access }}}})
{{% endfor %}}
{body}
{{% include "prompts/rules.md.j2" %}}
"""

RULES = """Rules:
{% for rule in agent.rules %}- {{ rule.description }}
{% endfor %}"""

PARAGRAPH = (
    "Read the request carefully and decide which queue it belongs to. Prefer the "
    "most specific queue. When two queues fit, pick the one whose owners answer "
    "fastest for this customer's plan, and say why in one sentence. "
)


def body(idx, variant):
    lines = []
    for i in range(24):
        lines.append(f"{i + 1}. {PARAGRAPH}(team {idx % 97}, step {i})")
    if variant:
        lines.append("Keep every reply under 120 words.")
    return "\n".join(lines)


def bundle_files(name, idx, version, variant):
    team = f"t{idx % 97:02d}"
    topic = ["billing", "access", "outage", "feature"][idx % 4]
    return {
        "agent.yaml": MANIFEST.format(name=name, version=version, idx=idx, team=team, topic=topic),
        "prompts/system.md.j2": SYSTEM.format(body=body(idx, variant)),
        "prompts/rules.md.j2": RULES,
        "prompts/examples.md": "\n".join(f"Example {i}: a {topic} request and its triage." for i in range(30)) + "\n",
        "evals/basic.yaml": "\n".join(
            f"- description: case {i}\n  vars: {{message: 'request {i}'}}\n  assert: [{{type: icontains, value: queue}}]"
            for i in range(12)
        ) + "\n",
        "docs/runbook.md": f"# {name} runbook\n\nStop it: agentctl mode prod {name} disabled --reason ...\n",
        "docs/faq.md": f"# {name} FAQ\n\nIt triages {topic} requests.\n",
        "knowledge/notes.md": f"Notes for {name}: {PARAGRAPH}\n",
    }


def digest(files):
    lines = []
    for path in sorted(files, key=lambda p: p.encode()):
        h = hashlib.sha256(files[path].encode()).hexdigest()
        lines.append(f"{h}  {path}\n")
    return "sha256:" + hashlib.sha256("".join(lines).encode()).hexdigest()


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


CONFIG = """[roles]
security = ["security@example.com"]

[[environment]]
name = "dev"
promote_from_previous = false

[[environment]]
name = "staging"

[[environment]]
name = "prod"
"""

STAMP = "2026-11-01T00:00:00Z"
ACTOR = "Bench <bench@example.com>"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--agents", type=int, default=10_000)
    ap.add_argument("--changed-percent", type=float, default=1.0)
    ap.add_argument("--history", type=int, default=0, help="commits of history below the tree")
    args = ap.parse_args()
    root = args.out
    if os.path.exists(root) and os.listdir(root):
        sys.exit(f"{root} exists and is not empty")
    os.makedirs(root, exist_ok=True)
    write(root, "agentctl.toml", CONFIG)
    write(root, ".gitattributes", "agents/** -text\nreleases/** -text\nenvironments/** -text\n")
    write(root, ".agentctl/allowed_signers", "# none\n")
    schema = os.path.join(os.path.dirname(__file__), "..", "schemas", "agent.schema.json")
    with open(schema, encoding="utf-8") as f:
        write(root, "schemas/agent.schema.json", f.read())
    every = max(1, round(100 / args.changed_percent)) if args.changed_percent > 0 else 0
    pins = {"dev": {}, "staging": {}, "prod": {}}
    logs = {"dev": [], "staging": [], "prod": []}
    for idx in range(args.agents):
        name = f"agent-{idx:05d}"
        changed = every and idx % every == 0
        v1 = bundle_files(name, idx, "1.0.0", False)
        d1 = digest(v1)
        releases = [("1.0.0", v1, d1)]
        if changed:
            v2 = bundle_files(name, idx, "1.1.0", True)
            releases.append(("1.1.0", v2, digest(v2)))
        source = releases[-1][1]
        for rel, text in source.items():
            write(root, f"agents/{name}/{rel}", text)
        for version, files, d in releases:
            base = f"releases/{name}/{version}"
            for rel, text in files.items():
                write(root, f"{base}/bundle/{rel}", text)
            write(
                root,
                f"{base}/release.yaml",
                f"name: {name}\nversion: \"{version}\"\ndigest: {d}\nsource_commit: null\n"
                f"created_at: \"{STAMP}\"\ncreated_by: {ACTOR}\n",
            )
        latest = releases[-1]
        for env, (version, _, d) in [("dev", latest), ("staging", latest), ("prod", releases[0])]:
            pins[env][name] = (version, d)
            logs[env].append(
                {
                    "op": 1,
                    "time": STAMP,
                    "action": "promote",
                    "agent": name,
                    "version": version,
                    "digest": d,
                    "previous_version": None,
                    "previous_digest": None,
                    "mode": "active",
                    "actor": ACTOR,
                    "reason": None,
                }
            )
    for env in pins:
        lines = ["agents:"]
        for name, (version, d) in sorted(pins[env].items()):
            lines += [
                f"  {name}:",
                f"    version: \"{version}\"",
                f"    digest: {d}",
                "    mode: active",
                f"    updated_at: \"{STAMP}\"",
                f"    updated_by: {ACTOR}",
            ]
        write(root, f"environments/{env}.yaml", "\n".join(lines) + "\n")
        write(root, f"environments/{env}.log", "".join(json.dumps(e) + "\n" for e in logs[env]))

    git = lambda *a, **kw: subprocess.run(["git", "-C", root, *a], check=True, **kw)
    git("init", "-q", "-b", "main")
    git("config", "user.name", "Bench")
    git("config", "user.email", "bench@example.com")
    if args.history > 0:
        # A long history below the tree: small commits to one file.
        stream = []
        for i in range(args.history):
            content = f"history {i}\n"
            stream.append(
                f"commit refs/heads/main\nmark :{i + 1}\n"
                f"committer Bench <bench@example.com> {1700000000 + i} +0000\n"
                f"data {len(f'history {i}')}\nhistory {i}\n"
                + (f"from :{i}\n" if i else "")
                + f"M 100644 inline history.txt\ndata {len(content)}\n{content}\n"
            )
        subprocess.run(
            ["git", "-C", root, "fast-import", "--quiet"],
            input="".join(stream).encode(),
            check=True,
        )
        git("reset", "-q", "--hard", "main")
    git("add", "-A")
    git("commit", "-q", "-m", f"synthetic repository: {args.agents} agents")
    print(root)


if __name__ == "__main__":
    main()
