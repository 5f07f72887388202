"""Streamed answers, split everywhere: what the client reads equals the real-name answer.

No network here: the upstream's exact bytes (the documented event shapes from
`replay`, with synthetic names in text, tool input and tool-call arguments) go
through `SSEParser` + the API's rewriter cut at every offset and in random
chunkings, and the client side is reassembled the way the SDKs accumulate.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pretense_dev.mutation import IdentifierMap, synthesize
from pretense_dev.proxy.replay import (
    Answer,
    anthropic_events,
    chat_events,
    responses_events,
    sse,
)
from pretense_dev.proxy.sse import Event, SSEParser
from pretense_dev.proxy.streams import rewriter_for
from tests.proxy.conftest import KEY, NAMES, protected_tokens


def _map() -> IdentifierMap:
    taken: set[str] = set()
    fwd = {}
    for n, k in NAMES.items():
        s = synthesize(KEY, n, k, taken)
        taken.add(s)
        fwd[n] = s
    return IdentifierMap(fwd)


M = _map()
S = {n: M.synthetic(n) or "" for n in NAMES}
REAL = Answer(
    text=(
        "LedgerReconciler.reconcile_batch calls apply_credit_note — "
        "see _ledger_cache and MAX_RETRY_BUDGET; café naïve reconcile_batch"
    ),
    tool_name="Edit",
    tool_input={
        "file_path": "billing/reconcile_batch.py",
        "old_string": "def reconcile_batch(self):\n\treturn apply_credit_note()",
        "new_string": 'InvoiceSummaryCard "quoted" dunning_schedule\\u00e9',
    },
    thinking="thinking about fn_notours and reconcile_batch stays as sent",
    pieces=9,
)


def _mutated(a: Answer) -> Answer:
    """The answer as the vendor writes it: synthetics in text and tool input, thinking as is."""
    return Answer(
        text=M.mutate(a.text),
        tool_name=a.tool_name,
        tool_input=json.loads(M.mutate(json.dumps(a.tool_input))),
        thinking=a.thinking,
        pieces=a.pieces,
    )


def rewrite(api: str, chunks: list[bytes], *, by_event: bool = False) -> bytes:
    """What the proxy sends for these reads: `Rewriter.feed` per read, as the proxy calls it.

    `by_event`: every event parsed and passed to `Rewriter.event` instead (the
    general path, which `feed` may skip for events it can rewrite in place).
    """
    rw = rewriter_for(api, M)
    parser = SSEParser()
    out = b""
    for c in chunks:
        if by_event:
            out += b"".join(rw.event(e) for e in parser.feed(c))
        else:
            out += rw.feed(parser, c)
    return out + b"".join(rw.event(e) for e in parser.finish()) + rw.end()


def run(api: str, chunks: list[bytes], *, by_event: bool = False) -> list[Event]:
    """Feed chunks through parser + rewriter; parse what the client receives."""
    client = SSEParser()
    return client.feed(rewrite(api, chunks, by_event=by_event)) + client.finish()


UP_ANTHROPIC = anthropic_events(_mutated(REAL))
UP_BYTES = b"".join(UP_ANTHROPIC)


def anthropic_client_view(events: list[Event]) -> dict[str, Any]:
    """What the SDK accumulates: per block text / thinking / signature / raw tool JSON."""
    blocks: dict[int, dict[str, Any]] = {}
    thinking_raw: list[bytes] = []
    for e in events:
        assert e.name is not None
        data = json.loads(e.data)
        assert data["type"] == e.name
        if e.name == "content_block_start":
            blocks[data["index"]] = {
                "block": data["content_block"],
                "text": "",
                "json": "",
                "thinking": "",
            }
        elif e.name == "content_block_delta":
            b = blocks[data["index"]]
            d = data["delta"]
            if d["type"] == "text_delta":
                b["text"] += d["text"]
            elif d["type"] == "input_json_delta":
                b["json"] += d["partial_json"]
            elif d["type"] == "thinking_delta":
                b["thinking"] += d["thinking"]
                thinking_raw.append(e.raw)
            elif d["type"] == "signature_delta":
                b["signature"] = d["signature"]
                thinking_raw.append(e.raw)
    return {"blocks": blocks, "thinking_raw": thinking_raw}


def check_anthropic(events: list[Event], upstream: list[bytes] = UP_ANTHROPIC) -> None:
    view = anthropic_client_view(events)
    blocks = view["blocks"]
    assert [blocks[i]["block"]["type"] for i in sorted(blocks)] == ["thinking", "text", "tool_use"]
    assert blocks[0]["thinking"] == REAL.thinking
    assert blocks[0]["signature"] == REAL.signature
    assert blocks[1]["text"] == REAL.text
    assert json.loads(blocks[2]["json"]) == REAL.tool_input
    # thinking and signature events are the upstream's bytes, untouched
    up_thinking = [raw for raw in upstream if b"thinking_delta" in raw or b"signature_delta" in raw]
    assert view["thinking_raw"] == up_thinking


def test_upstream_really_carries_synthetics() -> None:
    text = UP_BYTES.decode()
    assert S["reconcile_batch"] in text and "reconcile_batch calls" not in text


@pytest.mark.parametrize("api", ["anthropic"])
def test_anthropic_every_single_split(api: str) -> None:
    for i in range(len(UP_BYTES) + 1):
        check_anthropic(run(api, [UP_BYTES[:i], UP_BYTES[i:]]))


def test_anthropic_byte_by_byte() -> None:
    check_anthropic(run("anthropic", [UP_BYTES[i : i + 1] for i in range(len(UP_BYTES))]))


def _chunkings(data: bytes) -> st.SearchStrategy[list[bytes]]:
    return st.lists(st.integers(0, len(data)), max_size=40).map(
        lambda cuts: [
            data[a:b] for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), len(data)], strict=True)
        ]
    )


@settings(max_examples=150, deadline=None)
@given(_chunkings(UP_BYTES))
def test_anthropic_random_chunkings(chunks: list[bytes]) -> None:
    check_anthropic(run("anthropic", chunks))


def test_anthropic_crlf_and_comments() -> None:
    upstream = [
        e.replace(b"\n", b"\r\n").replace(b"event: ping", b": keepalive\r\nevent: ping")
        for e in UP_ANTHROPIC
    ]
    data = b"".join(upstream)
    for i in range(0, len(data) + 1, 7):
        check_anthropic(run("anthropic", [data[:i], data[i:]]), upstream)


def test_anthropic_cut_stream_releases_what_it_held() -> None:
    # The stream stops mid-text (no content_block_stop): held text still reaches the client.
    a = Answer(text=M.mutate("ends with reconcile_batch"), pieces=1)
    events = anthropic_events(a)
    cut = [e for e in events if b"content_block_stop" not in e and b"message_" not in e[:30]]
    got = anthropic_client_view(run("anthropic", [b"".join(cut)]))
    assert got["blocks"][0]["text"] == "ends with reconcile_batch"


def _delta(index: int, content: bytes, *, compact: bool = True) -> bytes:
    """A text delta in the shape the Messages API writes (`compact`) or `json.dumps`'s."""
    head = (
        b'{"type":"content_block_delta","index":%d,"delta":{"type":"text_delta","text":"'
        if compact
        else b'{"type": "content_block_delta", "index": %d, '
        b'"delta": {"type": "text_delta", "text": "'
    )
    return b"event: content_block_delta\ndata: " + head % index + content + b'"}}\n\n'


