"""AWS event-stream frames (``application/vnd.amazon.eventstream``), both ways.

Bedrock's streamed answers (InvokeModelWithResponseStream, ConverseStream) are
binary frames, not SSE.  One frame::

    total length (u32) | headers length (u32) | prelude CRC32 (u32)
    headers (name len u8, name, type u8, value) ... | payload | message CRC32 (u32)

both CRCs are zlib's CRC-32, the first over the 8 prelude bytes and the second
over everything before it.  Layout as botocore parses it
(``botocore/eventstream.py``, `EventStreamBuffer`), which the tests use as the
independent check of `encode_message`.

A frame whose CRC or lengths do not check out is refused (`FrameError`): the
proxy cannot un-mutate what it cannot read, so it ends the stream rather than
pass on bytes it did not look at.

Two adapters turn frames into the `sse.Event` objects the stream rewriters
read, and back:

* `InvokeDecoder` / `encode_invoke`: InvokeModelWithResponseStream.  Each
  ``chunk`` event's payload is ``{"bytes": <base64 of one Anthropic stream
  event>}``; the event's name is that inner event's ``type``, its data the
  decoded JSON, so the Anthropic rewriter serves Bedrock unchanged.
* `ConverseDecoder` / `encode_converse`: ConverseStream.  The name is the
  ``:event-type`` header (``contentBlockDelta`` …), the data the payload.

Every other frame (``:message-type`` ``exception`` or ``error``, unknown
events) becomes an event named ``!<message-type>:<type>`` whose raw bytes are
the frame: rewriters that do not know the name send it on as it came.
"""

from __future__ import annotations

import base64
import binascii
import struct
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from pretense_dev.proxy import jsonx
from pretense_dev.proxy.sse import Event

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_PRELUDE = 12  # total length, headers length, prelude CRC
_MIN_FRAME = _PRELUDE + 4
# botocore's limits (_MAX_HEADERS_LENGTH, _MAX_PAYLOAD_LENGTH): a larger frame is damage.
MAX_HEADERS = 128 * 1024
MAX_PAYLOAD = 24 * 1024 * 1024

HeaderValue = str | bytes | bool | int | uuid.UUID


class FrameError(aiohttp.ClientPayloadError, ValueError):
    """A frame that is not a valid event-stream message (bad CRC, length or header).

    A payload error of the upstream's answer: the proxy ends the stream with the
    API's error event, as for any answer that breaks mid-stream.
    """


@dataclass(frozen=True)
class Message:
    """One decoded frame: its headers, its payload and its exact bytes."""

    headers: dict[str, HeaderValue]
    payload: bytes
    raw: bytes


def _crc(data: bytes, start: int = 0) -> int:
    return binascii.crc32(data, start) & 0xFFFFFFFF


# header value types (botocore DecodeUtils / the AWS event-stream spec)
_FIXED = {2: ">b", 3: ">h", 4: ">i", 5: ">q", 8: ">q"}


def _parse_headers(data: bytes) -> dict[str, HeaderValue]:
    headers: dict[str, HeaderValue] = {}
    pos, n = 0, len(data)
    try:
        while pos < n:
            nlen = data[pos]
            name = data[pos + 1 : pos + 1 + nlen].decode("utf-8")
            pos += 1 + nlen
            htype = data[pos]
            pos += 1
            value: HeaderValue
            if htype == 0:
                value = True
            elif htype == 1:
                value = False
            elif htype in _FIXED:
                fmt = _FIXED[htype]
                size = struct.calcsize(fmt)
                (value,) = struct.unpack_from(fmt, data, pos)
                pos += size
            elif htype in (6, 7):
                (vlen,) = struct.unpack_from(">H", data, pos)
                raw = data[pos + 2 : pos + 2 + vlen]
                if len(raw) != vlen:
                    raise FrameError("a header value runs past the headers")
                value = raw.decode("utf-8") if htype == 7 else bytes(raw)
                pos += 2 + vlen
            elif htype == 9:
                value = uuid.UUID(bytes=bytes(data[pos : pos + 16]))
                pos += 16
            else:
                raise FrameError(f"unknown header type {htype}")
            headers[name] = value
    except (IndexError, struct.error, UnicodeDecodeError, ValueError) as e:
        if isinstance(e, FrameError):
            raise
        raise FrameError(f"malformed headers ({type(e).__name__})") from None
    if pos != n:
        raise FrameError("the headers overrun their length")
    return headers


def _encode_headers(headers: Mapping[str, HeaderValue]) -> bytes:
    out = bytearray()
    for name, value in headers.items():
        bname = name.encode("utf-8")
        out += struct.pack(">B", len(bname)) + bname
        if isinstance(value, bool):
            out += b"\x00" if value else b"\x01"
        elif isinstance(value, str):
            b = value.encode("utf-8")
            out += b"\x07" + struct.pack(">H", len(b)) + b
        elif isinstance(value, bytes):
            out += b"\x06" + struct.pack(">H", len(value)) + value
        elif isinstance(value, uuid.UUID):
            out += b"\x09" + value.bytes
        else:
            out += b"\x04" + struct.pack(">i", value)
    return bytes(out)


