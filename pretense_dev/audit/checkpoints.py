"""Checkpoints: where archived rows went, and how `verify` re-checks them.

The read side of retention (see `pretense_dev.audit.retention` for how rows are
archived).  A checkpoint records an archived range of rows — its first and last
position, the hash it starts from and the hash it ends on, the archive file's
name and SHA-256.  The store's `verify` needs only this module, and `archive`
needs the store: keeping the two halves apart makes the dependency one way
(retention → store → checkpoints).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pretense_dev.audit import chain
from pretense_dev.audit.chain import GENESIS, Head, Problem

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


def write_archive(path: Path, rows: Iterable[tuple[bytes, str, str]]) -> str:
    """Write `(data, prev_hash, hash)` rows as a gzip JSONL archive; return its SHA-256.

    One writer for `archive` and `audit recover`: a 0600 temp file beside `path`,
    fsynced, then renamed, so a crash leaves the old state or the whole archive;
    gzip's mtime=0 makes the same rows give the same bytes.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                for data, prev_hash, hash_ in rows:
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
    "ARCHIVE_DIR_NAME",
    "GENESIS",
    "Checkpoint",
    "CheckpointResult",
    "default_archive_dir",
    "load_checkpoints",
    "verify_checkpoints",
]
