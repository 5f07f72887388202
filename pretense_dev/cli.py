"""The `pretense-dev` command: wiring only; each command's logic lives in its part.

Imports here are limited to click and our errors: hooks and `verify` run through
this module on every prompt, so each command imports what it needs when it runs
(tests/test_import_hygiene.py keeps tree-sitter, aiohttp and textual out).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from pretense_dev.errors import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    PretenseError,
    UsageError,
)


def err(message: str) -> None:
    """A line for people: always stderr, so stdout stays data (pipes and hooks read stdout)."""
    click.echo(message, err=True)


# Commands that live with their part, loaded only when invoked (or for --help):
# "name": "module:attribute".  A part adds its commands here with one line.
LAZY_COMMANDS: dict[str, str] = {
    "hook": "pretense_dev.integrations.commands:hook",
    "verify": "pretense_dev.integrations.commands:verify",
    "copilot": "pretense_dev.integrations.commands:copilot",
    "codex": "pretense_dev.integrations.commands:codex",
    "env": "pretense_dev.integrations.commands:env",
    "lsp": "pretense_dev.lsp.commands:lsp",
    "watch": "pretense_dev.lsp.commands:watch",
    "scan": "pretense_dev.secrets.commands:scan",
    "guard-store": "pretense_dev.secrets.commands:guard_store",
    "hooks": "pretense_dev.integrations.commands:hooks",
    "audit": "pretense_dev.audit.commands:audit",
    "proxy": "pretense_dev.proxy.commands:proxy",
}


class LazyGroup(click.Group):
    """A click group whose listed subcommands are imported on first use.

    Keeps `pretense-dev hook …` from importing the proxy, the TUI or the parser
    (a hook runs before every prompt; tests/test_import_hygiene.py), and lets
    each part own its command module.
    """

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Eager and lazy commands, for --help."""
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import a lazy command's module only now."""
        target = self.lazy.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, attr = target.split(":")
        cmd = getattr(importlib.import_module(module), attr)
        assert isinstance(cmd, click.Command), target
        return cmd


@click.group(
    cls=LazyGroup,
    lazy=LAZY_COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="pretense-dev", prog_name="pretense-dev")
def cli() -> None:
    """Keep this repository's identifiers and secrets out of AI coding tools' prompts."""


@cli.command()
@click.option("--no-tools", is_flag=True, help="Do not configure Claude Code, Cursor or Copilot.")
@click.option(
    "--tools",
    "tools_spec",
    metavar="LIST",
    help=(
        "Configure these tools (claude-code,cursor,copilot,codex,aider,gemini-cli) "
        "instead of the detected ones."
    ),
)
@click.option("--dry-run", is_flag=True, help="Show tool settings changes as a diff only.")
@click.option("--jobs", type=click.IntRange(1), default=None, help="Index with N processes.")
@click.option(
    "--no-hooks", is_flag=True, help="Do not install the secret-scanning commit and push hooks."
)
@click.option(
    "--new-key",
    is_flag=True,
    help="Issue a new key (every synthetic name changes) and rebuild the index.",
)
def init(
    no_tools: bool,
    tools_spec: str | None,
    dry_run: bool,
    jobs: int | None,
    no_hooks: bool,
    new_key: bool,
) -> int:
    """Set this git repository up: policy, key, registry, a full index and the AI tools."""
    from pretense_dev.integrations.setup import describe, parse_tools
    from pretense_dev.lifecycle import init_repo, plan_tools
    from pretense_dev.paths import find_repo_root
    from pretense_dev.repo import Repo

    if no_tools and tools_spec:
        raise UsageError("--no-tools and --tools contradict each other", "use one of them")
    tools = parse_tools(tools_spec) if tools_spec else None
    root = find_repo_root()
    if dry_run:
        results = plan_tools(root, tools)
        for r in results:
            sys.stdout.write(r.plan.diff())
        for line in describe(results, [], dry_run=True):
            err(line)
        for r in results:
            for problem in r.plan.problems:
                err(f"pretense-dev: {problem}")
        return EXIT_FAILURE if any(r.plan.problems for r in results) else EXIT_OK
    from pretense_dev.index.build import stderr_line
    from pretense_dev.lifecycle import blocking_lines
    from pretense_dev.progress import progress

    with progress("indexing") as report_progress:
        report = init_repo(
            root,
            workers=jobs,
            tools=tools,
            configure_tools=not no_tools,
            hooks=not no_hooks,
            new_key=new_key,
            say=stderr_line,
            progress=report_progress,
        )
    idx = report.index
    assert idx is not None
    click.echo(f"pretense-dev initialised {report.root} (repo id {report.repo_id})")
    for item in report.created:
        click.echo(f"  wrote {item}")
    if report.key is not None:
        click.echo(f"  key: {report.key.backend} — {report.key.location}")
    langs = ", ".join(f"{lang} {n}" for lang, n in idx.languages.most_common())
    # The count is of the files indexed, as `status` gives it; a binary or unreadable
    # file is looked at but not indexed, and said apart (never in the language sum).
    indexed = sum(idx.languages.values())
    unread = idx.files_seen - indexed
    skipped = f"; {unread} binary or unreadable not read" if unread > 0 else ""
    click.echo(f"  files: {indexed} ({langs or 'none'}){skipped}")
    click.echo(f"  names protected: {idx.names_protected}")
    _say_coverage(Repo(report.root).index_path, indent="  ")
    _say_unnamed(idx.unnamed, indent="  ")
    for line in blocking_lines(report):
        click.echo(line)
    for note in report.notes:
        click.echo(f"  to do: {note}")
    if no_tools:
        click.echo("  tools: not configured (--no-tools)")
    else:
        for line in describe(report.tools, report.not_found, dry_run=False):
            click.echo(line)
    click.echo(f"  took {report.seconds:.2f} s")
    for problem in report.problems:
        err(f"pretense-dev: {problem}")
    return EXIT_FAILURE if report.problems else EXIT_OK


