"""Each shortcut of the detector finds what the plain path finds.

The detector skips work where a cheap test shows it cannot find anything
(no HTML form tag on the line, no `+=` in the window, ...).  Here the same
generated texts are scanned with the shortcuts and with the plain path (the
shortcut's test patched to say "maybe" everywhere), and the findings must be
identical.  The texts are built from fragments that exercise the passes:
secret-named assignments, joined literals, HTML form fields in comments,
encoded values, and lines longer than the detector's window.
"""

from __future__ import annotations

import base64
import contextlib
import os
import random
import re
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pretense_dev.secrets import Detector, analyzers, decode, literals
from pretense_dev.secrets.decode import _concat_in, chain_scanner
from pretense_dev.secrets.rules import default_rules
from pretense_dev.secrets.samples import generate
from pretense_dev.secrets.scan import (
    BATCH_FILES,
    PARALLEL_BYTES,
    ScanResult,
    _batches,
    _sizes,
    _walk,
    scan_files,
)

RNG = random.Random(11)
VALUES = [generate("{b62:10}{d:4}{b62:10}", RNG) for _ in range(4)]
VALUES.append(generate("{b62:6}!{b62:6}", RNG))
NAMES = ["password", "api_key", "token", "secret", "db_password", "PASSWORD", "<password>",
         "--password", "setenv(\"password\"", "auth_token"]  # fmt: skip
OPS = [" = ", ": ", "=", " => ", " := ", ">", " ", '", ', "+= "]
LITERALS = [
    *(f'"{v}"' for v in VALUES),
    *(f"'{v}'" for v in VALUES),
    *VALUES,
    *(f"'{v[:9]}' + '{v[9:]}'" for v in VALUES),
    *(f'"{v[:5]}" "{v[5:]}"' for v in VALUES),
    *(f'join(["{v[:7]}", "{v[7:]}"])' for v in VALUES),
    f'"{VALUES[0]}"\nx += "{VALUES[1]}"',
    base64.b64encode(f"password={VALUES[0]}".encode()).decode(),
    '"\\u0067hp_x"',
    '"' + "".join(f"\\u{ord(c):04x}" for c in VALUES[2]) + '"',
    f'"{VALUES[3][:6]}\\/{VALUES[3][6:]}"',
    '"%41%42%43"',
    '"p"',
    '""',
]
PREFIXES = ["", "# ", "// ", " * ", "-- ", "x = ", "z" * 2500, "q y " * 700, "var a=", "{"]
SUFFIXES = ["", ";", " # <input>", ' // <form action="x">', " <br>", " # note", "</password>",
            '">', "z" * 2500, ")", "])", ' <INPUT name="p">', " # <textarea"]  # fmt: skip
FRAGMENTS = [
    *NAMES, *OPS, *LITERALS, *PREFIXES, *SUFFIXES,
    '# <input type="hidden" name="token" value="', "<meta ", "\n", "\"", "'", "x",
]  # fmt: skip
PATHS = ["config.py", "app.min.js", "settings.env", "page.html", None]


def lines() -> st.SearchStrategy[str]:
    assignment = st.tuples(
        st.sampled_from(PREFIXES),
        st.sampled_from(NAMES),
        st.sampled_from(OPS),
        st.sampled_from(LITERALS),
        st.sampled_from(SUFFIXES),
    ).map("".join)
    loose = st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join)
    return st.one_of(assignment, loose)


def texts() -> st.SearchStrategy[str]:
    """Lines of assignments (with comments, tags, joined literals) and loose fragments."""
    return st.lists(lines(), min_size=1, max_size=12).map("\n".join)


def findings(text: str, path: str | None) -> list[tuple[str, int, int, str]]:
    det = Detector(bytes(32))
    return [(f.rule, f.line, f.end_line, f.fingerprint) for f in det.scan_text(text, path)]


_JSON_ESCAPE_VIEWS = decode.json_escape_views


def _escapes_looked_up_here(data: bytes, present: bool | None = None) -> Iterator[decode.View]:
    return _JSON_ESCAPE_VIEWS(data, None)


@contextlib.contextmanager
def plain_path() -> Iterator[None]:
    """Every shortcut's test says "maybe": the detector does all the work."""
    with (
        mock.patch.object(analyzers, "_HTML_TAG", re.compile(rb"")),
        mock.patch.object(decode, "_SCANNER", [None]),
        mock.patch.object(decode, "_PLUS_EQ", b""),
        mock.patch.object(literals, "analyse", lambda rx: literals.NONE),
        mock.patch.object(decode, "json_escape_views", _escapes_looked_up_here),
    ):
        yield


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(texts(), st.sampled_from(PATHS))
def test_shortcuts_find_what_the_plain_path_finds(text: str, path: str | None) -> None:
    fast = findings(text, path)
    with plain_path():
        plain = findings(text, path)
    assert fast == plain


