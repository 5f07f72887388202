"""Building the index safely: one builder at a time, whole files swapped in, damage rebuilt.

`init` and `index` come here rather than calling `run_index` on whatever file
is there, because three faults used to leave a repository that looked
protected and was not:

* **An interrupted first build** left an index holding some files and no map;
  the proxy forwarded code verbatim against it.  A first build (or a rebuild)
  now writes ``index.db.new`` and moves it over ``index.db`` only once its map
  is complete, so the index either does not exist or is whole.  An update of
  an existing, healthy index runs in place: its map is rewritten in one
  transaction, and the store's ``map_complete`` flag is set only by a run over
  the whole work tree (index/reader.py says why consumers ask it).
* **Two builders at once** (two `init`s) raced to issue the same names.  An
  exclusive `flock` on ``.pretense/index.lock`` serialises them; the second
  says it is waiting, then updates the index the first one built.
* **A damaged index** (a disk error, a bad copy) made every command fail with
  an internal error.  It is moved aside as ``index.db.damaged-<time>`` (kept,
  for whoever wants to look at it), the names it had issued are salvaged when
  its ``identifiers`` table is still readable, and a new index is built that
  issues every salvaged name the same synthetic.  Synthetics are derived from
  the key and the name, so even a name that could not be salvaged gets the
  synthetic it had, unless it had lost a collision.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from pretense_dev.index.reader import IndexReader, IndexUnreadable

if TYPE_CHECKING:
    from pretense_dev.config import Config
    from pretense_dev.index.indexer import IndexReport

LOCK_NAME = "index.lock"


@contextlib.contextmanager
def builder_lock(state_dir: Path, say: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the repository's index-builder lock; wait (and say so) if another builder has it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock, as before
        yield
        return
    state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(state_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if say is not None:
                say(
                    "another `pretense-dev init` or `index` is building this repository's "
                    "index; waiting for it to finish (Ctrl-C to stop)"
                )
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def index_health(path: Path, *, thorough: bool = False) -> str | None:
    """None if `path` is a readable index (complete or not); else why it is not.

    `thorough` adds SQLite's ``quick_check`` (reads every page: a rebuild's
    decision, not a per-command cost).
    """
    try:
        with IndexReader(path) as r:
            r.map_state()
            r.active_count()
            if thorough:
                row = r.conn.execute("PRAGMA quick_check(1)").fetchone()
                if row is None or row[0] != "ok":
                    return f"integrity check: {row[0] if row else 'no answer'}"
    except IndexUnreadable as e:
        if "locked" in e.reason:
            return None  # busy, not damaged: the store waits for it
        return e.reason
    except sqlite3.OperationalError:
        return None
    except sqlite3.DatabaseError as e:
        return str(e)
    return None


def _salvage(path: Path) -> list[tuple[str, str, str, int]]:
    """(name, synthetic, kind, seq) rows still readable in a damaged index, or none."""
    try:
        uri = path.resolve().as_uri() + "?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            return [
                (str(n), str(s), str(k), int(q))
                for n, s, k, q in conn.execute(
                    "SELECT name, synthetic, kind, seq FROM identifiers ORDER BY seq"
                )
            ]
    except (sqlite3.Error, ValueError, TypeError):
        return []


def _remove_sidecars(path: Path) -> None:
    # A WAL left by an older file must never be replayed onto a new one.
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


def move_aside(path: Path, label: str) -> Path:
    """Rename `path` (and its SQLite side files) to ``<name>.<label>-<UTC time>``; return it."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    dest = path.with_name(f"{path.name}.{label}-{stamp}")
    n = 1
    while dest.exists():
        n += 1
        dest = path.with_name(f"{path.name}.{label}-{stamp}-{n}")
    os.replace(path, dest)
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        if side.exists():
            os.replace(side, Path(f"{dest}{suffix}"))
    return dest


def build(
    root: Path,
    index_path: Path,
    config: Config,
    key: bytes,
    *,
    full: bool = False,
    workers: int | None = None,
    fresh: bool = False,
    say: Callable[[str], None] | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> tuple[IndexReport, list[str]]:
    """Bring `index_path` up to date (see the module docstring); return the report and notes.

    `fresh` discards the existing index (a new key makes every synthetic and
    fingerprint in it meaningless): it is moved aside, not salvaged.  `progress`
    goes to `run_index`.
    """
    from pretense_dev.index.indexer import run_index
    from pretense_dev.index.store import IndexStore

    notes: list[str] = []
    with builder_lock(index_path.parent, say):
        seed: list[tuple[str, str, str, int]] = []
        if index_path.exists():
            problem = index_health(index_path, thorough=full)
            if fresh:
                moved = move_aside(index_path, "old-key")
                notes.append(f"the index made with the old key was moved to {moved.name}")
            elif problem is not None:
                seed = _salvage(index_path)
                moved = move_aside(index_path, "damaged")
                notes.append(
                    f"the damaged index ({problem}) was moved to {moved.name}; "
                    f"{len(seed)} issued name(s) salvaged from it"
                )
            else:
                with IndexStore(index_path) as store:
                    return (
                        run_index(
                            root, store, config, key, full=full, workers=workers, progress=progress
                        ),
                        notes,
                    )
        new = index_path.with_name(index_path.name + ".new")
        for p in (new, Path(f"{new}-wal"), Path(f"{new}-shm"), Path(f"{new}-journal")):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(p)
        try:
            with IndexStore(new) as store:
                if seed:
                    with store.bulk() as c:
                        c.executemany(
                            "INSERT OR IGNORE INTO identifiers "
                            "(name, synthetic, kind, active, seq) VALUES (?, ?, ?, 0, ?)",
                            seed,
                        )
                report = run_index(
                    root, store, config, key, full=True, workers=workers, progress=progress
                )
                # Everything in the main file, nothing in a WAL, before it is renamed.
                store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                store.conn.execute("PRAGMA journal_mode=DELETE")
            _remove_sidecars(index_path)
            os.replace(new, index_path)
        except BaseException:
            for p in (new, Path(f"{new}-wal"), Path(f"{new}-shm"), Path(f"{new}-journal")):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(p)
            raise
        return report, notes


def stderr_line(text: str) -> None:
    """`say` for the CLI: one line on stderr."""
    sys.stderr.write(f"pretense-dev: {text}\n")
    sys.stderr.flush()
