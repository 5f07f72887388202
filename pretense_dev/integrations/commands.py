"""Commands of the integrations part: hook, verify, copilot, codex, env, hooks (wiring only)."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING

import click

from pretense_dev.errors import EXIT_FAILURE, EXIT_OK, UsageError

if TYPE_CHECKING:
    from pretense_dev.integrations.base import Context
    from pretense_dev.repo import Repo


@click.command(
    context_settings={"ignore_unknown_options": True, "help_option_names": ["-h", "--help"]}
)
@click.argument("tool")
@click.argument("event")
def hook(tool: str, event: str) -> int:
    """Answer one hook call of TOOL (claude-code, cursor, copilot) for EVENT, JSON on stdin.

    The tools' settings call this; `pretense-dev init` writes them.  (The console
    script runs the same function without click, for speed: see `pretense_dev.entry`.)
    """
    from pretense_dev.bugs import run_guarded
    from pretense_dev.integrations.toolhook.client import main

    # As in `pretense_dev.entry`: a failure exits 2, the code every tool reads as "refuse".
    return run_guarded(lambda: main([tool, event]), block_code=2)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def verify(as_json: bool) -> int:
    """Check that this repository is protected now: proxy, canary, tools (exit 0 or 1)."""
    from pretense_dev.integrations.verify import run
    from pretense_dev.repo import Repo

    repo = Repo.discover()
    result = run(repo, thorough=True)
    _record_verify(repo, result)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        for c in result.failures:
            click.echo(f"FAIL {c.line()}", err=True)
        for c in result.warnings:
            click.echo(f"warn {c.line()}", err=True)
        if result.ok:
            tools = ", ".join(
                c.name for c in result.checks if c.ok and c.name not in ("initialised",)
            )
            click.echo(
                f"ok: {repo.root} is protected (proxy {result.proxy_url}, map version "
                f"{result.map_version}; checked {tools})"
            )
    return EXIT_OK if result.ok else EXIT_FAILURE


def _record_verify(repo: object, result: object) -> None:
    """A VERIFY audit event; a log that cannot be written is said, not fatal."""
    from pretense_dev.audit import events as ev
    from pretense_dev.audit.store import record
    from pretense_dev.errors import PretenseError
    from pretense_dev.integrations.verify import VerifyResult

    assert isinstance(result, VerifyResult)
    if any(c.name == "audit" for c in result.failures):
        return  # the failed audit check already said the log cannot be used, and how to fix it
    first = result.failures[0].line() if result.failures else "ok"
    try:
        record(
            ev.AuditEvent(
                event=ev.VERIFY,
                repo_id=result.repo_id,
                repo_path=result.root,
                decision=ev.ALLOWED if result.ok else ev.BLOCKED,
                reason=first,
            )
        )
    except (PretenseError, OSError, ValueError) as e:
        click.echo(f"pretense-dev: the audit log could not be written ({e})", err=True)


def _verified_cli(
    tools: tuple[str, ...], name: str, what: str, install: str
) -> tuple[Repo, str, str] | None:
    """Verify this repository (and `tools`), then find the CLI `name` on PATH.

    The wrappers run a tool only once `verify` passes: None (failures said on
    stderr) when it does not; else the repository, the proxy URL and the CLI's path.
    """
    import shutil

    from pretense_dev.integrations.verify import run
    from pretense_dev.repo import Repo

    repo = Repo.discover()
    result = run(repo, tools=tools)
    if not result.ok:
        for c in result.failures:
            click.echo(f"pretense-dev: {c.line()}", err=True)
        return None
    exe = shutil.which(name)
    if exe is None:
        raise UsageError(f"{what} (`{name}`) is not on PATH", install)
    return repo, result.proxy_url, exe


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def copilot(args: tuple[str, ...]) -> int:  # returns only on failure
    """Run the Copilot CLI through the proxy (after `verify` passes): pretense-dev copilot ARGS."""
    found = _verified_cli((), "copilot", "the Copilot CLI", "npm install -g @github/copilot")
    if found is None:
        return EXIT_FAILURE
    repo, proxy_url, exe = found
    env = {**os.environ, **_copilot_env(repo, proxy_url)}
    sys.stdout.flush()
    os.execve(exe, [exe, *args], env)  # replaces this process: the CLI's exit code is the user's


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def codex(args: tuple[str, ...]) -> int:  # returns only on failure
    """Run the Codex CLI through the proxy (after `verify` passes): pretense-dev codex ARGS."""
    from pretense_dev.integrations import codex as codex_tool

    found = _verified_cli(("codex",), "codex", "the Codex CLI", "npm install -g @openai/codex")
    if found is None:
        return EXIT_FAILURE
    repo, proxy_url, exe = found
    ctx = _context(repo, proxy_url)
    sys.stdout.flush()
    os.execv(exe, [exe, *codex_tool.cli_arguments(ctx), *args])


ENV_TOOLS = ("copilot", "aider", "gemini-cli", "llm")


@click.command()
@click.argument("tool", type=click.Choice(ENV_TOOLS))
def env(tool: str) -> int:
    """Print `export` lines routing TOOL through the proxy: eval "$(pretense-dev env TOOL)"."""
    import importlib
    import shlex

    from pretense_dev.repo import Repo

    repo = Repo.discover().require_initialised()
    module = importlib.import_module(f"pretense_dev.integrations.{tool.replace('-', '_')}")
    for k, v in module.cli_environment(_context(repo, "")).items():
        click.echo(f"export {k}={shlex.quote(v)}")
    return EXIT_OK


def _context(repo: object, proxy_url: str) -> Context:
    from pretense_dev.integrations import setup
    from pretense_dev.repo import Repo

    assert isinstance(repo, Repo)
    ctx = setup.context_for(repo.root, repo.repo_id, repo.config.tools.copilot_models)
    if proxy_url:
        from dataclasses import replace

        ctx = replace(ctx, proxy_url=proxy_url)
    return ctx


def _copilot_env(repo: object, proxy_url: str) -> dict[str, str]:
    from pretense_dev.integrations.copilot import cli_environment

    return cli_environment(_context(repo, proxy_url))


@click.group()
def hooks() -> None:
    """Secret-scanning git hooks (commit, push): via pre-commit if the repo uses it, else plain."""


@hooks.command(name="install")
def hooks_install() -> int:
    """Install (or repair) the hooks; `init` does this too."""
    from pretense_dev.integrations import git_hooks
    from pretense_dev.paths import find_repo_root

    p = git_hooks.apply(find_repo_root())
    for step in p.steps:
        click.echo(f"  {step}")
    if not p.steps:
        click.echo("  secret-scanning hooks already installed")
    for note in p.notes:
        click.echo(f"pretense-dev: {note}", err=True)
    return EXIT_OK


@hooks.command(name="check")
def hooks_check() -> int:
    """Exit 1 unless a staged secret is refused at commit and at push (tried with a canary)."""
    from pretense_dev.integrations import git_hooks
    from pretense_dev.paths import find_repo_root

    problems = git_hooks.check(find_repo_root())
    for p in problems:
        fix = "" if "— run `" in p else " — run `pretense-dev hooks install`"
        click.echo(f"pretense-dev: {p}{fix}", err=True)
    if not problems:
        click.echo("ok: a canary secret was refused at commit and at push")
    return EXIT_FAILURE if problems else EXIT_OK


@hooks.command(name="remove")
def hooks_remove() -> int:
    """Remove our hooks and put back the ones they chained to."""
    from pretense_dev.integrations import git_hooks
    from pretense_dev.paths import find_repo_root

    for line in git_hooks.remove(find_repo_root()) or ["nothing to remove"]:
        click.echo(f"  {line}")
    return EXIT_OK
