"""The quiet cases: values that look like secrets but are not.

Every candidate value passes through `quiet_reason()`; generic assignments
also through `generic_value_reason()`, which is stricter.  Each filter answers
with a short reason (for tests and `--explain`), or None to keep the value.
"""

from __future__ import annotations

import itertools
import math
import re
import string
from collections import Counter

_PLACEHOLDER_WORDS = re.compile(
    rb"(?i)example|place[_-]?holder|changeme|change[_-]me|dummy|redacted|replace[_-]?me|"
    rb"your[_-]?(?:own[_-]?)?(?:api[_-]?)?(?:key|token|secret|password|pass|pwd|app|client|access)|"
    rb"insert[_-]?(?:your|key|token)|fake[_-]?(?:key|token|secret|password)|"
    rb"^(?:x+|\*+|\.+|#+|-+|_+|0+|1234\w{0,12}|abc\w{0,12}|test\w{0,12}|none|null|nil|undefined|"
    rb"true|false|secret|password|passwd|pass|pwd|token|key|empty|default|hidden|masked|"
    rb"todo|tbd|fixme|sample|string|value|foo|bar|baz|qwerty\w{0,12}|letmein|admin|root|guest|"
    rb"user(?:name)?|s3cr3t|p@ssw0rd|passw0rd|hunter\d{0,4})$"
)
_RUN = re.compile(rb"(.)\1{5,}")  # six equal characters in a row: xxxxxx, ******, 000000
# A run that makes up a value's last part (after a separator, or its end).
_TAIL_RUN = re.compile(rb"(.)\1{5,}=*$|(?:^|[._/:-])(.)\2{5,}(?:[._/:-]|$)")
# What loggers and frameworks print instead of a value: Rails' [FILTERED],
# [REDACTED], <masked>, (hidden), ***.
_REDACTION = re.compile(
    rb"(?i)^[\[(<{]?(?:filtered|redacted|masked|hidden|scrubbed|omitted|removed|sanitized|"
    rb"obfuscated|sensitive|secret)[\])>}]?$"
)
_ELLIPSIS = re.compile(rb"\.\.\.|\xe2\x80\xa6|<[^>]*>")
# Environment and template references, in every syntax we know of.
_ENV_REF = re.compile(
    rb"""(?x)
      ^\$\{?[A-Za-z_][\w.]*\}?$            # $X ${X} ${x.y}
    | ^\$\{\{.*\}\}$ | \$\{\{ | \{\{.*\}\} # GitHub Actions ${{ secrets.X }}, Helm/Jinja {{ .X }}
    | \$\{[^}]*\}                          # ${VAR} inside a longer string
    | ^%[A-Za-z_]\w*%$                     # Windows %X%
    | ^\$\([^)]*\)$                        # $(command) / Azure $(var)
    | ^@[A-Za-z_]\w*@$                     # autotools @X@
    | ^\$\{?[A-Za-z_]\w*\}?[/\\]       # $PWD/config, ${HOME}/.netrc: a path under a variable
    | os\.environ|os\.getenv|getenv\(|process\.env|ENV\[|ENV\.fetch|System\.getenv|
      Environment\.GetEnvironmentVariable|env\(|secretKeyRef|valueFrom|vault:|
      ssm:|arn:aws:secretsmanager|<%=|\#\{
    """
)
# Words that make a generic value a fixture or a description, not a credential.
_FIXTURE_WORDS = re.compile(
    rb"(?i)passw(?:or)?d|passwd|p[a@4][s$5]{2}w[o0]rd|[s$5][e3][ck]r[e3]t|fake|dummy|sample|test|"
    rb"hunter\d|"
    rb"mock|lookup\("
)
# %s, %d, %(name)s, {}, {0}, {name}: a template filled in elsewhere.  Not %r or
# %f: passwords contain those (bench/secrets_quality.py found one).
_FORMAT = re.compile(rb"%[sd]|%\(\w+\)[sd]|\{\d*\}|\{[a-z_]\w*(?:[.:!][^}]*)?\}")
_TRAILING_ESCAPES = re.compile(rb"(?:\\[nrt])+$")
_EMAILISH = re.compile(rb"@[\w-]+\.[\w.-]+")
_UUID = re.compile(rb"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_HEX_DIGEST = re.compile(
    rb"(?i)^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{56}|[0-9a-f]{64}|[0-9a-f]{128})$"
)
_INTEGRITY = re.compile(rb"^(?:sha(?:1|256|384|512)|md5)[-:=][A-Za-z0-9+/=]{20,}$")
_PATHLIKE = re.compile(
    rb"^(?:(?:[A-Za-z]:)?(?:~|\.{1,2})?[/\\][\w.\-/\\ ]*$"
    rb"|[A-Za-z]:\\|~/|\.{1,2}/|/(?:dev|etc|run|var|tmp|home|usr|opt|mnt|srv|proc|Users)/)"
)
_URL_NO_CREDS = re.compile(rb"^[a-z][a-z0-9+.-]*://[^@\s]*$")
# self.settings.password, config.db_pass(): letters only, so `bnzV02.iFFp8nd` stays a value.
_IDENT_PATH = re.compile(rb"^[A-Za-z_]+(?:\.[A-Za-z_]+)+(?:\(\))?$")
# `<bot id>:A<tail>` is the shape of a Telegram bot token, and the telegram
# rule knows its exact form (5-16 digits, `A` and 34 more characters), under any
# name.  A value of that shape that is not one (a 4- or 17-digit id, a tail too
# long) is a near-miss the generic rule leaves to it, as gitleaks does.
_TELEGRAM_SHAPE = re.compile(rb"^[0-9]+:A[\w-]+$")
# `clm26887:AgencyIdentificationCodeContentType`: an XML qualified name, a
# namespace prefix and capitalised words, never a credential.
_QUALIFIED_NAME = re.compile(rb"^[A-Za-z][\w.-]{0,24}:(?:[A-Z][a-z]+){2,}$")
_CALL = re.compile(rb"^[A-Za-z_][\w.]*\(.*\)$")
# The gap between two string literals joined by PHP's `.` or a `+`, read as if
# it were a quoted value: `'--password='.$conn['password']` yields `.$conn[`,
# `value="'.csrf_token().'"` yields `'.csrf_token().'`.  The operator must be
# followed by nothing but a variable or call (an index or argument list may be
# cut by the next quote) and another join: a password that merely starts with
# `.` or `+` stays a value.
_JOIN_GAP = re.compile(
    rb"""^['"]?\s*[.+]\s*\$?[A-Za-z_]\w*(?:(?:->|::)[A-Za-z_]\w*)*"""
    rb"""\s*(?:\[|\((?:[^()'"]*\))?)?\s*(?:[.+]\s*)?['"]?$"""
)
# Laravel-style validation rules, `required|string|min:8|confirmed`: words
# joined by `|`, each with an optional `:argument`, never a credential.
_RULE_LIST = re.compile(rb"^[a-z_]+(?::[\w,.-]*)?(?:\|[a-z_]+(?::[\w,.-]*)?)+$")


