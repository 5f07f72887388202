"""The loopback upstream's answers for the cloud routes: Bedrock, Vertex, Gemini, Azure.

The documented shapes, built from the same vendor-neutral `replay.Answer`:

* Bedrock InvokeModel: the Anthropic message; InvokeModelWithResponseStream:
  each Anthropic stream event base64-encoded in a ``chunk`` event-stream frame
  (with the ``p`` padding field Bedrock adds);
* Bedrock Converse / ConverseStream (AWS Bedrock API reference);
* Gemini ``GenerateContentResponse`` (whole, SSE with ``alt=sse``, or one JSON
  array) with text and a ``functionCall`` part, and ``countTokens``;
* Claude on Vertex: the Anthropic shapes; Azure OpenAI: the OpenAI shapes.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from pretense_dev.proxy import eventstream
from pretense_dev.proxy.replay import (
    Answer,
    Recorded,
    Reply,
    _cut,
    anthropic_events,
    anthropic_message,
    reply_for,
    sse,
)
from pretense_dev.proxy.sse import SSEParser

_EVENT = {":content-type": "application/json", ":message-type": "event"}


def invoke_frames(a: Answer, model: str = "claude-test") -> list[bytes]:
    """An InvokeModelWithResponseStream answer: one frame per Anthropic event."""
    out = []
    for raw in anthropic_events(a, model):
        [ev] = SSEParser().feed(raw)
        b64 = base64.b64encode(ev.data_bytes).decode()
        payload = json.dumps({"bytes": b64, "p": "abcdefghij"[: len(b64) % 10]})
        out.append(eventstream.encode_message({":event-type": "chunk", **_EVENT}, payload.encode()))
    return out


def converse_message(a: Answer) -> dict[str, Any]:
    """A Converse answer for `a`."""
    content: list[dict[str, Any]] = [{"text": a.text}]
    if a.tool_name is not None:
        content.append(
            {"toolUse": {"toolUseId": "tooluse_replay", "name": a.tool_name, "input": a.tool_input}}
        )
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": "tool_use" if a.tool_name else "end_turn",
        "usage": {"inputTokens": 25, "outputTokens": 40, "totalTokens": 65},
        "metrics": {"latencyMs": 120},
    }


def converse_frames(a: Answer) -> list[bytes]:
    """A ConverseStream answer for `a`: text deltas, then the tool input as partial JSON."""

    def frame(name: str, data: dict[str, Any]) -> bytes:
        data = {**data, "p": "abc"}
        return eventstream.encode_message(
            {":event-type": name, **_EVENT}, json.dumps(data).encode()
        )

    out = [frame("messageStart", {"role": "assistant"})]
    for piece in _cut(a.text, a.pieces):
        out.append(frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}}))
    out.append(frame("contentBlockStop", {"contentBlockIndex": 0}))
    if a.tool_name is not None:
        start = {"toolUse": {"toolUseId": "tooluse_replay", "name": a.tool_name}}
        out.append(frame("contentBlockStart", {"contentBlockIndex": 1, "start": start}))
        for piece in _cut(json.dumps(a.tool_input), a.pieces):
            delta = {"toolUse": {"input": piece}}
            out.append(frame("contentBlockDelta", {"contentBlockIndex": 1, "delta": delta}))
        out.append(frame("contentBlockStop", {"contentBlockIndex": 1}))
    out.append(frame("messageStop", {"stopReason": "tool_use" if a.tool_name else "end_turn"}))
    usage = {"inputTokens": 25, "outputTokens": 40, "totalTokens": 65}
    out.append(frame("metadata", {"usage": usage, "metrics": {"latencyMs": 120}}))
    return out


def _gemini(parts: list[dict[str, Any]], finish: str | None, model: str) -> dict[str, Any]:
    cand: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        cand["finishReason"] = finish
    out: dict[str, Any] = {"candidates": [cand], "modelVersion": model, "responseId": "replay1"}
    if finish:
        out["usageMetadata"] = {
            "promptTokenCount": 25,
            "candidatesTokenCount": 40,
            "totalTokenCount": 65,
        }
    return out


def gemini_response(a: Answer, model: str = "gemini-test") -> dict[str, Any]:
    """A whole generateContent answer for `a`."""
    parts: list[dict[str, Any]] = [{"text": a.text}]
    if a.tool_name is not None:
        parts.append({"functionCall": {"name": a.tool_name, "args": a.tool_input or {}}})
    return _gemini(parts, "STOP", model)


def gemini_chunks(a: Answer, model: str = "gemini-test") -> list[dict[str, Any]]:
    """A streamed answer: text in pieces, then the function call whole, then STOP."""
    out = [_gemini([{"text": piece}], None, model) for piece in _cut(a.text, a.pieces)]
    if a.tool_name is not None:
        call = {"functionCall": {"name": a.tool_name, "args": a.tool_input or {}}}
        out.append(_gemini([call], None, model))
    out.append(_gemini([{"text": ""}], "STOP", model))
    return out


def cloud_reply(rec: Recorded, a: Answer) -> Reply:
    """The documented answer for a cloud route (the public APIs' answers otherwise)."""
    path = rec.path
    if path.endswith("/invoke"):
        return Reply([json.dumps(anthropic_message(a)).encode()])
    if path.endswith("/invoke-with-response-stream"):
        return Reply(invoke_frames(a), content_type=eventstream.CONTENT_TYPE)
    if path.endswith("/converse"):
        return Reply([json.dumps(converse_message(a)).encode()])
    if path.endswith("/converse-stream"):
        return Reply(converse_frames(a), content_type=eventstream.CONTENT_TYPE)
    if path.endswith(":rawPredict"):
        if path.endswith("/count-tokens:rawPredict"):
            return Reply([json.dumps({"input_tokens": 2095}).encode()])
        return Reply([json.dumps(anthropic_message(a)).encode()])
    if path.endswith(":streamRawPredict"):
        return Reply(anthropic_events(a), content_type="text/event-stream")
    if path.endswith(":countTokens"):
        return Reply([json.dumps({"totalTokens": 2095}).encode()])
    if path.endswith(":generateContent"):
        return Reply([json.dumps(gemini_response(a)).encode()])
    if path.endswith(":streamGenerateContent"):
        chunks = gemini_chunks(a)
        if "alt=sse" in rec.query:
            return Reply([sse(None, c) for c in chunks], content_type="text/event-stream")
        body = ("[" + ",\r\n".join(json.dumps(c, indent=2) for c in chunks) + "]").encode()
        return Reply([body[i : i + 97] for i in range(0, len(body), 97)])
    return reply_for(rec, a)
