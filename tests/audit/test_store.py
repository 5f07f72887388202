"""The store: schema, permissions, the write path, concurrency, validation."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pretense_dev.audit import chain
from pretense_dev.audit.events import AuditEvent
from pretense_dev.audit.sample import sample_events
from pretense_dev.audit.store import (
    REASON_MAX,
    AuditError,
    AuditStore,
    default_path,
    rebuild_sessions,
    record,
)
from pretense_dev.sqlite import transaction

from .conftest import raw

EVENTS_COLUMNS = [
    # (name, type, hidden): hidden 3 = a STORED generated column, computed from `data`.
    ("seq", "INTEGER", 0),
    ("data", "TEXT", 0),
    ("prev_hash", "TEXT", 0),
    ("hash", "TEXT", 0),
    ("data_seq", "INTEGER", 3),
    ("time", "REAL", 3),
    ("event", "TEXT", 3),
    ("session_id", "TEXT", 3),
    ("tool", "TEXT", 3),
    ("user", "TEXT", 3),
    ("machine", "TEXT", 3),
    ("repo_id", "TEXT", 3),
    ("repo_path", "TEXT", 3),
    ("vendor", "TEXT", 3),
    ("model", "TEXT", 3),
    ("endpoint", "TEXT", 3),
    ("mutation_active", "INTEGER", 3),
    ("identifiers_protected", "INTEGER", 3),
    ("secrets_count", "INTEGER", 3),
    ("decision", "TEXT", 3),
    ("context_bytes", "INTEGER", 3),
    ("session", "TEXT", 3),
]
INDEXES = {
    "events_drift": ("events", ["seq"], "event = 'drift_detected'"),
    "events_large": ("events", ["context_bytes"], "context_bytes >= 1000000"),
    "events_secrets": ("events", ["seq"], "secrets_count > 0"),
    "events_session": ("events", ["session", "seq"], None),
    "events_time": ("events", ["time"], None),
    "events_unprotected": (
        "events",
        ["seq"],
        "(event = 'request' AND decision = 'forwarded' AND NOT mutation_active)",
    ),
    "sessions_last": ("sessions", ["last_time", "session"], None),
    "sessions_repo": ("sessions", ["repo_id", "last_time"], None),
    "sessions_tool": ("sessions", ["tool", "last_time"], None),
}


def test_schema_is_pinned(db: Path) -> None:
    with AuditStore(db) as store:
        c = store.conn
        assert [r[0] for r in c.execute("SELECT name FROM _migrations ORDER BY rowid")] == [
            "m001_events",
            "m002_lean_appends",
        ]
        assert [(r[1], r[2], r[6]) for r in c.execute("PRAGMA table_xinfo(events)")] == (
            EVENTS_COLUMNS
        )
        assert [r[1] for r in c.execute("PRAGMA table_info(checkpoints)")] == [
            "seq_end", "hash_end", "seq_start", "prev_hash", "rows", "first_time", "last_time",
            "archive", "archive_sha256", "created_at",
        ]  # fmt: skip
        assert [r[1] for r in c.execute("PRAGMA table_info(sessions)")] == [
            "session", "session_id", "first_time", "last_time", "first_seq", "last_seq", "tool",
            "user", "machine", "repo_id", "repo_path", "vendor", "model", "events", "requests",
            "prompts", "forwarded", "blocked", "errors", "unprotected", "secrets", "drift",
            "names", "context_max",
        ]  # fmt: skip
        indexes = {}
        for name, table, sql in c.execute(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ):
            cols = [r[2] for r in c.execute(f"PRAGMA index_info({name})")]
            indexes[name] = (table, cols, sql.split(" WHERE ", 1)[1] if " WHERE " in sql else None)
        assert indexes == INDEXES
        triggers = c.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'")
        assert triggers.fetchall() == []  # the writer keeps `sessions` (store._summarise)
        assert [r[1] for r in c.execute("PRAGMA table_info(sessions_through)")] == ["id", "seq"]
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_files_are_private(isolated_user: Path) -> None:
    with AuditStore() as store:
        store.append(AuditEvent("session_started"))
        path = store.path
        assert path == default_path()
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        for f in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_loose_data_dir_is_tightened(isolated_user: Path) -> None:
    d = default_path().parent
    d.mkdir(parents=True)
    os.chmod(d, 0o755)
    AuditStore().close()
    assert stat.S_IMODE(d.stat().st_mode) == 0o700


def test_append_links_each_row_to_the_one_before(db: Path) -> None:
    events = sample_events(2)
    with AuditStore(db) as store:
        assert store.head() is None
        hashes = [store.append(e) for e in events]
        prev = chain.GENESIS
        for seq, (e, h) in enumerate(zip(events, hashes, strict=True), 1):
            assert h == chain.link(prev, chain.encode(seq, e))
            prev = h
        assert store.head() == chain.Head(len(events), hashes[-1])
        assert [s.event for s in store.events()] == events
        assert store.event(1) == events[0]


class _CountingLock:
    """The writer's lock, counting who takes it."""

    def __init__(self) -> None:
        self.inner = threading.Lock()
        self.taken = 0

    def __enter__(self) -> bool:
        self.taken += 1
        return self.inner.__enter__()

    def __exit__(self, *exc: object) -> None:
        self.inner.__exit__(None, None, None)


