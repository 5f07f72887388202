"""Un-mutating streamed answers, one SSE event at a time.

Each rewriter takes parsed events (`sse.Event`) and returns the bytes to send
on; nothing waits for the end of the stream.  An event that needs no change
goes out as its original bytes.  Text that may continue a synthetic in the next
event is held back by the block's own `StreamUnmutator` (one per content block,
tool call or output part, since a synthetic may be cut across events) and released with the
next delta of that block, or — at the block's end — as one extra delta just
before the event that closes it, so clients that concatenate deltas see the
whole text.  Anthropic ``thinking`` deltas and signatures, and Responses
reasoning events, pass byte-identical (they are signed or opaque vendor data).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pretense_dev.mutation import IdentifierMap, StreamUnmutator
from pretense_dev.proxy import jsonx
from pretense_dev.proxy.sse import Decoder, Event, SSEParser, encode, parse_event
from pretense_dev.proxy.sse import Encoder as Encoder
from pretense_dev.proxy.transform import (
    server_tool_result,
    unmutate_all,
    unmutate_anthropic_block,
    unmutate_anthropic_message,
    unmutate_generic,
    unmutate_response_item,
    unmutate_response_object,
    unmutate_response_part,
)


class Rewriter:
    """Base: `event()` for each event, `end()` once the upstream stream is over."""

    def __init__(self, mapping: IdentifierMap, encode: Encoder = encode) -> None:
        self.m = mapping
        # How a changed event is written back: the stream's own framing (SSE by default).
        self.encode = encode

    def event(self, ev: Event) -> bytes:
        """Bytes to send on for this event (possibly more than one event, or none)."""
        raise NotImplementedError

    def feed(self, decoder: Decoder, chunk: bytes) -> bytes:
        """Bytes to send on for one read of the upstream: its complete events, rewritten."""
        return b"".join([self.event(e) for e in decoder.feed(chunk)])

    def end(self) -> bytes:
        """Bytes still held back when the stream ends without closing its blocks."""
        return b""


def _load(ev: Event) -> Any:
    try:
        return jsonx.loads(ev.data_bytes)
    except jsonx.JSONError:
        return None


# A text delta in the two shapes it is written in: compact JSON, as the Messages API
# sends it, and with Python's `json.dumps` spacing (SDK-based fakes and replays):
# <head><index digits><mid><the text, JSON-escaped>"}}\n\n.
_TEXT_SHAPES = tuple(
    (
        b"event: content_block_delta\ndata: "
        + b'{"type":"content_block_delta","index":'.replace(b":", colon).replace(b",", comma),
        b',"delta":{"type":"text_delta","text":"'.replace(b":", colon).replace(b",", comma),
    )
    for colon, comma in ((b":", b","), (b": ", b", "))
)
_TEXT_STARTS = tuple(head for head, _ in _TEXT_SHAPES)
_TEXT_TAIL = b'"}}\n\n'
_NO_HEAD = b"\0"  # starts no event


def _no_string(raw: bytes, start: int, end: int) -> None:
    return None


class AnthropicRewriter(Rewriter):
    """Messages API streams (https://docs.anthropic.com/en/api/messages-streaming)."""

    def __init__(self, mapping: IdentifierMap, encode: Encoder = encode) -> None:
        super().__init__(mapping, encode)
        # index -> (delta type to emit, key in the delta, un-mutator)
        self.blocks: dict[int, tuple[str, str, StreamUnmutator[str]]] = {}
        # The text block whose deltas were last un-mutated in place (see `_text`).
        self._head = _NO_HEAD
        self._feed_string: Callable[[bytes, int, int], bytes | None] = _no_string

    def feed(self, decoder: Decoder, chunk: bytes) -> bytes:
        """See `Rewriter.feed`; text deltas in the API's own shape skip the parse.

        Most events of an answer are text deltas, one per read, each a few
        words: parsing the JSON, changing the dict and writing it again cost
        many times what un-mutating the text does (under 100 concurrent
        streams, about 12 µs of CPU per event beyond a plain pass-through,
        against about 3 µs this way: bench/proxy_load.py).  A delta in the
        exact shape the API writes is un-mutated where it stands in the
        event's bytes (`StreamUnmutator.feed_string`, one kernel call that
        checks the escaped text as it goes); the same un-mutator carries a
        name cut between deltas either way, and any other event, or a delta
        the kernel declines, takes `event`.
        """
        if type(decoder) is not SSEParser or self.encode is not encode:
            return super().feed(decoder, chunk)
        out = b""
        for raw in decoder.feed_raw(chunk):
            if raw.startswith(self._head) and raw.endswith(_TEXT_TAIL):
                done = self._feed_string(raw, len(self._head), len(raw) - len(_TEXT_TAIL))
            elif raw.startswith(_TEXT_STARTS):
                done = self._text(raw)
            else:
                done = None
            out += self.event(parse_event(raw)) if done is None else done
        return out

    def _text(self, raw: bytes) -> bytes | None:
        """A text delta un-mutated in place, or None for the general path.

        The bytes before the text (event name, type, index) are the same for
        every delta of a block: they are kept with the block's un-mutator, so
        the next delta of that block is recognised by one `startswith`.
        """
        if not raw.endswith(_TEXT_TAIL):
            return None
        for head, mid in _TEXT_SHAPES:
            if raw.startswith(head):
                at = raw.find(mid, len(head))
                index = raw[len(head) : at]
                break
        else:  # pragma: no cover - the caller checked the starts
            return None
        # JSON digits with no leading 0, and few of them: a block's index, not a number
        # `int` refuses to read (over 4,300 digits) or the general path's parse rejects
        if at < 0 or not 0 < len(index) <= 9 or not index.isdigit() or index[:1] == b"0" != index:
            return None
        state = self.blocks.get(int(index))
        if state is None or state[0] != "text_delta":
            return None
        at += len(mid)
        self._head, self._feed_string = raw[:at], state[2].feed_string
        return state[2].feed_string(raw, at, len(raw) - len(_TEXT_TAIL))

    def _forget(self) -> None:
        """Drop the remembered block (its index is started again or closed)."""
        self._head = _NO_HEAD

    def event(self, ev: Event) -> bytes:
        """See `Rewriter.event`."""
        name = ev.name
        if name == "content_block_delta":
            return self._delta(ev)
        if name == "content_block_start":
            return self._start(ev)
        if name == "content_block_stop":
            return self._stop(ev)
        if name == "error":
            data = _load(ev)
            if isinstance(data, dict):
                err = data.get("error")
                if isinstance(err, dict) and isinstance(err.get("message"), str):
                    err["message"] = self.m.unmutate(err["message"])
                    return self.encode(name, jsonx.dumps(data))
            return ev.raw
        if name == "message_start":
            data = _load(ev)
            msg = data.get("message") if isinstance(data, dict) else None
            if isinstance(msg, dict) and msg.get("content"):
                unmutate_anthropic_message(msg, self.m)
                return self.encode(name, jsonx.dumps(data))
            return ev.raw
        return ev.raw  # ping, message_delta, message_stop and unknown events

    def _start(self, ev: Event) -> bytes:
        data = _load(ev)
        if not isinstance(data, dict):
            return ev.raw
        idx = data.get("index")
        block = data.get("content_block")
        if not isinstance(idx, int) or not isinstance(block, dict):
            return ev.raw
        t = block.get("type")
        self._forget()
        if t == "text":
            um = self.m.stream_unmutator()
            self.blocks[idx] = ("text_delta", "text", um)
            text = block.get("text")
            changed = False
            if isinstance(text, str) and text:
                block["text"] = um.feed(text)
                changed = True
            if block.get("citations"):
                block["citations"] = unmutate_generic(block["citations"], self.m.unmutate)
                changed = True
            return self.encode(ev.name, jsonx.dumps(data)) if changed else ev.raw
        if t in ("tool_use", "server_tool_use", "mcp_tool_use"):
            self.blocks[idx] = (
                "input_json_delta",
                "partial_json",
                self.m.stream_unmutator(json=True),
            )
            if block.get("input"):
                block["input"] = unmutate_all(block["input"], self.m.unmutate)
                return self.encode(ev.name, jsonx.dumps(data))
            return ev.raw
        if t in ("thinking", "redacted_thinking") or (isinstance(t, str) and server_tool_result(t)):
            return ev.raw
        if t in ("image",) or not isinstance(t, str):
            return ev.raw
        # An unknown block type: the mirror of the generic mutation going out.
        before = jsonx.dumps(block)
        unmutate_anthropic_block(block, self.m)
        if jsonx.dumps(block) == before:
            return ev.raw
        return self.encode(ev.name, jsonx.dumps(data))

    def _delta(self, ev: Event) -> bytes:
        data = _load(ev)
        if not isinstance(data, dict):
            return ev.raw
        delta = data.get("delta")
        if not isinstance(delta, dict):
            return ev.raw
        dt = delta.get("type")
        if dt == "text_delta" or dt == "input_json_delta":
            state = self.blocks.get(data.get("index"))  # type: ignore[arg-type]
            key = "text" if dt == "text_delta" else "partial_json"
            value = delta.get(key)
            if state is None or not isinstance(value, str):
                if isinstance(value, str):  # a delta for a block we never saw start
                    delta[key] = self.m.unmutate(value, json=dt == "input_json_delta")
                    return self.encode(ev.name, jsonx.dumps(data))
                return ev.raw
            out = state[2].feed(value)
            if out == value:
                return ev.raw
            if not out:
                return b""  # all held back: it goes out with the next delta
            delta[key] = out
            return self.encode(ev.name, jsonx.dumps(data))
        if dt == "citations_delta" and isinstance(delta.get("citation"), dict):
            delta["citation"] = unmutate_generic(delta["citation"], self.m.unmutate)
            return self.encode(ev.name, jsonx.dumps(data))
        return ev.raw  # thinking_delta, signature_delta and unknown deltas

    def _held(self, idx: int) -> bytes:
        self._forget()
        state = self.blocks.pop(idx, None)
        if state is None:
            return b""
        dt, key, um = state
        rest = um.flush()
        if not rest:
            return b""
        payload = {"type": "content_block_delta", "index": idx, "delta": {"type": dt, key: rest}}
        return self.encode("content_block_delta", jsonx.dumps(payload))

    def _stop(self, ev: Event) -> bytes:
        data = _load(ev)
        idx = data.get("index") if isinstance(data, dict) else None
        if not isinstance(idx, int):
            return ev.raw
        return self._held(idx) + ev.raw

    def end(self) -> bytes:
        """See `Rewriter.end`."""
        return b"".join(self._held(i) for i in sorted(self.blocks))


class ChatRewriter(Rewriter):
    """Chat Completions streams: ``data:`` chunks ending with ``[DONE]``."""

    def __init__(self, mapping: IdentifierMap, encode: Encoder = encode) -> None:
        super().__init__(mapping, encode)
        # (choice, "content" | "refusal") and (choice, "tool", tool index) -> un-mutator
        self.ums: dict[tuple[Any, ...], StreamUnmutator[str]] = {}
        self.template: dict[str, Any] = {}

    def _um(self, key: tuple[Any, ...], json: bool) -> StreamUnmutator[str]:
        um = self.ums.get(key)
        if um is None:
            um = self.ums[key] = self.m.stream_unmutator(json=json)
        return um

    def _flush(self, ci: Any, delta: dict[str, Any], *, text: bool, tools: bool) -> bool:
        """Add what is held for choice `ci` to `delta`; return whether anything was."""
        changed = False
        for key in [k for k in self.ums if k[0] == ci]:
            if key[1] == "tool":
                if not tools:
                    continue
                rest = self.ums.pop(key).flush()
                if rest:
                    calls = delta.setdefault("tool_calls", [])
                    calls.insert(0, {"index": key[2], "function": {"arguments": rest}})
                    changed = True
            elif text:
                rest = self.ums.pop(key).flush()
                if rest:
                    delta[key[1]] = rest + (delta.get(key[1]) or "")
                    changed = True
        return changed

    def event(self, ev: Event) -> bytes:
        """See `Rewriter.event`."""
        if ev.data_bytes == b"[DONE]":
            return self.end() + ev.raw
        data = _load(ev)
        if not isinstance(data, dict):
            return ev.raw
        if isinstance(data.get("error"), dict):
            err = data["error"]
            if isinstance(err.get("message"), str):
                err["message"] = self.m.unmutate(err["message"])
                return self.encode(ev.name, jsonx.dumps(data))
            return ev.raw
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices:
            return ev.raw
        if not self.template:
            self.template = {k: data[k] for k in ("id", "object", "created", "model") if k in data}
        changed = False
        for choice in choices:
            if not isinstance(choice, dict):
                continue
            ci = choice.get("index", 0)
            delta = choice.get("delta")
            if not isinstance(delta, dict):
                continue
            for key in ("content", "refusal"):
                value = delta.get(key)
                if isinstance(value, str) and value:
                    out = self._um((ci, key), False).feed(value)
                    if out != value:
                        delta[key] = out
                        changed = True
            calls = delta.get("tool_calls")
            if isinstance(calls, list) and calls:
                # Text before tool calls is complete: release what it holds now.
                changed |= self._flush(ci, delta, text=True, tools=False)
                for call in list(calls):
                    if not isinstance(call, dict):
                        continue
                    ti = call.get("index", 0)
                    # A new tool index means the previous call's arguments are complete.
                    for done in [k for k in self.ums if k[0] == ci and k[1] == "tool"]:
                        if done[2] != ti:
                            rest = self.ums.pop(done).flush()
                            if rest:
                                calls.insert(0, {"index": done[2], "function": {"arguments": rest}})
                                changed = True
                    fn = call.get("function")
                    if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                        args = fn["arguments"]
                        out = self._um((ci, "tool", ti), True).feed(args)
                        if out != args:
                            fn["arguments"] = out
                            changed = True
            if choice.get("finish_reason") is not None:
                changed |= self._flush(ci, delta, text=True, tools=True)
        return self.encode(ev.name, jsonx.dumps(data)) if changed else ev.raw

    def end(self) -> bytes:
        """See `Rewriter.end`: one extra chunk per choice with what is still held."""
        out = []
        for ci in sorted({k[0] for k in self.ums}, key=str):
            delta: dict[str, Any] = {}
            if self._flush(ci, delta, text=True, tools=True):
                chunk = dict(self.template)
                chunk["choices"] = [{"index": ci, "delta": delta, "finish_reason": None}]
                out.append(self.encode(None, jsonx.dumps(chunk)))
        self.ums.clear()
        return b"".join(out)


# Responses stream events whose delta field is un-mutated, and in which mode.
_R_DELTAS = {
    "response.output_text.delta": ("text", False),
    "response.refusal.delta": ("refusal", False),
    "response.function_call_arguments.delta": ("args", True),
    "response.custom_tool_call_input.delta": ("custom", False),
}
# The matching ".done" events: (kind, full-text field, json mode).
_R_DONES = {
    "response.output_text.done": ("text", "text", False),
    "response.refusal.done": ("refusal", "refusal", False),
    "response.function_call_arguments.done": ("args", "arguments", True),
    "response.custom_tool_call_input.done": ("custom", "input", False),
}
_R_DELTA_OF = {v[0]: k for k, v in _R_DELTAS.items()}
_R_RESPONSE_EVENTS = frozenset(
    {
        "response.created",
        "response.in_progress",
        "response.queued",
        "response.completed",
        "response.incomplete",
        "response.failed",
    }
)


class ResponsesRewriter(Rewriter):
    """Responses API streams (typed ``response.*`` events).

    The same text appears in the deltas, the ``.done`` event, ``content_part.done``,
    ``output_item.done`` and the final ``response``; every copy is un-mutated.
    When a held-back remainder has to go out as an extra delta before a
    ``.done``, every later event's ``sequence_number`` is shifted by one, so the
    numbers stay dense and rising.
    """

    def __init__(self, mapping: IdentifierMap, encode: Encoder = encode) -> None:
        super().__init__(mapping, encode)
        self.ums: dict[tuple[Any, ...], StreamUnmutator[str]] = {}
        self.last: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.shift = 0

    def _seq(self, data: dict[str, Any]) -> None:
        if self.shift and isinstance(data.get("sequence_number"), int):
            data["sequence_number"] += self.shift

    @staticmethod
    def _key(kind: str, data: dict[str, Any]) -> tuple[Any, ...]:
        return (kind, data.get("item_id"), data.get("output_index"), data.get("content_index"))

    def event(self, ev: Event) -> bytes:
        """See `Rewriter.event`."""
        name = ev.name
        if not self.shift and name not in _HANDLED:
            return ev.raw
        data = _load(ev)
        if not isinstance(data, dict):
            return ev.raw
        prefix = b""
        changed = bool(self.shift)
        if name in _R_DELTAS:
            kind, json_mode = _R_DELTAS[name]
            key = self._key(kind, data)
            value = data.get("delta")
            if isinstance(value, str):
                um = self.ums.get(key)
                if um is None:
                    um = self.ums[key] = self.m.stream_unmutator(json=json_mode)
                out = um.feed(value)
                self.last[key] = data
                if out != value:
                    data = dict(data)
                    data["delta"] = out
                    changed = True
        elif name in _R_DONES:
            kind, field, json_mode = _R_DONES[name]
            key = self._key(kind, data)
            prefix = self._held(key, data)
            if isinstance(data.get(field), str):
                data[field] = self.m.unmutate(data[field], json=json_mode)
                changed = True
        elif name in ("response.content_part.added", "response.content_part.done"):
            unmutate_response_part(data.get("part"), self.m)
            changed = True
        elif name in ("response.output_item.added", "response.output_item.done"):
            unmutate_response_item(data.get("item"), self.m)
            changed = True
        elif name in _R_RESPONSE_EVENTS:
            unmutate_response_object(data.get("response"), self.m)
            changed = True
        elif name == "error" and isinstance(data.get("message"), str):
            data["message"] = self.m.unmutate(data["message"])
            changed = True
        self._seq(data)
        return prefix + (self.encode(name, jsonx.dumps(data)) if changed else ev.raw)

    def _held(self, key: tuple[Any, ...], before: dict[str, Any] | None) -> bytes:
        """The remainder of one delta stream, as an extra delta event (or nothing)."""
        um = self.ums.pop(key, None)
        last = self.last.pop(key, None)
        if um is None:
            return b""
        rest = um.flush()
        if not rest:
            return b""
        kind = key[0]
        extra: dict[str, Any] = {"type": _R_DELTA_OF[kind]}
        template = last or before or {}
        for k in ("item_id", "output_index", "content_index"):
            if k in template:
                extra[k] = template[k]
        extra["delta"] = rest
        if kind == "text":
            extra["logprobs"] = []
        seq = (before or {}).get("sequence_number")
        if isinstance(seq, int):
            # It takes the number of the event it precedes; that one and all later shift.
            extra["sequence_number"] = seq + self.shift
            self.shift += 1
        return self.encode(extra["type"], jsonx.dumps(extra))

    def end(self) -> bytes:
        """See `Rewriter.end`."""
        return b"".join(self._held(k, None) for k in list(self.ums))


# Responses events that may need a change; the rest (reasoning summaries included:
# reasoning items are never altered) pass as they are unless sequence numbers shift.
_HANDLED = frozenset(
    {
        *_R_DELTAS,
        *_R_DONES,
        *_R_RESPONSE_EVENTS,
        "response.content_part.added",
        "response.content_part.done",
        "response.output_item.added",
        "response.output_item.done",
        "error",
    }
)


class PassThrough(Rewriter):
    """Events sent on as they came (an API whose answers carry no mutated text)."""

    def event(self, ev: Event) -> bytes:
        """See `Rewriter.event`."""
        return ev.raw


def rewriter_for(api: str, mapping: IdentifierMap) -> Rewriter:
    """The rewriter for "anthropic", "chat" or "responses" streams (tests, benches)."""
    if api == "anthropic":
        return AnthropicRewriter(mapping)
    if api == "chat":
        return ChatRewriter(mapping)
    return ResponsesRewriter(mapping)
