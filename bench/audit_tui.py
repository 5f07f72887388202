"""TUI first paint with 1,000,000 events: goal ≤ 1 s (a browser must feel instant).

Measured headless with Textual's own test driver: from constructing the app to
the sessions table holding its first page, painted (the chain is still being
verified in a worker meanwhile, as in real use).  Beside it: the same app over
a 100-event log (Textual's own start-up cost), and the SQL of the first page
alone.

    python -m bench.audit_tui [--rows N] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench._audit import big_log, median, row
from pretense_dev.audit import queries
from pretense_dev.audit.sample import sample_events
from pretense_dev.audit.store import AuditStore
from pretense_dev.tui.app import AuditApp


async def first_paint(db: Path) -> float:
    t = time.perf_counter()
    app = AuditApp(db, poll_interval=None)
    async with app.run_test(size=(160, 48)) as pilot:
        while True:
            table = app.screen.query("#sessions")
            if table and table.first().row_count:  # type: ignore[attr-defined]
                break
            await pilot.pause()
        await pilot.pause()  # the frame with the rows
        elapsed = time.perf_counter() - t
        app.workers.cancel_all()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    big = big_log(args.rows)
    small = Path(tempfile.mkdtemp(prefix="pretense-bench-tui-")) / "audit.db"
    with AuditStore(small) as store:
        store.append_many(sample_events(16)[:100])
    with AuditStore.open_readonly(big) as store:
        sessions = queries.session_count(store.conn)
        t = time.perf_counter()
        for _ in range(20):
            queries.sessions(store.conn, limit=101)
            queries.session_count(store.conn)
        sql = (time.perf_counter() - t) / 20
    print(
        f"TUI first paint ({args.runs} runs, medians; {args.rows:,} events, {sessions:,} sessions)"
    )
    row("floor: first page + count in SQL only", sql)
    small_t = median([asyncio.run(first_paint(small)) for _ in range(args.runs)])
    row("baseline: app over a 100-event log", small_t)
    big_t = median([asyncio.run(first_paint(big)) for _ in range(args.runs)])
    row(f"app over the {args.rows:,}-event log", big_t, "goal ≤ 1 s")


if __name__ == "__main__":
    main()
