"""A log written by the first schema (9 indexes, a summary trigger) upgraded in place.

The upgrade drops indexes and the trigger and leaves every row alone: the
chain must verify with the same hashes, and every query the TUI, alerts and
evidence use must answer as before, on the upgraded log and on a read-only
handle to the log not yet upgraded.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from pretense_dev.audit import alerts, chain, queries
from pretense_dev.audit.events import AuditEvent
from pretense_dev.audit.evidence import build_evidence
from pretense_dev.audit.sample import START, sample_events
from pretense_dev.audit.store import MIGRATIONS, AuditStore, normalise, rebuild_sessions
from pretense_dev.sqlite import Migrations, open_database, schema, transaction


def _old_log(path: Path, events: list[AuditEvent]) -> list[str]:
    """A log as the first schema's writer left it: its migration only, rows via the trigger."""
    first = Migrations()
    name, fn = MIGRATIONS.steps[0]
    assert name == "m001_events"
    first.steps.append((name, fn))
    hashes: list[str] = []
    with contextlib.closing(open_database(path, first, mode=0o600, wal=True)) as conn:
        prev = chain.GENESIS
        for batch in (events[:40], events[40:]):
            with transaction(conn):
                for event in batch:
                    seq = len(hashes) + 1
                    data = chain.encode(seq, normalise(event))
                    prev = chain.link(prev, data)
                    conn.execute(
                        "INSERT INTO events (seq, data, prev_hash, hash) VALUES (?, ?, ?, ?)",
                        (seq, data.decode(), hashes[-1] if hashes else chain.GENESIS, prev),
                    )
                    hashes.append(prev)
    return hashes


def _answers(store: AuditStore) -> dict[str, Any]:
    """What the TUI's screens, the alerts and the evidence read from a log."""
    conn = store.conn
    rows = queries.sessions(conn, limit=1000)
    out: dict[str, Any] = {
        "sessions": rows,
        "count": queries.session_count(conn),
        "repo": queries.sessions(conn, queries.Filter(repo=rows[0].repo_id)),
        "tool": queries.sessions(conn, queries.Filter(tool=rows[0].tool)),
        "unprotected": queries.sessions(conn, queries.Filter(decision="unprotected")),
        "options": queries.filter_options(conn),
        "events": {r.session: queries.session_events(conn, r.session) for r in rows},
        "blocked": {
            r.session: queries.session_events(conn, r.session, decision="blocked") for r in rows
        },
    }
    for threshold in (1_000, 200_000, 1_000_000, 5_000_000):
        found = alerts.alerts(conn, alerts.Thresholds(threshold), limit=10_000)
        out[f"alerts {threshold}"] = found
    doc = build_evidence(store, since=START - 1, until=START + 30 * 86400)
    assert doc["scope"].pop("log") == str(store.path)  # the one field that names the file
    out["evidence"] = json.dumps(doc, sort_keys=True)
    return out


def test_an_old_log_is_upgraded_and_reads_the_same(tmp_path: Path) -> None:
    events = sample_events(16)
    old = tmp_path / "audit.db"
    hashes = _old_log(old, events)
    with AuditStore.open_readonly(old) as ro:  # not upgraded: a reader needs no write access
        before = _answers(ro)
    assert before["alerts 1000000"] and before["alerts 1000"] != before["alerts 1000000"]
    with sqlite3.connect(old) as c:
        trigger = c.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")
        assert trigger.fetchone() == (1,)

    with AuditStore(old) as store:  # a writer upgrades it
        assert store.verify().ok
        assert [s.hash for s in store.events()] == hashes
        assert _answers(store) == before
        fresh = tmp_path / "fresh.db"
        with AuditStore(fresh) as new:
            assert schema(store.conn) == schema(new.conn)
            assert new.append_many(events) == hashes
            assert _answers(new) == before

        # Appends after the upgrade keep the summary as a rebuild from the rows gives it.
        more = sample_events(3, start=START + 86400, seed=11)
        store.append_many(more[:5])
        for e in more[5:]:
            store.append(e)
        assert store.verify().ok
        summary = store.conn.execute("SELECT * FROM sessions ORDER BY session").fetchall()
    with AuditStore(tmp_path / "all.db") as ref:
        ref.append_many([*events, *more])
        assert ref.conn.execute("SELECT * FROM sessions ORDER BY session").fetchall() == summary

    with AuditStore(old) as again:  # idempotent: nothing left to do, nothing changed
        names = again.conn.execute("SELECT name FROM _migrations ORDER BY rowid").fetchall()
        assert names == [("m001_events",), ("m002_lean_appends",)]
        assert again.verify().ok


def test_rows_appended_without_the_summary_are_folded_in_by_the_next_append(
    tmp_path: Path,
) -> None:
    # A writer that opened the log before the upgrade still appends its rows, but no
    # trigger summarises them any more: the next append summarises every row after the
    # last one the summary covers.
    events = sample_events(6)
    db = tmp_path / "audit.db"
    with AuditStore(db) as store:
        store.append_many(events[:10])
        head = store.head()
        assert head is not None
        prev = head.hash
        with transaction(store.conn):
            for seq, event in enumerate(events[10:20], head.seq + 1):
                data = chain.encode(seq, normalise(event))
                h = chain.link(prev, data)
                store.conn.execute(
                    "INSERT INTO events (seq, data, prev_hash, hash) VALUES (?, ?, ?, ?)",
                    (seq, data.decode(), prev, h),
                )
                prev = h
            # Retention rebuilds the summary of the sessions it trims: the rows not yet
            # summarised must be left to the next append, not counted twice.
            keys = [r[0] for r in store.conn.execute("SELECT DISTINCT session FROM events")]
            rebuild_sessions(store.conn, keys)
        store.append_many(events[20:])
        assert store.verify().ok
        summary = store.conn.execute("SELECT * FROM sessions ORDER BY session").fetchall()
    with AuditStore(tmp_path / "ref.db") as ref:
        ref.append_many(events)
        assert ref.conn.execute("SELECT * FROM sessions ORDER BY session").fetchall() == summary
