"""Servers for the proxy benchmarks, each in its own process (`python -m bench._proxy_servers`).

* ``upstream``: a loopback vendor.  ``POST …/messages`` answers a small
  Messages JSON, or with ``"stream": true`` an SSE stream of ``events`` text
  deltas (``pace_ms`` apart) whose text carries synthetic names.
* ``passthrough``: the floor — a plain aiohttp proxy that streams the body
  through both ways with no parsing and no mutation.
* ``whole``: the floor holding whole bodies, as the proxy must to rewrite
  them: it reads the request whole, sends it as bytes, reads the answer whole
  and answers with a ``web.Response`` — still no parsing, no mutation.
* ``pretense``: the real `Proxy`, serving one bench repository.
* ``cloud-upstream`` / ``pretense-cloud``: the same for the cloud routes
  (`bench.proxy_cloud`): the replay of every route's documented answer, and the
  proxy with every cloud base URL pointed at it.

Each prints ``PORT <n>`` on stdout once listening and runs until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

REPO_ID = "bench0000000000a"
KEY = bytes(range(32))
HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "host",
    "content-encoding",
}


def upstream_app(stream_text: str) -> web.Application:
    small = json.dumps(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-bench",
            "content": [{"type": "text", "text": stream_text[:400]}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    ).encode()

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if b'"stream": true' not in body and b'"stream":true' not in body:
            return web.Response(body=small, content_type="application/json")
        q = request.query
        events = int(q.get("events", "50"))
        pace = float(q.get("pace_ms", "0")) / 1000
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        start = (
            'event: message_start\ndata: {"type":"message_start","message":{"id":"m",'
            '"type":"message",'
            '"role":"assistant","model":"x","content":[],"stop_reason":null,"stop_sequence":null,'
            '"usage":{"input_tokens":1,"output_tokens":1}}}\n\n'
            'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
            '"content_block":{"type":"text","text":""}}\n\n'
        )
        await resp.write(start.encode())
        n = len(stream_text)
        size = 24
        for i in range(events):
            piece = stream_text[(i * size) % n : (i * size) % n + size]
            ev = {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": piece},
            }
            await resp.write(
                b"event: content_block_delta\ndata: " + json.dumps(ev).encode() + b"\n\n"
            )
            if pace:
                await asyncio.sleep(pace)
        await resp.write(
            b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
            b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
        )
        await resp.write_eof()
        return resp

    app = web.Application(client_max_size=256 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


Forward = Callable[[ClientSession, str, web.Request], Awaitable[web.StreamResponse]]


def _floor_app(upstream: str, forward: Forward) -> web.Application:
    """A plain aiohttp proxy with one pooled client session; `forward` is its handler."""
    state: dict[str, ClientSession] = {}

    async def startup(app: web.Application) -> None:
        state["s"] = ClientSession(
            connector=TCPConnector(limit=256),
            timeout=ClientTimeout(total=None),
            auto_decompress=False,
        )

    async def cleanup(app: web.Application) -> None:
        await state["s"].close()

    async def handle(request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        url = f"{upstream}/{tail}" + (f"?{request.query_string}" if request.query_string else "")
        return await forward(state["s"], url, request)

    app = web.Application(client_max_size=256 * 1024 * 1024)
    app.on_startup.append(startup)
    app.on_cleanup.append(cleanup)
    app.router.add_route("*", "/r/{rid}/{tail:.*}", handle)
    return app


async def _stream_through(
    session: ClientSession, url: str, request: web.Request
) -> web.StreamResponse:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
    async with session.request(request.method, url, data=request.content, headers=headers) as up:
        out = {k: v for k, v in up.headers.items() if k.lower() not in HOP}
        resp = web.StreamResponse(status=up.status, headers=out)
        await resp.prepare(request)
        async for chunk in up.content.iter_any():
            await resp.write(chunk)
        await resp.write_eof()
        return resp


async def _whole_through(session: ClientSession, url: str, request: web.Request) -> web.Response:
    body = await request.read()
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
    async with session.request(request.method, url, data=body, headers=headers) as up:
        data = await up.read()
        out = {k: v for k, v in up.headers.items() if k.lower() not in HOP}
        return web.Response(status=up.status, body=data, headers=out)


def passthrough_app(upstream: str) -> web.Application:
    """The floor: streams the body through both ways."""
    return _floor_app(upstream, _stream_through)


def whole_app(upstream: str) -> web.Application:
    """The floor holding whole bodies, as the proxy must to rewrite them."""
    return _floor_app(upstream, _whole_through)


def pretense_app(upstream: str, root: Path, audit: str = "") -> web.Application:
    """The proxy; its audit events go to the log file `audit`, or nowhere."""
    from pretense_dev.audit.events import AuditEvent
    from pretense_dev.audit.store import AuditStore
    from pretense_dev.proxy.auditing import AuditSink
    from pretense_dev.proxy.repos import RepoSource, default_scanner
    from pretense_dev.proxy.server import Proxy, Settings

    class NullSink:
        def append(self, event: AuditEvent) -> str:
            return ""

    sink: AuditSink = AuditStore(audit) if audit else NullSink()
    proxy = Proxy(
        Settings(upstream_anthropic=upstream, upstream_openai=upstream + "/v1"),
        resolver=lambda rid: RepoSource(rid, root, lambda: KEY),
        scanner_factory=default_scanner,
        audit=sink,
    )
    return proxy.create_app()


def cloud_upstream_app(root: Path) -> web.Application:
    from pretense_dev.index.store import IndexStore
    from pretense_dev.proxy.replay import Answer, ReplayUpstream
    from pretense_dev.proxy.replay_cloud import cloud_reply

    with IndexStore(root / ".pretense" / "index.db") as store:
        mapping = store.load_map()
    answer = Answer(text=mapping.mutate("see " + " ".join(list(mapping.forward)[:40])), pieces=8)
    return ReplayUpstream(lambda rec: cloud_reply(rec, answer)).app


def pretense_cloud_app(upstream: str, root: Path) -> web.Application:
    from pretense_dev.audit.events import AuditEvent
    from pretense_dev.proxy.repos import RepoSource, default_scanner
    from pretense_dev.proxy.server import Proxy, Settings

    class NullSink:
        def append(self, event: AuditEvent) -> str:
            return ""

    clouds = dict.fromkeys(("bedrock", "vertex", "gemini", "azure-openai"), upstream)
    proxy = Proxy(
        Settings(
            upstream_anthropic=upstream, upstream_openai=upstream + "/v1", extra_upstreams=clouds
        ),
        resolver=lambda rid: RepoSource(rid, root, lambda: KEY),
        scanner_factory=default_scanner,
        audit=NullSink(),
    )
    return proxy.create_app()


async def serve(app: web.Application) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"PORT {runner.addresses[0][1]}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    ap = argparse.ArgumentParser()
    kinds = ["upstream", "passthrough", "whole", "pretense", "cloud-upstream", "pretense-cloud"]
    ap.add_argument("kind", choices=kinds)
    ap.add_argument("--upstream", default="")
    ap.add_argument("--root", default="")
    ap.add_argument("--text", default="")
    ap.add_argument("--audit", default="", help="pretense: the audit log to write (else none)")
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    a = ap.parse_args()
    if a.loop == "uvloop":
        import uvloop

        uvloop.install()
    if a.kind == "upstream":
        app = upstream_app(Path(a.text).read_text(encoding="utf-8"))
    elif a.kind == "passthrough":
        app = passthrough_app(a.upstream)
    elif a.kind == "whole":
        app = whole_app(a.upstream)
    elif a.kind == "cloud-upstream":
        app = cloud_upstream_app(Path(a.root))
    elif a.kind == "pretense-cloud":
        app = pretense_cloud_app(a.upstream, Path(a.root))
    else:
        app = pretense_app(a.upstream, Path(a.root), a.audit)
    asyncio.run(serve(app))


if __name__ == "__main__":
    main()
