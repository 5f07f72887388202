"""The prompt gate and the file-read gate: one hook call, as a whole process, proxy daemon up.

The tools start `pretense-dev hook …` afresh for every prompt and every agent
file read, so the figure is the wall time of the console script, beside the
interpreter's own start-up in the same run (`python -c pass`, and `python -S -c
pass` without site-packages' start-up hooks), which no hook can beat.  The hook
is a thin client of the proxy daemon (integrations/toolhook/client.py); the
"in-process" rows are the same calls decided in the hook's own process
(`toolhook.run`), the path taken before the daemon answered and still taken
when no daemon runs.  Goal: ≤ 45 ms whole process.

    .venv/bin/python -m bench.hooks [--runs 25]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

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
        in_process = [
            sys.executable,
            "-c",
            "import sys\n"
            "from pretense_dev.integrations.toolhook.run import main\n"
            "raise SystemExit(main(sys.argv[1:]))\n",
        ]
        calls = {
            "prompt gate (claude-code UserPromptSubmit)": (
                ["claude-code", "UserPromptSubmit"],
                claude_prompt,
            ),
            "file-read gate (claude-code PreToolUse Read)": (
                ["claude-code", "PreToolUse"],
                claude_read,
            ),
            "Cursor prompt (beforeSubmitPrompt)": (["cursor", "beforeSubmitPrompt"], cursor_prompt),
        }
        cmds: dict[str, tuple[list[str], bytes, Path]] = {
            FLOOR: ([sys.executable, "-c", "pass"], b"", repo),
            "python -S -c pass": ([sys.executable, "-S", "-c", "pass"], b"", repo),
        }
        for name, (argv, stdin) in calls.items():
            cmds[f"{name}, daemon"] = ([exe, "hook", *argv], stdin, repo)
            cmds[f"{name}, in-process"] = ([*in_process, *argv], stdin, repo)
        # The same answers both ways (a bench of a wrong answer would measure nothing).
        for name, (argv, stdin) in calls.items():
            one = subprocess.run([exe, "hook", *argv], input=stdin, capture_output=True, cwd=repo)
            two = subprocess.run([*in_process, *argv], input=stdin, capture_output=True, cwd=repo)
            assert (one.returncode, one.stdout, one.stderr) == (
                two.returncode,
                two.stdout,
                two.stderr,
            ), name
        # One warm-up each (page cache, .pyc files).
        wall_times(cmds, 1)
        medians = wall_times(cmds, args.runs)
        # The daemon's own CPU per call (its share is not in the hook's CPU column).
        from pretense_dev.proxy import state

        st = state.running()
        assert st is not None
        daemon_cpu: dict[str, float] = {}
        for name, (argv, stdin) in calls.items():
            before = _cpu_ms(st.pid)
            for _ in range(args.runs):
                subprocess.run([exe, "hook", *argv], input=stdin, capture_output=True, cwd=repo)
            daemon_cpu[f"{name}, daemon"] = (_cpu_ms(st.pid) - before) / args.runs

    floor = medians[FLOOR][0]
    print(
        f"repo: {files} files, {size / 1e6:.1f} MB; proxy {url}; median of {args.runs} runs, "
        "interleaved"
    )
    print(
        f"{'whole process':<58}{'wall ms':>9}{'- floor':>9}{'÷ floor':>9}"
        f"{'hook CPU':>10}{'+daemon':>9}"
    )
    for name, (wall, cpu) in medians.items():
        extra = f"{daemon_cpu[name]:>9.1f}" if name in daemon_cpu else ""
        print(f"{name:<58}{wall:>9.1f}{wall - floor:>+9.1f}{wall / floor:>9.2f}{cpu:>10.1f}{extra}")
    print(
        "  floor: python -c pass; hook CPU: the hook process's user+system time (median); "
        "+daemon: the proxy daemon's CPU per call (mean)\n"
        "  goal: prompt and file-read gates ≤ 45 ms whole process"
    )


def _cpu_ms(pid: int) -> float:
    """User + system CPU of process `pid` so far, in ms (Linux /proc; 0 elsewhere)."""
    import os

    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


FLOOR = "python -c pass (floor)"


if __name__ == "__main__":
    main()
