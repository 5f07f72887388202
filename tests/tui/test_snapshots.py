"""Snapshots of the main screens over a seeded log (fingerprints only; fixed clock and data).

Update after an intended layout change with ``pytest tests/tui --snapshot-update``
and review the SVG diff; textual is pinned in constraints.txt because a textual
upgrade changes rendering.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from .conftest import SIZE, make_app, settle

SnapCompare = Callable[..., bool]


def test_sessions_screen(snap_compare: SnapCompare, seeded_db: Path) -> None:
    assert snap_compare(make_app(seeded_db), terminal_size=SIZE, run_before=settle)


def test_session_screen(snap_compare: SnapCompare, seeded_db: Path) -> None:
    async def open_session(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)

    assert snap_compare(make_app(seeded_db), terminal_size=SIZE, run_before=open_session)


def test_request_detail_screen(snap_compare: SnapCompare, seeded_db: Path) -> None:
    async def open_request(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press("a")  # alerts: the newest is a request
        await settle(pilot)
        await pilot.press("down", "down", "down", "enter")  # the unprotected request
        await settle(pilot)

    assert snap_compare(make_app(seeded_db), terminal_size=SIZE, run_before=open_request)


def test_alerts_screen(snap_compare: SnapCompare, seeded_db: Path) -> None:
    async def open_alerts(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)

    assert snap_compare(make_app(seeded_db), terminal_size=SIZE, run_before=open_alerts)
