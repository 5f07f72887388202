"""`pretense-dev hook`: each tool's documented stdin in, each tool's own answer out.

Payloads are the documented shapes
(https://docs.anthropic.com/en/docs/claude-code/hooks, https://cursor.com/docs/agent/hooks,
https://docs.github.com/en/copilot).  Every call runs the real console entry in a
fresh process, as the tools do; stdout must parse as the tool's JSON (or be empty), and the
line for people must be on stderr (stdout is the tool's protocol).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from pretense_dev.audit.store import AuditStore
from pretense_dev.lifecycle import init_repo
from pretense_dev.secrets.samples import generate
from tests.conftest import Result, run_cli
from tests.integrations.conftest import commit_with_secrets

RNG = random.Random(6)
PROXY_DOWN = "pretense-dev: pretense proxy is not running: run `pretense-dev proxy start`"


def token() -> str:
    """A GitHub token built at run time (never committed as a literal)."""
    return generate("gh" + "p_{b62:30}{ghcrc}", RNG)


@pytest.fixture
def repo(git_repo: Path) -> Path:
    commit_with_secrets(git_repo, token)
    init_repo(git_repo, tools=("claude-code", "cursor", "copilot"))
    return git_repo


def hook(repo: Path, tool: str, event: str, payload: dict[str, Any]) -> Result:
    return run_cli("hook", tool, event, cwd=repo, stdin=json.dumps(payload))


def out_json(r: Result) -> Any:
    return json.loads(r.out) if r.out.strip() else None


def claude(event: str, repo: Path, **extra: Any) -> dict[str, Any]:
    return {
        "session_id": "68082d82-aaaa-bbbb-cccc-000000000001",
        "transcript_path": "/tmp/t.jsonl",
        "cwd": str(repo),
        "hook_event_name": event,
        **extra,
    }


def cursor(event: str, repo: Path, **extra: Any) -> dict[str, Any]:
    return {
        "conversation_id": "conv-123",
        "generation_id": "gen-456",
        "model": "gpt-4",
        "hook_event_name": event,
        "cursor_version": "2.0.77",
        "workspace_roots": [str(repo)],
        "user_email": None,
        "transcript_path": None,
        **extra,
    }


def vscode(event: str, repo: Path, **extra: Any) -> dict[str, Any]:
    return {
        "timestamp": "2026-11-25T10:00:00.000Z",
        "cwd": str(repo),
        "sessionId": "vs-1",
        "hookEventName": event,
        "transcript_path": "/tmp/vs.jsonl",
        **extra,
    }


def audit_rows() -> list[Any]:
    with AuditStore.open_readonly() as store:
        return [s.event for s in store.events()]


# -- Claude Code -----------------------------------------------------------------------------


def test_claude_prompt_with_the_proxy_down_is_blocked_in_claudes_format(repo: Path) -> None:
    r = hook(
        repo,
        "claude-code",
        "UserPromptSubmit",
        claude(
            "UserPromptSubmit",
            repo,
            prompt="fix reconcile_invoices",
            prompt_id="p1",
            permission_mode="default",
        ),
    )
    assert r.code == 0  # Claude Code reads the JSON; exit 2 would echo the prompt back
    assert out_json(r) == {"decision": "block", "reason": PROXY_DOWN}
    assert r.err.strip() == PROXY_DOWN
    (row,) = audit_rows()
    assert (row.event, row.decision, row.tool) == ("prompt_blocked", "blocked", "claude-code")
    assert row.session_id == "68082d82-aaaa-bbbb-cccc-000000000001"
    assert "reconcile_invoices" not in json.dumps(row.to_dict())  # no prompt text in the log


def test_claude_session_start_cannot_block_so_it_warns(repo: Path) -> None:
    r = hook(repo, "claude-code", "SessionStart", claude("SessionStart", repo, source="startup"))
    assert r.code == 0
    assert out_json(r) == {"systemMessage": PROXY_DOWN}
    (row,) = audit_rows()
    assert (row.event, row.decision) == ("proxy_down", "allowed")


def test_claude_read_of_a_secret_file_is_denied_with_the_file_and_the_fix(repo: Path) -> None:
    payload = claude(
        "PreToolUse",
        repo,
        tool_name="Read",
        tool_use_id="toolu_1",
        tool_input={"file_path": str(repo / "config/settings.py")},
    )
    r = hook(repo, "claude-code", "PreToolUse", payload)
    assert r.code == 0
    out = out_json(r)["hookSpecificOutput"]
    assert out["hookEventName"] == "PreToolUse" and out["permissionDecision"] == "deny"
    reason = out["permissionDecisionReason"]
    assert reason.startswith(
        "pretense-dev: config/settings.py holds a secret (github-pat on line 1"
    )
    assert "`pretense: allow`" in reason and "pretense-dev scan --update-baseline" in reason
    assert "ghp_" not in reason.replace("ghp_…", "")  # redacted form only
    (row,) = audit_rows()
    assert (row.event, row.files) == ("file_read_blocked", ("config/settings.py",))
    assert row.secrets[0].rule == "github-pat"


def test_a_git_ignored_env_file_is_scanned_on_the_spot(repo: Path) -> None:
    payload = claude("PreToolUse", repo, tool_name="Bash", tool_input={"command": "cat .env"})
    r = hook(repo, "claude-code", "PreToolUse", payload)
    assert out_json(r)["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert ".env holds a secret" in r.err


def test_an_ordinary_read_is_let_through_silently_and_logged(repo: Path) -> None:
    payload = claude(
        "PreToolUse",
        repo,
        tool_name="Read",
        tool_input={"file_path": str(repo / "billing/ledger.py")},
    )
    r = hook(repo, "claude-code", "PreToolUse", payload)
    assert (r.code, r.out, r.err) == (0, "", "")  # "allow" would skip Claude's own permissions
    (row,) = audit_rows()
    assert (row.event, row.decision, row.files) == ("tool_use", "allowed", ("billing/ledger.py",))


def test_a_file_edited_since_indexing_is_scanned_again(repo: Path) -> None:
    ledger = repo / "billing/ledger.py"
    ledger.write_text(ledger.read_text() + f"KEY = '{token()}'\n")
    payload = claude(
        "PreToolUse",
        repo,
        tool_name="Edit",
        tool_input={"file_path": str(ledger), "old_string": "a", "new_string": "b"},
    )
    r = hook(repo, "claude-code", "PreToolUse", payload)
    assert out_json(r)["hookSpecificOutput"]["permissionDecision"] == "deny"


# -- Cursor --------------------------------------------------------------------------------


def test_cursor_prompt_passes_unmutated_and_is_logged_as_such(repo: Path) -> None:
    r = hook(
        repo,
        "cursor",
        "beforeSubmitPrompt",
        cursor("beforeSubmitPrompt", repo, prompt="fix the ledger", attachments=[]),
    )
    assert (r.code, out_json(r), r.err) == (0, {"continue": True}, "")
    (row,) = audit_rows()
    assert (row.event, row.tool, row.mutation_active) == ("prompt_submitted", "cursor", False)
    assert row.session_id == "conv-123"


def test_cursor_prompt_with_a_secret_is_refused_before_it_leaves(repo: Path) -> None:
    secret = token()
    r = hook(
        repo,
        "cursor",
        "beforeSubmitPrompt",
        cursor("beforeSubmitPrompt", repo, prompt=f"use {secret} to call the API"),
    )
    assert r.code == 2
    body = out_json(r)
    assert body["continue"] is False
    assert body["user_message"].startswith("pretense-dev: the prompt holds a secret (github-pat ")
    assert secret not in r.out + r.err
    (row,) = audit_rows()
    assert row.event == "prompt_blocked" and row.secrets[0].where == "prompt"
    assert secret not in json.dumps(row.to_dict())


def test_cursor_prompt_with_a_secret_file_attached_is_refused(repo: Path) -> None:
    att = [{"type": "file", "filePath": str(repo / "config/settings.py")}]
    r = hook(
        repo,
        "cursor",
        "beforeSubmitPrompt",
        cursor("beforeSubmitPrompt", repo, prompt="look", attachments=att),
    )
    assert r.code == 2 and out_json(r)["continue"] is False
    assert "config/settings.py holds a secret" in r.err


@pytest.mark.parametrize("event", ["beforeReadFile", "beforeTabFileRead"])
def test_cursor_read_of_a_secret_file_is_denied(repo: Path, event: str) -> None:
    path = str(repo / ".env")
    r = hook(repo, "cursor", event, cursor(event, repo, file_path=path, content="(…)"))
    assert r.code == 2
    body = out_json(r)
    assert body["permission"] == "deny" and ".env holds a secret" in body["user_message"]


@pytest.mark.parametrize(
    ("tool_name", "tool_input"),
    [
        ("Read", {"target_file": ".env"}),
        ("Grep", {"pattern": "TOKEN", "path": "config/settings.py"}),
        ("Shell", {"command": "cat .env"}),
        ("MCP", json.dumps({"uri": "file://{root}/.env"})),
    ],
)
def test_cursor_pre_tool_use_naming_a_secret_file_is_denied(
    repo: Path, tool_name: str, tool_input: Any
) -> None:
    """Cursor's preToolUse covers every agent tool (MCP included), not just per-action events."""
    if isinstance(tool_input, str):
        tool_input = tool_input.replace("{root}", str(repo))
    payload = cursor(
        "preToolUse",
        repo,
        tool_name=tool_name,
        tool_input=tool_input,
        tool_use_id="t1",
        cwd=str(repo),
    )
    r = hook(repo, "cursor", "preToolUse", payload)
    assert r.code == 2
    body = out_json(r)
    assert body["decision"] == "deny" and "holds a secret" in body["reason"]
    assert r.err.count("\n") == 1 and "holds a secret" in r.err


