"""The one bug reporter and the one top-level error handler of every entry point.

pretense-dev runs from several doors: the `pretense-dev` CLI (and the commands
that run through it: `lsp`, `watch`, `tui`, `demo`), the AI-tool hooks
(`pretense-dev hook …`, past click for speed, see `entry.py`), the git hooks
(`python -m pretense_dev.secrets.hook`) and the proxy daemon
(`python -m pretense_dev.proxy.server`).  Each wraps its body in `run_guarded`,
so whatever the door, a failure is shown the same way:

* an expected failure (`PretenseError`) is its one-line message and its exit
  code (1 refused or failed, 2 bad usage or config);
* ^C is "interrupted" and 130;
* a database found damaged mid-query names the repair commands, exit 1;
* the reader of our stdout leaving (`pretense-dev mutate big.py | head`) is
  exit 1 with nothing more said;
* anything else is a bug: `log_bug` appends the traceback to ``errors.log`` in
  the user log directory (0700), never the screen, and the screen gets one
  line naming the exception's type and the log, exit 3.

A caller that reads only one exit code as "refuse" (the AI tools read 2)
passes `block_code`: every failure then exits with it, so a bug in a hook
blocks rather than lets the request through.

Standard library only, and nothing imported until a failure happens: the hooks
import this on every prompt and every commit.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from pretense_dev.errors import (
    EXIT_BUG,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    PretenseError,
)

LOG_NAME = "errors.log"
DAMAGED_DB = (
    "a pretense-dev database is damaged ({e}) — run `pretense-dev doctor` to see which, "
    "then `pretense-dev index --full` (index) or `pretense-dev audit recover` (audit log)"
)


def log_bug(exc: BaseException) -> str:
    """Append the traceback to the error log; return its path (for the one-line message)."""
    import traceback

    try:
        from pretense_dev.paths import ensure_private_dir, user_log_dir

        log = ensure_private_dir(user_log_dir()) / LOG_NAME
        with open(log, "a", encoding="utf-8") as f:
            f.write("".join(traceback.format_exception(exc)))
            f.write("\n")
        return str(log)
    except Exception:  # the log itself failing must not hide the bug's exit code
        return "(the error log could not be written)"


def bug_line(exc: BaseException, where: str, prefix: str = "pretense-dev") -> str:
    """What a person sees for a bug: the exception's type and where its traceback is.

    The exception's text stays in the log: it can hold a path or a piece of a
    file, and the screen (or a tool's transcript) is not private.
    """
    return f"{prefix}: internal error ({type(exc).__name__}); details in {where}"


def report(exc: BaseException, prefix: str = "pretense-dev") -> int:
    """Say what went wrong on stderr, log a bug's traceback; return the exit code."""
    say = sys.stderr.write
    if isinstance(exc, PretenseError):
        for line in exc.lines():
            say(f"{prefix}: {line}\n")
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        say(f"{prefix}: interrupted\n")
        return EXIT_INTERRUPTED
    if isinstance(exc, BrokenPipeError):
        # Our reader left; not an error of ours.  Point stdout at devnull so the
        # interpreter's final flush does not raise again on the closed pipe.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    sqlite3 = sys.modules.get("sqlite3")  # loaded if and only if a database was used
    if (
        sqlite3 is not None
        and isinstance(exc, sqlite3.DatabaseError)
        and not isinstance(exc, sqlite3.OperationalError)
    ):
        # Damage found mid-query (a page that does not read), after the open succeeded.
        say(f"{prefix}: {DAMAGED_DB.format(e=exc)}\n")
        return EXIT_FAILURE
    say(bug_line(exc, log_bug(exc), prefix) + "\n")
    return EXIT_BUG


def run_guarded(
    body: Callable[[], int], *, prefix: str = "pretense-dev", block_code: int | None = None
) -> int:
    """Run an entry point's body; turn every failure into lines on stderr and an exit code.

    `block_code`, when given, replaces the exit code of every failure (the one
    code the caller reads as "refuse").
    """
    try:
        return body()
    except (Exception, KeyboardInterrupt) as e:
        code = report(e, prefix)
        return code if block_code is None else block_code
