"""Keyword prefilter candidates and the detector with and without one (one core).

Usage:  python bench/secrets_prefilter.py [--runs N]

Corpus: the text files of the Python standard library.  Prints medians:

1. finding every rule keyword (case-insensitively) in every file, per backend:
   hyperscan, pyahocorasick (on lower-cased text), google-re2 (an alternation,
   lower-cased), `re` (an alternation, IGNORECASE and lower-cased; timed on a
   slice and scaled, it is that slow);
2. the whole detector (`Detector.scan_bytes`) with each available backend, and
   without a prefilter (every regex rule over every whole file — gitleaks'
   approach without its keyword check), on a slice.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import sys
import time

from bench._common import median_time as median_seconds
from bench._secrets_common import stdlib_dir
from pretense_dev.secrets.detector import Detector, Engine
from pretense_dev.secrets.prefilter import Prefilter, make_prefilter
from pretense_dev.secrets.rules import default_rules


def corpus() -> list[tuple[str, bytes]]:
    out = []
    root = stdlib_dir()
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs if x not in ("__pycache__", "site-packages")]
        for n in names:
            p = os.path.join(d, n)
            try:
                data = open(p, "rb").read()  # noqa: SIM115 - a benchmark loop
            except OSError:
                continue
            if b"\0" not in data[:8000] and len(data) < 20_000_000:
                out.append((os.path.relpath(p, root), data))
    return out


def scan_all(pf: Prefilter, files: list[tuple[str, bytes]]) -> None:
    for _, d in files:
        pf.scan(d)


def detect_all(det: Detector, files: list[tuple[str, bytes]]) -> None:
    for p, d in files:
        det.scan_bytes(d, p)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    files = corpus()
    total = sum(len(d) for _, d in files) / 1e6
    rules = default_rules()
    keywords = sorted({k for r in rules for k in r.keywords})
    print(
        f"corpus: {len(files)} files, {total:.1f} MB; {len(keywords)} keywords; "
        f"Python {sys.version.split()[0]}"
    )
    print("1. keyword pass alone")

    def report(name: str, seconds: float, scale: float = 1.0) -> None:
        print(f"   {name:<38}{total / (seconds * scale):9.1f} MB/s")

    for backend in ("hyperscan", "aho-corasick"):
        try:
            pf = make_prefilter(keywords, backend)
        except ImportError:
            print(f"   {backend:<38}   (not installed)")
            continue
        report(backend, median_seconds(functools.partial(scan_all, pf, files), args.runs))
    try:
        import re2

        rx2 = re2.compile("|".join(re.escape(k) for k in keywords))
        report(
            "google-re2 alternation (lower-cased)",
            median_seconds(lambda: [list(rx2.finditer(d.lower())) for _, d in files], args.runs),
        )
    except ImportError:
        print(f"   {'google-re2':<38}   (not installed)")
    alternation = b"|".join(re.escape(k.encode()) for k in sorted(keywords, key=len, reverse=True))
    ci = re.compile(alternation, re.IGNORECASE)
    lc = re.compile(alternation)
    part = files[: max(1, len(files) // 40)]
    share = sum(len(d) for _, d in part) / 1e6 / total
    report(
        "re alternation, IGNORECASE (slice)",
        median_seconds(lambda: [list(ci.finditer(d)) for _, d in part], 1),
        1 / share,
    )
    report(
        "re alternation, lower-cased (slice)",
        median_seconds(lambda: [list(lc.finditer(d.lower())) for _, d in part], 1),
        1 / share,
    )

    print("2. whole detector")
    for backend in ("hyperscan", "aho-corasick"):
        try:
            det = Detector(bytes(32), engine=Engine(rules, backend))
        except ImportError:
            continue
        det.scan_bytes(b"warm")
        report(
            f"prefilter: {backend}",
            median_seconds(functools.partial(detect_all, det, files), args.runs),
        )
    regex_rules = [r for r in rules if r.pattern is not None]
    for r in regex_rules:
        r.regex  # noqa: B018 - compile outside the timing
    t = time.perf_counter()
    for _, d in part:
        for r in regex_rules:
            for _m in r.regex.finditer(d):
                pass
    report("no prefilter: every regex, whole text (slice)", time.perf_counter() - t, 1 / share)
    print("3. per call on small texts (the proxy's content blocks, an editor buffer)")
    det = Detector(bytes(32))
    prose = (
        "Please refactor the ledger reconciler so that it retries when the upstream API "
        "returns 429, and add a test. The config lives in settings.py; keep the token handling "
        "as is.\n"
    )
    code = files[len(files) // 2][1][:20_000].decode("utf-8", "replace")
    for label, text in (("200 B of prose", prose[:200]), ("2 KB of prose", prose * 10),
                        ("20 KB of code", code)):  # fmt: skip
        n = 2000 if len(text) < 5000 else 200
        t = time.perf_counter()
        for _ in range(n):
            det.scan_text(text)
        per = (time.perf_counter() - t) / n
        print(f"   {label:<38}{per * 1e6:9.0f} µs per scan_text call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
