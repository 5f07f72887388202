"""Deny by default: every string the vendor can read is mutated unless exempt by name.

Each body below puts protected names in the places that used to be forwarded
verbatim (unknown fields, extra fields, stop sequences, JSON-schema
descriptions, client metadata, a chat participant name, base64 text files, a
metadata header); the upstream's record must hold none of them outside the
documented exempt fields.  Known fields with the wrong shape are refused in the
API's error format, and a secret in any string of the body, exempt ones
included, blocks the request.
"""

from __future__ import annotations

import base64
import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

from pretense_dev.proxy.transform import LeafCache, Outgoing
from tests.proxy.conftest import REPO_ID, Harness, build_index, protected_tokens
from tests.proxy.test_secrets import github_token


def post(h: Harness, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    status, _, data = h.raw(f"/r/{REPO_ID}{path}", json.dumps(body).encode(), headers=headers)
    return status, json.loads(data)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


ANTHROPIC_BODY: Any = {
    "model": "claude-test",
    "max_tokens": 5,
    "stop_sequences": ["reconcile_batch("],
    "output_format": {
        "type": "json_schema",
        "schema": {
            "type": "object",
            "properties": {
                "reconcile_batch": {"type": "string", "description": "a TaxJurisdiction"}
            },
            "required": ["reconcile_batch"],
        },
    },
    "output_config": "unknown top-level field about LedgerReconciler",
    "metadata": {"user_id": "/home/dev/acme_internal/app"},
    "messages": [
        {
            "role": "user",
            "note": "extra message field: dunning_schedule",
            "content": [
                {"type": "text", "text": "hi", "extra": "extra block field: proration_days"},
                {
                    "type": "search_result",
                    "source": "https://wiki.example/acme_internal/apply_credit_note",
                    "title": "InvoiceSummaryCard",
                    "content": [{"type": "text", "text": "MAX_RETRY_BUDGET"}],
                },
                {
                    "type": "document",
                    "source": {
                        "type": "base64",
                        "media_type": "text/plain",
                        "data": b64("class LedgerReconciler: pass"),
                    },
                },
            ],
        }
    ],
}

CHAT_BODY: Any = {
    "model": "gpt-test",
    "stop": ["reconcile_batch"],
    "messages": [
        {"role": "user", "name": "LedgerReconciler", "content": "hi"},
        {
            "role": "user",
            "content": [
                {
                    "type": "file",
                    "file": {
                        "filename": "ledger.py",
                        "file_data": "data:text/x-python;base64,"
                        + b64("def dunning_schedule(): ..."),
                    },
                }
            ],
        },
    ],
    "response_format": {
        "type": "json_schema",
        "json_schema": {
            "name": "answer",
            "description": "the TaxJurisdiction",
            "schema": {"type": "object", "properties": {"proration_days": {"type": "integer"}}},
        },
    },
    "metadata": {"checkout": "/home/dev/acme_internal"},
    "some_new_field": "apply_credit_note",
}

RESPONSES_BODY: Any = {
    "model": "gpt-test",
    "input": [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "hi"},
                {
                    "type": "input_file",
                    "filename": "x.py",
                    "file_data": "data:text/plain;base64," + b64("MAX_RETRY_BUDGET = 3"),
                },
            ],
        }
    ],
    "text": {
        "format": {
            "type": "json_schema",
            "name": "answer",
            "schema": {
                "type": "object",
                "properties": {"x": {"type": "string", "description": "InvoiceSummaryCard"}},
            },
        }
    },
    "client_metadata": {"cwd": "/home/dev/acme_internal", "turn": "reconcile_batch"},
}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/messages", ANTHROPIC_BODY),
        ("/v1/chat/completions", CHAT_BODY),
        ("/v1/responses", RESPONSES_BODY),
    ],
    ids=["anthropic", "chat", "responses"],
)
def test_no_protected_name_reaches_upstream(h: Harness, path: str, body: Any) -> None:
    headers = {"x-codex-turn-metadata": json.dumps({"cwd": "/home/dev/acme_internal"})}
    status, data = post(h, path, body, headers)
    assert status == 200, data
    (rec,) = h.upstream.records
    sent = rec.json()
    decoded = [rec.body.decode()]
    # The files went out re-encoded: decode them to look inside.
    for s in _strings(sent):
        payload = s.partition(",")[2] if s.startswith("data:") else s
        with contextlib.suppress(ValueError):
            decoded.append(base64.b64decode(payload, validate=True).decode())
    assert protected_tokens("\n".join(decoded), h.mapping) == set()
    assert protected_tokens(rec.headers["x-codex-turn-metadata"], h.mapping) == set()
    assert sent["model"] == body["model"]


