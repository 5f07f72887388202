"""The proxy's audit writer on a real audit log: batches, failures, the chain.

The writer appends what is queued when its thread wakes in one transaction;
these tests hold the thread inside an event's build so that several requests'
events queue up behind it, as they do when requests come back to back, and
read the SQL the store's connection ran (SQLite's trace callback).  A failure
in the middle of a batch is a real SQLite error: a trigger that aborts the
insert of one row.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pretense_dev.audit.events import AuditEvent
from pretense_dev.audit.store import AuditStore
from pretense_dev.proxy.auditing import MAX_BATCH, AuditWriter
from pretense_dev.proxy.repos import Refusal


def _event(i: int, reason: str = "") -> AuditEvent:
    return AuditEvent(
        "request",
        session_id=f"s-{i}",
        tool="sdk",
        repo_id="abc123def4567890",
        endpoint="/v1/messages",
        decision="forwarded",
        reason=reason,
    )


def _build(e: AuditEvent) -> Callable[[], AuditEvent]:
    return lambda: e


class Held:
    """A build that blocks the writer thread until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.go = threading.Event()

    def __call__(self) -> AuditEvent:
        self.entered.set()
        assert self.go.wait(10)
        return _event(0)


def _error(writer: AuditWriter) -> str | None:
    return writer.error  # read afresh: the writer thread sets it


def _sessions(store: AuditStore) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT session_id FROM events ORDER BY seq")]


def test_events_queued_behind_a_busy_writer_go_in_one_transaction(tmp_path: Path) -> None:
    store = AuditStore(tmp_path / "audit.db")
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    writer = AuditWriter(store)
    held = Held()
    writer.submit(held)
    assert held.entered.wait(10)
    for i in range(1, 6):
        writer.submit(_build(_event(i)))  # one request each, as `Proxy.record` does
    writer.submit_all([_build(_event(i)) for i in range(6, 9)])
    held.go.set()
    writer.close()

    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE"] * 2  # the held event alone, then the eight queued
    assert _sessions(store) == [f"s-{i}" for i in range(9)]
    report = store.verify()
    assert report.ok and report.rows == 9
    assert writer.error is None
    store.close()


def test_a_failure_in_the_middle_of_a_batch_writes_none_of_it_and_refuses(
    tmp_path: Path,
) -> None:
    store = AuditStore(tmp_path / "audit.db")
    store.append(_event(0))
    # A real SQLite error on the second row of the batch.
    store.conn.execute(
        "CREATE TRIGGER refuse_boom BEFORE INSERT ON events "
        "WHEN json_extract(NEW.data, '$.reason') = 'boom' "
        "BEGIN SELECT RAISE(ABORT, 'the disk said no'); END"
    )
    writer = AuditWriter(store)
    held = Held()
    writer.submit(held)
    assert held.entered.wait(10)
    writer.submit_all([_build(_event(1)), _build(_event(2, "boom")), _build(_event(3))])
    held.go.set()
    for _ in range(1000):  # the failed append is what sets the error
        if writer.error is not None:
            break
        time.sleep(0.01)

    assert writer.error is not None and "the disk said no" in writer.error
    with pytest.raises(Refusal) as r:
        writer.ensure_writable()  # no evidence, no forward
    assert r.value.status == 503
    assert "cannot write its audit log" in r.value.message
    # Only the first event and the held one: nothing of the failed batch.
    assert _sessions(store) == ["s-0", "s-0"]
    assert store.verify().ok

    store.conn.execute("DROP TRIGGER refuse_boom")
    writer.submit_all([_build(_event(4)), _build(_event(5))])
    writer.close()
    assert _error(writer) is None  # an append that succeeds lifts the refusal
    writer.ensure_writable()
    assert _sessions(store) == ["s-0", "s-0", "s-4", "s-5"]
    report = store.verify()
    assert report.ok and report.rows == 4
    seqs = [r[0] for r in store.conn.execute("SELECT seq FROM events ORDER BY seq")]
    assert seqs == [1, 2, 3, 4]
    store.close()


def test_an_invalid_event_does_not_cost_the_rest_of_its_batch(tmp_path: Path) -> None:
    store = AuditStore(tmp_path / "audit.db")
    writer = AuditWriter(store)
    bad = AuditEvent("request", session_id="bad", decision="maybe")
    writer.submit_all([_build(_event(1)), _build(bad), _build(_event(2))])
    writer.close()
    assert _sessions(store) == ["s-1", "s-2"]
    assert store.verify().ok
    assert writer.error is None  # the last append succeeded
    store.close()


def test_a_backlog_is_written_in_bounded_transactions(tmp_path: Path) -> None:
    store = AuditStore(tmp_path / "audit.db")
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    writer = AuditWriter(store)
    held = Held()
    writer.submit(held)
    assert held.entered.wait(10)
    n = MAX_BATCH + 10
    for i in range(1, n + 1):
        writer.submit(_build(_event(i)))
    held.go.set()
    writer.close()
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"] * 3
    assert _sessions(store) == [f"s-{i}" for i in range(n + 1)]
    assert store.verify().ok
    store.close()
