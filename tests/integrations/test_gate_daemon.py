"""The tool-hook gate as a thin client of the real proxy daemon: same decisions, and fail closed.

Every call runs the console entry in a fresh process against a daemon started
with `pretense-dev proxy start`, as the tools run it.  "Same decisions" is
checked by effect: the same call decided in the hook's own process
(`toolhook.run`, the path before the daemon could answer) must give the same
exit code, stdout, stderr and audit event.  Faults are real processes: a
stopped daemon (SIGKILL), a stalled one (SIGSTOP), an impostor listening on the
port.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pretense_dev.audit.store import AuditStore
from pretense_dev.index.store import IndexStore
from pretense_dev.integrations.toolhook import wire
from pretense_dev.lifecycle import init_repo
from pretense_dev.proxy import state
from pretense_dev.secrets.samples import generate
from tests.conftest import Result, run_cli
from tests.integrations.conftest import commit_with_secrets, running_proxy

RNG = random.Random(16)
RESTART = "run `pretense-dev proxy stop && pretense-dev proxy start`"
IN_PROCESS = (
    "import sys\n"
    "from pretense_dev.integrations.toolhook.run import main\n"
    "raise SystemExit(main(sys.argv[1:]))\n"
)


def token() -> str:
    """A GitHub token built at run time (never committed as a literal)."""
    return generate("gh" + "p_{b62:30}{ghcrc}", RNG)


@pytest.fixture
def repo(git_repo: Path) -> Path:
    return commit_with_secrets(git_repo, token)


@pytest.fixture
def daemon() -> Iterator[state.ProxyState]:
    with running_proxy("http://127.0.0.1:9") as st:
        try:
            yield st
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(st.pid, signal.SIGCONT)  # a test may have stopped it


@pytest.fixture
def protected(repo: Path, daemon: state.ProxyState) -> Path:
    """Initialised while the daemon runs, so the tools' settings point at it."""
    init_repo(repo, tools=("claude-code", "cursor", "copilot"))
    return repo


def gate(repo: Path, tool: str, event: str, payload: dict[str, Any]) -> Result:
    return run_cli("hook", tool, event, cwd=repo, stdin=json.dumps(payload))


def in_process(repo: Path, tool: str, event: str, payload: dict[str, Any]) -> Result:
    p = subprocess.run(
        [sys.executable, "-c", IN_PROCESS, tool, event],
        cwd=repo,
        input=json.dumps(payload).encode(),
        capture_output=True,
        env=os.environ.copy(),
    )
    return Result(p.returncode, p.stdout.decode(), p.stderr.decode())


def audit_rows() -> list[Any]:
    with AuditStore.open_readonly() as store:
        return [s.event for s in store.events()]


def claude(event: str, repo: Path, **extra: Any) -> dict[str, Any]:
    return {"session_id": "s-1", "cwd": str(repo), "hook_event_name": event, **extra}


def cursor(event: str, repo: Path, **extra: Any) -> dict[str, Any]:
    return {
        "conversation_id": "conv-1",
        "hook_event_name": event,
        "cursor_version": "2.0.77",
        "workspace_roots": [str(repo)],
        **extra,
    }


def read(repo: Path, rel: str) -> dict[str, Any]:
    return claude("PreToolUse", repo, tool_name="Read", tool_input={"file_path": str(repo / rel)})


