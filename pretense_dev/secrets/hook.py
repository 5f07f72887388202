"""Git hook entry point without the CLI: `python -m pretense_dev.secrets.hook MODE`.

MODE is ``staged [PATHS…]`` (pre-commit: scan the index blobs, refuse the
store and key files) or ``pre-push [REMOTE]`` (scan every pushed commit; git's
ref lines on stdin).  The plain git hooks that `init` installs call this
rather than `pretense-dev scan`: skipping click's import keeps a commit's
wait inside the 150 ms budget (bench/secrets_hook.py).  Output and exit codes
are those of `pretense-dev scan` (1: blocked; 2: usage or config error; 3: bug,
which blocks too: a hook fails closed).
"""

from __future__ import annotations

import os
import sys

from pretense_dev.errors import EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    """Run one hook mode; return the exit code (failures reported by `pretense_dev.bugs`)."""
    from pretense_dev.bugs import run_guarded

    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("staged", "pre-push"):
        sys.stderr.write("usage: python -m pretense_dev.secrets.hook staged|pre-push [...]\n")
        return EXIT_USAGE
    return run_guarded(lambda: _run(args))


def _run(args: list[str]) -> int:
    from pretense_dev.secrets.run import emit, run_scan

    if args[0] == "staged":
        outcome = run_scan(staged=True, paths=args[1:])
    else:
        if len(args) > 1:
            os.environ.setdefault("PRETENSE_PUSH_REMOTE", args[1])
        lines = [] if sys.stdin.isatty() else sys.stdin.read().splitlines()
        outcome = run_scan(pre_push=True, push_lines=lines)
    return emit(outcome)


if __name__ == "__main__":
    raise SystemExit(main())
