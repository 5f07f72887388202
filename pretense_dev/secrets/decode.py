r"""Second looks at a text: decoded segments and joined string literals.

Scanners that match only the bytes as written miss a token that is
percent-encoded, JSON-escaped (``\\u0067hp_…``, ``\\/``) or base64-encoded
(a k8s Secret, a docker `auth`, a ``*_B64`` variable), and a token split into
literals joined by ``+``, implicit concatenation, ``concat!``, ``join`` or
``+=``.  Each function here yields `View`s: a derived text plus the span of
the original it stands for.  The detector scans a view like any text and
reports what it finds at the view's span, fingerprinted on the decoded value
(so a token has one identity however it is written).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes


@dataclass(frozen=True)
class View:
    """A derived text standing for data[start:end] of its parent."""

    data: bytes
    start: int
    end: int
    skip: int = 0  # leading bytes of context copied from the parent (not new content)


_B64 = re.compile(rb"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{20,4096}={0,2}(?![A-Za-z0-9+/=_-])")
_HAS_DIGIT = re.compile(rb"[0-9]")
_HEX_ONLY = re.compile(rb"[0-9a-fA-F]+")
_PRINTABLE = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}


def base64_views(data: bytes) -> Iterator[View]:
    """Base64 runs that decode to mostly printable text."""
    for m in _B64.finditer(data):
        s = m.group()
        if _HEX_ONLY.fullmatch(s) or not _HAS_DIGIT.search(s):
            continue  # hex digests, identifiers: never base64 text
        raw = _b64(s)
        if raw is None or len(raw) < 12:
            continue
        printable = sum(1 for b in raw if b in _PRINTABLE)
        if printable < 0.95 * len(raw):
            continue
        yield View(raw, m.start(), m.end())


def _b64(s: bytes) -> bytes | None:
    urlsafe = b"-" in s or b"_" in s
    if urlsafe and (b"+" in s or b"/" in s):
        return None
    body = s.rstrip(b"=")
    if len(body) % 4 == 1:
        return None
    body += b"=" * (-len(body) % 4)
    try:
        if urlsafe:
            return base64.urlsafe_b64decode(body)
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None


_PCT_ESC = re.compile(rb"%[0-9A-Fa-f]{2}")
_PCT = re.compile(rb"[^\s\"'<>`]*%[0-9A-Fa-f]{2}[^\s\"'<>`]*")


def percent_views(data: bytes) -> Iterator[View]:
    """Percent-encoded segments with at least two escapes."""
    for m in _PCT.finditer(data):
        s = m.group()
        if len(_PCT_ESC.findall(s)) < 2:
            continue
        raw = unquote_to_bytes(s)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if raw != s and text.isprintable():
            yield View(raw, m.start(), m.end())


_JSON_ESC = re.compile(
    rb'(?:[^\s"\\]|\\u[0-9a-fA-F]{4}|\\/)*(?:\\u[0-9a-fA-F]{4}|\\/)(?:[^\s"\\]|\\u[0-9a-fA-F]{4}|\\/)*'
)
_U = re.compile(rb"\\u([0-9a-fA-F]{4})")


def json_escape_views(data: bytes) -> Iterator[View]:
    r"""Segments written with JSON escapes (`\u0041`, `\/`)."""
    for m in _JSON_ESC.finditer(data):
        s = m.group()
        raw = _U.sub(lambda u: chr(int(u.group(1), 16)).encode("utf-8", "replace"), s)
        raw = raw.replace(b"\\/", b"/")
        if raw != s and len(raw) >= 8:
            yield View(raw, m.start(), m.end())


# -- concatenated literals ------------------------------------------------------

_LIT = rb'"(?:[^"\\\n]|\\.){0,400}"|\'(?:[^\'\\\n]|\\.){0,400}\''
_OP_CHAIN = re.compile(
    rb"(?:"
    + _LIT
    + rb")(?:[ \t]*(?:\\?\r?\n)?[ \t]*(?:\+|\.\.?|&|\|\||~)?[ \t]*(?:\r?\n[ \t]*)?(?:"
    + _LIT
    + rb"))+"
)
_COMMA_CHAIN = re.compile(
    rb"(?:concat!\(|[Jj]oin\(\s*\[?|implode\(\s*(?:['\"]['\"]\s*,\s*)?\[?|\[|\{)\s*(?:"
    + _LIT
    + rb")(?:\s*,\s*(?:"
    + _LIT
    + rb"))+\s*,?\s*[\])}]"
)
_JOIN_TAIL = re.compile(rb"\s*(?:\.join\(\s*(?:''|\"\")\s*\)|,\s*(?:''|\"\")\s*\)|\))")
_PLUS_EQ_START = re.compile(
    rb"(?m)^[ \t]*(?:(?:var|let|const|my|local)\s+)?\$?(\w+)[ \t]*(?::=|=)[ \t]*("
    + _LIT
    + rb")[ \t]*;?[ \t]*$"
)
_LIT_ONLY = re.compile(_LIT)


def _literal_value(lit: bytes) -> bytes:
    return lit[1:-1]


def concat_views(data: bytes) -> Iterator[View]:
    """Adjacent literals joined by an operator, implicitly, by concat!/join, or by +=."""
    for m in _OP_CHAIN.finditer(data):
        yield _chain_view(data, m.start(), m.end(), m.group())
    for m in _COMMA_CHAIN.finditer(data):
        opener = m.group()[:1]
        tail = _JOIN_TAIL.match(data, m.end())
        # `[...]` / `{...}` count only when a join follows; concat!/join( are joins themselves.
        if opener in (b"[", b"{") and tail is None:
            continue
        yield _chain_view(data, m.start(), m.end(), m.group())
    for m in _PLUS_EQ_START.finditer(data):
        var = re.escape(m.group(1))
        parts = [m.group(2)]
        pos = m.end()
        follow = re.compile(
            rb"\r?\n[ \t]*\$?" + var + rb"[ \t]*\+=[ \t]*(" + _LIT + rb")[ \t]*;?[ \t]*(?=\r?\n|$)"
        )
        while (f := follow.match(data, pos)) is not None:
            parts.append(f.group(1))
            pos = f.end()
        if len(parts) > 1:
            yield _chain_view(data, m.start(2), pos, b" ".join(parts))


def _chain_view(data: bytes, start: int, end: int, chain: bytes) -> View:
    joined = b"".join(_literal_value(lit.group()) for lit in _LIT_ONLY.finditer(chain))
    line_start = data.rfind(b"\n", 0, start) + 1
    context = data[line_start:start]
    return View(context + b'"' + joined + b'"', start, end, skip=len(context))
