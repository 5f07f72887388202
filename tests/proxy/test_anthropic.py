"""Anthropic Messages through the proxy, with the official SDK as the client.

The upstream is a real aiohttp server on 127.0.0.1 answering with the
documented event shapes and recording what it received.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import anthropic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pretense_dev.proxy.replay import (
    Answer,
    Recorded,
    Reply,
    anthropic_events,
    anthropic_message,
    sse,
)
from tests.proxy.conftest import NAMES, Harness, protected_tokens

PROMPT = (
    "Why does LedgerReconciler.reconcile_batch call apply_credit_note twice? "
    "It reads _ledger_cache and MAX_RETRY_BUDGET."
)
THINKING = {"type": "thinking", "thinking": "reconcile_batch looked odd", "signature": "SIG+/=="}
REDACTED = {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT"}
TOOLS: Any = [
    {
        "name": "Edit",
        "description": "Edit reconcile_batch and friends",
        "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}},
    }
]


def history(h: Harness) -> Any:
    """A conversation with every block kind the proxy treats differently."""
    return [
        {"role": "user", "content": PROMPT},
        {
            "role": "assistant",
            "content": [
                THINKING,
                REDACTED,
                {"type": "text", "text": "Let me open reconcile_batch."},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "Read",
                    "input": {"file_path": "billing/reconcile_batch.py", "limit": 20},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": "def reconcile_batch(self):\n    return apply_credit_note(self)",
                },
                {
                    "type": "image",
                    "source": {
                        "type": "base64",
                        "media_type": "image/png",
                        "data": "iVBORw0KGgoreconcile_batch",
                    },
                },
                {
                    "type": "document",
                    "source": {
                        "type": "text",
                        "media_type": "text/plain",
                        "data": "TaxJurisdiction notes",
                    },
                },
            ],
        },
    ]


def test_stream_round_trip_with_tool_call(h: Harness) -> None:
    syn = h.syn
    h.answer = Answer(
        text=f"{syn('reconcile_batch')} calls {syn('apply_credit_note')} twice.",
        tool_name="Edit",
        tool_input={
            "file_path": f"billing/{syn('reconcile_batch')}.py",
            "old_string": syn("_ledger_cache"),
        },
        thinking=f"raw {syn('reconcile_batch')} stays",
        pieces=6,
    )
    with h.anthropic().messages.stream(
        model="claude-test",
        max_tokens=100,
        messages=history(h),
        system="You edit TaxJurisdiction code.",
        tools=TOOLS,
    ) as stream:
        final = stream.get_final_message()
    thinking, text, tool = final.content
    assert text.type == "text" and text.text == "reconcile_batch calls apply_credit_note twice."
    assert tool.type == "tool_use"
    assert tool.input == {"file_path": "billing/reconcile_batch.py", "old_string": "_ledger_cache"}
    # thinking comes back exactly as the vendor sent it (signed content is never rewritten)
    assert (
        thinking.type == "thinking" and thinking.thinking == f"raw {syn('reconcile_batch')} stays"
    )

    sent = h.upstream.records[-1]
    body = sent.json()
    # what the vendor read: no protected name anywhere it reads text
    assert protected_tokens(body["system"], h.mapping) == set()
    assert body["messages"][0]["content"] == h.mapping.mutate(PROMPT)
    assistant = body["messages"][1]["content"]
    assert assistant[0] == THINKING and assistant[1] == REDACTED
    assert assistant[2]["text"] == f"Let me open {syn('reconcile_batch')}."
    assert assistant[3]["input"] == {
        "file_path": f"billing/{syn('reconcile_batch')}.py",
        "limit": 20,
    }
    assert assistant[3]["name"] == "Read"
    user = body["messages"][2]["content"]
    assert protected_tokens(user[0]["content"], h.mapping) == set()
    assert user[1] == history(h)[2]["content"][1]  # the image is untouched
    assert user[2]["source"]["data"] == f"{syn('TaxJurisdiction')} notes"
    assert body["tools"] == TOOLS and body["model"] == "claude-test"
    # thinking blocks byte-identical on the wire, too
    raw = sent.body.decode()
    assert json.dumps(THINKING, separators=(",", ":")) in raw
    assert json.dumps(REDACTED, separators=(",", ":")) in raw


def test_non_streamed_round_trip(h: Harness) -> None:
    syn = h.syn
    h.answer = Answer(
        text=f"Use {syn('LedgerReconciler')}.",
        tool_name="Edit",
        tool_input={"path": syn("dunning_schedule")},
    )
    msg = h.anthropic().messages.create(
        model="claude-test", max_tokens=10, messages=[{"role": "user", "content": PROMPT}]
    )
    assert msg.content[0].type == "text" and msg.content[0].text == "Use LedgerReconciler."
    assert msg.content[1].type == "tool_use" and msg.content[1].input == {
        "path": "dunning_schedule"
    }
    assert protected_tokens(h.upstream.records[-1].body.decode(), h.mapping) == set()


def test_query_string_credentials_and_hop_by_hop(h: Harness) -> None:
    credential = "-".join(("sk", "ant", "api03", "passthrough"))  # no literal key in the repo
    client = anthropic.Anthropic(
        base_url=h.base,
        api_key=credential,
        max_retries=0,
        default_headers={
            "anthropic-beta": "interleaved-thinking-2025-05-14",
            "Proxy-Authorization": "Basic x",
        },
    )
    # Claude Code sends POST /v1/messages?beta=true; the query must reach the vendor as is.
    client.beta.messages.create(
        model="claude-test",
        max_tokens=5,
        messages=[{"role": "user", "content": "hi"}],
        extra_query={"beta": "true"},
    )
    rec = h.upstream.records[-1]
    assert rec.path == "/v1/messages" and rec.query == "beta=true"
    headers = {k.lower(): v for k, v in rec.headers.items()}
    assert headers.get("x-api-key") == credential or headers.get("authorization", "").endswith(
        credential
    )
    assert headers["anthropic-beta"] == "interleaved-thinking-2025-05-14"
    assert "anthropic-version" in headers
    assert "proxy-authorization" not in headers


def test_count_tokens_and_models(h: Harness) -> None:
    client = h.anthropic()
    n = client.messages.count_tokens(
        model="claude-test", messages=[{"role": "user", "content": PROMPT}]
    )
    assert n.input_tokens == 2095
    assert h.upstream.records[-1].path == "/v1/messages/count_tokens"
    assert h.upstream.records[-1].json()["messages"][0]["content"] == h.mapping.mutate(PROMPT)
    models = client.models.list()
    assert [m.id for m in models.data] == ["claude-test"]
    assert h.upstream.records[-1].method == "GET" and h.upstream.records[-1].path == "/v1/models"


def test_upstream_error_message_is_unmutated(h: Harness) -> None:
    def reply(rec: Recorded) -> Reply:
        err = {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": f"bad {h.syn('reconcile_batch')}",
            },
        }
        return Reply([json.dumps(err).encode()], status=400, headers={"request-id": "req_1"})

    h.reply = reply
    with pytest.raises(anthropic.BadRequestError) as e:
        h.anthropic().messages.create(
            model="claude-test", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    assert "bad reconcile_batch" in str(e.value)
    assert e.value.response.headers["request-id"] == "req_1"


def test_mid_stream_error_event_is_unmutated(h: Harness) -> None:
    def reply(rec: Recorded) -> Reply:
        events = anthropic_events(Answer(text="partial"))[:3]
        err = {
            "type": "error",
            "error": {"type": "overloaded_error", "message": f"{h.syn('LedgerReconciler')} busy"},
        }
        return Reply([*events, sse("error", err)], content_type="text/event-stream")

    h.reply = reply
    with (
        pytest.raises(anthropic.APIStatusError) as e,
        h.anthropic().messages.stream(
            model="m", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        ) as s,
    ):
        s.get_final_message()
    assert "LedgerReconciler busy" in str(e.value)


@pytest.mark.parametrize("stream", [False, True])
def test_compressed_upstream_answers(h: Harness, stream: bool) -> None:
    a = Answer(text=f"gz {h.syn('proration_days')} done", pieces=4)

    def reply(rec: Recorded) -> Reply:
        if stream:
            return Reply(anthropic_events(a), content_type="text/event-stream", compress="gzip")
        return Reply([json.dumps(anthropic_message(a)).encode()], compress="deflate")

    h.reply = reply
    client = h.anthropic()
    msg: Any
    if stream:
        with client.messages.stream(
            model="m", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        ) as s:
            msg = s.get_final_message()
    else:
        msg = client.messages.create(
            model="m", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    assert msg.content[0].type == "text" and msg.content[0].text == "gz proration_days done"


def test_resent_history_mutates_to_identical_bytes(h: Harness) -> None:
    client = h.anthropic()
    conv = history(h)
    client.messages.create(model="claude-test", max_tokens=5, messages=conv)
    first = h.upstream.records[-1].body
    client.messages.create(model="claude-test", max_tokens=5, messages=conv)
    assert h.upstream.records[-1].body == first
    # the new turn costs only what is new: the earlier blocks come from the cache
    conv2: Any = [
        *conv,
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "and dunning_schedule?"},
    ]
    client.messages.create(model="claude-test", max_tokens=5, messages=conv2)
    second = h.upstream.records[-1].json()
    assert second["messages"][: len(conv)] == json.loads(first)["messages"]


def test_audit_event_per_request(h: Harness) -> None:
    h.anthropic().messages.create(
        model="claude-test",
        max_tokens=5,
        messages=[{"role": "user", "content": PROMPT}],
        extra_headers={"X-Claude-Code-Session-Id": "sess-1"},
    )
    ev = h.sink.event_for("sess-1")
    assert ev.event == "request" and ev.decision == "forwarded" and ev.mutation_active
    assert ev.session_id == "sess-1" and ev.vendor == "anthropic" and ev.model == "claude-test"
    assert ev.endpoint == "/v1/messages" and ev.upstream_status == 200
    assert set(ev.identifiers) == {
        "LedgerReconciler",
        "reconcile_batch",
        "apply_credit_note",
        "_ledger_cache",
        "MAX_RETRY_BUDGET",
    }
    assert ev.identifiers_protected == 5
    dumped = json.dumps(ev.to_dict())
    assert "sk-ant-test-key" not in dumped and "Why does" not in dumped


# -- hypothesis over HTTP: random chunkings of the upstream stream --------------------


texts = st.lists(
    st.one_of(
        st.sampled_from(sorted(NAMES)),
        st.sampled_from([" ", ".", "\n", "é", "x", "_", "(", "fn_zz"]),
    ),
    max_size=25,
).map("".join)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=texts, tool_text=texts, cuts=st.lists(st.integers(0, 4000), max_size=12))
def test_random_chunkings_over_http(h: Harness, text: str, tool_text: str, cuts: list[int]) -> None:
    h.reset()
    mutated = Answer(
        text=h.mapping.mutate(text),
        tool_name="Edit",
        tool_input={"k": h.mapping.mutate(tool_text)},
        thinking="t",
        pieces=5,
    )
    data = b"".join(anthropic_events(mutated))
    edges = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    chunks = [data[a:b] for a, b in itertools.pairwise(edges)]
    h.reply = lambda rec: Reply(chunks, content_type="text/event-stream")
    with h.anthropic().messages.stream(
        model="m", max_tokens=5, messages=[{"role": "user", "content": text or "x"}]
    ) as s:
        final = s.get_final_message()
    assert final.content[1].type == "text" and final.content[1].text == text
    assert final.content[2].type == "tool_use" and final.content[2].input == {"k": tool_text}
    assert protected_tokens(h.upstream.records[-1].body.decode(), h.mapping) == set()


def test_compressed_request_body_and_connection_listed_headers(h: Harness) -> None:
    import gzip

    body = json.dumps(
        {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": PROMPT}]}
    )
    status, headers, _ = h.raw(
        "/r/abc123def4567890/v1/messages",
        gzip.compress(body.encode()),
        {
            "anthropic-version": "2023-06-01",
            "Content-Encoding": "gzip",
            "Connection": "keep-alive, x-hop-only",
            "X-Hop-Only": "must not travel",
            "Keep-Alive": "timeout=5",
        },
    )
    assert status == 200
    rec = h.upstream.records[-1]
    sent = {k.lower() for k in rec.headers}
    assert not {"content-encoding", "x-hop-only", "keep-alive"} & sent
    assert rec.json()["messages"][0]["content"] == h.mapping.mutate(PROMPT)
    assert "transfer-encoding" not in headers or headers["transfer-encoding"] == "chunked"