@cli.command()
@click.option(
    "--purge", is_flag=True, help="Also delete .pretense/ local state, the key, the registry entry."
)
def uninstall(purge: bool) -> int:
    """Remove exactly what `init` added (tool settings, commit hooks), and nothing else."""
    from pretense_dev.lifecycle import uninstall_repo
    from pretense_dev.paths import find_repo_root

    report = uninstall_repo(find_repo_root(), purge=purge)
    for item in report.removed:
        click.echo(f"  {item}")
    if not report.removed:
        click.echo("  nothing of pretense-dev's was found in the tools' settings")
    for item in report.kept:
        click.echo(f"  kept {item}")
    for problem in report.problems:
        err(f"pretense-dev: {problem}")
    return EXIT_FAILURE if report.problems else EXIT_OK


@cli.command()
@click.option("--full", is_flag=True, help="Re-read every file, not only those that changed.")
@click.option("--jobs", type=click.IntRange(1), default=None, help="Index with N processes.")
def index(full: bool, jobs: int | None) -> int:
    """Bring the index and the identifier map up to date."""
    from pretense_dev.index.build import build, stderr_line
    from pretense_dev.repo import Repo

    repo = Repo.discover()
    if not repo.repo_id_path.exists():
        repo.require_initialised()
    # A missing or damaged index is rebuilt here (issued names kept where readable).
    from pretense_dev.progress import progress

    with progress("indexing") as report_progress:
        r, notes = build(
            repo.root,
            repo.index_path,
            repo.config,
            repo.key,
            full=full,
            workers=jobs,
            say=stderr_line,
            progress=report_progress,
        )
    for note in notes:
        err(f"pretense-dev: {note}")
    click.echo(
        f"indexed {r.files_parsed} of {r.files_seen} files ({r.files_removed} removed) in "
        f"{r.seconds:.2f} s; {r.names_protected} names protected "
        f"(+{r.names_added} −{r.names_removed})"
    )
    from pretense_dev.index.coverage import index_coverage

    cov = index_coverage(repo.index_path)
    if cov is not None and cov.unread_files:
        click.echo(f"  {cov.summary()}")  # the count above is not the whole repository
    _say_unnamed(r.unnamed, indent="  ")
    return EXIT_OK


@cli.command()
def status() -> int:
    """What is indexed and protected in this repository."""
    from pretense_dev.repo import Repo

    repo = Repo.discover().require_initialised()
    with repo.open_store() as store:
        langs = store.languages()
        click.echo(f"repository: {repo.root}")
        click.echo(f"repo id:    {repo.repo_id}")
        click.echo(f"files:      {store.file_count()}")
        for lang, n in langs.items():
            click.echo(f"  {lang:<12}{n}")
        click.echo(f"protected:  {store.active_count()} names (map version {store.map_version()})")
        from pretense_dev.index.coverage import read_coverage

        for line in read_coverage(store.conn).lines():
            click.echo(line)
    return EXIT_OK


