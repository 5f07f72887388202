r"""Code for what a regex cannot say, behind one small interface, so a rule stays data.

An analyzer is a function ``(rule, data, ctx) -> Iterable[Match]``.  A rule in
rules.toml names it with ``analyzer = "…"``; the rule keeps its id, keywords,
description and test samples in the data file, so renaming code never renames
a finding (a baseline keys on the rule id).

* ``pem``                 PEM / OpenSSH / PGP / PuTTY private-key blocks, also
                          when escaped in JSON (`\\n`) or split into string literals;
* ``service-account-json`` Google service-account key files;
* ``kubernetes-secret``   `data:` values (base64-decoded) and `stringData:` of
                          `kind: Secret` manifests;
* ``docker-auth``         `"auth": base64(user:password)` in Docker configs;
* ``assignment``          generic `name = "literal"` where the name says secret;
* ``key-file``            PKCS#12 / Java key stores, by file name.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pretense_dev.secrets import checks, filters
from pretense_dev.secrets.model import Match

if TYPE_CHECKING:
    from pretense_dev.secrets.rules import Rule


@dataclass
class AnalyzerContext:
    """What an analyzer may know besides the bytes."""

    path: str | None
    windows: list[tuple[int, int]] = field(default_factory=list)  # lines with a keyword hit
    hits: list[tuple[int, int, int]] = field(default_factory=list)  # (line start, end, hit end)


Analyzer = Callable[["Rule", bytes, AnalyzerContext], Iterable[Match]]

# -- private-key blocks -------------------------------------------------------

_BLOCK = re.compile(
    rb"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----(.{0,20000}?)"
    rb"(?:-----END \1PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.DOTALL,
)
_ARMOR_HEADER = re.compile(rb"(?m)^[ \t\"']*[A-Za-z][\w-]*: [^\n]*$")
_ESCAPES = re.compile(rb"\\[nrt]")
_B64CHARS = re.compile(rb"[A-Za-z0-9+/=]+")
_PUTTY = re.compile(
    rb"PuTTY-User-Key-File-\d+: *\S+.*?Private-Lines: *(\d+)[\r\n]+"
    rb"((?:[A-Za-z0-9+/=]+[\r\n]*){1,200})",
    re.DOTALL,
)


def _key_body(raw: bytes) -> bytes:
    """The base64 of a key block, whatever wraps it (newlines, escapes, quotes, `+`)."""
    text = _ESCAPES.sub(b"\n", raw)
    text = _ARMOR_HEADER.sub(b"", text)
    # A PGP armor ends with a CRC line "=XXXX"; it is not part of the key.
    text = re.sub(rb"(?m)^\s*=[A-Za-z0-9+/]{4}\s*$", b"", text)
    return b"".join(_B64CHARS.findall(text))


def _der_like(body: bytes, kind: str) -> bool:
    """The body decodes to the structure its armor names: then it is a key, never a placeholder.

    OpenSSH: the `openssh-key-v1` magic followed by the cipher name's length;
    PKCS#1, SEC1, PKCS#8 (plain or encrypted): one ASN.1 SEQUENCE whose
    length is the whole body; PGP: a packet header.
    """
    try:
        raw = base64.b64decode(body + b"=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return False
    if kind == "openssh-private-key":
        magic = b"openssh-key-v1\0"
        if not raw.startswith(magic) or len(raw) < len(magic) + 4:
            return False
        n = int.from_bytes(raw[len(magic) : len(magic) + 4], "big")
        return 0 < n <= 64 and raw[len(magic) + 4 : len(magic) + 4 + n].isascii()
    if kind == "pgp-private-key-block":
        return bool(raw) and raw[0] & 0x80 != 0
    return _der_sequence(raw)


def _der_sequence(raw: bytes) -> bool:
    """One ASN.1 SEQUENCE spanning exactly `raw` (DER definite length)."""
    if len(raw) < 2 or raw[0] != 0x30:
        return False
    first = raw[1]
    if first < 0x80:
        return 2 + first == len(raw)
    k = first & 0x7F
    if not 1 <= k <= 4 or len(raw) < 2 + k:
        return False
    return 2 + k + int.from_bytes(raw[2 : 2 + k], "big") == len(raw)


def _block_kind(label: bytes, pgp: bool) -> str:
    if pgp or label.startswith(b"PGP"):
        return "pgp-private-key-block"
    if label.startswith(b"OPENSSH"):
        return "openssh-private-key"
    return "private-key"


def pem(rule: Rule, data: bytes, ctx: AnalyzerContext) -> Iterator[Match]:
    """Private-key blocks of the kind this rule names."""
    if rule.id == "putty-private-key":
        for m in _PUTTY.finditer(data):
            body = b"".join(_B64CHARS.findall(m.group(2)))
            if len(body) >= 64 and not filters.is_placeholder(body):
                yield Match(rule.id, m.start(), m.end(), body, "high", rule.priority)
        return
    for m in _BLOCK.finditer(data):
        kind = _block_kind(m.group(1), bool(m.group(2)))
        if kind != rule.id:
            continue
        inner = m.group(3)
        if b"..." in inner or b"\xe2\x80\xa6" in inner:
            continue  # a truncated example in documentation
        body = _key_body(inner)
        if len(body) < 64:
            continue
        if _der_like(body, kind):
            yield Match(rule.id, m.start(), m.end(), body, "high", rule.priority)
        elif not filters.is_placeholder(body) and filters.shannon(body) >= 4.0:
            yield Match(rule.id, m.start(), m.end(), body, "medium", rule.priority)


# -- service-account JSON -----------------------------------------------------

_SA_TYPE = re.compile(rb'"type"\s*:\s*"service_account"')
_SA_KEY = re.compile(rb'"private_key"\s*:\s*"((?:[^"\\]|\\.){0,20000})"')
_SA_KEY_ID = re.compile(rb'"private_key_id"\s*:\s*"([0-9a-f]{16,64})"')


def service_account_json(rule: Rule, data: bytes, ctx: AnalyzerContext) -> Iterator[Match]:
    """A Google service-account key: the private key (and its id) of each account."""
    if not _SA_TYPE.search(data):
        return
    for m in _SA_KEY.finditer(data):
        inner = m.group(1)
        if b"PRIVATE KEY" not in inner:
            continue
        body = _key_body(re.sub(rb"-----[A-Z ]+-----", b"", inner))
        if len(body) < 64 or filters.is_placeholder(body):
            continue
        kid = _SA_KEY_ID.search(data)
        value = (kid.group(1) + b":" if kid else b"") + body
        yield Match(rule.id, m.start(1), m.end(1), value, "high", rule.priority)


# -- Kubernetes Secret manifests -----------------------------------------------

_K8S_KIND = re.compile(rb"""(?mi)^\s*["']?kind["']?\s*:\s*["']?secret["']?\s*,?\s*$""")
_K8S_SECTION = re.compile(rb"(?m)^([ \t]*)(data|stringData):[ \t]*$")
_K8S_ENTRY = re.compile(rb"""^([ \t]+)([\w.-]+):[ \t]*(?:["']?)([^\s"'#]*)(?:["']?)[ \t]*$""")


