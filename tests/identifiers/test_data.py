"""The stop lists as data: every file parses, holds identifiers, has no duplicates."""

from __future__ import annotations

from collections import Counter
from importlib import resources
from importlib.resources.abc import Traversable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pretense_dev.identifiers import stoplists
from pretense_dev.identifiers.languages import GRAMMARS, STOPLIST_FAMILY

DATA = resources.files("pretense_dev.identifiers").joinpath("data")
FAMILIES = sorted({STOPLIST_FAMILY.get(lang, lang) for lang in GRAMMARS})


def data_files() -> list[Traversable]:
    out = [DATA / "english.txt", DATA / "paths.txt"]
    out += [DATA / fam / f"{kind}.txt" for fam in FAMILIES for kind in stoplists.LIST_KINDS]
    return out


def entries(node: Traversable) -> list[str]:
    text = node.read_text(encoding="utf-8")
    return [w for line in text.splitlines() if (w := line.split("#", 1)[0].strip())]


@pytest.mark.parametrize("node", data_files(), ids=lambda n: f"{n.parent.name}/{n.name}")
def test_data_file_parses_without_duplicates(node: Traversable) -> None:
    assert node.is_file()
    words = entries(node)
    assert words, "an empty stop list is a packaging mistake"
    dups = sorted(w for w, n in Counter(words).items() if n > 1)
    assert dups == []
    bad = [w for w in words if not stoplists.TOKEN.match(w)]
    assert bad == [], "entries must be identifiers (one per line, # for comments)"
    assert all(" " not in line.split("#", 1)[0].strip() for line in node.read_text().splitlines())


def test_every_family_has_every_list() -> None:
    assert FAMILIES == [
        "c",
        "csharp",
        "go",
        "java",
        "javascript",
        "kotlin",
        "php",
        "python",
        "ruby",
        "rust",
    ]
    for fam in FAMILIES:
        for kind in stoplists.LIST_KINDS:
            assert stoplists.language_list(fam, kind), (fam, kind)


