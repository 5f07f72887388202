"""The audit names the real client from what it sends, as captured from each real CLI."""

from __future__ import annotations

import json

import openai
import pytest

from pretense_dev.audit.events import BLOCKED, FORWARDED
from pretense_dev.proxy.replay import Answer
from pretense_dev.proxy.server import client_tag, tool_of
from tests.proxy.conftest import REPO_ID, Harness

# Headers as the real CLIs sent them to a loopback server (values trimmed to what matters).
CODEX_EXEC = {
    "originator": "codex_exec",
    "User-Agent": "codex_exec/0.171.0 (Debian 12.0.0; x86_64) xterm (codex_exec; 0.171.0)",
}
AIDER = {  # aider 0.86.2 → litellm → the OpenAI SDK
    "User-Agent": "OpenAI/Python 2.20.0",
    "X-Stainless-Lang": "python",
    "X-Stainless-Raw-Response": "true",
}
COPILOT_CLI = {  # Copilot CLI 1.0.102 with COPILOT_PROVIDER_BASE_URL (bring your own key)
    "User-Agent": "OpenAI/JS 5.20.1",
    "x-stainless-lang": "js",
    "x-interaction-type": "conversation-user",
    "x-initiator": "user",
}
# llm 0.36 sends only the OpenAI SDK's headers: nothing in them names it ("sdk");
# the tag in the base URL `pretense-dev env llm` gives it does (below).
LLM = {"User-Agent": "OpenAI/Python 3.60.0", "x-stainless-lang": "python"}
OPENAI_SDK = {"User-Agent": "OpenAI/Python 2.20.0", "X-Stainless-Lang": "python"}


@pytest.mark.parametrize(
    ("headers", "tool"),
    [
        (CODEX_EXEC, "codex"),
        ({"User-Agent": "codex_cli_rs/0.171.0 (Mac OS 15.1; arm64)"}, "codex"),
        ({"originator": "codex_vscode", "User-Agent": "reqwest"}, "codex"),
        (AIDER, "litellm"),
        ({**AIDER, "X-Title": "Aider"}, "aider"),  # the header init has aider add
        (COPILOT_CLI, "copilot"),
        ({"User-Agent": "OpenAI/JS 5.20.1", "x-stainless-lang": "js"}, "sdk"),
        (OPENAI_SDK, "sdk"),
        (LLM, "sdk"),
        ({"User-Agent": "claude-cli/2.1.331 (external, sdk-cli)"}, "claude-code"),
        ({"User-Agent": "GeminiCLI-tui/0.61.0/gemini-2.5-pro (linux; x64)"}, "gemini-cli"),
        ({"User-Agent": "curl/8.5.0"}, ""),
    ],
)
def test_the_client_is_named_from_its_headers(headers: dict[str, str], tool: str) -> None:
    assert tool_of(headers.get("User-Agent", ""), headers) == tool


# -- a client named by its base URL (`pretense-dev env llm`) --------------------------


@pytest.mark.parametrize(
    ("tail", "split"),
    [
        ("t/llm/v1/chat/completions", ("llm", "v1/chat/completions")),
        ("t/llm/", ("llm", "")),
        ("t/llm", ("", "t/llm")),  # no path after it: not a tag
        ("t/curl/v1/chat/completions", ("", "t/curl/v1/chat/completions")),  # unknown tag
        ("t/LLM/v1/responses", ("", "t/LLM/v1/responses")),
        ("t/%6clm/v1/responses", ("", "t/%6clm/v1/responses")),  # encoded: not a tag
        ("v1/t/llm/chat/completions", ("", "v1/t/llm/chat/completions")),
    ],
)
def test_only_a_known_tag_is_split_off(tail: str, split: tuple[str, str]) -> None:
    assert client_tag(tail) == split


def test_a_tagged_base_url_names_the_client_and_the_vendor_never_sees_the_tag(
    h: Harness,
) -> None:
    """`llm`'s requests (the OpenAI SDK's headers only) are audited as `llm`."""
    client = openai.OpenAI(
        base_url=f"{h.base}/t/llm/v1",
        api_key="sk-test-key",
        max_retries=0,
        default_headers={"X-Claude-Code-Session-Id": "tag-llm"},
    )
    h.answer = Answer(text="ok")
    out = client.chat.completions.create(
        model="gpt-4.1", messages=[{"role": "user", "content": "about LedgerReconciler"}]
    )
    assert out.choices[0].message.content == "ok"
    assert [r.path for r in h.upstream.records] == ["/v1/chat/completions"]
    event = h.sink.event_for("tag-llm")
    assert (event.tool, event.endpoint) == ("llm", "/v1/chat/completions")
    assert event.decision == FORWARDED


def test_a_client_that_names_itself_keeps_its_name_under_a_tag(h: Harness) -> None:
    headers = {**CODEX_EXEC, "X-Claude-Code-Session-Id": "tag-codex"}
    status, _, _ = h.raw(
        f"/r/{REPO_ID}/t/llm/v1/responses",
        json.dumps({"model": "gpt-4.1", "input": "hi"}).encode(),
        headers=headers,
    )
    assert status == 200
    assert h.sink.event_for("tag-codex").tool == "codex"


@pytest.mark.parametrize(
    "path",
    [
        "t/curl/v1/chat/completions",  # not a known tag
        "t/llm/t/llm/v1/chat/completions",  # one tag only
        "t/%6clm/v1/chat/completions",
        "t/llm/r/0000000000000000/v1/chat/completions",  # no second repository
    ],
)
def test_anything_else_under_t_is_refused_like_an_unknown_path(h: Harness, path: str) -> None:
    body = json.dumps({"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}]})
    status, headers, data = h.raw(
        f"/r/{REPO_ID}/{path}", body.encode(), headers={"X-Claude-Code-Session-Id": path}
    )
    assert status == 404, data
    assert headers["x-pretense-decision"] == BLOCKED
    assert b"does not proxy" in data
    assert h.upstream.records == []
    assert h.sink.event_for(path).decision == BLOCKED
