"""`audit recover` on real damaged files: old file kept, verifiable rows archived, chain goes on."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from pretense_dev.audit.events import REQUEST, AuditEvent
from pretense_dev.audit.recover import recover
from pretense_dev.audit.store import AuditStore
from tests.conftest import run_cli


def _event(i: int) -> AuditEvent:
    return AuditEvent(
        event=REQUEST, repo_id="abc", endpoint=f"/v1/messages/{i}", decision="forwarded"
    )


def _log(path: Path, n: int) -> list[str]:
    with AuditStore(path) as store:
        hashes = store.append_many(_event(i) for i in range(n))
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return hashes


def test_rows_edited_in_place_are_left_out_and_the_chain_continues(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    hashes = _log(db, 50)
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute(
            "UPDATE events SET data = replace(data, '/v1/messages/30', '/x') WHERE seq = 31"
        )
        conn.commit()
    result = recover(db)
    assert result.head is not None and (result.head.seq, result.head.hash) == (30, hashes[29])
    assert (result.salvaged, result.unreadable) == (30, 20)
    assert result.kept.exists() and result.kept.name.startswith("audit.db.damaged-")
    with AuditStore(db) as store:
        new = store.append(_event(99))
        first = next(iter(store.events()))
        assert first.seq == 31 and first.prev_hash == hashes[29] and first.hash == new
        v = store.verify()
    assert v.ok, v.problems
    assert (v.archived_rows, v.rows, v.checkpoints) == (30, 1, 1)


def test_an_unreadable_file_is_kept_and_a_new_chain_starts(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    _log(db, 5)
    db.write_bytes(b"\xde\xad" * 4096)
    broken = run_cli("audit", "--db", str(db), "verify")
    assert broken.code == 1 and len(broken.err.splitlines()) == 1
    assert broken.err.rstrip().endswith(
        "run `pretense-dev audit recover` (it keeps the damaged file)"
    )
    r = run_cli("audit", "--db", str(db), "recover")
    assert r.code == 0, r.err
    assert "no row of it verified: the new chain starts from the beginning" in r.out
    kept = [p for p in tmp_path.glob("audit.db.damaged-*")]
    assert len(kept) == 1 and kept[0].read_bytes() == b"\xde\xad" * 4096
    with AuditStore(db) as store:
        store.append(_event(1))
        assert store.verify().ok
    assert run_cli("audit", "--db", str(db), "verify").code == 0


def test_an_intact_log_is_left_as_it_is(git_repo: Path, isolated_user: Path) -> None:
    # Tried as a new user: `audit recover` on a log that verified said "kept the damaged
    # log as audit.db.damaged-…", moved it aside and started a new file.
    assert run_cli("init", "--no-tools", "--no-hooks", cwd=git_repo).code == 0
    for _ in range(3):  # each records a `verify` event (the proxy is not running)
        assert run_cli("verify", cwd=git_repo).code == 1
    db = isolated_user / "data" / "pretense-dev" / "audit.db"
    rows = run_cli("audit", "export", "--format", "jsonl").out
    assert len(rows.splitlines()) == 3
    r = run_cli("audit", "recover")
    assert r.code == 0, r.err
    assert r.out.startswith("intact: 3 rows verified; head 3:sha256:"), r.out
    assert r.out.rstrip().endswith("— nothing to recover, the log was left as it is")
    assert not list(db.parent.glob("audit.db.damaged-*"))
    assert not list(db.parent.glob("audit-archive*"))
    assert run_cli("audit", "export", "--format", "jsonl").out == rows
    # The sibling: the same log with a row edited is still recovered.
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("UPDATE events SET data = replace(data, 'verify', 'vxrify') WHERE seq = 2")
        conn.commit()
    r = run_cli("audit", "recover")
    assert r.code == 0, r.err
    assert r.out.startswith("kept the damaged log as "), r.out
    assert "the new chain continues from row 1:sha256:" in r.out