def encode_message(headers: Mapping[str, HeaderValue], payload: bytes) -> bytes:
    """One frame with both CRCs."""
    hbytes = _encode_headers(headers)
    total = _PRELUDE + len(hbytes) + len(payload) + 4
    prelude = struct.pack(">II", total, len(hbytes))
    head = prelude + struct.pack(">I", _crc(prelude)) + hbytes + payload
    return head + struct.pack(">I", _crc(head))


class FrameDecoder:
    """Feed it bytes cut anywhere; it returns each frame once all of it has arrived."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, chunk: bytes) -> list[Message]:
        """The complete frames in what has arrived so far (raises `FrameError`)."""
        buf = self._buf + chunk if self._buf else chunk
        out: list[Message] = []
        pos = 0
        while len(buf) - pos >= _PRELUDE:
            total, hlen, pcrc = struct.unpack_from(">III", buf, pos)
            if _crc(buf[pos : pos + 8]) != pcrc:
                raise FrameError("prelude CRC mismatch")
            if hlen > MAX_HEADERS or total < _MIN_FRAME + hlen or total - hlen > MAX_PAYLOAD:
                raise FrameError(f"impossible frame lengths (total {total}, headers {hlen})")
            if len(buf) - pos < total:
                break
            frame = buf[pos : pos + total]
            (mcrc,) = struct.unpack_from(">I", frame, total - 4)
            if _crc(frame[:-4]) != mcrc:
                raise FrameError("message CRC mismatch")
            headers = _parse_headers(frame[_PRELUDE : _PRELUDE + hlen])
            out.append(Message(headers, frame[_PRELUDE + hlen : -4], frame))
            pos += total
        self._buf = buf[pos:]
        return out

    def finish(self) -> list[Message]:
        """End of stream: a partial frame left over is damage."""
        if self._buf:
            n, self._buf = len(self._buf), b""
            raise FrameError(f"the stream ended inside a frame ({n} bytes left)")
        return []


def _other(msg: Message) -> Event:
    """A frame the rewriters do not read: named so none of them matches it."""
    mtype = msg.headers.get(":message-type")
    etype = msg.headers.get(":event-type") or msg.headers.get(":exception-type") or ""
    return Event(msg.raw, f"!{mtype!s}:{etype!s}", msg.payload)


class _EventDecoder:
    """Frames → events; a subclass says how one frame becomes an event (`_event`)."""

    __slots__ = ("_frames",)

    def __init__(self) -> None:
        self._frames = FrameDecoder()

    def feed(self, chunk: bytes) -> list[Event]:
        """Events for the frames completed by `chunk`."""
        return [self._event(m) for m in self._frames.feed(chunk)]

    def finish(self) -> list[Event]:
        """See `FrameDecoder.finish`."""
        return [self._event(m) for m in self._frames.finish()]

    @staticmethod
    def _event(msg: Message) -> Event:
        raise NotImplementedError


class InvokeDecoder(_EventDecoder):
    """InvokeModelWithResponseStream frames → the Anthropic stream events inside them."""

    __slots__ = ()

    @staticmethod
    def _event(msg: Message) -> Event:
        if msg.headers.get(":message-type") != "event" or msg.headers.get(":event-type") != "chunk":
            return _other(msg)
        try:
            outer = jsonx.loads(msg.payload)
            inner = base64.b64decode(outer["bytes"], validate=True)
            data = jsonx.loads(inner)
        except (jsonx.JSONError, KeyError, TypeError, ValueError, binascii.Error):
            raise FrameError("a chunk whose payload is not base64 JSON") from None
        name = data.get("type") if isinstance(data, dict) else None
        return Event(msg.raw, name if isinstance(name, str) else None, inner)


_EVENT_HEADERS = {":message-type": "event", ":content-type": "application/json"}


def encode_invoke(name: str | None, data: str | bytes) -> bytes:
    """One Anthropic stream event as an InvokeModelWithResponseStream ``chunk`` frame."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    payload = jsonx.dumps({"bytes": base64.b64encode(raw).decode("ascii")})
    return encode_message({":event-type": "chunk", **_EVENT_HEADERS}, payload)


class ConverseDecoder(_EventDecoder):
    """ConverseStream frames → events named by their ``:event-type``."""

    __slots__ = ()

    @staticmethod
    def _event(msg: Message) -> Event:
        etype = msg.headers.get(":event-type")
        if msg.headers.get(":message-type") != "event" or not isinstance(etype, str):
            return _other(msg)
        return Event(msg.raw, etype, msg.payload)


def encode_converse(name: str | None, data: str | bytes) -> bytes:
    """One ConverseStream event (``name`` is its ``:event-type``) as a frame."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return encode_message({":event-type": name or "", **_EVENT_HEADERS}, raw)


def exception_frame(exception_type: str, message: str) -> bytes:
    """An ``exception`` frame, as Bedrock ends a stream that failed (SDKs raise it)."""
    payload = jsonx.dumps({"message": message})
    headers = {
        ":message-type": "exception",
        ":exception-type": exception_type,
        ":content-type": "application/json",
    }
    return encode_message(headers, payload)


def decode_json(payload: bytes) -> Any:
    """A frame payload as JSON (None when it is not)."""
    try:
        return jsonx.loads(payload)
    except jsonx.JSONError:
        return None
