"""Signing a mutated Bedrock request again (AWS Signature Version 4), with botocore.

A client that talks to Bedrock signs each request over its body.  The proxy
changes the body (real names become synthetic ones), so the client's signature
no longer verifies; the proxy signs the request again, with the developer's
own credentials as the AWS SDKs find them (environment, shared config and
credentials files, SSO, container and instance roles: botocore's default
chain).  The credentials stay in botocore's memory for this process; nothing
is written anywhere and no log line carries them.

Rules, all fail-closed (`Refusal`, nothing forwarded):

* the client's own signature must verify, with the chain's credentials, over
  the request exactly as the client sent it (and be less than 15 minutes
  old).  The proxy listens on loopback, where any local process — another
  user's too — can reach it: only a client that holds the developer's secret
  key gets a request signed as the developer.  The same check refuses a
  client that signed as another identity (another account or role);
* the signature must cover the body: a client ``x-amz-content-sha256`` that is
  not the hash of the body that arrived (``UNSIGNED-PAYLOAD`` included) is
  refused, since signing it would sign any body under a captured signature;
* an unsigned request is refused when the chain has credentials, for the same
  reason.  So Claude Code must sign: leave ``CLAUDE_CODE_SKIP_BEDROCK_AUTH``
  unset (that switch makes Claude Code send unsigned requests, for a gateway
  that signs them itself);
* no credentials in the chain: a signed request is refused, with the fix; an
  unsigned one passes as it is.  This is the one setup where
  ``CLAUDE_CODE_SKIP_BEDROCK_AUTH=1`` works through the proxy: a corporate
  gateway behind it authenticates and signs;
* a ``Bearer`` token (Bedrock API keys) is not over the body: it passes
  through untouched.

Only ``host``, ``content-type`` and the ``x-amz-*`` headers are signed: the
HTTP client may add or change others (``accept-encoding``) after signing.

Why the signature is computed here and not by ``SigV4Auth.add_auth``: both
signatures (the client's, checked, and ours) are computed on every Bedrock
request, on the event loop, before anything is sent.  botocore's signer over
an ``AWSRequest`` spends most of its time building e-mail-style header objects
(``HTTPHeaders``) and deriving the same key again: about 60 µs per signature,
twice per request, which alone put the Bedrock route over the Anthropic
route's added latency.  The steps below are botocore's (``SigV4Auth``:
canonical request, string to sign, HMAC chain) written over plain strings,
with botocore's own functions for the canonical path and query and the signed
host, cached per URL; the signing key is kept per (secret key, date, region,
service) as the SHA-256 states of its HMAC pads, in memory only like the
credentials it comes from; each body is hashed once (the client's claimed hash
is compared with it), and a resent conversation's bodies only from where the
history cache's SHA-256 states end (`Received.digest`, `Outbound.digest`;
``proxy/history.py`` says why that is exact).
``tests/proxy/test_sigv4.py`` proves, with hypothesis over methods, paths,
queries, header values, bodies, credentials, regions, services and times,
that every header `sign` sets is byte for byte the one stock botocore sets,
and that `verifies` accepts what stock botocore signed and refuses it once
its body, a signed header, the key or the time differs.

Credentials are resolved through the chain once and kept: the chain may read
files, run ``credential_process`` or query the instance metadata service,
which is too slow (and may block) for every request.  Refreshable credentials
(SSO, assumed roles, ``credential_process``, containers) refresh themselves
in botocore before they expire; static keys from the AWS config or
credentials file are resolved again when either file changes (``aws
configure`` writing a rotated key), which is looked at once a second.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

from pretense_dev.audit.events import BLOCKED
from pretense_dev.proxy.guard import Refusal

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")
_SIGNED = re.compile(r"SignedHeaders=([^,\s]*)")
_SIGNATURE = re.compile(r"Signature=([0-9a-f]{64})\s*$")
_STAMP = re.compile(r"\d{8}T\d{6}Z")
# Set by the client's signature; recomputed here.
_DROP = frozenset({"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"})
MAX_SKEW = 15 * 60  # seconds; AWS itself allows 5 minutes each way

CredentialSource = Callable[[], Any]  # () -> botocore Credentials or None
Digest = Callable[[bytes], str]  # bytes -> their SHA-256, hex


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class _Chain:
    """botocore's default chain, resolved once, and the AWS files it read (to notice a change)."""

    def __init__(self) -> None:
        import botocore.session  # deferred: ~60 ms, only for Bedrock

        self.session: Any = botocore.session.get_session()
        self.files = tuple(
            os.path.expanduser(str(self.session.get_config_variable(v) or ""))
            for v in ("config_file", "credentials_file")
        )
        self.stamp = _stamp(self.files)
        self.checked = time.monotonic()
        self.credentials: Any = self.session.get_credentials()


