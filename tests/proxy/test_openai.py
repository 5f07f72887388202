"""OpenAI Chat Completions and Responses through the proxy, with the official SDK."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from pretense_dev.proxy.replay import Answer, Recorded, Reply
from tests.proxy.conftest import Harness, protected_tokens

PROMPT = "Refactor reconcile_batch in LedgerReconciler; keep MAX_RETRY_BUDGET."
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "edit_file",
            "description": "Edit a file",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
        },
    }
]


def tool_answer(h: Harness) -> Answer:
    s = h.syn
    return Answer(
        text=f"I'll change {s('reconcile_batch')} first.",
        tool_name="edit_file",
        tool_input={
            "path": f"billing/{s('LedgerReconciler')}.py",
            "symbol": s("apply_credit_note"),
        },
        pieces=5,
    )


REAL_INPUT = {"path": "billing/LedgerReconciler.py", "symbol": "apply_credit_note"}


def test_chat_stream_tool_call_round_trip(h: Harness) -> None:
    h.answer = tool_answer(h)
    stream: Any = h.openai().chat.completions.create(
        model="gpt-test",
        stream=True,
        tools=TOOLS,  # type: ignore[arg-type]
        messages=[
            {"role": "system", "content": "You maintain TaxJurisdiction."},
            {"role": "user", "content": PROMPT},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_0",
                        "type": "function",
                        "function": {
                            "name": "read_file",
                            "arguments": '{"path": "billing/reconcile_batch.py", "n": 3}',
                        },
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_0", "content": "def reconcile_batch(): pass"},
        ],
    )
    text, args = "", ""
    for chunk in stream:
        for ch in chunk.choices:
            text += ch.delta.content or ""
            for tc in ch.delta.tool_calls or ():
                args += (tc.function.arguments if tc.function else None) or ""
    assert text == "I'll change reconcile_batch first."
    assert json.loads(args) == REAL_INPUT
    body = h.upstream.records[-1].json()
    assert body["tools"] == TOOLS and body["model"] == "gpt-test"
    msgs = body["messages"]
    assert protected_tokens(json.dumps(msgs), h.mapping) == set()
    # arguments keep their formatting; only the string value changed
    assert msgs[2]["tool_calls"][0]["function"]["arguments"] == (
        f'{{"path": "billing/{h.syn("reconcile_batch")}.py", "n": 3}}'
    )
    assert msgs[2]["tool_calls"][0]["function"]["name"] == "read_file"


def test_chat_non_streamed(h: Harness) -> None:
    h.answer = tool_answer(h)
    done = h.openai().chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": [{"type": "text", "text": PROMPT}]}]
    )
    msg = done.choices[0].message
    assert msg.content == "I'll change reconcile_batch first."
    assert msg.tool_calls is not None
    call = msg.tool_calls[0]
    assert call.type == "function" and json.loads(call.function.arguments) == REAL_INPUT
    sent = h.upstream.records[-1].json()["messages"][0]["content"][0]["text"]
    assert sent == h.mapping.mutate(PROMPT)


def test_openai_paths_and_credentials(h: Harness) -> None:
    client = openai.OpenAI(base_url=h.base + "/v1", api_key="sk-proj-passthrough", max_retries=0)
    client.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": "x"}])
    rec = h.upstream.records[-1]
    assert rec.path == "/v1/chat/completions"
    assert {k.lower(): v for k, v in rec.headers.items()}[
        "authorization"
    ] == "Bearer sk-proj-passthrough"
    models = client.models.list()
    assert h.upstream.records[-1].path == "/v1/models"
    assert models is not None


def test_responses_stream_and_not(h: Harness) -> None:
    h.answer = tool_answer(h)
    client = h.openai()
    instructions = "Follow dunning_schedule rules."
    items = [
        {"role": "user", "content": [{"type": "input_text", "text": PROMPT}]},
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "read_file",
            "arguments": json.dumps({"path": "proration_days.py"}),
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "proration_days = 3"},
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [],
            "encrypted_content": "gAAAA_reconcile_batch",
        },
    ]
    resp = client.responses.create(model="gpt-test", input=items, instructions=instructions)  # type: ignore[arg-type]
    assert resp.output_text == "I'll change reconcile_batch first."
    calls = [o for o in resp.output if o.type == "function_call"]
    assert json.loads(calls[0].arguments) == REAL_INPUT
    body = h.upstream.records[-1].json()
    assert body["instructions"] == h.mapping.mutate(instructions)
    assert body["input"][3] == items[3]  # reasoning items are never altered
    assert protected_tokens(json.dumps(body["input"][:3]), h.mapping) == set()

    with client.responses.stream(model="gpt-test", input=PROMPT) as stream:
        deltas = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert deltas == "I'll change reconcile_batch first."
    assert final.output_text == "I'll change reconcile_batch first."
    fc = next(o for o in final.output if o.type == "function_call")
    assert json.loads(fc.arguments) == REAL_INPUT
    assert h.upstream.records[-1].json()["input"] == h.mapping.mutate(PROMPT)


def test_openai_error_format_from_upstream(h: Harness) -> None:
    def reply(rec: Recorded) -> Reply:
        err = {
            "error": {
                "message": f"no {h.syn('TaxJurisdiction')}",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        }
        return Reply([json.dumps(err).encode()], status=404)

    h.reply = reply
    with pytest.raises(openai.NotFoundError) as e:
        h.openai().chat.completions.create(
            model="gpt-test", messages=[{"role": "user", "content": "x"}]
        )
    assert "no TaxJurisdiction" in str(e.value)
