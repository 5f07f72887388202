"""Fault injection on the proxy: what the user sees, what went upstream, what the audit says.

Real parts only: the proxy and its upstreams run on 127.0.0.1; the broken
upstreams are raw TCP servers that write exactly the bytes of the fault (an
invalid chunk-size line, headers and then silence); clients are raw sockets
or the official SDKs.  No assertion measures time: a fault that is not
bounded shows up as a client that never gets its answer (the socket timeout
fails the test).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from pretense_dev.proxy.guard import Refusal
from pretense_dev.proxy.repos import RepoSource
from pretense_dev.proxy.server import Proxy, Settings
from tests.proxy.conftest import KEY, REPO_ID, Harness, scanner_factory

MESSAGES = {
    "model": "claude-test",
    "max_tokens": 5,
    "messages": [{"role": "user", "content": "hi"}],
}


def post(h: Harness, path: str, body: bytes, headers: dict[str, str] | None = None) -> Any:
    status, hdrs, data = h.raw(f"/r/{REPO_ID}{path}", body, headers=headers)
    return status, hdrs, data


# -- the request as received -------------------------------------------------------


def test_raw_query_string_reaches_upstream_unchanged(h: Harness) -> None:
    query = "beta=true&q=a%20b&x=%2526&y=%23frag&z=%2F"
    status, _, data = post(h, f"/v1/messages?{query}", json.dumps(MESSAGES).encode())
    assert status == 200, data
    (rec,) = h.upstream.records
    assert rec.path == "/v1/messages" and rec.query == query


def test_big_integers_are_forwarded_exactly(h: Harness) -> None:
    seed = 18446744073709551616123
    body = b'{"model": "gpt-test", "seed": %d, "n": -9223372036854775809, "t": 0.5,' % seed
    body += b' "messages": [{"role": "user", "content": "hi"}]}'
    status, _, data = post(h, "/v1/chat/completions", body)
    assert status == 200, data
    sent = h.upstream.records[0].body
    assert b'"seed":18446744073709551616123' in sent and b'"n":-9223372036854775809' in sent
    assert b'"t":0.5' in sent


def test_gzip_request_body_is_read(h: Harness) -> None:
    raw = gzip.compress(json.dumps(MESSAGES).encode())
    status, _, data = post(h, "/v1/messages", raw, {"Content-Encoding": "gzip"})
    assert status == 200, data
    assert h.upstream.records[0].json()["messages"][0]["content"] == "hi"
    assert "Content-Encoding" not in h.upstream.records[0].headers


@pytest.mark.parametrize(
    ("encoding", "body", "says"),
    [
        ("gzip", json.dumps(MESSAGES).encode(), "could not decode this request body"),
        ("deflate", b"\x00\x01not deflate", "could not decode this request body"),
        ("zstd-not-really", json.dumps(MESSAGES).encode(), "cannot read a request body"),
        # mtime=0: the bytes are part of the test id, which every xdist worker
        # must compute alike (gzip's default stamps the current second).
        (
            "gzip, gzip",
            gzip.compress(json.dumps(MESSAGES).encode(), mtime=0),
            "cannot read a request",
        ),
    ],
)
def test_bad_content_encoding_is_a_400_in_the_api_format(
    h: Harness, encoding: str, body: bytes, says: str
) -> None:
    status, hdrs, data = post(
        h,
        "/v1/messages",
        body,
        {"Content-Encoding": encoding, "X-Claude-Code-Session-Id": f"enc-{encoding}"},
    )
    assert status == 400, data
    err = json.loads(data)
    assert err["type"] == "error" and err["error"]["type"] == "invalid_request_error"
    assert says in err["error"]["message"] and "was not sent" in err["error"]["message"]
    assert hdrs["x-pretense-decision"] == "blocked"
    assert h.upstream.records == []
    event = h.sink.event_for(f"enc-{encoding}")
    assert event.decision == "blocked" and not event.mutation_active


# -- broken upstreams ------------------------------------------------------------------


class RawUpstream:
    """A TCP server on 127.0.0.1 that answers every request with fixed bytes, then waits.

    The reply's parts are written 0.2 s apart, so the proxy reads them separately.
    """

    def __init__(self, *reply: bytes) -> None:
        self.reply = reply
        self.requests: list[bytes] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._conns.append(conn)
            data = b""
            conn.settimeout(5)
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            while len(rest) < length:
                rest += conn.recv(65536)
            self.requests.append(head + b"\r\n\r\n" + rest)
            for i, part in enumerate(self.reply):
                if i:
                    time.sleep(0.2)
                conn.sendall(part)
            # and then nothing: the connection stays open

    def close(self) -> None:
        self._stop.set()
        for c in self._conns:
            c.close()
        self.sock.close()


def proxy_to(h: Harness, upstream: str, read_timeout: float) -> int:
    """Another proxy serving the test repository, forwarding to `upstream`; its port."""

    def resolve(repo_id: str) -> RepoSource:
        if repo_id != REPO_ID:
            raise Refusal(404, "unknown", decision="blocked")
        return RepoSource(REPO_ID, h.root, lambda: KEY)

    settings = Settings(
        upstream_anthropic=upstream, upstream_openai=upstream + "/v1", read_timeout=read_timeout
    )
    proxy = Proxy(settings, resolver=resolve, scanner_factory=scanner_factory, audit=h.sink)
    return h.bg.serve(proxy.create_app())


SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
)
FIRST_EVENT = b'event: ping\ndata: {"type": "ping"}\n\n'
FIRST_CHUNK = b"%x\r\n" % len(FIRST_EVENT) + FIRST_EVENT + b"\r\n"
INVALID_CHUNK = (SSE_HEAD + FIRST_CHUNK, b"zz-not-hex\r\n")
SILENT_STREAM = (SSE_HEAD + FIRST_CHUNK,)
SILENT_JSON = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"


@pytest.fixture
def raw_upstream() -> Iterator[list[RawUpstream]]:
    made: list[RawUpstream] = []
    yield made
    for u in made:
        u.close()


def stream_through(port: int, body: dict[str, Any], session: str) -> bytes:
    """POST a streamed request; read until the proxy closes (socket timeout fails)."""
    payload = json.dumps({**body, "stream": True}).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(
            b"POST /r/%s/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nanthropic-version: 2023-06-01\r\n"
            b"X-Claude-Code-Session-Id: %s\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n"
            % (REPO_ID.encode(), session.encode(), len(payload))
            + payload
        )
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


@pytest.mark.parametrize(
    ("reply", "reason"),
    [(INVALID_CHUNK, "ClientPayloadError"), (SILENT_STREAM, "TimeoutError")],
    ids=["invalid chunk-size line", "silent after the first event"],
)
def test_broken_upstream_stream_ends_with_the_api_error_event(
    h: Harness, raw_upstream: list[RawUpstream], reply: tuple[bytes, ...], reason: str
) -> None:
    up = RawUpstream(*reply)
    raw_upstream.append(up)
    port = proxy_to(h, f"http://127.0.0.1:{up.port}", read_timeout=0.5)
    session = f"fault-{reason}"
    data = stream_through(port, MESSAGES, session)
    assert data.startswith(b"HTTP/1.1 200 OK")
    assert FIRST_EVENT in data  # what had arrived was passed on
    assert b"event: error\ndata: " in data
    err = json.loads(data.split(b"event: error\ndata: ")[1].split(b"\n\n")[0])
    assert err["type"] == "error" and err["error"]["type"] == "api_error"
    assert err["error"]["message"].startswith("pretense-dev: the upstream stream broke")
    (sent,) = up.requests
    assert b"hi" in sent  # the request itself had been forwarded (and said so)
    event = h.sink.event_for(session)
    assert event.decision == "forwarded" and event.upstream_status == 200
    assert event.reason.startswith("upstream stream broke")


@pytest.mark.parametrize(
    "reply",
    [
        (SILENT_JSON,),
        (SSE_HEAD + FIRST_CHUNK + b"zz-not-hex\r\n",),
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n",),
    ],
    ids=["silent json body", "invalid chunk-size in the first read", "silent mid-headers"],
)
def test_broken_upstream_answer_is_a_502_in_the_api_format(
    h: Harness, raw_upstream: list[RawUpstream], reply: tuple[bytes, ...]
) -> None:
    up = RawUpstream(*reply)
    raw_upstream.append(up)
    session = f"broken-{abs(hash(reply))}"
    port = proxy_to(h, f"http://127.0.0.1:{up.port}", read_timeout=0.5)
    status, _, data = h.raw(
        f"/r/{REPO_ID}/v1/messages",
        json.dumps(MESSAGES).encode(),
        headers={"anthropic-version": "2023-06-01", "X-Claude-Code-Session-Id": session},
        port=port,
    )
    assert status == 502
    err = json.loads(data)
    assert err["type"] == "error" and err["error"]["type"] == "api_error"
    assert "the upstream answer" in err["error"]["message"]
    assert "broke" in err["error"]["message"] and "had been sent" in err["error"]["message"]
    assert len(up.requests) == 1
    event = h.sink.event_for(session)
    assert event.decision == "forwarded" and event.reason.startswith("upstream answer broke")


def slow_upstream(seconds: float) -> tuple[web.Application, threading.Event, threading.Event]:
    """An upstream that reads the request, then answers only after `seconds`.

    The events say when the request arrived and whether its handler was cancelled
    (the proxy closed the upstream connection because its client left).
    """
    started = threading.Event()
    cancelled = threading.Event()

    async def slow(request: web.Request) -> web.Response:
        await request.read()
        started.set()
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/v1/messages", slow)
    return app, started, cancelled


def test_client_that_leaves_cancels_the_upstream_request(h: Harness) -> None:
    app, started, cancelled = slow_upstream(60)
    up_port = h.bg.serve(app)
    port = proxy_to(h, f"http://127.0.0.1:{up_port}", read_timeout=900)
    payload = json.dumps(MESSAGES).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(
        b"POST /r/%s/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"X-Claude-Code-Session-Id: leaves\r\nContent-Length: %d\r\n\r\n"
        % (REPO_ID.encode(), len(payload))
        + payload
    )
    assert started.wait(20), "the request never reached the upstream"
    s.close()
    assert cancelled.wait(20), "the upstream request was not cancelled"
    event = h.sink.event_for("leaves")
    assert event.decision == "forwarded"
    assert event.reason == "client went away before the answer"