def _stamp(files: tuple[str, ...]) -> bytes:
    """A digest of the files' contents: a rewrite shows even within one mtime tick."""
    digest = hashlib.sha256()
    for name in files:
        try:
            with open(name, "rb") as f:
                digest.update(hashlib.sha256(f.read()).digest())
        except OSError:
            digest.update(b"-")
    return digest.digest()


_lock = threading.Lock()
_chain: _Chain | None = None
RECHECK = 1.0  # seconds between two looks at the AWS files


def default_credentials() -> Any:
    """The developer's credentials from botocore's default chain (see the module docstring)."""
    global _chain
    with _lock:
        chain = _chain
        if chain is None:
            chain = _chain = _Chain()
        elif time.monotonic() - chain.checked >= RECHECK:
            chain.checked = time.monotonic()
            if _stamp(chain.files) != chain.stamp:
                chain = _chain = _Chain()
        return chain.credentials


def default_region() -> str | None:
    """The region the developer's AWS configuration names (``AWS_REGION`` …)."""
    # AWS_REGION is what Claude Code and the JS/Java SDKs read; botocore reads the rest.
    if os.environ.get("AWS_REGION"):
        return os.environ["AWS_REGION"]
    default_credentials()
    region = _chain.session.get_config_variable("region") if _chain is not None else None
    return region if isinstance(region, str) and region else None


def _authorization(headers: Mapping[str, str]) -> str:
    if isinstance(headers, CIMultiDictProxy | CIMultiDict):  # aiohttp's: any case matches
        return str(headers.get("authorization", ""))
    return next((v for k, v in headers.items() if k.lower() == "authorization"), "")


def client_scope(headers: Mapping[str, str]) -> tuple[str, str, str] | None:
    """(access key id, region, service) of a SigV4 ``Authorization`` header, or None."""
    auth = _authorization(headers)
    if not auth.startswith("AWS4-HMAC-SHA256"):
        return None
    m = _CREDENTIAL.search(auth)
    if m is None:
        raise Refusal(
            400, "pretense-dev could not read this request's AWS signature", decision=BLOCKED
        )
    return m.group(1), m.group(3), m.group(4)


def _getall(headers: Mapping[str, str]) -> Callable[[str], list[str]]:
    """Every value of a header by its lower-case name, in the order received."""
    if isinstance(headers, CIMultiDictProxy | CIMultiDict):  # aiohttp's: looked up by name
        return lambda name: headers.getall(name, [])
    values: dict[str, list[str]] = {}
    for name, value in headers.items():
        values.setdefault(name.lower(), []).append(value)
    return lambda name: values.get(name, [])


def _bearer(headers: Mapping[str, str]) -> bool:
    return _authorization(headers)[:7].lower() == "bearer "


def resign(
    method: str,
    url: str,
    headers: MutableMapping[str, str],
    body: bytes | None,
    *,
    received: Any = None,
    service: str = "bedrock",
    region: str | None = None,
    credentials: CredentialSource = default_credentials,
    digest: Digest | None = None,
    scope: tuple[str, str, str] | bool | None = True,
) -> None:
    """Replace the client's SigV4 headers in `headers` with a signature over `body`.

    `received` is the request as the client sent it (`apis.Received`): its
    signature is checked first, and nothing is signed unless it verifies.
    `scope` is its `client_scope` when the caller has read it already.
    """
    if _bearer(headers):
        return
    if isinstance(scope, bool):
        scope = client_scope(received.headers if received is not None else headers)
    creds = credentials()
    if creds is None:
        if scope is None:
            return  # nobody signs: a gateway behind the proxy authenticates
        raise Refusal(
            401,
            "pretense-dev must sign this Bedrock request again (its body changed) but finds "
            "no AWS credentials; give the proxy the same AWS profile or environment as the "
            "client (AWS_PROFILE, AWS_ACCESS_KEY_ID…) and restart it (`pretense-dev proxy "
            "restart`)",
            decision=BLOCKED,
            code="pretense_no_aws_credentials",
        )
    frozen = creds.get_frozen_credentials()
    if scope is not None and scope[0] != frozen.access_key:
        raise Refusal(
            403,
            f"this request was signed with AWS access key {scope[0][:4]}…{scope[0][-4:]} but "
            f"the proxy's credentials are {frozen.access_key[:4]}…{frozen.access_key[-4:]}; "
            "pretense-dev re-signs only as the identity the client chose: give the proxy the "
            "client's AWS profile or environment (AWS_PROFILE, AWS_ACCESS_KEY_ID…) and restart "
            "it (`pretense-dev proxy restart`)",
            decision=BLOCKED,
            code="pretense_aws_identity_mismatch",
        )
    if scope is None:
        raise Refusal(
            401,
            "pretense-dev signs a Bedrock request only when the client signed it with the same "
            "AWS credentials (any local process can reach the proxy); unset "
            "CLAUDE_CODE_SKIP_BEDROCK_AUTH so that the client signs, with the proxy's AWS "
            "profile",
            decision=BLOCKED,
            code="pretense_unsigned",
        )
    if received is None or not verifies(received, frozen, scope):
        raise Refusal(
            403,
            "this request's AWS signature does not verify with the proxy's credentials over "
            "the body that arrived (or is older than 15 minutes), so pretense-dev will not "
            "sign it; check the client's clock and that it uses the proxy's AWS profile",
            decision=BLOCKED,
            code="pretense_bad_signature",
        )
    sign(method, url, headers, body, frozen, region=scope[1], service=scope[2], digest=digest)


