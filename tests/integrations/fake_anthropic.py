"""A scripted fake Anthropic Messages API on 127.0.0.1, for end-to-end tests.

It stands in for the one thing that cannot exist here, the vendor's hosted API
(briefing: mock only that).  It records every request exactly as received —
what the vendor would see — and answers with the documented SSE frames
(https://docs.anthropic.com/en/api/messages-streaming), streaming each event in its own write.
`disable_nagle_algorithm` avoids the 40 ms delayed-ACK stall of `http.server`
(Nagle plus delayed ACK on loopback).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Script = Callable[[dict[str, Any]], list["Block"]]


@dataclass
class Recorded:
    """One request as the vendor received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Block:
    """One content block of a scripted answer.

    `text` for a text block (sent in `pieces`), or a `tool` name and its input
    JSON text sent as `input_json_delta` fragments (`pieces`).
    """

    pieces: list[str]
    tool: str | None = None
    tool_id: str = "toolu_01FakeFakeFake"


@dataclass
class FakeAnthropic:
    """The server; `script(request_json)` decides each answer."""

    script: Script
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                outer._record(self, b"")
                self._json(
                    404, {"type": "error", "error": {"type": "not_found_error", "message": "fake"}}
                )

            def do_POST(self) -> None:
                n = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(n)
                outer._record(self, body)
                path = self.path.split("?", 1)[0]
                if path.endswith("/v1/messages/count_tokens"):
                    self._json(200, {"input_tokens": 42})
                    return
                if not path.endswith("/v1/messages"):
                    self._json(
                        404,
                        {"type": "error", "error": {"type": "not_found_error", "message": "fake"}},
                    )
                    return
                req = json.loads(body)
                blocks = outer.script(req)
                if req.get("stream"):
                    self._stream(req, blocks)
                else:
                    self._json(200, _whole_message(req, blocks))

            def _json(self, status: int, data: Any) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _stream(self, req: dict[str, Any], blocks: list[Block]) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for name, data in _events(req, blocks):
                    frame = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
                    self.wfile.write(f"{len(frame):x}\r\n".encode() + frame + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._lock = threading.Lock()

    def _record(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        with self._lock:
            self.requests.append(Recorded(h.command, h.path, dict(h.headers.items()), body))

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeAnthropic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def message_requests(self) -> list[Recorded]:
        """The Messages calls (not count_tokens or others)."""
        return [r for r in self.requests if r.path.split("?")[0].endswith("/v1/messages")]


def _events(req: dict[str, Any], blocks: list[Block]) -> Iterator[tuple[str, dict[str, Any]]]:
    model = req.get("model", "claude-fake")
    yield (
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": "msg_01Fake",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 1},
            },
        },
    )
    for i, b in enumerate(blocks):
        if b.tool is None:
            start: dict[str, Any] = {"type": "text", "text": ""}
            delta = "text_delta"
            key = "text"
        else:
            start = {"type": "tool_use", "id": b.tool_id, "name": b.tool, "input": {}}
            delta = "input_json_delta"
            key = "partial_json"
        yield (
            "content_block_start",
            {"type": "content_block_start", "index": i, "content_block": start},
        )
        if i == 0:
            yield "ping", {"type": "ping"}
        for piece in b.pieces:
            yield (
                "content_block_delta",
                {"type": "content_block_delta", "index": i, "delta": {"type": delta, key: piece}},
            )
        yield "content_block_stop", {"type": "content_block_stop", "index": i}
    stop = "tool_use" if any(b.tool for b in blocks) else "end_turn"
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": 20},
        },
    )
    yield "message_stop", {"type": "message_stop"}


def _whole_message(req: dict[str, Any], blocks: list[Block]) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for b in blocks:
        if b.tool is None:
            content.append({"type": "text", "text": "".join(b.pieces)})
        else:
            content.append(
                {
                    "type": "tool_use",
                    "id": b.tool_id,
                    "name": b.tool,
                    "input": json.loads("".join(b.pieces) or "{}"),
                }
            )
    return {
        "id": "msg_01Fake",
        "type": "message",
        "role": "assistant",
        "model": req.get("model", "claude-fake"),
        "content": content,
        "stop_reason": "tool_use" if any(b.tool for b in blocks) else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 20},
    }


def cut_inside(text: str, words: list[str]) -> list[str]:
    """Split `text` into fragments, cutting through the middle of every occurrence of `words`.

    Also cuts right after every backslash, so an escape sequence straddles two
    fragments — the splits reference §8 says to expect.
    """
    cuts = set()
    for w in words:
        start = 0
        while (i := text.find(w, start)) >= 0:
            cuts.add(i + max(1, len(w) // 2))
            start = i + 1
    cuts.update(i + 1 for i, c in enumerate(text) if c == "\\")
    out, prev = [], 0
    for c in sorted(cuts):
        if 0 < c < len(text):
            out.append(text[prev:c])
            prev = c
    out.append(text[prev:])
    return out
