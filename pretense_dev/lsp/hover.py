"""Hover on an identifier: protected or not, the name AI tools see, where it is defined.

A hover over a detected secret says what was found (rule, fingerprint, how
to allow it) and never repeats the word under the cursor: on a line with a
finding, a word that is not a name the repository or the buffer defines may
be (part of) the secret itself, and a hover is text the editor shows, logs
and hands to AI tools.

A hover waits (briefly) for the document's pending analysis, so a name typed
a moment ago already shows the synthetic it was given from the buffer.  The
reasons a name is not protected come from `index.explain`, the same text
`pretense-dev explain NAME` prints.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lsprotocol import types

from pretense_dev.identifiers.stoplists import TOKEN
from pretense_dev.lsp.documents import document_path
from pretense_dev.lsp.uris import find, key

if TYPE_CHECKING:
    from pygls.workspace import TextDocument

    from pretense_dev.lsp.context import WorkspaceRepo
    from pretense_dev.lsp.names import BufferDef
    from pretense_dev.lsp.server import PretenseLanguageServer

_WORD = re.compile(r"[A-Za-z0-9_]+")
MAX_PLACES = 5
WAIT_FOR_NAMES_S = 2.0


def word_at(doc: TextDocument, pos: types.Position) -> tuple[str, types.Range] | None:
    """The identifier-shaped word under the cursor and its range (client units)."""
    lines = doc.lines
    if pos.line >= len(lines):
        return None
    server_pos = doc.position_from_client_units(pos)
    line = lines[server_pos.line]
    col = server_pos.character
    for m in _WORD.finditer(line):
        if m.start() <= col <= m.end():
            codec = doc.position_codec
            start = codec.client_num_units(line[: m.start()])
            end = start + codec.client_num_units(m.group())
            rng = types.Range(
                start=types.Position(line=pos.line, character=start),
                end=types.Position(line=pos.line, character=end),
            )
            return m.group(), rng
    return None


def describe(ctx: WorkspaceRepo, name: str, rel: str | None, in_buffer: BufferDef | None) -> str:
    """The hover's Markdown."""
    from pretense_dev.index.explain import explain
    from pretense_dev.index.indexer import always_names

    store = ctx.read_store()
    if store is None or ctx.repo is None:
        return (
            f"`{name}` — not protected: this file is not in a repository set up with "
            "`pretense-dev init`."
        )
    policy = ctx.policy()
    cfg = policy.config.identifiers
    e = explain(ctx.repo, name, store=store, config=cfg)
    out: list[str] = []
    if e.protected and e.synthetic:
        out.append(f"🔒 `{name}` is protected: AI tools see `{e.synthetic}`.")
    else:
        out.append(f"`{name}` is not protected: {e.reason}.")
    saved_here = any(path == rel for path, _, _ in e.definitions)
    if in_buffer is not None and not saved_here:
        where = f"line {in_buffer.line}" if in_buffer.line else "its path"
        tail = " — protected as soon as it was typed" if e.protected else ""
        out.append(f"Defined in this unsaved buffer, {where} ({in_buffer.kind}){tail}.")
    for path, kind, line in e.definitions[:MAX_PLACES]:
        out.append(f"Defined at `{path}:{line}` ({kind})." if line else f"`{path}` ({kind}).")
    if len(e.definitions) > MAX_PLACES:
        out.append(f"… and {len(e.definitions) - MAX_PLACES} more definitions.")
    if e.protected and name in always_names(cfg.always):
        out.append("Listed in `always` in `.pretense/config.toml`.")
    if policy.error:
        out.append(f"⚠ The policy file is invalid, the last valid one is in force: {policy.error}")
    return "\n\n".join(out)


def secret_at(findings: list[types.Diagnostic], line: int) -> types.Diagnostic | None:
    """The secret diagnostic covering 0-based `line`, if any."""
    for d in findings:
        if d.range.start.line <= line <= d.range.end.line:
            return d
    return None


def is_defined(ctx: WorkspaceRepo, name: str, in_buffer: BufferDef | None) -> bool:
    """Whether `name` is a name this buffer or the repository's map knows."""
    if in_buffer is not None:
        return True
    store = ctx.read_store()
    return store is not None and store.issued([name]).get(name) is not None


def describe_secret(finding: types.Diagnostic) -> str:
    """The hover's Markdown over a finding: what it is and how to allow it, not the value."""
    return f"⚠ {finding.message}"


def setup(server: PretenseLanguageServer) -> None:
    """Register `textDocument/hover`."""

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: PretenseLanguageServer, params: types.HoverParams) -> types.Hover | None:
        if not ls.options.hover:
            return None
        doc_key = key(params.text_document.uri)
        doc = find(ls, params.text_document.uri)
        if doc is None:
            return None
        found = word_at(doc, params.position)
        if found is None or not TOKEN.match(found[0]):
            return None
        name, rng = found
        # The buffer's latest names are recorded first (scan, then names).
        for d in (ls.analysis, ls.naming):
            if d is not None:
                await d.wait_idle(doc_key, WAIT_FOR_NAMES_S)
        path = document_path(doc)
        ctx = ls.contexts.for_path(path)
        rel = ctx.relpath(path) if path is not None else None
        in_buffer = ls.buffers.get(doc_key, name)
        secret = secret_at(ls.findings.get(doc_key, []), params.position.line)
        if secret is not None and not is_defined(ctx, name, in_buffer):
            text = describe_secret(secret)
        else:
            text = describe(ctx, name, rel, in_buffer)
            if secret is not None:
                text += "\n\n" + describe_secret(secret)
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text), range=rng
        )
