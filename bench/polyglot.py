r"""Polyglot repositories: every file that parses before mutation must parse after it.

Mutation rewrites every token of every file, whatever its language, so a name
mapped because one language allows it (a C# parameter ``json``) breaks the
files of another (``import json`` in every Python file).  For each corpus the
bench copies HEAD into a fresh git repository, runs the real indexer
(`lifecycle.init_repo`, the user's HOME and keyring pointed away), mutates
every indexed file with the repository's map, and checks, per language, the
files that parsed *before* mutation:

* Python: ``compile()``;
* JavaScript (``.js``, ``.mjs``, ``.cjs``): ``node --check``;
* everything else with a tree-sitter grammar installed: the parse tree has no
  error node.  Our own grammars (TypeScript, TSX, Go, Java, C#, Ruby, Rust, PHP,
  Kotlin, C, C++) and, when installed (``pip install tree-sitter-powershell
  tree-sitter-bash tree-sitter-yaml``; the dev extra has them), PowerShell,
  shell and YAML.

It runs twice in one go: **before** is the stop lists as they were (each name
checked against its defining language's lists only), **after** is what the
package does now (every language's lists apply to every name).  ``rt fail``
counts files where ``unmutate(mutate(x)) != x``; ``grammar`` counts PowerShell
files that fail only on tree-sitter-powershell's digit rule (see `digit_free`).

Usage::

    .venv/bin/python -m bench.polyglot /work/.mirror/ansible+ansible/repo \
        /work/.mirror/mitmproxy+mitmproxy/repo

A corpus is a directory or a bare git directory (HEAD is exported, blobs a
mirror lacks are skipped); the README figures were taken on ansible/ansible
(Python, PowerShell, C#, shell, YAML), mitmproxy/mitmproxy (Python,
TypeScript, TSX, JavaScript), laravel/framework (PHP) and square/okhttp
(Kotlin, Java), brought with the search tool's ``fetch`` or
``git clone --bare``.  Never commit fetched code.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import re
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench._common import isolated_user
from bench.leak import copy_corpus, corpus_name

# extension -> (row name, tree-sitter module, function) for grammars beyond ours.
EXTRA_GRAMMARS: dict[str, tuple[str, str, str]] = {
    ".ps1": ("powershell", "tree_sitter_powershell", "language"),
    ".psm1": ("powershell", "tree_sitter_powershell", "language"),
    ".psd1": ("powershell", "tree_sitter_powershell", "language"),
    ".sh": ("shell", "tree_sitter_bash", "language"),
    ".bash": ("shell", "tree_sitter_bash", "language"),
    ".yml": ("yaml", "tree_sitter_yaml", "language"),
    ".yaml": ("yaml", "tree_sitter_yaml", "language"),
}
NODE_CHECK = (".js", ".mjs", ".cjs")


@dataclass
class Row:
    """One language of one corpus."""

    files: int = 0
    parsed: int = 0
    breaks: int = 0
    grammar_digits: int = 0
    roundtrip_failures: int = 0


_DIGIT_FREE = bytes.maketrans(b"0123456789", b"abcdefghij")


def digit_free(mutated: bytes) -> bytes:
    """`mutated` with the digits of every synthetic turned into letters.

    tree-sitter-powershell rejects a command parameter with a digit in it
    (``Get-Item -Param1 x``), which PowerShell itself accepts (about_Parameters:
    a parameter name is any identifier).  A file that fails only because of
    that parses once the synthetics' digits are letters; the bench counts it
    apart (``grammar``) rather than as a break.
    """
    from pretense_dev.mutation.synth import LOOKALIKE

    pattern = re.compile(LOOKALIKE.pattern.encode(), re.IGNORECASE)
    return pattern.sub(lambda m: m.group().translate(_DIGIT_FREE), mutated)


Check = Callable[[bytes, Path], bool]


def python_ok(data: bytes, tmp: Path) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(data, "x.py", "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            return False
    return True


def node_ok(data: bytes, tmp: Path) -> bool:
    f = tmp / "check.js"
    f.write_bytes(data)
    return subprocess.run(["node", "--check", str(f)], capture_output=True).returncode == 0


def tree_ok(module: str, func: str) -> Check | None:
    try:
        from tree_sitter import Language, Parser

        parser = Parser(Language(getattr(importlib.import_module(module), func)()))
    except ImportError:
        return None

    def ok(data: bytes, tmp: Path) -> bool:
        return not parser.parse(data).root_node.has_error

    return ok


def checker_for(rel: str, cache: dict[str, Check | None]) -> tuple[str, Check | None]:
    from pretense_dev.identifiers.languages import GRAMMARS, language_for_path

    suffix = Path(rel).suffix.lower()
    if suffix in (".py", ".pyi"):
        return "python", python_ok
    if suffix in NODE_CHECK:
        return "javascript", node_ok
    lang = language_for_path(rel)
    if lang in GRAMMARS:
        if lang not in cache:
            cache[lang] = tree_ok(*GRAMMARS[lang])
        return lang, cache[lang]
    if suffix in EXTRA_GRAMMARS:
        row, module, func = EXTRA_GRAMMARS[suffix]
        if row not in cache:
            cache[row] = tree_ok(module, func)
        return row, cache[row]
    return "other", None


@contextlib.contextmanager
def per_language_lists() -> Iterator[None]:
    """The stop lists as they were: a name checked against its own language's lists only."""
    from pretense_dev.identifiers import extract, stoplists
    from pretense_dev.identifiers.languages import STOPLIST_FAMILY

    def old(name: str, language: str | None = None) -> bool:
        family = STOPLIST_FAMILY.get(language or "", language or "")
        return (
            name in stoplists.language_stop_set(family)
            or name.lower() in stoplists.english()
            or not stoplists.TOKEN.match(name)
            or not name.strip("_")
            or (name.startswith("__") and name.endswith("__") and len(name) > 4)
            or name.startswith(stoplists.ESCAPE_PREFIX)
        )

    saved = extract.is_stopped  # type: ignore[attr-defined]
    extract.is_stopped = old  # type: ignore[attr-defined]
    try:
        yield
    finally:
        extract.is_stopped = saved  # type: ignore[attr-defined]


