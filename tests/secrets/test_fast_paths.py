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
import random
import re
from collections.abc import Iterator
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pretense_dev.secrets import Detector, analyzers
from pretense_dev.secrets.samples import generate

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


@contextlib.contextmanager
def plain_path() -> Iterator[None]:
    """Every shortcut's test says "maybe": the detector does all the work."""
    with mock.patch.object(analyzers, "_HTML_TAG", re.compile(rb"")):
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
