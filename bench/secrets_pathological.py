"""Pathological inputs (one-line, minified), timed beside the prefilter floor and gitleaks.

Usage:  python bench/secrets_pathological.py [--runs N]

Every input is generated here at run time: a one-line SVG, minified JS full
of joined literals (`"pa"+"ss"`), one-line JSON with secret-sounding keys, a
base64 blob, and a 10 MB single line.  Per file: the detector's CPU time
(median of N, in process), the floor (the prefilter pass alone, which every
scan does), their ratio, and `gitleaks dir` on a directory holding only that
file (whole process, so its start-up is included) when gitleaks is found.
A pass that re-reads the line per hit shows here as a ratio that grows with
the file; a linear detector keeps it roughly constant across sizes.
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench._secrets_common import gitleaks_binary, gitleaks_version
from pretense_dev.secrets import Detector
from pretense_dev.secrets.detector import Engine, shared_engine


def inputs(rng: random.Random) -> dict[str, bytes]:
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">']
    while sum(map(len, svg)) < 110_000:
        svg.append(
            f'<path id="key{rng.randint(0, 999)}" d="M{rng.random():.3f} {rng.random():.3f}" '
            f'fill="#{rng.randrange(1 << 24):06x}" data-token="t"/>'
        )
    js: list[str] = []
    while sum(map(len, js)) < 1_000_000:
        js.append(
            f'var a{rng.randint(0, 9999)}="pass"+"word{rng.randint(0, 99)}",k="secret"+"x";'
            f'function f(t){{return t.token+"{rng.randint(0, 99)}"}}'
        )
    rows = [{"id": i, "token": f"v{i}", "password": "p", "name": "n" * 10} for i in range(30000)]
    return {
        "icon.svg (110 KB, one line)": "".join(svg).encode(),
        "app.min.js (1 MB, minified)": ";".join(js).encode(),
        "data.json (2 MB, one line)": json.dumps(rows).encode(),
        "blob.b64 (4 MB, one line)": base64.b64encode(rng.randbytes(3_000_000)),
        "big.txt (10 MB, one line)": (b"key='a' + 'b' " * 720_000)[:10_000_000],
    }


def prefilter_pass(engine: Engine, data: bytes) -> int:
    return sum(1 for _ in engine.prefilter.scan(data))


def cpu_median(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return statistics.median(times)


def gitleaks_seconds(binary: str, data: bytes, tmp: Path, runs: int) -> float:
    d = tmp / "one"
    d.mkdir(exist_ok=True)
    for p in d.iterdir():
        p.unlink()
    (d / "input.txt").write_bytes(data)
    report = tmp / "gl.json"
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(
            [binary, "dir", str(d), "--no-banner", "--exit-code", "0", "-l", "error",
             "--report-format", "json", "--report-path", str(report)],
            check=True,
        )  # fmt: skip
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    binary = gitleaks_binary()
    print(f"cores: {os.cpu_count()}; load {os.getloadavg()[0]:.1f}; "
          f"gitleaks: {gitleaks_version(binary) if binary else 'not found'}")  # fmt: skip
    det = Detector(bytes(32))
    engine = shared_engine()
    print(f"{'input':<30}{'pretense-dev':>14}{'floor':>10}{'ratio':>8}{'MB/s':>8}{'gitleaks':>12}")
    with tempfile.TemporaryDirectory(prefix="secrets-patho-") as tmp:
        for name, data in inputs(random.Random(1)).items():
            path = name.split()[0]
            ours = cpu_median(functools.partial(det.scan_bytes, data, path), args.runs)
            floor = cpu_median(functools.partial(prefilter_pass, engine, data), args.runs)
            gl = f"{gitleaks_seconds(binary, data, Path(tmp), args.runs):9.2f} s" if binary else "-"
            mbs = len(data) / 1e6 / max(ours, 1e-9)
            print(
                f"{name:<30}{ours:>12.2f} s{floor:>8.2f} s{ours / max(floor, 1e-9):>7.1f}x"
                f"{mbs:>8.1f}{gl:>12}"
            )
    print(f"(CPU seconds, median of {args.runs}; floor = the prefilter pass alone)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
