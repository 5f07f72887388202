"""Secret-scanning hooks with real git and the real pre-commit framework.

* pre-commit mode: `init`'s `repo: local` block in a user's config (comments
  kept, idempotent, removable) and the hooks run by `git commit` / `git push`;
* the shipped `.pre-commit-hooks.yaml`, with this checkout as the hook repo
  (`language: python`: pre-commit builds the environment once per session);
* plain git hooks: chaining to a user's hook, never destroying it.

Secrets are generated at run time; the assertions check that blocked output
names file and line and never holds the value.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pretense_dev.errors import PretenseError
from pretense_dev.integrations import git_hooks
from pretense_dev.secrets.samples import generate
from tests.conftest import REPO_ROOT, git, write

RNG = random.Random(99)


def token() -> str:
    return generate("gh" + "p_{b62:30}{ghcrc}", RNG)


@pytest.fixture(scope="session")
def pc_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-commit store per session: hook environments are built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def env(pc_home: Path) -> dict[str, str]:
    bindir = str(Path(sys.executable).parent)  # `pretense-dev` and `pre-commit` live here
    return {
        **os.environ,
        "PRE_COMMIT_HOME": str(pc_home),
        "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
        "PRE_COMMIT_COLOR": "never",
    }


def run(repo: Path, env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str]:
    p = subprocess.run(
        args, cwd=repo, env=env, capture_output=True, text=True, input=stdin, check=False
    )
    return p.returncode, p.stdout + p.stderr


def commit(repo: Path, env: dict[str, str], msg: str, *extra: str) -> tuple[int, str]:
    return run(repo, env, "git", "commit", "-q", "-m", msg, *extra)


@pytest.fixture
def remote(tmp_path: Path, git_repo: Path) -> Path:
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git(git_repo, "remote", "add", "origin", str(bare))
    git(git_repo, "push", "-q", "origin", "main")
    return bare


USER_CONFIG = """\
# our team's hooks
default_install_hook_types: [pre-commit]
repos:
  # a local check the team already runs
  - repo: local
    hooks:
      - id: no-op
        name: no-op
        entry: "true"
        language: system
        pass_filenames: false

ci:
  autofix_prs: false
