"""The cloud routes' streams, split everywhere: what the client reads is the real-name answer.

Gemini ``alt=sse`` streams and ConverseStream event-stream frames go through
the table's decoder and rewriter cut at arbitrary offsets (hypothesis), with
synthetic names cut across deltas (many small pieces); the client side is
reassembled as the SDKs do (botocore parses the frames).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.eventstream import EventStreamBuffer
from hypothesis import given, settings
from hypothesis import strategies as st

from pretense_dev.proxy import eventstream as es
from pretense_dev.proxy import state
from pretense_dev.proxy.bedrock import ConverseRewriter
from pretense_dev.proxy.google import GeminiRewriter, unmutate_gemini
from pretense_dev.proxy.replay import Answer, sse
from pretense_dev.proxy.replay_cloud import converse_frames, gemini_chunks
from pretense_dev.proxy.server import main as server_main
from pretense_dev.proxy.server import tool_of
from pretense_dev.proxy.sse import SSEParser
from tests.proxy.test_streams import REAL, M, S, _mutated

# Small pieces: most synthetics are cut across two or more deltas.
UP = _mutated(Answer(REAL.text, REAL.tool_name, REAL.tool_input, pieces=40))


def _chunkings(data: bytes) -> st.SearchStrategy[list[bytes]]:
    return st.lists(st.integers(0, len(data)), max_size=30).map(
        lambda cuts: [
            data[a:b] for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), len(data)], strict=True)
        ]
    )


# -- Gemini ------------------------------------------------------------------------------

GEMINI_SSE = b"".join(sse(None, c) for c in gemini_chunks(UP))


def gemini_client_view(chunks: list[Any]) -> tuple[str, list[Any], list[str]]:
    text, calls, finishes = "", [], []
    for ch in chunks:
        for cand in ch["candidates"]:
            for p in cand.get("content", {}).get("parts", ()):
                text += p.get("text", "")
                if "functionCall" in p:
                    calls.append(p["functionCall"]["args"])
            if cand.get("finishReason"):
                finishes.append(cand["finishReason"])
    return text, calls, finishes


def run_gemini(chunks: list[bytes]) -> list[Any]:
    parser, rw = SSEParser(), GeminiRewriter(M)
    out = b""
    for c in chunks:
        out += b"".join(rw.event(e) for e in parser.feed(c))
    out += b"".join(rw.event(e) for e in parser.finish()) + rw.end()
    client = SSEParser()
    return [json.loads(e.data) for e in client.feed(out) + client.finish()]


def test_gemini_upstream_cuts_synthetics() -> None:
    pieces = [
        p["text"]
        for c in gemini_chunks(UP)
        for p in c["candidates"][0]["content"]["parts"]
        if "text" in p
    ]
    syn = S["reconcile_batch"]
    assert syn in "".join(pieces) and not any(syn in p for p in pieces)


@settings(max_examples=100, deadline=None)
@given(_chunkings(GEMINI_SSE))
def test_gemini_sse_any_split(chunks: list[bytes]) -> None:
    text, calls, finishes = gemini_client_view(run_gemini(chunks))
    assert text == REAL.text
    assert calls == [REAL.tool_input]
    assert finishes == ["STOP"]


def test_gemini_stream_cut_short_releases_what_it_held() -> None:
    a = Answer(text=M.mutate("ends with reconcile_batch"), pieces=1)
    body = b"".join(sse(None, c) for c in gemini_chunks(a)[:-1])  # no finishReason
    text, _, _ = gemini_client_view(run_gemini([body]))
    assert text == "ends with reconcile_batch"


def test_gemini_json_array_is_one_stream() -> None:
    text, calls, finishes = gemini_client_view(unmutate_gemini(gemini_chunks(UP), M))
    assert text == REAL.text and calls == [REAL.tool_input] and finishes == ["STOP"]


def test_gemini_thought_signature_parts_pass_whole() -> None:
    syn = S["apply_credit_note"]
    chunk = {"candidates": [{"content": {"parts": [{"text": syn, "thoughtSignature": "c2ln"}]}}]}
    [got] = run_gemini([sse(None, chunk)])
    assert got["candidates"][0]["content"]["parts"] == [
        {"text": "apply_credit_note", "thoughtSignature": "c2ln"}
    ]


# -- ConverseStream ---------------------------------------------------------------------

CONVERSE = b"".join(converse_frames(UP))


def run_converse(chunks: list[bytes]) -> list[tuple[str, Any]]:
    decoder, rw = es.ConverseDecoder(), ConverseRewriter(M, es.encode_converse)
    out = b""
    for c in chunks:
        out += b"".join(rw.event(e) for e in decoder.feed(c))
    out += b"".join(rw.event(e) for e in decoder.finish()) + rw.end()
    buf = EventStreamBuffer()
    buf.add_data(out)
    return [(m.headers[":event-type"], json.loads(m.payload)) for m in buf]


@settings(max_examples=100, deadline=None)
@given(_chunkings(CONVERSE))
def test_converse_stream_any_split(chunks: list[bytes]) -> None:
    events = run_converse(chunks)
    text = "".join(d["delta"].get("text", "") for n, d in events if n == "contentBlockDelta")
    tool = "".join(
        d["delta"].get("toolUse", {}).get("input", "")
        for n, d in events
        if n == "contentBlockDelta"
    )
    assert text == REAL.text
    assert json.loads(tool) == REAL.tool_input
    names = [n for n, _ in events]
    assert names[0] == "messageStart" and names[-2:] == ["messageStop", "metadata"]
    # every delta of a block comes before that block's stop
    stops = {
        d["contentBlockIndex"]: i for i, (n, d) in enumerate(events) if n == "contentBlockStop"
    }
    for i, (n, d) in enumerate(events):
        if n == "contentBlockDelta":
            assert i < stops[d["contentBlockIndex"]]


# -- configuration ------------------------------------------------------------------------


def test_upstream_option() -> None:
    assert state.parse_upstream("azure-openai=https://acme.openai.azure.com/") == (
        "azure-openai",
        "https://acme.openai.azure.com",
    )
    for bad, why in [
        ("azure=https://x", "NAME one of bedrock, vertex, gemini, azure-openai"),
        ("gemini", "NAME=URL"),
        ("bedrock=ftp://x", "not http(s)"),
    ]:
        try:
            state.parse_upstream(bad)
        except ValueError as e:
            assert why in str(e)
        else:
            raise AssertionError(f"{bad!r} was accepted")


def test_server_refuses_a_bad_upstream(capsys: Any) -> None:
    assert server_main(["--upstream", "azure=https://x"]) == 2
    assert "--upstream takes NAME=URL" in capsys.readouterr().err


def test_audit_names_the_client_from_its_user_agent() -> None:
    # As observed from Gemini CLI 0.61.0, google-genai 3.6.1 and boto3 1.44.8.
    gemini_cli = (
        "GeminiCLI-tui/0.61.0/gemini-2.5-pro (linux; x64; terminal) "
        "google-genai-sdk/1.30.0 gl-node/v20.20.2"
    )
    assert tool_of(gemini_cli) == "gemini-cli"
    assert tool_of("google-genai-sdk/3.6.1 gl-python/3.11.2") == "sdk"
    assert tool_of("Boto3/1.44.8 md/Botocore#1.44.8 ua/2.1 os/linux") == "sdk"
    assert tool_of("curl/8.5.0") == ""


def test_proxy_start_refuses_a_bad_upstream_in_one_line() -> None:
    from tests.conftest import run_cli

    r = run_cli("proxy", "start", "--upstream", "azure=https://acme.openai.azure.com")
    assert r.code == 1, r
    assert r.err.strip().splitlines()[0].startswith("pretense-dev: --upstream takes NAME=URL")
    assert "azure-openai=https://<resource>.openai.azure.com" in r.err


def test_converse_binary_document_is_sent_as_is() -> None:
    from pretense_dev.proxy.apis import APIS
    from pretense_dev.proxy.transform import LeafCache, Outgoing

    [api] = [a for a in APIS if a.name == "bedrock-converse"]
    pdf = "JVBERi0xLjcKreconcile_batch+apply_credit_note/AAAA"  # base64-shaped, names inside
    doc = {"name": "spec", "format": "pdf", "source": {"bytes": pdf}}
    body: dict[str, Any] = {
        "messages": [{"role": "user", "content": [{"document": doc}, {"text": "reconcile_batch"}]}]
    }
    api.protect(body, Outgoing(M, LeafCache()))
    content = body["messages"][0]["content"]
    assert content[0]["document"]["source"]["bytes"] == pdf
    assert content[1]["text"] == S["reconcile_batch"]