def measure(src: Path, work: Path) -> dict[str, Row]:
    from pretense_dev.lifecycle import init_repo
    from pretense_dev.repo import Repo

    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    copy_corpus(src, work)
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    init_repo(work)
    with Repo(work).open_store() as store:
        m = store.load_map()
        files = sorted(store.file_states())
    rows: dict[str, Row] = {}
    cache: dict[str, Check | None] = {}
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        for rel in files:
            data = (work / rel).read_bytes()
            mutated = m.mutate(data)
            name, check = checker_for(rel, cache)
            row = rows.setdefault(name, Row())
            row.files += 1
            row.roundtrip_failures += m.unmutate(mutated) != data
            if check is None or not check(data, tmp):
                continue
            row.parsed += 1
            if not check(mutated, tmp):
                if name == "powershell" and check(digit_free(mutated), tmp):
                    row.grammar_digits += 1
                else:
                    row.breaks += 1
    shutil.rmtree(work / ".pretense", ignore_errors=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="+", type=Path)
    args = ap.parse_args(argv)
    print(
        f"{'corpus':<22} {'language':<11} {'files':>6} {'parsed':>7} "
        f"{'breaks before':>14} {'breaks now':>11} {'grammar':>8} {'rt fail':>8}"
    )
    total_now = 0
    with isolated_user() as base:
        for src in args.corpus:
            name = corpus_name(src)
            with per_language_lists():
                before = measure(src, base / "corpus")
            now = measure(src, base / "corpus")
            for lang in sorted(now, key=lambda k: (k == "other", -now[k].files)):
                r, b = now[lang], before.get(lang, Row())
                parsed = str(r.parsed) if lang != "other" else "-"
                br_b = str(b.breaks) if lang != "other" else "-"
                br_n = str(r.breaks) if lang != "other" else "-"
                total_now += r.breaks + r.roundtrip_failures
                print(
                    f"{name:<22} {lang:<11} {r.files:>6} {parsed:>7} {br_b:>14} {br_n:>11} "
                    f"{r.grammar_digits:>8} {r.roundtrip_failures:>8}"
                )
    return 1 if total_now else 0


if __name__ == "__main__":
    raise SystemExit(main())