"""


def test_pre_commit_config_block_blocks_staged_secret_and_pushed_commits(
    git_repo: Path, remote: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(git_repo, {git_hooks.CONFIG: USER_CONFIG})
    # apply() installs the framework's shims for both stages: a config alone runs nothing.
    monkeypatch.setenv("PATH", env["PATH"])
    monkeypatch.setenv("PRE_COMMIT_HOME", env["PRE_COMMIT_HOME"])
    plan = git_hooks.apply(git_repo)
    assert plan.steps == [
        git_hooks.STEP_CONFIG,
        git_hooks.step_shim("pre-commit"),
        git_hooks.step_shim("pre-push"),
    ]
    text = (git_repo / git_hooks.CONFIG).read_text()
    assert "# a local check the team already runs" in text and "ci:\n  autofix_prs" in text
    assert text.index(git_hooks.BEGIN) < text.index("ci:")
    # Idempotent: nothing to do, nothing written.
    again = git_hooks.apply(git_repo)
    assert again.steps == [] and (git_repo / git_hooks.CONFIG).read_text() == text
    assert git_hooks.check(git_repo) == []  # by effect: a canary commit and push refused
    git(git_repo, "add", git_hooks.CONFIG)
    assert commit(git_repo, env, "config")[0] == 0

    # A staged secret is blocked; the output names file:line and the rule, never the value.
    tok = token()
    write(git_repo, {"app/settings.py": f'GH = "{tok}"\n'})
    git(git_repo, "add", "app/settings.py")
    code, out = commit(git_repo, env, "secret")
    assert code != 0
    assert "app/settings.py:1: github-pat (high) ghp_…(40)" in out
    assert "pretense: allow" in out and tok not in out

    # The working tree alone does not count: staged clean, secret only on disk.
    write(git_repo, {"app/settings.py": "GH = None\n"})
    git(git_repo, "add", "app/settings.py")
    write(git_repo, {"app/settings.py": f'GH = "{tok}"\n'})
    code, out = commit(git_repo, env, "clean staged")
    assert code == 0, out
    git(git_repo, "checkout", "--", "app/settings.py")

    # The store guard: .pretense/ files other than the policy are refused.
    write(git_repo, {".pretense/index.db": "x"})
    git(git_repo, "add", "-f", ".pretense/index.db")
    code, out = commit(git_repo, env, "store")
    assert code != 0 and "refusing to commit .pretense/index.db" in out
    git(git_repo, "rm", "-q", "--cached", ".pretense/index.db")

    # A pushed commit that carries a secret (committed with --no-verify, then
    # buried under a clean commit) is blocked at push.
    write(git_repo, {"deploy/env.sh": f"export GH={tok}\n"})
    git(git_repo, "add", "deploy/env.sh")
    assert commit(git_repo, env, "sneak", "--no-verify")[0] == 0
    write(git_repo, {"deploy/env.sh": "export GH=$GH_TOKEN\n"})
    git(git_repo, "add", "deploy/env.sh")
    assert commit(git_repo, env, "tidy")[0] == 0
    code, out = run(git_repo, env, "git", "push", "origin", "main")
    assert code != 0, out
    assert "deploy/env.sh:1: github-pat" in out and "in commit" in out and tok not in out

    # Removal gives back the user's file, byte for byte.
    assert git_hooks.remove(git_repo) == [f"{git_hooks.CONFIG}: removed the pretense-dev hooks"]
    assert (git_repo / git_hooks.CONFIG).read_text() == USER_CONFIG


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The checkout (as on disk, uncommitted edits included) as a hook repository."""
    dest = tmp_path_factory.mktemp("hook-repo")
    files = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "ls-files", "-z", "--cached", "--others",
         "--exclude-standard"],
        capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for rel in filter(None, files):
        src = REPO_ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "hook repo snapshot")
    yield dest, git(dest, "rev-parse", "HEAD").strip()


def test_shipped_manifest_with_this_checkout_as_hook_repo(
    git_repo: Path, hook_repo: tuple[Path, str], env: dict[str, str]
) -> None:
    path, sha = hook_repo
    write(
        git_repo,
        {
            git_hooks.CONFIG: (
                f"repos:\n  - repo: {path}\n    rev: {sha}\n    hooks:\n"
                "      - id: pretense-secrets\n      - id: pretense-secrets-push\n"
                "      - id: pretense-guard-store\n"
            )
        },
    )
    git(git_repo, "add", git_hooks.CONFIG)
    git(git_repo, "commit", "-q", "--no-verify", "-m", "config")
    base = git(git_repo, "rev-parse", "HEAD").strip()
    tok = token()
    write(git_repo, {"a.py": f'T = "{tok}"\n', "b.py": "x = 1\n"})
    git(git_repo, "add", "a.py", "b.py")
    code, out = run(git_repo, env, "pre-commit", "run")  # the staged files
    assert code == 1, out
    assert "a.py:1: github-pat" in out and tok not in out
    code, out = run(git_repo, env, "pre-commit", "run", "--files", "b.py")
    assert code == 0, out
    # pre-push over a range: a secret in a middle commit is found.
    git(git_repo, "commit", "-q", "--no-verify", "-m", "secret")
    (git_repo / "a.py").write_text("T = None\n")
    git(git_repo, "commit", "-q", "--no-verify", "-am", "fix")
    head = git(git_repo, "rev-parse", "HEAD").strip()
    code, out = run(
        git_repo, env, "pre-commit", "run", "--hook-stage", "pre-push",
        "--from-ref", base, "--to-ref", head,
    )  # fmt: skip
    assert code == 1 and "a.py:1: github-pat" in out and tok not in out, out


USER_HOOK = """#!/bin/sh
echo ran >> "$(git rev-parse --show-toplevel)/.git/user-hook-ran"
exit "${USER_HOOK_EXIT:-0}"
"""