def test_the_fragments_reach_the_shortcuts() -> None:
    """The generator can make each case the shortcuts decide (else the test above proves little)."""
    form = '# <input type="hidden" name="token" value="' + VALUES[0] + '">\n'
    assert findings(form, "config.py") == []
    assert findings(form.replace("<input", "<span"), "config.py") != []
    long = "z" * 2500 + ' password = "' + VALUES[1] + '" # <input>' + "z" * 2500
    assert [r for r, *_ in findings(long, "app.min.js")] == []
    assert [r for r, *_ in findings(long.replace("<input>", ""), "app.min.js")] == [
        "generic-password"
    ]


def _os_walk_files(root: Path) -> list[str]:
    """What the scan listed before it walked with scandir: os.walk and relpath."""
    out = []
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs if x not in (".git", ".pretense")]
        for n in names:
            out.append(os.path.relpath(os.path.join(d, n), root).replace(os.sep, "/"))
    return sorted(out)


def test_walk_lists_what_os_walk_lists(tmp_path: Path) -> None:
    for rel in ["a.py", "b/c.txt", "b/d/e.js", ".git/config", "x/.git/HEAD", ".pretense/k",
                "b/.pretense.toml", "z z/ü.txt", "b-/f", "b.c/g"]:  # fmt: skip
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    (tmp_path / "link-dir").symlink_to(tmp_path / "b")
    (tmp_path / "link-file").symlink_to(tmp_path / "a.py")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    listed = _walk(tmp_path)
    assert listed == _os_walk_files(tmp_path)
    assert "link-file" in listed and "dangling" in listed and "link-dir" not in listed
    assert not any(p.startswith((".git/", "x/.git/", ".pretense/")) for p in listed)


