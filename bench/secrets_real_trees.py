"""Findings per MB on real repositories, ours beside gitleaks', every finding listed for review.

Usage:  python -m bench.secrets_real_trees GIT_DIR [GIT_DIR …] [--list]

Each git directory (a clone or a mirror, e.g. one brought by a fetch of
rails/rails or kubernetes/examples) is exported at HEAD, its text files copied
(`_secrets_common.text_copy`: both tools read the same bytes), and scanned by
our detector and by gitleaks 8.x (`gitleaks dir`, default config).  Whether a
finding is a false positive takes a reader: `--list` prints each finding's
rule, path and line (never the value: our side prints the redacted form) so a
reviewer can classify them; the README records the reviewed counts.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench._secrets_common import (
    git_archive,
    gitleaks_binary,
    gitleaks_dir,
    gitleaks_version,
    text_copy,
)
from pretense_dev.secrets import Detector

KEY = bytes(range(32))


def ours(root: Path) -> list[dict[str, Any]]:
    """Our findings in every file under `root` (rule, path, line, redacted)."""
    d = Detector(KEY)
    out: list[dict[str, Any]] = []
    for dirpath, _dirs, names in os.walk(root):
        for n in sorted(names):
            p = Path(dirpath) / n
            rel = str(p.relative_to(root))
            for f in d.scan_bytes(p.read_bytes(), rel):
                out.append({"rule": f.rule, "path": rel, "line": f.line, "shown": f.redacted})
    return out


def theirs(root: Path, binary: str) -> list[dict[str, Any]]:
    """Gitleaks' findings under `root` (rule, path, line; its report's secret is dropped)."""
    with tempfile.TemporaryDirectory() as tmp:
        rows = gitleaks_dir(binary, root, Path(tmp) / "r.json")
    return [
        {
            "rule": r["RuleID"],
            "path": str(Path(r["File"]).relative_to(root)),
            "line": r["StartLine"],
        }
        for r in rows
    ]


def measure(git_dirs: list[Path]) -> dict[str, Any]:
    """Both tools on the text of each tree's HEAD."""
    binary = gitleaks_binary()
    trees: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for g in git_dirs:
            name = g.parent.name if g.name in ("repo", ".git") else g.name
            raw, text = Path(tmp) / f"{name}-raw", Path(tmp) / name
            git_archive(g, raw)
            files, size = text_copy(raw, text)
            tree: dict[str, Any] = {"name": name, "files": files, "bytes": size, "ours": ours(text)}
            if binary:
                tree["gitleaks"] = theirs(text, binary)
            trees.append(tree)
    return {"trees": trees, "gitleaks_version": gitleaks_version(binary) if binary else None}


def main(argv: list[str] | None = None) -> int:
    """Print findings per MB for both tools, per tree and in all."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("git_dirs", nargs="+", type=Path)
    ap.add_argument("--list", action="store_true", help="every finding, for review")
    a = ap.parse_args(argv)
    m = measure(a.git_dirs)
    total = sum(t["bytes"] for t in m["trees"]) / 1e6
    for t in m["trees"]:
        mb = t["bytes"] / 1e6
        line = (
            f"{t['name']:<22} {mb:7.1f} MB  ours {len(t['ours']):4d} ({len(t['ours']) / mb:.2f}/MB)"
        )
        if "gitleaks" in t:
            line += f"  gitleaks {len(t['gitleaks']):4d} ({len(t['gitleaks']) / mb:.2f}/MB)"
        print(line)
        if a.list:
            for tool in ("ours", "gitleaks"):
                for f in t.get(tool, []):
                    print(f"    {tool:<8} {f['rule']:<28} {f['path']}:{f['line']}")
    n_ours = sum(len(t["ours"]) for t in m["trees"])
    n_gl = sum(len(t.get("gitleaks", [])) for t in m["trees"])
    print(
        f"{'all':<22} {total:7.1f} MB  ours {n_ours:4d} ({n_ours / total:.2f}/MB)  "
        f"gitleaks {m['gitleaks_version'] or '-'} {n_gl:4d} ({n_gl / total:.2f}/MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
