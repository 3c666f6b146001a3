#!/usr/bin/env python3
"""Scores agentctl and detect-secrets on tests/fixtures/secrets/ (see benches/secrets.sh).

    secrets_score.py materialize CORPUS_DIR OUT_DIR
        one file per case (U+00B7 splices removed): OUT_DIR/p0001.txt …, n0001.txt …
    secrets_score.py score CASES_DIR AGENTCTL_JSON DETECT_SECRETS_JSON
        prints one Markdown table row per tool
"""
import json
import re
import sys
from pathlib import Path


def cases(path):
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith("=== "):
            out.append([line[4:], []])
        elif out:
            out[-1][1].append(line.replace("\u00b7", ""))
    return out


def materialize(corpus, dest):
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    labels = {}
    for prefix, name in (("p", "positives.txt"), ("n", "negatives.txt")):
        for i, (label, lines) in enumerate(cases(Path(corpus) / name), 1):
            f = f"{prefix}{i:04}.txt"
            (dest / f).write_text("\n".join(lines) + "\n", encoding="utf-8")
            labels[f] = label
    (dest.parent / "labels.json").write_text(json.dumps(labels, indent=1))


def row(tool, labels, flagged, kinds=None):
    pos = [f for f in labels if f.startswith("p")]
    neg = [f for f in labels if f.startswith("n")]
    tp = sum(1 for f in pos if f in flagged)
    fp = sum(1 for f in neg if f in flagged)
    recall = tp / len(pos)
    precision = tp / (tp + fp) if tp + fp else 0.0
    kind = ""
    if kinds is not None:
        right = sum(1 for f in pos if labels[f] in kinds.get(f, set()))
        kind = f"{right}/{len(pos)}"
    return f"| {tool} | {tp}/{len(pos)} | {recall:.3f} | {fp}/{len(neg)} | {precision:.3f} | {kind or 'n/a'} |"


def score(cases_dir, agentctl_json, ds_json):
    labels = json.loads((Path(cases_dir).parent / "labels.json").read_text())
    flagged, kinds = set(), {}
    report = json.loads(Path(agentctl_json).read_text())
    for b in report.get("bundles", []):
        for f in b.get("findings", []):
            rule = f.get("rule", "")
            if not rule.startswith("secret-") or rule == "secret-allowed":
                continue
            name = Path(f["file"]).name
            flagged.add(name)
            m = re.search(r"\(([a-z0-9-]+)\):", f.get("message", ""))
            if m:
                kinds.setdefault(name, set()).add(m.group(1))
    ds = json.loads(Path(ds_json).read_text())
    ds_flagged = {Path(k).name for k, v in ds.get("results", {}).items() if v}
    print(row("agentctl", labels, flagged, kinds))
    print(row(f"detect-secrets {ds.get('version', '')}", labels, ds_flagged))


if __name__ == "__main__":
    if sys.argv[1] == "materialize":
        materialize(sys.argv[2], sys.argv[3])
    else:
        score(sys.argv[2], sys.argv[3], sys.argv[4])
