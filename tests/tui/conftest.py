"""Fixtures for the TUI tests: a seeded log, a fixed clock, and settling helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from pretense_dev.audit.sample import START, sample_events
from pretense_dev.audit.store import AuditStore
from pretense_dev.tui.app import AuditApp

NOW = START + 6 * 3600.0  # the injected clock: six hours after the first session
SIZE = (140, 36)


@pytest.fixture
def seeded_db(tmp_path: Path) -> Path:
    """16 simulated sessions; secrets appear as fingerprints only."""
    db = tmp_path / "audit.db"
    with AuditStore(db) as store:
        store.append_many(sample_events(16))
    return db


def make_app(db: Path) -> AuditApp:
    """The real app, with the clock pinned and no timer: tests trigger polls themselves."""
    return AuditApp(db, clock=lambda: NOW, poll_interval=None)


async def settle(pilot: Pilot[int]) -> None:
    """Wait for every worker, then for the messages they posted (no sleeping)."""
    app = pilot.app
    for _ in range(10):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            break
    for inp in app.screen.query("Input"):
        inp.cursor_blink = False  # type: ignore[attr-defined]
