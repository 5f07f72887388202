"""Ctrl-C during `init`: how long until the process has exited, and what it leaves.

SIGINT goes to the `init` process group (as a terminal's Ctrl-C does) once
its index build is under way on a copy of the standard library.  Printed
beside it, in the same run: the floor (SIGINT to an idle Python process until
it exits) and the time a whole `init` takes, which is what an interrupt that
waited for the workers used to cost.  Each interrupted run must leave no
index at all (a first build is swapped in only when complete) and exit 130.

    .venv/bin/python -m bench.init_interrupt [--runs 5] [--before REF]

`--before REF` also interrupts the `init` of an earlier commit (exported with
`git archive` to a temp dir and put first on PYTHONPATH), same corpus, same
run: the figure the fix is measured against.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench._common import copy_stdlib, isolated_user

INIT = [sys.executable, "-m", "pretense_dev", "init", "--no-tools", "--no-hooks", "--jobs", "2"]


def _interrupt(
    cmd: list[str], cwd: Path, ready: Path | None, delay: float, env: dict[str, str] | None = None
) -> tuple[float, int]:
    p = subprocess.Popen(
        cmd,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    t_end = time.monotonic() + 60
    while ready is not None and not ready.exists() and time.monotonic() < t_end:
        time.sleep(0.01)
    time.sleep(delay)
    t0 = time.perf_counter()
    os.killpg(p.pid, signal.SIGINT)
    rc = p.wait()
    return time.perf_counter() - t0, rc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--before", default=None, help="a git ref to measure the same way")
    args = ap.parse_args()
    with isolated_user() as base:
        repo = base / "stdlib"
        size = copy_stdlib(repo)
        print(f"corpus: stdlib copy, {size / 1e6:.1f} MB; 2 workers; machine shared (noisy)")
        t0 = time.perf_counter()
        subprocess.run(INIT, cwd=repo, check=True, capture_output=True)
        whole = time.perf_counter() - t0
        floor = []
        for _ in range(args.runs):
            dt, _ = _interrupt(
                [sys.executable, "-c", "import time; time.sleep(60)"], repo, None, 0.3
            )
            floor.append(dt)
        stops, codes, left = [], [], []
        for _ in range(args.runs):
            shutil.rmtree(repo / ".pretense")
            building = repo / ".pretense" / "index.db.new"
            dt, rc = _interrupt(INIT, repo, building, 0.5)
            stops.append(dt)
            codes.append(rc)
            left.append((repo / ".pretense" / "index.db").exists() or building.exists())
        med, fl = statistics.median(stops), statistics.median(floor)
        print(f"init, whole run:               {whole:6.2f} s")
        print(f"floor, SIGINT to idle python:  {fl:6.3f} s (median of {args.runs})")
        print(
            f"SIGINT to init exited:         {med:6.3f} s (median of {args.runs}, "
            f"max {max(stops):.3f}; {med / fl:.1f}x the floor)"
        )
        print(f"exit codes: {codes}; an index left behind: {any(left)}")
        if args.before:
            old = base / "before"
            old.mkdir()
            tar = subprocess.run(
                ["git", "archive", args.before, "pretense_dev"], check=True, capture_output=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(old)], input=tar, check=True)
            env = dict(os.environ, PYTHONPATH=str(old))
            before, before_left = [], []
            for _ in range(args.runs):
                shutil.rmtree(repo / ".pretense")
                # That version builds in place: interrupt once its index file exists.
                dt, _ = _interrupt(INIT, repo, repo / ".pretense" / "index.db", 0.5, env)
                before.append(dt)
                before_left.append((repo / ".pretense" / "index.db").exists())
            print(
                f"{args.before}, SIGINT to init exited: {statistics.median(before):6.3f} s "
                f"(median of {args.runs}, max {max(before):.3f}); "
                f"an index left behind: {any(before_left)}"
            )


if __name__ == "__main__":
    main()
