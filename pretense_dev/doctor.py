"""`pretense-dev doctor`: one line per check, each with what to do about it."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pretense_dev.errors import PretenseError

if TYPE_CHECKING:
    from pretense_dev.repo import Repo


@dataclass(frozen=True)
class Diagnosis:
    """One result: "ok", "warn" or "FAIL"."""

    status: str
    name: str
    detail: str


def run_checks(cwd: Path) -> Iterator[Diagnosis]:
    """Installation checks, then this repository's (if cwd is in one)."""
    yield Diagnosis("ok", "python", sys.version.split()[0])
    from pretense_dev.mutation import KERNEL

    if KERNEL == "c":
        yield Diagnosis("ok", "mutation kernel", "C extension")
    else:
        yield Diagnosis(
            "warn", "mutation kernel", "pure Python (slower): reinstall with a C compiler"
        )
    yield (
        Diagnosis("ok", "git", shutil.which("git") or "")
        if shutil.which("git")
        else Diagnosis("FAIL", "git", "not found: install git")
    )
    yield from _grammar_check()
    yield from _repo_checks(cwd)


def _grammar_check() -> Iterator[Diagnosis]:
    from pretense_dev.identifiers.languages import GRAMMARS, grammar

    broken = []
    for lang in GRAMMARS:
        try:
            grammar(lang)
        except Exception as e:  # a broken wheel: report it, keep checking the rest
            broken.append(f"{lang} ({type(e).__name__})")
    if broken:
        yield Diagnosis(
            "FAIL", "grammars", "cannot load " + ", ".join(broken) + ": reinstall pretense-dev"
        )
    else:
        yield Diagnosis("ok", "grammars", ", ".join(GRAMMARS))


def _repo_checks(cwd: Path) -> Iterator[Diagnosis]:
    from pretense_dev import registry
    from pretense_dev.keys import key_info
    from pretense_dev.repo import Repo

    try:
        repo = Repo.discover(cwd)
    except PretenseError:
        yield Diagnosis("ok", "repository", "not in a git repository: repo checks skipped")
        return
    if not repo.is_initialised():
        yield Diagnosis(
            "FAIL", "repository", f"{repo.root} is not initialised: run `pretense-dev init`"
        )
        return
    yield Diagnosis("ok", "repository", f"{repo.root} (repo id {repo.repo_id})")
    try:
        repo.config  # noqa: B018 - loading validates
        yield Diagnosis("ok", "config", str(repo.config_path))
    except PretenseError as e:
        yield Diagnosis("FAIL", "config", e.lines()[0])
    info = key_info(repo.repo_id)
    if info.backend == "missing":
        yield Diagnosis("FAIL", "key", "no key: run `pretense-dev init`")
    elif info.backend == "file":
        yield Diagnosis(
            "warn" if "should be 600" in info.location else "ok",
            "key",
            f"0600 file (no OS keyring backend here): {info.location}",
        )
    else:
        yield Diagnosis("ok", "key", f"{info.backend}, {info.location}")
    entry = registry.lookup(repo.repo_id)
    if entry is None or entry.path != repo.root:
        yield Diagnosis("FAIL", "registry", "this repo is not registered: run `pretense-dev init`")
    else:
        yield Diagnosis("ok", "registry", str(registry.registry_path()))
    gi = repo.state_dir / ".gitignore"
    if not gi.exists():
        yield Diagnosis(
            "FAIL", "gitignore", ".pretense/.gitignore is missing: run `pretense-dev init`"
        )
    yield from _index_check(repo)
    yield from _audit_check()
    yield from _tool_checks(repo)
    yield from _git_hook_checks(repo)


def _index_check(repo: Repo) -> Iterator[Diagnosis]:
    """Readable (every page: SQLite's quick_check), complete, and what it protects."""
    from pretense_dev.index.build import index_health
    from pretense_dev.index.reader import IndexReader, index_problem

    damage = index_health(repo.index_path, thorough=True)
    if damage is not None:
        yield Diagnosis(
            "FAIL",
            "index",
            f"{repo.index_path} is damaged ({damage}): run `pretense-dev index --full` "
            "(issued synthetic names are kept)",
        )
        return
    problem = index_problem(repo.index_path)
    if problem is not None:
        yield Diagnosis("FAIL", "index", f"{problem[0]}: run `{problem[1]}`")
        return
    with IndexReader(repo.index_path) as r:
        files = r.conn.execute("SELECT count(*) FROM files").fetchone()[0]
        yield Diagnosis(
            "ok",
            "index",
            f"{files} files, {r.active_count()} names protected (map version {r.map_version()})",
        )
        from pretense_dev.index.coverage import read_coverage

        cov = read_coverage(r.conn)
    if cov.source_files:
        # A warning, not a failure: nothing here is broken or fixable by the
        # user (except a stale index), but the names are not protected.
        yield Diagnosis("warn" if cov.unread_files else "ok", "coverage", cov.summary())


