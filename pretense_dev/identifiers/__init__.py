"""Which names a repository defines, per language (tree-sitter + our queries).

Importing this package is cheap; tree-sitter loads on the first parse
(`extract.extract_definitions`), so the hook and verify paths never pay for it.
"""

from __future__ import annotations

from dataclasses import dataclass

# The kinds a definition can have; `mutation.synth.HINTS` gives each a hint.
KINDS = (
    "function",
    "method",
    "class",
    "type",
    "field",
    "variable",
    "constant",
    "parameter",
    "module",
    "member",
    "name",
)


# When a name is defined several ways (in one file, or across files), the most
# telling kind wins: it picks the synthetic's hint.
PRIORITY = (
    "class",
    "type",
    "method",
    "function",
    "constant",
    "member",
    "field",
    "module",
    "variable",
    "parameter",
    "name",
)
# The same order as an SQL expression over a `kind` column.
KIND_RANK_SQL = (
    "CASE kind "
    + " ".join(f"WHEN '{k}' THEN {i}" for i, k in enumerate(PRIORITY))
    + f" ELSE {len(PRIORITY)} END"
)


@dataclass(frozen=True, slots=True)
class Definition:
    """A name defined at a place: what `explain` shows and the map is built from."""

    name: str
    kind: str
    line: int  # 1-based


__all__ = ["KINDS", "KIND_RANK_SQL", "PRIORITY", "Definition"]
