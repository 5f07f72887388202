r"""Leak check: on real code, how many distinctive defined names still reach the vendor.

For each corpus the bench copies the files into a fresh git repository in a
temp dir, runs the real indexer (`lifecycle.init_repo`, HOME/XDG and the
keyring pointed away from the user), mutates every indexed file with the
repository's map, and reports per language:

* **names**: the *distinctive defined names* according to an oracle that does
  not use our queries: Python's `ast` module (functions, classes, assignment
  targets, arguments, attributes set on ``self``, except/match captures); for
  the other languages, the definition captures of the grammar's own shipped
  ``tags.scm`` plus simple declaration regexes run on the code with comments and
  string literals blanked out.  Distinctive: at least 5 characters, not a
  keyword or builtin of the language, not a common English word nor a word
  generic in code (``data/codewords.txt``), not an
  override (our overrides list, dunders, and what the oracle sees only in
  override position: ``@Override``, ``override``, methods of
  ``impl ExternalTrait for T``).
* **leaked / strict**: how many of those names still appear as a whole token
  (a maximal run of ``[A-Za-z0-9_]``, as the mutation kernel sees tokens) in
  the mutated output, and their share (goal <= 0.5 %).
* **stdlib**: how many of the leaked names are on our standard-library lists
  (``data/<lang>/stdlib.txt``): the corpus defines a name of the standard API
  (`redirect` in express, a LINQ re-implementation in Newtonsoft.Json), which
  we keep out on purpose because mapping it would rewrite every call of that
  API in a prompt.  **missed** is the share of leaks that are *not* on a list,
  over the names not on a list: definitions our queries failed to find.
* **rt fail**: files where ``unmutate(mutate(x)) != x`` (must be 0);
  **breaks**: files that parsed cleanly and do not after mutation, and
  **changed**: clean files whose node-type sequence changed (both must be 0);
  **collis.**: two names on one synthetic, or a synthetic equal to a real
  token of the corpus (must be 0).

Usage::

    .venv/bin/python bench/leak.py [--no-stdlib] [CORPUS ...]

The standard library of the running interpreter (``*.py`` outside
site-packages) is always a corpus unless ``--no-stdlib``.  A CORPUS is a
directory of source files or a bare git directory (the files of its ``HEAD``
are exported; blobs a mirror lacks are skipped).  The figures in the report
were taken on these, brought with the search tool's ``fetch`` (which prints a
bare git directory under ``/work/.mirror/``) — never commit fetched code::

    expressjs/express (JavaScript)        spf13/cobra (Go)
    react-hook-form/react-hook-form (TS, TSX)   google/gson (Java)
    JamesNK/Newtonsoft.Json (C#)          sinatra/sinatra (Ruby)
    BurntSushi/ripgrep (Rust)

    .venv/bin/python bench/leak.py /work/.mirror/expressjs+express/repo \\
        /work/.mirror/react-hook-form+react-hook-form/repo ...

Without the search tool: ``git clone --bare https://github.com/<owner>/<name>``
gives the same kind of directory.  ``--show N`` prints N leaked names per row.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node, Query

    from pretense_dev.mutation import IdentifierMap

# Whole tokens as the mutation kernel sees them: maximal runs of [A-Za-z0-9_].
TOKEN = re.compile(rb"[A-Za-z0-9_]+")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MIN_DISTINCTIVE = 5

# Where each grammar wheel keeps its tags.scm (C#'s folder has a hyphen).
TAGS_FOLDER = {
    "python": "tree_sitter_python",
    "javascript": "tree_sitter_javascript",
    "typescript": "tree_sitter_typescript",
    "tsx": "tree_sitter_typescript",
    "go": "tree_sitter_go",
    "java": "tree_sitter_java",
    "csharp": "tree_sitter_c-sharp",
    "ruby": "tree_sitter_ruby",
    "rust": "tree_sitter_rust",
    "php": "tree_sitter_php",
    "c": "tree_sitter_c",
    "cpp": "tree_sitter_cpp",
}

_JS = [
    r"\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)",
    r"\bfunction\s*\*?\s*([A-Za-z_$][\w$]*)",
    r"\bclass\s+([A-Za-z_$][\w$]*)",
]
_TS = [
    *_JS,
    r"\binterface\s+(\w+)",
    r"\btype\s+(\w+)\s*(?:<[^=;]*>)?\s*=",
    r"\benum\s+(\w+)",
    r"\bnamespace\s+([\w.]+)",
]
# Declarations, run on code whose comments and string literals are blanked.
REGEXES: dict[str, list[str]] = {
    "javascript": _JS,
    "typescript": _TS,
    "tsx": _TS,
    "go": [
        r"\bfunc\s+(?:\([^)]*\)\s*)?(\w+)",
        r"\btype\s+(\w+)",
        r"\bvar\s+(\w+)",
        r"\bconst\s+(\w+)",
        r"(\w+)\s*:=",
        r"\bpackage\s+(\w+)",
    ],
    "java": [
        r"\b(?:class|interface|enum|record)\s+(\w+)",
        r"\bpackage\s+([\w.]+)",
        r"\b(?:private|public|protected|static|final)\s+[\w<>\[\],.? ]+?\s+(\w+)\s*[;=]",
    ],
    "csharp": [
        r"\b(?:class|interface|enum|struct|record|namespace)\s+([\w.]+)",
        r"\bvar\s+(\w+)\s*=",
        r"\b(?:private|public|protected|internal)\s+[\w<>\[\],.? ]+?\s+(\w+)\s*(?:[;={]|=>)",
    ],
    "ruby": [
        r"\bdef\s+(?:self\.)?(\w+)",
        r"\b(?:class|module)\s+([\w:]+)",
        r"@(\w+)\s*(?:\|\|)?=(?!=)",
        r"(?m)^\s*([A-Z]\w*)\s*=(?!=)",
    ],
    "rust": [
        r"\bfn\s+(\w+)",
        r"\b(?:struct|enum|trait|type|union|mod)\s+(\w+)",
        r"\blet\s+(?:mut\s+)?(\w+)",
        r"\b(?:const|static)\s+(?:mut\s+)?(\w+)\s*:(?!:)",
    ],
}
REGEXES["php"] = [
    r"(?<!\buse\s)\bfunction\s+&?\s*(\w+)",  # not `use function A\b;`
    r"\b(?:class|interface|trait|enum)\s+(\w+)",
    r"\$(\w+)\s*(?:=(?![=>])|\.=|\+=|-=|\?\?=)",
    r"\bconst\s+(\w+)\s*=",
    r"\bcase\s+(\w+)\s*[;=]",
]
# tree-sitter-kotlin ships no tags.scm: declarations by regex only.
REGEXES["kotlin"] = [
    r"\bfun\s+(?:<[^>]*>\s*)?(?:[\w.]+\.)?(\w+)\s*\(",
    r"\b(?:class|interface|object|typealias)\s+(\w+)",
    r"\b(?:val|var)\s+(\w+)",
    r"\bpackage\s+([\w.]+)",
]
_C = [
    r"(?m)^\s*#\s*define\s+(\w+)",
    r"\b(?:struct|union|enum)\s+(\w+)\s*\{",
    r"\btypedef\b[^;{}]*?\b(\w+)\s*;",
]
REGEXES["c"] = _C
REGEXES["cpp"] = [
    *_C,
    r"\b(?:class|struct)\s+(\w+)\s*(?:final\s*)?[:{]",
    r"\bnamespace\s+(\w+)\s*\{",
    r"\busing\s+(\w+)\s*=",
]
# Definitions in override position, as the oracle sees them.
OVERRIDE_REGEXES: dict[str, list[str]] = {
    "python": [r"@(?:typing\.)?override\s+(?:async\s+)?def\s+(\w+)"],
    "java": [
        r"@Override\s+(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|protected|private|static|final|"
        r"synchronized|abstract|default)\s+)*(?:<[^>]*>\s*)?[\w<>\[\],.? ]+?\s+(\w+)\s*\("
    ],
    "csharp": [r"\boverride\b[^;{}()=]*?\b(\w+)\s*(?:\(|\{|=>)"],
    "php": [
        r"#\[\\?Override\]\s*(?:(?:public|protected|private|static|final|abstract)\s+)*"
        r"function\s+&?\s*(\w+)"
    ],
    "cpp": [r"\b(\w+)\s*\([^;{}()]*\)\s*(?:const\s*)?(?:noexcept\s*)?override\b"],
    "kotlin": [
        r"\boverride\s+(?:(?:suspend|operator|infix|inline|open|final|public|protected|internal)"
        r"\s+)*(?:fun\s+(?:<[^>]*>\s*)?(?:[\w.]+\.)?|va[lr]\s+)(\w+)"
    ],
    "typescript": [r"\boverride\s+(?:(?:readonly|async|get|set|static)\s+)*(\w+)"],
    "tsx": [r"\boverride\s+(?:(?:readonly|async|get|set|static)\s+)*(\w+)"],
}
# Bindings of a dependency (`var bodyParser = require("body-parser")`): an import,
# not a definition, as `import x` is to the Python oracle.  Run on the raw source.
_REQUIRE = r"""\b(?:const|let|var)\s+(?:(\w+)|\{([^}]*)\})\s*=\s*require\(\s*['"](?![./])"""
IMPORT_REGEXES: dict[str, list[str]] = {
    "javascript": [_REQUIRE],
    "typescript": [_REQUIRE],
    "tsx": [_REQUIRE],
}
_BLANK_TYPES = re.compile(r"comment|string|heredoc|char_literal|character_literal|regex")


@dataclass
class Row:
    """One language of one corpus."""

    corpus: str
    language: str
    files: int = 0
    size: int = 0
    oracle_skipped: int = 0  # files the oracle could not read (Python syntax of another era)
    names: set[str] = field(default_factory=set)
    leaked: set[str] = field(default_factory=set)
    leaked_stdlib: set[str] = field(default_factory=set)
    roundtrip_failures: int = 0
    parse_breaks: int = 0
    tree_changed: int = 0


@dataclass
class CorpusResult:
    """All rows of one corpus, plus what holds for its map as a whole."""

    name: str
    rows: dict[str, Row]
    map_size: int
    collisions: int
    index_seconds: float
    other_files: int = 0
    other_roundtrip_failures: int = 0


# -- corpora ------------------------------------------------------------------


def isolate_user(home: Path) -> None:
    """Point HOME, XDG dirs and the keyring away from the real user (before init)."""
    os.environ["HOME"] = str(home)
    for var, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_RUNTIME_DIR", "run"),
    ):
        os.environ[var] = str(home / sub)
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"


def stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def copy_stdlib(dest: Path) -> None:
    src = stdlib_dir()
    for d, dirs, files in os.walk(src):
        dirs[:] = [x for x in dirs if x not in ("site-packages", "dist-packages", "__pycache__")]
        for f in files:
            if f.endswith(".py"):
                rel = Path(d, f).relative_to(src)
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(d, f), dest / rel)


