"""`pretense-dev scan` and `pretense-dev guard-store`: wiring only (scan.py, run.py).

Imports stay inside the command bodies: these run as git hooks on every
commit, and the hook budget (150 ms with Python start-up) has no room for
modules a command does not use.
"""

from __future__ import annotations

import sys

import click

from pretense_dev.errors import EXIT_FAILURE, EXIT_OK, UsageError


def _err(message: str) -> None:
    click.echo(message, err=True)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--staged", is_flag=True, help="Scan what is staged (git's index), not the work tree."
)
@click.option(
    "--rev", "rev", metavar="RANGE", help="Scan every commit of a range, e.g. main..HEAD."
)
@click.option(
    "--pre-push",
    is_flag=True,
    help="Scan the commits being pushed (pre-commit's variables, or git's hook input).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text",
    help="Output format (stdout).",
)  # fmt: skip
@click.option("--update-baseline", is_flag=True, help="Accept every current finding.")
@click.option("--no-baseline", is_flag=True, help="Report findings the baseline accepts, too.")
@click.option("--list-rules", is_flag=True, help="List the rule ids and exit.")
@click.option(
    "--accept-skipped",
    is_flag=True,
    help="Exit 0 even if some files could not be read (they are still listed).",
)
def scan(
    paths: tuple[str, ...],
    staged: bool,
    rev: str | None,
    pre_push: bool,
    fmt: str,
    update_baseline: bool,
    no_baseline: bool,
    list_rules: bool,
    accept_skipped: bool,
) -> int:
    """Find secrets in files, staged changes, commits or stdin (`-`); exit 1 if any is found.

    A path in another repository is scanned with that repository's policy.
    Exit 2 when a file could not be read (too large, unreadable, not a regular
    file), unless --accept-skipped.
    """
    if list_rules:
        from pretense_dev.secrets.rules import default_rules

        for r in default_rules():
            click.echo(f"{r.id:40} {r.family:12} {r.description}")
        return EXIT_OK
    if sum((staged, rev is not None, pre_push)) > 1:
        raise UsageError("--staged, --rev and --pre-push cannot be combined")
    if (rev is not None or pre_push) and paths:
        raise UsageError("PATHS cannot be combined with --rev or --pre-push")
    if "-" in paths and (staged or update_baseline):
        raise UsageError(
            "`-` (standard input) cannot be combined with --staged or --update-baseline"
        )
    if update_baseline and (staged or rev is not None or pre_push):
        raise UsageError("--update-baseline scans the work tree; drop --staged/--rev/--pre-push")
    from pretense_dev.secrets.run import emit, run_scan, write_baseline

    stdin_lines = sys.stdin.read().splitlines() if pre_push and not sys.stdin.isatty() else []
    from pretense_dev.progress import progress

    # Only a work-tree scan reports progress: the commit hooks' scans stay lean.
    tree = not (staged or rev is not None or pre_push or "-" in paths)
    with progress("scanning", enabled=tree) as report_progress:
        outcome = run_scan(
            paths=paths,
            staged=staged,
            rev=rev,
            pre_push=pre_push,
            use_baseline=not (no_baseline or update_baseline),
            push_lines=stdin_lines,
            progress=report_progress,
        )
    if update_baseline:
        if outcome.result.skipped and not accept_skipped:
            return emit(outcome, fmt, accept_skipped=False)
        where, n = write_baseline(outcome)
        _err(f"pretense-dev: accepted {n} finding(s) in {where}")
        return EXIT_OK
    version = "0"
    if fmt == "sarif":
        from importlib.metadata import version as dist_version

        version = dist_version("pretense-dev")
    return emit(outcome, fmt, version, accept_skipped=accept_skipped)


@click.command(name="guard-store")
@click.argument("paths", nargs=-1, type=click.Path())
def guard_store(paths: tuple[str, ...]) -> int:
    """Refuse to commit the .pretense/ store or a key file (a pre-commit hook)."""
    from pretense_dev.secrets.run import STORE_HINT, forbidden_staged

    bad = forbidden_staged(paths)
    for path, why in bad:
        _err(f"pretense-dev: refusing to commit {path}: {why}")
    if bad:
        _err(f"pretense-dev: {STORE_HINT}")
        return EXIT_FAILURE
    return EXIT_OK