def sign(
    method: str,
    url: str,
    headers: MutableMapping[str, str],
    body: bytes | None,
    frozen: Any,
    *,
    region: str,
    service: str,
    stamp: str | None = None,
    digest: Digest | None = None,
) -> None:
    """Sign as botocore's ``SigV4Auth.add_auth`` does: the same headers, the same bytes.

    The client's SigV4 headers in `headers` are replaced; ``host``, the
    ``content-type`` values, ``x-amz-date`` and the session token are signed.
    `stamp` (``%Y%m%dT%H%M%SZ``, UTC) is now unless given.
    """
    stamp = stamp or _clock()[0]
    values: dict[str, list[str]] = {"host": [_host(url)], "x-amz-date": [stamp]}
    drop = []
    for name, value in headers.items():
        low = name.lower()
        if low == "content-type":
            values.setdefault(low, []).append(value)
        elif low in _DROP:
            drop.append(name)
    for name in drop:
        del headers[name]
    if frozen.token:
        values["x-amz-security-token"] = [frozen.token]
    names = ";".join(sorted(values))
    payload = (digest or _sha256)(body or b"")
    signature = _signature(
        frozen.secret_key, method, url, values, names, payload, stamp, region, service
    )
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={frozen.access_key}/{stamp[:8]}/{region}/{service}/"
        f"aws4_request, SignedHeaders={names}, Signature={signature}"
    )
    headers["X-Amz-Date"] = stamp
    if frozen.token:
        headers["X-Amz-Security-Token"] = frozen.token


def verifies(received: Any, frozen: Any, scope: tuple[str, str, str]) -> bool:
    """Whether the client's signature is the one botocore computes over what arrived.

    Exactly the headers the client names in ``SignedHeaders`` are used (as a
    SigV4 server does), ``host`` among them; a header sent twice counts with
    both values, joined as the signer joins them.
    """
    getall = _getall(received.headers)
    auths, stamps = getall("authorization"), getall("x-amz-date")
    if len(auths) != 1 or len(stamps) != 1:
        return False
    signed, given = _SIGNED.search(auths[0]), _SIGNATURE.search(auths[0])
    if signed is None or given is None or not _STAMP.fullmatch(stamps[0]):
        return False
    names = signed.group(1)
    picked = {n: getall(n) for n in names.split(";")}
    if "host" not in picked or not all(picked.values()) or names != names.lower():
        return False  # SigV4 names the signed headers in lower case
    _, earliest, latest = _clock()
    if not earliest <= stamps[0] <= latest:  # this format sorts as the time it names
        return False
    payload = (received.digest or _sha256)(received.body or b"")
    if "x-amz-content-sha256" in picked and picked["x-amz-content-sha256"] != [payload]:
        return False  # the signature covers that hash instead of the body: it must be this one
    try:
        want = _signature(
            frozen.secret_key,
            received.method,
            received.url,
            picked,
            ";".join(sorted(picked)),
            payload,
            stamps[0],
            scope[1],
            scope[2],
        )
    except UnicodeEncodeError:  # a header that was not UTF-8 (aiohttp keeps it as surrogates)
        return False
    return hmac.compare_digest(want, given.group(1))


