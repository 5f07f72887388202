"""The per-repo store, `.pretense/index.db`: files, definitions, issued names.

Tables (see `MIGRATIONS`):

* ``files``        one row per indexed file: path, content hash, language, size, mtime;
* ``definitions``  which file defines which name (kind, line) — what `explain` shows;
* ``identifiers``  every synthetic ever issued: name → synthetic, kind, ``active``.
  A row is never deleted and its synthetic never changes (a synthetic, once
  issued, keeps its meaning in answers that come back later); ``active`` says whether the name is
  protected now (defined somewhere and allowed by the config, or in `always`);
* ``lookalikes``   real tokens shaped like synthetics, so none is ever issued;
* ``findings``     secrets found in each indexed file, by identity (path, rule,
  fingerprint) with the line for display — never the value (m002);
* ``meta``         ``map_version`` (bumped whenever the map changes, so the proxy
  can reload cheaply), the config fingerprint the map was computed with, and
  ``synth_scheme``, the shape of the synthetics this store issues
  (`mutation.synth`; fixed when the first synthetic is issued).

WAL mode lets the proxy and the language server read while the watcher writes.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pretense_dev.errors import PretenseError
from pretense_dev.identifiers import KIND_RANK_SQL
from pretense_dev.mutation import IdentifierMap
from pretense_dev.secrets.model import Finding
from pretense_dev.sqlite import Migrations, open_database, transaction

MIGRATIONS = Migrations()


@MIGRATIONS
def m001_initial(conn: sqlite3.Connection) -> None:
    """Files, definitions, identifiers, lookalikes, meta."""
    conn.execute(
        """
        CREATE TABLE files (
            path TEXT PRIMARY KEY,
            sha256 TEXT NOT NULL,
            language TEXT,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL
        )
        """
    )
    conn.execute(
        """
        CREATE TABLE definitions (
            path TEXT NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            line INTEGER NOT NULL
        )
        """
    )
    conn.execute("CREATE INDEX definitions_name ON definitions (name)")
    conn.execute("CREATE INDEX definitions_path ON definitions (path)")
    conn.execute(
        """
        CREATE TABLE identifiers (
            name TEXT PRIMARY KEY,
            synthetic TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            active INTEGER NOT NULL,
            seq INTEGER NOT NULL
        )
        """
    )
    conn.execute("CREATE TABLE lookalikes (token TEXT PRIMARY KEY) WITHOUT ROWID")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO meta (key, value) VALUES ('map_version', '0')")


@MIGRATIONS
def m002_findings(conn: sqlite3.Connection) -> None:
    """Secret findings per file: identity (path, rule, fingerprint), line for display.

    The language server and the proxy ask "does this file hold a secret?"
    without re-scanning.  No column can hold a value: the fingerprint is an
    HMAC under the repo key and `redacted` is at most 4 characters + length.
    """
    conn.execute(
        """
        CREATE TABLE findings (
            path TEXT NOT NULL,
            rule TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            line INTEGER NOT NULL,
            end_line INTEGER NOT NULL,
            redacted TEXT NOT NULL,
            confidence TEXT NOT NULL,
            PRIMARY KEY (path, rule, fingerprint)
        ) WITHOUT ROWID
        """
    )


@MIGRATIONS
def m003_map_complete(conn: sqlite3.Connection) -> None:
    """`meta.map_complete`: '1' once a run over the whole work tree has written its map.

    A store built before the flag existed is complete when a run finished
    (it left its config fingerprint); a new store starts incomplete.
    """
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) SELECT 'map_complete', "
        "CASE WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'config_fingerprint') "
        "THEN '1' ELSE '0' END"
    )


@dataclass(frozen=True)
class FileState:
    """What the store knows of a file, to decide whether to re-read it."""

    sha256: str
    size: int
    mtime_ns: int
    language: str | None


@dataclass(frozen=True)
class FileRecord:
    """A freshly indexed file, ready to be written."""

    path: str
    sha256: str
    language: str | None
    size: int
    mtime_ns: int
    definitions: tuple[tuple[str, str, int], ...]  # (name, kind, line)
    lookalikes: tuple[str, ...]
    # None: not scanned (the file's stored findings are left as they are).
    findings: tuple[Finding, ...] | None = None


@dataclass(frozen=True)
class Issued:
    """One row of `identifiers`."""

    name: str
    synthetic: str
    kind: str
    active: bool


def _not_damage(e: sqlite3.OperationalError) -> bool:
    """Busy, locked or unopenable: a fault of the moment or of permissions, not of the file."""
    text = str(e)
    return any(w in text for w in ("locked", "busy", "unable to open", "readonly"))


class IndexDamaged(PretenseError):
    """The index cannot be read; the fix is a rebuild (index/build.py)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"the index {path} is damaged ({reason})",
            "run `pretense-dev index --full` to rebuild it (issued synthetic names are kept)",
        )