def _audit_check() -> Iterator[Diagnosis]:
    """The audit log opens and its every page reads (the proxy refuses what it cannot record)."""
    import sqlite3

    from pretense_dev.audit.store import default_path
    from pretense_dev.integrations.verify import audit_problem

    path = default_path()
    problem = audit_problem()
    if problem is None and path.exists():
        try:
            uri = path.resolve().as_uri() + "?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=5)
            try:
                row = conn.execute("PRAGMA quick_check(1)").fetchone()
            finally:
                conn.close()
            if row is None or row[0] != "ok":
                problem = (
                    f"the audit log {path} is damaged ({row[0] if row else 'no answer'})",
                    "pretense-dev audit recover",
                )
        except sqlite3.DatabaseError as e:
            problem = (f"the audit log {path} cannot be read ({e})", "pretense-dev audit recover")
    if problem is not None:
        yield Diagnosis("FAIL", "audit log", f"{problem[0]}: run `{problem[1]}`")
    elif not path.exists():
        yield Diagnosis("ok", "audit log", "none yet (written by the proxy and the hooks)")
    else:
        yield Diagnosis("ok", "audit log", str(path))


def _git_hook_checks(repo: Repo) -> Iterator[Diagnosis]:
    """By effect: a canary commit and push through this repository's git hooks."""
    from pretense_dev.integrations import git_hooks

    if not git_hooks.installed(repo.root):
        yield Diagnosis(
            "warn",
            "git hooks",
            "no secret-scanning git hooks: run `pretense-dev hooks install`",
        )
        return
    problems = git_hooks.check(repo.root)
    for p in problems:
        fix = "" if "— run `" in p else " — run `pretense-dev hooks install`"
        yield Diagnosis("FAIL", "git hooks", p + fix)
    if not problems:
        yield Diagnosis("ok", "git hooks", "a canary secret was refused at commit and at push")


def _tool_checks(repo: Repo) -> Iterator[Diagnosis]:
    """The configured AI tools: drift, and a Claude Code too old to block on hook failure."""
    from pretense_dev.integrations import setup
    from pretense_dev.integrations.claude_code import ON_FAILURE_SINCE, installed_version

    try:
        tools = repo.config.tools
    except PretenseError:
        return  # reported by the config check above
    if not tools.configured:
        yield Diagnosis(
            "ok", "tools", "none configured: `pretense-dev init --tools …` sets them up"
        )
        return
    ctx = setup.context_for(repo.root, repo.repo_id, tools.copilot_models)
    drifts = setup.check(ctx, tools.configured)
    for d in drifts:
        yield Diagnosis("FAIL", "tools", d.line())
    if not drifts:
        yield Diagnosis("ok", "tools", ", ".join(tools.configured) + " point at the proxy")
    from pretense_dev.integrations import launcher, startprobe

    why = launcher.problem(repo.root)
    if why is not None and startprobe.installed_commands(repo.root, tuple(tools.configured)):
        # Kept current here too: a virtualenv rebuilt or moved since `init` leaves the
        # launcher pointing at an interpreter that is gone; this one runs pretense-dev.
        launcher.write(repo.root)
        yield Diagnosis("warn", "hook launcher", f"{why}: rewrote it for {launcher.interpreter()}")
    for line in startprobe.problems(repo.root, tuple(tools.configured)):
        yield Diagnosis("FAIL", "hook start", f"{line} — {startprobe.FIX}")
    if "claude-code" in tools.configured:
        version = installed_version()
        if version is None:
            yield Diagnosis("ok", "claude code", "not on PATH here")
        elif version < ON_FAILURE_SINCE:
            yield Diagnosis(
                "warn",
                "claude code",
                f'{".".join(map(str, version))} ignores "onFailure": "block" (needs '
                "2.1.295+): a hook that cannot run lets the prompt through — upgrade with "
                "`npm install -g @anthropic-ai/claude-code@latest`",
            )
        else:
            yield Diagnosis(
                "ok", "claude code", f"{'.'.join(map(str, version))} (honours onFailure)"
            )
