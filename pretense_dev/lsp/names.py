"""Names defined in open buffers, and how they reach the proxy's map before a save.

A name typed in an editor may be quoted in a prompt (an inline completion
sends the buffer within ~100 ms) long before the file is saved and indexed.
So on every analysed edit the server extracts the buffer's definitions
exactly as the indexer would (`indexer.definitions_in`) and records them in
the repository's index through the indexer's own `update_map`, passing the
open buffers' definitions as `extra_defined`:

* a new name gets its synthetic from the repo key, the same one the indexer
  would issue at save time (`synthesize` is deterministic and the rows are
  the same rows), and becomes active at once;
* `update_map` bumps `map_version`, which the proxy polls: its map grows
  without a restart, and within a proxy session the map only grows;
* a name that leaves every buffer and that no saved file defines is
  deactivated the same way (its synthetic row is kept, as for every name),
  so half-typed prefixes do not stay protected forever.

Nothing is recorded outside an initialised repository, nor while its policy
file has been invalid since the server started (`WorkspaceRepo.writable`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from pretense_dev.identifiers.languages import language_for_path
from pretense_dev.index.indexer import allowed, always_names, definitions_in, update_map
from pretense_dev.index.retry import retry_on_conflict
from pretense_dev.lsp.context import WorkspaceRepo

# LSP languageId → our language, for buffers whose path says nothing (untitled).
LANGUAGE_IDS = {
    "python": "python",
    "javascript": "javascript",
    "javascriptreact": "javascript",
    "typescript": "typescript",
    "typescriptreact": "tsx",
    "go": "go",
    "java": "java",
    "csharp": "csharp",
    "ruby": "ruby",
    "rust": "rust",
}


@dataclass(frozen=True)
class BufferDef:
    """A definition found in a buffer."""

    kind: str
    line: int  # 1-based, 0 for a module name from the path


def buffer_language(rel: str | None, path: Path | None, language_id: str | None) -> str | None:
    """Our language for a buffer: by path like the indexer, else by the editor's languageId."""
    for candidate in (rel, path.name if path is not None else None):
        if candidate:
            lang = language_for_path(candidate)
            if lang is not None:
                return lang
    return LANGUAGE_IDS.get(language_id or "")


def extract(text: str, rel: str | None, language: str | None) -> dict[str, BufferDef]:
    """Definitions of an unsaved buffer, as the indexer would record the saved file."""
    data = text.encode("utf-8", "surrogatepass")
    defs = definitions_in(data, rel or "", language, skip_generated=True)
    return {name: BufferDef(kind, line) for name, kind, line in defs}


class BufferNames:
    """Definitions per open document; recording runs on the worker thread only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._defs: dict[str, tuple[WorkspaceRepo, dict[str, BufferDef]]] = {}

    def get(self, uri: str, name: str) -> BufferDef | None:
        """Where the buffer `uri` defines `name`, if it does."""
        with self._lock:
            entry = self._defs.get(uri)
        return None if entry is None else entry[1].get(name)

    def extra_for(self, ctx: WorkspaceRepo) -> dict[str, str]:
        """Name → kind for every open buffer of this repository."""
        out: dict[str, str] = {}
        with self._lock:
            for c, defs in self._defs.values():
                if c is ctx:
                    for n, d in defs.items():
                        out.setdefault(n, d.kind)
        return out

    def update(self, uri: str, ctx: WorkspaceRepo, defs: dict[str, BufferDef]) -> int:
        """The buffer now defines `defs`: record what changed; return names written."""
        with self._lock:
            prev = self._defs.get(uri)
            self._defs[uri] = (ctx, defs)
        before = prev[1] if prev is not None and prev[0] is ctx else {}
        return self._record(ctx, set(defs) ^ set(before))

    def remove(self, uri: str) -> int:
        """The buffer was closed: its unsaved names stop counting."""
        with self._lock:
            prev = self._defs.pop(uri, None)
        if prev is None:
            return 0
        return self._record(prev[0], set(prev[1]))

    def _record(self, ctx: WorkspaceRepo, changed: set[str]) -> int:
        if not changed or not ctx.writable():
            return 0
        store = ctx.write_store()
        if store is None:
            return 0
        cfg = ctx.policy().config.identifiers
        extra = self.extra_for(ctx)
        rows = store.issued(changed)
        always = always_names(cfg.always) - set(cfg.never)
        vanished = [n for n in changed if n not in extra and n not in always]
        still_defined = store.defined_names(
            [n for n in vanished if (r := rows.get(n)) is not None and r.active]
        )
        todo: set[str] = set()
        for n in changed:
            row = rows.get(n)
            active = row is not None and row.active
            if n in extra:
                if not active and (allowed(n, cfg) or n in always):
                    todo.add(n)  # typed just now: protect it
            elif active and n not in always and n not in still_defined:
                todo.add(n)  # gone from every buffer and never saved: unprotect
        if not todo:
            return 0
        added, removed = retry_on_conflict(
            lambda: update_map(store, cfg, ctx.key, todo, extra_defined=extra)
        )
        return added + removed
