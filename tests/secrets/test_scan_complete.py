"""`scan` never reports clean for what it did not read; `scan -` and paths in other repositories."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from pretense_dev.lifecycle import init_repo
from pretense_dev.secrets import scan as scan_module
from pretense_dev.secrets.samples import generate
from tests.conftest import git, run_cli, write

RNG = random.Random(11)


def token() -> str:
    return generate("gh" + "p_{b62:30}{ghcrc}", RNG)


@pytest.fixture
def repo(git_repo: Path) -> Path:
    init_repo(git_repo, hooks=False, configure_tools=False)
    return git_repo


INCOMPLETE = (
    "pretense-dev: the scan is incomplete: {n} file(s) could not be read (listed above) — make "
    "them readable, or pass --accept-skipped to accept an incomplete scan"
)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a mode-000 file")
def test_an_unreadable_file_makes_the_scan_exit_2(repo: Path) -> None:
    write(repo, {"app/conf.py": "x = 1\n", "app/locked.py": "y = 2\n"})
    git(repo, "add", "-A")
    (repo / "app/locked.py").chmod(0)
    try:
        r = run_cli("scan", cwd=repo)
    finally:
        (repo / "app/locked.py").chmod(0o644)
    assert r.code == 2
    assert r.err.splitlines() == [
        "pretense-dev: skipped app/locked.py: Permission denied, not scanned",
        INCOMPLETE.format(n=1),
    ]


def test_a_fifo_and_a_file_too_large_are_listed_and_exit_2(repo: Path) -> None:
    write(repo, {"app/conf.py": "x = 1\n", "data/big.txt": "z" * 4000})
    os.mkfifo(repo / "app/pipe")
    # A real subprocess with a lowered limit: 20 MB files are slow to make in a test.
    code = (
        "import sys; import pretense_dev.secrets.scan as s; s.MAX_BYTES = 3000; "
        "from pretense_dev.cli import main; sys.exit(main(sys.argv[1:]))"
    )

    def scan(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", code, "scan", *args],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=120,
        )

    r = scan("app/pipe", "data/big.txt", "app/conf.py")
    assert r.returncode == 2, r.stderr
    assert sorted(r.stderr.splitlines()[:2]) == [
        "pretense-dev: skipped app/pipe: not a regular file, not scanned",
        "pretense-dev: skipped data/big.txt: larger than 0 MB, not scanned",
    ]
    assert r.stderr.splitlines()[2] == INCOMPLETE.format(n=2)
    accepted = scan("--accept-skipped", "app/pipe", "data/big.txt")
    assert accepted.returncode == 0 and "skipped app/pipe" in accepted.stderr
    assert "incomplete" not in accepted.stderr
    # A secret found still wins: exit 1, and the skips are still listed.
    write(repo, {"app/conf.py": f'GH = "{token()}"\n'})
    both = scan("app/pipe", "app/conf.py")
    assert both.returncode == 1 and "skipped app/pipe" in both.stderr
    assert scan_module.MAX_BYTES == 20_000_000


def test_scan_stdin(repo: Path) -> None:
    tok = token()
    r = run_cli("scan", "-", cwd=repo, stdin=f'token = "{tok}"\n')
    assert r.code == 1
    assert r.out.startswith("<stdin>:1: github-pat (high) ghp_…(40) fingerprint ")
    assert tok not in r.out + r.err
    clean = run_cli("scan", "-", cwd=repo, stdin="nothing here\n")
    assert (clean.code, clean.out) == (0, "")
    both = run_cli("scan", "-", "app", cwd=repo, stdin="")
    assert both.code == 2 and "cannot be combined with other paths" in both.err


def test_a_path_in_another_repository_uses_that_repositorys_policy(
    repo: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    tok = token()
    write(
        other,
        {
            "src/a.py": f'GH = "{tok}"\n',
            "fixtures/b.py": f'GH = "{token()}"\n',
            ".pretense/config.toml": 'version = 1\n[secrets]\nallow_paths = ["fixtures/**"]\n',
        },
    )
    git(other, "add", "-A")
    r = run_cli("scan", str(other), cwd=repo)
    assert r.code == 1, r.err
    shown = os.path.relpath(other, repo)
    lines = r.out.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{shown}/src/a.py:1: github-pat (high)")
    assert "outside the repository" not in r.err and tok not in r.out + r.err
    # Not in any repository: scanned with no policy.
    loose = tmp_path / "loose"
    write(loose, {"x.py": f'GH = "{token()}"\n'})
    r = run_cli("scan", str(loose / "x.py"), cwd=repo)
    assert r.code == 1 and r.out.startswith(f"{os.path.relpath(loose, repo)}/x.py:1: github-pat")
