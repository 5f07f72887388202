"""Shared by the audit benchmarks: a cached 1,000,000-event log, medians, printing."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pretense_dev.audit.sample import iter_sample_events
from pretense_dev.audit.store import AuditStore

CACHE = Path(os.environ.get("PRETENSE_BENCH_CACHE", Path(tempfile.gettempdir()) / "pretense-bench"))


def big_log(rows: int = 1_000_000) -> Path:
    """A log of `rows` simulated events (~170k sessions), built once and reused."""
    path = CACHE / f"audit-{rows}.db"
    if path.exists():
        with AuditStore.open_readonly(path) as store:
            if store.count() == rows:
                return path
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    tmp = path.with_suffix(".building")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    with AuditStore(tmp) as store:
        batch = []
        for event in iter_sample_events(rows, requests=(3, 9)):
            batch.append(event)
            if len(batch) == 50_000:
                store.append_many(batch)
                batch = []
                if store.count() >= rows:
                    break
        n = store.count()
        if n < rows:
            store.append_many(batch[: rows - n])
        elif n > rows:
            raise AssertionError("overshoot")
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.replace(tmp, path)
    print(f"(built {rows:,}-row log in {time.perf_counter() - t:.0f} s: {path})")
    return path


def median(samples: list[float]) -> float:
    """The median of `samples`."""
    return statistics.median(samples)


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    """Wall times of `runs` calls, seconds."""
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def row(name: str, seconds: float, note: str = "") -> None:
    """One line of a figure table."""
    if seconds < 1e-3:
        value = f"{seconds * 1e6:9.1f} µs"
    elif seconds < 1:
        value = f"{seconds * 1e3:9.2f} ms"
    else:
        value = f"{seconds:9.2f} s "
    print(f"  {name:<58}{value}  {note}")
