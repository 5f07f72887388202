"""Where things live: the repository's `.pretense/` and the user-level dirs.

User-level state (registry, key fallback, audit log, proxy pid/port file, logs)
follows platformdirs, so tests isolate it by pointing HOME and XDG_* at a tmp
dir (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from pretense_dev.errors import PretenseError, UsageError

APP = "pretense-dev"
STATE_DIR = ".pretense"
CONFIG_NAME = "config.toml"
INDEX_NAME = "index.db"
REPO_ID_NAME = "repo-id"


def user_data_dir() -> Path:
    """Registry, key-file fallback and the audit log (platformdirs user data dir)."""
    import platformdirs  # deferred: 3 ms that `mutate -` on a pipe does not need

    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def user_state_dir() -> Path:
    """The proxy's pid/port file and other per-user runtime state."""
    import platformdirs

    return Path(platformdirs.user_state_dir(APP, appauthor=False))


def user_log_dir() -> Path:
    """Logs: the proxy log and tracebacks of internal errors."""
    import platformdirs

    return Path(platformdirs.user_log_dir(APP, appauthor=False))


def user_cache_dir() -> Path:
    """Derived data that can be rebuilt (parsed rules, compiled prefilter).

    On Linux the XDG rule is applied directly: hooks read this on every commit,
    and importing platformdirs costs 8 ms of a 150 ms budget.
    """
    import sys

    platform: str = sys.platform  # a variable: the other branch is real on other systems
    if platform.startswith("linux"):
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return Path(base) / APP
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP, appauthor=False))


def read_cache(name: str) -> bytes | None:
    """A cache file's bytes, or None (missing, unreadable: the caller rebuilds)."""
    try:
        return (user_cache_dir() / name).read_bytes()
    except OSError:
        return None


def write_cache(name: str, data: bytes) -> None:
    """Write a cache file atomically; a cache that cannot be written is not an error."""
    with contextlib.suppress(OSError):
        d = ensure_private_dir(user_cache_dir())
        atomic_write(d / name, data, mode=0o600)


def find_repo_root(start: Path | None = None) -> Path:
    """The top of the git work tree containing `start` (default: the cwd).

    Walks up looking for `.git` (a directory, or a file for worktrees and
    submodules) instead of running git: hooks call this on every prompt.
    """
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / ".git").exists():
            return d
    for d in (here, *here.parents):
        # A bare repository is a git repository without files to protect:
        # saying "not inside a git repository" there sends people looking for
        # the wrong problem.
        if (d / "HEAD").is_file() and (d / "objects").is_dir() and (d / "refs").is_dir():
            raise UsageError(
                f"{d} is a bare git repository: it has no work tree to protect",
                f"run this in a clone with a work tree (git clone {d})",
            )
    raise UsageError(f"{here} is not inside a git repository", "run this in a git repository")


def state_dir(root: Path) -> Path:
    """`<repo>/.pretense`."""
    return root / STATE_DIR


def ensure_private_dir(path: Path) -> Path:
    """Create a directory readable only by the user (keys and logs live there)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def atomic_write(path: Path, data: bytes | str, mode: int = 0o644) -> None:
    """Write `data` via a temp file in the same directory and `os.replace`.

    See `atomic_writer`; a path that is not a regular file is refused.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_writer(path, mode) as f:
        f.write(raw)


@contextlib.contextmanager
def atomic_writer(path: Path, mode: int = 0o644, *, devices: bool = False) -> Iterator[IO[bytes]]:
    """A binary file that replaces `path` only when the block ends without an error.

    A crash or a full disk leaves either the old file or the new one, never a
    half-written config.  The temp file is created with `mode`
    already set, so a 0600 file is never briefly world-readable.

    A symlink is followed (a dotfile kept in a dotfiles repo stays a link, and
    its target is what changes).  Anything that is not a regular file is
    refused — `os.replace` onto `/dev/null` once turned the device into a
    regular file on this machine, breaking every process that used it — unless
    `devices` is true (an export to `/dev/stdout` or a FIFO), when it is
    written directly instead.
    """
    import stat
    import tempfile

    if path.is_symlink():
        path = path.resolve()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        pass
    else:
        if not stat.S_ISREG(st.st_mode):
            if devices and not stat.S_ISDIR(st.st_mode):
                with open(path, "wb") as direct:
                    yield direct
                return
            raise PretenseError(
                f"refusing to write {path}: it is not a regular file", "check the path"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