def _text_stream(deltas: list[bytes], index: int = 0) -> list[bytes]:
    start = {
        "type": "content_block_start",
        "index": index,
        "content_block": {"type": "text", "text": ""},
    }
    return [
        sse("message_start", {"type": "message_start", "message": {"id": "m", "content": []}}),
        sse("content_block_start", start),
        *deltas,
        sse("content_block_stop", {"type": "content_block_stop", "index": index}),
        sse("message_stop", {"type": "message_stop"}),
    ]


def test_anthropic_text_deltas_keep_the_upstream_bytes() -> None:
    # Text deltas in the API's own shape are rewritten where they stand: the client gets
    # the upstream's bytes with only the synthetics replaced, its escapes as sent
    # (a re-serialised event would write "é" and "😀" as UTF-8, not as escapes).
    real = [
        'LedgerReconciler.reconcile_batch("café") ',
        "calls apply_credit_note\n\t 😀 ",
        "see _ledger_cache. ",
    ]
    esc = [json.dumps(M.mutate(t))[1:-1].encode() for t in real]
    assert all(b"\\u00e9" in e or b"\\ud83d" in e or b"\\n" in e for e in esc[:2])
    for compact in (True, False):
        for index in (0, 7, 12):
            up = _text_stream([_delta(index, e, compact=compact) for e in esc], index)
            want = _text_stream(
                [_delta(index, json.dumps(t)[1:-1].encode(), compact=compact) for t in real],
                index,
            )
            assert rewrite("anthropic", [b"".join(up)]) == b"".join(want)
            assert rewrite("anthropic", up) == b"".join(want)


