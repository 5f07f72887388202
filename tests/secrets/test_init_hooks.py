"""`init` installs the secret-scanning hooks and says so; `--no-hooks` leaves git alone."""

from __future__ import annotations

from pathlib import Path

from pretense_dev.integrations import git_hooks
from tests.conftest import run_cli


def test_init_installs_and_reports_hooks(git_repo: Path) -> None:
    r = run_cli("init", "--no-tools", cwd=git_repo)
    assert r.code == 0, r.err
    assert "  wrote .git/hooks/pre-commit (secret scan)" in r.out
    assert "  wrote .git/hooks/pre-push (secret scan)" in r.out
    assert git_hooks.check(git_repo) == []
    again = run_cli("init", "--no-tools", cwd=git_repo)
    assert ".git/hooks/pre-commit" not in again.out  # idempotent: nothing rewritten


def test_init_no_hooks(git_repo: Path) -> None:
    r = run_cli("init", "--no-hooks", cwd=git_repo)
    assert r.code == 0, r.err
    assert not (git_repo / ".git" / "hooks" / "pre-commit").exists()
