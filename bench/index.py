"""Figures: full index of the stdlib (MB/s, names) and re-index after one change.

Baseline in the same run: tree-sitter parsing alone, one process (the reference
measured 6-7 MB/s per core here), so the cost of our queries, stop lists and
store shows as the gap.

    .venv/bin/python bench/index.py [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import time

from bench._common import copy_stdlib, isolated_user, median_time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from pretense_dev.identifiers.extract import _parser
    from pretense_dev.index.indexer import run_index
    from pretense_dev.lifecycle import init_repo
    from pretense_dev.repo import Repo

    with isolated_user() as base:
        repo = base / "stdlib"
        size = copy_stdlib(repo)
        mb = size / 1e6
        files = sorted(repo.rglob("*.py"))
        print(f"corpus: {len(files)} files, {mb:.1f} MB of Python (stdlib of this interpreter)")

        parser = _parser("python")
        data = [p.read_bytes() for p in files]

        def parse_only() -> None:
            for d in data:
                parser.parse(d)

        t_parse = median_time(parse_only, args.runs)

        report = init_repo(repo)  # first run creates key, registry, index
        r = Repo(repo)

        def full() -> None:
            shutil.rmtree(repo / ".pretense")
            init_repo(repo)

        t_full = median_time(full, args.runs)
        with r.open_store() as store:
            names = store.active_count()
            defs = store.conn.execute("SELECT count(*) FROM definitions").fetchone()[0]

        target = repo / "json" / "decoder.py"
        original = target.read_text()
        times = []
        with r.open_store() as store:
            for i in range(max(args.runs * 5, 15)):
                target.write_text(original + f"\ndef bench_added_function_{i}(): pass\n")
                t = time.perf_counter()
                rep = run_index(repo, store, r.config, r.key)
                times.append(time.perf_counter() - t)
                assert rep.files_parsed == 1, rep
        times.sort()
        t_one = times[len(times) // 2]

        print()
        print(f"{'figure':<44}{'ours':>12}{'baseline':>14}  goal")
        print(
            f"{'full index, MB/s (2 processes)':<44}{mb / t_full:>12.1f}"
            f"{mb / t_parse:>14.1f}  ≥ 8   (baseline: tree-sitter parse only, 1 process)"
        )
        print(f"{'full index, seconds':<44}{t_full:>12.2f}{t_parse:>14.2f}")
        print(f"{'names protected / definitions stored':<44}{names:>12}{defs:>14}")
        print(f"{'re-index after one file changed, ms':<44}{t_one * 1000:>12.1f}{'':>14}  ≤ 50")
        print(f"(first init took {report.seconds:.2f} s; median of {args.runs} full runs)")


if __name__ == "__main__":
    main()