def test_anthropic_odd_indexes_take_the_general_path() -> None:
    # An index no block has, with a leading zero, or too long for `int` to read: the
    # event goes on as the general path says (as it came: no such block), no error.
    for index in (b"01", b"00", b"9" * 5000, b"1" * 30, b"-1", b"1.0"):
        head = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":'
        odd = (
            head + index + b',"delta":{"type":"text_delta","text":"' + S["reconcile_batch"].encode()
        )
        odd += b' x"}}\n\n'
        up = _text_stream([odd], 0)
        assert rewrite("anthropic", up) == rewrite("anthropic", up, by_event=True)


_PIECES = st.one_of(
    st.sampled_from([*S.values(), *NAMES, "é", "😀", " ", "\n", '"', "\\", "A", "_", ".", "9"]),
    st.text(max_size=4),
)


@st.composite
def _delta_contents(draw: st.DrawFn) -> list[bytes]:
    """The JSON-escaped text of each delta as a vendor might write it, a few malformed."""
    text = M.mutate("".join(draw(st.lists(_PIECES, max_size=12))))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=6)))
    contents = []
    for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True):
        piece = text[a:b]
        how = draw(st.integers(0, 2))
        if how == 2:  # letters escaped too ("\u0041"): the general path decodes those
            contents.append(
                b"".join(b"\\u%04x" % ord(c) if ord(c) < 0x10000 else c.encode() for c in piece)
            )
        else:
            contents.append(json.dumps(piece, ensure_ascii=how == 0)[1:-1].encode())
    junk = st.tuples(st.integers(0, len(contents)), st.binary(max_size=6))
    for at, bad in draw(st.lists(junk, max_size=2)):
        contents.insert(at, bad)
    return contents


@settings(max_examples=150, deadline=None)
@given(_delta_contents(), st.booleans(), st.data())
def test_anthropic_in_place_text_deltas_equal_the_general_path(
    contents: list[bytes], compact: bool, data: st.DataObject
) -> None:
    # Whatever a delta holds (escapes of any kind, names cut anywhere, bytes that are no
    # JSON at all) and however the reads cut the stream, the client reads the same
    # events as when every event is parsed and rewritten: the same bytes where the
    # general path forwards an event as it came, the same JSON where it rewrites one.
    up = b"".join(_text_stream([_delta(3, c, compact=compact) for c in contents], 3))
    chunks = data.draw(_chunkings(up))
    fast, slow = run("anthropic", chunks), run("anthropic", chunks, by_event=True)
    assert len(fast) == len(slow)
    for f, g in zip(fast, slow, strict=True):
        assert f.raw == g.raw or json.loads(f.data) == json.loads(g.data)


# -- OpenAI Chat Completions ------------------------------------------------------

UP_CHAT = b"".join(chat_events(_mutated(REAL)))


def chat_client_view(events: list[Event]) -> tuple[str, str, list[str]]:
    content, args = "", ""
    finishes: list[str] = []
    done = False
    for e in events:
        assert e.name is None
        if e.data == "[DONE]":
            done = True
            continue
        assert not done, "nothing may follow [DONE]"
        data = json.loads(e.data)
        for ch in data["choices"]:
            d = ch["delta"]
            content += d.get("content") or ""
            for tc in d.get("tool_calls") or ():
                args += (tc.get("function") or {}).get("arguments") or ""
            if ch["finish_reason"]:
                finishes.append(ch["finish_reason"])
    assert done
    return content, args, finishes