def kubernetes_secret(rule: Rule, data: bytes, ctx: AnalyzerContext) -> Iterator[Match]:
    """Each value under `data:` (base64) or `stringData:` of a `kind: Secret` document."""
    for doc_start, doc in _yaml_documents(data):
        if not _K8S_KIND.search(doc):
            continue
        for sec in _K8S_SECTION.finditer(doc):
            indent = len(sec.group(1))
            encoded = sec.group(2) == b"data"
            pos = sec.end() + 1
            while pos < len(doc):
                eol = doc.find(b"\n", pos)
                eol = len(doc) if eol < 0 else eol
                line = doc[pos:eol]
                if line.strip() and not line.lstrip().startswith(b"#"):
                    e = _K8S_ENTRY.match(line)
                    if e is None or len(e.group(1)) <= indent:
                        break
                    value = e.group(3)
                    plain = None if _k8s_not_secret(e.group(2)) else _k8s_value(value, encoded)
                    if plain is not None:
                        start = doc_start + pos + e.start(3)
                        yield Match(
                            rule.id, start, start + len(value), plain, "high", rule.priority
                        )
                pos = eol + 1


# Secret data that says what to connect to, not how to prove who you are —
# including what kind of service it is: the Service Binding spec's well-known
# entries `type` and `provider` (https://servicebinding.io/spec/core/1.0.0/
# #well-known-secret-entries; `type: "postgresql"` in spring-petclinic's k8s/db.yml),
# and the scheme, protocol or driver a client picks.
_K8S_NOT_SECRET = re.compile(
    rb"(?i)(?:user(?:name)?|login|e-?mail|address|host(?:name)?|port|url|uri|endpoint|"
    rb"name|region|namespace|database|db|id|bucket|server|domain|"
    rb"type|provider|kind|scheme|protocol|driver)(?:[_.-]?in)?$"
)


