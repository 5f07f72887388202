"""Synthetic names: keyed, deterministic, valid everywhere, shaped like the original.

There are two schemes; a repository keeps the one its store was created with
(`index.store`, meta ``synth_scheme``) so a conversation resent after an
upgrade still mutates to the same bytes.

**Scheme 2** (new repositories): ``<leading underscores><hint><digits>``, e.g.
``fn482``, ``Cls071``, ``CONST305``, ``_var914``.  The digits are the HMAC-SHA256
of the name under the repo key, reduced to 3 decimal digits; on collision
other keyed 3-digit values are tried, then 6 digits, 9… (`_synthesize2`).
OpenAI's o200k and cl100k tokenizers (and other byte-pair encoders, whose
pre-tokenizers split letters from digits and digits in runs of at most 3)
read each hint, in every shape, as one token and any 3 digits as one token,
so a synthetic costs 2 tokens (3 once its hint's 3-digit slots are full),
about what a project-coined name costs (``reconcile_batch`` is 3); scheme 1's
``fn_q7k2md`` costs 6 and made mutated code 21-37 % more expensive.
`bench/tokens.py` measures it on real code.  A hint plus digits is a valid
identifier in every language, never a keyword, and reads as a stand-in.

**Scheme 1** (repositories initialised before scheme 2): a synthetic is
``<leading underscores><hint>_<code>`` where ``hint`` says what
kind of thing the name was (it helps the model reason about the code) and
``code`` is the HMAC-SHA256 of the name under the repo key, in a 32-letter
alphabet without look-alike characters.  The shape the languages care about is
kept: leading underscores (Python privacy), first-letter case (Go exports, JSX
components, Ruby constants, Java classes) and ALL_CAPS constants.

Every synthetic matches `LOOKALIKE`; the indexer records the repository's real
tokens that match it too, so a new synthetic is never equal to a real token
(the mutation contract in README.md).  Two names whose codes collide are separated
by lengthening the later one's code: ``synthesize`` takes the set of names
already taken and returns the shortest free code.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Container

# OpenSSL's one-call HMAC, which `hmac.digest` wraps in Python: a full index
# computes ~120,000 of them, and the wrapper cost as much as the digest.
_hmac_sha256: Callable[[bytes, bytes, str], bytes]
try:
    from _hashlib import hmac_digest as _hmac_sha256
except ImportError:  # pragma: no cover - a Python built without OpenSSL
    _hmac_sha256 = hmac.digest

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32: no i, l, o, u
CODE_LENGTH = 6  # 30 bits; collisions are lengthened, see synthesize()
SCHEME = 2  # what a new repository gets
SCHEMES = (1, 2)
DIGITS = 3  # scheme 2: one token of digits; collisions probe, then add 3 more
PROBES = 16  # scheme 2: keyed candidates per length before lengthening

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
# Scheme 2: hints that are one token in o200k and cl100k in every shape
# (lower, Capitalised, UPPER, after "_"), checked by tests/mutation/test_synth_tokens.py.
HINTS2: dict[str, str] = {
    "function": "fn",
    "method": "mt",
    "class": "cls",
    "type": "type",
    "field": "attr",
    "variable": "var",
    "constant": "const",
    "parameter": "arg",
    "module": "mod",
    "member": "mem",
    "name": "nm",
}

_hints = "|".join(sorted(HINTS.values(), key=len, reverse=True))
_hints2 = "|".join(sorted(set(HINTS2.values()), key=len, reverse=True))
_V1 = r"_*(?:" + _hints + r")_[0-9a-z]{" + str(CODE_LENGTH) + r",}"
_V2 = r"_*(?:" + _hints2 + r")[0-9]{" + str(DIGITS) + r",}"
# Anything shaped like a synthetic of either scheme, in any case, as a whole token.
LOOKALIKE = re.compile(
    r"(?<![A-Za-z0-9_])(?:" + _V1 + "|" + _V2 + r")(?![A-Za-z0-9_])", re.IGNORECASE
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
    """Tokens of `data` shaped like synthetics of either scheme (`LOOKALIKE`).

    Both shapes are recorded whatever the repository's scheme: a superset only
    means a few more tokens a new synthetic avoids.  The C kernel when built
    (a regex over every file cost as much as parsing it).
    """
    if _kernel_lookalikes is not None:
        try:
            found: set[str] = _kernel_lookalikes(
                data, _HINT_TUPLE, CODE_LENGTH, _HINT2_TUPLE, DIGITS
            )
            return found
        except UnicodeEncodeError:
            pass
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    return {m.group() for m in LOOKALIKE.finditer(text)}


_HINT_TUPLE = tuple(sorted(set(HINTS.values()) | {DEFAULT_HINT}))
_HINT2_TUPLE = tuple(sorted(set(HINTS2.values())))
try:
    from pretense_dev.mutation._kernel import (  # type: ignore[import-not-found,import-untyped,unused-ignore]
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


def synthesize(
    key: bytes, name: str, kind: str, taken: Container[str] = (), scheme: int = 1
) -> str:
    """The synthetic for `name`: the shortest code not in `taken`.

    Deterministic for (key, name, kind, taken, scheme); `taken` holds every
    synthetic already issued and every real token that looks like one.
    """
    if scheme == 2:
        return _synthesize2(key, name, kind, taken)
    if scheme != 1:
        raise ValueError(f"unknown synthetic scheme {scheme!r}")
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


def _synthesize2(
    key: bytes, name: str, kind: str, taken: Container[str], full: Container[str] = ()
) -> str:
    """Scheme 2: hint + keyed digits, the first candidate not taken.

    Candidates come 3 digits at a time: `PROBES` keyed 3-digit values (2
    tokens), then `PROBES` 6-digit ones (3 tokens), and so on.  Probing before
    lengthening keeps a name at 2 tokens until its hint's thousand 3-digit
    slots are nearly full (a large Java project fills them for ``var``, and
    lengthening at the first collision cost it 2 % more tokens).  Probe ``i``
    is the HMAC of the name (``i = 0``) or of the name, a NUL byte and ``i``,
    modulo 10**n: uniform to within 10**n / 2**256.

    `full` names prefixes (underscores + shaped hint) whose thousand 3-digit
    candidates are all in `taken`: their probes would all fail, so they are
    skipped (`Issuer` keeps the count); the result is the same either way.
    """
    return _probe2(key, name, _prefix2(name, kind), taken, full)


def _prefix2(name: str, kind: str) -> str:
    """Scheme 2: the leading underscores and the hint, shaped like `name`."""
    hint = HINTS2.get(kind, HINTS2["name"])
    lead, shape = shape_of(name)
    if shape == "caps":
        hint = hint.upper()
    elif shape == "upper":
        hint = hint.capitalize()
    return "_" * lead + hint


def _probe2(key: bytes, name: str, prefix: str, taken: Container[str], full: Container[str]) -> str:
    """Scheme 2's candidates for `name` after `prefix`, in order; the first free one."""
    raw = name.encode("utf-8")
    values: list[int] = []
    for n in range(DIGITS, 61, DIGITS):
        if n == DIGITS and prefix in full:
            continue
        mod = 10**n
        for i in range(PROBES):
            if i == len(values):
                msg = raw if i == 0 else raw + b"\0" + bytes([i])
                values.append(int.from_bytes(_hmac_sha256(key, msg, "sha256"), "big"))
            candidate = prefix + str(values[i] % mod).zfill(n)
            if candidate not in taken and candidate != name:
                return candidate
    raise RuntimeError("no free synthetic for a name after 60 digits")  # pragma: no cover