def test_schema_keys_round_trip(h: Harness) -> None:
    status, _ = post(h, "/v1/messages", ANTHROPIC_BODY)
    assert status == 200
    schema = h.upstream.records[0].json()["output_format"]["schema"]
    syn = h.syn("reconcile_batch")
    assert list(schema["properties"]) == [syn] and schema["required"] == [syn]
    assert schema["type"] == "object"


def _strings(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


ANTHROPIC: Any = {
    "model": "claude-test",
    "max_tokens": 5,
    "messages": [{"role": "user", "content": "hi"}],
}
WRONG_SHAPES: list[tuple[str, Any, str]] = [
    (
        "/v1/chat/completions",
        {
            "model": "m",
            "messages": [
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": "f", "arguments": {"q": "reconcile_batch"}},
                        }
                    ],
                }
            ],
        },
        "arguments must be a string of JSON",
    ),
    (
        "/v1/chat/completions",
        {
            "model": "m",
            "messages": [
                {
                    "role": "assistant",
                    "function_call": {"name": "f", "arguments": {"q": "reconcile_batch"}},
                }
            ],
        },
        "function_call.arguments must be a string of JSON",
    ),
    (
        "/v1/responses",
        {
            "model": "m",
            "input": [
                {"type": "function_call", "call_id": "c", "name": "f", "arguments": {"q": "x"}}
            ],
        },
        "arguments must be a string of JSON",
    ),
    (
        "/v1/messages",
        {
            **ANTHROPIC,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "search_result", "source": "s", "title": "t", "content": "x"}
                    ],
                }
            ],
        },
        "content must be a list of text blocks",
    ),
    (
        "/v1/messages",
        {
            **ANTHROPIC,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "document",
                            "title": ["reconcile_batch"],
                            "source": {"type": "text", "media_type": "text/plain", "data": "x"},
                        }
                    ],
                }
            ],
        },
        "title must be a string",
    ),
    (
        "/v1/messages",
        {
            **ANTHROPIC,
            "messages": [
                {"role": "user", "content": [{"type": "document", "source": "reconcile_batch"}]}
            ],
        },
        "source must be an object",
    ),
    (
        "/v1/messages",
        {
            **ANTHROPIC,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "document", "source": {"type": "weird", "text": "reconcile_batch"}}
                    ],
                }
            ],
        },
        "source.type 'weird' is not one pretense-dev can protect",
    ),
    (
        "/v1/messages",
        {
            **ANTHROPIC,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "document",
                            "source": {
                                "type": "base64",
                                "media_type": "application/pdf",
                                "data": b64("%PDF-1.4 reconcile_batch"),
                            },
                        }
                    ],
                }
            ],
        },
        "is a application/pdf file, whose text pretense-dev cannot rewrite",
    ),
]


@pytest.mark.parametrize(("path", "body", "why"), WRONG_SHAPES)
def test_wrong_shape_is_refused(h: Harness, path: str, body: Any, why: str) -> None:
    status, data = post(h, path, body)
    assert status == 400
    message = data["error"]["message"] if "error" in data else data["message"]
    assert why in message and "was not sent" in message
    assert h.upstream.records == []


def _tok() -> str:
    return github_token()


