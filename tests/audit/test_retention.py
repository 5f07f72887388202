"""Retention: archived rows leave a checkpoint, and the chain still verifies end to end."""

from __future__ import annotations

import gzip
import stat
from pathlib import Path

import pytest

from pretense_dev.audit import chain
from pretense_dev.audit.checkpoints import load_checkpoints
from pretense_dev.audit.events import AuditEvent
from pretense_dev.audit.export import verify_jsonl
from pretense_dev.audit.retention import archive
from pretense_dev.audit.sample import START
from pretense_dev.audit.store import AuditStore, rebuild_sessions
from pretense_dev.errors import PretenseError
from pretense_dev.sqlite import transaction
from tests.conftest import run_cli

from .conftest import raw

CUT = START + 2 * 3600  # sessions are 20 minutes apart: the first six are older


def test_archive_moves_the_old_prefix_and_keeps_the_chain(seeded: Path) -> None:
    with AuditStore.open_readonly(seeded) as store:
        before = store.verify()
        old = [s for s in store.events() if s.event.time < CUT]
    result = archive(seeded, CUT)
    cp = result.checkpoint
    assert cp is not None and result.path is not None
    assert (cp.seq_start, cp.seq_end, cp.rows) == (1, len(old), len(old))
    assert cp.hash_end == old[-1].hash and cp.prev_hash == chain.GENESIS
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
    with gzip.open(result.path) as f:
        problems, rows, start, last = verify_jsonl(iter(f))
    assert (problems, rows, start, last) == ([], len(old), chain.START, cp.head)
    with AuditStore(seeded) as store:
        r = store.verify()
        assert r.ok, r.problems
        assert (r.rows, r.archived_rows, r.checkpoints) == (96 - len(old), len(old), 1)
        assert r.head == before.head
        assert min(s.seq for s in store.events()) == len(old) + 1
        # the summary now covers only what is left, exactly as a rebuild would
        summary = store.conn.execute("SELECT * FROM sessions ORDER BY session").fetchall()
        with transaction(store.conn):
            rebuild_sessions(store.conn)
        assert store.conn.execute("SELECT * FROM sessions ORDER BY session").fetchall() == summary
        # new rows continue the same chain
        store.append(AuditEvent("verify", decision="allowed"))
        assert store.verify().ok


def test_archiving_everything_then_appending_links_to_the_checkpoint(seeded: Path) -> None:
    cp = archive(seeded, START + 10**9).checkpoint
    assert cp is not None and cp.seq_end == 96
    with AuditStore(seeded) as store:
        assert store.count() == 0 and store.head() == cp.head
        store.append(AuditEvent("verify", decision="allowed"))
        r = store.verify()
        assert r.ok and r.head is not None and r.head.seq == 97
    assert archive(seeded, START).checkpoint is None  # nothing older: no-op


def test_a_second_archive_continues_from_the_first(seeded: Path) -> None:
    archive(seeded, CUT)
    archive(seeded, CUT + 3600)
    with AuditStore.open_readonly(seeded) as store:
        cps = load_checkpoints(store.conn)
        assert cps[1].seq_start == cps[0].seq_end + 1 and cps[1].prev_hash == cps[0].hash_end
        assert store.verify().ok


def test_anchors_inside_an_archive_are_checked(seeded: Path) -> None:
    with AuditStore.open_readonly(seeded) as store:
        kept = [s for s in store.events() if s.seq in (3, 96)]
    archive(seeded, CUT)
    good = [chain.Head(s.seq, s.hash) for s in kept]
    with AuditStore.open_readonly(seeded) as store:
        assert store.verify(anchors=good).ok
        bad = store.verify(anchors=[chain.Head(3, chain.GENESIS)])
        assert [(p.seq, p.kind) for p in bad.problems] == [(3, chain.ANCHOR)]


def test_a_missing_archive_fails_verification(seeded: Path) -> None:
    path = archive(seeded, CUT).path
    assert path is not None
    path.unlink()
    with AuditStore.open_readonly(seeded) as store:
        r = store.verify()
        assert [p.kind for p in r.problems] == [chain.ARCHIVE_MISSING]
        assert store.verify(check_archives=False).ok


def test_an_altered_archive_fails_verification(seeded: Path) -> None:
    path = archive(seeded, CUT).path
    assert path is not None
    text = gzip.decompress(path.read_bytes()).replace(b'"user":"dana"', b'"user":"eve"', 1)
    path.write_bytes(gzip.compress(text))
    with AuditStore.open_readonly(seeded) as store:
        kinds = [(p.seq, p.kind) for p in store.verify().problems]
    assert kinds == [(1, chain.ALTERED), (1, chain.ARCHIVE_ALTERED)]


def test_deleting_rows_behind_a_forged_checkpoint_is_caught(seeded: Path) -> None:
    with raw(seeded) as c:
        h = c.execute("SELECT hash FROM events WHERE seq = 10").fetchone()[0]
        c.execute("DELETE FROM events WHERE seq <= 10")
        c.execute(
            "INSERT INTO checkpoints VALUES (10, ?, 3, ?, 8, 0, 0, 'x.jsonl.gz', '', 0)",
            (h, chain.GENESIS),
        )
    with AuditStore.open_readonly(seeded) as store:
        kinds = [p.kind for p in store.verify(check_archives=False).problems]
    assert kinds == [chain.CHECKPOINT]


def test_a_log_that_does_not_verify_is_not_archived(seeded: Path) -> None:
    with raw(seeded) as c:
        c.execute("DELETE FROM events WHERE seq = 4")
    with pytest.raises(PretenseError, match="not archiving: rows 1–"):
        archive(seeded, CUT)
    with AuditStore.open_readonly(seeded) as store:
        assert store.count() == 95 and not load_checkpoints(store.conn)


def test_cli_archive(seeded: Path) -> None:
    r = run_cli("audit", "--db", str(seeded), "archive", "--before", "2026-01-01T02:00:00")
    assert r.code == 0, r.err
    assert r.out.startswith("archived rows 1–")
    r = run_cli("audit", "--db", str(seeded), "verify")
    assert r.code == 0 and " archived verified" in r.out
