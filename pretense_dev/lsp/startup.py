"""The first second of a session: answer `initialize` and the first didOpen while pygls loads.

An editor starts the server when it opens the first file, and its user sees
nothing until the first diagnostics.  Importing pygls and lsprotocol (about
1,000 attrs classes built at import) is most of the server's start-up, far
more than the secret scan itself.  So `run` serves the session's first
messages with the standard library and the detector alone, and imports pygls
on a thread once the first diagnostics are out (or at the first message it
cannot serve, or after a quiet spell: `IDLE_S`) — not before, since both are
CPU-bound Python and sharing the interpreter would slow the first answer:

* `initialize` is answered with the result pygls would give
  (`INITIALIZE_RESULT`, checked equal to pygls' own in tests/lsp/test_startup.py,
  position encoding negotiated as pygls does);
* `initialized` needs nothing yet;
* each `didOpen` is scanned and its diagnostics published, as pygls'
  `documents` unit would publish them.

Every message read is kept.  At the first message of any other kind, or once
pygls is loaded, the loop stops and hands over (stdin is read on a thread of
its own, `_Feed`, so a client waiting for our next notification never stalls
the hand-over): pygls gets the kept messages
first, then the rest of stdin, and builds its state (documents, options,
folders) from them as if it had read them itself.  Its own reply to the
replayed `initialize` is dropped (`PretenseProtocol.answered_initialize`), so
the client sees one answer per request; the didOpen is scanned again and its
diagnostics published again, the same ones (a publish replaces the last).
The repositories loaded here (warm detectors) are handed over too.

A message this loop cannot read (bad header, bad JSON, unexpected params) is
left to pygls, which answers it as it answers everything.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol
from urllib.parse import unquote, urlsplit

from pretense_dev.lsp.context import Contexts
from pretense_dev.lsp.lean import ENCODINGS, NAME, diagnostics_json, server_version
from pretense_dev.lsp.options import parse_options

if TYPE_CHECKING:
    from pretense_dev.lsp.server import PretenseLanguageServer

log = logging.getLogger(__name__)

# pygls' `ServerCapabilitiesBuilder` result for our features, without
# `positionEncoding` (negotiated per client).  tests/lsp/test_startup.py checks
# that the whole `initialize` result equals pygls' for several clients.
CAPABILITIES: dict[str, Any] = {
    "textDocumentSync": {"openClose": True, "change": 2, "save": {"includeText": False}},
    "hoverProvider": True,
    "codeActionProvider": {"codeActionKinds": ["quickfix", "refactor.pretense.policy"]},
    "executeCommandProvider": {"commands": ["pretense.addToPolicy"]},
    "workspace": {
        "workspaceFolders": {"supported": True, "changeNotifications": True},
        "fileOperations": {},
    },
}


def position_encoding(params: dict[str, Any]) -> str:
    """The client's first supported encoding, else UTF-16 (as pygls chooses)."""
    general = (params.get("capabilities") or {}).get("general") or {}
    for enc in general.get("positionEncodings") or ():
        if enc in ENCODINGS:
            return str(enc)
    return "utf-16"


def initialize_result(params: dict[str, Any]) -> dict[str, Any]:
    """The `initialize` result pygls would send for these params."""
    caps = {"positionEncoding": position_encoding(params), **CAPABILITIES}
    # pygls sends `willSave*: false` (we register neither) iff the client states them.
    sync = ((params.get("capabilities") or {}).get("textDocument") or {}).get("synchronization")
    stated = [k for k in ("willSave", "willSaveWaitUntil") if (sync or {}).get(k) is not None]
    if stated:
        doc_sync = dict(caps["textDocumentSync"])
        save = doc_sync.pop("save")
        caps["textDocumentSync"] = {**doc_sync, **dict.fromkeys(stated, False), "save": save}
    return {"capabilities": caps, "serverInfo": {"name": NAME, "version": server_version()}}


class Reader(Protocol):
    """What the loop reads stdin through: a binary file, or `FdReader`."""

    def readline(self) -> bytes:
        """One line with its newline; b"" at EOF."""

    def read(self, n: int) -> bytes:
        """`n` bytes, fewer only at EOF."""


