"""Generated test secrets: positives built at run time from each format, never committed.

Nothing secret-shaped is ever committed: rules.toml holds templates such as
``ghp_{b62:30}{ghcrc}``, and this module turns them into fresh values (prefix +
random characters of the format's alphabet + its checksum).  Used by the rule
table test, the quality benchmark and the demo; never on a scan path.

Template syntax: ``{ALPHABET:N}`` N random characters; ``{C*N}`` the character C
N times; ``{ghcrc}`` the GitHub/npm CRC32 of the previous random part;
``{S:name}`` a structured generator below.
"""

from __future__ import annotations

import base64
import json
import random
import re
import string
import textwrap
import uuid
import zlib
from collections.abc import Callable

from pretense_dev.secrets.checks import BECH32, base62, bech32_checksum

ALPHABETS = {
    "b62": string.ascii_letters + string.digits,
    "a": string.ascii_lowercase + string.digits,
    "A": string.ascii_uppercase + string.digits,
    "d": string.digits,
    "h": "0123456789abcdef",
    "H": "0123456789ABCDEF",
    "l": string.ascii_lowercase,
    "L": string.ascii_letters,
    "u": string.ascii_letters + string.digits + "-_",
    "b64": string.ascii_letters + string.digits + "+/",
    "B32": string.ascii_uppercase + "234567",
}
PASSWORD_PUNCT = "!@%^&*-_+=?:.~"
_TOKEN = re.compile(r"\{([^{}]+)\}")


def generate(template: str, rng: random.Random) -> str:
    """Expand a template (see the module docstring)."""
    last = ""
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(template):
        out.append(template[pos : m.start()])
        pos = m.end()
        spec = m.group(1)
        if spec == "ghcrc":
            out.append(base62(zlib.crc32(last.encode()), 6).decode())
        elif spec.startswith("S:"):
            out.append(STRUCTURED[spec[2:]](rng))
        elif "*" in spec and spec.split("*")[1].isdigit():
            ch, n = spec.rsplit("*", 1)
            out.append(ch * int(n))
        elif ":" in spec and spec.split(":")[0] in ALPHABETS:
            name, n = spec.split(":")
            last = _random(rng, ALPHABETS[name], int(n))
            out.append(last)
        else:
            out.append(m.group())  # literal braces, e.g. JSON in a negative
    out.append(template[pos:])
    return "".join(out)


def _random(rng: random.Random, alphabet: str, n: int) -> str:
    # Redraw the rare value that a placeholder filter would rightly call fake
    # (six equal characters in a row, or a word such as "example").
    from pretense_dev.secrets.filters import is_placeholder

    while True:
        s = "".join(rng.choice(alphabet) for _ in range(n))
        if n < 6 or not is_placeholder(s.encode()):
            return s


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _jwt(rng: random.Random) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {
        "sub": _random(rng, ALPHABETS["a"], 12),
        "iat": rng.randrange(1_600_000_000, 1_900_000_000),
    }
    payload = _b64url(json.dumps(claims).encode())
    return f"{header}.{payload}.{_b64url(rng.randbytes(32))}"


def _pem(label: str, der: bytes) -> str:
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN {label}PRIVATE KEY-----\n{body}\n-----END {label}PRIVATE KEY-----\n"


def _pem_rsa(rng: random.Random) -> str:
    return _pem("RSA ", b"\x30\x82" + (600).to_bytes(2, "big") + rng.randbytes(600))


def _pem_openssh(rng: random.Random) -> str:
    header = b"openssh-key-v1\0" + b"\0\0\0\4none" * 2 + b"\0\0\0\0\0\0\0\1"
    return _pem("OPENSSH ", header + rng.randbytes(380))


def _pem_pgp(rng: random.Random) -> str:
    body = "\n".join(textwrap.wrap(base64.b64encode(b"\x95" + rng.randbytes(500)).decode(), 64))
    crc = base64.b64encode(rng.randbytes(3)).decode()
    return (
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\nComment: generated\n\n"
        f"{body}\n={crc}\n-----END PGP PRIVATE KEY BLOCK-----\n"
    )


def _putty(rng: random.Random) -> str:
    pub = "\n".join(textwrap.wrap(base64.b64encode(rng.randbytes(51)).decode(), 64))
    priv = "\n".join(textwrap.wrap(base64.b64encode(rng.randbytes(48)).decode(), 64))
    return (
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: generated\n"
        f"Public-Lines: 2\n{pub}\nPrivate-Lines: 1\n{priv}\n"
        f"Private-MAC: {rng.randbytes(32).hex()}\n"
    )


def _service_account(rng: random.Random) -> str:
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "proj-" + _random(rng, ALPHABETS["a"], 6),
            "private_key_id": rng.randbytes(20).hex(),
            "private_key": _pem("", b"\x30\x82\x04\xbd" + rng.randbytes(600)),
            "client_email": "svc@proj.iam.gserviceaccount.com",
            "client_id": "".join(rng.choice(string.digits) for _ in range(21)),
        },
        indent=2,
    )


def _age(rng: random.Random) -> str:
    data = [rng.randrange(32) for _ in range(52)]
    values = data + bech32_checksum(b"age-secret-key-", data)
    return "AGE-SECRET-KEY-1" + bytes(BECH32[v] for v in values).decode().upper()


def password(rng: random.Random) -> str:
    """A password with punctuation, as people write them."""
    core = [
        rng.choice(string.ascii_uppercase),
        rng.choice(string.ascii_lowercase),
        rng.choice(string.digits),
        rng.choice(PASSWORD_PUNCT),
    ]
    core += [rng.choice(string.ascii_letters + string.digits + PASSWORD_PUNCT) for _ in range(10)]
    rng.shuffle(core)
    return "".join(core)


def _basic_auth(rng: random.Random) -> str:
    return base64.b64encode(f"deploy:{password(rng)}".encode()).decode()


def _docker_auth(rng: random.Random) -> str:
    auth = base64.b64encode(f"ci-bot:{_random(rng, ALPHABETS['b62'], 24)}".encode()).decode()
    return json.dumps({"auths": {"registry.internal:5000": {"auth": auth}}}, indent=2)


def _k8s_secret(rng: random.Random) -> str:
    pw = base64.b64encode(password(rng).encode()).decode()
    return (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\n"
        f"data:\n  db-password: {pw}\n"
    )


def _pypi(rng: random.Random) -> str:
    raw = b"\x02\x01\x08pypi.org\x02\x01" + rng.randbytes(60)
    return "pypi-" + _b64url(raw)


STRUCTURED: dict[str, Callable[[random.Random], str]] = {
    "uuid": _uuid,
    "jwt": _jwt,
    "jwt-b64": lambda rng: base64.b64encode(_jwt(rng).encode()).decode(),
    "pem-rsa": _pem_rsa,
    "pem-openssh": _pem_openssh,
    "pem-pgp": _pem_pgp,
    "putty": _putty,
    "gcp-service-account": _service_account,
    "age": _age,
    "password": password,
    "basic-auth": _basic_auth,
    "docker-auth": _docker_auth,
    "k8s-secret": _k8s_secret,
    "pypi": _pypi,
    # The documented AWS example credentials, assembled so no file holds them whole.
    "aws-example-id": lambda rng: "IOSFODNN7" + "EXAMPLE",
    "aws-example-secret": lambda rng: "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY",
}
