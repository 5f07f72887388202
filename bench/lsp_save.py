"""Figure: a file saved → index and map updated (goal ≤ 300 ms median).

Corpus: a copy of this interpreter's standard library, initialised (≈ 66k
protected names), so the store has a realistic size.  Each round appends a
new function to `json/decoder.py`, writes it to disk, sends `didSave`, and
waits for the server's `pretense/status` notification with reason "saved",
which it sends once `run_index(only=[that file])` and the map update are
committed.  The new name is then checked in the store (active, and the
status's map version is the store's).

Baseline in the same run: `run_index(only=[that file])` called in-process
on the same change — the server adds its JSON-RPC round trip, thread hand-off,
the git check-ignore call and the status payload on top.

    .venv/bin/python -m bench.lsp_save [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from bench._common import copy_stdlib, isolated_user
from bench._lsp import BenchClient

TARGET = "json/decoder.py"


def appended(original: str, name: str) -> str:
    return original + f"\n\ndef {name}(payload):\n    return payload\n"


async def through_server(repo: Path, original: str, runs: int) -> list[float]:
    from pretense_dev.repo import Repo

    target = repo / TARGET
    client = BenchClient()
    await client.start(repo)
    await client.status_after(0, "startup")
    uri = client.open(target, original)
    times = []
    try:
        for i in range(runs):
            name = f"saved_probe_{i}_server"
            target.write_text(appended(original, name))
            index = len(client.statuses)
            t0 = time.perf_counter()
            client.save(uri)
            t1, status = await client.status_after(index, "saved")
            times.append(t1 - t0)
            with Repo(repo).open_store() as store:
                row = store.issued([name]).get(name)
                assert row is not None and row.active, name
                assert status["mapVersion"] == store.map_version()
    finally:
        await client.stop()
        target.write_text(original)
    return times


def in_process(repo: Path, original: str, runs: int) -> list[float]:
    from pretense_dev.index.indexer import run_index
    from pretense_dev.repo import Repo

    r = Repo(repo)
    target = repo / TARGET
    times = []
    with r.open_store() as store:
        for i in range(runs):
            name = f"saved_probe_{i}_direct"
            target.write_text(appended(original, name))
            t0 = time.perf_counter()
            run_index(repo, store, r.config, r.key, only=[TARGET], workers=1)
            times.append(time.perf_counter() - t0)
            assert store.issued([name])[name].active
    target.write_text(original)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    from pretense_dev.lifecycle import init_repo

    with isolated_user() as base:
        repo = base / "stdlib"
        copy_stdlib(repo)
        report = init_repo(repo)
        assert report.index is not None
        original = (repo / TARGET).read_text()
        direct = in_process(repo, original, args.runs)
        served = asyncio.run(through_server(repo, original, args.runs))
        print(
            f"corpus: stdlib copy, {report.index.files_seen} files, "
            f"{report.index.names_protected} names protected"
        )
        print(f"{'':44}{'median':>10}{'p90':>10}")
        for label, ts in (
            ("run_index(only=[file]) in-process", direct),
            ("didSave → pretense/status 'saved' (server)", served),
        ):
            p90 = sorted(ts)[int(0.9 * (len(ts) - 1))]
            print(f"{label:44}{statistics.median(ts) * 1000:>8.1f}ms{p90 * 1000:>8.1f}ms")
        print("goal: ≤ 300 ms median for the server")


if __name__ == "__main__":
    main()