def shannon(value: bytes) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


# active_storage/disk#update, app/models/user.rb: words joined by slashes (a
# route, a relative path), never a token's random mix.
_WORD_PATH = re.compile(rb"^[a-z_][a-z0-9_.-]*(?:/[a-z_][a-z0-9_.-]*)+(?:#[a-z_]\w*)?$")


def is_placeholder(value: bytes) -> bool:
    """Obvious stand-ins: xxxx, <token>, your-token-here, ${X}, 12345678-ABCD-1234."""
    return is_filler(value) or is_typed(value)


def is_filler(value: bytes, *, formatted: bool = False) -> bool:
    """A value that holds no secret at all: words, redaction markers, runs of one character.

    `formatted`: the value matched a vendor's format (see `_filler_run`).
    """
    return bool(
        _PLACEHOLDER_WORDS.search(value)
        or _REDACTION.match(value)
        or _ELLIPSIS.search(value)
        or _filler_run(value, formatted=formatted)
    )


def is_typed(value: bytes) -> bool:
    """A value typed by a person counting up (`12345678-ABCD-ABCD-…`, `a1B2c3D4`).

    A stand-in wherever a name alone says "secret"; but in a vendor's exact
    format next to the vendor's name (`snykToken = "12345678-ABCD-…"`) it is
    reported at low confidence (`quiet_reason(typed_ok=True)`): a key someone
    typed for a vendor may still be the one in use, and nothing in the value
    says it is not.
    """
    return _counting(value) or _interleaved_counting(value)


