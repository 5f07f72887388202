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

import hashlib
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


def _code_chars(key: bytes, name: str) -> str:
    digest = hmac.new(key, name.encode("utf-8"), hashlib.sha256).digest()
    bits = int.from_bytes(digest, "big")
    return "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(51))


def shape_of(name: str) -> tuple[int, str]:
    """(leading underscores, "caps" | "upper" | "lower") of an identifier."""
    core = name.lstrip("_")
    lead = len(name) - len(core)
    if not core:
        return lead, "lower"
    letters = [c for c in core if c.isalpha()]
    if letters and all(c.isupper() for c in letters) and len(letters) > 1:
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
    code = _code_chars(key, name)
    for length in range(CODE_LENGTH, len(code) + 1):
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
