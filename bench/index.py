"""Figures: full index of the stdlib (MB/s, names) and re-index after one change.

One run measures, interleaved run by run so that a load change hits all alike:

* **ours**: a first `init` of a copy of the stdlib (definitions, a secret
  scan of every file, the map), as a user runs it: 2 worker processes;
* **floor**: tree-sitter parsing alone of the same files on the same 2
  processes (read + parse, nothing kept): what the index could reach if our
  queries, secret scan, store and map cost nothing;
* **main** (when `--main DIR` holds a checkout with its own built `.venv`):
  the same `init` by that tree's code, in a subprocess on its own copy of the
  corpus, so a change shows against the code it replaces in the same run.
  Nothing is written under DIR (no bytecode either).

Medians of `--runs`; the load average is printed because figures taken on a
shared machine are not comparable across runs, only within one.

`--split` adds where a worker's CPU goes, file by file in one process: the
parse, the definitions query, our extraction around it, the secret scan, and
the look-alike scan with the content hash.

    .venv/bin/python -m bench.index [--runs 3] [--quick] [--main /work/main] [--split]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench._common import copy_stdlib, isolated_user

# Run by the --main interpreter: one first init of a copy of the corpus, its seconds on stdout.
_MAIN_RUN = """
import json, os, shutil, sys, tempfile, time
from pathlib import Path
src = Path(sys.argv[1])
base = Path(tempfile.mkdtemp(prefix="pretense-bench-main-"))
try:
    home = base / "home"
    os.environ["HOME"] = str(home)
    for var in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        os.environ[var] = str(home / var.lower())
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    repo = base / "stdlib"
    shutil.copytree(src, repo, ignore=shutil.ignore_patterns(".pretense"))
    from pretense_dev.lifecycle import init_repo
    init_repo(repo)  # warm: key, registry, caches, as in our own runs
    shutil.rmtree(repo / ".pretense")
    c0 = os.times()
    t = time.perf_counter()
    init_repo(repo)
    seconds = time.perf_counter() - t
    c1 = os.times()
    parent = c1.user + c1.system - c0.user - c0.system
    workers = c1.children_user + c1.children_system - c0.children_user - c0.children_system
    import sqlite3
    conn = sqlite3.connect(repo / ".pretense" / "index.db")
    names = conn.execute("SELECT count(*) FROM identifiers WHERE active").fetchone()[0]
    print(json.dumps({"seconds": seconds, "names": names, "cpu": [parent, workers]}))
finally:
    shutil.rmtree(base, ignore_errors=True)