def check_chat(events: list[Event]) -> None:
    content, args, finishes = chat_client_view(events)
    assert content == REAL.text
    assert json.loads(args) == REAL.tool_input
    assert finishes == ["tool_calls"]


def test_chat_every_single_split() -> None:
    for i in range(len(UP_CHAT) + 1):
        check_chat(run("chat", [UP_CHAT[:i], UP_CHAT[i:]]))


@settings(max_examples=100, deadline=None)
@given(_chunkings(UP_CHAT))
def test_chat_random_chunkings(chunks: list[bytes]) -> None:
    check_chat(run("chat", chunks))


# -- OpenAI Responses ---------------------------------------------------------------

UP_RESP = b"".join(responses_events(_mutated(REAL)))


def check_responses(events: list[Event]) -> None:
    text, args = "", ""
    seqs = []
    for e in events:
        data = json.loads(e.data)
        assert data["type"] == e.name
        seqs.append(data["sequence_number"])
        if e.name == "response.output_text.delta":
            text += data["delta"]
        elif e.name == "response.function_call_arguments.delta":
            args += data["delta"]
        elif e.name == "response.output_text.done":
            assert data["text"] == REAL.text
        elif e.name == "response.function_call_arguments.done":
            assert json.loads(data["arguments"]) == REAL.tool_input
        elif e.name == "response.completed":
            out = data["response"]["output"]
            assert out[0]["content"][0]["text"] == REAL.text
            assert json.loads(out[1]["arguments"]) == REAL.tool_input
        elif e.name == "response.output_item.done" and data["item"]["type"] == "message":
            assert data["item"]["content"][0]["text"] == REAL.text
        elif e.name == "response.content_part.done":
            assert data["part"]["text"] == REAL.text
    assert text == REAL.text
    assert json.loads(args) == REAL.tool_input
    assert seqs == list(range(len(seqs))), "sequence numbers stay dense and rising"


def test_responses_every_single_split() -> None:
    for i in range(len(UP_RESP) + 1):
        check_responses(run("responses", [UP_RESP[:i], UP_RESP[i:]]))


@settings(max_examples=100, deadline=None)
@given(_chunkings(UP_RESP))
def test_responses_random_chunkings(chunks: list[bytes]) -> None:
    check_responses(run("responses", chunks))


def test_responses_remainder_shifts_sequence_numbers() -> None:
    # Text ending in a synthetic is held to the end: an extra delta is inserted.
    a = Answer(text="fix " + M.mutate("reconcile_batch"), pieces=1)
    events = run("responses", [b"".join(responses_events(a))])
    deltas = [json.loads(e.data)["delta"] for e in events if e.name == "response.output_text.delta"]
    assert "".join(deltas) == "fix reconcile_batch"
    assert len(deltas) == 2
    seqs = [json.loads(e.data)["sequence_number"] for e in events]
    assert seqs == list(range(len(seqs)))


# -- SSE framing ---------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.sampled_from(["a", "content_block_delta"])),
            st.text(
                st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"),
                max_size=30,
            ),
            st.sampled_from([b"\n", b"\r\n", b"\r"]),
        ),
        min_size=1,
        max_size=6,
    ),
    st.data(),
)
def test_sse_parser_any_line_ends_any_split(
    evs: list[tuple[str | None, str, bytes]], data: st.DataObject
) -> None:
    raw = b""
    for name, payload, nl in evs:
        if name is not None:
            raw += b"event: " + name.encode() + nl
        raw += b"data: " + payload.encode() + nl + nl
    chunks = data.draw(_chunkings(raw))
    p = SSEParser()
    got = [e for c in chunks for e in p.feed(c)] + p.finish()
    assert [(e.name, e.data) for e in got] == [(n, d) for n, d, _ in evs]
    assert b"".join(e.raw for e in got) == raw


def test_no_protected_name_in_what_upstream_sent() -> None:
    # Sanity of the fixture itself: the "vendor" side never had a real name in text/tool input.
    for raw in UP_ANTHROPIC:
        if b"thinking" in raw:
            continue
        assert protected_tokens(raw.decode(), M) == set()