SECRET_POSITIONS: dict[str, tuple[str, Any]] = {
    "tool definition": (
        "/v1/messages",
        lambda s: {
            **ANTHROPIC,
            "tools": [{"name": "t", "description": s, "input_schema": {"type": "object"}}],
            "messages": [{"role": "user", "content": "hi"}],
        },
    ),
    "metadata": (
        "/v1/messages",
        lambda s: {
            **ANTHROPIC,
            "metadata": {"user_id": s},
            "messages": [{"role": "user", "content": "hi"}],
        },
    ),
    "thinking signature": (
        "/v1/messages",
        lambda s: {
            **ANTHROPIC,
            "messages": [
                {"role": "user", "content": "q"},
                {
                    "role": "assistant",
                    "content": [{"type": "thinking", "thinking": "ok", "signature": s}],
                },
                {"role": "user", "content": "more"},
            ],
        },
    ),
    "redacted_thinking": (
        "/v1/messages",
        lambda s: {
            **ANTHROPIC,
            "messages": [
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": [{"type": "redacted_thinking", "data": s}]},
                {"role": "user", "content": "more"},
            ],
        },
    ),
    "tool_use input key": (
        "/v1/messages",
        lambda s: {
            **ANTHROPIC,
            "messages": [
                {"role": "user", "content": "q"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {s: 1}}],
                },
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}],
                },
            ],
        },
    ),
    "split across two text blocks": (
        "/v1/messages",
        lambda s: {
            **ANTHROPIC,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "token " + s[:20]},
                        {"type": "text", "text": s[20:] + " end"},
                    ],
                }
            ],
        },
    ),
    "chat tool definition": (
        "/v1/chat/completions",
        lambda s: {
            "model": "gpt-test",
            "tools": [{"type": "function", "function": {"name": "f", "description": s}}],
            "messages": [{"role": "user", "content": "hi"}],
        },
    ),
    "responses unknown field": (
        "/v1/responses",
        lambda s: {"model": "gpt-test", "input": "hi", "prompt_cache_key": s},
    ),
}


@pytest.mark.parametrize("position", sorted(SECRET_POSITIONS))
def test_secret_in_any_string_blocks(h: Harness, position: str) -> None:
    path, build = SECRET_POSITIONS[position]
    secret = _tok()
    status, data = post(h, path, build(secret))
    assert status == 400, data
    err = data.get("error", data)
    message = err["message"]
    assert "pretense-dev blocked this request" in message and secret not in message
    assert h.upstream.records == []


def test_secret_in_a_metadata_header_blocks(h: Harness) -> None:
    secret = _tok()
    status, data = post(
        h,
        "/v1/responses",
        {"model": "gpt-test", "input": "hi"},
        {"x-codex-turn-metadata": json.dumps({"token": secret})},
    )
    assert status == 400 and "header x-codex-turn-metadata" in data["error"]["message"]
    assert h.upstream.records == []


def test_credentials_pass_unscanned(h: Harness) -> None:
    # A credential header holds a secret by design: it is neither blocked nor changed.
    secret = _tok()
    status, _ = post(
        h,
        "/v1/responses",
        {"model": "gpt-test", "input": "hi"},
        {"Authorization": f"Bearer {secret}"},
    )
    assert status == 200
    assert h.upstream.records[0].headers["Authorization"] == f"Bearer {secret}"


def test_schema_keywords_stay_even_when_a_repo_defines_them(tmp_path: Path) -> None:
    mapping = build_index(tmp_path, {"required": "function", "reconcile_batch": "function"})
    out = Outgoing(mapping, LeafCache())
    schema = {
        "type": "object",
        "properties": {"reconcile_batch": {"type": "string", "description": "required"}},
        "required": ["reconcile_batch"],
    }
    got = out.keyed(schema, "output_format")
    syn = mapping.synthetic("reconcile_batch")
    assert list(got) == ["type", "properties", "required"]
    assert list(got["properties"]) == [syn] and got["required"] == [syn]
    assert got["properties"][syn]["description"] == mapping.synthetic("required")


def test_protocol_headers_pass_and_content_headers_are_mutated(h: Harness) -> None:
    status, _ = post(
        h,
        "/v1/messages",
        ANTHROPIC,
        {"anthropic-beta": "reconcile_batch-2025", "x-turn-note": "about reconcile_batch"},
    )
    assert status == 200
    rec = h.upstream.records[0]
    assert rec.headers["anthropic-beta"] == "reconcile_batch-2025"
    assert rec.headers["x-turn-note"] == f"about {h.syn('reconcile_batch')}"
