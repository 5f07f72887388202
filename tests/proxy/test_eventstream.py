"""AWS event-stream frames, checked against botocore's parser, damage and any split.

The Bedrock stream is un-mutated across any split of its bytes.

botocore (`EventStreamBuffer`) is the independent implementation: every frame
`encode_message` writes must parse there with the same headers and payload,
and everything the Bedrock rewriter sends the client is read back through it.
"""

from __future__ import annotations

import base64
import json
import struct
import uuid
from typing import Any

import pytest
from botocore.eventstream import EventStreamBuffer
from hypothesis import given, settings
from hypothesis import strategies as st

from pretense_dev.proxy import eventstream as es
from pretense_dev.proxy.bedrock import InvokeRewriter
from pretense_dev.proxy.replay import anthropic_events
from pretense_dev.proxy.sse import Event, SSEParser
from tests.proxy.test_streams import REAL, M, S, _mutated, anthropic_client_view


def botocore_frames(data: bytes) -> list[tuple[dict[str, Any], bytes]]:
    buf = EventStreamBuffer()
    buf.add_data(data)
    return [(m.headers, m.payload) for m in buf]


header_values = st.one_of(
    st.text(max_size=40),
    st.binary(max_size=40),
    st.booleans(),
    st.integers(-(2**31), 2**31 - 1),
    st.uuids(),
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.text(min_size=1, max_size=20), header_values, max_size=6),
    st.binary(max_size=300),
)
def test_encoder_agrees_with_botocore(headers: dict[str, Any], payload: bytes) -> None:
    headers = {k: v for k, v in headers.items() if len(k.encode()) < 256}
    frame = es.encode_message(headers, payload)
    [(got_headers, got_payload)] = botocore_frames(frame)
    assert got_payload == payload
    # botocore gives a UUID header as its 16 bytes
    assert got_headers == {
        k: v.bytes if isinstance(v, uuid.UUID) else v for k, v in headers.items()
    }
    [ours] = es.FrameDecoder().feed(frame)
    assert ours.headers == headers and ours.payload == payload and ours.raw == frame


def test_every_header_type_botocore_can_write() -> None:
    # Types the encoder never writes (byte, short, long, timestamp) still decode.
    parts = [
        b"\x01a\x02" + struct.pack(">b", -3),
        b"\x01b\x03" + struct.pack(">h", 300),
        b"\x01c\x05" + struct.pack(">q", 2**40),
        b"\x01d\x08" + struct.pack(">q", 1_700_000_000_000),
        b"\x01e\x09" + uuid.UUID(int=7).bytes,
    ]
    hbytes = b"".join(parts)
    total = 12 + len(hbytes) + 2 + 4
    prelude = struct.pack(">II", total, len(hbytes))
    head = prelude + struct.pack(">I", es._crc(prelude)) + hbytes + b"{}"
    frame = head + struct.pack(">I", es._crc(head))
    [(theirs, _)] = botocore_frames(frame)
    [ours] = es.FrameDecoder().feed(frame)
    assert ours.headers["a"] == -3 and ours.headers["b"] == 300 and ours.headers["c"] == 2**40
    assert ours.headers["e"] == uuid.UUID(int=7)
    assert theirs["a"] == -3 and theirs["c"] == 2**40


FRAME = es.encode_message({":event-type": "chunk", ":message-type": "event"}, b'{"a":1}')


@pytest.mark.parametrize(
    ("at", "what"),
    [(5, "prelude CRC mismatch"), (8, "prelude CRC mismatch"), (len(FRAME) - 6, "message CRC")],
)
def test_damage_is_refused(at: int, what: str) -> None:
    bad = bytearray(FRAME)
    bad[at] ^= 0x40
    with pytest.raises(es.FrameError, match=what):
        es.FrameDecoder().feed(bytes(bad))


def test_truncated_stream_is_refused() -> None:
    d = es.FrameDecoder()
    assert d.feed(FRAME[:-3]) == []
    with pytest.raises(es.FrameError, match="ended inside a frame"):
        d.finish()


def test_any_split_gives_the_same_frames() -> None:
    data = FRAME * 3
    for i in range(len(data) + 1):
        d = es.FrameDecoder()
        got = d.feed(data[:i]) + d.feed(data[i:]) + d.finish()
        assert [m.raw for m in got] == [FRAME] * 3


# -- Bedrock InvokeModelWithResponseStream -------------------------------------------


