"""`pretense-dev lsp` and `pretense-dev watch`: wiring only.

pygls and watchdog are imported inside the command bodies, so `cli.py` (and
the hooks that run through it on every prompt) never load them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from pretense_dev.errors import EXIT_OK, UsageError


@click.command()
@click.option(
    "--stdio", is_flag=True, help="Talk LSP over stdin/stdout (the default and only transport)."
)
@click.option(
    "--log-level",
    type=click.Choice(["error", "warning", "info", "debug"]),
    default="warning",
    show_default=True,
    help="What the server logs on stderr (never document text).",
)
def lsp(stdio: bool, log_level: str) -> int:
    """Run the language server: secret diagnostics, protected-name hovers, policy actions."""
    from pretense_dev.lsp.startup import run_stdio  # pygls loads on a thread meanwhile

    run_stdio(getattr(logging, log_level.upper()))
    return EXIT_OK


@click.command()
@click.option("--all", "all_repos", is_flag=True, help="Watch every registered repository.")
@click.option(
    "--quiet-ms",
    type=click.IntRange(0, 60_000),
    default=200,
    show_default=True,
    help="Index a batch once no file changed for this long.",
)
def watch(all_repos: bool, quiet_ms: int) -> int:
    """Keep the index current while files change (git checkout, code generation)."""
    from pretense_dev.index.watcher import run_foreground  # deferred: watchdog only here
    from pretense_dev.repo import Repo

    if all_repos:
        from pretense_dev import registry

        roots: list[Path] = []
        for entry in registry.load().values():
            if Repo(entry.path).is_initialised():
                roots.append(entry.path)
            else:
                click.echo(
                    f"pretense-dev: skipping {entry.path}: not initialised any more", err=True
                )
        if not roots:
            raise UsageError("no registered repository to watch", "run `pretense-dev init` in one")
    else:
        roots = [Repo.discover().require_initialised().root]
    return run_foreground(roots, quiet_ms / 1000, lambda line: click.echo(line, err=True))
