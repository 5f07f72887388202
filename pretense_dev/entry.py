"""The console script: `pretense-dev hook …` without click, everything else through `cli`.

Hooks run before every prompt and every agent file read, and the whole process
is what the user waits for (issue 6: ≤ 80 ms).  Importing click costs about
20 ms here (`python -X importtime -c "import click"`, and bench/hooks.py), a
quarter of that budget, for argument parsing that `hook <tool> <event>` does not
need.  So the console script starts here and hands `hook` straight to
`pretense_dev.hooks`; every other command goes to `cli.main` unchanged.
"""

from __future__ import annotations

import sys


def main() -> int:
    """Run `pretense-dev` with `sys.argv`; return the exit code."""
    argv = sys.argv[1:]
    if argv[:1] == ["hook"] and not {"-h", "--help"} & set(argv):
        from pretense_dev.hooks import main as hook_main

        return hook_main(argv[1:])
    from pretense_dev.cli import main as cli_main

    return cli_main(argv)
