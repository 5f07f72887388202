"""Names that are never mapped, and why (what `explain` prints).

Data lives in `data/`: per language ``keywords``, ``builtins``, ``stdlib`` (the
standard-library and common framework API names code uses rather than defines)
and ``overrides`` (names a definition usually overrides: ``toString``,
``ServeHTTP``, ``Dispose``…), one name per line, ``#`` for comments; and
``codewords.txt``, words generic in code (identifiers and their word parts
found in a fifth of 60 widely used PyPI and npm packages; built by
``scripts/make_code_words.py``, sources and licences in
``codewords.LICENSE.md``), which keeps single-word names such as ``param``
and ``wrapper`` out while ``refund`` or ``tariff`` are protected; and
``paths.txt``, conventional directory and file
names that define no module (``src``, ``utils``), used for paths only.  Lists
are read once per process.

**Every language's lists apply to every name**, whatever language defines it:
mutation rewrites every token of every file and prompt, so a C# parameter
called ``json`` mapped would rewrite ``import json`` in each Python file, and a
Python local called ``param`` would break every PowerShell ``param(`` block.
Languages the indexer has no grammar for but that real repositories mix in
(`LIST_ONLY`: PowerShell, shell) have lists too; C and C++ share one family
(``c``, shown as "C/C++").
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from pretense_dev.identifiers.languages import GRAMMARS, STOPLIST_FAMILY

TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ESCAPE_PREFIX = "pretense_esc_"  # mutation.mapping.ESCAPE_PREFIX, without importing it
LIST_KINDS = ("keywords", "builtins", "stdlib", "overrides")
# Languages with stop lists but no grammar: their files are not parsed for
# definitions, but their keywords and APIs appear in the same repositories.
LIST_ONLY = ("powershell", "shell")
_LIST_NAMES = {"c": "C/C++", "powershell": "PowerShell", "shell": "shell"}
_REASONS = {
    "keywords": "a {lang} keyword",
    "builtins": "a {lang} builtin",
    "stdlib": "a {lang} standard-library or framework API name",
    "overrides": "a {lang} name that definitions usually override",
}


def _read_list(*parts: str) -> frozenset[str]:
    node = resources.files("pretense_dev.identifiers").joinpath("data", *parts)
    try:
        text = node.read_text(encoding="utf-8")
    except FileNotFoundError:
        return frozenset()
    return frozenset(w for line in text.splitlines() if (w := line.split("#", 1)[0].strip()))


@functools.cache
def language_list(language: str, kind: str) -> frozenset[str]:
    """One list (keywords, builtins, stdlib, overrides) of one language family."""
    return _read_list(STOPLIST_FAMILY.get(language, language), f"{kind}.txt")


@functools.cache
def english() -> frozenset[str]:
    """The common-English-words list, lower case (benches only: prose is not what decides)."""
    return frozenset(w.lower() for w in _read_list("english.txt"))


@functools.cache
def code_words() -> frozenset[str]:
    """Words generic in code (``param``, ``wrapper``, ``redirect``), lower case.

    Built by ``scripts/make_code_words.py`` from the sources of widely used
    PyPI and npm packages: an identifier, or a word part of one, that appears
    in a fifth of them says nothing about a repository, while a domain word
    (``refund``, ``tariff``, ``clinic``) appears in none and is protected.
    """
    return frozenset(w.lower() for w in _read_list("codewords.txt"))


@functools.cache
def path_names() -> frozenset[str]:
    """Conventional directory and file names (``src``, ``utils``, ``mod``), lower case."""
    return frozenset(w.lower() for w in _read_list("paths.txt"))


def families() -> list[str]:
    """Every language family that has stop lists, in the order `reason` reports them."""
    names = {STOPLIST_FAMILY.get(g, g) for g in GRAMMARS}
    return sorted(names) + [x for x in LIST_ONLY if x not in names]


@functools.cache
def language_stop_set(language: str) -> frozenset[str]:
    """Every name a language's lists keep out."""
    out: set[str] = set()
    for kind in LIST_KINDS:
        out |= language_list(language, kind)
    return frozenset(out)


@functools.cache
def stop_set() -> frozenset[str]:
    """Every name any language's lists keep out (the indexer's fast check)."""
    out: set[str] = set()
    for family in families():
        out |= language_stop_set(family)
    return frozenset(out)


def reason(name: str, language: str | None = None) -> str | None:
    """Why `name` is never mapped, or None if nothing keeps it out.

    Every language's lists apply (see the module docstring); `language`, the
    defining file's, is only checked first, so the reason names it when its
    own list has the name.  Config-driven rules (min_length, never) are
    applied where the config is known, not here.
    """
    if not TOKEN.match(name):
        return "not an ASCII identifier (tokens are ASCII letters, digits and _)"
    if not name.strip("_"):
        return "a blank name (only underscores)"
    if name.startswith("__") and name.endswith("__") and len(name) > 4:
        return "a dunder name (a Python protocol method)"
    if name.startswith(ESCAPE_PREFIX):
        return "reserved for pretense-dev's own escapes"
    own = [STOPLIST_FAMILY.get(language, language)] if language else []
    order = own + [f for f in families() if f not in own]
    for family in order:
        for kind in LIST_KINDS:
            if name in language_list(family, kind):
                having = [_LIST_NAMES.get(f, f) for f in order if name in language_list(f, kind)]
                return _REASONS[kind].format(lang=_and(having))
    if name.lower() in code_words():
        return "a word generic in code (used by many unrelated packages)"
    return None


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def is_stopped(name: str, language: str | None = None) -> bool:
    """The indexer's hot-path version of `reason(name, language) is not None`.

    `language` does not change the answer (every language's lists apply); it
    is kept so callers read the same as `reason`.
    """
    return (
        name in stop_set()
        or name.lower() in code_words()
        or not TOKEN.match(name)
        or not name.strip("_")
        or (name.startswith("__") and name.endswith("__") and len(name) > 4)
        or name.startswith(ESCAPE_PREFIX)
    )
