"""The console script: `pretense-dev hook …` without click, everything else through `cli`.

Tool hooks run before every prompt and every agent file read, and the whole
process is what the user waits for (≤ 45 ms).  Importing click costs about
20 ms here (`python -X importtime -c "import click"`, and bench/hooks.py), for
argument parsing that `hook <tool> <event>` does not need.  So the console
script starts here and hands `hook` straight to the thin client of the proxy
daemon (`pretense_dev.integrations.toolhook.client`); every other command goes
to `cli.main` unchanged.  `lsp` as editors start it (no other option) goes
past click too: an editor waits for the server's first diagnostics, and click
is a fifth of the start-up loop's own imports (`pretense_dev.lsp.startup`).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run `pretense-dev` with `argv` (default `sys.argv`); return the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["hook"] and not {"-h", "--help"} & set(args):
        from pretense_dev.bugs import run_guarded
        from pretense_dev.integrations.toolhook.client import main as tool_hook_main

        # Every tool reads exit 2 as "refuse": a failure outside the gate's own
        # fail-closed answer (bad input, a bug) must block too.
        return run_guarded(lambda: tool_hook_main(args[1:]), block_code=2)
    if args in (["lsp"], ["lsp", "--stdio"]):
        from pretense_dev.bugs import run_guarded
        from pretense_dev.lsp.startup import run_stdio

        return run_guarded(run_stdio)
    from pretense_dev.cli import main as cli_main

    return cli_main(args)