def _k8s_not_secret(key: bytes) -> bool:
    """`apiUsername`, `accountname`, `auth.username_in`: the key names no credential."""
    return _K8S_NOT_SECRET.search(key) is not None and not re.search(
        rb"(?i)pass|secret|token|key|cred", key
    )


def _k8s_value(value: bytes, encoded: bool) -> bytes | None:
    if not value or filters.quiet_reason(value) is not None:
        return None
    plain = value
    if encoded:
        try:
            plain = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return None
        if not plain.strip() or filters.quiet_reason(plain.strip()) is not None:
            return None
        p = plain.strip()
        if len(p) < 64 and filters.generic_value_reason(p, password=True, quoted=True):
            return None  # demo, mypassword, a one-word product default
    elif len(plain) < 6:
        return None
    return plain


def _yaml_documents(data: bytes) -> Iterator[tuple[int, bytes]]:
    start = 0
    for m in re.finditer(rb"(?m)^---[^\n]*$", data):
        yield start, data[start : m.start()]
        start = m.end()
    yield start, data[start:]


# -- Docker config auth ----------------------------------------------------------

_DOCKER_AUTH = re.compile(rb'"auth"\s*:\s*"([A-Za-z0-9+/]{8,}={0,2})"')


def docker_auth(rule: Rule, data: bytes, ctx: AnalyzerContext) -> Iterator[Match]:
    """`"auth": "<base64 user:password>"` in ~/.docker/config.json and dockerconfigjson."""
    for m in _DOCKER_AUTH.finditer(data):
        if checks.basic_auth(m.group(1)) == checks.HIGH:
            yield Match(rule.id, m.start(1), m.end(1), m.group(1), "high", rule.priority)


# -- generic assignments -----------------------------------------------------------

_LIT = rb'"(?:[^"\\\n]|\\.){0,300}"|\'(?:[^\'\\\n]|\\.){0,300}\'|`[^`\n$]{0,300}`'
# What may follow a name, matched right after it (names are found around keyword hits).
_AFTER = re.compile(
    rb"[\"'\]]?"
    # an optional type annotation (`: str`, `: &'static str`) or Go's `name type =`
    rb"(?:[ \t]*:[ \t]*&?(?:'static[ \t]+)?[\w.<>\[\]|]{1,30}(?=[ \t]*=)"
    rb"|[ \t]+[\w.\[\]*]{1,30}(?=[ \t]*=))?"
    rb"[ \t]*(?::::=|::=|:=|=>|\?=|\+=|=|:|<-)[ \t]*"  # `::=`, `:::=`: GNU make 4.4
    rb"(?P<val>" + _LIT + rb"|[^\s,;'\"`)}\]#]{1,300})"
)
# setenv("DB_PASSWORD", "…"), put("password", "…"): after the quoted name.
_CALL_AFTER = re.compile(rb"[\"'][ \t]*,[ \t]*(?P<val>" + _LIT + rb")")
_CALL_BEFORE = re.compile(rb"\([ \t]*[\"']$")
# --password=…, --password …, -p …: after the name.
_FLAG_AFTER = re.compile(rb"(?:=|[ \t]+)(?P<val>" + _LIT + rb"|[^\s'\"`;|&]{1,300})")
# <password>…</password>: after the name's `>`.
# The value may stand alone on the next line, as pretty-printers write it.
_XML_AFTER = re.compile(
    rb">(?:[ \t]*\r?\n[ \t]*(?P<own>[^<\s][^<\n]{0,299}?)[ \t]*\r?\n[ \t]*"
    rb"|(?P<val>[^<\n]{1,300}))</"
)
_NAME_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.$@-"
_NAME_CHARS = frozenset(_NAME_BYTES)
_SPLIT = re.compile(rb"[._\-$@\[\]]+|(?<=[a-z0-9])(?=[A-Z])")
_BARE_OK = re.compile(
    r"(?i)(?:^|/)(?:\.env(?:\.[\w.-]+)?|[^/]*\.(?:env|ini|cfg|conf|properties|ya?ml|sh|bash|zsh|"
    r"npmrc|pypirc|netrc|txt|service|mk|log|out)|dockerfile|[^/]*\.dockerfile|\.?netrc|procfile|"
    r"(?:gnu)?makefile)$"
)
_NEVER_SEGMENTS = {
    b"hash", b"hashed", b"digest", b"encrypted", b"label", b"hint", b"prompt", b"placeholder",
    b"field", b"param", b"header", b"regex", b"pattern", b"policy", b"length", b"min", b"max",
    b"format", b"type", b"name", b"url", b"uri", b"path", b"file", b"dir", b"env", b"var",
    b"id", b"ids", b"count", b"size", b"expiry", b"expires", b"ttl", b"endpoint", b"template",
    b"message", b"error", b"text", b"title", b"description", b"example", b"sample", b"mask",
    # Not secrets by design: publishable keys, and anti-forgery tokens that a
    # server puts in every page it renders (Rails' authenticity_token, csrf).
    b"public", b"publishable", b"csrf", b"xsrf", b"authenticity", b"forgery",
}  # fmt: skip
_HASHED = re.compile(
    rb"^(?:\$2[aby]?\$\d\d\$|\$argon2|\$scrypt|\$pbkdf2|pbkdf2_|\{SSHA\}|\$[156]\$|\$g?y\$|\$7\$)"
)


