"""Which source files the map cannot read, said out loud.

A file in a language without a grammar (`languages.GRAMMARS`) is indexed by
the token fallback, which defines no names: the classes, functions and
methods it declares are sent to the vendor verbatim.  A repository that is
mostly such files must never look "protected" because a handful of
JavaScript files were read, so `init`, `index`, `status`, `doctor`, `verify` and the
compliance evidence all state the coverage these functions compute.

**What counts as source code** (`SOURCE_EXTENSIONS`): a file in a programming
language whose files *define names* (types, functions, methods, variables)
that the rest of the repository and the prompts refer to: general-purpose
languages (PHP, Kotlin, Swift, C, C++, Scala, Dart, Lua, Perl, Elixir,
Haskell…), shell and PowerShell scripts, the script blocks of Vue, Svelte and
Astro components, Jupyter notebooks (Python in JSON), SQL (table and column
names are the schema) and Protocol Buffers (message and field names become
code).  **What does not**: documentation, data and configuration (``.md``,
``.txt``, ``.json``, ``.yml``, ``.toml``, ``.xml``, ``.csv``, lock files),
markup, styles and templates (``.html``, ``.css``, ``.twig``, ``.erb``:
their names are mostly the framework's), images and other binaries, and
extensions several unrelated formats share (``.d``, ``.v``, ``.scm``,
``.s``).  Package manifests are read (`languages.MANIFESTS`) but are not
source files: they count on neither side.

An extension that has a grammar *now* but whose files the index recorded
without a language was indexed by an older pretense-dev (files are re-read
only when they change): those are counted apart, as *stale*, because the
fix is `pretense-dev index --full`, not waiting for a grammar.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from pretense_dev.identifiers.languages import GRAMMARS, MANIFESTS, language_for_path

# extension (lower case) -> the language's name as people write it.
SOURCE_EXTENSIONS: dict[str, str] = {
    # languages with a grammar today (`languages.EXTENSIONS`; listed so that an
    # index made before the grammar existed is recognised as stale), then the
    # languages without one
    ".py": "Python",
    ".pyi": "Python",
    ".js": "JavaScript",
    ".mjs": "JavaScript",
    ".cjs": "JavaScript",
    ".jsx": "JavaScript",
    ".ts": "TypeScript",
    ".mts": "TypeScript",
    ".cts": "TypeScript",
    ".tsx": "TypeScript",
    ".go": "Go",
    ".java": "Java",
    ".cs": "C#",
    ".rb": "Ruby",
    ".rake": "Ruby",
    ".rs": "Rust",
    ".php": "PHP",
    ".phtml": "PHP",
    ".kt": "Kotlin",
    ".kts": "Kotlin",
    ".c": "C",
    ".h": "C",
    ".cc": "C++",
    ".cpp": "C++",
    ".cxx": "C++",
    ".c++": "C++",
    ".hh": "C++",
    ".hpp": "C++",
    ".hxx": "C++",
    ".h++": "C++",
    ".ipp": "C++",
    ".tpp": "C++",
    # no grammar
    ".swift": "Swift",
    ".scala": "Scala",
    ".sc": "Scala",
    ".cu": "CUDA",
    ".cuh": "CUDA",
    ".m": "Objective-C",
    ".mm": "Objective-C++",
    ".dart": "Dart",
    ".lua": "Lua",
    ".pl": "Perl",
    ".pm": "Perl",
    ".ex": "Elixir",
    ".exs": "Elixir",
    ".erl": "Erlang",
    ".hrl": "Erlang",
    ".hs": "Haskell",
    ".lhs": "Haskell",
    ".clj": "Clojure",
    ".cljs": "Clojure",
    ".cljc": "Clojure",
    ".groovy": "Groovy",
    ".gradle": "Groovy",
    ".vb": "Visual Basic",
    ".fs": "F#",
    ".fsi": "F#",
    ".fsx": "F#",
    ".r": "R",
    ".jl": "Julia",
    ".zig": "Zig",
    ".nim": "Nim",
    ".ml": "OCaml",
    ".mli": "OCaml",
    ".elm": "Elm",
    ".cr": "Crystal",
    ".coffee": "CoffeeScript",
    ".hx": "Haxe",
    ".gd": "GDScript",
    ".pas": "Pascal",
    ".f90": "Fortran",
    ".f95": "Fortran",
    ".f03": "Fortran",
    ".adb": "Ada",
    ".ads": "Ada",
    ".cob": "COBOL",
    ".cbl": "COBOL",
    ".sol": "Solidity",
    ".tcl": "Tcl",
    ".el": "Emacs Lisp",
    ".lisp": "Common Lisp",
    ".rkt": "Racket",
    ".pyx": "Cython",
    ".pxd": "Cython",
    ".ipynb": "Jupyter (Python)",
    ".vue": "Vue",
    ".svelte": "Svelte",
    ".astro": "Astro",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
    ".ps1": "PowerShell",
    ".psm1": "PowerShell",
    ".sql": "SQL",
    ".proto": "Protocol Buffers",
}


@dataclass
class Coverage:
    """How many of a repository's source files the map reads, and which it cannot."""

    files: int = 0  # every indexed file, source or not
    read: int = 0  # source files parsed with a grammar
    # extension -> files in a language without a grammar
    unread: Counter[str] = field(default_factory=Counter)
    # extension -> files a grammar reads now but the index recorded unread
    stale: Counter[str] = field(default_factory=Counter)

    @property
    def unread_files(self) -> int:
        """Source files whose names are not protected (no grammar, or an old index)."""
        return sum(self.unread.values()) + sum(self.stale.values())

    @property
    def source_files(self) -> int:
        """Source files, read or not."""
        return self.read + self.unread_files

    def unread_languages(self) -> list[tuple[str, list[str], int]]:
        """(language, its extensions, files) without a grammar, most files first."""
        return _by_language(self.unread)

    def lines(self, limit: int = 6) -> list[str]:
        """What people read: one headline, then one line per language not read.

        Empty when there is no source file at all.  At most `limit` languages
        are named; the rest are summed on one line.
        """
        if not self.source_files:
            return []
        if not self.unread_files:
            return [f"coverage: every source file is read ({self.source_files:,})"]
        share = self.read / self.source_files
        out = [
            f"coverage: {self.read:,} of {self.source_files:,} source files read "
            f"({_percent(share)}); the names defined in the other {self.unread_files:,} "
            "are NOT protected:"
        ]
        groups = self.unread_languages()
        for lang, exts, n in groups[:limit]:
            files = "file" if n == 1 else "files"
            they = "the names it defines are" if n == 1 else "the names they define are"
            out.append(
                f"  {n:,} {'/'.join(exts)} {files}: pretense-dev cannot read {lang}, "
                f"so {they} not protected"
            )
        rest = groups[limit:]
        if rest:
            n = sum(g[2] for g in rest)
            out.append(
                f"  {n:,} more files in {len(rest)} other languages pretense-dev cannot read "
                f"({', '.join(g[0] for g in rest)})"
            )
        for lang, exts, n in _by_language(self.stale):
            files = "file was" if n == 1 else "files were"
            out.append(
                f"  {n:,} {'/'.join(exts)} {files} indexed before pretense-dev could read "
                f"{lang}: run `pretense-dev index --full`"
            )
        return out

    def summary(self) -> str:
        """One line (doctor, verify): what is not read, or that everything is."""
        if not self.unread_files:
            return f"every source file is read ({self.source_files:,})"
        parts = [f"{lang} {n:,}" for lang, _, n in self.unread_languages()]
        stale = sum(self.stale.values())
        if stale:
            parts.append(f"{stale:,} indexed by an older version: `pretense-dev index --full`")
        return (
            f"{self.unread_files:,} of {self.source_files:,} source files cannot be read "
            f"({', '.join(parts)}): the names they define are not protected"
        )

    def to_json(self) -> dict[str, Any]:
        """The compliance evidence's shape (counts by extension; no path, no name)."""
        return {
            "files_indexed": self.files,
            "source_files": self.source_files,
            "source_files_read": self.read,
            "source_files_unread": self.unread_files,
            "source_read_ratio": (
                round(self.read / self.source_files, 6) if self.source_files else None
            ),
            "unread_by_extension": dict(sorted(self.unread.items())),
            "stale_by_extension": dict(sorted(self.stale.items())),
            "languages_without_grammar": [lang for lang, _, _ in self.unread_languages()],
        }


