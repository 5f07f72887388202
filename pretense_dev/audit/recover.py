"""`pretense-dev audit recover`: a damaged audit log is kept, and a new chain continues from it.

A log SQLite cannot read (a disk error, a bad copy, a truncated file) stops the
proxy: it refuses every request it cannot record.  Recovery must neither drop
the evidence that is still there nor pretend the damaged part verified:

1. the rows of the damaged file are read in chain order for as long as they
   read and re-derive (`chain.Checker`); the last one that does is the
   **last verifiable head**;
2. those rows are written to an archive file in the export format
   (``audit-archive/audit-<first>-<last>.jsonl.gz``, verifiable on its own),
   exactly as `audit archive` does;
3. a new log is built under a temporary name holding the damaged log's
   checkpoints (when readable) and one more checkpoint for that archive, then
   the damaged file is renamed ``audit.db.damaged-<UTC time>`` (kept, never
   deleted) and the new one moved into its place.  New rows link to the last
   verifiable head, so `audit verify` checks the old rows through the archive
   and the new ones from where they stopped; rows after the damage are in the
   kept file only, and the command says how many could not be verified.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pretense_dev.audit import chain
from pretense_dev.audit.chain import Head
from pretense_dev.audit.checkpoints import Checkpoint, default_archive_dir, write_archive

if TYPE_CHECKING:
    from pretense_dev.audit.store import ChainReport

_ROW = tuple[int, int | None, bytes, str, str]


@dataclass(frozen=True)
class RecoverResult:
    """What recovery kept and where."""

    kept: Path  # the damaged file, renamed
    head: Head | None  # the last verifiable position (None: nothing verified)
    salvaged: int  # rows written to the archive
    unreadable: int | None  # rows past the head that could not be verified (None: unknown)
    archive: Path | None


def _read(path: Path) -> tuple[list[Checkpoint], list[_ROW], int | None]:
    """The damaged log's checkpoints and its rows up to the first failure; total rows if known."""
    checkpoints: list[Checkpoint] = []
    rows: list[_ROW] = []
    total: int | None = None
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return checkpoints, rows, total
    with contextlib.closing(conn):
        with contextlib.suppress(sqlite3.Error):
            from pretense_dev.audit.checkpoints import load_checkpoints

            checkpoints = load_checkpoints(conn)
        with contextlib.suppress(sqlite3.Error):
            total = int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
        try:
            cur = conn.execute(
                "SELECT seq, json_extract(data, '$.seq'), CAST(data AS BLOB), prev_hash, hash "
                "FROM events ORDER BY seq"
            )
            while batch := cur.fetchmany(4096):
                rows.extend((int(a), b, bytes(c), str(d), str(e)) for a, b, c, d, e in batch)
        except sqlite3.Error:
            pass  # stop at the first page that does not read
    return checkpoints, rows, total


def _verifiable(start: Head, rows: list[_ROW]) -> list[_ROW]:
    """The longest prefix of `rows` that re-derives from `start`."""
    checker = chain.Checker(start)
    good: list[_ROW] = []
    for row in rows:
        checker.run([row])
        if checker.problems:
            break
        good.append(row)
    return good


def _write_archive(path: Path, rows: list[_ROW]) -> str:
    return write_archive(path, ((data, prev, h) for _, _, data, prev, h in rows))


def intact(path: Path) -> ChainReport | None:
    """The log's verification when it reads and verifies whole; None when it is damaged.

    Recovery is for a log that does not verify: run on an intact one it would
    still rename it ``.damaged-…`` and start a new file, calling good evidence
    damaged (and a running proxy would keep writing to the renamed file).
    """
    from pretense_dev.audit.store import AuditStore
    from pretense_dev.errors import PretenseError

    if not path.exists():
        return None
    try:
        with AuditStore.open_readonly(path) as store:
            report = store.verify()
    except (sqlite3.Error, PretenseError):
        return None
    return report if report.ok else None


def recover(path: Path, *, archive_dir: Path | None = None) -> RecoverResult:
    """Keep the damaged log at `path`, and put a new one anchored to its last verifiable head."""
    from pretense_dev.audit.store import MIGRATIONS, AuditError
    from pretense_dev.paths import ensure_private_dir
    from pretense_dev.sqlite import open_database, transaction

    if not path.exists():
        raise AuditError(f"no audit log at {path}", "there is nothing to recover")
    archive_dir = archive_dir or default_archive_dir(path)
    checkpoints, rows, total = _read(path)
    start = checkpoints[-1].head if checkpoints else chain.START
    good = _verifiable(start, rows)
    head = Head(good[-1][0], good[-1][4]) if good else (start if start.seq else None)
    archive: Path | None = None
    new_cp: Checkpoint | None = None
    if good:
        ensure_private_dir(archive_dir)
        archive = archive_dir / f"audit-{good[0][0]:012d}-{good[-1][0]:012d}.jsonl.gz"
        digest = _write_archive(archive, good)
        times = [chain_time(r[2]) for r in good]
        known = [t for t in times if t is not None]
        new_cp = Checkpoint(
            good[-1][0],
            good[-1][4],
            start.seq + 1,
            start.hash,
            len(good),
            min(known) if known else None,
            max(known) if known else None,
            archive.name,
            digest,
            time.time(),
        )
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.unlink(tmp_name)  # open_database creates it atomically (0600)
    tmp = Path(tmp_name)
    try:
        with (
            contextlib.closing(open_database(tmp, MIGRATIONS, mode=0o600)) as conn,
            transaction(conn),
        ):
            for cp in checkpoints:
                cp.insert(conn)
            if new_cp is not None:
                new_cp.insert(conn)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        kept = path.with_name(f"{path.name}.damaged-{stamp}")
        os.replace(path, kept)
        for suffix in ("-wal", "-shm"):
            side = Path(f"{path}{suffix}")
            if side.exists():
                os.replace(side, Path(f"{kept}{suffix}"))
        os.replace(tmp, path)
    except BaseException:
        for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(p)
        raise
    unreadable = None if total is None else max(total - len(good), 0)
    return RecoverResult(kept, head, len(good), unreadable, archive)


def chain_time(data: bytes) -> float | None:
    """The event time a stored record carries (for the checkpoint's period), if any."""
    import json

    try:
        value = json.loads(data).get("time")
    except (ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, int | float) else None