@given(st.lists(st.integers(0, 3_000_000), max_size=400), st.integers(1, 8))
def test_batches_hold_every_file_once_largest_first(sizes: list[int], workers: int) -> None:
    files = [f"f{i}" for i in range(len(sizes))]
    batches = _batches(files, sizes, workers)
    flat = [f for b in batches for f in b]
    assert sorted(flat) == sorted(files)
    by_name = dict(zip(files, sizes, strict=True))
    firsts = [by_name[b[0]] for b in batches]
    assert firsts == sorted(firsts, reverse=True)  # the pool starts with the largest
    cap = max(256_000, sum(sizes) // (workers * 64))
    for b in batches:
        assert len(b) <= BATCH_FILES
        assert len(b) == 1 or sum(by_name[f] for f in b) <= cap


def test_parallel_scan_finds_what_a_serial_scan_finds(tmp_path: Path) -> None:
    """The pool's tasks (largest first, many small ones) lose and repeat nothing."""
    rng = random.Random(5)
    expected = set()
    for i in range(300):
        body = "x = 1\n" * rng.randint(1000, 6000) * (60 if i == 3 else 1)
        if i % 7 == 0:
            v = generate("{b62:12}{d:4}{b62:8}", rng)
            body += f'password = "{v}"\n'
            expected.add(f"d{i % 5}/f{i}.py")
        (tmp_path / f"d{i % 5}").mkdir(exist_ok=True)
        (tmp_path / f"d{i % 5}" / f"f{i}.py").write_text(body)
    (tmp_path / "fifo").mkdir()
    os.mkfifo(tmp_path / "fifo" / "pipe")
    files = _walk(tmp_path)
    det = Detector(bytes(32))
    serial = scan_files(det, tmp_path, files, workers=1)
    parallel = scan_files(det, tmp_path, files, workers=2)
    assert sum(_sizes(str(tmp_path), files)) >= PARALLEL_BYTES  # the pool did run

    def key(r: ScanResult) -> list[tuple[str | None, int, str, str]]:
        return sorted((x.finding.path, x.finding.line, x.finding.rule, x.finding.fingerprint)
                      for x in r.found)  # fmt: skip

    assert key(parallel) == key(serial)
    assert {p for p, *_ in key(serial)} == expected
    assert parallel.skipped == serial.skipped == ["fifo/pipe: not a regular file, not scanned"]


CHAIN_PIECES = ['"', "'", "\\", " ", "\t", "\n", "\r", "+", ".", "..", "&", "||", "~", ",", "a",
                "bc", "[", "]", "{", "}", "(", ")", "join(", "Join([", "concat!(", "implode(",
                "implode('', [", ".join('')", "x = ", "x += ", "$x += ", "var ", ";", "=",
                '"ab"', "'cd'", '"e\\"f"', '""', "''", "\\\n", "é"]  # fmt: skip


@settings(max_examples=800, deadline=None)
@given(
    st.lists(st.sampled_from(CHAIN_PIECES), max_size=80).map("".join),
    st.integers(0, 200),
    st.integers(0, 200),
)
def test_chain_shortcut_yields_what_every_quote_tried_yields(text: str, a: int, b: int) -> None:
    """Operator chains tried only before a junction, comma chains only after an opener."""
    data = text.encode()
    ws, we = sorted((min(a, len(data)), min(b, len(data))))
    scanner = chain_scanner()
    assert scanner is not None  # hyperscan is a dependency where wheels exist
    fast = list(_concat_in(data, ws, we, scanner))
    plain = list(_concat_in(data, ws, we, None))
    assert fast == plain
    whole = list(_concat_in(data, 0, len(data), scanner))
    assert whole == list(_concat_in(data, 0, len(data), None))


def test_chain_shortcut_on_long_literals_and_lines() -> None:
    """Literals near the 400-unit limit, escapes (two bytes a unit), chains far into a line."""
    rng = random.Random(2)
    for _ in range(200):
        parts = []
        for _ in range(rng.randint(1, 12)):
            n = rng.choice([0, 1, 399, 400, 401, 799, 800, 801, rng.randint(0, 900)])
            body = "".join(rng.choice(["a", "\\\\", '\\"', " "]) for _ in range(n))
            parts.append(rng.choice(['"', "'"]) + body + rng.choice(['"', "'", ""]))
            parts.append(rng.choice([" + ", "", " ", "\n", " . ", "x", ", ", "+\n  "]))
        data = ("z" * rng.randint(0, 3000) + "".join(parts)).encode()
        scanner = chain_scanner()
        assert list(_concat_in(data, 0, len(data), scanner)) == list(
            _concat_in(data, 0, len(data), None)
        )


REGEX_RULES = [r for r in default_rules() if r.analyzer is None]


def _spans(rx: re.Pattern[bytes], data: bytes, s: int, e: int, fast: bool) -> list[tuple[int, ...]]:
    lits = literals.analyse(rx)
    it = literals.finditer(rx, lits, data, s, e) if fast else rx.finditer(data, s, e)
    return [m.span() + tuple(x for g in range(rx.groups + 1) for x in m.span(g)) for m in it]


def test_every_rule_regex_finds_the_same_matches_through_its_literals() -> None:
    """Each shipped regex on texts full of its own sample, keywords and near misses, any span."""
    rng = random.Random(13)
    read = 0
    for rule in REGEX_RULES:
        rx = rule.regex
        lits = literals.analyse(rx)
        read += bool(lits.required or lits.start)
        pieces = [*rule.keywords, *(k.upper() for k in rule.keywords), " ", "\n", "=", ":",
                  '"', "'", "@", "://", "-H ", "curl ", "x", "_", ".", "A1", "\\n"]  # fmt: skip
        if rule.sample:
            pieces += [generate(rule.sample, rng) for _ in range(3)]
        if rule.sample_key:
            pieces += [rule.sample_key, rule.sample_key.upper()]
        for _ in range(40):
            text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
            value = generate(rule.sample, rng) if rule.sample else ""
            text = text.replace("x", value[: rng.randint(0, len(value))], 1)
            data = text.encode()
            s = rng.randint(0, len(data))
            e = rng.randint(s, len(data))
            assert _spans(rx, data, s, e, True) == _spans(rx, data, s, e, False), rule.id
            assert _spans(rx, data, 0, len(data), True) == _spans(rx, data, 0, len(data), False)
    assert read >= len(REGEX_RULES) // 2  # the shortcut is not dead code


PATTERNS = [
    rb"\b(SK[0-9a-fA-F]{4})(?!\w)",
    rb"(?<![\w.])(s\.[a-z0-9]{3})",
    rb"\bcurl\b[^\n]{0,20}?-u ([^\s]{2,8})",
    rb"(?i:\bab)c[0-9]+",
    rb"aa(?i:b)A",
    rb"(?:ab)+c",
    rb"(?=ab)abc?",
    rb"a(?:b|c)d@",
    rb"(?i)AB[0-9]",
    rb"(?-i:ab)x",
    rb"x(?>ab)y",
    rb"aab",
]


SHAPE_PIECES = ["a", "A", "b", "B", "c", "d", "@", "s.", "SK", "sk", "12ab", "ff", " ", "\n",
                "curl", "-u ", "x", "y", "_", "."]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(PATTERNS),
    st.lists(st.sampled_from(SHAPE_PIECES), max_size=40).map("".join),
    st.integers(0, 100),
    st.integers(0, 100),
)
def test_literal_shortcut_on_regex_shapes(pattern: bytes, text: str, a: int, b: int) -> None:
    """Look-behinds, word boundaries, case-insensitive scopes, repeats, overlapping starts."""
    rx = re.compile(pattern)
    data = text.encode()
    s, e = sorted((min(a, len(data)), min(b, len(data))))
    assert _spans(rx, data, s, e, True) == _spans(rx, data, s, e, False)


def test_literals_read_from_regexes() -> None:
    assert literals.analyse(re.compile(rb"\b(SK[0-9a-f]{32})(?!\w)")) == literals.Literals(
        (b"SK",), b"SK"
    )
    assert literals.analyse(re.compile(rb"(?i:\bhttps?://)[^:]+:([^@]+)@x")).required == (
        b"://", b"@x", b":"
    )  # fmt: skip
    assert literals.analyse(re.compile(rb"(?i)secret=(\w+)")) == literals.Literals((b"=",), None)
    assert literals.analyse(re.compile(rb"a|b")) == literals.NONE
    assert literals.analyse(re.compile(rb"(?:ab)*cd")).start is None
