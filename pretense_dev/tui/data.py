"""How the TUI reads the log: read-only connections, one per worker call.

SQLite connections are cheap to open (~0.1 ms) and must not be shared across
threads mid-query, so each worker opens its own ``mode=ro`` connection; the
app keeps one more, on the UI thread, only for the change probe.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from rich.text import Text

from pretense_dev.audit.store import connect_readonly


@contextlib.contextmanager
def reading(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection for one unit of work."""
    conn = connect_readonly(path)
    try:
        yield conn
    finally:
        conn.close()


def data_version(conn: sqlite3.Connection) -> int:
    """Changes whenever another connection commits: a cheap 'anything new?' probe."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def repo_label(repo_path: str, repo_id: str) -> str:
    """A short name for a repository: its directory name, else its id."""
    if repo_path:
        return repo_path.rstrip("/").rsplit("/", 1)[-1]
    return repo_id[:12] or "?"


def size(n: int) -> str:
    """``1.4 MB``, ``31 kB``, ``512 B`` (decimal units)."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 1_000:
        return f"{n / 1_000:.0f} kB"
    return f"{n} B"


STATUS_STYLE = {
    "UNPROTECTED": "bold white on red",
    "secret": "bold red",
    "drift": "bold yellow",
    "blocked": "yellow",
    "error": "magenta",
    "ok": "green",
}


def status_text(status: str) -> Text:
    """A coloured status cell."""
    return Text(status, style=STATUS_STYLE.get(status, ""))
