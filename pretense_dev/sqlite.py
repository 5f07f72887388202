"""SQLite done carefully: recorded, ordered migrations and atomic creation.

Both on-disk stores (`index/`, `audit/`) declare their schema as a list of
named migration functions applied in order and recorded in `_migrations`
(so an old file upgrades the same way every time); tests pin the resulting
schema.  A new database is built under a temp name and moved into place, so
a crash never leaves a half-migrated file.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

Migration = Callable[[sqlite3.Connection], None]


class Migrations:
    """An ordered registry: decorate each `mNNN_name(conn)` function with it."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, Migration]] = []

    def __call__(self, fn: Migration) -> Migration:
        """Register `fn` as the next migration (its name is what gets recorded)."""
        if any(name == fn.__name__ for name, _ in self.steps):
            raise ValueError(f"duplicate migration {fn.__name__}")
        self.steps.append((fn.__name__, fn))
        return fn

    def apply(self, conn: sqlite3.Connection) -> list[str]:
        """Run every migration not yet recorded, each in its own transaction."""
        with transaction(conn):
            conn.execute(
                "CREATE TABLE IF NOT EXISTS _migrations "
                "(name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
            )
            done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
        applied = []
        for name, fn in self.steps:
            if name in done:
                continue
            with transaction(conn):
                # Another process may have applied it since `done` was read.
                if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                    continue
                fn(conn)
                conn.execute(
                    "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, time.time())
                )
            applied.append(name)
        return applied


def open_database(
    path: Path, migrations: Migrations, *, mode: int = 0o644, wal: bool = False
) -> sqlite3.Connection:
    """Open `path`, creating it atomically and migrating it to the current schema."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        os.chmod(tmp, mode)
        try:
            with contextlib.closing(sqlite3.connect(tmp, isolation_level=None)) as conn:
                migrations.apply(conn)
            # A concurrent creator may have won; then use theirs (same schema).
            if path.exists():
                os.unlink(tmp)
            else:
                os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    # isolation_level=None: no implicit BEGINs; every write uses `transaction()`.
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    try:
        if wal:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        migrations.apply(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def schema(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(type, name, sql) of every table, index and trigger: what tests pin."""
    return [
        (t, n, " ".join((s or "").split()))
        for t, n, s in conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
            "ORDER BY type, name"
        )
    ]


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """`BEGIN IMMEDIATE` … commit/rollback: take the write lock up front.

    Deferred transactions that read first and write later can fail with
    SQLITE_BUSY mid-way when another process writes; immediate ones wait.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
