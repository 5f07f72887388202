"""The pygls 2.x server: built by `create_server()`, its features registered in one place.

Each feature unit is a module with a `setup(server)` function that registers
its handlers; `_features()` below is the one list of them (after
esbonio's `create_language_server` and its per-feature setup functions).
State lives on the server object, not in module globals, so every test and
every process gets its own.

Threads: handlers run on the asyncio loop; secrets are scanned on one
thread (`scan_pool`) and tree-sitter parsing and every index write run on
another (`work_pool`), so a 5,000-line scan never delays the next message
and SQLite writes never race inside the process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import FeatureRequestError
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from pretense_dev.lsp.context import Contexts
from pretense_dev.lsp.debounce import KeyedDebouncer
from pretense_dev.lsp.lean import NAME, server_version
from pretense_dev.lsp.names import BufferNames
from pretense_dev.lsp.options import InitOptions, parse_options
from pretense_dev.lsp.protocol import PretenseProtocol
from pretense_dev.lsp.status import StatusReporter

log = logging.getLogger(__name__)
# What failed, in the user's words, by pygls' error source.
_WHAT = {
    "FeatureNotificationError": "notification from the editor",
    "JsonRpcException": "message from the editor",
    "JsonRpcInternalError": "reply to the editor",
}


class PretenseLanguageServer(LanguageServer):
    """The server plus its state (contexts, buffers, pools, options)."""

    def __init__(self, contexts: Contexts | None = None) -> None:
        super().__init__(
            NAME,
            server_version(),
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=PretenseProtocol,
        )
        self.options = InitOptions()
        self.option_problems: list[str] = []
        # The start-up loop hands over the repositories it already loaded (a warm detector).
        self.contexts = contexts if contexts is not None else Contexts()
        self.buffers = BufferNames()
        # The latest secret diagnostics of each open document (`uris.key`), for hovers.
        self.findings: dict[str, list[types.Diagnostic]] = {}
        self.scan_pool = ThreadPoolExecutor(1, thread_name_prefix="pretense-scan")
        self.work_pool = ThreadPoolExecutor(1, thread_name_prefix="pretense-work")
        # Per-document scheduling, set up by the documents unit: secrets, buffer names.
        self.analysis: KeyedDebouncer | None = None
        self.naming: KeyedDebouncer | None = None
        self.status = StatusReporter(self)
        self._errors_shown: set[tuple[str, str]] = set()

    def apply_options(self, raw: Any) -> None:
        """Parse `initializationOptions`; problems are shown once initialized."""
        self.options, self.option_problems = parse_options(raw)
        for d in (self.analysis, self.naming):
            if d is not None:
                d.interval = self.options.debounce_ms / 1000

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log the traceback once per kind of failure; tell the user once, in one line.

        The traceback goes to the error log every entry point uses
        (`pretense_dev.bugs`), the first time each (source, type) occurs: a
        bug hit on every keystroke would otherwise fill it.  pygls would show
        `Error in server: {error}` on every failure: the text of an exception
        can hold document text (a `KeyError` holds the URI), and a popup per
        keystroke buries the editor.  A failed request is answered with an
        error response, so the client knows already.
        """
        import sys

        from pretense_dev.bugs import log_bug

        # pygls calls this inside its `except`, sometimes with a wrapper
        # (`JsonRpcInternalError`) that has no traceback: the exception being
        # handled is the one that says where the bug is.
        if error.__traceback__ is None and isinstance(sys.exc_info()[1], Exception):
            error = sys.exc_info()[1]  # type: ignore[assignment]
        where = getattr(source, "__name__", str(source))
        kind = type(error).__name__
        if (where, kind) in self._errors_shown:
            log.error("internal error (%s): %s", where, kind)
            return
        self._errors_shown.add((where, kind))
        logged = log_bug(error)
        log.error("internal error (%s): %s; details in %s", where, kind, logged)
        if source is FeatureRequestError:
            return
        what = _WHAT.get(where, "step")
        self.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Error,
                message=f"pretense-dev: an internal error ({kind}) stopped one {what}; "
                f"details in {logged}",
            )
        )

    def close(self) -> None:
        """Release threads, then connections (idempotent).

        The pools are drained first: closing a SQLite connection while the
        worker thread is inside a query on it crashes the process.
        """
        for d in (self.analysis, self.naming):
            if d is not None:
                d.close()
        self.status.stop()
        self.scan_pool.shutdown(wait=True, cancel_futures=True)
        self.work_pool.shutdown(wait=True, cancel_futures=True)
        self.contexts.close()