def test_cursor_pre_tool_use_of_an_ordinary_file_is_allowed(repo: Path) -> None:
    payload = cursor(
        "preToolUse",
        repo,
        tool_name="Read",
        tool_input={"target_file": "billing/ledger.py"},
        cwd=str(repo),
    )
    r = hook(repo, "cursor", "preToolUse", payload)
    assert (r.code, out_json(r), r.err) == (0, {}, "")


def test_cursor_read_of_an_ordinary_file_is_allowed(repo: Path) -> None:
    path = str(repo / "billing/ledger.py")
    r = hook(repo, "cursor", "beforeReadFile", cursor("beforeReadFile", repo, file_path=path))
    assert (r.code, out_json(r)) == (0, {"permission": "allow"})


def test_cursor_shell_command_naming_a_secret_file_is_denied(repo: Path) -> None:
    r = hook(
        repo,
        "cursor",
        "beforeShellExecution",
        cursor("beforeShellExecution", repo, command="grep TOKEN < .env", cwd=str(repo)),
    )
    assert r.code == 2 and out_json(r)["permission"] == "deny"


def test_cursor_is_refused_when_the_policy_does_not_approve_it(repo: Path) -> None:
    cfg = repo / ".pretense/config.toml"
    cfg.write_text(
        cfg.read_text().replace(
            'approved = ["claude-code", "cursor", "copilot", "codex", "aider", "gemini-cli"]',
            'approved = ["claude-code"]',
        )
    )
    r = hook(
        repo,
        "cursor",
        "sessionStart",
        cursor("sessionStart", repo, session_id="conv-123", is_background_agent=False),
    )
    assert r.code == 2
    assert out_json(r) == {
        "continue": False,
        "user_message": "pretense-dev: cursor is not approved for this repository "
        '(.pretense/config.toml tools.approved): ask your team to add "cursor" there',
    }