def _say_unnamed(unnamed: list[str], indent: str) -> None:
    """The files the index cannot hold, their names not being UTF-8 (never implied)."""
    if not unnamed:
        return
    from pretense_dev.worktree import shown_name

    shown = ", ".join(shown_name(p) for p in unnamed[:5])
    if len(unnamed) > 5:
        shown += f" and {len(unnamed) - 5} more"
    files = "1 file whose name is" if len(unnamed) == 1 else f"{len(unnamed)} files whose names are"
    click.echo(
        f"{indent}{files} not valid UTF-8 and not indexed, so the names "
        f"{'it defines are' if len(unnamed) == 1 else 'they define are'} NOT protected: "
        f"{shown} — rename {'it' if len(unnamed) == 1 else 'them'} to UTF-8"
    )


def _say_coverage(index_path: Path, indent: str) -> None:
    """The source files the map cannot read, one line per language (never implied)."""
    from pretense_dev.index.coverage import index_coverage

    cov = index_coverage(index_path)
    for line in cov.lines() if cov is not None else ():
        click.echo(indent + line)


@cli.command()
@click.argument("name")
def explain(name: str) -> int:
    """Say whether NAME is protected, and why."""
    from pretense_dev.index.explain import explain as do_explain
    from pretense_dev.repo import Repo

    repo = Repo.discover().require_initialised()
    e = do_explain(repo, name)
    state = "protected" if e.protected else "not protected"
    click.echo(f"{name}: {state} — {e.reason}")
    if e.protected and e.synthetic:
        click.echo(f"  sent as: {e.synthetic}")
    for path, kind, line in e.definitions[:20]:
        where = f"{path}:{line}" if line else path
        click.echo(f"  {kind} defined at {where}")
    if len(e.definitions) > 20:
        click.echo(f"  … and {len(e.definitions) - 20} more")
    return EXIT_OK


@cli.command()
def doctor() -> int:
    """Check the installation and this repository's setup."""
    from pretense_dev.doctor import run_checks

    worst = EXIT_OK
    for check in run_checks(Path.cwd()):
        click.echo(f"{check.status:<5} {check.name}: {check.detail}")
        if check.status == "FAIL":
            worst = EXIT_FAILURE
    return worst


def _transform(path: str, direction: str) -> int:
    from pretense_dev.repo import Repo

    if path == "-":
        data = sys.stdin.buffer.read()
        repo = Repo.discover()
    else:
        p = Path(path)
        try:
            data = p.read_bytes()
        except OSError as e:
            raise PretenseError(f"cannot read {path}: {e.strerror}") from None
        repo = Repo.discover(p.resolve().parent)
    repo.require_initialised()
    with repo.open_store() as store:
        mapping = store.load_map()
    out = mapping.mutate(data) if direction == "mutate" else mapping.unmutate(data)
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    return EXIT_OK


@cli.command()
@click.argument("path", default="-")
def mutate(path: str) -> int:
    """Print PATH (or stdin) as the AI vendor would see it."""
    return _transform(path, "mutate")


@cli.command()
@click.argument("path", default="-")
def unmutate(path: str) -> int:
    """Print PATH (or stdin) with synthetic names turned back into real ones."""
    return _transform(path, "unmutate")


@cli.command()
@click.option("--keep", is_flag=True, help="Keep the temporary sample repository.")
def demo(keep: bool) -> int:
    """Run the demo on a bundled sample repository (no API key needed)."""
    from pretense_dev.demo import run_demo

    return run_demo(keep=keep)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0, 1, 2, 3 or 130: see `pretense_dev.errors`)."""
    from pretense_dev.bugs import run_guarded

    args = sys.argv[1:] if argv is None else argv

    return run_guarded(lambda: _run_click(args))


def _run_click(args: list[str]) -> int:
    """Click's own outcomes (`--help`, usage errors, ^C at a prompt) as exit codes."""
    try:
        rv = cli.main(args=args, prog_name="pretense-dev", standalone_mode=False)
    except click.exceptions.Exit as e:
        return int(e.exit_code)
    except click.exceptions.Abort:
        raise KeyboardInterrupt from None
    except click.ClickException as e:
        e.show()
        return EXIT_USAGE if isinstance(e, click.UsageError) else e.exit_code
    return rv if isinstance(rv, int) else EXIT_OK