def _setup_lifecycle(server: PretenseLanguageServer) -> None:
    """The session: options, workspace folders, the first status, shutdown."""

    @server.feature(types.INITIALIZE)
    def initialize(ls: PretenseLanguageServer, params: types.InitializeParams) -> None:
        ls.apply_options(params.initialization_options)
        folders = [f.uri for f in params.workspace_folders or []]
        if not folders and params.root_uri:
            folders = [params.root_uri]
        ls.contexts.folders = [Path(p) for u in folders if (p := to_fs_path(u)) is not None]

    @server.feature(types.INITIALIZED)
    def initialized(ls: PretenseLanguageServer, params: types.InitializedParams) -> None:
        for problem in ls.option_problems:
            ls.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Warning, message=f"pretense-dev: {problem}"
                )
            )
        for folder in ls.contexts.folders:
            ls.status.announce(ls.contexts.for_path(folder / "."))
        ls.status.start_polling()

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders_changed(
        ls: PretenseLanguageServer, params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        removed = {to_fs_path(f.uri) for f in params.event.removed}
        kept = [f for f in ls.contexts.folders if str(f) not in removed]
        added = [Path(p) for f in params.event.added if (p := to_fs_path(f.uri)) is not None]
        ls.contexts.folders = kept + added
        for folder in added:
            ls.status.announce(ls.contexts.for_path(folder / "."))

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: PretenseLanguageServer, params: None) -> None:
        ls.close()


def _features() -> tuple[Callable[[PretenseLanguageServer], None], ...]:
    from pretense_dev.lsp import actions, documents, hover

    return (_setup_lifecycle, documents.setup, hover.setup, actions.setup)


def create_server(contexts: Contexts | None = None) -> PretenseLanguageServer:
    """A new server with every feature registered (the one place they are listed)."""
    server = PretenseLanguageServer(contexts)
    for setup in _features():
        setup(server)
    return server


class _NoParams(logging.Filter):
    """Drop the arguments and tracebacks of pygls' log records: they can hold document text.

    pygls logs whole messages (`Failed to handle notification %r: %s`, with the
    didChange params) — a secret in a buffer must not reach the editor's log.
    Its tracebacks end with the exception's text; `report_server_error` writes
    them to the private error log instead.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.partition(".")[0] in ("pygls", "lsprotocol"):
            if record.args:
                record.msg = f"{record.msg} [arguments withheld]"
                record.args = None
            if record.exc_info or record.exc_text:
                record.exc_info = None
                record.exc_text = None
                record.msg = f"{record.msg} [traceback in the error log]"
        return True


def setup_logging(log_level: int) -> None:
    """Log to stderr, never a message's arguments (see `_NoParams`)."""
    logging.basicConfig(
        level=log_level, format="pretense-dev lsp: %(levelname)s %(name)s: %(message)s"
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_NoParams())
    for name in ("pygls", "lsprotocol"):
        logging.getLogger(name).setLevel(max(log_level, logging.WARNING))


def serve(
    server: PretenseLanguageServer,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
    answered_initialize: Any = None,
) -> None:
    """Run `server` until the client exits; `answered_initialize`: see `PretenseProtocol`."""
    if answered_initialize is not None:
        assert isinstance(server.protocol, PretenseProtocol)
        server.protocol.answered_initialize = answered_initialize
    try:
        server.start_io(stdin, stdout)
    finally:
        server.close()


def run_stdio(log_level: int = logging.WARNING) -> int:
    """Serve over stdin/stdout until the client exits, pygls alone (no start-up loop)."""
    setup_logging(log_level)
    serve(create_server())
    return 0