def coverage(rows: Iterable[tuple[str, str | None]]) -> Coverage:
    """Coverage of indexed files given as (repo-relative path, stored language or None)."""
    cov = Coverage()
    for path, language in rows:
        cov.files += 1
        if language is not None:
            if language in GRAMMARS:
                cov.read += 1
            continue
        ext = PurePosixPath(path).suffix.lower()
        if ext not in SOURCE_EXTENSIONS:
            continue
        now = language_for_path(path)
        if now is not None and now not in MANIFESTS:
            cov.stale[ext] += 1
        else:
            cov.unread[ext] += 1
    return cov


def _by_language(counts: Counter[str]) -> list[tuple[str, list[str], int]]:
    groups: dict[str, Counter[str]] = {}
    for ext, n in counts.items():
        groups.setdefault(SOURCE_EXTENSIONS[ext], Counter())[ext] = n
    out = [(lang, [e for e, _ in c.most_common()], sum(c.values())) for lang, c in groups.items()]
    return sorted(out, key=lambda g: (-g[2], g[0]))


def _percent(share: float) -> str:
    # Never round a partial coverage up to "100%" or down to "0%".
    if 0 < share < 0.001:
        return "<0.1%"
    if 0.999 < share < 1:
        return ">99.9%"
    return f"{share:.1%}"
