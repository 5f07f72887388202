"""How long a client waits when the upstream breaks mid-stream.

A raw TCP upstream on 127.0.0.1 answers a streamed Messages request with the
response head and one SSE event, then either writes an invalid chunk-size
line or goes silent.  The figure is the time from the request until the client
sees its stream end (the proxy's error event, then the close), median of
``--runs``, with the proxy's read timeout set to ``--timeout`` seconds.  The
baseline, in the same run, is a plain aiohttp pass-through proxy relying on
aiohttp's own socket read timeout, set to the same value: with aiohttp's C
parser an invalid chunk-size line leaves it waiting until the client gives up
(``--cap`` seconds).

    .venv/bin/python -m bench.proxy_read_timeout [--runs 5] [--timeout 1.0] [--cap 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import statistics
import tempfile
import time
from pathlib import Path

from aiohttp import ClientSession, ClientTimeout, web

from bench._proxy_common import build_repo
from bench._proxy_servers import HOP, KEY, REPO_ID

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
EVENT = b'event: ping\ndata: {"type": "ping"}\n\n'
FIRST = HEAD + b"%x\r\n" % len(EVENT) + EVENT + b"\r\n"
BODY = b'{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}'


async def fault_upstream(fault: str) -> tuple[asyncio.Server, int]:
    """The broken vendor: head and one event, then `fault` ("invalid" or "silent")."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(FIRST)
        await writer.drain()
        await asyncio.sleep(0.05)
        if fault == "invalid":
            writer.write(b"zz-not-hex\r\n")
            await writer.drain()
        with contextlib.suppress(asyncio.CancelledError):  # the bench is over
            await asyncio.sleep(3600)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def passthrough(upstream: str, read_timeout: float) -> web.Application:
    """The floor: bytes through both ways, aiohttp's socket read timeout as the only bound."""
    sessions: list[ClientSession] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        if not sessions:
            sessions.append(ClientSession(timeout=ClientTimeout(sock_read=read_timeout)))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        async with sessions[0].post(
            f"{upstream}/{request.match_info['tail']}", data=await request.read(), headers=headers
        ) as up:
            resp = web.StreamResponse(status=up.status)
            await resp.prepare(request)
            async for chunk in up.content.iter_any():
                await resp.write(chunk)
            await resp.write_eof()
            return resp

    async def cleanup(app: web.Application) -> None:
        for s in sessions:
            await s.close()

    app = web.Application()
    app.router.add_post("/r/{rid}/{tail:.*}", handle)
    app.on_cleanup.append(cleanup)
    return app


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, int(runner.addresses[0][1])


async def one(port: int, cap: float) -> float:
    """Seconds until the stream ends (or `cap` when it never does)."""
    t0 = time.perf_counter()
    try:
        async with (
            ClientSession(timeout=ClientTimeout(total=cap)) as s,
            s.post(
                f"http://127.0.0.1:{port}/r/{REPO_ID}/v1/messages",
                data=BODY,
                headers={"Content-Type": "application/json", "anthropic-version": "2023-06-01"},
            ) as r,
        ):
            await r.read()
    except TimeoutError:
        return cap
    except Exception:  # the pass-through may also end with an error: that is an end too
        pass
    return time.perf_counter() - t0


async def run(runs: int, timeout: float, cap: float) -> None:
    from pretense_dev.audit.events import AuditEvent
    from pretense_dev.proxy.repos import RepoSource, default_scanner
    from pretense_dev.proxy.server import Proxy, Settings

    class NullSink:
        def append(self, event: AuditEvent) -> str:
            return ""

    root = Path(tempfile.mkdtemp(prefix="pretense-bench-rt-"))
    build_repo(root, "def reconcile_batch():\n    pass\n")
    print(f"upstream fault after one event; proxy read timeout {timeout} s; client cap {cap} s")
    print("(2-core machine shared with other jobs: medians; the figure is bounded by the timeout)")
    for fault in ("invalid", "silent"):
        up, up_port = await fault_upstream(fault)
        upstream = f"http://127.0.0.1:{up_port}"
        proxy = Proxy(
            Settings(
                upstream_anthropic=upstream, upstream_openai=upstream + "/v1", read_timeout=timeout
            ),
            resolver=lambda rid: RepoSource(rid, root, lambda: KEY),
            scanner_factory=default_scanner,
            audit=NullSink(),
        )
        pr_runner, pr_port = await serve(proxy.create_app())
        pt = passthrough(upstream, timeout)
        pt_runner, pt_port = await serve(pt)
        ours = [await one(pr_port, cap) for _ in range(runs)]
        floor = [await one(pt_port, cap) for _ in range(min(runs, 3))]
        mo, mf = statistics.median(ours), statistics.median(floor)
        floor_txt = f"no end within the {cap:.0f} s cap" if mf >= cap else f"{mf:.2f} s"
        label = "invalid chunk-size line" if fault == "invalid" else "silent upstream"
        print(f"{label:26} pretense-dev: stream ends after {mo:.2f} s (median of {runs}); ", end="")
        print(f"plain aiohttp pass-through: {floor_txt}")
        await pr_runner.cleanup()
        await pt_runner.cleanup()
        up.close()


def main() -> None:
    logging.getLogger("aiohttp").setLevel(logging.CRITICAL)  # the floor's timeouts, expected
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=1.0)
    ap.add_argument("--cap", type=float, default=10.0)
    a = ap.parse_args()
    asyncio.run(run(a.runs, a.timeout, a.cap))


if __name__ == "__main__":
    main()