def test_cursor_running_claude_format_hooks_is_answered_as_cursor(repo: Path) -> None:
    """Cursor's third-party hooks run `.claude/settings.json` commands with its own stdin."""
    r = hook(
        repo, "claude-code", "UserPromptSubmit", cursor("beforeSubmitPrompt", repo, prompt="hello")
    )
    assert (r.code, out_json(r)) == (0, {"continue": True})  # Cursor is not asked for the proxy


# -- VS Code (Copilot agent hooks) and the Copilot CLI ---------------------------------------


def test_vscode_prompt_with_the_proxy_down_is_stopped(repo: Path) -> None:
    r = hook(
        repo, "claude-code", "UserPromptSubmit", vscode("UserPromptSubmit", repo, prompt="refactor")
    )
    assert r.code == 2
    assert out_json(r) == {"continue": False, "stopReason": PROXY_DOWN, "systemMessage": PROXY_DOWN}
    (row,) = audit_rows()
    assert row.tool == "copilot"


def test_vscode_tool_reading_a_secret_file_is_denied(repo: Path) -> None:
    payload = vscode(
        "PreToolUse",
        repo,
        tool_name="readFile",
        tool_use_id="t1",
        tool_input={"filePath": str(repo / ".env")},
    )
    r = hook(repo, "copilot", "preToolUse", payload)
    assert r.code == 0
    assert out_json(r)["hookSpecificOutput"]["permissionDecision"] == "deny"


