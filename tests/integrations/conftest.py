"""Fixtures for the tool integrations: an initialised repo and the tools' user dirs."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pretense_dev.proxy import state
from tests.conftest import git, run_cli, write

STUB = {"billing/ledger.py": "def reconcile_invoices(batch_total):\n    pass\n"}


def commit_code(root: Path, files: dict[str, str]) -> Path:
    """Write `files` into the repository at `root` and commit them."""
    write(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "code")
    return root


def commit_with_secrets(root: Path, token: Callable[[], str]) -> Path:
    """Commit code and a settings file holding a token; put another in a git-ignored .env."""
    commit_code(
        root,
        {
            "billing/ledger.py": "def reconcile_invoices(batch_total):\n    return batch_total\n",
            ".gitignore": ".env\n",
            "config/settings.py": f'GITHUB_TOKEN = "{token()}"\n',
        },
    )
    (root / ".env").write_text(f"TOKEN={token()}\n")  # git-ignored: not in the index
    return root


@contextlib.contextmanager
def running_proxy(upstream: str) -> Iterator[state.ProxyState]:
    """The proxy started as a user would (any free port, this Anthropic upstream), then stopped."""
    r = run_cli("proxy", "start", "--port", "0", "--upstream-anthropic", upstream)
    assert r.code == 0, r.err
    st = state.running()
    assert st is not None
    try:
        yield st
    finally:
        run_cli("proxy", "stop")


@pytest.fixture
def vscode_dir(isolated_user: Path) -> Path:
    """VS Code's user settings dir in the fake HOME (so Copilot is detected)."""
    d = Path(os.environ["XDG_CONFIG_HOME"]) / "Code" / "User"
    d.mkdir(parents=True)
    return d


@pytest.fixture
def small_repo(git_repo: Path) -> Path:
    """A git repository with a little code in it (not initialised yet)."""
    write(
        git_repo,
        {
            "billing/ledger.py": (
                "class LedgerReconciler:\n"
                "    def reconcile_invoices(self, batch_total):\n"
                "        return batch_total\n"
            ),
        },
    )
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "code")
    return git_repo


@pytest.fixture(autouse=True)
def entry_point_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed `pretense-dev` on PATH, as for a user whose tools find it.

    `verify` and `doctor` run every installed hook command once and fail when it
    does not start; tests that want that fault take it off PATH again.
    """
    bindir = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", bindir + os.pathsep + os.environ.get("PATH", ""))


def hook_command(tool: str, event: str, *, powershell: bool = False) -> str:
    """The exact command a committed hook entry runs: this clone's launcher, failing closed.

    Spelled out here rather than built from the code under test, so a changed
    command fails a test.
    """
    if powershell:
        return (
            f"& .\\.pretense\\bin\\pretense-dev.cmd hook {tool} {event}; "
            "if ($LASTEXITCODE -ne 0) { exit 2 }"
        )
    var = {"claude-code": "CLAUDE_PROJECT_DIR", "cursor": "CURSOR_PROJECT_DIR"}.get(tool)
    where = f'"${{{var}:-.}}"' if var else "."
    launcher = f"{where}/.pretense/bin/pretense-dev"
    return (
        f"{launcher} hook {tool} {event} || {{ [ $? = 2 ] || echo 'pretense-dev: the hook did "
        "not start (no working .pretense/bin/pretense-dev in this clone): run pretense-dev init' "
        ">&2; exit 2; }"
    )
