"""The latency the proxy adds, against going direct and against the pass-through floor.

Three servers in their own processes: the loopback upstream, a plain aiohttp
pass-through proxy (the floor: no parsing, no mutation) and the pretense proxy.
Every iteration sends the same body to each in rotating order (paired), and
the figures are medians.  "Added" is median(through) − median(direct), "over
floor" is median(pretense) − median(pass-through): the figure the goals are
set on, because it is what our own work costs.

* 4 KB request (goal ≤ 0.1 ms over the floor);
* cold 256 KB request — content never seen before (goal ≤ 15 ms added);
* a 1 MB conversation already seen, plus 10 KB new (goal ≤ 1 ms over the floor);
* streaming: added time to the first text delta (goal ≤ 0.2 ms over the floor).

Each figure also prints the CPU time each proxy process spent per request
(from /proc, over the figure's whole run): on a shared machine latency
medians move with the load, CPU per request much less.  ``--baseline DIR``
runs another checkout's proxy (e.g. the main branch) as a fourth server in the
same rotation, so the change and its baseline are measured under one load.
The proxies run on uvloop and on the default asyncio loop.  The CPU is split
into the event loop's thread and the others (the audit writer): a thread's
work holds the GIL the loop needs for the next request.  Without ``--audit``
the proxies drop their audit events (the writer thread still builds them);
with it each writes a real audit log (SQLite, as the daemon does), which is
the cost a user pays.

    .venv/bin/python -m bench.proxy [--runs 200 | --quick] [--loops uvloop,asyncio]
                                    [--figures 4kb,cold,seen,stream] [--baseline ../main]
                                    [--audit] [--whole]

``--whole`` adds a second floor to the 4 KB rotation: the pass-through holding
whole bodies (`bench._proxy_servers.whole_app`), which tells the cost of
reading and answering whole, which the proxy must, from the cost of its own work.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench._proxy_common import (
    Client,
    Server,
    build_repo,
    clients,
    corpus,
    request,
    servers,
    start_server,
)
from bench._proxy_servers import REPO_ID

# (figure, goal in ms, whether the goal is over the floor rather than over direct)
GOALS = {"4kb": (0.1, True), "cold": (15.0, False), "seen": (1.0, True), "stream": (0.2, True)}


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time so far of a process's main thread and of its other threads.

    Nanosecond counters (schedstat), not clock ticks.  The main thread is the
    one whose id is the process id: the event loop's.
    """
    main = others = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            ns = int((task / "schedstat").read_text(encoding="ascii").split()[0])
        except (FileNotFoundError, ProcessLookupError):  # a thread that just ended
            continue
        if task.name == str(pid):
            main += ns
        else:
            others += ns
    return main / 1e9, others / 1e9


@contextmanager
def cpu_per_request(
    procs: dict[str, Server], runs: int
) -> Iterator[dict[str, tuple[float, float]]]:
    """Milliseconds of CPU per request of each proxy process (loop, other threads), on exit."""
    out: dict[str, tuple[float, float]] = {}
    before = {k: cpu_seconds(s.pid) for k, s in procs.items()}
    yield out
    time.sleep(0.05)  # the audit writer's last batch (handed over within 10 ms)
    for k, s in procs.items():
        main, others = cpu_seconds(s.pid)
        out[k] = ((main - before[k][0]) / runs * 1e3, (others - before[k][1]) / runs * 1e3)


def paired(
    cs: dict[str, Client], runs: int, body_for: Callable[[int], bytes], path: str = "/v1/messages"
) -> dict[str, float]:
    """Median seconds per target."""
    times: dict[str, list[float]] = {k: [] for k in cs}
    order = list(cs)
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


