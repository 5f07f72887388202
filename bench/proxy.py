"""The latency the proxy adds, against going direct and against the pass-through floor.

Three servers in their own processes: the loopback upstream, a plain aiohttp
pass-through proxy (the floor: no parsing, no mutation) and the pretense proxy.
Every iteration sends the same body to all three in rotating order (paired),
and the figures are medians.  "Added" is median(through) − median(direct).

* 4 KB request (goal ≤ 0.5 ms added);
* cold 256 KB request — content never seen before (goal ≤ 15 ms);
* a 1 MB conversation already seen, plus 10 KB new (goal ≤ 3 ms);
* streaming: added time to first text delta (goal ≤ 1 ms).

Each is run with the proxies on uvloop and on the default asyncio loop.

    .venv/bin/python -m bench.proxy [--runs 200] [--loops uvloop,asyncio]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench._proxy_common import Client, build_repo, clients, corpus, request, servers


def paired(
    cs: dict[str, Client], runs: int, body_for: Callable[[int], bytes], path: str = "/v1/messages"
) -> dict[str, float]:
    """Median seconds per target."""
    times: dict[str, list[float]] = {k: [] for k in cs}
    order = list(cs)
    import time

    for i in range(runs):
        body = body_for(i)
        order = order[1:] + order[:1]
        for k in order:
            t = time.perf_counter()
            status, _ = cs[k].post(path, body)
            times[k].append(time.perf_counter() - t)
            assert status == 200, (k, status)
    return {k: statistics.median(v) for k, v in times.items()}


def ttfb(cs: dict[str, Client], runs: int, body: bytes) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in cs}
    order = list(cs)
    for _ in range(runs):
        order = order[1:] + order[:1]
        for k in order:
            first, _ = cs[k].ttfb("/v1/messages?events=40", body)
            times[k].append(first)
    return {k: statistics.median(v) for k, v in times.items()}


def report(name: str, goal: float, m: dict[str, float]) -> None:
    d, p, r = m["direct"] * 1e3, m["passthrough"] * 1e3, m["pretense"] * 1e3
    print(
        f"  {name:<34} direct {d:7.2f} ms | floor +{p - d:5.2f} ms | pretense +{r - d:6.2f} ms "
        f"(goal ≤ {goal:g}) | over floor +{r - p:6.2f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--loops", default="uvloop,asyncio")
    ap.add_argument("--figures", default="4kb,cold,seen,stream", help="which figures to run")
    args = ap.parse_args()
    text = corpus()
    with tempfile.TemporaryDirectory(prefix="pretense-bench-") as tmp:
        base = Path(tmp)
        n = build_repo(base / "repo", text)
        from pretense_dev.index.store import IndexStore

        with IndexStore(base / "repo" / ".pretense" / "index.db") as store:
            m = store.load_map()
        text_file = base / "stream.txt"
        text_file.write_text(m.mutate(text[:200_000]), encoding="utf-8")
        print(f"map: {n} names from stdlib definitions; runs: {args.runs} per figure (medians)")
        kb4 = request([text[:4000]])
        history = [text[i * 10_000 : (i + 1) * 10_000] for i in range(100)]
        for loop in args.loops.split(","):
            print(f"proxies on {loop}:")
            with servers(base, text_file, loop) as (up, pt, pr):
                cs = clients(up, pt, pr)
                for c in cs.values():  # warm: connections, map load, first-use imports
                    for _ in range(5):
                        c.post("/v1/messages", kb4)
                which = set(args.figures.split(","))
                if "4kb" in which:
                    report("4 KB request", 0.5, paired(cs, args.runs, lambda i: kb4))

                def cold(i: int) -> bytes:
                    off = (i * 7919) % (len(text) - 260_000)
                    blocks = [
                        f"[{i}.{j}] " + text[off + j * 10_240 : off + (j + 1) * 10_240]
                        for j in range(25)
                    ]
                    return request(blocks)

                if "cold" in which:
                    report("cold 256 KB request", 15, paired(cs, max(20, args.runs // 4), cold))
                cs["pretense"].post("/v1/messages", request(history))  # the history is seen once

                def seen(i: int) -> bytes:
                    off = (i * 104729) % (len(text) - 11_000)
                    return request([*history, f"[new {i}] " + text[off : off + 10_240]])

                if "seen" in which:
                    report("1 MB seen + 10 KB new", 3, paired(cs, max(20, args.runs // 4), seen))
                sbody = request([text[:2000]], stream=True)
                if "stream" in which:
                    report("streaming: time to first delta", 1, ttfb(cs, args.runs, sbody))


if __name__ == "__main__":
    main()