class FdReader:
    """A buffered reader of a file descriptor without a lock (`sys.stdin.buffer` has one).

    `_Feed` waits in a read on a daemon thread until EOF.  At exit,
    Python aborts (SIGABRT) if a daemon thread holds the lock of
    `sys.stdin.buffer`; a bare `os.read` holds none.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buf = bytearray()

    def _fill(self) -> bool:
        chunk = os.read(self._fd, 65536)
        self._buf += chunk
        return bool(chunk)

    def readline(self) -> bytes:
        """One line with its newline; b"" at EOF."""
        while (end := self._buf.find(b"\n") + 1) == 0:
            if not self._fill():
                end = len(self._buf)
                break
        out = bytes(self._buf[:end])
        del self._buf[:end]
        return out

    def read(self, n: int) -> bytes:
        """`n` bytes, fewer only at EOF."""
        while len(self._buf) < n and self._fill():
            pass
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out


def read_message(stdin: Reader) -> tuple[bytes, dict[str, Any] | None] | None:
    """One framed message: its raw bytes and its JSON (None if unreadable); None at EOF."""
    raw = b""
    length: int | None = None
    while True:
        line = stdin.readline()
        if not line:
            return None if not raw else (raw, None)
        raw += line
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("ascii", "replace").partition(":")
        if name.strip().lower() == "content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return raw, None
    if length is None:
        return raw, None
    body = stdin.read(length)
    raw += body
    try:
        msg = json.loads(body)
    except ValueError:
        return raw, None
    return raw, msg if isinstance(msg, dict) else None


# pygls starts loading once the first diagnostics are out, at the first
# message the loop cannot serve, or when no message came for this long.
IDLE_S = 0.05
_LOADED = object()  # put in the queue by the loader thread once pygls is ready


class _Feed:
    """The one reader of stdin, on its own thread: messages go into `queue` as they arrive.

    The loop must not block in a read while pygls is ready and the client
    waits for a notification of ours (the status after `initialized`), so
    stdin is read here and the loop waits on the queue, where the loader puts
    `_LOADED` too.  After an unreadable header the stream is passed on line by
    line (`None` for its JSON) for pygls to deal with; EOF is `None`.
    """

    def __init__(self, stdin: Reader) -> None:
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._stdin = stdin
        threading.Thread(target=self._run, name="pretense-stdin", daemon=True).start()

    def _run(self) -> None:
        framed = True
        while True:
            got = read_message(self._stdin) if framed else _line(self._stdin)
            self.queue.put(got)
            if got is None:
                return
            framed = got[1] is not None


def _line(stdin: Reader) -> tuple[bytes, None] | None:
    line = stdin.readline()
    return (line, None) if line else None


class _Replay:
    """stdin for pygls: the kept messages first, then what the feed reads."""

    def __init__(self, kept: bytes, feed: _Feed) -> None:
        self._buf = kept
        self._feed = feed
        self._eof = False

    def _more(self) -> bool:
        while not self._eof:
            got = self._feed.queue.get()
            if got is _LOADED:
                continue
            if got is None:
                self._eof = True
                return False
            self._buf += got[0]
            return True
        return False

    def readline(self) -> bytes:
        while b"\n" not in self._buf and self._more():
            pass
        line, sep, self._buf = self._buf.partition(b"\n")
        return line + sep

    def read(self, n: int) -> bytes:
        while len(self._buf) < n and self._more():
            pass
        out, self._buf = self._buf[:n], self._buf[n:]
        return out


def _send(stdout: BinaryIO, msg: dict[str, Any]) -> None:
    """Frame and write a message as pygls does (ASCII JSON, same headers)."""
    body = json.dumps(msg)
    stdout.write(
        f"Content-Length: {len(body)}\r\n"
        f"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{body}".encode()
    )
    stdout.flush()


def _fs_path(uri: str) -> Path | None:
    """The path of a plain POSIX `file:` URI; None for anything pygls should decide."""
    parts = urlsplit(uri)
    if os.name != "posix" or parts.scheme != "file" or parts.netloc:
        return None
    return Path(unquote(parts.path))


class StartupLoop:
    """The loop's state: what the client negotiated, the documents diagnosed so far."""

    def __init__(self, stdout: BinaryIO, contexts: Contexts) -> None:
        self.stdout = stdout
        self.contexts = contexts
        self.answered: Any = None  # the id of the `initialize` answered here
        self.encoding = "utf-16"
        self.severity = "error"
        self.published: list[str] = []  # URIs whose diagnostics went out (tests read it)

    def handle(self, msg: dict[str, Any]) -> bool:
        """Serve one message; False when it must wait for pygls (then hand over)."""
        method, params = msg.get("method"), msg.get("params")
        if method == "initialize" and self.answered is None and "id" in msg:
            if not isinstance(params, dict) or not isinstance(params.get("capabilities"), dict):
                return False
            general = params["capabilities"].get("general")
            if general is not None and not isinstance(general, dict):
                return False
            encodings = (general or {}).get("positionEncodings")
            if encodings is not None and not (
                isinstance(encodings, list) and all(isinstance(e, str) for e in encodings)
            ):
                return False
            self.encoding = position_encoding(params)
            options, _ = parse_options(params.get("initializationOptions"))
            self.severity = options.severity
            _send(
                self.stdout,
                {"id": msg["id"], "jsonrpc": "2.0", "result": initialize_result(params)},
            )
            self.answered = msg["id"]
            return True
        if self.answered is None:
            return False  # nothing but `initialize` comes first
        if method == "initialized" and "id" not in msg:
            return True
        if method == "textDocument/didOpen" and "id" not in msg and isinstance(params, dict):
            return self._did_open(params.get("textDocument"))
        return False

    def _did_open(self, doc: Any) -> bool:
        if not isinstance(doc, dict):
            return False
        uri, text, version = doc.get("uri"), doc.get("text"), doc.get("version")
        if not isinstance(uri, str) or not isinstance(text, str) or not isinstance(version, int):
            return False
        if not isinstance(doc.get("languageId"), str):  # required: pygls would drop it
            return False
        path = _fs_path(uri)
        if path is None:
            return False
        ctx = self.contexts.for_path(path)
        rel = ctx.relpath(path)
        findings = ctx.scanner().scan_text(text, rel)
        lines = text.splitlines(True) if findings else []
        diags = diagnostics_json(findings, lines, self.encoding, self.severity)
        _send(
            self.stdout,
            {
                "method": "textDocument/publishDiagnostics",
                "params": {"uri": uri, "diagnostics": diags, "version": version},
                "jsonrpc": "2.0",
            },
        )
        self.published.append(uri)
        return True


