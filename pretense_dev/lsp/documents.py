"""Open documents: secret diagnostics and buffer names on every edit, re-index on save.

pygls applies didOpen/didChange (full or incremental) to its workspace before
these handlers run, so a handler only asks for an analysis of the URI; the
debouncers (`debounce.KeyedDebouncer`) decide when the two analyses run, and
each reads the document as it is then:

1. scan the buffer's text for secrets (scan thread) → publish diagnostics for
   that document version — only this document, never the repository;
2. extract the buffer's definitions and record new ones in the map (worker
   thread, `names.BufferNames`).

Each has its own debouncer, and names are asked for only once the
diagnostics of that edit are out: tree-sitter holds the GIL while it parses
(~20 ms for 5,000 lines), so running both at once delayed diagnostics about
threefold in bench/lsp_diagnostics.py.

On save the file is re-indexed alone (`run_index(only=[path])`) unless git
ignores it, and `pretense/status` reports the new map size and the proxy's
state.  Saving `.pretense/config.toml` re-applies the policy to the map.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from pretense_dev.index.retry import retry_on_conflict
from pretense_dev.lsp.context import WorkspaceRepo
from pretense_dev.lsp.debounce import KeyedDebouncer
from pretense_dev.lsp.diagnostics import to_diagnostics
from pretense_dev.lsp.names import buffer_language, extract
from pretense_dev.lsp.uris import find, key, lookup

if TYPE_CHECKING:
    from pygls.workspace import TextDocument

    from pretense_dev.index.indexer import IndexReport
    from pretense_dev.lsp.server import PretenseLanguageServer

POLICY_REL = ".pretense/config.toml"


@dataclass(frozen=True)
class Snapshot:
    """A document as one analysis sees it."""

    key: str  # `uris.key`: what the server files it under
    uri: str  # as the client opened it: what diagnostics are published for
    version: int | None
    text: str
    path: Path | None
    rel: str | None
    language: str | None
    ctx: WorkspaceRepo


def document_path(doc: TextDocument) -> Path | None:
    """The file behind a document, or None for untitled and other schemes."""
    p = to_fs_path(doc.uri) if doc.uri.startswith("file:") else None
    return Path(p) if p else None


def snapshot(ls: PretenseLanguageServer, doc_key: str) -> Snapshot | None:
    """The document as it is now (None once closed)."""
    doc = lookup(ls, doc_key)
    if doc is None:
        return None
    path = document_path(doc)
    ctx = ls.contexts.for_path(path)
    rel = ctx.relpath(path) if path is not None else None
    return Snapshot(
        doc_key,
        doc.uri,
        doc.version,
        doc.source,
        path,
        rel,
        buffer_language(rel, path, doc.language_id),
        ctx,
    )


def scan(ls: PretenseLanguageServer, snap: Snapshot) -> list[types.Diagnostic]:
    """Secret diagnostics for a snapshot (scan thread)."""
    findings = snap.ctx.scanner().scan_text(snap.text, snap.rel)
    lines = snap.text.splitlines(True) if findings else []
    codec = ls.workspace.position_codec
    return to_diagnostics(findings, lines, codec, ls.options.severity)


def record_names(ls: PretenseLanguageServer, snap: Snapshot) -> int:
    """Extract the buffer's definitions and record them (worker thread)."""
    if snap.rel is not None and snap.rel.startswith(".pretense/"):
        return 0
    if len(snap.text) > snap.ctx.policy().config.index.max_file_bytes:
        defs = {}  # the indexer skips such a file too (index.max_file_bytes)
    else:
        defs = extract(snap.text, snap.rel, snap.language)
    return ls.buffers.update(snap.key, snap.ctx, defs)


def reindex(ls: PretenseLanguageServer, ctx: WorkspaceRepo, rel: str) -> IndexReport | None:
    """Re-index one saved file (worker thread); None if it is not indexed."""
    from pretense_dev.index.indexer import run_index
    from pretense_dev.worktree import git_ignored

    store, root = ctx.write_store(), ctx.root
    if store is None or root is None or not ctx.writable():
        return None
    only = [] if rel == POLICY_REL else [rel]  # [] still re-applies a changed policy
    if only and git_ignored(root, only):
        return None
    cfg, key = ctx.policy().config, ctx.key
    extra = ls.buffers.extra_for(ctx)
    return retry_on_conflict(
        lambda: run_index(root, store, cfg, key, only=only, workers=1, extra_defined=extra)
    )


def setup(server: PretenseLanguageServer) -> None:
    """Register text sync handlers and the per-document analysis."""

    async def diagnose(doc_key: str) -> None:
        try:
            snap = snapshot(server, doc_key)
            if snap is None:
                return
            loop = asyncio.get_running_loop()
            diags = await loop.run_in_executor(server.scan_pool, scan, server, snap)
            if lookup(server, doc_key) is None:
                return  # closed meanwhile: its diagnostics were cleared on close
            server.findings[doc_key] = diags
            server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=snap.uri, diagnostics=diags, version=snap.version
                )
            )
        finally:  # names next, whatever happened to the scan
            if server.naming is not None and lookup(server, doc_key) is not None:
                server.naming.request(doc_key)

    async def name(doc_key: str) -> None:
        snap = snapshot(server, doc_key)
        if snap is not None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(server.work_pool, record_names, server, snap)

    interval = server.options.debounce_ms / 1000
    server.analysis = KeyedDebouncer(interval, diagnose)
    server.naming = KeyedDebouncer(interval, name)

    def request(ls: PretenseLanguageServer, uri: str) -> None:
        assert ls.analysis is not None
        ls.analysis.request(key(uri))  # which then asks for names

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PretenseLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        request(ls, params.text_document.uri)
        doc = find(ls, params.text_document.uri)
        if doc is not None:
            ls.status.announce(ls.contexts.for_path(document_path(doc)))

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PretenseLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        request(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(
        ls: PretenseLanguageServer, params: types.DidCloseTextDocumentParams
    ) -> None:
        uri = params.text_document.uri
        doc_key = key(uri)
        assert ls.analysis is not None and ls.naming is not None
        ls.analysis.forget(doc_key)
        ls.naming.forget(doc_key)
        ls.findings.pop(doc_key, None)
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )
        await asyncio.get_running_loop().run_in_executor(ls.work_pool, ls.buffers.remove, doc_key)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    async def did_save(ls: PretenseLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        doc = find(ls, params.text_document.uri)
        path = document_path(doc) if doc is not None else None
        if path is None:
            return
        ctx = ls.contexts.for_path(path)
        rel = ctx.relpath(path)
        if rel is None or not ctx.initialised:
            return
        if rel.startswith(".pretense/") and rel != POLICY_REL:
            return
        loop = asyncio.get_running_loop()
        report = await loop.run_in_executor(ls.work_pool, reindex, ls, ctx, rel)
        error = ctx.policy().error
        if rel == POLICY_REL and error is not None:
            ls.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Error,
                    message=f"pretense-dev: {error} — the last valid policy stays in force.",
                )
            )
        if report is not None:
            await ls.status.refresh(ctx, "policy" if rel == POLICY_REL else "saved")
