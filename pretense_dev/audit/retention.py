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
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pretense_dev.audit import chain
from pretense_dev.audit.chain import GENESIS, Head, Problem
from pretense_dev.errors import PretenseError

ARCHIVE_DIR_NAME = "audit-archive"


@dataclass(frozen=True)
class Checkpoint:
    """Rows ``seq_start``–``seq_end`` live in ``archive``; they end on ``hash_end``."""

    seq_end: int
    hash_end: str
    seq_start: int
    prev_hash: str
    rows: int
    first_time: float | None
    last_time: float | None
    archive: str
    archive_sha256: str
    created_at: float

    def insert(self, conn: sqlite3.Connection) -> None:
        """Record this checkpoint (one place: `archive` and `audit recover` both write them)."""
        conn.execute(
            "INSERT INTO checkpoints (seq_end, hash_end, seq_start, prev_hash, rows, "
            "first_time, last_time, archive, archive_sha256, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.seq_end,
                self.hash_end,
                self.seq_start,
                self.prev_hash,
                self.rows,
                self.first_time,
                self.last_time,
                self.archive,
                self.archive_sha256,
                self.created_at,
            ),
        )

    @property
    def head(self) -> Head:
        """The position the live rows continue from."""
        return Head(self.seq_end, self.hash_end)


@dataclass
class CheckpointResult:
    """What checking the checkpoints and their archives found."""

    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows: int = 0


@dataclass(frozen=True)
class ArchiveResult:
    """What `archive` did."""

    checkpoint: Checkpoint | None  # None: nothing was old enough
    path: Path | None


def default_archive_dir(db_path: Path) -> Path:
    """Archives live beside the log."""
    return db_path.parent / ARCHIVE_DIR_NAME


def load_checkpoints(conn: sqlite3.Connection) -> list[Checkpoint]:
    """Every checkpoint, oldest first."""
    rows = conn.execute(
        "SELECT seq_end, hash_end, seq_start, prev_hash, rows, first_time, last_time, archive, "
        "archive_sha256, created_at FROM checkpoints ORDER BY seq_end"
    ).fetchall()
    return [Checkpoint(*r) for r in rows]


def verify_checkpoints(
    checkpoints: Sequence[Checkpoint],
    archive_dir: Path,
    *,
    anchors: Sequence[Head] = (),
    check_archives: bool = True,
) -> CheckpointResult:
    """Check that checkpoints join up and (optionally) re-derive their archives."""
    out = CheckpointResult()
    expected = chain.START
    unchecked = 0
    for cp in checkpoints:
        span = f"rows {cp.seq_start}–{cp.seq_end}"
        if cp.seq_start != expected.seq + 1 or cp.prev_hash != expected.hash:
            out.problems.append(
                Problem(
                    cp.seq_start,
                    chain.CHECKPOINT,
                    f"the archive checkpoint for {span} does not continue from "
                    f"row {expected.seq} (rows removed or a checkpoint forged)",
                )
            )
        inside = [a for a in anchors if cp.seq_start <= a.seq <= cp.seq_end]
        if check_archives:
            out.rows += _check_archive(cp, archive_dir / cp.archive, inside, out.problems)
        else:
            for a in inside:
                if a.seq == cp.seq_end and a.hash != cp.hash_end:
                    out.problems.append(
                        Problem(a.seq, chain.ANCHOR, "differs from the archive checkpoint")
                    )
                elif a.seq != cp.seq_end:
                    unchecked += 1
        expected = cp.head
    if unchecked:
        out.notes.append(f"{unchecked} recorded head(s) inside archives were not checked")
    return out


def _check_archive(
    cp: Checkpoint, path: Path, anchors: Sequence[Head], problems: list[Problem]
) -> int:
    span = f"rows {cp.seq_start}–{cp.seq_end}"
    try:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except FileNotFoundError:
        problems.append(
            Problem(
                cp.seq_start,
                chain.ARCHIVE_MISSING,
                f"archive {path} holding {span} is missing (restore it to verify those rows)",
            )
        )
        return 0
    if digest.hexdigest() != cp.archive_sha256:
        problems.append(
            Problem(
                cp.seq_start, chain.ARCHIVE_ALTERED, f"archive {path} was changed after writing"
            )
        )
    checker = chain.Checker(Head(cp.seq_start - 1, cp.prev_hash))
    wanted = {a.seq: a.hash for a in anchors}
    try:
        with gzip.open(path, "rb") as lines:
            batch: list[tuple[int, int | None, bytes, str, str]] = []
            for line in lines:
                seq, data, prev_hash, hash_ = chain.split_line(line)
                if seq in wanted and wanted.pop(seq) != hash_:
                    problems.append(Problem(seq, chain.ANCHOR, "differs from its recorded hash"))
                batch.append((seq, _data_seq(data), data, prev_hash, hash_))
                if len(batch) >= 65536:
                    checker.run(batch)
                    batch = []
            checker.run(batch)
    except (OSError, ValueError, KeyError, EOFError) as e:
        problems.append(
            Problem(cp.seq_start, chain.ARCHIVE_ALTERED, f"archive {path} is unreadable: {e}")
        )
        return 0
    problems.extend(checker.problems)
    if checker.last != cp.head:
        problems.append(
            Problem(
                cp.seq_end,
                chain.ARCHIVE_ALTERED,
                f"archive {path} ends at row {checker.last.seq}, not on its checkpoint",
            )
        )
    for seq in wanted:
        problems.append(Problem(seq, chain.TRUNCATED, f"recorded row {seq} is not in {path}"))
    return checker.rows


def _data_seq(data: bytes) -> int | None:
    import json

    v = json.loads(data).get("seq")
    return v if isinstance(v, int) else None


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
    """Stream rows to a gzip JSONL temp file, fsync, rename; return its SHA-256."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as raw:
            # mtime=0: the same rows always give the same bytes.
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                for data, prev_hash, hash_ in conn.execute(
                    "SELECT CAST(data AS BLOB), prev_hash, hash FROM events "
                    "WHERE seq > ? AND seq <= ? ORDER BY seq",
                    (after, upto),
                ):
                    gz.write(chain.export_line(data, prev_hash, hash_) + b"\n")
            raw.flush()
            os.fsync(raw.fileno())
        digest = hashlib.sha256(Path(tmp).read_bytes()).hexdigest()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return digest


__all__ = [
    "GENESIS",
    "ArchiveResult",
    "Checkpoint",
    "archive",
    "default_archive_dir",
    "load_checkpoints",
    "verify_checkpoints",
]