def _segments(name: bytes) -> list[bytes]:
    return [s.lower() for s in _SPLIT.split(name) if s]


def _names_secret(name: bytes, keys: re.Pattern[bytes]) -> bool:
    """Whether `name`'s last word(s) are one of `keys`; memoised (names repeat)."""
    k = (name, keys)
    verdict = _NAMES_CACHE.get(k)
    if verdict is None:
        if len(_NAMES_CACHE) > 8192:
            _NAMES_CACHE.clear()
        verdict = _NAMES_CACHE[k] = _names_secret_uncached(name, keys)
    return verdict


_NAMES_CACHE: dict[tuple[bytes, re.Pattern[bytes]], bool] = {}


# What may follow the word that says secret without changing what the name
# holds: a number (`api_token_2`) or the value's type (`mySecretString`).
_TRAILING_SEGMENTS = {b"string", b"str", b"value", b"val"}


def _names_secret_uncached(name: bytes, keys: re.Pattern[bytes]) -> bool:
    segs = _segments(name)
    if not segs or any(s in _NEVER_SEGMENTS for s in segs):
        return False
    while len(segs) >= 2 and (segs[-1].isdigit() or segs[-1] in _TRAILING_SEGMENTS):
        segs = segs[:-1]
    last = segs[-1]
    if keys.fullmatch(last):
        return True
    if len(segs) >= 2 and keys.fullmatch(segs[-2] + b"_" + last):
        return True
    if len(segs) >= 3 and keys.fullmatch(b"_".join(segs[-3:])):
        return True  # key_derivation_salt
    # PGPASSWORD, MYSQLPWD-style fused names: only for long, unambiguous words.
    m = keys.search(last)
    return bool(m and m.end() == len(last) and len(m.group()) >= 6)


def _unquote(val: bytes) -> tuple[bytes, bool]:
    if len(val) >= 2 and val[:1] in b"\"'`" and val[-1:] == val[:1]:
        inner = val[1:-1]
        if b"\\" in inner and val[:1] == b'"':
            inner = re.sub(rb'\\(["\\/])', rb"\1", inner)
        return inner, True
    return val, False


