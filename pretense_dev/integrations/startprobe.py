"""Does each installed tool-hook command start?  Run it once and see.

A tool runs the command written in its settings with its own environment: from
a GUI or a shell without the virtualenv, a bare `pretense-dev` may not be
found, and a tool that does not fail closed on a hook that cannot start then
lets the action through.  Reading the settings cannot tell; running the command
can.  Each distinct command of ours is run once through the shell, as the tools
run it, with a probe payload that `toolhook.run` answers before deciding
anything (no audit event, no verify): it must exit 0 and print the probe's
answer.  `doctor` and `verify` call this.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from pretense_dev.integrations.base import is_our_command

PROBE_KEY = "pretense_start_probe"
ANSWER = '{"pretense_dev": "started"}'
# Where each tool's committed hook file is, and the keys holding a command.
FILES = {
    "claude-code": ".claude/settings.json",
    "cursor": ".cursor/hooks.json",
    "copilot": ".github/hooks/pretense-dev.json",
}
COMMAND_KEYS = ("command", "bash")


def installed_commands(root: Path, tools: tuple[str, ...]) -> list[tuple[str, str]]:
    """(tool, command) for every command of ours in the tools' hook files, once each."""
    from pretense_dev.integrations.jsonedit import JsonEditError, parse

    out: list[tuple[str, str]] = []
    for tool in tools:
        rel = FILES.get(tool)
        if rel is None:
            continue
        try:
            data = parse((root / rel).read_text(encoding="utf-8"), strict=False).to_python()
        except (OSError, UnicodeDecodeError, JsonEditError):
            continue  # missing or unreadable: the drift check says so
        found: list[str] = []
        _collect(data, found)
        for command in found:
            if (tool, command) not in out:
                out.append((tool, command))
    return out


def _collect(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if k in COMMAND_KEYS and is_our_command(v):
                out.append(v)
            else:
                _collect(v, out)
    elif isinstance(value, list):
        for item in value:
            _collect(item, out)


def run_once(root: Path, command: str, timeout: float = 30.0) -> str | None:
    """None if `command` starts our tool hook; else why not, in a few words."""
    payload = json.dumps({PROBE_KEY: True, "cwd": str(root)})
    try:
        p = subprocess.run(
            ["/bin/sh", "-c", command],
            cwd=root,
            input=payload,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(os.environ),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"did not answer within {timeout:.0f} s"
    except OSError as e:
        return f"could not be run ({e.strerror})"
    if p.returncode == 0 and p.stdout.strip() == ANSWER:
        return None
    if p.returncode in (126, 127):
        return "does not start (command not found)"
    last = (p.stderr.strip().splitlines() or ["no output"])[-1][:160]
    return f"exited {p.returncode} ({last})"


def problems(root: Path, tools: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(tool, "`command`[ and N more]", why) for installed commands that do not start.

    Commands of one tool that fail the same way are one line (the first named,
    with how many), so a missing `pretense-dev` is one line per tool, not five.
    """
    grouped: dict[tuple[str, str], list[str]] = {}
    for tool, command in installed_commands(root, tools):
        why = run_once(root, command)
        if why is not None:
            grouped.setdefault((tool, why), []).append(command)
    out = []
    for (tool, why), commands in grouped.items():
        more = f" and {len(commands) - 1} more" if len(commands) > 1 else ""
        out.append((tool, f"`{commands[0]}`{more}", why))
    return out
