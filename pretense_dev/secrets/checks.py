"""Verifiers a rule names with `check = "…"`: checksums and structure (code, not data).

A check sees the secret value and answers:

* ``HIGH``   — verified (a checksum matches, the structure decodes): confidence "high";
* ``LOW``    — the format's own check failed (a made-up or mistyped token):
  still reported, at confidence "low", because a security tool fails closed;
* ``REJECT`` — not a secret after all (the AWS documentation key, a JSON-less "JWT");
* ``None``   — nothing to say; the rule's confidence stands.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import Callable

from pretense_dev.secrets import filters

HIGH = "high"
LOW = "low"
REJECT = "reject"
VerifierVerdict = str | None
Verifier = Callable[[bytes], VerifierVerdict]

BASE62 = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BECH32 = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def base62(n: int, width: int) -> bytes:
    """`n` in base 62 (digits, upper, lower), zero-padded to `width`."""
    out = bytearray()
    while n:
        n, r = divmod(n, 62)
        out.append(BASE62[r])
    return bytes(reversed(out)).rjust(width, b"0")


def github_crc32(value: bytes) -> VerifierVerdict:
    """GitHub (ghp_, gho_, ghu_, ghs_, ghr_) and npm tokens end in a CRC32 checksum.

    The last six characters are the CRC32 of the random part (between the
    four-character prefix and the checksum), in base 62, zero-padded
    (github.blog, 2021-04-05, "Behind GitHub's new authentication token formats").
    """
    if len(value) < 4 + 6 + 1 or value[3:4] != b"_":
        return LOW
    body, crc = value[4:-6], value[-6:]
    return HIGH if base62(zlib.crc32(body), 6) == crc else LOW


def aws_key_id(value: bytes) -> VerifierVerdict:
    """The AWS documentation key id ends in EXAMPLE; real ids never contain it."""
    return REJECT if b"EXAMPLE" in value else None


def vault_legacy(value: bytes) -> VerifierVerdict:
    """Legacy `s.` Vault tokens are random base62; a Go `s.someMethodName` is not."""
    if value.startswith(b"s."):
        rest = value[2:]
        upper = sum(1 for c in rest if 65 <= c <= 90) / max(1, len(rest))
        # camelCase names have an upper-case letter every word (~15%); random
        # base62 has about 40%, digits or not.
        if filters.char_classes(rest) < 2 or (not re.search(rb"\d", rest) and upper < 0.25):
            return REJECT
    return None


def _b64decode(text: bytes) -> bytes | None:
    s = text.rstrip(b"=")
    s += b"=" * (-len(s) % 4)
    try:
        if b"-" in s or b"_" in s:
            return base64.urlsafe_b64decode(s)
        return base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return None


def _json_object(raw: bytes | None) -> dict[str, object] | None:
    if raw is None:
        return None
    try:
        obj = json.loads(raw)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def jwt(value: bytes) -> VerifierVerdict:
    """A JWT's header and payload are base64url JSON; the header holds JOSE parameters."""
    parts = value.split(b".")
    if len(parts) < 3:
        return REJECT
    header = _json_object(_b64decode(parts[0]))
    payload = _json_object(_b64decode(parts[1]))
    if header is None or payload is None:
        return REJECT
    if not JOSE_HEADER.intersection(header) or len(parts[2]) < 16:
        return REJECT  # not a JOSE header, or unsigned/truncated: documentation
    return HIGH


# Registered JOSE header parameters (https://www.iana.org/assignments/jose/jose.xhtml):
# a JWS header names "alg", but a JWE or a nested token may lead with others.
JOSE_HEADER = frozenset(
    {
        "alg", "enc", "zip", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ",
        "cty", "crit", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c", "iss", "sub", "aud",
        "b64", "ppt", "url", "nonce", "svt", "key_ops", "kty", "use", "ver", "version",
    }
)  # fmt: skip


def jwt_base64(value: bytes) -> VerifierVerdict:
    """Base64 whose decoding is a JWT."""
    raw = _b64decode(value)
    if raw is None:
        return REJECT
    m = re.match(rb"ey[\w-]+\.ey[\w-]+\.[\w-]+", raw)
    return jwt(m.group()) if m else REJECT


def pypi_macaroon(value: bytes) -> VerifierVerdict:
    """A PyPI token is `pypi-` + a base64url macaroon whose location is pypi.org."""
    raw = _b64decode(value[5:])
    return HIGH if raw is not None and b"pypi.org" in raw else LOW


def openai_marker(value: bytes) -> VerifierVerdict:
    """T3BlbkFJ is base64 of "OpenAI": present in the key formats that carry it."""
    return HIGH if b"T3BlbkFJ" in value else None


def bech32(value: bytes) -> VerifierVerdict:
    """Age secret keys are bech32 (BIP-173) with HRP "age-secret-key-"."""
    text = value.lower()
    pos = text.rfind(b"1")
    hrp, data = text[:pos], text[pos + 1 :]
    try:
        values = [BECH32.index(c) for c in data]
    except ValueError:
        return REJECT
    return HIGH if _bech32_polymod(_hrp_expand(hrp) + values) == 1 else LOW