def test_plain_git_hooks_chain_to_the_users_hook(
    git_repo: Path, remote: Path, env: dict[str, str]
) -> None:
    hooks = git_repo / ".git" / "hooks"
    user = hooks / "pre-commit"
    user.write_text(USER_HOOK)
    user.chmod(0o755)
    plan = git_hooks.apply(git_repo)
    assert plan.mode == "git-hooks"
    assert plan.steps == [
        ".git/hooks/pre-commit (secret scan; your previous hook is kept as "
        "pre-commit.pretense-prior and still runs first)",
        ".git/hooks/pre-push (secret scan)",
    ]
    assert (hooks / "pre-commit.pretense-prior").read_text() == USER_HOOK
    assert git_hooks.apply(git_repo).steps == []  # idempotent
    assert git_hooks.check(git_repo) == []

    tok = token()
    write(git_repo, {"cfg/.env": f"GH_TOKEN={tok}\n"})
    git(git_repo, "add", "cfg/.env")
    code, out = commit(git_repo, env, "secret")
    assert code == 1 and "cfg/.env:1: github-pat" in out and tok not in out
    assert (git_repo / ".git/user-hook-ran").read_text() == "ran\n"  # the user's hook ran first
    write(git_repo, {"cfg/.env": "GH_TOKEN=${GH_TOKEN}\n"})
    git(git_repo, "add", "cfg/.env")
    assert commit(git_repo, env, "clean")[0] == 0
    # The user's hook still decides too.
    write(git_repo, {"x.txt": "x\n"})
    git(git_repo, "add", "x.txt")
    assert commit(git_repo, {**env, "USER_HOOK_EXIT": "1"}, "vetoed")[0] == 1

    # Push: a secret committed with --no-verify under a clean tip is blocked.
    write(git_repo, {"k.py": f'K = "{tok}"\n'})
    git(git_repo, "add", "k.py", "x.txt")
    assert commit(git_repo, env, "sneak", "--no-verify")[0] == 0
    git(git_repo, "rm", "-q", "k.py")
    assert commit(git_repo, env, "tidy")[0] == 0
    code, out = run(git_repo, env, "git", "push", "origin", "main")
    assert code != 0 and "k.py:1: github-pat" in out and tok not in out, out

    # An edited hook is drift; removal restores the user's hook byte for byte.
    (hooks / "pre-push").write_text((hooks / "pre-push").read_text() + "# edited\n")
    assert git_hooks.check(git_repo) == [
        ".git/hooks/pre-push was edited (run `pretense-dev init` to restore)"
    ]
    assert git_hooks.remove(git_repo) == [
        ".git/hooks/pre-commit: restored your previous hook",
        ".git/hooks/pre-push: removed",
    ]
    assert user.read_text() == USER_HOOK and not (hooks / "pre-push").exists()


def test_refuses_to_overwrite_or_edit_shared_hooks(git_repo: Path) -> None:
    hooks = git_repo / ".git" / "hooks"
    (hooks / "pre-commit").write_text(USER_HOOK)
    (hooks / "pre-commit.pretense-prior").write_text("#!/bin/sh\nexit 0\n")
    with pytest.raises(PretenseError, match="already exists"):
        git_hooks.apply(git_repo)
    assert (hooks / "pre-commit").read_text() == USER_HOOK
    (hooks / "pre-commit.pretense-prior").unlink()
    # A hooks directory in the work tree that is not husky's: another tool's, not edited.
    git(git_repo, "config", "core.hooksPath", "tools/githooks")
    with pytest.raises(PretenseError, match=r"core\.hooksPath"):
        git_hooks.apply(git_repo)


def test_config_edit_keeps_every_user_line() -> None:
    for original in (
        USER_CONFIG,
        "repos:\n- repo: local\n  hooks:\n  - id: a\n    name: a\n    entry: 'true'\n"
        "    language: system\n",
    ):
        edited = git_hooks.insert_block(original)
        git_hooks._validate(edited)
        kept = [ln for ln in edited.splitlines() if not ln.strip().startswith(("- id: pretense",))]
        it = iter(kept)
        assert all(any(ln == k for k in it) for ln in original.splitlines())  # in order
        assert git_hooks.remove_block(edited) == original
