"""The pure-Python definition of whole-token substitution.

This module is the specification that `_kernel.c` implements; the property tests
compare the two on generated text, and `table.py` falls back to it when the C
kernel is not built or the text cannot be encoded as UTF-8 (lone surrogates,
which `json.loads` can produce).
"""

from __future__ import annotations

import re
from typing import AnyStr

WORD_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"

# A token is a maximal run of ASCII word characters.  Everything else, every
# non-ASCII character included, separates tokens: prose such as "Billing’s"
# (curly apostrophe) must still expose "Billing", and a leak is worse than
# cutting a rare non-ASCII identifier in two.
_PLAIN = re.compile(r"[A-Za-z0-9_]+")
# In JSON text, "\n" and "\u00e9" are separators, not the start of a token.
_JSON = re.compile(r"\\(?:u[0-9A-Fa-f]{0,4}|[\s\S])?|([A-Za-z0-9_]+)")
_PLAIN_B = re.compile(rb"[A-Za-z0-9_]+")
_JSON_B = re.compile(rb"\\(?:u[0-9A-Fa-f]{0,4}|[\s\S])?|([A-Za-z0-9_]+)")


def sub(
    text: AnyStr,
    table: dict[str, str],
    prefix: str,
    strip: bool,
    json: bool,
    final: bool,
) -> tuple[AnyStr, int]:
    """Substitute whole tokens; see `_kernel.c` for the contract.

    Returns the result and how many trailing characters were held back (only when
    `final` is false: a token touching the end, or an unfinished JSON escape).
    """
    if isinstance(text, bytes):
        return _sub_bytes(text, table, prefix, strip, json, final)
    held = 0
    if not final:
        held = _held(text, json)
        body = text[: len(text) - held]
    else:
        body = text

    def token(t: str) -> str:
        r = table.get(t)
        if r is not None:
            return r
        if prefix and t.startswith(prefix):
            return t[len(prefix) :] if strip else prefix + t
        return t

    if json:
        out = _JSON.sub(lambda m: token(m[1]) if m[1] is not None else m[0], body)
    else:
        out = _PLAIN.sub(lambda m: token(m[0]), body)
    return out, held


def _sub_bytes(
    data: bytes, table: dict[str, str], prefix: str, strip: bool, json: bool, final: bool
) -> tuple[bytes, int]:
    text = data.decode("latin-1")  # bytes >= 0x80 are separators either way
    out, held = sub(text, table, prefix, strip, json, final)
    return out.encode("latin-1"), held


def _held(text: str, json: bool) -> int:
    """Length of the unfinished tail a stream must keep for the next chunk."""
    if not json:
        return len(text) - len(text.rstrip(WORD_CHARS))
    # Whether a trailing backslash starts an escape, and whether trailing word
    # characters belong to a "\uXXXX" escape, depends on everything before it.
    last = None
    for last in _JSON.finditer(text):  # noqa: B007 - only the last match matters
        pass
    if last is None or last.end() != len(text):
        return 0
    if last[1] is not None:  # a token touching the end
        return len(last[0])
    esc = last[0]
    if esc == "\\" or (esc.startswith("\\u") and len(esc) < 6):
        return len(esc)
    return 0
