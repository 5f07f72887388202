"""Fixtures for the tool integrations: an initialised repo and the tools' user dirs."""

from __future__ import annotations

import os
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
