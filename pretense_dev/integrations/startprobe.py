"""Does each installed tool-hook command start where the tool runs it?  Run it and see.

A tool runs the command written in its settings with its own environment: from
a GUI or a shell without the virtualenv, a bare `pretense-dev` is not found,
and a tool that does not fail closed on a hook that cannot start then lets the
action through.  Reading the settings cannot tell; running the command can, if
it is run the way the tool runs it: through the shell, from a working
directory that is not the repository (for the tools whose hooks do not set
one), with the project-directory variable the tool sets, and with a minimal
PATH and environment that do not hold the virtualenv.  Each distinct command of
ours is run once that way with a probe payload that `toolhook.run` answers
before deciding anything (no audit event, no verify): it must exit 0 and print
the probe's answer.  `doctor` and `verify` call this.
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


# What a tool launched from a desktop session has: no virtualenv, no PYTHON* or
# VIRTUAL_ENV, the system's default PATH.  The user's own dirs stay (HOME, XDG_*):
# the hook reads its key and registry from there.
_KEPT = ("HOME", "USER", "LOGNAME", "LANG", "TMPDIR", "SYSTEMROOT", "WINDIR", "COMSPEC")
_KEPT_PREFIXES = ("LC_", "XDG_")


def tool_environment(tool: str, root: Path) -> dict[str, str]:
    """The environment `tool` gives a hook: minimal PATH, its project-directory variable."""
    env = {k: v for k, v in os.environ.items() if k in _KEPT or k.startswith(_KEPT_PREFIXES)}
    env["PATH"] = os.defpath
    if tool == "claude-code":
        env["CLAUDE_PROJECT_DIR"] = str(root)
    elif tool == "cursor":
        env["CURSOR_PROJECT_DIR"] = str(root)
        env["CLAUDE_PROJECT_DIR"] = str(root)  # Cursor sets both (an alias)
    return env


def run_once(root: Path, command: str, timeout: float = 30.0, tool: str = "") -> str | None:
    """None if `command` starts our tool hook as `tool` would run it; else why not.

    Claude Code and Cursor hooks run from the session's directory, which need
    not be the repository, so the probe runs them from the system's temp dir;
    the Copilot hook file sets ``"cwd": "."`` (the repository).
    """
    import tempfile

    payload = json.dumps({PROBE_KEY: True, "cwd": str(root)})
    cwd = root if tool in ("", "copilot") else Path(tempfile.gettempdir())
    try:
        p = subprocess.run(
            ["/bin/sh", "-c", command],
            cwd=cwd,
            input=payload,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=tool_environment(tool, root),
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


def problems(root: Path, tools: tuple[str, ...]) -> list[str]:
    """One line (without the fix) per way the installed hook commands fail to start.

    A missing or stale launcher is one line for every tool; otherwise commands
    of one tool that fail the same way are one line (the first named, with how
    many), so a broken entry is one line per tool, not five.
    """
    from pretense_dev.integrations import launcher

    found = installed_commands(root, tools)
    users = [t for t, c in found if launcher.REL in c or "pretense-dev.cmd" in c]
    why = launcher.problem(root) if users else None
    if why is not None:
        names = ", ".join(dict.fromkeys(users))
        return [f"{names}: {why}, so no hook command of ours starts"]
    grouped: dict[tuple[str, str], list[str]] = {}
    for tool, command in found:
        failed = run_once(root, command, tool=tool)
        if failed is not None:
            grouped.setdefault((tool, failed), []).append(command)
    out = []
    for (tool, failed), commands in grouped.items():
        more = f" and {len(commands) - 1} more" if len(commands) > 1 else ""
        out.append(f"{tool}: the hook command `{short(commands[0])}`{more} {failed}")
    return out


def short(command: str) -> str:
    """A command as one line shows it: without the fail-closed tail every entry shares."""
    head, sep, _ = command.partition(" || ")
    return head if sep else command


# Every failure has the same cure: `init` writes the launcher for the interpreter it runs
# in and replaces entries older than the launcher (a bare `pretense-dev`).
FIX = "run `pretense-dev init` (it rewrites this clone's .pretense/bin/pretense-dev)"
