"""Whatever manages a repository's git hooks, a staged secret is refused at commit and at push.

Real git, the real husky (from npm) and a hand-written hook a user already had;
`git_hooks.check` must agree with what git actually did.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pretense_dev.integrations import git_hooks
from pretense_dev.secrets.samples import generate
from tests.conftest import git, write

RNG = random.Random(1515)


def token() -> str:
    return generate("gh" + "p_{b62:30}{ghcrc}", RNG)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    bindir = str(Path(sys.executable).parent)  # the installed `pretense-dev`
    monkeypatch.setenv("PATH", bindir + os.pathsep + os.environ.get("PATH", ""))
    return dict(os.environ)


def run(repo: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    p = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, check=False)
    return p.returncode, p.stdout + p.stderr


@pytest.fixture(scope="session")
def husky_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: husky cannot be tried")
    d = tmp_path_factory.mktemp("husky")
    r = subprocess.run(
        [npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(d), "husky@9"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if r.returncode != 0:
        pytest.skip(f"`npm install husky@9` failed: {r.stderr.strip()[-200:]}")
    return d / "node_modules" / ".bin" / "husky"


def secret_commit_and_push_are_refused(repo: Path, env: dict[str, str], remote: Path) -> None:
    tok = token()
    write(repo, {"app/settings.py": f'GH = "{tok}"\n'})
    git(repo, "add", "app/settings.py")
    code, out = run(repo, env, "git", "commit", "-qm", "secret")
    assert code != 0 and "app/settings.py:1: github-pat" in out and tok not in out
    assert run(repo, env, "git", "commit", "-qm", "sneak", "--no-verify")[0] == 0
    code, out = run(repo, env, "git", "push", "-q", str(remote), "HEAD:refs/heads/main")
    assert code != 0 and "github-pat" in out and tok not in out
    assert git(remote, "branch", "--list", "main").strip() == ""


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    return bare


def test_husky_scripts_get_the_scan_and_keep_the_teams_lines(
    git_repo: Path, env: dict[str, str], remote: Path, husky_bin: Path
) -> None:
    assert run(git_repo, env, str(husky_bin))[0] == 0
    assert git(git_repo, "config", "core.hooksPath").strip() == ".husky/_"
    team = "echo team-check-ran\n"
    write(git_repo, {".husky/pre-commit": team})
    plan = git_hooks.apply(git_repo)
    assert plan.steps == [
        ".husky/pre-commit (secret scan, in your husky script)",
        ".husky/pre-push (secret scan, in your husky script)",
    ]
    assert (git_repo / ".husky/pre-commit").read_text().startswith(team)
    assert git_hooks.apply(git_repo).steps == []  # idempotent
    assert git_hooks.check(git_repo) == []  # by effect: a canary commit and push refused
    tok = token()
    write(git_repo, {"app/settings.py": f'GH = "{tok}"\n'})
    git(git_repo, "add", "app/settings.py")
    code, out = run(git_repo, env, "git", "commit", "-qm", "secret")
    assert code != 0 and "team-check-ran" in out and "github-pat" in out
    git(git_repo, "reset", "-q")
    secret_commit_and_push_are_refused(git_repo, env, remote)
    assert git_hooks.remove(git_repo) == [
        ".husky/pre-commit: removed the pretense-dev scan",
        ".husky/pre-push: removed the pretense-dev scan",
    ]
    assert (git_repo / ".husky/pre-commit").read_text() == team
    assert not (git_repo / ".husky/pre-push").exists()


def test_a_users_own_hook_still_runs_and_the_scan_runs_too(
    git_repo: Path, env: dict[str, str], remote: Path
) -> None:
    hooks = git_repo / ".git/hooks"
    hooks.mkdir(exist_ok=True)
    mine = "#!/bin/sh\necho my-hook-ran\n"
    (hooks / "pre-commit").write_text(mine)
    (hooks / "pre-commit").chmod(0o755)
    git_hooks.apply(git_repo)
    assert git_hooks.check(git_repo) == []
    tok = token()
    write(git_repo, {"app/settings.py": f'GH = "{tok}"\n'})
    git(git_repo, "add", "app/settings.py")
    code, out = run(git_repo, env, "git", "commit", "-qm", "secret")
    assert code != 0 and "my-hook-ran" in out and "github-pat" in out
    git(git_repo, "reset", "-q")
    secret_commit_and_push_are_refused(git_repo, env, remote)
    git_hooks.remove(git_repo)
    assert (hooks / "pre-commit").read_text() == mine


def test_a_hooks_path_outside_the_work_tree_is_used_and_proved(
    git_repo: Path, env: dict[str, str], remote: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "shared-hooks"
    shared.mkdir()
    git(git_repo, "config", "core.hooksPath", str(shared))
    git_hooks.apply(git_repo)
    assert sorted(p.name for p in shared.iterdir()) == ["pre-commit", "pre-push"]
    assert git_hooks.check(git_repo) == []
    secret_commit_and_push_are_refused(git_repo, env, remote)


def test_a_pre_commit_config_with_core_hooks_path_falls_back_to_plain_hooks(
    git_repo: Path, env: dict[str, str], remote: Path, tmp_path: Path
) -> None:
    """The framework refuses to install with core.hooksPath set: the scan is installed anyway."""
    shared = tmp_path / "shared-hooks"
    shared.mkdir()
    git(git_repo, "config", "core.hooksPath", str(shared))
    write(git_repo, {git_hooks.CONFIG: "repos:\n  - repo: local\n    hooks: []\n"})
    plan = git_hooks.apply(git_repo)
    assert plan.steps[0] == git_hooks.STEP_CONFIG
    assert git_hooks.is_ours(shared / "pre-commit") and git_hooks.is_ours(shared / "pre-push")
    assert git_hooks.check(git_repo) == []
    secret_commit_and_push_are_refused(git_repo, env, remote)