def report(
    name: str, figure: str, m: dict[str, float], cpu: dict[str, tuple[float, float]]
) -> None:
    goal, over_floor = GOALS[figure]
    d, p = m["direct"] * 1e3, m["passthrough"] * 1e3
    line = f"  {name:<32} direct {d:6.2f} ms | floor +{p - d:5.2f} ms"
    for k in ("whole", "pretense", "baseline"):
        if k not in m:
            continue
        r = m[k] * 1e3
        judged = r - p if over_floor else r - d
        mark = "✓" if judged <= goal else "✗"
        line += f" | {k} +{r - d:6.2f} ms, over floor {r - p:+6.2f}"
        if k == "pretense":
            line += f" (goal ≤ {goal:g} ms {'over floor' if over_floor else 'added'} {mark})"
    print(line)
    cpus = ", ".join(
        f"{k} {main + others:.3f} (loop {main:.3f} + threads {others:.3f})"
        for k, (main, others) in cpu.items()
    )
    print(f"  {'':<32} CPU ms per request: {cpus}")


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--quick", action="store_true", help="50 runs per figure")
    ap.add_argument("--loops", default="uvloop,asyncio")
    ap.add_argument("--figures", default="4kb,cold,seen,stream", help="which figures to run")
    ap.add_argument(
        "--baseline", type=Path, help="another checkout whose proxy joins the same runs"
    )
    ap.add_argument(
        "--audit", action="store_true", help="the proxies write a real audit log (SQLite)"
    )
    ap.add_argument(
        "--whole", action="store_true", help="also the pass-through holding whole bodies (4 KB)"
    )
    args = ap.parse_args()
    runs = 50 if args.quick else args.runs
    text = corpus()
    with tempfile.TemporaryDirectory(prefix="pretense-bench-") as tmp:
        base = Path(tmp)
        n = build_repo(base / "repo", text)
        from pretense_dev.index.store import IndexStore

        with IndexStore(base / "repo" / ".pretense" / "index.db") as store:
            m = store.load_map()
        text_file = base / "stream.txt"
        text_file.write_text(m.mutate(text[:200_000]), encoding="utf-8")
        print(f"map: {n} names from stdlib definitions; runs: {runs} per figure (medians)")
        print("audit: " + ("a real log per proxy (SQLite)" if args.audit else "events dropped"))
        print(f"start: {load()}")
        kb4 = request([text[:4000]])
        history = [text[i * 10_000 : (i + 1) * 10_000] for i in range(100)]
        for loop in args.loops.split(","):
            print(f"proxies on {loop}:")
            audit = base / f"audit-{loop}.db" if args.audit else None
            with servers(base, text_file, loop, audit) as (up, pt, pr):
                cs = clients(up, pt, pr)
                procs = {"passthrough": pt, "pretense": pr}
                bl = wh = None
                if args.whole:
                    wh = start_server(
                        "whole", "--upstream", f"http://127.0.0.1:{up.port}", "--loop", loop
                    )
                    cs["whole"] = Client(wh.port, f"/r/{REPO_ID}")
                    procs["whole"] = wh
                if args.baseline is not None:
                    url = f"http://127.0.0.1:{up.port}"
                    root = str(base / "repo")
                    logged = ["--audit", str(base / f"audit-{loop}-baseline.db")]
                    bl = start_server(
                        "pretense", "--upstream", url, "--root", root, "--loop", loop,
                        *(logged if args.audit else []), src=args.baseline.resolve(),
                    )  # fmt: skip
                    cs["baseline"] = Client(bl.port, f"/r/{REPO_ID}")
                    procs["baseline"] = bl
                try:
                    run_figures(args.figures, runs, text, kb4, history, cs, procs)
                finally:
                    for extra in (bl, wh):
                        if extra is not None:
                            extra.proc.kill()
                            extra.proc.wait()
        print(f"end: {load()}")


def run_figures(
    figures: str,
    runs: int,
    text: str,
    kb4: bytes,
    history: list[str],
    cs: dict[str, Client],
    procs: dict[str, Server],
) -> None:
    for c in cs.values():  # warm: connections, map load, first-use imports
        for _ in range(5):
            c.post("/v1/messages", kb4)
    which = set(figures.split(","))
    if "4kb" in which:
        with cpu_per_request(procs, runs) as cpu:
            m = paired(cs, runs, lambda i: kb4)
        report("4 KB request", "4kb", m, cpu)
    # The whole-body floor is for the 4 KB figure only (it would end a stream before its first
    # delta reached the client).
    cs = {k: c for k, c in cs.items() if k != "whole"}
    procs = {k: s for k, s in procs.items() if k != "whole"}

    def cold(i: int) -> bytes:
        off = (i * 7919) % (len(text) - 260_000)
        blocks = [
            f"[{i}.{j}] " + text[off + j * 10_240 : off + (j + 1) * 10_240] for j in range(25)
        ]
        return request(blocks)

    few = max(20, runs // 4)
    if "cold" in which:
        with cpu_per_request(procs, few) as cpu:
            m = paired(cs, few, cold)
        report("cold 256 KB request", "cold", m, cpu)
    for k in ("pretense", "baseline"):
        if k in cs:
            cs[k].post("/v1/messages", request(history))  # the history is seen once

    def seen(i: int) -> bytes:
        off = (i * 104729) % (len(text) - 11_000)
        return request([*history, f"[new {i}] " + text[off : off + 10_240]])

    if "seen" in which:
        with cpu_per_request(procs, few) as cpu:
            m = paired(cs, few, seen)
        report("1 MB seen + 10 KB new", "seen", m, cpu)
    sbody = request([text[:2000]], stream=True)
    if "stream" in which:
        with cpu_per_request(procs, runs) as cpu:
            m = ttfb(cs, runs, sbody)
        report("streaming: time to first delta", "stream", m, cpu)


if __name__ == "__main__":
    main()
