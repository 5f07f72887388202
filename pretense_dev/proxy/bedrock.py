"""Claude on Amazon Bedrock: InvokeModel, InvokeModelWithResponseStream, Converse.

Paths (as the AWS SDKs and ``AnthropicBedrock`` send them, the model id
percent-encoded: ``us.anthropic.claude-…-v1%3A0``)::

    POST model/{modelId}/invoke                      Anthropic Messages body
    POST model/{modelId}/invoke-with-response-stream (``anthropic_version`` in it,
                                                      no ``model``, no ``stream``)
    POST model/{modelId}/converse                    Converse shapes (below)
    POST model/{modelId}/converse-stream

The model the policy approves is the decoded ``modelId``.  Streams come back
as AWS event-stream frames (`eventstream`).  The mutated body is signed again
(`sigv4`), and the request goes to the region the client signed for.

Converse shapes (AWS Bedrock API reference, ``Converse``): ``system`` is a list
of ``{"text"}`` / ``{"guardContent"}`` / ``{"cachePoint"}``; each message's
``content`` a list of one-key blocks: ``text``, ``toolUse {toolUseId, name,
input}``, ``toolResult {toolUseId, content: [{text} | {json} | …], status}``,
``document``, ``image``, ``reasoningContent`` (signed: scanned, never
changed), ``cachePoint``, ``guardContent``.  Tool definitions (``toolConfig``)
are not mutated, as for the other APIs.  The stream's events are
``messageStart``, ``contentBlockStart``, ``contentBlockDelta`` (``text``,
``toolUse.input`` partial JSON, ``reasoningContent``), ``contentBlockStop``,
``messageStop`` and ``metadata``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from pretense_dev.mutation import IdentifierMap, StreamUnmutator
from pretense_dev.proxy import eventstream, jsonx, sigv4
from pretense_dev.proxy.sse import Encoder, Event
from pretense_dev.proxy.streams import AnthropicRewriter, Rewriter
from pretense_dev.proxy.transform import (
    Outgoing,
    Unprotectable,
    unmutate_all,
    unmutate_generic,
)

DEFAULT_UPSTREAM = "https://bedrock-runtime.us-east-1.amazonaws.com"
_DEFAULT_HOST = re.compile(r"bedrock-runtime\.[a-z0-9-]+\.amazonaws\.com")
PATH = r"model/(?P<model>[^/]+)/(?P<op>invoke|invoke-with-response-stream|converse|converse-stream)"


def model_of(body: Any, params: Any) -> str | None:
    """The decoded model id from the path (``…-v1%3A0`` → ``…-v1:0``)."""
    model = params.get("model")
    return unquote(model) if isinstance(model, str) else None


def sign(outbound: Any) -> None:
    """Re-sign for the client's region; send to that region's endpoint when on the default."""
    received = outbound.received
    scope = sigv4.client_scope(received.headers if received is not None else outbound.headers)
    region = scope[1] if scope is not None else sigv4.default_region()
    host = outbound.url.host or ""
    if region and _DEFAULT_HOST.fullmatch(host):
        outbound.url = outbound.url.with_host(f"bedrock-runtime.{region}.amazonaws.com")
    sigv4.resign(
        outbound.method,
        str(outbound.url),
        outbound.headers,
        outbound.body,
        received=outbound.received,
        region=region,
        digest=outbound.digest,
        scope=scope,
    )


class InvokeRewriter(AnthropicRewriter):
    """The Anthropic rewriter, plus Bedrock's exception frames (their message un-mutated)."""

    def event(self, ev: Event) -> bytes:
        """See `Rewriter.event`."""
        if ev.name is not None and ev.name.startswith("!"):
            return unmutate_frame(ev, self.m)
        return super().event(ev)


def unmutate_frame(ev: Event, m: IdentifierMap) -> bytes:
    """An exception (or unknown) frame with a ``message``: that message un-mutated."""
    data = eventstream.decode_json(ev.data_bytes)
    if not isinstance(data, dict) or not isinstance(data.get("message"), str):
        return ev.raw
    message = m.unmutate(data["message"])
    if message == data["message"]:
        return ev.raw
    data["message"] = message
    [frame] = eventstream.FrameDecoder().feed(ev.raw)
    return eventstream.encode_message(frame.headers, jsonx.dumps(data))


