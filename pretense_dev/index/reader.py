"""Read-only access to `.pretense/index.db` for the fast paths: the proxy, the hooks, the LSP.

`IndexStore` (store.py) owns the schema and every write, but importing it pulls
in the mutation kernel and the secrets package (about 25 ms, bench/hooks.py).
The tool hooks, the proxy's per-request poll and the language server's status
probe need a handful of point queries, so they read through this module, which
imports nothing but the standard library.  Keeping every read of the schema
here means a schema change is made in two files (store.py and this one), and
tests/index/test_reader.py checks this reader against what the store wrote.

The reader never creates, migrates or writes a database: it opens the file
read-write-existing (``mode=rw``, so SQLite may replay a WAL) and raises
`IndexUnreadable` with one line naming the fix when the file is missing,
corrupt or not an index.

**Is the map complete?**  An index is built by walking every file; a run that
is interrupted (Ctrl-C, a crash, a full disk) leaves a store whose map holds
only some of the repository's names, or none.  Forwarding code with such a map
would send unprotected names while the audit log says "mutated".  The store
sets ``meta.map_complete = '1'`` only when a run over the whole work tree has
finished and its map is written; every consumer that protects something asks
`map_complete()` and refuses when it is not.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

COMPLETE_KEY = "map_complete"
FIX_REBUILD = "run `pretense-dev index --full` in the repository to rebuild it"


class IndexUnreadable(Exception):
    """The index cannot be read: the message is one line and ends with the fix."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"the index {path} cannot be read ({reason}) — {FIX_REBUILD}")


class IndexReader:
    """Point queries on one index file; use as a context manager."""

    def __init__(self, path: Path, *, timeout: float = 5.0) -> None:
        self.path = path
        try:
            st = os.stat(path)
        except OSError as e:
            raise IndexUnreadable(path, e.strerror or type(e).__name__) from None
        # The file identity the connection was opened on: a rebuilt index is a new file.
        self.ident = (st.st_dev, st.st_ino)
        uri = Path(path).resolve().as_uri() + "?mode=rw"
        try:
            self.conn = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
        except sqlite3.Error as e:
            raise IndexUnreadable(path, str(e)) from None

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> IndexReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rows(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        try:
            return [tuple(r) for r in self.conn.execute(sql, args)]
        except sqlite3.DatabaseError as e:
            raise IndexUnreadable(self.path, str(e)) from None

    # -- the map's state -----------------------------------------------------

    def map_state(self) -> tuple[int, bool]:
        """(map_version, map complete?) in one query: what the proxy polls per request."""
        meta = {
            str(k): str(v)
            for k, v in self._rows(
                "SELECT key, value FROM meta WHERE key IN (?, 'map_version', 'config_fingerprint')",
                (COMPLETE_KEY,),
            )
        }
        try:
            version = int(meta.get("map_version", "0"))
        except ValueError:
            raise IndexUnreadable(self.path, "its map version is not a number") from None
        if COMPLETE_KEY in meta:
            return version, meta[COMPLETE_KEY] == "1"
        # A store written before the flag existed (migration m003 not applied yet):
        # a run that finished left the config fingerprint it computed the map with.
        migrated = self._rows("SELECT 1 FROM _migrations WHERE name = 'm003_map_complete'")
        return version, not migrated and "config_fingerprint" in meta

    def map_version(self) -> int:
        """Bumped on every change to the map."""
        return self.map_state()[0]

    def map_complete(self) -> bool:
        """Whether a run over the whole work tree has finished and written its map."""
        return self.map_state()[1]

    # -- identifiers ---------------------------------------------------------

    def active_count(self) -> int:
        """How many names are protected now."""
        return int(str(self._rows("SELECT count(*) FROM identifiers WHERE active = 1")[0][0]))

    def map_rows(self) -> Iterator[tuple[str, str, bool]]:
        """(name, synthetic, active) of every issued synthetic."""
        for n, s, a in self._rows("SELECT name, synthetic, active FROM identifiers"):
            yield str(n), str(s), bool(a)

    def sample_active(self, n: int, *, include: tuple[str, ...] = ()) -> list[tuple[str, str]]:
        """`n` random protected (name, synthetic) pairs, plus the named ones when protected."""
        rows = self._rows(
            "SELECT name, synthetic FROM identifiers WHERE active = 1 ORDER BY random() LIMIT ?",
            (n,),
        )
        for name in include:
            rows += self._rows(
                "SELECT name, synthetic FROM identifiers WHERE active = 1 AND name = ?", (name,)
            )
        return [(str(a), str(b)) for a, b in rows]

    # -- files and findings --------------------------------------------------

    def file_stat(self, rel: str) -> tuple[int, int] | None:
        """(size, mtime_ns) of `rel` when the indexer last read it, or None if not indexed."""
        rows = self._rows("SELECT size, mtime_ns FROM files WHERE path = ?", (rel,))
        return None if not rows else (int(str(rows[0][0])), int(str(rows[0][1])))

    def findings(self, rel: str) -> list[tuple[str, str, int, str]]:
        """(rule, fingerprint, line, redacted) of each secret stored for `rel`, by line."""
        return [
            (str(r), str(f), int(str(line)), str(red))
            for r, f, line, red in self._rows(
                "SELECT rule, fingerprint, line, redacted FROM findings "
                "WHERE path = ? ORDER BY line, rule",
                (rel,),
            )
        ]

    def every_finding(self) -> list[tuple[str, str, str, int, int, str, str]]:
        """(path, rule, fingerprint, line, end_line, redacted, confidence) of every stored secret.

        By path and line: what `init` reports as blocking agents.
        """
        return [
            (str(p), str(r), str(f), int(str(line)), int(str(end)), str(red), str(conf))
            for p, r, f, line, end, red, conf in self._rows(
                "SELECT path, rule, fingerprint, line, end_line, redacted, confidence "
                "FROM findings ORDER BY path, line, rule"
            )
        ]


def index_problem(path: Path) -> tuple[str, str] | None:
    """None when `path` is a readable, complete index; else (what is wrong, the fixing command).

    What `verify`, `doctor` and the hooks ask before they call a repository protected.
    """
    try:
        with IndexReader(path) as r:
            _, complete = r.map_state()
    except IndexUnreadable as e:
        return f"the index {path} cannot be read ({e.reason})", "pretense-dev index --full"
    if not complete:
        return (
            f"the identifier map in {path} is incomplete (an index run did not finish), "
            "so nothing is protected",
            "pretense-dev index",
        )
    return None
