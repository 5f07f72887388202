"""Tool dialects: who is calling a tool hook, and the answer in that tool's own format.

Three tools can call the same command with three stdin shapes: Claude Code
(``hook_event_name``, ``session_id``), VS Code's agent hooks — Copilot — which
also load ``.claude/settings.json`` (``hookEventName``, ``sessionId``), and
Cursor, which runs its own hooks and, with "third-party skills" on, Claude
Code's (``conversation_id``, ``cursor_version``, ``workspace_roots``, camelCase
event names).  The Copilot CLI sends camelCase fields without an event name.
So the caller is recognised from stdin, not from the command line, and the
answer is given in the caller's own format:

==============  =========================================  ===========================
caller          block a prompt / session                   deny a file read
==============  =========================================  ===========================
Claude Code     exit 0, ``{"decision":"block","reason"}``  exit 0, ``hookSpecificOutput``
                (SessionStart cannot block: a warning)     ``permissionDecision: deny``
VS Code         exit 2, ``{"continue":false,…}``           exit 0, ``hookSpecificOutput``
Cursor          exit 2, ``{"continue":false,               exit 2, ``{"permission":
                "user_message"}``                          "deny", "user_message"}``
Copilot CLI     cannot block a prompt: a warning           exit 0, ``permissionDecision``
==============  =========================================  ===========================

Claude Code gets JSON with exit 0 rather than exit 2 because its exit-2 text
repeats the whole original prompt into the session's result — with the secret
we just refused in it.  Elsewhere exit 2 is the block every version honours
(Cursor and VS Code fail open on other codes), with the JSON alongside for the
message.  stdout carries only that JSON; the line for people goes to stderr,
so stdout stays data.  An allowed tool call prints nothing: answering "allow"
would skip the tool's own permission prompt.  The tools' documented formats:
https://code.claude.com/docs/en/hooks, https://cursor.com/docs/agent/hooks,
https://code.visualstudio.com/docs/copilot/customization/hooks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pretense_dev.errors import EXIT_OK, EXIT_USAGE, PretenseError

if TYPE_CHECKING:
    from pretense_dev.audit.events import SecretRef
    from pretense_dev.repo import Repo

CLAUDE = "claude-code"
VSCODE = "vscode"
CURSOR = "cursor"
COPILOT_CLI = "copilot-cli"
TOOL_OF = {CLAUDE: "claude-code", VSCODE: "copilot", CURSOR: "cursor", COPILOT_CLI: "copilot"}
ROUTED = {CLAUDE, VSCODE, COPILOT_CLI}  # their model traffic goes through the proxy

# what an event is about
SESSION, PROMPT, TOOL, READ, SHELL, OTHER = "session", "prompt", "tool", "read", "shell", "other"
KINDS = {
    "SessionStart": SESSION,
    "sessionStart": SESSION,
    "UserPromptSubmit": PROMPT,
    "userPromptSubmit": PROMPT,
    "userPromptSubmitted": PROMPT,
    "beforeSubmitPrompt": PROMPT,
    "PreToolUse": TOOL,
    "preToolUse": TOOL,
    "beforeReadFile": READ,
    "beforeTabFileRead": READ,
    "beforeShellExecution": SHELL,
}
BLOCKING = {PROMPT, TOOL, READ, SHELL}
# Where tools put file paths in a tool call's input, and shell commands.
PATH_KEYS = ("file_path", "filePath", "path", "notebook_path", "target_file", "file", "uri")
LIST_KEYS = ("filePaths", "paths", "files")
COMMAND_KEYS = ("command", "cmd", "commandLine")
SCAN_LIMIT = 4_000_000  # bytes: a larger file is not scanned on the spot (the proxy still is)


class ToolHookUsageError(PretenseError):
    """The hook was called with arguments or input it cannot understand."""

    exit_code = EXIT_USAGE


@dataclass
class ToolHookCall:
    """One hook call, whoever made it."""

    caller: str
    event: str  # the caller's own event name
    kind: str
    payload: dict[str, Any]
    session_id: str
    cwd: Path

    @property
    def tool(self) -> str:
        """The audit log's tool name."""
        return TOOL_OF[self.caller]


@dataclass
class Decision:
    """What to answer, and what to log."""

    block: bool = False
    reason: str = ""  # one line for people (and for the model, where the tool shows it)
    event: str = ""  # audit event type
    files: tuple[str, ...] = ()
    secrets: tuple[SecretRef, ...] = ()
    mutation_active: bool = False
    request_bytes: int = 0
    warn: bool = False  # a failed gate the caller cannot block on (said, logged, not blocked)
    repo: Repo | None = field(default=None, repr=False)


# -- reading the call ---------------------------------------------------------------------