def _load_pygls(contexts: Contexts) -> PretenseLanguageServer:
    """Import pygls and build the server (on the loader thread)."""
    from pretense_dev.lsp.server import create_server

    return create_server(contexts)


def run(
    stdin: Reader,
    stdout: BinaryIO,
    load: Callable[[Contexts], PretenseLanguageServer] = _load_pygls,
) -> StartupLoop:
    """Serve the first messages here while `load` runs on a thread, then run its server."""
    contexts = Contexts()
    loaded: Future[PretenseLanguageServer] = Future()

    def loader() -> None:
        try:
            loaded.set_result(load(contexts))
        except BaseException as e:  # re-raised on the main thread below
            loaded.set_exception(e)
        feed.queue.put(_LOADED)

    feed = _Feed(stdin)
    load_thread = threading.Thread(target=loader, name="pretense-load", daemon=True)
    started = False

    def start_loading() -> None:
        nonlocal started
        if not started:
            started = True
            load_thread.start()

    loop = StartupLoop(stdout, contexts)
    kept = bytearray()
    while True:
        try:
            # Until pygls loads, the loop has the interpreter to itself: both are
            # CPU-bound Python, and a thread importing pygls would halve its speed.
            got = feed.queue.get(timeout=None if started else IDLE_S)
        except queue.Empty:
            start_loading()  # the client is waiting for nothing we can serve
            continue
        if got is _LOADED:
            break
        if got is None:
            feed.queue.put(None)  # for pygls: EOF
            break
        raw, msg = got
        kept += raw
        if msg is None:
            break
        try:
            if not loop.handle(msg):
                break
        except Exception:  # a bug here must not cost the session: pygls redoes it all
            log.warning("start-up loop stopped early; pygls takes over", exc_info=True)
            break
        if loop.published:
            start_loading()  # the first diagnostics are out: load pygls now
    start_loading()
    server = loaded.result()
    from pretense_dev.lsp.server import serve

    serve(server, _Replay(bytes(kept), feed), stdout, loop.answered)  # type: ignore[arg-type]
    return loop


def run_stdio(log_level: int = logging.WARNING) -> int:
    """`pretense-dev lsp`: the start-up loop, then pygls, over stdin/stdout."""
    logging.basicConfig(
        level=log_level, format="pretense-dev lsp: %(levelname)s %(name)s: %(message)s"
    )

    def load(contexts: Contexts) -> PretenseLanguageServer:
        from pretense_dev.lsp.server import setup_logging

        server = _load_pygls(contexts)
        setup_logging(log_level)
        return server

    run(FdReader(sys.stdin.fileno()), sys.stdout.buffer, load)
    return 0