# Scheme 2 prefixes as `_synthesize2` shapes them: each hint lower, Capitalised, UPPER.
_SHAPED2 = frozenset(shaped for h in HINTS2.values() for shaped in (h, h.capitalize(), h.upper()))
_SLOTS = 10**DIGITS


def _slot_prefix(token: str) -> str | None:
    """The scheme-2 prefix a token fills a 3-digit slot of (``_Var042`` -> ``_Var``), or None."""
    digits = token[-DIGITS:]
    if len(token) <= DIGITS or not (digits.isascii() and digits.isdigit()):
        return None
    prefix = token[:-DIGITS]
    return prefix if prefix.lstrip("_") in _SHAPED2 else None


class Issuer:
    """Issues synthetics one after another against a set of taken tokens, adding each.

    A full index issues every name at once.  In a large repository a scheme-2
    hint's thousand 3-digit slots fill up (the standard library defines ~20,000
    variables), and from then on every name of that hint spent its 16 keyed
    probes — 16 HMACs and 16 set look-ups — before lengthening: 825,000 HMACs
    for the standard library's 63,000 names, seconds of a single core after
    the parallel parse.  The issuer counts, per prefix, the 3-digit tokens
    taken, and sends a name whose prefix is full straight to 6 digits.  The
    synthetics are exactly `synthesize`'s, name by name, for the same order
    (tests/mutation/test_issuer.py compares them).
    """

    def __init__(self, key: bytes, taken: set[str], scheme: int) -> None:
        self.key = key
        self.taken = taken
        self.scheme = scheme
        self._used: dict[str, int] = {}
        self.full: set[str] = set()
        if scheme == 2:
            for token in taken:
                self._count(token)

    def _count(self, token: str) -> None:
        prefix = _slot_prefix(token)
        if prefix is not None:
            used = self._used[prefix] = self._used.get(prefix, 0) + 1
            if used >= _SLOTS:
                self.full.add(prefix)

    def issue(self, name: str, kind: str) -> str:
        """`synthesize(key, name, kind, taken, scheme)`, then `name`'s synthetic is taken."""
        if self.scheme == 2:
            prefix = _prefix2(name, kind)
            syn = _probe2(self.key, name, prefix, self.taken, self.full)
            if len(syn) == len(prefix) + DIGITS:  # a 3-digit slot of `prefix`, free until now
                used = self._used[prefix] = self._used.get(prefix, 0) + 1
                if used >= _SLOTS:
                    self.full.add(prefix)
        else:
            syn = synthesize(self.key, name, kind, self.taken, self.scheme)
        self.taken.add(syn)
        return syn
