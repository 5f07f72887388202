"""The suite's own isolation: it must run on a fresh machine with no git identity."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def session_commit(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A commit made by a session fixture, before any per-test isolation applies."""
    repo = tmp_path_factory.mktemp("session-repo")
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(
        ["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", "root"], check=True
    )
    return subprocess.run(
        ["git", "-C", str(repo), "log", "-1", "--format=%an <%ae>"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_session_fixtures_commit_as_the_test_author(session_commit: str) -> None:
    assert session_commit == "Test Author <author@example.invalid>"


def test_the_users_global_git_config_is_not_read() -> None:
    cfg = Path(os.environ["GIT_CONFIG_GLOBAL"])
    assert cfg.read_text(encoding="utf-8") == ""
    listed = subprocess.run(
        ["git", "config", "--global", "--list"], capture_output=True, text=True, check=False
    )
    assert listed.stdout == ""