def test_probe_takes_the_writer_lock_only_when_the_file_was_replaced(db: Path) -> None:
    # The proxy probes on its event loop before every forward; the audit thread holds the
    # lock through each append, so the probe must not wait on it for an unchanged file.
    with AuditStore(db) as store:
        store.append(sample_events(1)[0])
        lock = _CountingLock()
        store._lock = lock  # type: ignore[assignment]
        assert store.probe() is False
        assert store.probe() is False
        assert lock.taken == 0
        store.append(sample_events(1)[0])  # the appender takes it, as before
        assert lock.taken == 1
        moved = db.with_name("audit.db.old")
        os.replace(db, moved)  # what `audit recover` does: a new file in its place
        with AuditStore(db) as fresh:
            fresh.append(sample_events(1)[0])
        assert store.probe() is True  # follows the new file, under the lock
        assert lock.taken == 2
        assert store.probe() is False
        assert lock.taken == 2
        os.unlink(db)
        with pytest.raises(AuditError, match="cannot read the audit log"):
            store.probe()


def test_append_many_equals_appending_one_by_one(tmp_path: Path) -> None:
    events = sample_events(3)
    with AuditStore(tmp_path / "a.db") as a, AuditStore(tmp_path / "b.db") as b:
        assert a.append_many(events) == [b.append(e) for e in events]


def test_session_summary_of_one_batch_matches_a_rebuild(seeded: Path) -> None:
    with AuditStore(seeded) as store:
        c = store.conn
        by_writer = c.execute("SELECT * FROM sessions ORDER BY session").fetchall()
        with transaction(c):
            rebuild_sessions(c)
        assert c.execute("SELECT * FROM sessions ORDER BY session").fetchall() == by_writer
        assert len(by_writer) == 15  # two copilot sessions share a day: one no-session group
        assert c.execute("SELECT seq FROM sessions_through").fetchall() == [(96,)]


@pytest.mark.parametrize("size", [1, 3, 7, 40])
def test_session_summary_in_batches_matches_one_batch(tmp_path: Path, size: int) -> None:
    # Batches split sessions at arbitrary rows: the per-batch merge and the upsert must
    # give the summary that appending every row on its own gives.
    events = sample_events(16)
    with AuditStore(tmp_path / "one.db") as one, AuditStore(tmp_path / "split.db") as split:
        one.append_many(events)
        for i in range(0, len(events), size):
            split.append_many(events[i : i + size])
        q = "SELECT * FROM sessions ORDER BY session"
        assert split.conn.execute(q).fetchall() == one.conn.execute(q).fetchall()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"event": "chat"}, "unknown audit event type 'chat'"),
        ({"decision": "maybe"}, "unknown audit decision 'maybe'"),
        ({"latency_ms": float("nan")}, "finite"),
        ({"time": float("inf")}, "finite"),
        ({"reason": "bad \ud800 surrogate"}, "surrogate"),
        ({"identifiers": ("ok", "\udfff")}, "surrogate"),
    ],
)
def test_invalid_events_are_refused_and_nothing_is_written(
    db: Path, change: dict[str, object], message: str
) -> None:
    with AuditStore(db) as store:
        store.append(AuditEvent("session_started"))
        bad = dataclasses.replace(AuditEvent("request"), **change)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=message):
            store.append_many([AuditEvent("request"), bad])
        assert store.count() == 1


