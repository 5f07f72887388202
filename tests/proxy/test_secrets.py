"""The secret guard: a secret anywhere the vendor would read blocks the whole request.

Test secrets are built at run time from parts (never committed).  The message
names the rule and where, never the value, and says how to proceed; the audit
event carries rule and fingerprint only; nothing reaches the upstream.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest

from tests.proxy.conftest import Harness


def github_token() -> str:
    rnd = random.Random()
    return (
        "gh" + "p_" + "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(36))
    )


def with_secret(secret: str) -> str:
    return f"config for reconcile_batch:\nGITHUB_TOKEN={secret}\n"


Build = Callable[[str], dict[str, Any]]

ANTHROPIC_POSITIONS: dict[str, tuple[Build, str]] = {
    "system string": (
        lambda t: {"system": t, "messages": [{"role": "user", "content": "hi"}]},
        "system",
    ),
    "system block": (
        lambda t: {
            "system": [{"type": "text", "text": t}],
            "messages": [{"role": "user", "content": "hi"}],
        },
        "system[0]",
    ),
    "user string": (lambda t: {"messages": [{"role": "user", "content": t}]}, "messages[0]"),
    "user text block": (
        lambda t: {"messages": [{"role": "user", "content": [{"type": "text", "text": t}]}]},
        "messages[0].content[0]",
    ),
    "tool_result string": (
        lambda t: {
            "messages": [
                {"role": "user", "content": "read it"},
                {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "tool_use",
                            "id": "tu1",
                            "name": "Read",
                            "input": {"file_path": "config/.env"},
                        }
                    ],
                },
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "tu1", "content": t}],
                },
            ]
        },
        "messages[2].content[0] (tool_result of Read config/.env)",
    ),
    "tool_result nested block": (
        lambda t: {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "x",
                            "content": [{"type": "text", "text": t}],
                        }
                    ],
                }
            ]
        },
        "messages[0].content[0] (tool_result).content[0]",
    ),
    "tool_use input": (
        lambda t: {
            "messages": [
                {"role": "user", "content": "go"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "tool_use", "id": "a", "name": "Bash", "input": {"command": t}}
                    ],
                },
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "a", "content": "ok"}],
                },
            ]
        },
        "messages[1].content[0] (tool_use Bash).command",
    ),
    "document text": (
        lambda t: {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "document",
                            "source": {"type": "text", "media_type": "text/plain", "data": t},
                        }
                    ],
                }
            ]
        },
        "messages[0].content[0]",
    ),
    "thinking block": (
        lambda t: {
            "messages": [
                {"role": "user", "content": "q"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": t, "signature": "s"},
                        {"type": "text", "text": "a"},
                    ],
                },
                {"role": "user", "content": "more"},
            ]
        },
        "messages[1].content[0].thinking",
    ),
}


def assert_blocked(h: Harness, message: str, secret: str, where: str) -> None:
    assert h.upstream.records == [], "nothing may reach the vendor"
    assert secret not in message and secret[4:] not in message
    assert f"pretense-dev blocked this request: {where} contains a secret (rule " in message
    assert "fingerprint" in message and "Nothing was sent" in message
    assert "start a new conversation" in message


@pytest.mark.parametrize("position", sorted(ANTHROPIC_POSITIONS))
def test_anthropic_secret_in_any_position(h: Harness, position: str) -> None:
    secret = github_token()
    build, where = ANTHROPIC_POSITIONS[position]
    with pytest.raises(anthropic.BadRequestError) as e:
        h.anthropic().messages.create(
            model="claude-test",
            max_tokens=5,
            extra_headers={"X-Claude-Code-Session-Id": f"secret-{position}"},
            **build(with_secret(secret)),
        )
    body = e.value.body
    assert isinstance(body, dict) and body["error"]["type"] == "invalid_request_error"
    assert_blocked(h, body["error"]["message"], secret, where)
    ev = h.sink.event_for(f"secret-{position}")
    assert ev.decision == "blocked" and ev.secrets and ev.secrets[0].where == where
    assert ev.secrets[0].fingerprint and secret not in json.dumps(ev.to_dict())


OPENAI_POSITIONS: dict[str, tuple[str, Build, str]] = {
    "chat system": (
        "chat",
        lambda t: {"messages": [{"role": "system", "content": t}]},
        "messages[0].content",
    ),
    "chat user part": (
        "chat",
        lambda t: {"messages": [{"role": "user", "content": [{"type": "text", "text": t}]}]},
        "messages[0].content[0]",
    ),
    "chat tool message": (
        "chat",
        lambda t: {
            "messages": [
                {"role": "user", "content": "x"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c", "content": t},
            ]
        },
        "messages[2].content",
    ),
    "chat tool_call arguments": (
        "chat",
        lambda t: {
            "messages": [
                {"role": "user", "content": "x"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": "sh", "arguments": json.dumps({"cmd": t})},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c", "content": "ok"},
            ]
        },
        "messages[1].tool_calls[0] (sh)",
    ),
    "responses input": ("responses", lambda t: {"input": t}, "input"),
    "responses instructions": (
        "responses",
        lambda t: {"instructions": t, "input": "hi"},
        "instructions",
    ),
    "responses function output": (
        "responses",
        lambda t: {"input": [{"type": "function_call_output", "call_id": "c", "output": t}]},
        "input[0].output",
    ),
}


@pytest.mark.parametrize("position", sorted(OPENAI_POSITIONS))
def test_openai_secret_in_any_position(h: Harness, position: str) -> None:
    secret = github_token()
    api, build, where = OPENAI_POSITIONS[position]
    client = h.openai()
    with pytest.raises(openai.BadRequestError) as e:
        if api == "chat":
            client.chat.completions.create(model="gpt-test", **build(with_secret(secret)))
        else:
            client.responses.create(model="gpt-test", **build(with_secret(secret)))
    body = e.value.body
    assert isinstance(body, dict)
    assert body["code"] == "pretense_secret_detected"
    assert_blocked(h, body["message"], secret, where)


def test_secret_after_a_clean_cached_history_is_blocked(h: Harness) -> None:
    client = h.anthropic()
    conv: list[dict[str, Any]] = [{"role": "user", "content": "explain reconcile_batch " * 10}]
    client.messages.create(model="m", max_tokens=5, messages=conv)  # type: ignore[arg-type]
    h.upstream.records.clear()
    secret = github_token()
    conv += [
        {"role": "assistant", "content": "sure"},
        {"role": "user", "content": with_secret(secret)},
    ]
    for _ in range(2):  # blocked leaves are never cached as clean: blocked again
        with pytest.raises(anthropic.BadRequestError):
            client.messages.create(model="m", max_tokens=5, messages=conv)  # type: ignore[arg-type]
    assert h.upstream.records == []
