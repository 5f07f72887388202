"""File → language, and the tree-sitter grammars (loaded lazily, once per process)."""

from __future__ import annotations

import functools
import importlib
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Language

# extension -> language name.  Names are ours; `GRAMMARS` says where each comes from.
EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".java": "java",
    ".cs": "csharp",
    ".rb": "ruby",
    ".rake": "ruby",
    ".rs": "rust",
    ".php": "php",
    ".phtml": "php",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".c": "c",
    # A header may be C or C++: the C++ grammar reads both (C's grammar stops at `class`).
    ".h": "cpp",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hh": "cpp",
    ".hpp": "cpp",
    ".hxx": "cpp",
    ".h++": "cpp",
    ".ipp": "cpp",
    ".tpp": "cpp",
}
FILENAMES: dict[str, str] = {
    "Rakefile": "ruby",
    "Gemfile": "ruby",
    "Cargo.toml": "cargo",
    "go.mod": "gomod",
    "package.json": "npm",
    "pyproject.toml": "pyproject",
}

# Pseudo-languages without a grammar: package manifests, read by
# `extract._manifest_names` for the repository's own crate/module/package names.
MANIFESTS: frozenset[str] = frozenset({"cargo", "gomod", "npm", "pyproject"})

# language -> (module, function returning the grammar capsule)
GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "java": ("tree_sitter_java", "language"),
    "csharp": ("tree_sitter_c_sharp", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    "rust": ("tree_sitter_rust", "language"),
    # `language_php` parses PHP inside HTML (text outside `<?php … ?>`), as files are.
    "php": ("tree_sitter_php", "language_php"),
    "kotlin": ("tree_sitter_kotlin", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
}

# Languages whose stop lists are shared (TS and TSX are JavaScript plus types;
# a manifest names packages of its ecosystem's language).
STOPLIST_FAMILY: dict[str, str] = {
    "typescript": "javascript",
    "tsx": "javascript",
    "cargo": "rust",
    "gomod": "go",
    "npm": "javascript",
    "pyproject": "python",
    "cpp": "c",
}


def language_for_path(path: str) -> str | None:
    """Our language name for a repo-relative path, or None for the token fallback."""
    p = PurePosixPath(path)
    lang = FILENAMES.get(p.name)
    if lang is not None:
        return lang
    return EXTENSIONS.get(p.suffix.lower())


@functools.cache
def grammar(language: str) -> Language:
    """The tree-sitter Language for one of `GRAMMARS`."""
    from tree_sitter import Language  # deferred: only indexing parses

    module, func = GRAMMARS[language]
    return Language(getattr(importlib.import_module(module), func)())