# -- the SigV4 steps, as botocore's SigV4Auth takes them ---------------------------------


def _signature(
    secret: str,
    method: str,
    url: str,
    values: dict[str, list[str]],
    names: str,
    payload: str,
    stamp: str,
    region: str,
    service: str,
) -> str:
    """The hex signature: ``SigV4Auth.canonical_request``, ``string_to_sign``, ``signature``.

    `values` are the headers to sign by lower-case name (several values in
    order), `names` their sorted ``;``-joined names, `payload` the body's hex
    SHA-256.
    """
    path, query = _canonical_url(url)
    lines = []
    for n in sorted(values):
        v = values[n]  # each value's runs of white space become one space
        trim = " ".join(v[0].split()) if len(v) == 1 else ",".join(" ".join(x.split()) for x in v)
        lines.append(f"{n}:{trim}")
    headers = "\n".join(lines)
    canonical = f"{method.upper()}\n{path}\n{query}\n{headers}\n\n{names}\n{payload}"
    date = stamp[:8]
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{date}/{region}/{service}/aws4_request\n{digest}"
    inner, outer = _signing_key(secret, date, region, service)
    mac = inner.copy()  # HMAC-SHA256 (RFC 2104) from the key's pads, hashed once per key
    mac.update(to_sign.encode())
    out = outer.copy()
    out.update(mac.digest())
    return out.hexdigest()


_FORMAT = "%Y%m%dT%H%M%SZ"
_now: tuple[int, tuple[str, str, str]] = (-1, ("", "", ""))


def _clock() -> tuple[str, str, str]:
    """(now, now − `MAX_SKEW`, now + `MAX_SKEW`) as SigV4 stamps, formatted once a second."""
    global _now
    second = int(time.time())
    if second != _now[0]:
        stamps = tuple(
            time.strftime(_FORMAT, time.gmtime(second + d)) for d in (0, -MAX_SKEW, MAX_SKEW)
        )
        _now = (second, (stamps[0], stamps[1], stamps[2]))
    return _now[1]


_urls: dict[str, tuple[str, str]] = {}
_hosts: dict[str, str] = {}
_keys: dict[tuple[str, str, str, str], tuple[hashlib._Hash, hashlib._Hash]] = {}
_CACHE = 256  # entries per cache; a full one starts again (model paths and hosts repeat)


def _canonical_url(url: str) -> tuple[str, str]:
    """(canonical path, canonical query) of `url`, by botocore's own functions, cached."""
    got = _urls.get(url)
    if got is None:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        stock = _stock()
        got = (
            str(stock._normalize_url_path(parts.path)),
            str(stock._canonical_query_string_url(parts)),
        )
        if len(_urls) >= _CACHE:
            _urls.clear()
        _urls[url] = got
    return got


def _host(url: str) -> str:
    """The ``host`` botocore signs for `url` (lower case, default port dropped), cached."""
    origin = "/".join(url.split("/", 3)[:3])
    got = _hosts.get(origin)
    if got is None:
        from botocore.auth import _host_from_url

        got = str(_host_from_url(origin))
        if len(_hosts) >= _CACHE:
            _hosts.clear()
        _hosts[origin] = got
    return got


def _signing_key(
    secret: str, date: str, region: str, service: str
) -> tuple[hashlib._Hash, hashlib._Hash]:
    """The signing key as SHA-256 states over its HMAC pads, kept per day.

    The key is the HMAC chain AWS4+secret → date → region → service →
    aws4_request; an HMAC is then two copies of these states instead of an
    HMAC set up from the key each time.  In memory only, like the credentials
    it is derived from.
    """
    scope = (secret, date, region, service)
    pads = _keys.get(scope)
    if pads is None:
        key = f"AWS4{secret}".encode()
        for part in (date, region, service, "aws4_request"):
            key = hmac.digest(key, part.encode(), "sha256")
        block = key.ljust(64, b"\0")  # 32 bytes: shorter than SHA-256's 64-byte block
        pads = (
            hashlib.sha256(bytes(b ^ 0x36 for b in block)),
            hashlib.sha256(bytes(b ^ 0x5C for b in block)),
        )
        if len(_keys) >= 16:
            _keys.clear()
        _keys[scope] = pads
    return pads


@functools.cache
def _stock() -> Any:
    """A stock ``SigV4Auth`` for its pure URL steps (path and query canonical forms)."""
    from botocore.auth import SigV4Auth  # deferred: only for Bedrock

    return SigV4Auth(None, "", "")
