"""Retention: move the oldest rows to an archive file without breaking the chain.

``pretense-dev audit archive --before 365d`` takes the longest prefix of the
log older than the cut-off, writes it to
``<audit dir>/audit-archive/audit-<first>-<last>.jsonl.gz`` (0600; the JSONL
lines are the export format, so the archive verifies on its own), then, in one
transaction, records a **checkpoint** — the rows' range, the hash they start
from and the hash they end on, the archive's name and SHA-256 — and deletes
the rows.  The first kept row still links to the checkpoint's hash, so
`verify` checks: checkpoints join end to end, each archive matches its
checkpoint byte for byte and re-derives to the hash it records, and the live
rows continue from the last one.

Archiving refuses a range that does not verify: a tampered log is not laundered
into a tidy archive.  The archive is complete on disk (fsync, rename) before
any row is deleted, so a crash loses nothing; at worst an unused archive file
is left behind and the next run overwrites it.

What a checkpoint is, and how `verify` re-checks one, lives in
`pretense_dev.audit.checkpoints`, below the store: `archive` uses the store,
the store's `verify` uses only the checkpoints.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from pretense_dev.audit import chain
from pretense_dev.audit.chain import GENESIS
from pretense_dev.audit.checkpoints import (
    Checkpoint,
    default_archive_dir,
    load_checkpoints,
    verify_checkpoints,
    write_archive,
)
from pretense_dev.errors import PretenseError


@dataclass(frozen=True)
class ArchiveResult:
    """What `archive` did."""

    checkpoint: Checkpoint | None  # None: nothing was old enough
    path: Path | None


def archive(db_path: Path, before: float, *, archive_dir: Path | None = None) -> ArchiveResult:
    """Archive every row older than `before` (Unix time) that starts the log.

    Rows are archived as a prefix: the first row at or after the cut-off (in
    chain order) ends the archive, even if a later row carries an older time.
    """
    import time

    from pretense_dev.audit.store import AuditStore, rebuild_sessions
    from pretense_dev.paths import ensure_private_dir
    from pretense_dev.sqlite import transaction

    archive_dir = archive_dir or default_archive_dir(db_path)
    with AuditStore(db_path) as store:
        conn = store.conn
        checkpoints = load_checkpoints(conn)
        start = checkpoints[-1].head if checkpoints else chain.START
        row = conn.execute("SELECT min(seq) FROM events WHERE time >= ?", (before,)).fetchone()
        last = conn.execute("SELECT max(seq) FROM events").fetchone()[0]
        if last is None:
            return ArchiveResult(None, None)
        seq_end = (row[0] - 1) if row[0] is not None else last
        if seq_end <= start.seq:
            return ArchiveResult(None, None)
        checker = chain.Checker(start)
        cur = conn.execute(
            "SELECT seq, data_seq, CAST(data AS BLOB), prev_hash, hash FROM events "
            "WHERE seq <= ? ORDER BY seq",
            (seq_end,),
        )
        while batch := cur.fetchmany(65536):
            checker.run(batch)
        if checker.problems:
            raise PretenseError(
                f"not archiving: rows {start.seq + 1}–{seq_end} do not verify "
                f"({checker.problems[0]})",
                "run `pretense-dev audit verify` and investigate first",
            )
        end = checker.last
        ensure_private_dir(archive_dir)
        name = f"audit-{start.seq + 1:012d}-{end.seq:012d}.jsonl.gz"
        path = archive_dir / name
        digest = _write_archive(conn, path, start.seq, end.seq)
        times = conn.execute(
            "SELECT min(time), max(time), count(*) FROM events WHERE seq <= ?", (end.seq,)
        ).fetchone()
        cp = Checkpoint(
            end.seq,
            end.hash,
            start.seq + 1,
            start.hash,
            int(times[2]),
            times[0],
            times[1],
            name,
            digest,
            time.time(),
        )
        with transaction(conn):
            keys = [
                r[0]
                for r in conn.execute(
                    "SELECT DISTINCT session FROM events WHERE seq <= ?", (end.seq,)
                )
            ]
            cp.insert(conn)
            conn.execute("DELETE FROM events WHERE seq <= ?", (end.seq,))
            rebuild_sessions(conn, keys)
        return ArchiveResult(cp, path)


def _write_archive(conn: sqlite3.Connection, path: Path, after: int, upto: int) -> str:
    """Stream rows `after` < seq <= `upto` into the archive at `path`; return its SHA-256."""
    return write_archive(
        path,
        conn.execute(
            "SELECT CAST(data AS BLOB), prev_hash, hash FROM events "
            "WHERE seq > ? AND seq <= ? ORDER BY seq",
            (after, upto),
        ),
    )


__all__ = [
    "GENESIS",
    "ArchiveResult",
    "Checkpoint",
    "archive",
    "default_archive_dir",
    "load_checkpoints",
    "verify_checkpoints",
]
