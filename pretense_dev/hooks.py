"""`pretense-dev hook <tool> <event>`: one entry point for every tool's hooks.

Three tools can call the same command with three stdin shapes
(reference/claude-code.md §9): Claude Code (``hook_event_name``,
``session_id``), VS Code's agent hooks — Copilot — which also load
``.claude/settings.json`` (``hookEventName``, ``sessionId``), and Cursor, which
runs its own hooks and, with "third-party skills" on, Claude Code's
(``conversation_id``, ``cursor_version``, ``workspace_roots``, camelCase event
names).  The Copilot CLI sends camelCase fields without an event name.  So the
caller is recognised from stdin, not from the command line, and the answer is
given in the caller's own format:

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
message.  stdout carries only that JSON; the line for people goes to stderr
(STYLE 3).  An allowed tool call prints nothing: answering "allow" would skip
the tool's own permission prompt.

What is decided (DESIGN: verify before a session; issue 6):

* session start and every prompt: the repository must be initialised and the
  tool approved by the policy (``tools.approved``); a tool routed through the
  proxy (Claude Code, Copilot) must pass `verify` — proxy up, a pretense
  proxy, this repo's current map (canary), this tool's settings still pointing
  at it.  Cursor is not routed, so it is not asked for the proxy;
* every prompt is scanned for secrets (and, for Cursor, its attached files);
* a tool call that names a file holding a secret is denied: the secret index
  answers for indexed files whose size and mtime still match; any other file
  (git-ignored ``.env``, a key outside the repository, a file edited since)
  is scanned on the spot;
* every hook event is written to the audit log (no prompt text, no secret value).

Failures fail closed: a hook that crashes on a blocking event blocks it, with
the log file named.  A hook that cannot write the audit log says so on stderr
and keeps its decision (the log is evidence, not a gate).

Start-up cost is the figure that matters, since every call is a fresh process
(bench/hooks.py): the console script (`entry`) hands ``hook`` here without
importing click; the proxy is reached with a raw loopback request
(`loopback`), the index with plain SQLite; the secret detector is imported
only for a prompt or a file that must be scanned; nothing heavy is imported on
this path (tests/integrations/test_import_cost.py).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pretense_dev.errors import EXIT_OK, EXIT_USAGE, PretenseError

if TYPE_CHECKING:
    from pretense_dev.audit.events import SecretRef
    from pretense_dev.repo import Repo

# callers (dialects)
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


class HookUsageError(PretenseError):
    """The hook was called with arguments or input it cannot understand."""

    exit_code = EXIT_USAGE


@dataclass
class HookInput:
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


def read_input(argv: list[str], raw: bytes, environ: dict[str, str]) -> HookInput:
    """Parse `hook <tool> <event>` and the JSON on stdin."""
    if len(argv) != 2:
        raise HookUsageError(
            "usage: pretense-dev hook <tool> <event>", "the tools' settings write this for you"
        )
    tool, event = argv
    if tool not in ("claude-code", "cursor", "copilot"):
        raise HookUsageError(f"unknown tool {tool!r}", "use claude-code, cursor or copilot")
    try:
        payload = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError):
        raise HookUsageError("the hook's input is not JSON") from None
    if not isinstance(payload, dict):
        raise HookUsageError("the hook's input is not a JSON object")
    caller = detect_caller(payload, tool)
    event = str(payload.get("hook_event_name") or payload.get("hookEventName") or event)
    session = (
        payload.get("session_id")
        or payload.get("sessionId")
        or payload.get("conversation_id")
        or environ.get("CLAUDE_CODE_SESSION_ID")
        or ""
    )
    return HookInput(
        caller, event, KINDS.get(event, OTHER), payload, str(session), _cwd(payload, environ)
    )


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


def _cwd(payload: dict[str, Any], environ: dict[str, str]) -> Path:
    roots = payload.get("workspace_roots")
    for candidate in (
        payload.get("cwd"),
        roots[0] if isinstance(roots, list) and roots else None,
        environ.get("CLAUDE_PROJECT_DIR"),
        environ.get("CURSOR_PROJECT_DIR"),
    ):
        if isinstance(candidate, str) and candidate:
            return Path(candidate)
    return Path.cwd()


# -- deciding -----------------------------------------------------------------------------


def decide(inp: HookInput) -> Decision:
    """The decision for one hook call (may raise: the caller fails closed)."""
    from pretense_dev.audit import events as ev
    from pretense_dev.repo import Repo

    try:
        repo = Repo.discover(inp.cwd)
    except PretenseError:
        if inp.kind in BLOCKING or inp.kind == SESSION:
            return Decision(
                True,
                f"{inp.cwd} is not inside a git repository, so pretense-dev cannot protect it",
                ev.PROMPT_BLOCKED if inp.kind == PROMPT else ev.SESSION_STARTED,
            )
        return Decision(event="")
    if inp.kind in (SESSION, PROMPT):
        d = _gate(inp, repo)
        if d is None and inp.kind == PROMPT:
            d = _scan_prompt(inp, repo)
        if d is None:
            prompt = inp.payload.get("prompt")
            size = len(prompt.encode("utf-8", "replace")) if isinstance(prompt, str) else 0
            d = Decision(
                event=ev.SESSION_STARTED if inp.kind == SESSION else ev.PROMPT_SUBMITTED,
                mutation_active=inp.caller in ROUTED,
                request_bytes=size,
                reason="" if inp.caller in ROUTED else "Cursor: sent unmutated (cannot be routed)",
            )
        d.repo = repo
        return d
    if inp.kind in (TOOL, READ, SHELL):
        d = _check_files(inp, repo)
        d.repo = repo
        return d
    return Decision(event=ev.TOOL_USE, repo=repo)


def _gate(inp: HookInput, repo: Repo) -> Decision | None:
    """Initialised, approved, and (for routed tools) verified; None if all holds."""
    from pretense_dev.audit import events as ev

    blocked = ev.PROMPT_BLOCKED if inp.kind == PROMPT else ev.SESSION_STARTED
    if not repo.is_initialised():
        return Decision(
            True,
            f"{repo.root} is not set up for pretense-dev: run `pretense-dev init`",
            blocked,
        )
    approved = repo.config.tools.approved
    if inp.tool not in approved:
        return Decision(
            True,
            f"{inp.tool} is not approved for this repository (.pretense/config.toml "
            f'tools.approved): ask your team to add "{inp.tool}" there',
            blocked,
        )
    if inp.caller not in ROUTED:
        return None
    from pretense_dev.verify import run as run_verify

    result = run_verify(repo, tools=(inp.tool,), probe=True)
    if result.ok:
        return None
    first = result.failures[0]
    kind = ev.PROXY_DOWN if first.name in ("proxy", "canary") else ev.DRIFT_DETECTED
    return Decision(True, first.line(), blocked if inp.kind == PROMPT else kind)


def _scan_prompt(inp: HookInput, repo: Repo) -> Decision | None:
    from pretense_dev.audit import events as ev

    prompt = inp.payload.get("prompt")
    if isinstance(prompt, str) and prompt:
        found = _detector(repo).scan_text(prompt)
        if found:
            f = found[0]
            more = f" and {len(found) - 1} more" if len(found) > 1 else ""
            return Decision(
                True,
                f"the prompt holds a secret ({f.rule} {f.redacted}{more}); remove it and send "
                "again — nothing was sent",
                ev.PROMPT_BLOCKED,
                secrets=tuple(ev.SecretRef(x.rule, x.fingerprint, "prompt") for x in found),
            )
    # Cursor: files attached to the prompt go out with it.
    attachments = inp.payload.get("attachments")
    if isinstance(attachments, list):
        paths = [
            a.get("filePath") or a.get("file_path")
            for a in attachments
            if isinstance(a, dict) and a.get("type", "file") == "file"
        ]
        d = _deny_secret_files(inp, repo, [p for p in paths if isinstance(p, str)])
        if d is not None:
            d.event = ev.PROMPT_BLOCKED
            return d
    return None


def _check_files(inp: HookInput, repo: Repo) -> Decision:
    from pretense_dev.audit import events as ev

    candidates = list(_paths_in(inp))
    d = _deny_secret_files(inp, repo, candidates)
    if d is not None:
        return d
    files = tuple(sorted({_display(repo, p) for p in _existing(inp, candidates)}))
    return Decision(event=ev.TOOL_USE, files=files)


def _paths_in(inp: HookInput) -> list[str]:
    """Strings in the tool call that may name files."""
    p = inp.payload
    out: list[str] = []
    if inp.kind == READ:
        if isinstance(p.get("file_path"), str):
            out.append(p["file_path"])
        return out
    if inp.kind == SHELL:
        return _command_words(p.get("command"))
    tool_input: Any = p.get("tool_input", p.get("toolArgs", p.get("toolInput")))
    if isinstance(tool_input, str):  # the Copilot CLI and Cursor's MCP send JSON strings
        try:
            tool_input = json.loads(tool_input)
        except ValueError:
            return out
    _walk(tool_input, out, 0)
    return out


def _walk(value: Any, out: list[str], depth: int) -> None:
    if depth > 6 or not isinstance(value, dict):
        return
    for k, v in value.items():
        if k in PATH_KEYS and isinstance(v, str):
            out.append(v.removeprefix("file://"))
        elif k in LIST_KEYS and isinstance(v, list):
            out.extend(x for x in v if isinstance(x, str))
        elif k in COMMAND_KEYS:
            out.extend(_command_words(v))
        elif isinstance(v, dict):
            _walk(v, out, depth + 1)
        elif isinstance(v, list):
            for item in v:
                _walk(item, out, depth + 1)


def _command_words(command: object) -> list[str]:
    """Words of a shell command that could be paths (`cat .env`, `grep x <key.pem`)."""
    import shlex

    if not isinstance(command, str):
        return []
    try:
        words = shlex.split(command, comments=False, posix=True)
    except ValueError:
        words = command.split()
    out = []
    for w in words:
        w = w.lstrip("<>|&;(").rstrip(";|&)")
        if "=" in w and w.startswith("-"):
            w = w.split("=", 1)[1]
        if w and not w.startswith("-"):
            out.append(w)
    return out


def _existing(inp: HookInput, candidates: list[str]) -> list[Path]:
    out = []
    for c in candidates:
        if len(c) > 4096 or "\0" in c:
            continue
        p = Path(os.path.expanduser(c))
        if not p.is_absolute():
            p = inp.cwd / p
        try:
            if p.is_file():
                out.append(p.resolve())
        except OSError:
            continue
    return out


def _display(repo: Repo, path: Path) -> str:
    try:
        return path.relative_to(repo.root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _deny_secret_files(inp: HookInput, repo: Repo, candidates: list[str]) -> Decision | None:
    """A deny decision naming the first candidate file that holds a secret, if any."""
    from pretense_dev.audit import events as ev

    files = _existing(inp, candidates)
    if not files or not repo.is_initialised():
        return None
    checker = _SecretFiles(repo)
    try:
        for path in files:
            found = checker.findings(path)
            if not found:
                continue
            shown = _display(repo, path)
            f = found[0]
            return Decision(
                True,
                f"{shown} holds a secret ({f.rule} on line {f.line}, {f.redacted}), so the agent "
                f"may not read it — to allow it, put `pretense: allow` on that line or accept "
                f"it with `pretense-dev scan --update-baseline`",
                ev.FILE_READ_BLOCKED,
                files=(shown,),
                secrets=tuple(
                    ev.SecretRef(x.rule, x.fingerprint, f"{shown}:{x.line}") for x in found
                ),
            )
    finally:
        checker.close()
    return None


@dataclass(frozen=True)
class _Stored:
    """A finding as the index stores it (the fields a deny message needs)."""

    rule: str
    fingerprint: str
    line: int
    redacted: str


class _SecretFiles:
    """Whether a file holds an unallowed secret: from the index when it is current, else a scan.

    The index is read with plain SQLite rather than `IndexStore`: importing that
    pulls in the mutation kernel and the whole secrets package (about 25 ms,
    bench/hooks.py) for two point queries on tables whose shape
    tests/secrets/test_index_findings.py pins.
    """

    def __init__(self, repo: Repo) -> None:
        import sqlite3

        self.repo = repo
        self.root = repo.root.resolve()
        self.conn = sqlite3.connect(repo.index_path)

    def close(self) -> None:
        self.conn.close()

    def findings(self, path: Path) -> list[Any]:
        rel = path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else None
        if rel is not None:
            # The files table: size and mtime as they were when the indexer read the file.
            row = self.conn.execute(
                "SELECT size, mtime_ns FROM files WHERE path = ?", (rel,)
            ).fetchone()
            st = path.stat()
            if row is not None and tuple(row) == (st.st_size, st.st_mtime_ns):
                # Current: the stored findings answer, minus what the policy allows now.
                if _path_allowed(self.repo, rel):
                    return []
                stored = [
                    _Stored(*r)
                    for r in self.conn.execute(
                        "SELECT rule, fingerprint, line, redacted FROM findings "
                        "WHERE path = ? ORDER BY line, rule",
                        (rel,),
                    )
                ]
                base = _baseline(self.repo) if stored else None
                return [
                    f
                    for f in stored
                    if base is None or not base.contains(rel, f.rule, f.fingerprint)
                ]
        # Not indexed (git-ignored, outside the repository) or changed since: scan it now.
        try:
            if path.stat().st_size > SCAN_LIMIT:
                return []
            data = path.read_bytes()
        except OSError:
            return []
        found: list[Any] = _detector(self.repo).scan_bytes(data, rel)
        return found


def _path_allowed(repo: Repo, rel: str) -> bool:
    patterns = repo.config.secrets.allow_paths
    if not patterns:
        return False
    from pretense_dev.index.walk import PathFilter

    return bool(PathFilter(patterns)(rel))


def _baseline(repo: Repo) -> Any:
    from pretense_dev.secrets.baseline import Baseline

    path = repo.root / repo.config.secrets.baseline
    return Baseline.load(path) if path.exists() else None


def _detector(repo: Repo) -> Any:
    """The repository's detector with its policy and baseline (imported only when needed)."""
    cached = _DETECTORS.get(repo.root)
    if cached is not None:
        return cached
    from pretense_dev.secrets import Detector

    det = Detector(repo.key, repo.config.secrets, _baseline(repo))
    _DETECTORS[repo.root] = det
    return det