# Runs of four or more consecutive characters counting up: 1234, 5678, abcd, ABCDEF.
def _counting_run(alphabet: str) -> str:
    """`a(?=b)|b(?=c)|…` three or more times, then one more of the alphabet."""
    steps = "|".join(f"{a}(?={b})" for a, b in itertools.pairwise(alphabet))
    return f"(?:{steps}){{3,}}[{alphabet[0]}-{alphabet[-1]}]"


_COUNT_RUN = re.compile(
    "|".join(
        _counting_run(a) for a in ("0123456789", string.ascii_lowercase, string.ascii_uppercase)
    ).encode()
)


def _counting(value: bytes) -> bool:
    """A third of the value or more counts up (`12345678ABCDEFH…`, `abc123-klmnopqrstu…`).

    Typed by a person, not drawn at random: a random token holds a run of four
    counting characters about once in tens of thousands; a third of its
    length, never.
    """
    if len(value) < 16:
        return False
    counted = sum(m.end() - m.start() for m in _COUNT_RUN.finditer(value))
    return 3 * counted >= len(value)


MIN_RANDOM_REST = 16  # random characters a value must keep besides its runs


def _filler_run(value: bytes, *, formatted: bool = False) -> bool:
    """A run of six equal characters that stands in for the secret.

    `ghp_xxxxxxxx…` and `sk_live_0000…` are filler: without their runs, what
    is left is a prefix.  A run inside a real credential is not: every
    unencrypted OpenSSH key body and X bearer token starts with `AAAAAAAA`
    (zero length fields and padding), and the rest of them is random.  So
    runs mark a placeholder when the value ends in one, when the characters
    outside them are few or low in entropy, or (`formatted` false: a value
    only a name calls secret) when they are a third of the value or more.  A
    value in a vendor's format (`xoxa-2-511111111-…-e039d02840a0b9379c`) with
    16 random characters left besides its runs is reported: a made-up id
    beside a random secret may still be a real token's secret.
    """
    if _RUN.search(value) is None:
        return False
    if _TAIL_RUN.search(value):
        return True  # the value ends in filler: a JWT's signature `xxxx…`, a webhook's `XXXX…`
    rest = _RUN.sub(b"", value)
    if not formatted and 3 * (len(value) - len(rest)) >= len(value):
        return True  # a third or more is filler: client_secret = "0000000000_abcdef"
    return len(rest) < MIN_RANDOM_REST or shannon(rest) < 3.0


def _interleaved_counting(value: bytes) -> bool:
    """`a1B2c3D4e5F6`, `AbcDef123!@#`: letters and digits that each count up, interleaved.

    Its letters (any case) are a run of the alphabet, its digits a run of
    0-9, with at most three other characters: a typed example, not a secret.
    """
    if not 6 <= len(value) <= 40:
        return False
    letters = bytes(c | 0x20 for c in value if 0x41 <= (c & ~0x20) <= 0x5A)
    digits = bytes(c for c in value if 0x30 <= c <= 0x39)
    other = len(value) - len(letters) - len(digits)
    if other > 3 or len(letters) < 3 or (digits and len(digits) < 3):
        return False
    return letters in _ALPHABET and (not digits or digits in b"01234567890")


