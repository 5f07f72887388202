"""What our definition queries cost on top of tree-sitter's parse, per language.

Prints medians (of `--runs`, default 5) of three passes over the same files, in
one process, one core: **parse** alone (the baseline), **parse + query** the way
`extract.raw_definitions` does it (`QueryCursor.captures`), and the same query
run with `QueryCursor.matches` (what resolving overlaps by pattern order would
need), plus the full `extract_definitions` (stop lists included), as MB/s.

Usage::

    .venv/bin/python bench/extract.py [--runs N] [--limit MB] [DIR ...]

The Python standard library of the running interpreter is always measured;
each DIR adds its files of every supported language (a checkout, or files
exported from a bare git directory as `bench/leak.py` describes).
"""

from __future__ import annotations

import argparse
import os
import sysconfig
from collections import defaultdict
from pathlib import Path

from bench._common import median_time as median_seconds


def collect(roots: list[Path], limit: int) -> dict[str, list[bytes]]:
    from pretense_dev.identifiers.languages import GRAMMARS, language_for_path

    out: dict[str, list[bytes]] = defaultdict(list)
    size: dict[str, int] = defaultdict(int)
    for root in roots:
        for d, dirs, files in os.walk(root):
            dirs[:] = sorted(x for x in dirs if x not in ("site-packages", "__pycache__", ".git"))
            for f in sorted(files):
                lang = language_for_path(f)
                if lang in GRAMMARS and size[lang] < limit:
                    data = Path(d, f).read_bytes()
                    out[lang].append(data)
                    size[lang] += len(data)
    return out


def measure(lang: str, files: list[bytes], runs: int) -> tuple[float, float, float, float]:
    """Median seconds of: parse; parse + captures; parse + matches; extract_definitions."""
    from tree_sitter import QueryCursor

    from pretense_dev.identifiers.extract import _parser, _query, extract_definitions

    p, q = _parser(lang), _query(lang)
    return (
        median_seconds(lambda: [p.parse(s) for s in files], runs),
        median_seconds(
            lambda: [QueryCursor(q).captures(p.parse(s).root_node) for s in files], runs
        ),
        median_seconds(lambda: [QueryCursor(q).matches(p.parse(s).root_node) for s in files], runs),
        median_seconds(lambda: [extract_definitions(s, lang) for s in files], runs),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("dirs", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--limit", type=float, default=4.0, help="MB per language at most")
    args = parser.parse_args(argv)

    roots = [Path(sysconfig.get_paths()["stdlib"]), *args.dirs]
    corpus = collect(roots, int(args.limit * 1e6))
    print(
        f"{'language':<11} {'files':>6} {'MB':>6} {'parse':>9} {'+captures':>10} "
        f"{'+matches':>9} {'extract':>9}   (MB/s, median of {args.runs})"
    )
    for lang, files in sorted(corpus.items()):
        mb = sum(map(len, files)) / 1e6
        parse, caps, mats, full = measure(lang, files, args.runs)
        print(
            f"{lang:<11} {len(files):>6} {mb:>6.2f} {mb / parse:>9.1f} {mb / caps:>10.1f} "
            f"{mb / mats:>9.1f} {mb / full:>9.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