def is_bare_git(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def copy_corpus(src: Path, dest: Path) -> None:
    if is_bare_git(src):
        export_head(src, dest)
    else:
        shutil.copytree(src, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))


def export_head(git_dir: Path, dest: Path) -> None:
    """Write HEAD's regular files to `dest`, skipping blobs the mirror does not hold.

    (`git archive` would be simpler, but mirrors may list their largest files
    without storing them, and archive then fails as a whole.)
    """
    git = ["git", f"--git-dir={git_dir}"]
    listing = subprocess.run([*git, "ls-tree", "-r", "-z", "HEAD"], check=True, capture_output=True)
    entries: list[tuple[bytes, str]] = []
    for item in listing.stdout.split(b"\0"):
        if item:
            meta, raw_path = item.split(b"\t", 1)
            mode, kind, sha = meta.split()
            if kind == b"blob" and mode in (b"100644", b"100755"):
                entries.append((sha, os.fsdecode(raw_path)))
    batch = subprocess.run(
        [*git, "cat-file", "--batch"],
        input=b"".join(sha + b"\n" for sha, _ in entries),
        check=True,
        capture_output=True,
    ).stdout
    pos = 0
    for _, rel in entries:
        end = batch.index(b"\n", pos)
        header = batch[pos:end].split()
        pos = end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(batch[pos : pos + size])
        pos += size + 1


