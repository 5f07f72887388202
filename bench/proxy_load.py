"""The proxy under load: stream throughput, 100 concurrent streams, RSS over 10,000 requests.

Same three servers as bench/proxy.py (upstream, the pass-through floor, the
pretense proxy; proxies on uvloop).

* un-mutation throughput: one long stream (``--events`` text deltas carrying
  synthetic names) direct, through the floor and through the proxy; and the
  rewriter alone, in process, on the same bytes (MB/s of SSE);
* 100 concurrent streaming requests (each ``--paced`` deltas ``--pace-ms`` apart:
  20 ms is 50 tokens/s, a fast model typing): errors, median / p95 time per
  request, and the CPU time each proxy process spent per stream (from
  ``/proc/<pid>/task/*/schedstat``: time on a CPU, so it does not grow when a
  busy machine makes the process wait, as the latencies do);
* RSS of the proxy process every 1,000 requests up to 10,000 (4 KB requests
  cycling over 100 conversations and 1,000 questions: after the first thousand
  everything is in the leaf cache, so any growth after that would be a leak).

    .venv/bin/python -m bench.proxy_load [--events 20000] [--requests 10000] [--rounds 3]
    .venv/bin/python -m bench.proxy_load --quick     # the 100 concurrent streams only
    .venv/bin/python -m bench.proxy_load --quick --audit   # ... with a real audit log written

The proxy drops its audit events unless ``--audit`` is given (then it appends
them to a log in the temporary directory, as the daemon does to the user's).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp

from bench._proxy_common import Server, build_repo, clients, corpus, request, servers
from bench._proxy_servers import REPO_ID


def throughput(cs: dict[str, object], events: int, body: bytes) -> None:
    out = {}
    for name, c in cs.items():
        times = []
        for _ in range(3):
            _, total = c.ttfb(f"/v1/messages?events={events}", body)  # type: ignore[attr-defined]
            times.append(total)
        out[name] = statistics.median(times)
    d = out["direct"]
    print(
        f"  long stream ({events} deltas): direct {d * 1e3:.0f} ms"
        f" | floor +{(out['passthrough'] - d) * 1e3:.0f} ms"
        f" | pretense +{(out['pretense'] - d) * 1e3:.0f} ms"
    )


def rewriter_alone(text: str, m: object, events: int) -> None:
    import json

    from pretense_dev.proxy.sse import SSEParser
    from pretense_dev.proxy.streams import rewriter_for

    chunks = []
    for i in range(events):
        piece = text[(i * 24) % len(text) : (i * 24) % len(text) + 24]
        ev = {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": piece},
        }
        chunks.append(b"event: content_block_delta\ndata: " + json.dumps(ev).encode() + b"\n\n")
    start = (
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"text","text":""}}\n\n'
    )
    data = start + b"".join(chunks)
    reads = [data[i : i + 4096] for i in range(0, len(data), 4096)]
    best = []
    for _ in range(5):
        rw = rewriter_for("anthropic", m)  # type: ignore[arg-type]
        p = SSEParser()
        t = time.perf_counter()
        for r in reads:
            rw.feed(p, r)  # as the proxy calls it, once per upstream read
        best.append(time.perf_counter() - t)
    sec = statistics.median(best)
    print(
        f"  rewriter alone: {len(data) / 1e6 / sec:.0f} MB/s of SSE, "
        f"{events / sec / 1e3:.0f} k events/s "
        f"({len(data) / 1e6:.1f} MB, {events} text deltas, 4 KB reads)"
    )


async def concurrent(
    port: int, prefix: str, n: int, paced: int, body: bytes, pace_ms: float = 20
) -> tuple[int, list[float]]:
    errors = 0
    times: list[float] = []
    headers = {
        "content-type": "application/json",
        "anthropic-version": "2023-06-01",
        "x-api-key": "k",
    }
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:

        async def one() -> None:
            nonlocal errors
            t = time.perf_counter()
            try:
                url = (
                    f"http://127.0.0.1:{port}{prefix}/v1/messages?events={paced}&pace_ms={pace_ms}"
                )
                async with s.post(url, data=body, headers=headers) as r:
                    data = await r.read()
                    if r.status != 200 or b"message_stop" not in data:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            times.append(time.perf_counter() - t)

        await asyncio.gather(*(one() for _ in range(n)))
    return errors, times


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of process `pid` so far (seconds on a CPU)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat", encoding="ascii") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
    return total / 1e9


def load(
    pt: Server, pr: Server, up: Server, paced: int, body: bytes, pace_ms: float, rounds: int = 3
) -> None:
    """100 concurrent streams against each target, in rotating order, `rounds` times.

    The machine is shared: one target measured after another would compare
    different loads, so the rounds interleave them and the figures are medians
    over the rounds.
    """
    targets = [
        ("direct", up, ""),
        ("passthrough", pt, f"/r/{REPO_ID}"),
        ("pretense", pr, f"/r/{REPO_ID}"),
    ]
    for _, server, prefix in targets:
        asyncio.run(concurrent(server.port, prefix, 10, paced, body, pace_ms))  # warm
    runs: dict[str, list[tuple[int, float, float]]] = {name: [] for name, _, _ in targets}
    cpu: dict[str, list[float]] = {name: [] for name, _, _ in targets}
    rss_after: list[str] = []  # the pretense process, after each of its rounds
    for r in range(rounds):
        for name, server, prefix in targets[r % 3 :] + targets[: r % 3]:
            before = cpu_seconds(server.pid)
            errors, times = asyncio.run(concurrent(server.port, prefix, 100, paced, body, pace_ms))
            cpu[name].append((cpu_seconds(server.pid) - before) / 100)
            if server is pr:
                rss_after.append(f"{pr.rss_mb():.0f}")
            times.sort()
            runs[name].append((errors, statistics.median(times), times[int(len(times) * 0.95) - 1]))
    rows = {
        name: (
            sum(e for e, _, _ in v),
            statistics.median(m for _, m, _ in v),
            statistics.median(p for _, _, p in v),
        )
        for name, v in runs.items()
    }
    d = rows["direct"][1]
    for name, (errors, med, p95) in rows.items():
        extra = "" if name == "direct" else f" (added {(med - d) * 1e3:+.1f} ms)"
        print(
            f"  100 concurrent streams x {rounds} rounds, {name:<11} errors {errors} | "
            f"median {med * 1e3:.0f} ms{extra} | p95 {p95 * 1e3:.0f} ms"
        )
    floor, ours = rows["passthrough"][1] - d, rows["pretense"][1] - d
    ratio = ours / floor if floor > 0 else float("inf")
    print(f"  added per stream: pretense {ratio:.2f}x the pass-through's (goal <= 1.5x)")
    c = {name: statistics.median(v) * 1e3 for name, v in cpu.items()}
    print(
        f"  CPU per stream ({paced + 4} events): pretense {c['pretense']:.2f} ms, "
        f"pass-through {c['passthrough']:.2f} ms ({c['pretense'] / c['passthrough']:.2f}x; "
        f"the upstream, serving it: {c['direct']:.2f} ms)"
    )
    print(f"  pretense RSS after each round (MB): {' '.join(rss_after)}")


def rss(pr: Server, cs: dict[str, object], text: str, total: int) -> None:
    convs = [text[i * 4000 : (i + 1) * 4000] for i in range(100)]
    c = cs["pretense"]
    line = []
    t = time.perf_counter()
    for i in range(1, total + 1):
        body = request([convs[i % 100], f"question {i % 1000}?"])
        status, _ = c.post("/v1/messages", body)  # type: ignore[attr-defined]
        assert status == 200
        if i % 1000 == 0:
            line.append(f"{i // 1000}k:{pr.rss_mb():.0f}")
    rate = total / (time.perf_counter() - t)
    print(f"  RSS (MB) by requests: {' '.join(line)}  ({rate:.0f} requests/s, sequential)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--paced", type=int, default=50)
    ap.add_argument("--pace-ms", type=float, default=20)
    ap.add_argument("--requests", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the 100 concurrent streams")
    ap.add_argument("--quick", action="store_true", help="only the 100 concurrent streams")
    ap.add_argument(
        "--audit",
        action="store_true",
        help="the proxy writes a real audit log (in the temporary directory) instead of none",
    )
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} at the start")
    text = corpus()
    with tempfile.TemporaryDirectory(prefix="pretense-bench-") as tmp:
        base = Path(tmp)
        n = build_repo(base / "repo", text)
        from pretense_dev.index.store import IndexStore

        with IndexStore(base / "repo" / ".pretense" / "index.db") as store:
            m = store.load_map()
        stream_text = m.mutate(text[:200_000])
        (base / "stream.txt").write_text(stream_text, encoding="utf-8")
        print(f"map: {n} names; proxies on uvloop")
        if not args.quick:
            rewriter_alone(stream_text, m, args.events)
        audit = base / "audit.db" if args.audit else None
        print(f"audit log: {audit or 'none (events dropped)'}")
        with servers(base, base / "stream.txt", "uvloop", audit) as (up, pt, pr):
            cs = clients(up, pt, pr)
            body = request([text[:2000]], stream=True)
            for c in cs.values():
                c.ttfb("/v1/messages?events=10", body)
            if not args.quick:
                throughput(cs, args.events, body)  # type: ignore[arg-type]
            print(f"  ({args.paced} deltas per stream, {args.pace_ms:g} ms apart)")
            load(pt, pr, up, args.paced, body, args.pace_ms, args.rounds)
            if not args.quick:
                rss(pr, cs, text, args.requests)  # type: ignore[arg-type]
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
