"""Shared fixtures: isolation from the real user, real git repositories, the CLI.

Every test runs with HOME and XDG_* pointed at its own tmp dir, and with the
`fail` keyring backend, so writing to the real home or the real keyring is
impossible: user-level state goes to tmp, and a keyring call finds no backend
(the key goes to the 0600 file fallback in tmp).

Git gets a fixed identity and an empty global config for the whole session, so
the suite runs the same on a fresh machine with no `user.name` configured as on
a developer's laptop with a `~/.gitconfig` full of settings (signing, hooks…).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from pretense_dev import paths

# No per-example deadline: on a loaded 2-core CI machine one example of a
# property test can exceed hypothesis' 200 ms default without anything being
# wrong; speed is measured in bench/, not asserted here.
settings.register_profile("pretense", deadline=None)
settings.load_profile("pretense")

REPO_ROOT = Path(__file__).resolve().parent.parent
REAL_HOME = Path.home()
# The real user's pretense-dev dirs, computed before any test redirects HOME/XDG.
REAL_USER_DIRS = (paths.user_data_dir(), paths.user_state_dir(), paths.user_log_dir())

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def pytest_report_header() -> list[str]:
    return [f"sqlite: {sqlite3.sqlite_version}"]


def _snapshot(dirs: tuple[Path, ...]) -> dict[str, tuple[int, int]]:
    out = {}
    for d in dirs:
        if d.exists():
            for p in [d, *d.rglob("*")]:
                st = p.stat()
                out[str(p)] = (st.st_mtime_ns, st.st_size)
    return out


@pytest.fixture(autouse=True, scope="session")
def git_identity(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every git run of the session, session fixtures included, commits as the test author.

    Autouse session fixtures run before the other session fixtures, which run
    before the per-test `isolated_user`: without this one a session fixture that
    commits would read the real `~/.gitconfig`, and fail where there is none.
    """
    empty = tmp_path_factory.mktemp("git-global") / "gitconfig"
    empty.write_text("", encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        for k, v in GIT_ENV.items():
            mp.setenv(k, v)
        mp.setenv("GIT_CONFIG_GLOBAL", str(empty))
        yield


@pytest.fixture(autouse=True, scope="session")
def real_user_dirs_untouched() -> Iterator[None]:
    """Fail the run if any test wrote to the real user's pretense-dev dirs."""
    import stat

    before = _snapshot(REAL_USER_DIRS)
    yield
    assert _snapshot(REAL_USER_DIRS) == before, "a test wrote to the real user's directories"
    # Something once replaced /dev/null with a regular file (an atomic write aimed at it).
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode), f"{os.devnull} is no longer a device"


@pytest.fixture(autouse=True)
def isolated_user(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A fresh fake HOME for every test; the real one and the real keyring are out of reach."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_RUNTIME_DIR", "run"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    for k, v in GIT_ENV.items():
        monkeypatch.setenv(k, v)
    # Subprocesses import this checkout and the tests package (test keyring backend).
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))
    for d in (paths.user_data_dir(), paths.user_state_dir(), paths.user_log_dir()):
        assert REAL_HOME not in d.parents or home in d.parents, d
    return home


def git(repo: Path, *args: str) -> str:
    """Run git in `repo`; return stdout."""
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """An empty git repository with one commit."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "root")
    return repo


def write(root: Path, files: dict[str, str]) -> None:
    """Create files (and their directories) under root."""
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(*args: str, cwd: Path | None = None, stdin: str | bytes | None = None) -> Result:
    """Run `pretense-dev` in a fresh interpreter, the way a user or a hook would."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    p = subprocess.run(
        [sys.executable, "-m", "pretense_dev", *args],
        cwd=cwd,
        input=data,
        capture_output=True,
        env=os.environ.copy(),
    )
    return Result(
        p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    )


def cli_on_a_terminal(
    args: list[str], cwd: Path, *, columns: int = 100, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal, stdout piped: (code, stdout, stderr).

    Stderr is returned raw (terminal codes and all) so a test can assert what a
    terminal was sent.  NO_COLOR, COLUMNS and LINES are removed unless `env` sets them.
    """
    master, slave = open_terminal(columns)
    p = subprocess.Popen(
        [sys.executable, "-m", "pretense_dev", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=terminal_env(env or {}),
    )
    os.close(slave)
    err = read_terminal(master)
    assert p.stdout is not None
    out = p.stdout.read().decode()
    return p.wait(timeout=120), out, err.decode("utf-8", "replace")


def open_terminal(columns: int) -> tuple[int, int]:
    """A pseudo-terminal (master, slave) of 40 rows and `columns` columns."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    return master, slave


def terminal_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment a colour terminal gets: no NO_COLOR, COLUMNS or LINES, then `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    env.update({"TERM": "xterm-256color", **extra})
    return env


def read_terminal(master: int) -> bytes:
    """All a child wrote to the terminal until it closed its side; closes `master`."""
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed its side
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return b"".join(chunks)


@pytest.fixture
def in_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Chdir helper: `in_dir(path)`."""

    def go(path: Path) -> None:
        monkeypatch.chdir(path)

    yield go