def invoke_frames(sse_events: list[bytes]) -> bytes:
    """The Anthropic events as Bedrock frames (with the "p" padding Bedrock adds)."""
    out = b""
    for raw in sse_events:
        [ev] = SSEParser().feed(raw)
        payload = json.dumps({"bytes": base64.b64encode(ev.data_bytes).decode(), "p": "abcd"})
        out += es.encode_message(
            {
                ":event-type": "chunk",
                ":content-type": "application/json",
                ":message-type": "event",
            },
            payload.encode(),
        )
    return out


UP_EVENTS = anthropic_events(_mutated(REAL))
UP_FRAMES = invoke_frames(UP_EVENTS)


def client_events(data: bytes) -> list[Event]:
    """What an SDK reads: every frame through botocore, each chunk's base64 decoded."""
    events = []
    for headers, payload in botocore_frames(data):
        assert headers[":event-type"] == "chunk" and headers[":message-type"] == "event"
        inner = base64.b64decode(json.loads(payload)["bytes"])
        name = json.loads(inner)["type"]
        events.append(Event(inner, name, inner))
    return events


def run_invoke(chunks: list[bytes]) -> list[Event]:
    return client_events(run_invoke_raw(*chunks))


def check(events: list[Event]) -> None:
    view = anthropic_client_view(events)
    blocks = view["blocks"]
    assert [blocks[i]["block"]["type"] for i in sorted(blocks)] == ["thinking", "text", "tool_use"]
    assert blocks[0]["thinking"] == REAL.thinking
    assert blocks[0]["signature"] == REAL.signature
    assert blocks[1]["text"] == REAL.text
    assert json.loads(blocks[2]["json"]) == REAL.tool_input
    # thinking and signature events carry the upstream's bytes, untouched
    up = [e.data_bytes for raw in UP_EVENTS for e in SSEParser().feed(raw)]
    assert view["thinking_raw"] == [
        b for b in up if b"thinking_delta" in b or b"signature_delta" in b
    ]


def test_upstream_frames_carry_synthetics() -> None:
    inner = b"".join(e.data_bytes for e in client_events(UP_FRAMES))
    assert S["reconcile_batch"].encode() in inner
    assert b"reconcile_batch calls" not in inner


def test_invoke_every_single_split() -> None:
    for i in range(0, len(UP_FRAMES) + 1, 3):
        check(run_invoke([UP_FRAMES[:i], UP_FRAMES[i:]]))


def _chunkings(data: bytes) -> st.SearchStrategy[list[bytes]]:
    return st.lists(st.integers(0, len(data)), max_size=40).map(
        lambda cuts: [
            data[a:b] for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), len(data)], strict=True)
        ]
    )


@settings(max_examples=150, deadline=None)
@given(_chunkings(UP_FRAMES))
def test_invoke_any_split(chunks: list[bytes]) -> None:
    check(run_invoke(chunks))


def test_exception_frame_message_is_unmutated_and_keeps_its_headers() -> None:
    syn = M.synthetic("apply_credit_note")
    frame = es.exception_frame("throttlingException", f"slow down in {syn}")
    [(headers, payload)] = botocore_frames(run_invoke_raw(frame))
    assert headers[":exception-type"] == "throttlingException"
    assert headers[":message-type"] == "exception"
    assert json.loads(payload) == {"message": "slow down in apply_credit_note"}


def run_invoke_raw(*chunks: bytes) -> bytes:
    """The proxy's stream loop: the table's decoder and rewriter for Bedrock invoke streams."""
    decoder = es.InvokeDecoder()
    rw = InvokeRewriter(M, es.encode_invoke)
    out = b""
    for c in chunks:
        out += b"".join(rw.event(e) for e in decoder.feed(c))
    return out + b"".join(rw.event(e) for e in decoder.finish()) + rw.end()


def test_chunk_without_base64_json_is_refused() -> None:
    frame = es.encode_message(
        {":event-type": "chunk", ":message-type": "event"}, b'{"bytes": "not base64!"}'
    )
    with pytest.raises(es.FrameError, match="base64"):
        es.InvokeDecoder().feed(frame)


def test_converse_frames_keep_their_event_type() -> None:
    payload = b'{"contentBlockIndex":0,"delta":{"text":"hi"}}'
    frame = es.encode_converse("contentBlockDelta", payload)
    [(headers, got)] = botocore_frames(frame)
    assert headers[":event-type"] == "contentBlockDelta" and got == payload
    [ev] = es.ConverseDecoder().feed(frame)
    assert ev.name == "contentBlockDelta" and ev.data_bytes == payload and ev.raw == frame
