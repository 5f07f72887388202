"""The demo's editor step: the real language server and the watcher on the sample repository.

An LSP client (pygls) starts `pretense-dev lsp` as an editor would, opens a
sample file and types into it without saving: a new function (the hover shows
the synthetic name it got at once) and a made-up token built at run time (the
diagnostic names the rule, never the value).  Then the watcher indexes a file
written to disk outside any editor.
"""

from __future__ import annotations

import asyncio
import queue
import secrets
import string
import sys
import time
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pygls.lsp.client import LanguageClient

    from pretense_dev.demo.console import DemoContext

TIMEOUT = 30.0
SAMPLE = "billing/ledger_reconciler.py"
NEW_FUNCTION = "forecast_dunning_exposure"


def _fake_token() -> str:
    """A GitHub-token shape with a valid checksum, built from parts at run time."""
    alnum = string.ascii_letters + string.digits
    digits = string.digits + string.ascii_uppercase + string.ascii_lowercase
    body = "".join(secrets.choice(alnum) for _ in range(30))
    n, check = zlib.crc32(body.encode()), ""
    while n:
        n, r = divmod(n, 62)
        check = digits[r] + check
    return "gh" + "p_" + body + check.rjust(6, "0")


def run(ctx: DemoContext) -> bool:
    """The editor half, then the watcher half."""
    from pretense_dev.demo.console import heading

    heading("in the editor: pretense-dev lsp (an unsaved buffer)")
    ok = asyncio.run(asyncio.wait_for(_editor(ctx), TIMEOUT * 2))
    heading("outside the editor: pretense-dev watch")
    return _watcher(ctx) and ok


async def _editor(ctx: DemoContext) -> bool:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    from pretense_dev.demo.console import out

    client = LanguageClient("pretense-demo", "1")
    published: dict[int, list[types.Diagnostic]] = {}
    arrived = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)  # type: ignore[untyped-decorator]
    def _publish(params: types.PublishDiagnosticsParams) -> None:
        if params.version is not None:
            published[params.version] = list(params.diagnostics)
            arrived.set()

    @client.feature("pretense/status")  # type: ignore[untyped-decorator]
    def _status(params: Any) -> None:
        pass

    # An editor shows these as pop-ups; unhandled, pygls prints a stray
    # "Ignoring notification" line into the demo.  Shown once the step is done.
    messages: list[str] = []

    @client.feature(types.WINDOW_SHOW_MESSAGE)  # type: ignore[untyped-decorator]
    def _message(params: types.ShowMessageParams) -> None:
        messages.append(params.message)

    await client.start_io(sys.executable, "-m", "pretense_dev", "lsp")
    try:
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                workspace_folders=[types.WorkspaceFolder(uri=ctx.repo.as_uri(), name="sample")],
            )
        )
        client.initialized(types.InitializedParams())
        path = ctx.repo / SAMPLE
        text = path.read_text(encoding="utf-8")
        uri = path.as_uri()
        _open(client, uri, text)
        lines = text.splitlines()
        typed = f"\n\ndef {NEW_FUNCTION}(ledger):\n    return ledger\n"
        _replace(client, uri, 2, text + typed)
        out(f"typed into {SAMPLE} (not saved): def {NEW_FUNCTION}(ledger): ...")
        hover = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=len(lines) + 2, character=6),
            )
        )
        if hover is None or not isinstance(hover.contents, types.MarkupContent):
            out("no hover came back")
            return False
        for para in hover.contents.value.split("\n\n"):
            out(f"  hover │ {para}")
        token = _fake_token()
        _replace(client, uri, 3, text + typed + f'\nGITHUB_TOKEN = "{token}"\n')
        out('typed: GITHUB_TOKEN = "ghp_…" (a made-up token, built at run time)')
        deadline = time.monotonic() + TIMEOUT
        while 3 not in published and time.monotonic() < deadline:
            arrived.clear()
            try:
                await asyncio.wait_for(arrived.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        diags = published.get(3)
        if diags is None:
            out("no diagnostics came back")
            return False
        for d in diags:
            out(f"  diagnostic │ line {d.range.start.line + 1}: {d.message}")
        leaked = any(token in d.message for d in diags)
        out("the value appears in no diagnostic" if not leaked else "THE VALUE LEAKED")
        for m in messages:
            out(f"  pop-up │ {m}")
        return bool(diags) and not leaked
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()  # type: ignore[no-untyped-call]


def _open(client: LanguageClient, uri: str, text: str) -> None:
    from lsprotocol import types

    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text
            )
        )
    )


def _replace(client: LanguageClient, uri: str, version: int, text: str) -> None:
    from lsprotocol import types

    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def _watcher(ctx: DemoContext) -> bool:
    from pretense_dev.demo.console import out
    from pretense_dev.index.watcher import IndexWatcher, WatchReport
    from pretense_dev.repo import Repo

    reports: queue.Queue[WatchReport] = queue.Queue()
    watcher = IndexWatcher([ctx.repo], quiet=0.1, workers=1, on_indexed=reports.put)
    watcher.start()
    try:
        if not watcher.wait_idle(TIMEOUT):
            out("the watcher did not start")
            return False
        rel = "billing/cash_runway.py"
        (ctx.repo / rel).write_text("def project_cash_runway(ledger):\n    return ledger\n")
        out(f"a code generator writes {rel} (def project_cash_runway)")
        report = reports.get(timeout=TIMEOUT)
        while report.index is None or report.full:
            report = reports.get(timeout=TIMEOUT)
        i = report.index
        out(
            f"  watcher │ {', '.join(report.paths)}: {i.files_parsed} indexed in "
            f"{i.seconds * 1000:.0f} ms; {i.names_protected} names protected (+{i.names_added})"
        )
        with Repo(ctx.repo).open_store() as store:
            row = store.issued(["project_cash_runway"]).get("project_cash_runway")
        if row is None or not row.active:
            out("project_cash_runway is not protected")
            return False
        out(f"  project_cash_runway is sent as {row.synthetic}, with no editor involved")
        return True
    except queue.Empty:
        out("the watcher reported nothing")
        return False
    finally:
        watcher.stop()
