"""A loopback stand-in for the vendors' APIs: the demo's "AI vendor" and the tests' upstream.

It answers the documented request shapes with the documented event shapes
(https://docs.anthropic.com/en/api/messages-streaming and
https://platform.openai.com/docs/api-reference), writes
each chunk of a reply with its own write, and records every request exactly as
it arrived — so a test or the demo can show what the vendor received.  It is
a real aiohttp server on 127.0.0.1 (aiohttp sets TCP_NODELAY, so there is no
40 ms Nagle stall: TCP_NODELAY, RFC 896).

Shipped in the package because `make demo` runs from an installed wheel.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from pretense_dev.mutation.synth import LOOKALIKE


@dataclass(frozen=True)
class Recorded:
    """One request as the upstream received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed."""
        return json.loads(self.body)


@dataclass
class Reply:
    """What to answer: status, headers and body chunks (each written separately)."""

    chunks: list[bytes]
    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    compress: str | None = None  # "gzip" or "deflate"


Responder = Callable[[Recorded], Reply]


def sse(name: str | None, data: Any) -> bytes:
    """One SSE event (``event:`` line only when `name` is given)."""
    payload = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {name}\n" if name is not None else ""
    return f"{head}data: {payload}\n\n".encode()


# -- documented shapes ----------------------------------------------------------


@dataclass
class Answer:
    """A model answer in vendor-neutral form: thinking, text, one tool call."""

    text: str = ""
    tool_name: str | None = None
    tool_input: dict[str, Any] | None = None
    thinking: str | None = None
    signature: str = "EqQBCkYIBxgCKkDsig"
    pieces: int = 3  # how many deltas each text is cut into


def _cut(text: str, n: int) -> list[str]:
    if not text:
        return [""]
    size = max(1, -(-len(text) // max(1, n)))
    return [text[i : i + size] for i in range(0, len(text), size)]


def anthropic_events(a: Answer, model: str = "claude-test") -> list[bytes]:
    """A Messages stream (message_start … message_stop) for `a`."""
    out = [
        sse(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_01replay",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 25, "output_tokens": 1},
                },
            },
        )
    ]
    i = 0
    if a.thinking is not None:
        out.append(
            sse(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": i,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""},
                },
            )
        )
        for piece in _cut(a.thinking, a.pieces):
            out.append(
                sse(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": i,
                        "delta": {"type": "thinking_delta", "thinking": piece},
                    },
                )
            )
        out.append(
            sse(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": i,
                    "delta": {"type": "signature_delta", "signature": a.signature},
                },
            )
        )
        out.append(sse("content_block_stop", {"type": "content_block_stop", "index": i}))
        i += 1
    out.append(
        sse(
            "content_block_start",
            {
                "type": "content_block_start",
                "index": i,
                "content_block": {"type": "text", "text": ""},
            },
        )
    )
    out.append(sse("ping", {"type": "ping"}))
    for piece in _cut(a.text, a.pieces):
        out.append(
            sse(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": i,
                    "delta": {"type": "text_delta", "text": piece},
                },
            )
        )
    out.append(sse("content_block_stop", {"type": "content_block_stop", "index": i}))
    stop = "end_turn"
    if a.tool_name is not None:
        i += 1
        stop = "tool_use"
        out.append(
            sse(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": i,
                    "content_block": {
                        "type": "tool_use",
                        "id": "toolu_01replay",
                        "name": a.tool_name,
                        "input": {},
                    },
                },
            )
        )
        raw = json.dumps(a.tool_input or {})
        for piece in ["", *_cut(raw, a.pieces)]:
            out.append(
                sse(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": i,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    },
                )
            )
        out.append(sse("content_block_stop", {"type": "content_block_stop", "index": i}))
    out.append(
        sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": 15},
            },
        )
    )
    out.append(sse("message_stop", {"type": "message_stop"}))
    return out


def anthropic_message(a: Answer, model: str = "claude-test") -> dict[str, Any]:
    """A non-streamed Messages response for `a`."""
    content: list[dict[str, Any]] = []
    if a.thinking is not None:
        content.append({"type": "thinking", "thinking": a.thinking, "signature": a.signature})
    content.append({"type": "text", "text": a.text})
    if a.tool_name is not None:
        content.append(
            {
                "type": "tool_use",
                "id": "toolu_01replay",
                "name": a.tool_name,
                "input": a.tool_input or {},
            }
        )
    return {
        "id": "msg_01replay",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "tool_use" if a.tool_name else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 40},
    }


def chat_events(a: Answer, model: str = "gpt-test") -> list[bytes]:
    """A Chat Completions stream for `a`, ending in ``[DONE]``."""
    base = {
        "id": "chatcmpl-replay",
        "object": "chat.completion.chunk",
        "created": 1735000000,
        "model": model,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return sse(
            None, {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        )

    out = [chunk({"role": "assistant", "content": ""})]
    for piece in _cut(a.text, a.pieces):
        out.append(chunk({"content": piece}))
    finish = "stop"
    if a.tool_name is not None:
        finish = "tool_calls"
        out.append(
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_replay",
                            "type": "function",
                            "function": {"name": a.tool_name, "arguments": ""},
                        }
                    ]
                }
            )
        )
        for piece in _cut(json.dumps(a.tool_input or {}), a.pieces):
            out.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
    out.append(chunk({}, finish))
    out.append(
        sse(
            None,
            {
                **base,
                "choices": [],
                "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
            },
        )
    )
    out.append(sse(None, "[DONE]"))
    return out


def chat_completion(a: Answer, model: str = "gpt-test") -> dict[str, Any]:
    """A non-streamed Chat Completions response for `a`."""
    message: dict[str, Any] = {"role": "assistant", "content": a.text, "refusal": None}
    if a.tool_name is not None:
        message["tool_calls"] = [
            {
                "id": "call_replay",
                "type": "function",
                "function": {"name": a.tool_name, "arguments": json.dumps(a.tool_input or {})},
            }
        ]
    return {
        "id": "chatcmpl-replay",
        "object": "chat.completion",
        "created": 1735000000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if a.tool_name else "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
    }


def _response_output(a: Answer) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {
            "type": "message",
            "id": "msg_replay",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": a.text, "annotations": []}],
        }
    ]
    if a.tool_name is not None:
        out.append(
            {
                "type": "function_call",
                "id": "fc_replay",
                "call_id": "call_replay",
                "name": a.tool_name,
                "arguments": json.dumps(a.tool_input or {}),
                "status": "completed",
            }
        )
    return out


def responses_object(
    a: Answer, model: str = "gpt-test", status: str = "completed"
) -> dict[str, Any]:
    """A Responses ``response`` object for `a`."""
    return {
        "id": "resp_replay",
        "object": "response",
        "created_at": 1735000000,
        "status": status,
        "model": model,
        "output": _response_output(a) if status == "completed" else [],
        "usage": {"input_tokens": 50, "output_tokens": 20, "total_tokens": 70},
        "error": None,
        "incomplete_details": None,
        "previous_response_id": None,
    }


def responses_events(a: Answer, model: str = "gpt-test") -> list[bytes]:
    """A Responses stream for `a` (created … completed), sequence numbers dense."""
    events: list[tuple[str, dict[str, Any]]] = []
    events.append(("response.created", {"response": responses_object(a, model, "in_progress")}))
    msg = {
        "type": "message",
        "id": "msg_replay",
        "role": "assistant",
        "status": "in_progress",
        "content": [],
    }
    events.append(("response.output_item.added", {"output_index": 0, "item": msg}))
    part = {"type": "output_text", "text": "", "annotations": []}
    ids = {"item_id": "msg_replay", "output_index": 0, "content_index": 0}
    events.append(("response.content_part.added", {**ids, "part": part}))
    for piece in _cut(a.text, a.pieces):
        events.append(("response.output_text.delta", {**ids, "delta": piece, "logprobs": []}))
    events.append(("response.output_text.done", {**ids, "text": a.text, "logprobs": []}))
    events.append(("response.content_part.done", {**ids, "part": {**part, "text": a.text}}))
    events.append(
        ("response.output_item.done", {"output_index": 0, "item": _response_output(a)[0]})
    )
    if a.tool_name is not None:
        item = _response_output(a)[1]
        events.append(
            (
                "response.output_item.added",
                {"output_index": 1, "item": {**item, "arguments": "", "status": "in_progress"}},
            )
        )
        for piece in _cut(item["arguments"], a.pieces):
            events.append(
                (
                    "response.function_call_arguments.delta",
                    {"item_id": "fc_replay", "output_index": 1, "delta": piece},
                )
            )
        events.append(
            (
                "response.function_call_arguments.done",
                {"item_id": "fc_replay", "output_index": 1, "arguments": item["arguments"]},
            )
        )
        events.append(("response.output_item.done", {"output_index": 1, "item": item}))
    events.append(("response.completed", {"response": responses_object(a, model)}))
    return [
        sse(name, {"type": name, "sequence_number": n, **data})
        for n, (name, data) in enumerate(events)
    ]


def reply_for(rec: Recorded, a: Answer) -> Reply:
    """The documented answer to `rec` for its API, streamed if it asked for a stream."""
    body = rec.json() if rec.body else {}
    stream = bool(body.get("stream"))
    model = str(body.get("model", "test-model"))
    path = rec.path
    if path.endswith("/messages/count_tokens"):
        return Reply([json.dumps({"input_tokens": 2095}).encode()])
    if path.endswith("/models"):
        return Reply(
            [
                json.dumps(
                    {"data": [{"type": "model", "id": "claude-test"}], "has_more": False}
                ).encode()
            ]
        )
    if path.endswith("/messages"):
        if stream:
            return Reply(anthropic_events(a, model), content_type="text/event-stream")
        return Reply([json.dumps(anthropic_message(a, model)).encode()])
    if path.endswith("/chat/completions"):
        if stream:
            return Reply(chat_events(a, model), content_type="text/event-stream")
        return Reply([json.dumps(chat_completion(a, model)).encode()])
    if path.endswith("/responses"):
        if stream:
            return Reply(responses_events(a, model), content_type="text/event-stream")
        return Reply([json.dumps(responses_object(a, model)).encode()])
    return Reply(
        [b'{"error": {"message": "no such route", "type": "invalid_request_error"}}'], status=404
    )


_SYNTH = re.compile(LOOKALIKE.pattern, LOOKALIKE.flags)


def demo_responder(rec: Recorded) -> Reply:
    """The demo's "model": it answers about the names it was sent (synthetics, if protected).

    It echoes the first few synthetic names it received in prose and in a tool
    call, as a real model does when it talks about the code it was shown.
    """
    text = rec.body.decode("utf-8", "replace")
    seen: list[str] = []
    for m in _SYNTH.finditer(text):
        if m.group() not in seen:
            seen.append(m.group())
    # Talk about classes and functions first, as a model explaining code would.
    order = ("cls", "meth", "fn", "const", "typ")
    seen.sort(key=lambda s: next((i for i, h in enumerate(order) if s.lower().startswith(h)), 9))
    a, b, c = ([*seen, "the function", "its caller", "the module"])[:3]
    answer = Answer(
        text=(
            f"The double count comes from `{a}`: it calls `{b}` once per batch, "
            f"and `{c}` adds the same entries again. Let me fix `{a}`."
        ),
        tool_name="Edit",
        tool_input={
            "file_path": f"billing/{c}.py",
            "old_string": f"{b}(batch)",
            "new_string": f"{b}(batch, dedupe=True)",
        },
        pieces=7,
    )
    return reply_for(rec, answer)


class ReplayUpstream:
    """The aiohttp app; `responder` decides each reply, `records` keeps each request."""

    def __init__(self, responder: Responder = demo_responder) -> None:
        self.responder = responder
        self.records: list[Recorded] = []
        self.app = web.Application(client_max_size=128 * 1024 * 1024)
        self.app.router.add_route("*", "/{tail:.*}", self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Record, then reply chunk by chunk."""
        rec = Recorded(
            request.method,
            request.raw_path.partition("?")[0],
            request.raw_path.partition("?")[2],
            dict(request.headers),
            await request.read(),
        )
        self.records.append(rec)
        reply = self.responder(rec)
        headers = {"Content-Type": reply.content_type, **reply.headers}
        chunks = reply.chunks
        if reply.compress is not None:
            headers["Content-Encoding"] = reply.compress
            z = zlib.compressobj(wbits=31) if reply.compress == "gzip" else zlib.compressobj()
            chunks = [z.compress(c) + z.flush(zlib.Z_SYNC_FLUSH) for c in chunks] + [z.flush()]
        resp = web.StreamResponse(status=reply.status, headers=headers)
        if reply.content_type != "text/event-stream":
            resp.content_length = sum(len(c) for c in chunks)
        await resp.prepare(request)
        for c in chunks:
            if c:
                await resp.write(c)
        await resp.write_eof()
        return resp


class BackgroundServer:
    """Run aiohttp apps on 127.0.0.1 in a thread with its own event loop.

    For synchronous callers (the demo, tests using the SDKs' sync clients).
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._runners: list[web.AppRunner] = []
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="pretense-bg", daemon=True
        )
        self._thread.start()

    def call(self, coro: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the server loop; wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def serve(self, app: web.Application, port: int = 0) -> int:
        """Start `app` on 127.0.0.1; return its port."""

        async def start() -> int:
            # As the daemon runs it: a client that leaves cancels the handler.
            runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", port)
            await site.start()
            self._runners.append(runner)
            return int(runner.addresses[-1][1])

        return int(self.call(start()))

    def close(self) -> None:
        """Stop every app and the loop."""

        async def stop() -> None:
            for r in reversed(self._runners):
                await r.cleanup()

        try:
            self.call(stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()


def gzip_body(data: bytes) -> bytes:
    """Gzip a whole body (tests of compressed upstream answers)."""
    return gzip.compress(data)