def read_input(
    argv: list[str], raw: bytes, environ: dict[str, str], cwd: Path | None = None
) -> ToolHookCall:
    """Parse `hook <tool> <event>` and the JSON on stdin.

    `environ` and `cwd` are the hook process's (the proxy daemon decides for a
    hook process whose directory is not its own); `cwd` defaults to this one's.
    """
    if len(argv) != 2:
        raise ToolHookUsageError(
            "usage: pretense-dev hook <tool> <event>", "the tools' settings write this for you"
        )
    tool, event = argv
    if tool not in ("claude-code", "cursor", "copilot"):
        raise ToolHookUsageError(f"unknown tool {tool!r}", "use claude-code, cursor or copilot")
    try:
        payload = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError):
        raise ToolHookUsageError("the hook's input is not JSON") from None
    if not isinstance(payload, dict):
        raise ToolHookUsageError("the hook's input is not a JSON object")
    caller = detect_caller(payload, tool)
    event = str(payload.get("hook_event_name") or payload.get("hookEventName") or event)
    session = (
        payload.get("session_id")
        or payload.get("sessionId")
        or payload.get("conversation_id")
        or environ.get("CLAUDE_CODE_SESSION_ID")
        or ""
    )
    # The payload names the event; where it names one we do not know, the command
    # line's (what `init` registered) still decides what is gated.  An event known
    # to neither is refused: a gate that does not know what it is asked must not
    # answer "allow" (the settings `init` writes register only known events).
    kind = KINDS.get(event) or KINDS.get(argv[1])
    if kind is None:
        raise ToolHookUsageError(
            f"{event!r} is not a hook event pretense-dev gates, so it was refused",
            "remove it from the tool's hook settings, or run `pretense-dev init` to rewrite them",
        )
    return ToolHookCall(caller, event, kind, payload, str(session), _cwd(payload, environ, cwd))


def detect_caller(payload: dict[str, Any], tool: str) -> str:
    """Which tool is calling, from the shape of its input."""
    if any(k in payload for k in ("cursor_version", "conversation_id", "workspace_roots")):
        return CURSOR
    if "hookEventName" in payload:
        return VSCODE
    if "hook_event_name" in payload:
        name = str(payload["hook_event_name"])
        return CURSOR if name[:1].islower() else CLAUDE
    return {"claude-code": CLAUDE, "cursor": CURSOR, "copilot": COPILOT_CLI}[tool]


def _cwd(payload: dict[str, Any], environ: dict[str, str], cwd: Path | None) -> Path:
    roots = payload.get("workspace_roots")
    for candidate in (
        payload.get("cwd"),
        roots[0] if isinstance(roots, list) and roots else None,
        environ.get("CLAUDE_PROJECT_DIR"),
        environ.get("CURSOR_PROJECT_DIR"),
    ):
        if isinstance(candidate, str) and candidate:
            path = Path(candidate)
            return path if cwd is None or path.is_absolute() else cwd / path
    return Path.cwd() if cwd is None else cwd


# -- answering ----------------------------------------------------------------------------


def respond(inp: ToolHookCall, d: Decision) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) in the caller's own format."""
    line = f"pretense-dev: {d.reason}" if d.reason else ""
    if not d.block:
        if inp.caller == CURSOR:
            allow: dict[str, dict[str, Any]] = {
                PROMPT: {"continue": True},
                SESSION: {"continue": True},
                READ: {"permission": "allow"},
            }
            return EXIT_OK, json.dumps(allow.get(inp.kind, {})), ""
        return EXIT_OK, "", ""
    if inp.caller == CLAUDE:
        if inp.kind == PROMPT:
            return EXIT_OK, json.dumps({"decision": "block", "reason": line}), line
        if inp.kind == TOOL:
            return EXIT_OK, json.dumps(_pre_tool_deny(line)), line
        # SessionStart cannot block in Claude Code: say it; the prompt gate will refuse.
        d.warn = True
        return EXIT_OK, json.dumps({"systemMessage": line}), line
    if inp.caller == VSCODE:
        if inp.kind == TOOL:
            return EXIT_OK, json.dumps(_pre_tool_deny(line)), line
        return 2, json.dumps({"continue": False, "stopReason": line, "systemMessage": line}), line
    if inp.caller == CURSOR:
        if inp.kind in (PROMPT, SESSION):
            body: dict[str, Any] = {"continue": False, "user_message": line}
        elif inp.kind == TOOL:
            body = {"decision": "deny", "reason": line}
        else:
            body = {"permission": "deny", "user_message": line, "agent_message": line}
        return 2, json.dumps(body), line
    # Copilot CLI: only preToolUse can deny; a prompt or session cannot be refused.
    if inp.kind == TOOL:
        body = {"permissionDecision": "deny", "permissionDecisionReason": line}
        return EXIT_OK, json.dumps(body), line
    d.warn = True
    return EXIT_OK, "", f"{line} (the Copilot CLI cannot refuse it: use `pretense-dev copilot`)"


def _pre_tool_deny(line: str) -> dict[str, Any]:
    return {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": line,
        }
    }
