"""The hook launcher of a clone: `.pretense/bin/pretense-dev`, found by tools without PATH.

An AI tool runs the hook commands of its settings with its own environment: a
tool started from a GUI, or from a shell where the virtualenv is not active,
does not find a bare `pretense-dev`, and a tool that does not fail closed on a
hook that cannot start (Claude Code before 2.1.295 ignores ``onFailure``;
Copilot treats an exit other than 2 as a warning) then lets the prompt through.

The settings files holding the hooks are committed and shared by the team, so
they cannot name one developer's interpreter.  Instead every committed command
runs a launcher at a fixed place in the clone, through the project-directory
variable the tool sets (``$CLAUDE_PROJECT_DIR``, ``$CURSOR_PROJECT_DIR``; the
Copilot hook file runs with ``cwd`` at the repository root)::

    "${CLAUDE_PROJECT_DIR:-.}"/.pretense/bin/pretense-dev hook claude-code UserPromptSubmit \
        || { [ $? = 2 ] || echo '…' >&2; exit 2; }

The launcher is local (``.pretense/`` is git-ignored but for the team policy):
a two-line shell script that execs this clone's interpreter by absolute path.
`init` writes it, `doctor` rewrites it when it is missing or its interpreter
is gone, `verify` and `doctor` run each hook command the way the tool would
(another cwd, a PATH without the virtualenv), and `uninstall` deletes it.

Its absence fails closed in every tool and version: the command's ``||`` branch
turns "not found" (127), a crash (1) or any other failure into exit 2, which
Claude Code, Cursor, VS Code and the Copilot CLI's `preToolUse` all read as
"block", with one line naming the fix.  A refusal by the gate itself (exit 2)
passes through unchanged and adds no line.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
from pathlib import Path

from pretense_dev import paths

REL = ".pretense/bin/pretense-dev"  # POSIX; the committed commands name this path
REL_WINDOWS = ".pretense/bin/pretense-dev.cmd"
MARK = "# pretense-dev hook launcher"


def path(root: Path) -> Path:
    """Where this clone's launcher lives."""
    return root / (REL_WINDOWS if sys.platform == "win32" else REL)


def interpreter() -> str:
    """The interpreter running pretense-dev now, by absolute path (not resolved).

    A virtualenv's `bin/python` is a symlink to the base interpreter; resolving
    it would lose the virtualenv, so it is kept as it is.
    """
    exe = sys.executable or "python3"
    return exe if os.path.isabs(exe) else os.path.abspath(exe)


def text(python: str | None = None) -> str:
    """The launcher's exact text for `python` (default: this interpreter)."""
    exe = python or interpreter()
    code = "import sys; from pretense_dev.entry import main; sys.exit(main())"
    if sys.platform == "win32":
        return f'@echo off\r\nrem {MARK[2:]}\r\n"{exe}" -c "{code}" %*\r\n'
    return (
        "#!/bin/sh\n"
        f"{MARK}: written by `pretense-dev init` for this clone only (git-ignored).\n"
        f'exec {shlex.quote(exe)} -c {shlex.quote(code)} "$@"\n'
    )


def recorded_interpreter(root: Path) -> str | None:
    """The interpreter the launcher runs, or None if there is no launcher of ours."""
    try:
        body = path(root).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if MARK[2:] not in body:
        return None
    for line in body.splitlines():
        if line.startswith("exec "):
            parts = shlex.split(line)
            return parts[1] if len(parts) > 1 else None
        if line.startswith('"'):
            return line[1:].split('"', 1)[0]
    return None


def problem(root: Path) -> str | None:
    """Why the launcher cannot work here (one phrase), or None.

    Cheap (no process): `doctor` and `verify` then run the hook commands
    themselves, which proves the rest.
    """
    p = path(root)
    if not p.exists():
        return f"{REL} is missing"
    exe = recorded_interpreter(root)
    if exe is None:
        return f"{REL} is not pretense-dev's launcher"
    if not os.access(exe, os.X_OK):
        return f"{REL} runs {exe}, which no longer exists"
    if not os.access(p, os.X_OK):
        return f"{REL} is not executable"
    return None


def write(root: Path) -> bool:
    """Write the launcher for this interpreter; True if the file changed."""
    p = path(root)
    want = text()
    try:
        if p.read_text(encoding="utf-8") == want and os.access(p, os.X_OK):
            return False
    except (OSError, UnicodeDecodeError):
        pass
    p.parent.mkdir(parents=True, exist_ok=True)
    paths.atomic_write(p, want, mode=0o755)
    return True


def remove(root: Path) -> bool:
    """Delete the launcher (and its directory, if empty); True if it was there."""
    p = path(root)
    if not p.exists() or recorded_interpreter(root) is None:
        return False  # not ours: a file someone else put there stays
    p.unlink()
    with contextlib.suppress(OSError):  # not empty: something else lives there
        p.parent.rmdir()
    return True