_ALPHABET = string.ascii_lowercase.encode()
_LETTER = re.compile(rb"[A-Za-z]")
_DIGIT = re.compile(rb"[0-9]")


def is_env_reference(value: bytes) -> bool:
    """The value names where the secret comes from instead of being it."""
    return _ENV_REF.search(value) is not None


def quiet_reason(value: bytes, *, typed_ok: bool = False, formatted: bool = False) -> str | None:
    """Why a candidate of any rule is not a secret, or None.

    `typed_ok`: a counting-up value that mixes letters and digits, as the
    vendors' keys do, is not quiet (vendor-keyed rules: see `is_typed`); one of
    digits only (`0123456789` over and over, `12345678-1234-…`) stays quiet.
    `formatted`: the value matched a vendor's format, not just a name (see `_filler_run`).
    """
    if is_env_reference(value):
        return "environment or template reference"
    if is_filler(value, formatted=formatted):
        return "placeholder"
    if is_typed(value) and not (typed_ok and _LETTER.search(value) and _DIGIT.search(value)):
        return "placeholder"
    return None


def char_classes(value: bytes) -> int:
    """How many of lower, upper, digit, other occur."""
    classes = 0
    if re.search(rb"[a-z]", value):
        classes += 1
    if re.search(rb"[A-Z]", value):
        classes += 1
    if re.search(rb"[0-9]", value):
        classes += 1
    if re.search(rb"[^A-Za-z0-9]", value):
        classes += 1
    return classes


def generic_value_reason(value: bytes, *, password: bool, quoted: bool) -> str | None:
    """Why a value assigned to a secret-sounding name is not a secret, or None.

    Passwords may be short and low in entropy (``hunter2!``), so they only need
    two character classes and no spaces; tokens and keys need length and
    entropy.  Shapes that are never credentials are refused for both: UUIDs,
    hex digests, integrity hashes, paths, URLs without credentials, dotted
    identifiers and calls (code, not data), natural-language strings (i18n).
    """
    if (r := quiet_reason(value)) is not None:
        return r
    value = _TRAILING_ESCAPES.sub(b"", value)
    if _FIXTURE_WORDS.search(value):
        return "fixture or description"
    if _FORMAT.search(value):
        return "format string"
    n = len(value)
    if n < (6 if password else 12):
        return "too short"
    if n > 300:
        return "too long"
    if value.count(b" ") >= (1 if not password else 2) or b"\n" in value:
        return "prose"
    if _UUID.match(value):
        return "uuid"
    if _INTEGRITY.match(value):
        return "integrity hash"
    if _PATHLIKE.match(value) or _URL_NO_CREDS.match(value):
        return "path or url"
    if not quoted and (_IDENT_PATH.match(value) or _CALL.match(value)):
        return "code expression"
    if _CALL.match(value) or _JOIN_GAP.match(value):
        return "code expression"
    if _RULE_LIST.match(value):
        return "validation rules"
    if not password and _WORD_PATH.match(value):
        return "path or route"
    classes = char_classes(value)
    if password:
        if classes < 2 or re.fullmatch(rb"[A-Za-z_.\-/ ]+", value):
            return "words"  # also word paths: credentials/db
        if re.fullmatch(rb"[A-Za-z_]\w*\[[A-Za-z_]\w*\]", value):
            return "code expression"  # login[pass]: a form field's name
        return None
    if _EMAILISH.search(value):
        return "address"
    if _TELEGRAM_SHAPE.match(value):
        return "telegram-shaped: the telegram rule's to judge"
    if _QUALIFIED_NAME.match(value):
        return "qualified name"
    if _HEX_DIGEST.match(value) and not quoted:
        return "digest"
    if classes < 2:
        return "a single character class"
    if shannon(value) < 3.0:
        return "low entropy"
    if re.fullmatch(rb"_*[A-Za-z]+(?:[_\-.][A-Za-z]+)*_*", value):
        return "words"
    return None