def _hrp_expand(hrp: bytes) -> list[int]:
    return [c >> 5 for c in hrp] + [0] + [c & 31 for c in hrp]


def _bech32_polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def bech32_checksum(hrp: bytes, data: list[int]) -> list[int]:
    """The six checksum symbols for `data` (used by the sample generator)."""
    polymod = _bech32_polymod(_hrp_expand(hrp) + data + [0] * 6) ^ 1
    return [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]


_DEV_PASSWORDS = {
    b"postgres", b"mysql", b"root", b"admin", b"guest", b"test", b"secret", b"password",
    b"pass", b"passwd", b"changeme", b"example", b"mysecretpassword", b"redis", b"rabbitmq",
    b"sa", b"user", b"demo", b"dev", b"local", b"localhost", b"123456", b"12345678",
}  # fmt: skip


_TEMPLATE = re.compile(rb"\{[A-Za-z_][\w:.-]*\}")


# A value that opens with `%` is a reference only in these forms: a Windows
# variable (%DB_PASSWORD%), a printf or %-format slot (%s, %(password)s) or a
# %{...} template.  Any other leading `%` is the password's own character or a
# percent-escape (`%40` is `@` in a URL), as in `deploy:%v-CMRky2tn3@+`.
_PERCENT_REFERENCE = re.compile(rb"%(?:\w+%$|\(\w+\)|[sdvr]$|\{)")


def url_password(value: bytes) -> VerifierVerdict:
    """Passwords in URLs and connection strings: not references, not dev defaults."""
    v = value.strip(b"\"'")
    if _TEMPLATE.search(v):
        return REJECT  # a template: postgres://app:{password}@db
    if v[:1] == b"{" and v[-1:] == b"}":
        v = v[1:-1]  # ODBC quotes a password holding ';' in braces: Pwd={a;b}
    if filters.quiet_reason(v) is not None or v.lower() in _DEV_PASSWORDS:
        return REJECT
    if re.fullmatch(rb"(?i)[a-z]{0,10}pass", v):
        return REJECT  # myuser:mypass, baduser:badpass: documentation's stand-ins
    if re.search(rb"(?i)passw(?:or)?d|secret|fake|dummy|changeme", v):
        return REJECT
    if v.startswith((b"$", b"{", b"<")) or _PERCENT_REFERENCE.match(v):
        return REJECT  # references: ${PW}, {pw}, <password>, %PW%, %(pw)s, %s, %{pw}
    if len(v) < 6 or re.search(rb"[\"'\\]", v):
        return REJECT  # short test values, quoting debris
    return None


def basic_auth(value: bytes) -> VerifierVerdict:
    """`Authorization: Basic` carries base64("user:password")."""
    raw = _b64decode(value)
    if raw is None or b":" not in raw:
        return REJECT
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return REJECT
    if not text.isprintable():
        return REJECT
    user, _, password = text.partition(":")
    if url_password(password.encode()) == REJECT or password == user:
        return REJECT
    return HIGH


def generic_value(value: bytes) -> VerifierVerdict:
    """The generic assignment filters, for header tokens."""
    if filters.generic_value_reason(value, password=False, quoted=True) is not None:
        return REJECT
    return None


def keyed_vendor(value: bytes) -> VerifierVerdict:
    """Vendor-word rules with a loose value: require a token shape (letters and digits)."""
    if not re.search(rb"\d", value) or not re.search(rb"[A-Za-z]", value):
        return REJECT
    if filters.generic_value_reason(value, password=False, quoted=True) is not None:
        return REJECT
    return None


def ghs_jwt(value: bytes) -> VerifierVerdict:
    """`ghs_` and a JWT: high when the JWT's header and payload are JSON, low otherwise.

    Low, not rejected: GitHub may change what it signs; a token of this shape
    is still reported (fail closed).
    """
    return HIGH if jwt(value[4:]) == HIGH else LOW


def curl_header(value: bytes) -> VerifierVerdict:
    """A header credential: not a reference or placeholder, a token's length and mix.

    UUID-shaped keys count here (the header names it a credential), unlike in
    the generic assignment filters.
    """
    if filters.quiet_reason(value) is not None or value.startswith((b"$", b"%", b"{", b"<")):
        return REJECT
    if len(value) < 8 or filters.char_classes(value) < 2 or filters.shannon(value) < 2.8:
        return REJECT
    return None


CHECKS: dict[str, Verifier] = {
    "github-crc32": github_crc32,
    "aws-key-id": aws_key_id,
    "vault-legacy": vault_legacy,
    "jwt": jwt,
    "jwt-base64": jwt_base64,
    "pypi-macaroon": pypi_macaroon,
    "openai-marker": openai_marker,
    "bech32": bech32,
    "url-password": url_password,
    "basic-auth": basic_auth,
    "generic-value": generic_value,
    "keyed-vendor": keyed_vendor,
    "curl-header": curl_header,
    "ghs-jwt": ghs_jwt,
}
