"""Figure: `pretense-dev verify` alone, proxy up, all tools configured.

Whole process beside `python -c pass`, then `verify.run` in process (what a
hook pays inside its own process), on a medium repository.

    .venv/bin/python -m bench.verify [--runs 25]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from bench._common import isolated_user
from bench._tools import compile_package, console_script, medium_repo, running_proxy, wall_times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=25)
    args = ap.parse_args()
    from pretense_dev.integrations.verify import run
    from pretense_dev.lifecycle import init_repo
    from pretense_dev.repo import Repo

    compile_package()
    with isolated_user() as base, running_proxy() as url:
        repo = base / "repo"
        files, size = medium_repo(repo)
        init_repo(repo, tools=("claude-code", "cursor", "copilot"))
        exe = console_script()
        cmds = {
            "python -c pass (baseline)": ([sys.executable, "-c", "pass"], b"", repo),
            "pretense-dev verify": ([exe, "verify"], b"", repo),
            "pretense-dev verify --json": ([exe, "verify", "--json"], b"", repo),
        }
        wall_times(cmds, 1)
        medians = wall_times(cmds, args.runs)
        times = []
        for _ in range(args.runs * 4):
            t = time.perf_counter()
            result = run(Repo(repo))
            times.append((time.perf_counter() - t) * 1000)
            assert result.ok, [c.line() for c in result.failures]
        with Repo(repo).open_store() as store:
            names = store.active_count()

    print(f"repo: {files} files, {size / 1e6:.1f} MB, {names} names; proxy {url}")
    print(f"median of {args.runs} runs, whole process:")
    for name, (wall, cpu) in medians.items():
        print(f"  {name:<40}{wall:>8.1f} ms wall {cpu:>8.1f} ms CPU")
    print(f"  {'verify.run in process (no thorough)':<40}{statistics.median(times):>8.2f} ms")


if __name__ == "__main__":
    main()
