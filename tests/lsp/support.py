"""Helpers for the language-server tests: a recording client, waits on events, test tokens.

Waiting is always on notifications (an `asyncio.Event` set by the client's
handlers) with a timeout, never on the clock: a fixed sleep is either flaky or slow.
"""

from __future__ import annotations

import asyncio
import secrets
import string
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, Union

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

T = TypeVar("T")
STATUS = "pretense/status"
TIMEOUT = 30.0  # generous for a loaded 2-core CI; a pass takes milliseconds
ALNUM = string.ascii_letters + string.digits


class RecordingClient(LanguageClient):
    """pytest-lsp's client, also keeping every publish and status in order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.published: list[types.PublishDiagnosticsParams] = []
        self.statuses: list[dict[str, Any]] = []
        self.changed = asyncio.Event()

    async def until(self, probe: Callable[[], T | None], timeout: float = TIMEOUT) -> T:
        """Wait until `probe()` returns something other than None/False; return it."""
        deadline = time.monotonic() + timeout
        while True:
            self.changed.clear()
            value = probe()
            if value is not None and value is not False:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the server did not send what the test waits for")
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                continue

    async def diagnostics_at(
        self, uri: str, version: int, timeout: float = TIMEOUT
    ) -> list[types.Diagnostic]:
        """The diagnostics published for `uri` at exactly `version`."""

        def probe() -> list[types.Diagnostic] | None:
            for p in reversed(self.published):
                if p.uri == uri and p.version == version:
                    return list(p.diagnostics)
            return None

        found = await self.until(lambda: (x,) if (x := probe()) is not None else None, timeout)
        return found[0]

    async def status(self, reason: str, after: int = 0, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The first status notification with this reason, among those after index `after`."""
        return await self.until(
            lambda: next((s for s in self.statuses[after:] if s.get("reason") == reason), None),
            timeout,
        )


def _on_publish(client: RecordingClient, params: types.PublishDiagnosticsParams) -> None:
    client.diagnostics[params.uri] = params.diagnostics
    client.published.append(params)
    client.changed.set()


def _on_status(client: RecordingClient, params: Any) -> None:
    # pygls gives params of an unknown method as a namedtuple `Object`.
    data = params._asdict() if hasattr(params, "_asdict") else dict(params)
    client.statuses.append(data)
    client.changed.set()


def _on_message(client: RecordingClient, params: types.ShowMessageParams) -> None:
    client.messages.append(params)
    client.changed.set()


def _converter() -> Any:
    """The converter of lsprotocol, with its Command | CodeAction hook fixed.

    lsprotocol 2025.0.0 structures any item with a `command` key as a Command,
    so a CodeAction that carries a command arrives as a Command whose
    `command` is the repr of a dict.  A Command's `command` is a string.
    """
    conv = default_converter()  # type: ignore[no-untyped-call]

    def hook(obj: Any, _: Any) -> types.Command | types.CodeAction:
        if isinstance(obj.get("command"), str):
            return conv.structure(obj, types.Command)  # type: ignore[no-any-return]
        return conv.structure(obj, types.CodeAction)  # type: ignore[no-any-return]

    conv.register_structure_hook(types.Command | types.CodeAction, hook)
    conv.register_structure_hook(Union[types.Command, types.CodeAction], hook)  # noqa: UP007
    return conv


def make_client() -> RecordingClient:
    client = RecordingClient(converter_factory=_converter)
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = _on_publish
    features[types.WINDOW_SHOW_MESSAGE] = _on_message
    features[STATUS] = _on_status
    register_lsp_features(client, features)
    return client


SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "pretense_dev", "lsp"], client_factory=make_client
)


def initialize_params(root: Path, options: Any = None) -> types.InitializeParams:
    import pytest_lsp

    return types.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        initialization_options=options,
    )


def open_doc(
    client: LanguageClient, path: Path, text: str, language_id: str = "python", version: int = 1
) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language_id, version=version, text=text
            )
        )
    )
    return uri


def replace_range(
    client: LanguageClient,
    uri: str,
    version: int,
    start: tuple[int, int],
    end: tuple[int, int],
    text: str,
) -> None:
    """An incremental change (what VS Code sends)."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=start[0], character=start[1]),
                        end=types.Position(line=end[0], character=end[1]),
                    ),
                    text=text,
                )
            ],
        )
    )


def replace_all(client: LanguageClient, uri: str, version: int, text: str) -> None:
    """A full-document change (what clients without incremental sync send)."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def hover_text(h: types.Hover | None) -> str:
    assert h is not None
    c = h.contents
    assert isinstance(c, types.MarkupContent)
    return c.value


# -- test secrets, built at run time (a real-looking secret is never committed) ---------


def _base62(n: int) -> str:
    digits = string.digits + string.ascii_uppercase + string.ascii_lowercase
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = digits[r] + out
    return out.rjust(6, "0")


def github_token() -> str:
    """A GitHub personal access token shape with a valid CRC32 checksum."""
    body = "".join(secrets.choice(ALNUM) for _ in range(30))
    return "gh" + "p_" + body + _base62(zlib.crc32(body.encode()))