CASES: dict[str, tuple[str, str, Any]] = {
    "clean prompt": (
        "claude-code",
        "UserPromptSubmit",
        lambda r: claude("UserPromptSubmit", r, prompt="fix reconcile_invoices"),
    ),
    "secret in the prompt": (
        "claude-code",
        "UserPromptSubmit",
        lambda r: claude("UserPromptSubmit", r, prompt=f"use {token()} please"),
    ),
    "session start": ("claude-code", "SessionStart", lambda r: claude("SessionStart", r)),
    "read of a secret file": ("claude-code", "PreToolUse", lambda r: read(r, "config/settings.py")),
    "read of an ordinary file": (
        "claude-code",
        "PreToolUse",
        lambda r: read(r, "billing/ledger.py"),
    ),
    "shell reading a git-ignored .env": (
        "claude-code",
        "PreToolUse",
        lambda r: claude("PreToolUse", r, tool_name="Bash", tool_input={"command": "cat .env"}),
    ),
    "relative path from the hook's directory": (
        "copilot",
        "preToolUse",
        lambda r: {"timestamp": 1, "toolName": "view", "toolArgs": json.dumps({"path": ".env"})},
    ),
    "cursor prompt": (
        "cursor",
        "beforeSubmitPrompt",
        lambda r: cursor("beforeSubmitPrompt", r, prompt="fix the ledger", attachments=[]),
    ),
    "cursor prompt with a secret file attached": (
        "cursor",
        "beforeSubmitPrompt",
        lambda r: cursor(
            "beforeSubmitPrompt",
            r,
            prompt="look",
            attachments=[{"type": "file", "filePath": str(r / "config/settings.py")}],
        ),
    ),
    "cursor read of .env": (
        "cursor",
        "beforeReadFile",
        lambda r: cursor("beforeReadFile", r, file_path=str(r / ".env")),
    ),
    "vscode prompt": (
        "claude-code",
        "UserPromptSubmit",
        lambda r: {
            "cwd": str(r),
            "sessionId": "vs-1",
            "hookEventName": "UserPromptSubmit",
            "prompt": "refactor",
        },
    ),
    "copilot cli prompt": (
        "copilot",
        "userPromptSubmitted",
        lambda r: {"timestamp": 1, "cwd": str(r), "prompt": "hi"},
    ),
    "start probe": ("claude-code", "UserPromptSubmit", lambda r: {"pretense_start_probe": True}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_daemon_decides_exactly_as_the_hook_process_did(protected: Path, case: str) -> None:
    tool, event, make = CASES[case]
    payload = make(protected)
    here = in_process(protected, tool, event, payload)
    before = audit_rows()
    there = gate(protected, tool, event, payload)
    assert (there.code, there.out, there.err) == (here.code, here.out, here.err)
    after = audit_rows()
    assert len(after) - len(before) == len(before)  # one event each, or none (the probe)
    for a, b in zip(before, after[len(before) :], strict=True):
        assert (a.event, a.decision, a.reason, a.tool, a.files, a.secrets, a.mutation_active) == (
            b.event,
            b.decision,
            b.reason,
            b.tool,
            b.files,
            b.secrets,
            b.mutation_active,
        )


def test_a_clean_prompt_is_allowed_by_the_daemon_without_the_gate_in_the_hook(
    protected: Path,
) -> None:
    """The hook process imports the client and nothing of the decision (the daemon decided)."""
    code = (
        "import sys\n"
        "sys.argv = ['pretense-dev', 'hook', 'claude-code', 'UserPromptSubmit']\n"
        "from pretense_dev.entry import main\n"
        "rc = main()\n"
        "loaded = sorted(sys.modules)\n"
        "import json\n"
        "print(json.dumps([rc, loaded]), file=sys.stderr)\n"
    )
    payload = claude("UserPromptSubmit", protected, prompt="fix reconcile_invoices")
    p = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(payload).encode(),
        capture_output=True,
        cwd=protected,
        env=os.environ.copy(),
    )
    rc, loaded = json.loads(p.stderr.decode().strip().splitlines()[-1])
    assert (rc, p.stdout) == (0, b"")
    # Nothing that costs milliseconds to import: the standard library's heavier helpers
    # (the interpreter's start-up may load others, which the floor pays as well).
    assert {"json", "socket", "hmac", "_hashlib", "typing", "dataclasses"} & set(loaded) == set()
    assert [m for m in loaded if m.startswith("pretense_dev")] == [
        "pretense_dev",
        "pretense_dev.bugs",  # the one top-level handler every entry point runs under
        "pretense_dev.entry",
        "pretense_dev.errors",
        "pretense_dev.integrations",
        "pretense_dev.integrations.toolhook",
        "pretense_dev.integrations.toolhook.client",
        "pretense_dev.integrations.toolhook.wire",
    ]
    (row,) = audit_rows()
    assert (row.event, row.decision, row.mutation_active) == ("prompt_submitted", "allowed", True)


def test_an_incomplete_map_is_refused_through_the_daemon(protected: Path) -> None:
    with IndexStore(protected / ".pretense" / "index.db") as store:
        store.conn.execute("UPDATE meta SET value = '0' WHERE key = 'map_complete'")
    payload = claude("UserPromptSubmit", protected, prompt="fix reconcile_invoices")
    r = gate(protected, "claude-code", "UserPromptSubmit", payload)
    assert r.code == 0
    reason = json.loads(r.out)
    assert reason["decision"] == "block"
    assert "incomplete" in reason["reason"] and "pretense-dev index" in reason["reason"]
    assert (r.code, r.out, r.err) == tuple(
        getattr(in_process(protected, "claude-code", "UserPromptSubmit", payload), k)
        for k in ("code", "out", "err")
    )


def test_a_policy_edit_applies_to_the_next_call(protected: Path) -> None:
    """The daemon keeps its detector warm, never stale: a path allowed since is read at once.

    `.env` is git-ignored, so the detector itself scans it (not the index).
    """
    payload = read(protected, ".env")
    first = gate(protected, "claude-code", "PreToolUse", payload)
    assert json.loads(first.out)["hookSpecificOutput"]["permissionDecision"] == "deny"
    cfg = protected / ".pretense/config.toml"
    text = cfg.read_text()
    assert "\nallow_paths = []\n" in text
    cfg.write_text(text.replace("\nallow_paths = []\n", '\nallow_paths = [".env"]\n', 1))
    second = gate(protected, "claude-code", "PreToolUse", payload)
    assert (second.code, second.out, second.err) == (0, "", "")


def test_the_daemon_down_refuses_a_prompt_as_before(protected: Path, daemon: Any) -> None:
    """SIGKILL: the gate file stays behind, naming a dead pid; the hook decides itself."""
    os.kill(daemon.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while state.pid_alive(daemon.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert Path(wire.gate_file()).exists()
    r = gate(protected, "claude-code", "UserPromptSubmit", claude("UserPromptSubmit", protected))
    line = "pretense-dev: pretense proxy is not running: run `pretense-dev proxy start`"
    assert (r.code, json.loads(r.out), r.err) == (
        0,
        {"decision": "block", "reason": line},
        line + "\n",
    )


def test_a_stalled_daemon_is_refused_within_the_deadline(protected: Path, daemon: Any) -> None:
    os.kill(daemon.pid, signal.SIGSTOP)
    try:
        for tool, event, payload in (
            ("claude-code", "UserPromptSubmit", claude("UserPromptSubmit", protected, prompt="x")),
            ("claude-code", "PreToolUse", read(protected, "billing/ledger.py")),
        ):
            started = time.monotonic()
            r = gate(protected, tool, event, payload)
            took = time.monotonic() - started
            line = (
                f"pretense-dev: the pretense-dev proxy (pid {daemon.pid}, port {daemon.port}) "
                f"did not answer the gate within 2 s: {RESTART}"
            )
            assert r.code == 0 and r.err == line + "\n"
            out = json.loads(r.out)
            assert out.get("decision") == "block" or (
                out["hookSpecificOutput"]["permissionDecision"] == "deny"
            )
            assert took < wire.DEADLINE + 20  # the deadline ended it, not the test's patience
    finally:
        os.kill(daemon.pid, signal.SIGCONT)
    assert [(row.event, row.decision) for row in audit_rows()] == [
        ("prompt_blocked", "blocked"),
        ("file_read_blocked", "blocked"),
    ]


IMPOSTOR = r"""
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class H(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b"1:0,0:,0:,"  # "exit 0, nothing to say": an allow
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        # Echo the request's MAC as the proof: the only signed bytes it has seen.
        self.send_header("X-Pretense-Gate-Proof", self.headers.get("X-Pretense-Gate-Mac", ""))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass

s = HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"""


@pytest.fixture
def impostor() -> Iterator[tuple[int, int]]:
    p = subprocess.Popen([sys.executable, "-c", IMPOSTOR], stdout=subprocess.PIPE)
    assert p.stdout is not None
    port = int(p.stdout.readline())
    try:
        yield p.pid, port
    finally:
        p.kill()
        p.wait()


def test_an_impostor_on_the_port_cannot_say_allow(
    protected: Path, daemon: Any, impostor: tuple[int, int]
) -> None:
    """The daemon gone, its gate file naming a live process on the port that lacks the key."""
    run_cli("proxy", "stop")
    pid, port = impostor
    path = Path(wire.gate_file())
    path.write_text(wire.encode_file(pid, "127.0.0.1", port, os.urandom(32)))
    path.chmod(0o600)
    for tool, event, payload in (
        ("claude-code", "UserPromptSubmit", claude("UserPromptSubmit", protected, prompt="x")),
        ("claude-code", "PreToolUse", read(protected, "billing/ledger.py")),
        ("cursor", "beforeReadFile", cursor("beforeReadFile", protected, file_path="x.py")),
    ):
        r = gate(protected, tool, event, payload)
        assert r.err == (
            f"pretense-dev: what answers on port {port} is not this user's pretense-dev proxy "
            f"(its answer is not signed with the proxy's key): stop what listens on port {port}, "
            "then run `pretense-dev proxy start`\n"
        )
    assert r.code == 2 and json.loads(r.out)["permission"] == "deny"


def test_a_gate_file_open_to_others_is_not_trusted(protected: Path) -> None:
    path = Path(wire.gate_file())
    assert path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o644)
    r = gate(protected, "claude-code", "PreToolUse", read(protected, "billing/ledger.py"))
    assert json.loads(r.out)["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert r.err.startswith(f"pretense-dev: the proxy's gate file {path} is open to other users")


def test_the_daemon_answers_only_requests_signed_with_its_key(protected: Path, daemon: Any) -> None:
    """Another local user cannot make the daemon read this user's files or write their log."""
    pid, host, port, key = wire.decode_file(Path(wire.gate_file()).read_text())
    assert (pid, port) == (daemon.pid, daemon.port)
    body = (
        wire.pack(
            [wire.VERSION, os.urandom(16), str(protected).encode(), b"claude-code\0PreToolUse", b""]
        )
        + json.dumps(read(protected, "config/settings.py")).encode()
    )

    def post(mac: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        try:
            conn.request("POST", wire.PATH, body, headers={wire.MAC_HEADER: mac})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    for mac in ("", wire.request_mac(os.urandom(32), body).hex()):
        status, answer = post(mac)
        assert status == 403 and b"holds a secret" not in answer
    status, answer = post(wire.request_mac(key, body).hex())
    assert status == 200 and b"holds a secret" in answer
    body = b"not netstrings"  # signed, but not a call: refused before anything is decided
    status, answer = post(wire.request_mac(key, body).hex())
    assert (status, answer) == (400, b"not a gate request of this version\n")
    assert [row.event for row in audit_rows()] == ["file_read_blocked"]


def test_concurrent_calls_each_get_their_own_decision(protected: Path) -> None:
    """A tool fires several file-read hooks at once; the daemon's threads keep them apart."""
    files = ["config/settings.py", "billing/ledger.py", ".env"] * 3
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "pretense_dev", "hook", "claude-code", "PreToolUse"],
            cwd=protected,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ.copy(),
        )
        for _ in files
    ]
    for p, rel in zip(procs, files, strict=True):
        assert p.stdin is not None
        p.stdin.write(json.dumps(read(protected, rel)).encode())
        p.stdin.close()
    for p, rel in zip(procs, files, strict=True):
        assert p.stdout is not None and p.stderr is not None
        out, err = p.stdout.read(), p.stderr.read()  # a few hundred bytes each
        p.wait(timeout=60)
        if rel == "billing/ledger.py":
            assert (p.returncode, out, err) == (0, b"", b"")
        else:
            decision = json.loads(out)["hookSpecificOutput"]
            assert decision["permissionDecision"] == "deny"
            assert f"pretense-dev: {rel} holds a secret" in decision["permissionDecisionReason"]
    rows = audit_rows()
    assert sorted(row.files for row in rows) == sorted((rel,) for rel in files)
