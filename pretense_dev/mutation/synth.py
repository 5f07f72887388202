"""Synthetic names: keyed, deterministic, valid everywhere, shaped like the original.

A synthetic is ``<leading underscores><hint>_<code>`` where ``hint`` says what
kind of thing the name was (it helps the model reason about the code) and
``code`` is the HMAC-SHA256 of the name under the repo key, in a 32-letter
alphabet without look-alike characters.  The shape the languages care about is
kept: leading underscores (Python privacy), first-letter case (Go exports, JSX
components, Ruby constants, Java classes) and ALL_CAPS constants.

Every synthetic matches `LOOKALIKE`; the indexer records the repository's real
tokens that match it too, so a new synthetic is never equal to a real token
(DESIGN, mutation semantics 3).  Two names whose codes collide are separated
by lengthening the later one's code: ``synthesize`` takes the set of names
already taken and returns the shortest free code.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Container

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32: no i, l, o, u
CODE_LENGTH = 6  # 30 bits; collisions are lengthened, see synthesize()

# kind -> hint.  Kinds come from identifiers/: keep the two lists in step.
HINTS: dict[str, str] = {
    "function": "fn",
    "method": "meth",
    "class": "cls",
    "type": "typ",
    "field": "fld",
    "variable": "var",
    "constant": "const",
    "parameter": "arg",
    "module": "mod",
    "member": "mbr",
    "name": "nm",
}
DEFAULT_HINT = "nm"

_hints = "|".join(sorted(HINTS.values(), key=len, reverse=True))
# Anything shaped like a synthetic, in any case, as a whole token.
LOOKALIKE = re.compile(
    r"(?<![A-Za-z0-9_])_*(?:" + _hints + r")_[0-9a-z]{" + str(CODE_LENGTH) + r",}(?![A-Za-z0-9_])",
    re.IGNORECASE,
)


def _code_chars(key: bytes, name: str, length: int) -> str:
    """`length` characters (≤ 51) of HMAC-SHA256(key, name), 5 bits each, in `ALPHABET`.

    Issuing the standard library's 66,000 names spent 1.4 s here when the whole
    51-character string was built for every name; the first 6 come from one
    64-bit slice and longer codes (after a collision) are rare.
    """
    digest = hmac.digest(key, name.encode("utf-8"), "sha256")
    if length <= 12:
        v = int.from_bytes(digest[:8], "big")
        return "".join([ALPHABET[(v >> (59 - 5 * i)) & 31] for i in range(length)])
    v = int.from_bytes(digest, "big")
    return "".join([ALPHABET[(v >> (251 - 5 * i)) & 31] for i in range(length)])


def find_lookalikes(data: bytes | str) -> set[str]:
    """Tokens of `data` shaped like synthetics (`LOOKALIKE`); the C kernel when built."""
    if _kernel_lookalikes is not None:
        try:
            found: set[str] = _kernel_lookalikes(data, _HINT_TUPLE, CODE_LENGTH)
            return found
        except UnicodeEncodeError:
            pass
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    return {m.group() for m in LOOKALIKE.finditer(text)}


_HINT_TUPLE = tuple(sorted(set(HINTS.values()) | {DEFAULT_HINT}))
try:
    from pretense_dev.mutation._kernel import (  # type: ignore[import-not-found]
        lookalikes as _kernel_lookalikes,
    )
except ImportError:  # pragma: no cover - only where the C build failed
    _kernel_lookalikes = None


def shape_of(name: str) -> tuple[int, str]:
    """(leading underscores, "caps" | "upper" | "lower") of an identifier.

    "caps" needs two letters or more, so `X1` is "upper", not a constant.
    """
    core = name.lstrip("_")
    lead = len(name) - len(core)
    if not core:
        return lead, "lower"
    if core.isupper() and sum(c.isalpha() for c in core) > 1:
        return lead, "caps"
    if core[0].isupper():
        return lead, "upper"
    return lead, "lower"


def synthesize(key: bytes, name: str, kind: str, taken: Container[str] = ()) -> str:
    """The synthetic for `name`: the shortest code not in `taken`.

    Deterministic for (key, name, kind, taken); `taken` holds every synthetic
    already issued and every real token that looks like one.
    """
    hint = HINTS.get(kind, DEFAULT_HINT)
    lead, shape = shape_of(name)
    code = _code_chars(key, name, 12)
    for length in range(CODE_LENGTH, 52):
        if length > len(code):
            code = _code_chars(key, name, 51)
        c = code[:length]
        if shape == "caps":
            candidate = f"{'_' * lead}{hint.upper()}_{c.upper()}"
        elif shape == "upper":
            candidate = f"{'_' * lead}{hint.capitalize()}_{c}"
        else:
            candidate = f"{'_' * lead}{hint}_{c}"
        if candidate not in taken and candidate != name:
            return candidate
    raise RuntimeError(
        f"no free synthetic for a name after {len(code)} characters"
    )  # pragma: no cover
