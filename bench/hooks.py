"""Issue 6 figure: one hook call, as a whole process, with verify included and the proxy up.

The tools start `pretense-dev hook …` afresh for every prompt, so the figure
is the wall time of the console script, beside `python -c pass` in the same
run (the interpreter's own start-up, which no hook can beat).  Goal: ≤ 80 ms
median for the prompt gate.  Also shown: a file-read gate (no verify), and the
parts of the prompt gate measured in-process.

    .venv/bin/python -m bench.hooks [--runs 25]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from bench._common import isolated_user
from bench._tools import compile_package, console_script, medium_repo, running_proxy, wall_times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=25)
    args = ap.parse_args()
    from pretense_dev.lifecycle import init_repo

    compile_package()
    with isolated_user() as base, running_proxy() as url:
        repo = base / "repo"
        files, size = medium_repo(repo)
        init_repo(repo, tools=("claude-code", "cursor", "copilot"))
        prompt = "Please add a retry with backoff to the request handler and a test for it. " * 4
        claude_prompt = json.dumps(
            {
                "session_id": "s",
                "cwd": str(repo),
                "prompt": prompt,
                "hook_event_name": "UserPromptSubmit",
            }
        ).encode()
        claude_read = json.dumps(
            {
                "session_id": "s",
                "cwd": str(repo),
                "hook_event_name": "PreToolUse",
                "tool_name": "Read",
                "tool_input": {"file_path": str(repo / "json" / "decoder.py")},
            }
        ).encode()
        cursor_prompt = json.dumps(
            {
                "conversation_id": "c",
                "hook_event_name": "beforeSubmitPrompt",
                "workspace_roots": [str(repo)],
                "prompt": prompt,
                "cursor_version": "2.0.77",
            }
        ).encode()
        exe = console_script()
        cmds = {
            "python -c pass (baseline)": ([sys.executable, "-c", "pass"], b"", repo),
            "python -c 'import pretense_dev.secrets'": (
                [sys.executable, "-c", "import pretense_dev.secrets"],
                b"",
                repo,
            ),
            "claude-code UserPromptSubmit (verify + scan)": (
                [exe, "hook", "claude-code", "UserPromptSubmit"],
                claude_prompt,
                repo,
            ),
            "claude-code PreToolUse Read (index lookup)": (
                [exe, "hook", "claude-code", "PreToolUse"],
                claude_read,
                repo,
            ),
            "cursor beforeSubmitPrompt (scan, no proxy)": (
                [exe, "hook", "cursor", "beforeSubmitPrompt"],
                cursor_prompt,
                repo,
            ),
        }
        # One warm-up each (page cache, .pyc files).
        wall_times(cmds, 1)
        medians = wall_times(cmds, args.runs)
        parts = _parts(repo, prompt, args.runs)

    print(f"repo: {files} files, {size / 1e6:.1f} MB; proxy {url}; median of {args.runs} runs")
    print(f"{'whole process':<50}{'wall ms':>10}{'CPU ms':>10}")
    for name, (wall, cpu) in medians.items():
        print(f"{name:<50}{wall:>10.1f}{cpu:>10.1f}")
    print("  goal: prompt gate ≤ 80 ms")
    print(f"{'in-process parts of the prompt gate':<50}{'ms':>10}")
    for name, ms in parts.items():
        print(f"{name:<50}{ms:>10.2f}")


def _parts(repo: object, prompt: str, runs: int) -> dict[str, float]:
    """Where the prompt gate's time goes."""
    from pathlib import Path

    from pretense_dev.integrations.verify import run
    from pretense_dev.repo import Repo

    assert isinstance(repo, Path)
    out: dict[str, float] = {}
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        run(Repo(repo), tools=("claude-code",))
        times.append((time.perf_counter() - t) * 1000)
    out["verify.run in a warm process (proxy, canary, drift)"] = statistics.median(times)
    build = "from pretense_dev.secrets import Detector; Detector(bytes(32)).scan_text('x')"
    fresh = wall_times(
        {
            "base": ([sys.executable, "-c", "pass"], b"", repo),
            "det": ([sys.executable, "-c", build], b"", repo),
        },
        runs,
    )
    out["secret detector: import + build + scan (fresh process)"] = (
        fresh["det"][0] - fresh["base"][0]
    )
    return out


if __name__ == "__main__":
    main()
