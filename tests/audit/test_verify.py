"""`verify` catches an edited, a deleted, a moved row and a truncated log."""

from __future__ import annotations

import json
from pathlib import Path

from pretense_dev.audit import chain
from pretense_dev.audit.events import AuditEvent
from pretense_dev.audit.store import AuditStore, ChainReport
from tests.conftest import run_cli

from .conftest import raw


def verify(path: Path, **kw: object) -> ChainReport:
    with AuditStore.open_readonly(path) as store:
        return store.verify(**kw)  # type: ignore[arg-type]


def kinds(result: ChainReport) -> list[tuple[int, str]]:
    return [(p.seq, p.kind) for p in result.problems]


def test_an_intact_log_verifies_with_its_head(seeded: Path) -> None:
    r = verify(seeded)
    assert r.ok and r.rows == 96 and r.head is not None and r.head.seq == 96


def test_an_edit_in_place_is_caught_at_that_row(seeded: Path) -> None:
    with raw(seeded) as c:
        c.execute(
            'UPDATE events SET data = replace(data, \'"decision":"blocked"\', '
            '\'"decision":"forwarded"\') WHERE seq = 11'
        )
        assert c.execute("SELECT decision FROM events WHERE seq = 11").fetchone() == ("forwarded",)
    assert kinds(verify(seeded)) == [(11, chain.ALTERED)]


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(seeded: Path) -> None:
    with raw(seeded) as c:
        data, prev = c.execute("SELECT data, prev_hash FROM events WHERE seq = 20").fetchone()
        forged = data.replace('"user":"dana"', '"user":"mallory"')
        assert forged != data
        c.execute(
            "UPDATE events SET data = ?, hash = ? WHERE seq = 20",
            (forged, chain.link(prev, forged.encode())),
        )
    assert kinds(verify(seeded)) == [(21, chain.BROKEN_LINK)]


def test_a_deleted_row_is_reported_missing(seeded: Path) -> None:
    with raw(seeded) as c:
        c.execute("DELETE FROM events WHERE seq = 7")
    r = verify(seeded)
    assert kinds(r) == [(7, chain.MISSING)]
    assert str(r.problems[0]) == "row 7: missing: row 7 deleted"


def test_deleted_rows_are_reported_as_one_gap(seeded: Path) -> None:
    with raw(seeded) as c:
        c.execute("DELETE FROM events WHERE seq BETWEEN 30 AND 34")
    r = verify(seeded)
    assert kinds(r) == [(30, chain.MISSING)]
    assert "rows 30–34 deleted" in str(r.problems[0])


def test_a_deleted_first_row_is_caught(seeded: Path) -> None:
    with raw(seeded) as c:
        c.execute("DELETE FROM events WHERE seq = 1")
    assert kinds(verify(seeded)) == [(1, chain.MISSING)]


def test_swapped_rows_are_reported_as_moved(seeded: Path) -> None:
    with raw(seeded) as c:
        a = c.execute("SELECT data, prev_hash, hash FROM events WHERE seq = 5").fetchone()
        b = c.execute("SELECT data, prev_hash, hash FROM events WHERE seq = 6").fetchone()
        c.execute("UPDATE events SET data = ?, prev_hash = ?, hash = ? WHERE seq = 5", b)
        c.execute("UPDATE events SET data = ?, prev_hash = ?, hash = ? WHERE seq = 6", a)
    assert kinds(verify(seeded)) == [(5, chain.REORDERED), (6, chain.REORDERED)]


def test_renumbered_rows_are_reported_as_moved(seeded: Path) -> None:
    # Moving a row by its key: row 9 becomes row 97 at the end.
    with raw(seeded) as c:
        c.execute("UPDATE events SET seq = 97 WHERE seq = 9")
    assert kinds(verify(seeded)) == [(9, chain.MISSING), (97, chain.REORDERED)]


def test_truncation_needs_a_recorded_head(seeded: Path) -> None:
    before = verify(seeded).head
    assert before is not None
    with raw(seeded) as c:
        c.execute("DELETE FROM events WHERE seq > 90")
    assert verify(seeded).ok  # what the file alone cannot show
    r = verify(seeded, anchors=[before])
    assert kinds(r) == [(96, chain.TRUNCATED)]
    assert "log ends at 90" in r.problems[0].message


def test_a_rewritten_chain_is_caught_by_a_recorded_head(seeded: Path) -> None:
    anchor = verify(seeded).head
    assert anchor is not None
    with raw(seeded) as c:
        rows = c.execute("SELECT seq, data FROM events ORDER BY seq").fetchall()
        prev = chain.GENESIS
        for seq, data in rows:
            if seq == 50:
                data = data.replace('"user":"dana"', '"user":"mallory"')
            h = chain.link(prev, data.encode())
            c.execute("UPDATE events SET data = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                      (data, prev, h, seq))  # fmt: skip
            prev = h
    assert verify(seeded).ok
    assert kinds(verify(seeded, anchors=[anchor])) == [(96, chain.ANCHOR)]


def test_incremental_verify_checks_only_new_rows(seeded: Path) -> None:
    head = verify(seeded).head
    with AuditStore(seeded) as store:
        store.append_many([AuditEvent("verify", decision="allowed")] * 3)
    r = verify(seeded, after=head)
    assert r.ok and r.rows == 3 and r.head is not None and r.head.seq == 99


def test_cli_lists_broken_rows_and_exits_1(seeded: Path) -> None:
    with raw(seeded) as c:
        c.execute("DELETE FROM events WHERE seq = 7")
        c.execute("UPDATE events SET data = replace(data, 'dana', 'eve') WHERE seq = 40")
    r = run_cli("audit", "--db", str(seeded), "verify")
    assert r.code == 1
    assert r.out.splitlines() == [
        "row 7: missing: row 7 deleted",
        "row 40: altered: its content does not match its hash (edited in place)",
    ]
    assert r.err.startswith(f"pretense-dev: {seeded} does not verify: 2 problem(s) — ")


def test_cli_says_intact_with_the_head_and_checks_anchors(seeded: Path) -> None:
    head = verify(seeded).head
    r = run_cli("audit", "--db", str(seeded), "verify", "--anchor", str(head))
    assert (r.code, r.err) == (0, "")
    assert r.out == f"intact: 96 rows verified; head {head}; 1 recorded head(s) found\n"
    r = run_cli("audit", "--db", str(seeded), "verify", "--json")
    doc = json.loads(r.out)
    assert doc["verified"] is True and doc["head"]["hash"] == head.hash  # type: ignore[union-attr]
    with raw(seeded) as c:
        c.execute("DELETE FROM events WHERE seq = 96")
    r = run_cli("audit", "--db", str(seeded), "verify", "--anchor", str(head))
    assert r.code == 1 and r.out.startswith("row 96: truncated: ")


def test_cli_without_a_log(tmp_path: Path) -> None:
    r = run_cli("audit", "--db", str(tmp_path / "none.db"), "verify")
    assert r.code == 0 and "nothing has been recorded yet" in r.err
    r = run_cli(
        "audit", "--db", str(tmp_path / "none.db"), "verify", "--anchor", f"3:{chain.GENESIS}"
    )
    assert r.code == 1 and "the log was deleted or moved" in r.err
    r = run_cli("audit", "--db", str(tmp_path / "none.db"), "verify", "--anchor", "3:nope")
    assert r.code == 2 and "not a chain position" in r.err