def assignment(rule: Rule, data: bytes, ctx: AnalyzerContext) -> Iterator[Match]:
    """`name <op> "literal"` where the name's last word is one of the rule's `keys`.

    Names are read around each keyword hit and the assignment is matched right
    after the name: running assignment regexes over whole lines was 90% of a
    scan of prose (1.3 ms per 2 KB prompt, bench/secrets_prefilter.py).
    """
    assert rule.keys is not None
    keys = _compiled_keys(rule.keys)
    password = rule.id == "generic-password"
    bare_ok = ctx.path is None or bool(_BARE_OK.search(ctx.path))
    seen: set[int] = set()
    tags: list[int] | None = None  # where an HTML form tag starts, found once per call
    for ls, le, end in ctx.hits:
        # The name around the hit, by strip (C) over a bounded slice rather
        # than a byte-at-a-time loop: minified code has a hit every few bytes.
        lo = max(ls, end - 256)
        s = lo + len(data[lo:end].rstrip(_NAME_BYTES))
        while s == lo and s > ls and data[s - 1] in _NAME_CHARS:
            s -= 1
            lo = s
        hi = min(le, end + 256)
        t = hi - len(data[end:hi].lstrip(_NAME_BYTES))
        while t == hi and t < le and data[t] in _NAME_CHARS:
            t += 1
            hi = t
        if s in seen:
            continue
        seen.add(s)
        dashes = 0
        while s + dashes < t and data[s + dashes] == 0x2D:  # "-"
            dashes += 1
        name = data[s + dashes : t]
        if not name or not _names_secret(name, keys):
            continue
        m: re.Match[bytes] | None
        xml = False
        if data[s - 1 : s] == b"<" and data[t : t + 1] == b">":
            m, xml = _XML_AFTER.match(data, t, le), True
        elif _CALL_BEFORE.search(data, max(ls, s - 8), s):
            m = _CALL_AFTER.match(data, t, le)
        elif dashes and (s == ls or data[s - 1] in b" \t'\"="):
            m = _FLAG_AFTER.match(data, t, le)
        else:
            m = _AFTER.match(data, t, le)
        if m is None:
            continue
        group = "own" if xml and m.group("own") is not None else "val"
        if tags is None:
            tags = [t.start() for t in _HTML_TAG.finditer(data)]
        i = bisect.bisect_left(tags, ls)
        if i < len(tags) and tags[i] < le and _DOC_HTML_FORM.search(data, ls, le):
            continue  # `# => <input type="hidden" name="token" value="…">`: rendered docs
        raw = m.group(group)
        value, quoted = _unquote(raw)
        quoted = quoted or xml
        # Unquoted in code is an expression, except a command-line flag's value
        # inside a string literal (`"mysql --password=…"`), text in any language.
        if not quoted and (
            not (bare_ok or (dashes and _inside_literal(data, ls, s)))
            or re.search(rb"[(\[{]", value)
        ):
            continue  # unquoted in code, or a call / index expression
        if _HASHED.match(value):
            continue
        if filters.generic_value_reason(value, password=password, quoted=quoted):
            continue
        if _quiet_base64(value, password):
            continue
        if not password and rule.entropy is not None and filters.shannon(value) < rule.entropy:
            continue
        inner = 1 if quoted and not xml else 0
        start = m.start(group) + inner
        yield Match(rule.id, start, m.end(group) - inner, value, rule.confidence, rule.priority)


def _inside_literal(data: bytes, ls: int, s: int) -> bool:
    """Whether `s` is inside a string literal opened earlier on its line (an odd quote count)."""
    head = data[ls:s]
    return any(head.count(q) % 2 for q in (b'"', b"'", b"`"))


# A form field shown in a doc comment (`# => <input type="hidden" name="token" …>`):
# rendered output in documentation, after a comment marker on the same line.
_DOC_HTML_FORM = re.compile(
    rb"(?i)(?:^|[ \t])(?:#|//|\*|///|--)[^\n<]{0,80}<(?:input|form|meta|button|select|textarea)\b"
)
# Every match of _DOC_HTML_FORM holds one of these: searching the line only
# where one starts keeps the test linear on a one-line file with a hit per
# few bytes (the search tries every blank of a 4 KB window per hit).
_HTML_TAG = re.compile(rb"(?i)<(?:input|form|meta|button|select|textarea)")
_B64_VALUE = re.compile(rb"(?:[A-Za-z0-9+/]{4}){1,16}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def _quiet_base64(value: bytes, password: bool) -> bool:
    """Base64 of a value the filters call quiet (`cGFzc3dvcmQ=`): a manifest's demo value.

    The decoded views are scanned on their own, so a real secret in base64
    is still found there.
    """
    if not _B64_VALUE.fullmatch(value):
        return False
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    if not raw or any(b < 0x20 or b > 0x7E for b in raw):
        return False
    return filters.generic_value_reason(raw, password=password, quoted=True) is not None


_KEYS_CACHE: dict[str, re.Pattern[bytes]] = {}


def _compiled_keys(keys: str) -> re.Pattern[bytes]:
    rx = _KEYS_CACHE.get(keys)
    if rx is None:
        rx = _KEYS_CACHE[keys] = re.compile(keys.encode())
    return rx


# -- key files by name -----------------------------------------------------------

KEY_FILE = re.compile(r"(?i)(?:^|/)[^/]+\.(?:p12|pfx|jks|keystore|bks)$")


def key_file(rule: Rule, data: bytes, ctx: AnalyzerContext) -> Iterator[Match]:
    """A key store committed as a file: the file itself is the secret."""
    if ctx.path is not None and KEY_FILE.search(ctx.path) and data:
        digest = hashlib.sha256(data).digest()
        yield Match(rule.id, 0, min(len(data), 1), digest, "medium", rule.priority)


ANALYZERS: dict[str, Analyzer] = {
    "pem": pem,
    "service-account-json": service_account_json,
    "kubernetes-secret": kubernetes_secret,
    "docker-auth": docker_auth,
    "assignment": assignment,
    "key-file": key_file,
}
