"""A minimal LSP client for the language-server benchmarks: the real server over stdio.

Arrival times are taken in the client's notification handlers, after the
JSON is parsed, as an editor would see them.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

SERVER = [sys.executable, "-m", "pretense_dev", "lsp"]


class BenchClient:
    """Starts `pretense-dev lsp` and records publishes and statuses with their arrival time."""

    def __init__(self) -> None:
        self.client = LanguageClient("pretense-bench", "1")
        self.published: list[tuple[float, types.PublishDiagnosticsParams]] = []
        self.statuses: list[tuple[float, dict[str, Any]]] = []
        self.changed = asyncio.Event()

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)  # type: ignore[untyped-decorator]
        def _publish(params: types.PublishDiagnosticsParams) -> None:
            self.published.append((time.perf_counter(), params))
            self.changed.set()

        @self.client.feature("pretense/status")  # type: ignore[untyped-decorator]
        def _status(params: Any) -> None:
            data = params._asdict() if hasattr(params, "_asdict") else dict(params)
            self.statuses.append((time.perf_counter(), data))
            self.changed.set()

        @self.client.feature(types.WINDOW_SHOW_MESSAGE)  # type: ignore[untyped-decorator]
        def _message(params: types.ShowMessageParams) -> None:
            pass

    @property
    def pid(self) -> int:
        server = self.client._server
        assert server is not None
        return server.pid

    async def start(self, root: Path, options: dict[str, Any] | None = None) -> None:
        await self.client.start_io(*SERVER)
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
                initialization_options=options,
            )
        )
        self.client.initialized(types.InitializedParams())

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()  # type: ignore[no-untyped-call]

    async def until(self, probe: Any, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            self.changed.clear()
            value = probe()
            if value is not None:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the server did not answer in time")
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                continue

    async def published_at(self, uri: str, version: int) -> tuple[float, list[types.Diagnostic]]:
        """(arrival time, diagnostics) of the publish for `uri` at `version`."""

        def probe() -> tuple[float, list[types.Diagnostic]] | None:
            for t, p in reversed(self.published):
                if p.uri == uri and p.version == version:
                    return t, list(p.diagnostics)
            return None

        result: tuple[float, list[types.Diagnostic]] = await self.until(probe)
        return result

    async def status_after(self, index: int, reason: str) -> tuple[float, dict[str, Any]]:
        """The first status with this reason among those after position `index`."""
        result: tuple[float, dict[str, Any]] = await self.until(
            lambda: next(((t, s) for t, s in self.statuses[index:] if s["reason"] == reason), None)
        )
        return result

    def open(self, path: Path, text: str, version: int = 1) -> str:
        uri = path.as_uri()
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=version, text=text
                )
            )
        )
        return uri

    def change(self, uri: str, version: int, line: int, start: int, end: int, text: str) -> None:
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(
                            start=types.Position(line=line, character=start),
                            end=types.Position(line=line, character=end),
                        ),
                        text=text,
                    )
                ],
            )
        )

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    def save(self, uri: str) -> None:
        self.client.text_document_did_save(
            types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in KiB, from /proc (Linux)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"]


def big_module(token: str | None, lines: int = 5000, at: int = 3001) -> str:
    """A `lines`-line Python module; line `at` (1-based) assigns `token` if given."""
    out = []
    for i in range(1, lines + 1):
        if i == at and token is not None:
            out.append(f'    api_token = "{token}"')
        elif i % 5 == 1:
            out.append(f"def handler_{i}(request):")
        elif i % 5 == 0:
            out.append("")
        else:
            out.append(f"    value_{i} = request.get('field_{i}', {i})")
    return "\n".join(out) + "\n"
