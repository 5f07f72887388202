"""Why orjson: parse + re-serialise a 1 MB conversation, orjson against the standard library.

The proxy parses every request body and writes it back after mutation
(`pretense_dev.proxy.jsonx`), so this is a per-request cost on the 3 ms budget
for a resent history.

    .venv/bin/python -m bench.proxy_json [--runs 30]
"""

from __future__ import annotations

import argparse
import json

import orjson

from bench._common import median_time
from bench._proxy_common import corpus, request


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    text = corpus()
    body = request([text[i * 10_000 : (i + 1) * 10_000] for i in range(100)])
    parsed = json.loads(body)
    print(f"body: {len(body) / 1e6:.2f} MB, 199 messages (medians of {args.runs})")
    rows = {
        "json": (
            median_time(lambda: json.loads(body), args.runs),
            median_time(
                lambda: json.dumps(parsed, separators=(",", ":"), ensure_ascii=False).encode(),
                args.runs,
            ),
        ),
        "orjson": (
            median_time(lambda: orjson.loads(body), args.runs),
            median_time(lambda: orjson.dumps(parsed), args.runs),
        ),
    }
    for name, (lo, du) in rows.items():
        print(
            f"  {name:<7} parse {lo * 1e3:5.2f} ms | write {du * 1e3:5.2f} ms | "
            f"both {(lo + du) * 1e3:5.2f} ms"
        )


if __name__ == "__main__":
    main()