def corpus_name(src: Path) -> str:
    if is_bare_git(src) and src.name == "repo":
        return src.parent.name.replace("+", "/")
    return src.name


# -- the oracle -----------------------------------------------------------------


def tags_query(language: str) -> Query | None:
    """The grammar wheel's tags query, or None when it ships none (Kotlin: regexes only)."""
    from tree_sitter import Query

    from pretense_dev.identifiers.languages import grammar

    if language not in TAGS_FOLDER:
        return None
    purelib = Path(sysconfig.get_paths()["purelib"])
    text = (purelib / TAGS_FOLDER[language] / "queries" / "tags.scm").read_text()
    if language in ("typescript", "tsx"):  # TS tags cover only what JS tags lack
        text = (purelib / "tree_sitter_javascript" / "queries" / "tags.scm").read_text() + text
    return Query(grammar(language), text)


def blank(source: bytes, root: Node) -> bytes:
    """The source with comments and string literals replaced by spaces (lines kept)."""
    out = bytearray(source)
    stack = [root]
    while stack:
        n = stack.pop()
        if _BLANK_TYPES.search(n.type):
            for i in range(n.start_byte, n.end_byte):
                if out[i] not in (10, 13):
                    out[i] = 32
            continue
        stack.extend(n.children)
    return bytes(out)