def test_copilot_cli_tool_args_as_a_json_string_are_understood(repo: Path) -> None:
    payload = {
        "timestamp": 1,
        "cwd": str(repo),
        "toolName": "view",
        "toolArgs": json.dumps({"path": ".env"}),
    }
    r = hook(repo, "copilot", "preToolUse", payload)
    assert r.code == 0
    assert out_json(r)["permissionDecision"] == "deny"


def test_copilot_cli_prompt_cannot_be_refused_so_it_warns(repo: Path) -> None:
    r = hook(
        repo, "copilot", "userPromptSubmitted", {"timestamp": 1, "cwd": str(repo), "prompt": "hi"}
    )
    assert (r.code, r.out) == (0, "")
    assert (
        r.err.strip()
        == f"{PROXY_DOWN} (the Copilot CLI cannot refuse it: use `pretense-dev copilot`)"
    )


# -- failing closed ------------------------------------------------------------------------------


def test_a_repo_that_is_not_initialised_is_refused(git_repo: Path) -> None:
    r = hook(
        git_repo,
        "claude-code",
        "UserPromptSubmit",
        claude("UserPromptSubmit", git_repo, prompt="hi"),
    )
    assert out_json(r) == {
        "decision": "block",
        "reason": f"pretense-dev: {git_repo} is not set up for pretense-dev: "
        "run `pretense-dev init`",
    }


def test_a_hook_that_cannot_decide_blocks(repo: Path) -> None:
    (repo / ".pretense/config.toml").write_text("version = 1\n[tools]\napproved = 3\n")
    r = hook(repo, "cursor", "beforeSubmitPrompt", cursor("beforeSubmitPrompt", repo, prompt="x"))
    assert r.code == 2 and out_json(r)["continue"] is False
    assert "the hook could not check this (" in r.err
    assert "tools.approved: must be a list" in r.err


@pytest.mark.parametrize("tool", ["claude-code", "cursor", "copilot"])
def test_an_event_the_hook_does_not_know_is_refused_not_allowed(repo: Path, tool: str) -> None:
    r = hook(repo, tool, "PostToolUseV9", claude("PostToolUseV9", repo, prompt="hi"))
    assert (r.code, r.out) == (2, "")
    assert r.err.splitlines() == [
        "pretense-dev: 'PostToolUseV9' is not a hook event pretense-dev gates, so it was refused"
        " — remove it from the tool's hook settings, or run `pretense-dev init` to rewrite them"
    ]


def test_a_payload_naming_an_unknown_event_is_gated_as_the_registered_one(repo: Path) -> None:
    # The command line says PreToolUse (what `init` registered); a payload that
    # names an event we do not know must not turn the gate into "allow".
    payload = claude(
        "PreToolUseRenamed",
        repo,
        tool_name="Read",
        tool_use_id="toolu_1",
        tool_input={"file_path": str(repo / "config/settings.py")},
    )
    r = hook(repo, "claude-code", "PreToolUse", payload)
    out = out_json(r)["hookSpecificOutput"]
    assert out["permissionDecision"] == "deny"
    assert out["permissionDecisionReason"].startswith(
        "pretense-dev: config/settings.py holds a secret (github-pat on line 1"
    )


def test_input_that_is_not_json_blocks_with_exit_2(repo: Path) -> None:
    r = run_cli("hook", "claude-code", "UserPromptSubmit", cwd=repo, stdin="not json")
    assert (r.code, r.out) == (2, "")
    assert r.err.strip() == "pretense-dev: the hook's input is not JSON"


def test_the_start_probe_answers_only_a_payload_with_nothing_else_in_it(repo: Path) -> None:
    """`doctor`'s probe skips the decision; a real call that carries the key is still decided."""
    r = hook(repo, "claude-code", "UserPromptSubmit", {"pretense_start_probe": True})
    assert (r.code, r.out, r.err) == (0, '{"pretense_dev": "started"}\n', "")
    sneaky = claude("UserPromptSubmit", repo, prompt=f"use {token()}", pretense_start_probe=True)
    r = hook(repo, "claude-code", "UserPromptSubmit", sneaky)
    assert out_json(r)["decision"] == "block"
    assert [row.event for row in audit_rows()] == ["prompt_blocked"]  # the probe left none
