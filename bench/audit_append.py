"""Append one audit event: the proxy's per-request cost and a hook's whole `record`.

Goal: ≤ 1 ms median per append (the proxy appends once per request).  The
process's CPU time per event is printed too: it is steadier than wall time on a
shared machine, and it is what the proxy's audit thread takes from the
requests.  Printed beside a bare SQLite
insert of the same JSON text into a one-table WAL database in the same run
(the floor), and beside the same append with synchronous=FULL (an fsync per
commit) to show what durability would cost.  The hook figure is a fresh
interpreter that imports the store and records one event, beside a bare
``python -c pass`` and ``python -c "import sqlite3"``.

    python -m bench.audit_append [--runs N]
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._audit import median, row
from pretense_dev.audit import chain
from pretense_dev.audit.sample import sample_events
from pretense_dev.audit.store import AuditStore


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--cold-runs", type=int, default=30)
    args = ap.parse_args()
    events = [e for e in sample_events(60) if e.event == "request"]
    d = Path(tempfile.mkdtemp(prefix="pretense-bench-append-"))
    print(f"append one event ({args.runs} runs; SQLite {sqlite3.sqlite_version}; medians)")

    # Baseline: bare insert of the same canonical JSON, WAL + synchronous=NORMAL.
    base = sqlite3.connect(d / "bare.db", isolation_level=None)
    base.execute("PRAGMA journal_mode=WAL")
    base.execute("PRAGMA synchronous=NORMAL")
    base.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, data TEXT NOT NULL)")
    datas = [chain.encode(i + 1, e).decode() for i, e in enumerate(events)]
    samples = []
    for i in range(args.runs):
        data = datas[i % len(datas)]
        t = time.perf_counter()
        base.execute("BEGIN IMMEDIATE")
        base.execute("INSERT INTO t (data) VALUES (?)", (data,))
        base.execute("COMMIT")
        samples.append(time.perf_counter() - t)
    base.close()
    row("baseline: bare SQLite insert, WAL, synchronous=NORMAL", median(samples))

    for name, sync in (("AuditStore.append (WAL, synchronous=NORMAL)", "NORMAL"),
                       ("AuditStore.append with synchronous=FULL (fsync)", "FULL")):  # fmt: skip
        with AuditStore(d / f"audit-{sync}.db") as store:
            store.conn.execute(f"PRAGMA synchronous={sync}")
            samples = []
            n = args.runs if sync == "NORMAL" else max(200, args.runs // 10)
            cpu = time.process_time()
            for i in range(n):
                e = events[i % len(events)]
                t = time.perf_counter()
                store.append(e)
                samples.append(time.perf_counter() - t)
            cpu = (time.process_time() - cpu) / n
            assert store.verify().ok
        p99 = sorted(samples)[int(len(samples) * 0.99)]
        row(name, median(samples), f"p99 {p99 * 1e3:.2f} ms; CPU {cpu * 1e6:.0f} µs/event (mean)")

    with AuditStore(d / "batch8.db") as store:
        # What the proxy's writer thread commits when requests come back to back.
        samples = []
        n = max(50, args.runs // 8)
        cpu = time.process_time()
        for i in range(n):
            batch8 = [events[(i * 8 + j) % len(events)] for j in range(8)]
            t = time.perf_counter()
            store.append_many(batch8)
            samples.append((time.perf_counter() - t) / 8)
        cpu = (time.process_time() - cpu) / (n * 8)
        assert store.verify().ok
        row("AuditStore.append_many of 8 (the proxy writer), per event",
            median(samples), f"CPU {cpu * 1e6:.0f} µs/event (mean)")  # fmt: skip

    with AuditStore(d / "many.db") as store:
        batch = (events * 20)[:1000]
        t = time.perf_counter()
        store.append_many(batch)
        row("AuditStore.append_many, per event (1,000 in one transaction)",
            (time.perf_counter() - t) / len(batch))  # fmt: skip

    # A hook: a fresh interpreter imports the store, appends one event, exits.
    hook_db = d / "hook.db"
    AuditStore(hook_db).close()
    code = (
        "from pretense_dev.audit.events import AuditEvent\n"
        "from pretense_dev.audit.store import record\n"
        "e = AuditEvent('prompt_submitted', session_id='s', decision='allowed')\n"
        f"record(e, {str(hook_db)!r})\n"
    )

    def cold(argv: list[str]) -> float:
        samples = []
        for _ in range(args.cold_runs):
            t = time.perf_counter()
            subprocess.run(argv, check=True)
            samples.append(time.perf_counter() - t)
        return median(samples)

    print(f"hook-style record() in a fresh interpreter ({args.cold_runs} runs, medians)")
    row("baseline: python -c pass", cold([sys.executable, "-c", "pass"]))
    row("baseline: python -c 'import sqlite3'", cold([sys.executable, "-c", "import sqlite3"]))
    row("python: import store + record(one event)", cold([sys.executable, "-c", code]))


if __name__ == "__main__":
    main()