_DETECTORS: dict[Path, Any] = {}


# -- answering ----------------------------------------------------------------------------


def respond(inp: HookInput, d: Decision) -> tuple[int, str, str]:
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


def _audit(inp: HookInput, d: Decision, started: float) -> str | None:
    """Write the event; return a warning line if the log could not be written."""
    if not d.event:
        return None
    from pretense_dev.audit import events as ev
    from pretense_dev.audit.store import record

    decision = ev.BLOCKED if d.block and not d.warn else ev.ALLOWED
    repo = d.repo
    try:
        repo_id = repo.repo_id if repo is not None and repo.repo_id_path.exists() else ""
    except PretenseError:
        repo_id = ""
    event = ev.AuditEvent(
        event=d.event,
        session_id=inp.session_id,
        tool=inp.tool,
        repo_id=repo_id,
        repo_path=str(repo.root) if repo is not None else "",
        endpoint=f"hook:{inp.event}",
        mutation_active=d.mutation_active,
        secrets=d.secrets,
        decision=decision,
        reason=d.reason,
        request_bytes=d.request_bytes,
        latency_ms=(time.perf_counter() - started) * 1000,
        files=d.files,
    )
    try:
        record(event)
    except (PretenseError, OSError, ValueError) as e:
        return f"pretense-dev: the audit log could not be written ({e}); the decision stands"
    return None


