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


@dataclass(frozen=True, slots=True)
class Definition:
    """A name defined at a place: what `explain` shows and the map is built from."""

    name: str
    kind: str
    line: int  # 1-based


__all__ = ["KINDS", "Definition"]