def test_english_list_is_lower_case_with_its_licence() -> None:
    words = entries(DATA / "english.txt")
    assert 9_000 < len(words) <= 10_000
    assert all(w == w.lower() and w.isascii() and w.isalpha() for w in words)
    assert words[:3] == ["the", "to", "and"]  # frequency order, as generated
    licence = (DATA / "english.LICENSE.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in licence and "wordfreq" in licence


@pytest.mark.parametrize(
    ("name", "language", "why"),
    [
        ("lambda", "python", "keyword"),
        ("isinstance", "python", "builtin"),
        ("startswith", "python", "standard-library"),
        ("setUp", "python", "usually override"),
        ("__init__", "python", "dunder"),
        ("prototype", "typescript", "standard-library"),
        ("addEventListener", "tsx", "standard-library"),
        ("useEffect", "javascript", "standard-library"),
        ("componentDidMount", "javascript", "usually override"),
        ("Println", "go", "standard-library"),
        ("ServeHTTP", "go", "usually override"),
        ("hashCode", "java", "usually override"),
        ("GetHashCode", "csharp", "usually override"),
        ("IDisposable", "csharp", "builtin"),
        ("to_s", "ruby", "standard-library"),
        ("initialize", "ruby", "usually override"),
        ("impl", "rust", "keyword"),
        ("unwrap_or_else", "rust", "standard-library"),
        ("wrapper", "python", "generic in code"),
        ("Defaults", "go", "generic in code"),
        ("pretense_esc_fn_abc", "python", "escapes"),
        ("café", "python", "not an ASCII identifier"),
        ("_", "go", "only underscores"),
        ("__", "python", "only underscores"),
    ],
)
def test_reason_names_the_list(name: str, language: str, why: str) -> None:
    r = stoplists.reason(name, language)
    assert r is not None and why in r, r
    assert stoplists.is_stopped(name, language)


@pytest.mark.parametrize(
    "name", ["refundTotalCents", "customer_tier", "LedgerReconciler", "MAX_REFUND_CENTS", "acmepay"]
)
def test_distinctive_names_pass_every_list(name: str) -> None:
    assert stoplists.reason(name) is None
    for lang in GRAMMARS:
        assert not stoplists.is_stopped(name, lang)


@pytest.mark.parametrize(
    ("name", "defined_in", "why"),
    [
        # A C# parameter `json` would rewrite `import json` in every Python file.
        ("json", "csharp", "a go, javascript and python standard-library or framework API name"),
        # A local `annotations` would rewrite `from __future__ import annotations`.
        ("annotations", "csharp", "a python standard-library or framework API name"),
        ("ServeHTTP", "python", "a go name that definitions usually override"),
        ("unwrap_or_else", "ruby", "a rust standard-library or framework API name"),
        # Languages with lists but no grammar: PowerShell's `param(` and `-eq`, C, shell.
        ("param", "python", "a csharp, kotlin and PowerShell keyword"),
        ("notmatch", "python", "a PowerShell keyword"),
        ("PSBoundParameters", "python", "a PowerShell builtin"),
        ("nullptr", "go", "a C/C++ keyword"),
        ("esac", "ruby", "a shell keyword"),
    ],
)
def test_every_languages_lists_apply_to_every_name(name: str, defined_in: str, why: str) -> None:
    assert stoplists.is_stopped(name, defined_in)
    for lang in GRAMMARS:
        assert stoplists.is_stopped(name, lang)
    assert stoplists.reason(name) == why
    assert stoplists.reason(name, defined_in) == why  # no list of its own: the first that has it


@pytest.mark.parametrize("word", ["refund", "diagnosis", "tariff", "clinic", "reactor", "Refund"])
def test_a_domain_word_is_not_stopped(word: str) -> None:
    # Frequent in English (a prose list kept most of them out), rare in code: they say
    # what the business is, so a repository that defines them has them protected.
    assert stoplists.reason(word) is None
    assert not stoplists.is_stopped(word, "python")


@pytest.mark.parametrize("word", ["param", "meth", "func", "defaults", "wrapper", "redirect"])
def test_a_generic_code_word_is_stopped(word: str) -> None:
    # Rarer in prose than in code: mapping them turned `:param x:` into `:var_0kfa8h x:`.
    assert stoplists.is_stopped(word, "python")
    assert stoplists.reason(word) is not None


def test_code_words_list_ships_with_its_generator_and_sources() -> None:
    from importlib import resources

    data = resources.files("pretense_dev.identifiers").joinpath("data")
    header = data.joinpath("codewords.txt").read_text(encoding="utf-8").splitlines()[:3]
    assert "scripts/make_code_words.py" in " ".join(header)
    licences = data.joinpath("codewords.LICENSE.md").read_text(encoding="utf-8")
    assert licences.count("| PyPI ") == 30 and licences.count("| npm ") == 30
    assert "| unknown |" not in licences
    assert 3000 < len(stoplists.code_words()) < 6000


def test_reason_prefers_the_defining_languages_list() -> None:
    assert stoplists.reason("json", "python") == (
        "a python, go and javascript standard-library or framework API name"
    )
    assert stoplists.reason("unwrap_or_else", "cargo") == (
        "a rust standard-library or framework API name"  # a manifest uses its language's lists
    )


def test_import_stays_free_of_tree_sitter() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pretense_dev.identifiers, pretense_dev.identifiers.stoplists, "
        "pretense_dev.identifiers.languages\n"
        "pretense_dev.identifiers.stoplists.reason('x')\n"
        "print(sorted(m for m in sys.modules if m.startswith('tree_sitter')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _some_listed_names() -> list[str]:
    out = sorted(stoplists.code_words())[:50]
    for fam in FAMILIES:
        for kind in stoplists.LIST_KINDS:
            out += sorted(stoplists.language_list(fam, kind))[:10]
    return out


@settings(max_examples=300, deadline=None)
@given(
    name=st.one_of(
        st.from_regex(r"\A_{0,3}[A-Za-z][A-Za-z0-9_]{0,12}\Z"),
        st.sampled_from(_some_listed_names()),
        st.text(max_size=8),
    ),
    language=st.sampled_from(sorted(GRAMMARS)),
)
def test_fast_check_agrees_with_reason(name: str, language: str) -> None:
    assert stoplists.is_stopped(name, language) == (stoplists.reason(name, language) is not None)
