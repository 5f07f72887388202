"""`uninstall` undoes exactly the `pre-commit install` that `init` ran, with the real framework.

`init` installs the pre-commit framework's shims (commit and push stages) in a
repository that uses the framework but never ran `pre-commit install`; the
framework moves a hook that was there to `<hook>.legacy`.  `uninstall` must
leave the hooks directory as it found it — every file, byte and mode — and
must not take out a shim the user had installed themselves.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pretense_dev.integrations import git_hooks
from pretense_dev.lifecycle import init_repo, uninstall_repo
from tests.conftest import write
from tests.secrets.test_hooks import USER_CONFIG, env, pc_home, run

__all__ = ["env", "pc_home"]  # fixtures

USER_HOOK = "#!/bin/sh\n# the team's own check, kept by pre-commit as pre-commit.legacy\nexit 0\n"


def hooks_snapshot(repo: Path) -> dict[str, tuple[bytes, int]]:
    d = repo / ".git/hooks"
    return {p.name: (p.read_bytes(), stat.S_IMODE(p.stat().st_mode)) for p in d.iterdir()}


@pytest.fixture
def framework(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The real `pre-commit` on PATH, with one store per session."""
    monkeypatch.setenv("PATH", env["PATH"])
    monkeypatch.setenv("PRE_COMMIT_HOME", env["PRE_COMMIT_HOME"])
    return env


def test_uninstall_takes_out_the_shims_init_installed_and_restores_the_prior_hook(
    git_repo: Path, framework: dict[str, str]
) -> None:
    write(git_repo, {git_hooks.CONFIG: USER_CONFIG})
    hook = git_repo / ".git/hooks/pre-commit"
    hook.write_text(USER_HOOK)
    os.chmod(hook, 0o750)
    before = hooks_snapshot(git_repo)

    report = init_repo(git_repo, tools=(), configure_tools=False)
    assert git_hooks.step_shim("pre-commit") in report.created
    assert git_hooks.step_shim("pre-push") in report.created
    assert git_hooks.framework_shim(hook)
    assert git_hooks.framework_shim(git_repo / ".git/hooks/pre-push")
    assert (git_repo / ".git/hooks/pre-commit.legacy").read_text() == USER_HOOK
    assert git_hooks.check(git_repo) == []  # a canary is refused at commit and push

    out = uninstall_repo(git_repo)
    assert out.problems == []
    assert ".git/hooks/pre-commit: restored your previous hook" in out.removed
    assert ".git/hooks/pre-push: removed the pre-commit shim" in out.removed
    assert hooks_snapshot(git_repo) == before
    assert (git_repo / git_hooks.CONFIG).read_text() == USER_CONFIG
    assert not (git_repo / ".pretense/integrations.json").exists()


def test_uninstall_leaves_a_shim_the_user_installed(
    git_repo: Path, framework: dict[str, str]
) -> None:
    write(git_repo, {git_hooks.CONFIG: USER_CONFIG})
    code, out = run(git_repo, framework, "pre-commit", "install", "--hook-type", "pre-commit")
    assert code == 0, out
    theirs = hooks_snapshot(git_repo)["pre-commit"]

    report = init_repo(git_repo, tools=(), configure_tools=False)
    assert git_hooks.step_shim("pre-commit") not in report.created  # already there
    assert git_hooks.step_shim("pre-push") in report.created

    out_report = uninstall_repo(git_repo)
    assert out_report.problems == []
    after = hooks_snapshot(git_repo)
    assert after["pre-commit"] == theirs  # the user's own shim stays, byte for byte
    assert "pre-push" not in after  # ours is gone
    assert ".git/hooks/pre-push: removed the pre-commit shim" in out_report.removed
    assert not any(line.startswith(".git/hooks/pre-commit:") for line in out_report.removed)
