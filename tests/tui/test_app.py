"""Pilot tests against the real app over a seeded audit log."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Select, Static

from pretense_dev.audit import queries
from pretense_dev.audit.events import AuditEvent
from pretense_dev.audit.sample import START
from pretense_dev.audit.store import AuditStore
from pretense_dev.tui.screens.alerts import AlertsScreen
from pretense_dev.tui.screens.request import RequestScreen
from pretense_dev.tui.screens.session import SessionScreen
from pretense_dev.tui.screens.sessions import SessionsScreen
from pretense_dev.tui.widgets.chain_status import ChainStatus

from .conftest import SIZE, make_app, settle

pytestmark = pytest.mark.asyncio


def screen(app: Any) -> Any:
    """The current screen, untyped: each assertion narrows it afresh."""
    return app.screen


def table(app: Any, selector: str) -> DataTable[Any]:
    return app.screen.query_one(selector, DataTable)  # type: ignore[no-any-return]


def text(app: Any, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def expected_sessions(db: Path, flt: queries.Filter | None = None) -> list[str]:
    with AuditStore.open_readonly(db) as store:
        return [
            r.session for r in queries.sessions(store.conn, flt or queries.Filter(), limit=1000)
        ]


async def test_sessions_newest_first_with_chain_status(seeded_db: Path) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(screen(app), SessionsScreen)
        t = table(app, "#sessions")
        keys = [
            t.coordinate_to_cell_key(Coordinate(i, 0)).row_key.value for i in range(t.row_count)
        ]
        assert keys == expected_sessions(seeded_db)
        assert text(app, "#summary") == "15 of 15 session(s)"
        status = app.screen.query_one(ChainStatus)
        assert str(status.render()).startswith("⛓ intact · 96 rows · head 96:")
        assert status.has_class("intact")


async def test_filters_and_search(seeded_db: Path) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#tool", Select).value = "cursor"
        await settle(pilot)
        assert table(app, "#sessions").row_count == 2
        assert text(app, "#summary") == "2 of 2 session(s)"
        app.screen.query_one("#tool", Select).clear()
        app.screen.query_one("#decision", Select).value = "unprotected"
        await settle(pilot)
        assert table(app, "#sessions").row_count == 2
        app.screen.query_one("#decision", Select).clear()
        await pilot.press("slash", *"gpt")
        await settle(pilot)
        assert table(app, "#sessions").row_count == 1
        assert text(app, "#summary") == "1 of 1 session(s)"


async def test_time_window_uses_the_injected_clock(seeded_db: Path) -> None:
    app = make_app(seeded_db)  # now = START + 6 h; sessions run from START to START + 5 h
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#window", Select).value = 86400.0
        await settle(pilot)
        assert table(app, "#sessions").row_count == 15
    app = make_app(seeded_db)
    app.clock = lambda: START + 3 * 86400
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#window", Select).value = 86400.0
        await settle(pilot)
        assert table(app, "#sessions").row_count == 0
        assert text(app, "#summary") == "no sessions match"


async def test_session_then_request_detail_then_back(seeded_db: Path) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = expected_sessions(seeded_db)[0]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(screen(app), SessionScreen) and screen(app).session == first
        with AuditStore.open_readonly(seeded_db) as store:
            evs = list(store.events("session = ?", (first,)))
        assert table(app, "#events").row_count == len(evs)
        requests = sum(s.event.event == "request" for s in evs)
        assert f" · {requests} requests · " in text(app, "#session-summary")
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(screen(app), RequestScreen) and screen(app).seq == evs[1].seq
        detail = text(app, "#detail")
        assert f"names protected ({evs[1].event.identifiers_protected})" in detail
        assert all(n in detail for n in evs[1].event.identifiers)
        assert evs[1].hash in detail
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(screen(app), SessionScreen)
        await pilot.press("escape")
        assert isinstance(screen(app), SessionsScreen)


async def test_alerts_open_the_event_behind_them(seeded_db: Path) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(screen(app), AlertsScreen)
        t = table(app, "#alerts")
        assert t.row_count == 10
        assert text(app, "#alerts-summary") == "10 alert(s)"
        top = screen(app).loaded[0]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(screen(app), RequestScreen) and screen(app).seq == top.seq
        await pilot.press("s")  # its session
        await settle(pilot)
        assert isinstance(screen(app), SessionScreen) and screen(app).session == top.session


async def test_new_events_appear_live(seeded_db: Path) -> None:
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.check_for_changes() is False  # nothing new: no reload, no verify
        with AuditStore(seeded_db) as store:
            store.append_many(
                [
                    AuditEvent("session_started", session_id="live-1", tool="claude-code",
                               time=START + 5.9 * 3600, decision="allowed"),
                    AuditEvent("request", session_id="live-1", tool="claude-code",
                               time=START + 5.95 * 3600, decision="forwarded",
                               mutation_active=True, identifiers_protected=3),
                ]
            )  # fmt: skip
        assert app.check_for_changes() is True
        await settle(pilot)
        t = table(app, "#sessions")
        assert t.coordinate_to_cell_key(Coordinate(0, 0)).row_key.value == "live-1"
        assert text(app, "#summary") == "16 of 16 session(s)"
        assert str(app.screen.query_one(ChainStatus).render()).startswith("⛓ intact · 98 rows")


async def test_a_broken_chain_shows_in_the_indicator(seeded_db: Path) -> None:
    import sqlite3

    c = sqlite3.connect(seeded_db, isolation_level=None)
    c.execute("DELETE FROM events WHERE seq = 12")
    c.close()
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        status = app.screen.query_one(ChainStatus)
        assert str(status.render()) == "⛓ BROKEN · 1 problem(s) · row 12: missing: row 12 deleted"
        assert status.has_class("broken")
        await pilot.press("v")
        await settle(pilot)
        assert str(status.render()).startswith("⛓ BROKEN · 1 problem(s)")


async def test_large_logs_are_paged(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    with AuditStore(db) as store:
        store.append_many(
            AuditEvent("request", session_id=f"s{i:04d}", time=START + i, decision="forwarded")
            for i in range(250)
        )
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        t = table(app, "#sessions")
        assert t.row_count == 100
        assert text(app, "#summary") == "100 of 250 session(s) — scroll down for more"
        t.move_cursor(row=99)
        await settle(pilot)
        assert t.row_count == 200
        t.move_cursor(row=199)
        await settle(pilot)
        assert t.row_count == 250
        keys = [t.coordinate_to_cell_key(Coordinate(i, 0)).row_key.value for i in range(250)]
        assert keys == [f"s{i:04d}" for i in reversed(range(250))]


async def test_the_browser_never_writes(seeded_db: Path) -> None:
    def digest() -> str:
        h = hashlib.sha256()
        for suffix in ("", "-wal"):
            p = Path(f"{seeded_db}{suffix}")
            if p.exists():
                h.update(p.read_bytes())
        return h.hexdigest()

    before = digest()
    app = make_app(seeded_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape", "escape", "a")
        await settle(pilot)
        import sqlite3

        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            app._probe.execute("DELETE FROM events")
    assert digest() == before
