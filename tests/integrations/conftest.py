"""Fixtures for the tool integrations: an initialised repo and the tools' user dirs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.conftest import git, write


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