def test_free_text_is_bounded_to_one_short_line(db: Path) -> None:
    prompt = "line one\nline two " + "x" * 5000
    with AuditStore(db) as store:
        store.append(
            AuditEvent("prompt_blocked", reason=prompt, identifiers=("N" * 9000,), model="m" * 900)
        )
        e = store.event(1)
        assert e is not None
        assert "\n" not in e.reason and len(e.reason) == REASON_MAX
        assert e.reason.startswith("line one line two")
        assert len(e.identifiers[0]) == 512 and len(e.model) == 512
        assert store.verify().ok


def test_record_appends_to_the_users_log(isolated_user: Path) -> None:
    h1 = record(AuditEvent("session_started", session_id="s"))
    h2 = record(AuditEvent("prompt_submitted", session_id="s", decision="allowed"))
    with AuditStore.open_readonly() as store:
        assert store.head() == chain.Head(2, h2)
        assert next(store.events()).hash == h1


def test_threads_sharing_one_store_keep_one_chain(db: Path) -> None:
    # The proxy calls `append` from an executor's threads on one AuditStore.
    store = AuditStore(db)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                store.append(AuditEvent("request", session_id=f"t{n}", time=1000.0 + i))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = store.verify()
    store.close()
    assert result.ok and result.rows == 400


WRITER = """
import sys
from pathlib import Path
from pretense_dev.audit.events import AuditEvent
from pretense_dev.audit.store import AuditStore, record
path = Path(sys.argv[1])
go = Path(sys.argv[2])
while not go.exists():
    pass
for i in range(60):
    if i % 2:
        record(AuditEvent("prompt_submitted", session_id=sys.argv[3], decision="allowed"), path)
    else:
        with AuditStore(path) as s:
            s.append(AuditEvent("request", session_id=sys.argv[3], decision="forwarded"))
"""


def test_concurrent_processes_keep_one_chain(db: Path, tmp_path: Path) -> None:
    # The proxy and hook processes write at once; BEGIN IMMEDIATE serialises them.
    AuditStore(db).close()
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(go), f"p{n}"])
        for n in range(4)
    ]
    go.touch()
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    with AuditStore.open_readonly(db) as store:
        result = store.verify()
        seqs = [s.seq for s in store.events()]
        per_session = dict(store.conn.execute("SELECT session, events FROM sessions"))
    assert result.ok, result.problems
    assert seqs == list(range(1, 241))
    assert per_session == {"p0": 60, "p1": 60, "p2": 60, "p3": 60}


def test_readonly_handle_cannot_write(seeded: Path) -> None:
    with AuditStore.open_readonly(seeded) as store:
        with pytest.raises(AuditError, match="read-only"):
            store.append(AuditEvent("verify"))
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.conn.execute("DELETE FROM events")


def test_readonly_open_of_a_missing_log_says_so(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="no audit log at"):
        AuditStore.open_readonly(tmp_path / "nope.db")
    assert not (tmp_path / "nope.db").exists()


def test_a_newer_schema_is_refused(db: Path) -> None:
    AuditStore(db).close()
    with raw(db) as c:
        c.execute("INSERT INTO _migrations VALUES ('m999_future', 0)")
    with pytest.raises(AuditError, match="newer pretense-dev"):
        AuditStore(db)
    with pytest.raises(AuditError, match="newer pretense-dev"):
        AuditStore.open_readonly(db)


def test_a_file_that_is_not_a_log_is_refused_untouched(db: Path) -> None:
    db.write_bytes(b"not a database at all" * 100)
    with pytest.raises(AuditError, match="cannot open the audit log"):
        AuditStore(db)
    assert db.read_bytes() == b"not a database at all" * 100


def test_the_write_path_imports_only_the_standard_library() -> None:
    # Hooks call `record` on every prompt: it must not pull in click, textual & co.
    code = (
        "import sys; from pretense_dev.audit.store import record; "
        "print(sorted(m.split('.')[0] for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(eval(out))
    for heavy in ("textual", "rich", "click", "aiohttp", "tree_sitter", "opentelemetry", "google"):
        assert heavy not in loaded