def python_oracle(source: bytes) -> tuple[list[str], list[str]] | None:
    """(defined names, names defined in override position); None if `ast` cannot parse it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    names: list[str] = []
    overrides: list[str] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(n.name)
            for d in getattr(n, "decorator_list", []):
                if (isinstance(d, ast.Name) and d.id == "override") or (
                    isinstance(d, ast.Attribute) and d.attr == "override"
                ):
                    overrides.append(n.name)
        elif isinstance(n, ast.arg):
            names.append(n.arg)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.append(n.id)
        elif (
            isinstance(n, ast.Attribute)
            and isinstance(n.ctx, ast.Store)
            and isinstance(n.value, ast.Name)
            and n.value.id == "self"
        ):
            names.append(n.attr)
        elif isinstance(n, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and n.name:
            names.append(n.name)
        elif isinstance(n, ast.MatchMapping) and n.rest:
            names.append(n.rest)
    return names, overrides


@dataclass
class TreeOracle:
    """Tags captures + regexes for one grammar language; Rust impls are resolved later."""

    language: str
    query: Query | None
    regexes: list[re.Pattern[bytes]]
    override_regexes: list[re.Pattern[bytes]]
    import_regexes: list[re.Pattern[bytes]]

    @classmethod
    def build(cls, language: str) -> TreeOracle:
        """The oracle for `language`: its tags query and regexes, compiled."""
        return cls(
            language,
            tags_query(language),
            [re.compile(r.encode()) for r in REGEXES.get(language, [])],
            [re.compile(r.encode()) for r in OVERRIDE_REGEXES.get(language, [])],
            [re.compile(r.encode()) for r in IMPORT_REGEXES.get(language, [])],
        )

    def names(
        self, source: bytes, root: Node
    ) -> tuple[list[str], list[str], list[tuple[str, str]]]:
        """(defined names, names in override or import position, Rust (trait, method) pairs)."""
        from tree_sitter import QueryCursor

        names: list[str] = []
        matches = QueryCursor(self.query).matches(root) if self.query is not None else []
        for _, caps in matches:
            if any(c.startswith("reference.") for c in caps):
                continue
            for node in caps.get("name", []):
                if node.text is not None:
                    names.extend(IDENT.findall(node.text.decode("utf-8", "replace")))
        code = blank(source, root)
        for rx in self.regexes:
            for m in rx.finditer(code):
                names.extend(IDENT.findall(m.group(1).decode("utf-8", "replace")))
        overrides = [m.group(1).decode() for rx in self.override_regexes for m in rx.finditer(code)]
        for rx in self.import_regexes:
            for m in rx.finditer(source):
                bound = b" ".join(g for g in m.groups() if g)
                overrides += IDENT.findall(bound.decode("utf-8", "replace"))
        impls = list(rust_impl_methods(root)) if self.language == "rust" else []
        return names, overrides, impls


def rust_impl_methods(root: Node) -> Iterator[tuple[str, str]]:
    """(trait's last name, item) for each fn/type/const of an ``impl Trait for T`` block.

    Also ("", name) for every ``trait Name`` the file declares, so the caller
    knows which traits are the corpus's own.
    """
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type == "trait_item":
            name = n.child_by_field_name("name")
            if name is not None and name.text:
                yield "", name.text.decode()
        if n.type == "impl_item":
            trait = n.child_by_field_name("trait")
            body = n.child_by_field_name("body")
            if trait is not None and body is not None and trait.text is not None:
                parts = IDENT.findall(trait.text.decode().split("<", 1)[0])
                for item in body.named_children:
                    name = item.child_by_field_name("name")
                    if item.type in _IMPL_ITEMS and name is not None and name.text:
                        yield parts[-1] if parts else "", name.text.decode()
        stack.extend(n.named_children)


_IMPL_ITEMS = ("function_item", "type_item", "const_item")


# -- the measurement ----------------------------------------------------------------


def node_types(root: Node) -> list[int]:
    out: list[int] = []
    cursor = root.walk()
    while True:
        out.append(cursor.node.kind_id if cursor.node is not None else -1)
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return out


def index(root: Path) -> tuple[IdentifierMap, dict[str, str | None], float]:
    from pretense_dev.lifecycle import init_repo
    from pretense_dev.repo import Repo

    subprocess.run(["git", "init", "-q", str(root)], check=True)
    t0 = time.perf_counter()
    init_repo(root)
    seconds = time.perf_counter() - t0
    with Repo(root).open_store() as store:
        files = {p: s.language for p, s in store.file_states().items()}
        return store.load_map(), files, seconds


def measure(name: str, root: Path) -> CorpusResult:
    """Index `root`, mutate every file, and compare with the oracle."""
    from pretense_dev.identifiers import stoplists
    from pretense_dev.identifiers.languages import GRAMMARS, grammar
    from pretense_dev.worktree import is_generated

    m, files, seconds = index(root)
    from tree_sitter import Parser

    parsers = {lang: Parser(grammar(lang)) for lang in GRAMMARS}
    oracles: dict[str, TreeOracle] = {}
    rows: dict[str, Row] = {}
    defs: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    rust_impls: list[tuple[str, str]] = []
    out_tokens: set[bytes] = set()
    in_tokens: set[bytes] = set()
    result = CorpusResult(name, rows, len(m.forward), 0, seconds)
    for rel, language in sorted(files.items()):
        data = (root / rel).read_bytes()
        mutated = m.mutate(data)
        ok = m.unmutate(mutated) == data
        out_tokens.update(TOKEN.findall(mutated))
        in_tokens.update(TOKEN.findall(data))
        if language not in GRAMMARS:
            result.other_files += 1
            result.other_roundtrip_failures += not ok
            continue
        row = rows.setdefault(language, Row(name, language))
        row.files += 1
        row.size += len(data)
        row.roundtrip_failures += not ok
        tree = parsers[language].parse(data)
        after = parsers[language].parse(mutated)
        if not tree.root_node.has_error:  # files the grammar cannot parse prove nothing
            row.parse_breaks += after.root_node.has_error
            row.tree_changed += node_types(tree.root_node) != node_types(after.root_node)
        if is_generated(data):
            continue  # the indexer reads no definitions from generated files, by design
        if language == "python":
            found = python_oracle(data)
            if found is None:
                row.oracle_skipped += 1
                continue
            names, overrides = found
        else:
            oracle = oracles.get(language) or oracles.setdefault(
                language, TreeOracle.build(language)
            )
            names, overrides, impls = oracle.names(data, tree.root_node)
            rust_impls += impls
        over = set(overrides)
        for n in names:
            defs[language][n].append(n in over)
    # Rust: a method of `impl Trait for T` overrides unless the corpus defines Trait.
    traits = {item for trait, item in rust_impls if not trait}
    for trait, method in rust_impls:
        if trait and trait not in traits and method in defs["rust"]:
            defs["rust"][method] = [True] * len(defs["rust"][method])
    for language, names_seen in defs.items():
        row = rows[language]
        # Every language's lists apply to every name (identifiers/stoplists.py).
        families = stoplists.families()
        keep_out = frozenset().union(
            *(
                stoplists.language_list(f, k)
                for f in families
                for k in ("keywords", "builtins", "overrides")
            )
        )
        stdlib = frozenset().union(*(stoplists.language_list(f, "stdlib") for f in families))
        for n, positions in names_seen.items():
            if (
                len(n) < MIN_DISTINCTIVE
                or n in keep_out
                or n.lower() in stoplists.english()
                or n.lower() in stoplists.code_words()
                or all(positions)
                or (n.startswith("__") and n.endswith("__"))
                or not stoplists.TOKEN.match(n)
            ):
                continue
            row.names.add(n)
            if n.encode() in out_tokens:
                row.leaked.add(n)
                if n in stdlib:
                    row.leaked_stdlib.add(n)
    synthetics = list(m.forward.values())
    result.collisions = (len(synthetics) - len(set(synthetics))) + len(
        {s.encode() for s in synthetics} & in_tokens
    )
    return result


# -- output -----------------------------------------------------------------------


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "-"


def print_table(results: Iterable[CorpusResult], show: int) -> None:
    head = (
        f"{'corpus':<34} {'language':<10} {'files':>5} {'MB':>6} {'names':>6} {'leaked':>6} "
        f"{'strict':>7} {'stdlib':>6} {'missed':>7} {'rt fail':>7} {'breaks':>6} "
        f"{'changed':>7} {'collis.':>7}"
    )
    print(head)
    print("-" * len(head))
    totals: dict[str, Row] = {}
    for r in results:
        for lang, row in sorted(r.rows.items()):
            t = totals.setdefault(lang, Row("all", lang))
            t.files += row.files
            t.size += row.size
            t.names |= {f"{r.name}:{n}" for n in row.names}
            t.leaked |= {f"{r.name}:{n}" for n in row.leaked}
            t.leaked_stdlib |= {f"{r.name}:{n}" for n in row.leaked_stdlib}
            t.roundtrip_failures += row.roundtrip_failures
            t.parse_breaks += row.parse_breaks
            t.tree_changed += row.tree_changed
            print(line(row, r.collisions))
            missed = sorted(row.leaked - row.leaked_stdlib)
            if show and missed:
                print(f"{'':<36}leaked: {', '.join(missed[:show])}")
            if show and row.leaked_stdlib:
                print(f"{'':<36}stdlib: {', '.join(sorted(row.leaked_stdlib)[:show])}")
        print(
            f"{'':<36}map {r.map_size} names, index {r.index_seconds:.1f}s, other files "
            f"{r.other_files} (round-trip failures {r.other_roundtrip_failures}), "
            f"collisions {r.collisions}"
        )
    print("-" * len(head))
    for _, row in sorted(totals.items()):
        print(line(row, None))


def line(row: Row, collisions: int | None) -> str:
    n, lk, st = len(row.names), len(row.leaked), len(row.leaked_stdlib)
    return (
        f"{row.corpus[:34]:<34} {row.language:<10} {row.files:>5} {row.size / 1e6:>6.2f} "
        f"{n:>6} {lk:>6} {pct(lk, n):>7} {st:>6} {pct(lk - st, n - st):>7} "
        f"{row.roundtrip_failures:>7} {row.parse_breaks:>6} {row.tree_changed:>7} "
        f"{'' if collisions is None else collisions:>7}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("corpora", nargs="*", type=Path, help="source dirs or bare git dirs")
    parser.add_argument("--no-stdlib", action="store_true", help="skip the Python stdlib corpus")
    parser.add_argument("--show", type=int, default=0, help="print N leaked names per row")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="pretense-leak-") as tmp:
        isolate_user(Path(tmp) / "home")
        jobs: list[tuple[str, Path | None]] = [] if args.no_stdlib else [("python-stdlib", None)]
        jobs += [(corpus_name(p), p) for p in args.corpora]
        for i, (name, src) in enumerate(jobs):
            root = Path(tmp) / f"corpus{i}"
            root.mkdir()
            if src is None:
                copy_stdlib(root)
            else:
                copy_corpus(src, root)
            print(f"{name}: indexing and mutating…", file=sys.stderr)
            results.append(measure(name, root))
    print_table(results, args.show)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
