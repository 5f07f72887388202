"""The audit names the real client from what it sends, as captured from each real CLI."""

from __future__ import annotations

import pytest

from pretense_dev.proxy.server import tool_of

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
# llm 0.36 sends only the OpenAI SDK's headers: nothing names it, so it is "sdk".
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