def main(argv: list[str], stdin: bytes | None = None) -> int:
    """Run one hook call; return the exit code the calling tool expects."""
    started = time.perf_counter()
    raw = sys.stdin.buffer.read() if stdin is None else stdin
    try:
        inp = read_input(argv, raw, dict(os.environ))
    except PretenseError as e:
        for line in e.lines():
            print(f"pretense-dev: {line}", file=sys.stderr)
        return 2  # every tool reads 2 as "block"
    try:
        d = decide(inp)
    except Exception as e:  # fail closed: a gate that cannot decide refuses
        from pretense_dev.cli import _log_bug

        where = _log_bug(e)
        msg = (
            e.lines()[0] if isinstance(e, PretenseError) else f"internal error ({type(e).__name__})"
        )
        d = Decision(
            inp.kind in BLOCKING or inp.kind == SESSION,
            f"the hook could not check this ({msg}); details in {where}",
            _blocked_event(inp),
        )
    code, out, err = respond(inp, d)
    warning: str | None
    try:
        warning = _audit(inp, d, started)
    except Exception as e:  # the log must not turn a decision around; say so
        warning = f"pretense-dev: the audit log could not be written ({type(e).__name__})"
    if out:
        sys.stdout.write(out + "\n")
        sys.stdout.flush()
    for text in (err, warning):
        if text:
            print(text, file=sys.stderr)
    return code


def _blocked_event(inp: HookInput) -> str:
    from pretense_dev.audit import events as ev

    return {
        PROMPT: ev.PROMPT_BLOCKED,
        SESSION: ev.SESSION_STARTED,
        TOOL: ev.FILE_READ_BLOCKED,
        READ: ev.FILE_READ_BLOCKED,
        SHELL: ev.FILE_READ_BLOCKED,
    }.get(inp.kind, ev.TOOL_USE)
