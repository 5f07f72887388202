"""The start-up loop: first diagnostics before pygls is loaded, then one seamless hand-over.

`startup.run` is driven in process over pipes, with a loader that waits for
the test's word, so "before pygls is loaded" is an order of events, never a
race with the clock: the test reads the `initialize` answer and the first
diagnostics while the loader is still held, then lets pygls load and checks
that it carries on from the same messages (one answer per request, the same
diagnostics), and that the early `initialize` result is exactly pygls' own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import pytest
import pytest_lsp
from pygls.protocol import default_converter

from pretense_dev.lifecycle import init_repo
from pretense_dev.lsp import startup
from pretense_dev.lsp.context import Contexts
from pretense_dev.lsp.server import PretenseLanguageServer, create_server, serve
from tests.conftest import git, write
from tests.lsp.support import github_token

TIMEOUT = 30.0


def frame(msg: dict[str, Any]) -> bytes:
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class Pipes:
    """A server on a thread, its stdin and stdout as pipes; the test is the client."""

    def __init__(self, target: Callable[[BinaryIO, BinaryIO], object]) -> None:
        r_in, w_in = os.pipe()
        r_out, w_out = os.pipe()
        self.to_server = os.fdopen(w_in, "wb")
        self.from_server = os.fdopen(r_out, "rb")
        stdin, stdout = os.fdopen(r_in, "rb"), os.fdopen(w_out, "wb")
        self.result: list[object] = []
        self.thread = threading.Thread(
            target=lambda: self.result.append(target(stdin, stdout)), daemon=True
        )
        self.thread.start()

    def send(self, msg: dict[str, Any]) -> None:
        self.to_server.write(frame(msg))
        self.to_server.flush()

    def read(self) -> dict[str, Any]:
        got = startup.read_message(self.from_server)
        assert got is not None and got[1] is not None, got
        return got[1]

    def finish(self) -> list[dict[str, Any]]:
        """Shut down, close stdin, and return every message sent after the shutdown request."""
        self.send({"jsonrpc": "2.0", "id": 99, "method": "shutdown"})
        rest = []
        while True:
            msg = self.read()
            rest.append(msg)
            if msg.get("id") == 99:
                break
        self.to_server.close()
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive()
        return rest


def client_caps(kind: str) -> dict[str, Any]:
    if kind in ("visual-studio-code", "neovim"):
        caps: dict[str, Any] = default_converter().unstructure(  # type: ignore[no-untyped-call]
            pytest_lsp.client_capabilities(kind)
        )
        return caps
    return {"general": {"positionEncodings": json.loads(kind)}} if kind else {}


CLIENTS = ["visual-studio-code", "neovim", "", '["utf-8", "utf-16"]', '["utf-32"]', '["latin-1"]']


def init_msg(caps: dict[str, Any], root: Path | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"processId": None, "capabilities": caps}
    if root is not None:
        params["rootUri"] = root.as_uri()
        params["workspaceFolders"] = [{"uri": root.as_uri(), "name": root.name}]
    return {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}


@pytest.mark.parametrize("kind", CLIENTS)
def test_the_early_initialize_result_is_pygls_own(kind: str) -> None:
    msg = init_msg(client_caps(kind))
    pipes = Pipes(lambda i, o: serve(create_server(), i, o))
    pipes.send(msg)
    answer = pipes.read()
    pipes.finish()
    assert answer == {"id": 1, "jsonrpc": "2.0", "result": startup.initialize_result(msg["params"])}


@pytest.fixture
def repo(git_repo: Path) -> Path:
    write(git_repo, {"app.py": "def reconcile_ledger(entries):\n    return sum(entries)\n"})
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "app")
    init_repo(git_repo, workers=1)
    return git_repo


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("visual-studio-code", "app.py"),
        ('["utf-8", "utf-16"]', "app.py"),
        ("neovim", "my dir/café #1 100%.py"),  # a URI that needs percent-encoding
    ],
)
def test_first_diagnostics_arrive_before_pygls_is_loaded(repo: Path, kind: str, name: str) -> None:
    gate, loaded = threading.Event(), threading.Event()

    def held_load(contexts: Contexts) -> PretenseLanguageServer:
        assert gate.wait(TIMEOUT)
        server = create_server(contexts)
        loaded.set()
        return server

    pipes = Pipes(lambda i, o: startup.run(i, o, held_load))
    caps = client_caps(kind)
    pipes.send(init_msg(caps, repo))
    answer = pipes.read()
    assert answer["id"] == 1 and not loaded.is_set()
    assert answer["result"] == startup.initialize_result(init_msg(caps)["params"])
    pipes.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    path = repo / name
    path.parent.mkdir(exist_ok=True)
    path.write_text("")
    uri = path.as_uri()
    # A non-ASCII name before the secret: its column differs between encodings.
    text = f"def reconcile_ledger(entries):\n    return sum(entries)\ncafé = {github_token()!r}\n"
    doc = {"uri": uri, "languageId": "python", "version": 1, "text": text}
    pipes.send(
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": doc}}
    )
    early = pipes.read()
    assert not loaded.is_set()  # published by the start-up loop, pygls still held
    assert early["method"] == "textDocument/publishDiagnostics"
    assert early["params"]["uri"] == uri and early["params"]["version"] == 1
    [diag] = early["params"]["diagnostics"]
    assert diag["code"] == "github-pat" and diag["range"]["start"] == {"line": 2, "character": 0}
    utf8 = answer["result"]["capabilities"]["positionEncoding"] == "utf-8"
    assert utf8 == (kind != "visual-studio-code")  # both cases are exercised
    width = len(text.splitlines()[2].encode("utf-8" if utf8 else "utf-16-le"))
    assert diag["range"]["end"]["character"] == width // (1 if utf8 else 2)

    gate.set()  # pygls loads, gets the same messages, and carries on
    # …unprompted: the client sends nothing more before the status of `initialized`
    # and pygls' own diagnostics of the replayed didOpen.
    seen: list[dict[str, Any]] = []
    methods = {"pretense/status", "textDocument/publishDiagnostics"}
    while not methods <= {m.get("method") for m in seen}:
        seen.append(pipes.read())
    rest = seen + pipes.finish()
    assert loaded.is_set()
    assert [m for m in rest if "id" in m and m.get("id") != 99] == []  # one initialize answer
    again = [m for m in rest if m.get("method") == "textDocument/publishDiagnostics"]
    assert again[0]["params"] == early["params"]  # pygls' own diagnostics: the same


def test_a_message_it_does_not_serve_is_left_to_pygls(repo: Path) -> None:
    """An `initialize` it cannot read is answered by pygls (-32602), once; then a good one."""
    pipes = Pipes(lambda i, o: startup.run(i, o))
    pipes.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": 3}})
    answer = pipes.read()
    assert answer["id"] == 1 and answer["error"]["code"] == -32602
    pipes.send(init_msg({}, repo) | {"id": 2})
    assert pipes.read()["result"] == startup.initialize_result(init_msg({})["params"])
    assert [m for m in pipes.finish() if m.get("id") not in (None, 99)] == []


@pytest.mark.parametrize("args", [["lsp"], ["lsp", "--stdio"]])
def test_the_editor_command_goes_past_click(args: list[str]) -> None:
    """`pretense-dev lsp` as editors start it: no click on the way to the first answer."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pretense_dev", *args],
        input=b"",
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.decode().splitlines()}
    assert "pretense_dev.lsp.startup" in imported
    assert "click" not in imported and "pretense_dev.cli" not in imported