"""


def _parse_batch(root: str, batch: list[str]) -> int:
    from pretense_dev.identifiers.extract import _parser

    parser = _parser("python")
    n = 0
    for rel in batch:
        with open(os.path.join(root, rel), "rb") as f:
            parser.parse(f.read())
        n += 1
    return n


def parse_floor(repo: Path, files: list[Path], workers: int) -> float:
    """Seconds to read and parse every file on `workers` forked processes (indexer batches)."""
    import multiprocessing

    from pretense_dev.index.indexer import BATCH_BYTES

    order = sorted(files, key=lambda p: p.stat().st_size, reverse=True)
    batches: list[list[str]] = [[]]
    size = 0
    for p in order:
        batches[-1].append(str(p.relative_to(repo)))
        size += p.stat().st_size
        if size >= BATCH_BYTES:
            batches.append([])
            size = 0
    t = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        done = sum(pool.map(_parse_batch, [str(repo)] * len(batches), batches))
    assert done == len(files)
    return time.perf_counter() - t


def cpu_split(repo: Path, files: list[Path]) -> dict[str, float]:
    """CPU seconds of each part of `index_file`, over every file, in this process."""
    import hashlib

    from tree_sitter import QueryCursor

    from pretense_dev.config import SecretsConfig
    from pretense_dev.identifiers.extract import _parser, _query
    from pretense_dev.index.indexer import definitions_in
    from pretense_dev.mutation.synth import find_lookalikes
    from pretense_dev.secrets import Detector

    parser, query = _parser("python"), _query("python")
    detector = Detector(b"bench-split-key-0123456789abcdef", SecretsConfig())
    clock = time.process_time
    out = dict.fromkeys(
        ("parse", "query", "extraction", "secret scan", "look-alikes + sha256"), 0.0
    )
    for p in files:
        data = p.read_bytes()
        rel = str(p.relative_to(repo))
        t0 = clock()
        tree = parser.parse(data)
        t1 = clock()
        QueryCursor(query).captures(tree.root_node)
        t2 = clock()
        definitions_in(data, rel, "python", True)  # parse + query + our code
        t3 = clock()
        detector.scan_bytes(data, rel)
        t4 = clock()
        find_lookalikes(data)
        hashlib.sha256(data).hexdigest()
        t5 = clock()
        out["parse"] += t1 - t0
        out["query"] += t2 - t1
        out["extraction"] += (t3 - t2) - (t2 - t0)
        out["secret scan"] += t4 - t3
        out["look-alikes + sha256"] += t5 - t4
    return out


def main_run(main: Path, corpus: Path) -> tuple[float, int, tuple[float, float]]:
    """(seconds, names, (parent, workers) CPU seconds) of one first init by `main`'s code."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run(
        [str(main / ".venv" / "bin" / "python"), "-c", _MAIN_RUN, str(corpus)],
        cwd=tempfile.gettempdir(),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return float(data["seconds"]), int(data["names"]), (data["cpu"][0], data["cpu"][1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="one run of each, fewer re-index runs")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--main",
        type=Path,
        default=Path("/work/main") if Path("/work/main/.venv/bin/python").exists() else None,
        help="a checkout with a built .venv whose code to measure beside ours (read-only)",
    )
    ap.add_argument("--no-main", action="store_true")
    ap.add_argument("--split", action="store_true", help="also: where a worker's CPU goes")
    args = ap.parse_args()
    runs = 1 if args.quick else args.runs
    main_tree = None if args.no_main else args.main
    from pretense_dev.index.indexer import run_index
    from pretense_dev.lifecycle import init_repo
    from pretense_dev.repo import Repo

    load = os.getloadavg()
    with isolated_user() as base:
        repo = base / "stdlib"
        size = copy_stdlib(repo)
        mb = size / 1e6
        files = sorted(repo.rglob("*.py"))
        print(f"corpus: {len(files)} files, {mb:.1f} MB of Python (stdlib of this interpreter)")
        print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)

        report = init_repo(repo)  # first run creates key, registry, caches
        r = Repo(repo)
        t_ours: list[float] = []
        t_floor: list[float] = []
        t_main: list[float] = []
        cpu_parent: list[float] = []
        cpu_workers: list[float] = []
        cpu_main_parent: list[float] = []
        cpu_main_workers: list[float] = []
        main_names = 0
        for _ in range(runs):
            t_floor.append(parse_floor(repo, files, args.workers))
            shutil.rmtree(repo / ".pretense")
            c0 = os.times()
            t = time.perf_counter()
            init_repo(repo)
            t_ours.append(time.perf_counter() - t)
            c1 = os.times()
            cpu_parent.append(c1.user + c1.system - c0.user - c0.system)
            cpu_workers.append(
                c1.children_user + c1.children_system - c0.children_user - c0.children_system
            )
            if main_tree is not None:
                seconds, main_names, (parent, workers) = main_run(main_tree, repo)
                t_main.append(seconds)
                cpu_main_parent.append(parent)
                cpu_main_workers.append(workers)
        with r.open_store() as store:
            names = store.active_count()
            defs = store.conn.execute("SELECT count(*) FROM definitions").fetchone()[0]

        target = repo / "json" / "decoder.py"
        original = target.read_text()
        times = []
        with r.open_store() as store:
            for i in range(5 if args.quick else max(runs * 5, 15)):
                target.write_text(original + f"\ndef bench_added_function_{i}(): pass\n")
                t = time.perf_counter()
                rep = run_index(repo, store, r.config, r.key)
                times.append(time.perf_counter() - t)
                assert rep.files_parsed == 1, rep
        t_one = statistics.median(times)
        load_end = os.getloadavg()

        ours, floor = statistics.median(t_ours), statistics.median(t_floor)
        w = args.workers
        print()
        print(f"{'figure (median of ' + str(runs) + ')':<46}{'MB/s':>8}{'seconds':>10}  ratio")
        label = f"full index, ours ({w} processes)"
        print(f"{label:<46}{mb / ours:>8.1f}{ours:>10.2f}  goal ≥ 10 MB/s")
        print(
            f"{f'floor: tree-sitter parse only ({w} processes)':<46}{mb / floor:>8.1f}"
            f"{floor:>10.2f}  ours at {floor / ours:.2f}x the floor's speed"
        )
        if t_main:
            old = statistics.median(t_main)
            print(
                f"{'full index, ' + str(main_tree) + ' code':<46}{mb / old:>8.1f}{old:>10.2f}"
                f"  ours {old / ours:.2f}x as fast ({main_names} names there)"
            )
        print(
            f"{'ours, CPU seconds: parent / workers':<46}{'':>8}"
            f"{statistics.median(cpu_parent):>10.2f} / {statistics.median(cpu_workers):.2f}"
            "  (a load-proof view: wall ≈ (parent + workers) / cores when both are busy)"
        )
        if t_main:
            print(
                f"{'main, CPU seconds: parent / workers':<46}{'':>8}"
                f"{statistics.median(cpu_main_parent):>10.2f}"
                f" / {statistics.median(cpu_main_workers):.2f}"
            )
        print(f"{'names protected / definitions stored':<46}{names:>8}{defs:>10}")
        print(f"{'re-index after one file changed, ms':<46}{t_one * 1000:>8.1f}{'':>10}  goal ≤ 50")
        if args.split:
            split = cpu_split(repo, files)
            total = sum(split.values())
            print(f"worker CPU by part, one process, CPU s (load {os.getloadavg()[0]:.2f}):")
            for part, secs in split.items():
                print(f"  {part:<44}{secs:>8.2f}{'':>10}  {secs / split['parse']:.2f}x the parse")
            print(f"  {'total':<44}{total:>8.2f}")
        print(
            f"(first init {report.seconds:.2f} s; load average {load[0]:.2f} at start, "
            f"{load_end[0]:.2f} at end)"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
