"""One tool-hook call from start to end: read, decide, answer, log; fail closed.

The proxy daemon runs `answer` for the hook process (`client`); `main` runs
it in the hook's own process when no daemon runs.

Every hook event is written to the audit log (no prompt text, no secret
value).  A gate that crashes on a blocking event blocks it, with the log file
named.  A hook that cannot write the audit log says so on stderr and keeps its
decision (the log is evidence, not a gate).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from pretense_dev.errors import PretenseError
from pretense_dev.integrations.toolhook import wire
from pretense_dev.integrations.toolhook.dialects import (
    BLOCKING,
    PROMPT,
    READ,
    SESSION,
    SHELL,
    TOOL,
    Decision,
    ToolHookCall,
    read_input,
    respond,
)
from pretense_dev.integrations.toolhook.gate import decide

PROBE_ONLY = {"pretense_start_probe", "cwd"}


def _audit(inp: ToolHookCall, d: Decision, started: float) -> str | None:
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
    """Run one hook call in this process; return the exit code the calling tool expects."""
    raw = sys.stdin.buffer.read() if stdin is None else stdin
    code, out, err = answer(argv, raw, dict(os.environ))
    return wire.emit(code, out, err)


def answer(
    argv: list[str],
    raw: bytes,
    environ: dict[str, str],
    cwd: Path | None = None,
    *,
    fault: str | None = None,
) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of one hook call, its audit event written.

    The proxy daemon runs this for the thin client (`client`), with the hook
    process's `environ` and `cwd`; `main` runs it in the hook's own process.
    With `fault`, nothing is decided: a blocking call is refused with that line
    (the client could not get a trustworthy answer from the daemon).
    """
    started = time.perf_counter()
    try:
        inp = read_input(argv, raw, environ, cwd)
    except PretenseError as e:
        return 2, "", "".join(f"pretense-dev: {line}\n" for line in e.lines())  # 2: "block"
    if inp.payload.get("pretense_start_probe") is True and set(inp.payload) <= PROBE_ONLY:
        # `doctor` / `verify` checking that this command starts (integrations/startprobe.py):
        # answer, decide nothing.  Only a payload with nothing else in it: a real call
        # carries a prompt, a tool input or a file, and is always decided.
        return 0, '{"pretense_dev": "started"}\n', ""
    if fault is not None:
        d = Decision(inp.kind in BLOCKING or inp.kind == SESSION, fault, _fault_event(inp))
    else:
        try:
            d = decide(inp)
        except Exception as e:  # fail closed: a gate that cannot decide refuses
            from pretense_dev.bugs import log_bug

            where = log_bug(e)
            msg = (
                e.lines()[0]
                if isinstance(e, PretenseError)
                else f"internal error ({type(e).__name__})"
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
    return (
        code,
        out + "\n" if out else "",
        "".join(text + "\n" for text in (err, warning) if text),
    )


def _fault_event(inp: ToolHookCall) -> str:
    from pretense_dev.audit import events as ev

    return ev.PROXY_DOWN if inp.kind == SESSION else _blocked_event(inp)


def _blocked_event(inp: ToolHookCall) -> str:
    from pretense_dev.audit import events as ev

    return {
        PROMPT: ev.PROMPT_BLOCKED,
        SESSION: ev.SESSION_STARTED,
        TOOL: ev.FILE_READ_BLOCKED,
        READ: ev.FILE_READ_BLOCKED,
        SHELL: ev.FILE_READ_BLOCKED,
    }.get(inp.kind, ev.TOOL_USE)