# -- Converse ------------------------------------------------------------------------


def _need(cond: bool, what: str) -> None:
    if not cond:
        raise Unprotectable(what)


def _opaque(holder: dict[str, Any], key: str, where: str, out: Outgoing) -> None:
    """An id the vendor matches as sent: scanned, never changed."""
    value = holder.get(key)
    if isinstance(value, str):
        out.scan_only(value, f"{where}.{key}")
        out.skip(value)


def _block(b: Any, where: str, out: Outgoing) -> None:
    _need(isinstance(b, dict), f"{where} must be an object")
    if "text" in b:
        _need(isinstance(b["text"], str), f"{where}.text must be a string")
        b["text"] = out.text(b["text"], where)
    elif "toolUse" in b:
        tu = b["toolUse"]
        _need(isinstance(tu, dict), f"{where}.toolUse must be an object")
        _opaque(tu, "toolUseId", where, out)
        if "input" in tu:
            tu["input"] = out.value(tu["input"], f"{where} (toolUse {tu.get('name')})")
    elif "toolResult" in b:
        tr = b["toolResult"]
        _need(isinstance(tr, dict), f"{where}.toolResult must be an object")
        _opaque(tr, "toolUseId", where, out)
        content = tr.get("content")
        _need(isinstance(content, list), f"{where}.toolResult.content must be a list")
        for k, c in enumerate(content):
            w = f"{where}.toolResult.content[{k}]"
            _need(isinstance(c, dict), f"{w} must be an object")
            if "json" in c:
                c["json"] = out.value(c["json"], w)
            else:
                _block(c, w, out)
    elif any(k in b for k in ("reasoningContent", "image", "video", "cachePoint")):
        out.skip(b)  # signed reasoning or binary: sent as is; the sweep scans its strings
    elif "document" in b:
        doc = b["document"]
        _need(isinstance(doc, dict), f"{where}.document must be an object")
        source = doc.get("source")
        if isinstance(source, dict) and "bytes" in source:
            # A binary file (PDF, DOCX): its text cannot be rewritten; sent as is, scanned.
            out.scan_all(source, f"{where}.document.source")
            out.skip(source)
        elif isinstance(source, dict) and "text" in source:
            _need(isinstance(source["text"], str), f"{where}.document.source.text")
            source["text"] = out.text(source["text"], where)
        elif isinstance(source, dict) and isinstance(source.get("content"), list):
            for k, c in enumerate(source["content"]):
                _block(c, f"{where}.document.source.content[{k}]", out)
        if isinstance(doc.get("context"), str):
            doc["context"] = out.text(doc["context"], f"{where}.document.context")
    else:
        # guardContent and block kinds this walker does not know: every string value.
        mutated = out.generic(b, where)
        b.clear()
        b.update(mutated)


def mutate_converse(body: dict[str, Any], out: Outgoing) -> None:
    """Mutate a Converse (or ConverseStream) request in place."""
    system = body.get("system")
    if system is not None:
        _need(isinstance(system, list), "`system` must be a list of blocks")
        for i, b in enumerate(system):
            _block(b, f"system[{i}]", out)
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise Unprotectable("`messages` must be a list")
    for i, m in enumerate(messages):
        _need(isinstance(m, dict), f"messages[{i}] must be an object")
        content = m.get("content")
        _need(isinstance(content, list), f"messages[{i}].content must be a list")
        for j, b in enumerate(content):
            _block(b, f"messages[{i}].content[{j}]", out)
    if isinstance(body.get("promptVariables"), dict):
        body["promptVariables"] = out.generic(body["promptVariables"], "promptVariables")


