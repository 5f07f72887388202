"""Figure: `pretense-dev init` on a medium repository with every tool configured.

Whole processes, in the same run: `init --no-tools` (the index, key and
registry: the baseline) against `init --tools` with every tool `init` knows
(`integrations.base.TOOLS`, so a tool added there is timed here), each on a
fresh `.pretense/`; then the tools step alone, in process, on an
initialised repository (first time, and again when nothing changes).

    .venv/bin/python -m bench.init_tools [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench._common import isolated_user
from bench._tools import medium_repo


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    from pretense_dev.integrations import setup
    from pretense_dev.integrations.base import TOOLS
    from pretense_dev.lifecycle import uninstall_repo
    from pretense_dev.repo import Repo

    with isolated_user() as base:
        (Path(os.environ["XDG_CONFIG_HOME"]) / "Code" / "User").mkdir(parents=True)
        repo = base / "repo"
        files, size = medium_repo(repo)
        cli = [sys.executable, "-m", "pretense_dev", "init"]
        variants = {
            "init --no-tools (baseline)": [*cli, "--no-tools"],
            f"init --tools {','.join(TOOLS)}": [*cli, "--tools", ",".join(TOOLS)],
        }
        times: dict[str, list[float]] = {k: [] for k in variants}
        for _ in range(args.runs):
            for name, argv in variants.items():
                uninstall_repo(repo, purge=True)
                shutil.rmtree(repo / ".pretense", ignore_errors=True)
                t = time.perf_counter()
                subprocess.run(argv, cwd=repo, check=True, capture_output=True)
                times[name].append(time.perf_counter() - t)
        r = Repo(repo)
        ctx = setup.context_for(repo, r.repo_id, r.config.tools.copilot_models)
        first, again = [], []
        for _ in range(args.runs * 4):
            setup.unconfigure(ctx)
            t = time.perf_counter()
            setup.configure(ctx, TOOLS)
            first.append(time.perf_counter() - t)
            t = time.perf_counter()
            setup.configure(ctx, TOOLS)
            again.append(time.perf_counter() - t)

    print(f"repo: {files} files, {size / 1e6:.1f} MB; median of {args.runs} runs (whole process)")
    for name, v in times.items():
        print(f"{name:<70}{statistics.median(v):>8.2f} s")
    label = "tools step alone, first time (in process)"
    print(f"{label:<70}{statistics.median(first) * 1000:>8.1f} ms")
    print(f"{'tools step alone, nothing to change':<70}{statistics.median(again) * 1000:>8.1f} ms")


if __name__ == "__main__":
    main()
