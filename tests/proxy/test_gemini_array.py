"""Gemini's streamed JSON array (``streamGenerateContent`` without ``alt=sse``), element by element.

`ArraySplitter` must give back exactly the array's elements for any split of
its bytes (strings holding brackets, commas, quotes and escapes included), and
the proxy's writer must turn any split of a mutated answer into one valid
array whose text is the real text — names cut across elements included.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
from pathlib import Path
from typing import Any

from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from pretense_dev.proxy.google import GeminiRewriter
from pretense_dev.proxy.jsonarray import ArraySplitter, ArrayWriter, raw_encode
from pretense_dev.proxy.replay import Answer
from pretense_dev.proxy.replay_cloud import gemini_chunks
from tests.proxy.conftest import REPO_ID, start_harness
from tests.proxy.test_cloud_streams import _chunkings, gemini_client_view
from tests.proxy.test_streams import REAL, M, S, _mutated

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(alphabet=st.sampled_from('ab"\\[]{},: \n\u00e9\U0001f600'), max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet='k"\\]}', max_size=3), inner, max_size=3)
    ),
    max_leaves=10,
)


def split_all(chunks: list[bytes]) -> list[Any]:
    sp = ArraySplitter()
    events = [e for c in chunks for e in sp.feed(c)] + sp.finish()
    return [json.loads(e.data_bytes) for e in events]


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted(c % (len(data) + 1) for c in cuts)
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(JSON, max_size=6),
    st.sampled_from([",", ", ", "\r\n,", ",\r\n  ", "\n,\n"]),
    st.booleans(),
    st.lists(st.integers(0, 10_000), max_size=12),
)
def test_splitter_gives_back_every_element_for_any_split(
    elements: list[Any], sep: str, indent: bool, cuts: list[int]
) -> None:
    body = "[" + sep.join(json.dumps(e, indent=2 if indent else None) for e in elements) + "]"
    data = (" \r\n" + body + "\n").encode()
    assert split_all(cut(data, cuts)) == elements


def test_an_element_is_given_as_soon_as_it_closes() -> None:
    sp = ArraySplitter()
    assert sp.feed(b'[{"a": "]}"')[:] == []
    [first] = sp.feed(b'}\r\n,{"b"')
    assert json.loads(first.data_bytes) == {"a": "]}"}
    assert [json.loads(e.data_bytes) for e in sp.feed(b": [1]}]")] == [{"b": [1]}]
    assert sp.finish() == []


UP = _mutated(Answer(REAL.text, REAL.tool_name, REAL.tool_input, pieces=40))
UP_ARRAY = ("[" + ",\r\n".join(json.dumps(c, indent=2) for c in gemini_chunks(UP)) + "]").encode()


def run_array(chunks: list[bytes]) -> bytes:
    sp, rw = ArraySplitter(), ArrayWriter(GeminiRewriter(M, raw_encode))
    out = b""
    for c in chunks:
        out += b"".join(rw.event(e) for e in sp.feed(c))
    return out + b"".join(rw.event(e) for e in sp.finish()) + rw.end()


def test_the_upstream_array_cuts_synthetics_across_elements() -> None:
    texts = [
        p.get("text", "")
        for element in json.loads(UP_ARRAY)
        for p in element["candidates"][0]["content"]["parts"]
    ]
    syn = S["reconcile_batch"]
    assert syn in "".join(texts) and not any(syn in t for t in texts)


@settings(max_examples=150, deadline=None)
@given(_chunkings(UP_ARRAY))
def test_array_any_split_is_one_valid_array_with_the_real_text(chunks: list[bytes]) -> None:
    out = run_array(chunks)
    text, calls, finishes = gemini_client_view(json.loads(out))
    assert text == REAL.text
    assert calls == [REAL.tool_input]
    assert finishes == ["STOP"]


def test_an_answer_that_is_not_an_array_is_unmutated_whole() -> None:
    one = json.dumps(gemini_chunks(_mutated(Answer("LedgerReconciler here", pieces=1)))[0])
    out = run_array([one.encode()[:7], one.encode()[7:]])
    assert (
        json.loads(out)["candidates"][0]["content"]["parts"][0]["text"] == "LedgerReconciler here"
    )


def test_a_stream_cut_short_is_passed_on_cut_short() -> None:
    a = Answer(text=M.mutate("ends with reconcile_batch"), pieces=1)
    body = ("[" + ",".join(json.dumps(c) for c in gemini_chunks(a)[:-1])).encode()
    out = run_array([body + b',{"candidates": [{"con'])
    assert out.startswith(b"[") and not out.endswith(b"]")
    done = json.loads(out[: out.rindex(b",")] + b"]")
    assert gemini_client_view(done)[0] == "ends with reconcile_batch"
    assert out.endswith(b',\r\n{"candidates": [{"con')


def test_a_broken_stream_ends_with_the_error_as_the_last_element() -> None:
    rw = ArrayWriter(GeminiRewriter(M, raw_encode))
    sp = ArraySplitter()
    first = json.dumps(gemini_chunks(UP)[0]).encode()
    out = b"".join(rw.event(e) for e in sp.feed(b"[" + first + b","))
    out += rw.error(b'{"error": {"code": 502, "message": "broke", "status": "UNAVAILABLE"}}')
    arr = json.loads(out)
    assert arr[-1] == {"error": {"code": 502, "message": "broke", "status": "UNAVAILABLE"}}


def test_through_the_proxy_the_first_element_arrives_before_the_upstream_is_done(
    tmp_path: Path,
) -> None:
    """The upstream holds its second element until the client has the first, un-mutated."""
    root = tmp_path / "repo"
    (root / ".pretense").mkdir(parents=True)
    (root / ".pretense" / "config.toml").write_text(
        'version = 1\n[proxy]\nvendors = ["anthropic", "openai", "gemini"]\n'
    )
    h = start_harness(root)
    released = threading.Event()
    waited: list[bool] = []
    first = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [{"text": h.mapping.mutate("LedgerReconciler.reconcile_batch is ")}],
                },
                "index": 0,
            }
        ]
    }
    last = {"candidates": [{"content": {"role": "model", "parts": [
        {"text": h.mapping.mutate("done")}]}, "finishReason": "STOP", "index": 0}]}  # fmt: skip

    async def upstream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        await resp.write(b"[" + json.dumps(first).encode() + b"\r\n")
        loop = asyncio.get_running_loop()
        waited.append(await loop.run_in_executor(None, released.wait, 15))
        await resp.write(b"," + json.dumps(last).encode() + b"]")
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_post("/{tail:.*}", upstream)
    h.proxy.settings.extra_upstreams["gemini"] = f"http://127.0.0.1:{h.bg.serve(app)}"
    try:
        conn = http.client.HTTPConnection("127.0.0.1", h.port, timeout=60)
        conn.request(
            "POST",
            f"/r/{REPO_ID}/v1beta/models/gemini-2.5-pro:streamGenerateContent",
            body=b'{"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}',
            headers={"Content-Type": "application/json", "x-goog-api-key": "k"},
        )
        resp = conn.getresponse()
        got = b""
        while b"reconcile_batch is " not in got:
            piece = resp.read1(65536)
            assert piece, got
            got += piece
        released.set()
        got += resp.read()
        conn.close()
    finally:
        released.set()
        h.bg.close()
    assert waited == [True]  # the client had the first element while the upstream waited
    text, _, finishes = gemini_client_view(json.loads(got))
    assert text == "LedgerReconciler.reconcile_batch is done" and finishes == ["STOP"]