def _unmutate_block(b: Any, m: IdentifierMap) -> None:
    if not isinstance(b, dict):
        return
    if isinstance(b.get("text"), str):
        b["text"] = m.unmutate(b["text"])
    elif isinstance(b.get("toolUse"), dict) and "input" in b["toolUse"]:
        b["toolUse"]["input"] = unmutate_all(b["toolUse"]["input"], m.unmutate)
    elif isinstance(b.get("citationsContent"), dict):
        b["citationsContent"] = unmutate_generic(b["citationsContent"], m.unmutate)


def unmutate_converse(body: Any, m: IdentifierMap) -> Any:
    """A Converse answer: ``output.message.content`` (reasoning untouched)."""
    msg = body.get("output", {}).get("message") if isinstance(body, dict) else None
    if isinstance(msg, dict) and isinstance(msg.get("content"), list):
        for b in msg["content"]:
            _unmutate_block(b, m)
    return body


class ConverseRewriter(Rewriter):
    """ConverseStream events: text and tool-input deltas un-mutated per content block.

    What a block holds back goes out as one more ``contentBlockDelta`` just
    before its ``contentBlockStop`` (or at the end of a stream cut short).
    """

    def __init__(self, mapping: IdentifierMap, encode: Encoder = eventstream.encode_converse):
        super().__init__(mapping, encode)
        self.blocks: dict[int, tuple[str, StreamUnmutator[str]]] = {}

    def event(self, ev: Event) -> bytes:
        """See `Rewriter.event`."""
        if ev.name == "contentBlockDelta":
            return self._delta(ev)
        if ev.name == "contentBlockStop":
            data = eventstream.decode_json(ev.data_bytes)
            idx = data.get("contentBlockIndex") if isinstance(data, dict) else None
            return (self._held(idx) if isinstance(idx, int) else b"") + ev.raw
        if ev.name is not None and ev.name.startswith("!"):
            return unmutate_frame(ev, self.m)
        return ev.raw

    def _delta(self, ev: Event) -> bytes:
        data = eventstream.decode_json(ev.data_bytes)
        if not isinstance(data, dict) or not isinstance(data.get("delta"), dict):
            return ev.raw
        idx = data.get("contentBlockIndex")
        delta = data["delta"]
        if isinstance(delta.get("text"), str):
            kind, holder, key = "text", delta, "text"
        elif isinstance(delta.get("toolUse"), dict) and isinstance(
            delta["toolUse"].get("input"), str
        ):
            kind, holder, key = "toolUse", delta["toolUse"], "input"
        else:
            return ev.raw  # reasoningContent and unknown deltas pass as they came
        if not isinstance(idx, int):
            holder[key] = self.m.unmutate(holder[key], json=kind == "toolUse")
            return self.encode(ev.name, jsonx.dumps(data))
        state = self.blocks.get(idx)
        if state is None:
            state = self.blocks[idx] = (kind, self.m.stream_unmutator(json=kind == "toolUse"))
        value = holder[key]
        out = state[1].feed(value)
        if out == value:
            return ev.raw
        if not out:
            return b""
        holder[key] = out
        data.pop("p", None)  # Bedrock's length padding describes the old text
        return self.encode(ev.name, jsonx.dumps(data))

    def _held(self, idx: int) -> bytes:
        state = self.blocks.pop(idx, None)
        if state is None:
            return b""
        kind, um = state
        rest = um.flush()
        if not rest:
            return b""
        delta: dict[str, Any] = {"text": rest} if kind == "text" else {"toolUse": {"input": rest}}
        return self.encode(
            "contentBlockDelta", jsonx.dumps({"contentBlockIndex": idx, "delta": delta})
        )

    def end(self) -> bytes:
        """See `Rewriter.end`."""
        return b"".join(self._held(i) for i in sorted(self.blocks))


def bedrock_error(status: int, message: str, code: str) -> dict[str, Any]:
    """Bedrock's error body: ``{"message": …}`` (the SDKs read the type from a header)."""
    return {"message": message}


def error_event(body: dict[str, Any]) -> bytes:
    """An error as the stream's last frame: an ``exception`` the SDKs raise."""
    return eventstream.exception_frame("internalServerException", str(body.get("message", "")))
