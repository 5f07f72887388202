"""Every entry point reports a bug alike: one line, an exit code, the traceback in errors.log.

The fault is injected into a real process: a `sitecustomize` module put first
on PYTHONPATH replaces one function deep inside the code with one that raises,
as a bug there would.  The doors: the CLI, an AI-tool hook (inside the gate and
outside it), the git pre-commit hook, the proxy daemon and the language server
(at start-up and inside a request).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

import pytest

from pretense_dev import paths
from pretense_dev.bugs import LOG_NAME
from pretense_dev.errors import EXIT_BUG
from tests.conftest import REPO_ROOT, write

FAULT = "injected fault 7f3a"


def _inject(tmp_path: Path, module: str, attribute: str) -> dict[str, str]:
    """An environment whose interpreters raise RuntimeError from `module.attribute`."""
    site = tmp_path / "site"
    write(
        site,
        {
            "sitecustomize.py": (
                f"import {module} as target\n\n"
                "def fault(*args, **kwargs):\n"
                f"    raise RuntimeError({FAULT!r})\n\n"
                f"target.{attribute} = fault\n"
            )
        },
    )
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO_ROOT)])}


def _run(
    args: list[str], cwd: Path, env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _log() -> Path:
    return paths.user_log_dir() / LOG_NAME


def _assert_logged() -> None:
    text = _log().read_text(encoding="utf-8")
    assert "Traceback (most recent call last):" in text
    assert f"RuntimeError: {FAULT}" in text


@pytest.mark.parametrize(
    "args",
    [
        ["-m", "pretense_dev.secrets.hook", "staged"],  # the git pre-commit hook
        ["-m", "pretense_dev", "scan", "--staged"],  # the CLI
    ],
    ids=["git-hook", "cli"],
)
def test_git_hook_and_cli_bug_is_one_line_exit_3_and_a_logged_traceback(
    args: list[str], git_repo: Path, tmp_path: Path
) -> None:
    env = _inject(tmp_path, "pretense_dev.secrets.run", "run_scan")
    p = _run(args, git_repo, env)
    assert (p.returncode, p.stdout) == (EXIT_BUG, "")
    assert p.stderr == f"pretense-dev: internal error (RuntimeError); details in {_log()}\n"
    _assert_logged()


def test_proxy_daemon_bug_is_one_line_exit_3_and_a_logged_traceback(tmp_path: Path) -> None:
    # `proxy start` spawns this module; the fault hits while it sets up its log.
    env = _inject(tmp_path, "pretense_dev.proxy.state", "log_path")
    p = _run(["-m", "pretense_dev.proxy.server", "--port", "0"], tmp_path, env)
    assert (p.returncode, p.stdout) == (EXIT_BUG, "")
    assert p.stderr == (f"pretense-dev proxy: internal error (RuntimeError); details in {_log()}\n")
    _assert_logged()


def _prompt(repo: Path) -> str:
    return json.dumps(
        {
            "hook_event_name": "UserPromptSubmit",
            "session_id": "s1",
            "cwd": str(repo),
            "prompt": "rename the ledger",
        }
    )


def test_tool_hook_bug_outside_the_gate_blocks_with_exit_2(git_repo: Path, tmp_path: Path) -> None:
    # Claude Code, Cursor and Copilot read exit 2 as "refuse"; 3 would let the prompt through.
    env = _inject(tmp_path, "pretense_dev.integrations.toolhook.dialects", "read_input")
    args = ["-m", "pretense_dev", "hook", "claude-code", "UserPromptSubmit"]
    p = _run(args, git_repo, env, stdin=_prompt(git_repo))
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr == f"pretense-dev: internal error (RuntimeError); details in {_log()}\n"
    _assert_logged()


def test_tool_hook_bug_inside_the_gate_blocks_and_names_the_log(
    git_repo: Path, tmp_path: Path
) -> None:
    env = _inject(tmp_path, "pretense_dev.integrations.toolhook.gate", "decide")
    args = ["-m", "pretense_dev", "hook", "claude-code", "UserPromptSubmit"]
    p = _run(args, git_repo, env, stdin=_prompt(git_repo))
    reason = (
        "pretense-dev: the hook could not check this (internal error (RuntimeError)); "
        f"details in {_log()}"
    )
    # Claude Code's own way to refuse a prompt: exit 0 with a "block" decision.
    assert p.returncode == 0
    assert json.loads(p.stdout) == {"decision": "block", "reason": reason}
    assert FAULT not in p.stdout + p.stderr
    _assert_logged()


@pytest.mark.parametrize(
    ("module", "attribute"),
    [
        ("pretense_dev.lsp.startup", "run"),  # the start-up loop, on the main thread
        ("pretense_dev.lsp.server", "create_server"),  # pygls' server, built on a thread
    ],
)
def test_language_server_start_up_bug_is_one_line_exit_3(
    git_repo: Path, tmp_path: Path, module: str, attribute: str
) -> None:
    env = _inject(tmp_path, module, attribute)
    p = _run(["-m", "pretense_dev", "lsp", "--stdio"], git_repo, env)
    assert (p.returncode, p.stdout) == (EXIT_BUG, "")
    assert p.stderr == f"pretense-dev: internal error (RuntimeError); details in {_log()}\n"
    _assert_logged()


class _Rpc:
    """Just enough JSON-RPC over a real server's stdio to send requests and read replies."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self.proc = proc
        self.stdin: IO[bytes] = proc.stdin
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, args=(proc.stdout,), daemon=True).start()

    def _read(self, out: IO[bytes]) -> None:
        while True:
            length = 0
            while (line := out.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                return
            self.inbox.put(json.loads(out.read(length)))

    def send(self, method: str, params: Any, ident: int | None = None) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if ident is not None:
            msg["id"] = ident
        body = json.dumps(msg).encode()
        self.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.stdin.flush()

    def reply(self, ident: int) -> dict[str, Any]:
        while True:
            msg = self.inbox.get(timeout=60)
            if msg.get("id") == ident and "method" not in msg:
                return msg


def test_language_server_request_bug_is_answered_and_logged(git_repo: Path, tmp_path: Path) -> None:
    env = _inject(tmp_path, "pretense_dev.lsp.hover", "word_at")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pretense_dev", "lsp", "--stdio"],
        cwd=git_repo,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        rpc = _Rpc(proc)
        rpc.send(
            "initialize", {"processId": None, "rootUri": git_repo.as_uri(), "capabilities": {}}, 1
        )
        assert "result" in rpc.reply(1)
        rpc.send("initialized", {})
        uri = (git_repo / "app.py").as_uri()
        doc = {"uri": uri, "languageId": "python", "version": 1, "text": "ledger = 1\n"}
        rpc.send("textDocument/didOpen", {"textDocument": doc})
        where = {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 2}}
        rpc.send("textDocument/hover", where, 2)
        answer = rpc.reply(2)
        assert "error" in answer and "result" not in answer
        assert "traceback" not in json.dumps(answer).lower()
        rpc.send("shutdown", None, 3)
        rpc.reply(3)
        rpc.send("exit", None)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    _assert_logged()
    assert f"details in {_log()}" in err.decode()
    assert FAULT not in err.decode()
