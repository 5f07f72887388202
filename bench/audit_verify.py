"""Verify 1,000,000 rows: goal ≤ 5 s (short enough to run before every audit review).

Beside it, in the same run, the two floors verify cannot beat: reading the
same columns from SQLite without hashing, and hashing the same bytes without
SQLite.  The log is built once (~1–2 minutes) and cached (bench/_audit.py).

    python -m bench.audit_verify [--rows N] [--runs N]
"""

from __future__ import annotations

import argparse
import hashlib

from bench._audit import big_log, median, row, timed
from pretense_dev.audit.store import AuditStore


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    path = big_log(args.rows)
    print(f"verify {args.rows:,} rows ({args.runs} runs, medians; {path.stat().st_size >> 20} MB)")

    with AuditStore.open_readonly(path) as store:
        sql = "SELECT seq, data_seq, CAST(data AS BLOB), prev_hash, hash FROM events ORDER BY seq"

        def scan() -> None:
            cur = store.conn.execute(sql)
            while cur.fetchmany(65536):
                pass

        row("floor: read the same columns, no hashing", median(timed(scan, args.runs)))
        blobs = [r[0] + r[1] for r in store.conn.execute(
            "SELECT CAST(prev_hash AS BLOB), CAST(data AS BLOB) FROM events"
        )]  # fmt: skip

        def hash_only(items: list[bytes] = blobs) -> None:
            sha = hashlib.sha256
            for b in items:
                sha(b).hexdigest()

        row("floor: sha256 of the same bytes, no SQLite", median(timed(hash_only, args.runs)))
        blobs.clear()
        results = []

        def verify() -> None:
            results.append(store.verify(check_archives=False))

        row("AuditStore.verify()", median(timed(verify, args.runs)), "goal ≤ 5 s")
        assert all(r.ok and r.rows == args.rows for r in results), results[-1].problems[:3]


if __name__ == "__main__":
    main()