class IndexStore:
    """Typed access to index.db; every write is one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.conn = open_database(path, MIGRATIONS, wal=True)
        except sqlite3.DatabaseError as e:
            if isinstance(e, sqlite3.OperationalError) and _not_damage(e):
                raise
            raise IndexDamaged(path, str(e)) from None
        st = os.stat(path)
        self._ident = (st.st_dev, st.st_ino)
        try:  # the tables every reader needs: a file missing one is not an index
            self.conn.execute("SELECT 1 FROM meta, identifiers, files, definitions LIMIT 1")
        except sqlite3.DatabaseError as e:
            self.conn.close()
            if isinstance(e, sqlite3.OperationalError) and _not_damage(e):
                raise
            raise IndexDamaged(path, str(e)) from None

    def close(self) -> None:
        """Close the connection (use the store as a context manager instead)."""
        self.conn.close()

    def replaced(self) -> bool:
        """Whether `path` is now another file (a rebuild swapped a new index in, or it is gone).

        A long-lived holder (the watcher, the language server) reopens then:
        writes through this connection would go to a file nobody reads.
        """
        try:
            st = os.stat(self.path)
        except OSError:
            return True
        return (st.st_dev, st.st_ino) != self._ident

    def __enter__(self) -> IndexStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- meta -------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        """A value from `meta`, or None."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def synth_scheme(self) -> int:
        """The synthetic scheme of this store, recorded on first use.

        A store that issued synthetics before the scheme was recorded used
        scheme 1 and keeps it; an empty one takes the current scheme.
        """
        from pretense_dev.mutation.synth import SCHEME

        value = self.meta("synth_scheme")
        if value is not None:
            return int(value)
        with transaction(self.conn):
            value = self.meta("synth_scheme")
            if value is None:
                old = self.conn.execute("SELECT 1 FROM identifiers LIMIT 1").fetchone()
                value = "1" if old is not None else str(SCHEME)
                self.conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('synth_scheme', ?)", (value,)
                )
        return int(value)

    def map_version(self) -> int:
        """Bumped on every change to the map; the proxy polls it to reload."""
        return int(self.meta("map_version") or 0)

    def map_complete(self) -> bool:
        """Whether a run over the whole work tree has finished (see index/reader.py)."""
        return self.meta("map_complete") == "1"

    def mark_complete(self) -> None:
        """Record that the map now covers the whole work tree (the end of a whole-tree run)."""
        with self._tx():
            self.conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('map_complete', '1')"
            )

    # -- files ------------------------------------------------------------

    def file_states(self) -> dict[str, FileState]:
        """Every indexed file by path."""
        return {
            p: FileState(h, s, m, lang)
            for p, h, s, m, lang in self.conn.execute(
                "SELECT path, sha256, size, mtime_ns, language FROM files"
            )
        }

    def file_count(self) -> int:
        """How many files are indexed."""
        return int(self.conn.execute("SELECT count(*) FROM files").fetchone()[0])

    def languages(self) -> dict[str, int]:
        """Indexed files per language ("other" for the token fallback)."""
        return {
            (lang or "other"): n
            for lang, n in self.conn.execute(
                "SELECT language, count(*) FROM files GROUP BY language ORDER BY 2 DESC"
            )
        }

    def write_files(
        self,
        records: Iterable[FileRecord],
        removed: Iterable[str],
        touched: Iterable[tuple[str, int, int]] = (),
    ) -> set[str]:
        """Replace the rows of changed files, drop removed ones; return affected names.

        `touched` are (path, size, mtime_ns) of files whose content did not change.
        """
        records = list(records)
        removed = list(removed)
        c = self.conn
        with self._tx():
            gone = [r.path for r in records] + removed
            affected: set[str] = set()
            for i in range(0, len(gone), 500):
                chunk = gone[i : i + 500]
                marks = ",".join("?" * len(chunk))
                affected.update(
                    n
                    for (n,) in c.execute(
                        f"SELECT DISTINCT name FROM definitions WHERE path IN ({marks})", chunk
                    )
                )
                c.execute(f"DELETE FROM definitions WHERE path IN ({marks})", chunk)
            c.executemany("DELETE FROM files WHERE path = ?", ((p,) for p in removed))
            c.executemany("DELETE FROM findings WHERE path = ?", ((p,) for p in removed))
            for r in records:
                if r.findings is not None:
                    self._replace_findings(r.path, r.findings)
            c.executemany(
                "INSERT OR REPLACE INTO files (path, sha256, language, size, mtime_ns) "
                "VALUES (?, ?, ?, ?, ?)",
                ((r.path, r.sha256, r.language, r.size, r.mtime_ns) for r in records),
            )
            c.executemany(
                "INSERT INTO definitions (path, name, kind, line) VALUES (?, ?, ?, ?)",
                ((r.path, n, k, line) for r in records for n, k, line in r.definitions),
            )
            c.executemany(
                "INSERT OR IGNORE INTO lookalikes (token) VALUES (?)",
                ((t,) for r in records for t in r.lookalikes),
            )
            c.executemany(
                "UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?",
                ((s, m, p) for p, s, m in touched),
            )
            for r in records:
                affected.update(n for n, _, _ in r.definitions)
        return affected

    # -- secret findings ----------------------------------------------------

    def replace_findings(self, path: str, findings: Iterable[Finding]) -> None:
        """Make `findings` the stored findings of `path` (an empty list clears them)."""
        with self._tx():
            self._replace_findings(path, findings)

    def _replace_findings(self, path: str, findings: Iterable[Finding]) -> None:
        c = self.conn
        c.execute("DELETE FROM findings WHERE path = ?", (path,))
        c.executemany(
            "INSERT OR IGNORE INTO findings "
            "(path, rule, fingerprint, line, end_line, redacted, confidence) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (path, f.rule, f.fingerprint, f.line, f.end_line, f.redacted, f.confidence)
                for f in findings
            ),
        )

    def findings_for(self, path: str) -> list[Finding]:
        """The findings stored for one file, by line ("does this file hold a secret?")."""
        return self._findings("WHERE path = ?", (path,))

    def findings(self) -> list[Finding]:
        """Every stored finding, by path and line."""
        return self._findings("", ())

    def files_with_findings(self) -> set[str]:
        """Paths that hold at least one finding."""
        return {p for (p,) in self.conn.execute("SELECT DISTINCT path FROM findings")}

    def _findings(self, where: str, args: tuple[str, ...]) -> list[Finding]:
        return [
            Finding(rule, path, line, end_line, fp, red, conf)
            for path, rule, fp, line, end_line, red, conf in self.conn.execute(
                "SELECT path, rule, fingerprint, line, end_line, redacted, confidence "
                f"FROM findings {where} ORDER BY path, line, rule",
                args,
            )
        ]

    def _tx(self) -> contextlib.AbstractContextManager[object]:
        """A transaction, unless `bulk()` already opened one."""
        return contextlib.nullcontext() if self.conn.in_transaction else transaction(self.conn)

    def bulk(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One transaction around many `write_files` calls (a full index).

        Committing per batch cost 7 ms a commit — 0.8 s of a stdlib index.
        """
        return transaction(self.conn)

    # -- definitions and identifiers --------------------------------------

    def defined_names(self, names: Iterable[str] | None = None) -> dict[str, str]:
        """Defined names (all, or among `names`) with the kind of their first definition."""
        if names is None:
            rows = self.conn.execute(
                f"SELECT name, kind FROM definitions ORDER BY name, {KIND_RANK_SQL}, path, line"
            )
            out: dict[str, str] = {}
            for n, k in rows:
                out.setdefault(n, k)
            return out
        out = {}
        for n in names:
            row = self.conn.execute(
                "SELECT kind FROM definitions WHERE name = ? "
                f"ORDER BY {KIND_RANK_SQL}, path, line LIMIT 1",
                (n,),
            ).fetchone()
            if row is not None:
                out[n] = row[0]
        return out

    def definitions_of(self, name: str) -> list[tuple[str, str, int]]:
        """(path, kind, line) of every definition of `name`."""
        return list(
            self.conn.execute(
                "SELECT path, kind, line FROM definitions WHERE name = ? ORDER BY path, line",
                (name,),
            )
        )

    def issued(self, names: Iterable[str] | None = None) -> dict[str, Issued]:
        """Identifier rows by name: all of them, or those among `names`."""
        if names is None:
            rows: Iterable[tuple[str, str, str, int]] = self.conn.execute(
                "SELECT name, synthetic, kind, active FROM identifiers"
            )
        else:
            q = "SELECT name, synthetic, kind, active FROM identifiers WHERE name = ?"
            rows = [r for n in names for r in self.conn.execute(q, (n,))]
        return {n: Issued(n, s, k, bool(a)) for n, s, k, a in rows}

    def taken_tokens(self) -> set[str]:
        """Everything a new synthetic must differ from: synthetics, names, look-alikes."""
        out = {t for (t,) in self.conn.execute("SELECT token FROM lookalikes")}
        for n, s in self.conn.execute("SELECT name, synthetic FROM identifiers"):
            out.add(n)
            out.add(s)
        return out

    def is_taken(self, token: str) -> bool:
        """`token in taken_tokens()`, by point queries (for incremental runs)."""
        return (
            self.conn.execute(
                "SELECT 1 FROM identifiers WHERE synthetic = ?1 OR name = ?1 "
                "UNION ALL SELECT 1 FROM lookalikes WHERE token = ?1 LIMIT 1",
                (token,),
            ).fetchone()
            is not None
        )

    def update_identifiers(
        self,
        new: Iterable[tuple[str, str, str]],
        activate: Iterable[str],
        deactivate: Iterable[str],
        config_fingerprint: str | None = None,
    ) -> bool:
        """Issue (name, synthetic, kind) rows and flip `active`.

        Bumps map_version if anything changed; returns whether it did.
        """
        new = list(new)
        activate = list(activate)
        deactivate = list(deactivate)
        c = self.conn
        with transaction(c):
            changed = False
            if new:
                seq = int(c.execute("SELECT coalesce(max(seq), 0) FROM identifiers").fetchone()[0])
                c.executemany(
                    "INSERT INTO identifiers (name, synthetic, kind, active, seq) "
                    "VALUES (?, ?, ?, 1, ?)",
                    ((n, s, k, seq + i + 1) for i, (n, s, k) in enumerate(new)),
                )
                changed = True
            for names, flag in ((activate, 1), (deactivate, 0)):
                for n in names:
                    cur = c.execute(
                        "UPDATE identifiers SET active = ? WHERE name = ? AND active != ?",
                        (flag, n, flag),
                    )
                    changed = changed or cur.rowcount > 0
            if changed:
                c.execute(
                    "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'map_version'"
                )
            if config_fingerprint is not None:
                c.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('config_fingerprint', ?)",
                    (config_fingerprint,),
                )
        return changed

    def load_map(self) -> IdentifierMap:
        """The current map: active names forward, every issued synthetic back."""
        forward: dict[str, str] = {}
        issued: dict[str, str] = {}
        for n, s, a in self.conn.execute("SELECT name, synthetic, active FROM identifiers"):
            issued[s] = n
            if a:
                forward[n] = s
        return IdentifierMap(forward, issued)

    def active_count(self) -> int:
        """How many names are protected now."""
        return int(
            self.conn.execute("SELECT count(*) FROM identifiers WHERE active = 1").fetchone()[0]
        )
