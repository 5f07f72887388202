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

Cost.  Both signatures are computed on every Bedrock request, on the event
loop.  botocore's ``SigV4Auth.add_auth`` over an ``AWSRequest`` spends most of
its time building e-mail-style header objects (``HTTPHeaders``) and
re-deriving the same key: about 60 µs per signature, twice per request, which
put the Bedrock route over the Anthropic route's added latency.  So botocore's
own signer (its canonical request, string to sign and HMAC) runs here over a
light request that holds exactly the headers to sign, with three pure steps
done once: the canonical path per raw path, the signing key per (secret key,
date, region, service) — in memory only, like the credentials it comes from —
and each body's hash (the client's claimed hash is compared with it, not
hashed again).  ``tests/proxy/test_sigv4.py`` checks, with hypothesis over
methods, paths, queries, headers, bodies and credentials, that every
signature and header is byte for byte the one stock botocore computes.

Credentials are resolved through the chain once and kept: the chain may read
files, run ``credential_process`` or query the instance metadata service,
which is too slow (and may block) for every request.  Refreshable credentials
(SSO, assumed roles, ``credential_process``, containers) refresh themselves
in botocore before they expire; static keys from the AWS config or
credentials file are resolved again when either file changes (``aws
configure`` writing a rotated key), which is looked at once a second.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

from pretense_dev.audit.events import BLOCKED
from pretense_dev.proxy.guard import Refusal

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")
_SIGNED = re.compile(r"SignedHeaders=([^,\s]*)")
_SIGNATURE = re.compile(r"Signature=([0-9a-f]{64})\s*$")
_STAMP = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")
# Set by the client's signature; recomputed here.
_DROP = ("authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256")
MAX_SKEW = 15 * 60  # seconds; AWS itself allows 5 minutes each way

CredentialSource = Callable[[], Any]  # () -> botocore Credentials or None


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


def client_scope(headers: Mapping[str, str]) -> tuple[str, str, str] | None:
    """(access key id, region, service) of a SigV4 ``Authorization`` header, or None."""
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    if not auth.startswith("AWS4-HMAC-SHA256"):
        return None
    m = _CREDENTIAL.search(auth)
    if m is None:
        raise Refusal(
            400, "pretense-dev could not read this request's AWS signature", decision=BLOCKED
        )
    return m.group(1), m.group(3), m.group(4)


def _bearer(headers: Mapping[str, str]) -> bool:
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    return auth.lower().startswith("bearer ")


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
) -> None:
    """Replace the client's SigV4 headers in `headers` with a signature over `body`.

    `received` is the request as the client sent it (`apis.Received`): its
    signature is checked first, and nothing is signed unless it verifies.
    """
    if _bearer(headers):
        return
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
    sign(method, url, headers, body, frozen, region=scope[1], service=scope[2])


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
) -> None:
    """Sign as botocore's ``SigV4Auth.add_auth`` does: the same headers, the same bytes.

    The client's SigV4 headers in `headers` are replaced; ``host``, the
    ``content-type`` values, ``x-amz-date`` and the session token are signed.
    `stamp` (``%Y%m%dT%H%M%SZ``, UTC) is now unless given.
    """
    stamp = stamp or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for name in [k for k in headers if k.lower() in _DROP]:
        del headers[name]
    values: dict[str, list[str]] = {}
    for name, value in headers.items():
        if name.lower() == "content-type":
            values.setdefault("content-type", []).append(value)
    values["x-amz-date"] = [stamp]
    if frozen.token:
        values["x-amz-security-token"] = [frozen.token]
    values["host"] = [_host(url)]
    request = _Request(method, url, values, hashlib.sha256(body or b"").hexdigest(), stamp)
    signer = _signer()(frozen, service, region)
    signature = signer.signature(
        signer.string_to_sign(request, signer.canonical_request(request)), request
    )
    signer._inject_signature_to_request(request, signature)
    headers["Authorization"] = request.headers["authorization"]
    headers["X-Amz-Date"] = stamp
    if frozen.token:
        headers["X-Amz-Security-Token"] = frozen.token


def verifies(received: Any, frozen: Any, scope: tuple[str, str, str]) -> bool:
    """Whether the client's signature is the one botocore computes over what arrived.

    Exactly the headers the client names in ``SignedHeaders`` are used (as a
    SigV4 server does), ``host`` among them; a header sent twice counts with
    both values, joined as the signer joins them.
    """
    values: dict[str, list[str]] = {}
    for name, value in received.headers.items():
        values.setdefault(name.lower(), []).append(value)
    auths, stamps = values.get("authorization", []), values.get("x-amz-date", [])
    if len(auths) != 1 or len(stamps) != 1:
        return False
    signed, given, when = (
        _SIGNED.search(auths[0]),
        _SIGNATURE.search(auths[0]),
        _STAMP.fullmatch(stamps[0]),
    )
    if signed is None or given is None or when is None:
        return False
    names = signed.group(1).split(";")
    if "host" not in names or any(n not in values for n in names):
        return False
    try:
        y, mo, d, h, mi, s = (int(g) for g in when.groups())
        at = datetime.datetime(y, mo, d, h, mi, s, tzinfo=datetime.UTC)
    except ValueError:
        return False
    if abs(time.time() - at.timestamp()) > MAX_SKEW:
        return False
    payload = hashlib.sha256(received.body or b"").hexdigest()
    claimed = values.get("x-amz-content-sha256") if "x-amz-content-sha256" in names else None
    if claimed is not None and claimed != [payload]:
        return False  # the signature covers a hash, not this body
    request = _Request(
        received.method, received.url, {n: values[n] for n in names}, payload, stamps[0]
    )
    signer = _signer()(frozen, scope[2], scope[1])
    want = signer.signature(
        signer.string_to_sign(request, signer.canonical_request(request)), request
    )
    return hmac.compare_digest(want, given.group(1))


# -- what botocore's signer reads, without the cost of AWSRequest -----------------------


class _Headers:
    """The headers to sign, by lower-case name, read as botocore reads ``HTTPHeaders``.

    Iteration gives the names, ``[]`` the first value, ``get_all`` every value
    in order, ``in`` ignores case and ``[]=`` adds a value: what
    ``SigV4Auth.canonical_request`` and ``_inject_signature_to_request`` use.
    """

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()][0]

    def __setitem__(self, name: str, value: str) -> None:
        self._values.setdefault(name.lower(), []).append(value)

    def get_all(self, name: str) -> list[str]:
        return self._values[name.lower()]


class _Request:
    """The parts of an ``AWSRequest`` that ``SigV4Auth`` reads when signing."""

    __slots__ = ("body", "context", "headers", "method", "params", "url")

    def __init__(
        self, method: str, url: str, headers: dict[str, list[str]], payload: str, stamp: str
    ) -> None:
        self.method = method
        self.url = url
        self.headers = _Headers(headers)
        self.params: dict[str, str] = {}  # the query is read from the URL
        self.body = None
        self.context = {"timestamp": stamp, "payload_hash": payload}


_paths: dict[str, str] = {}
_hosts: dict[str, str] = {}
_keys: dict[tuple[str, str, str, str], bytes] = {}
_CACHE = 256  # entries per cache; a full one starts again (model paths and hosts repeat)


def _host(url: str) -> str:
    """The ``host`` botocore signs for `url` (lower case, default port dropped)."""
    origin = "/".join(url.split("/", 3)[:3])
    got = _hosts.get(origin)
    if got is None:
        from botocore.auth import _host_from_url

        got = _host_from_url(origin)
        if len(_hosts) >= _CACHE:
            _hosts.clear()
        _hosts[origin] = got
    return got


@functools.cache
def _signer() -> Any:
    """The signer: botocore's ``SigV4Auth``, reading a `_Request`, its pure steps cached."""
    from botocore.auth import SigV4Auth  # deferred: only for Bedrock

    class Signer(SigV4Auth):  # type: ignore[misc]  # botocore has no type hints
        def headers_to_sign(self, request: _Request) -> _Headers:
            # a `_Request` holds exactly the headers to sign, host included
            return request.headers

        def payload(self, request: _Request) -> str:
            # hashed once by the caller (botocore hashes any body over http and https)
            return str(request.context["payload_hash"])

        def _normalize_url_path(self, path: str) -> str:
            got = _paths.get(path)
            if got is None:
                got = str(super()._normalize_url_path(path))
                if len(_paths) >= _CACHE:
                    _paths.clear()
                _paths[path] = got
            return got

        def signature(self, string_to_sign: str, request: _Request) -> str:
            # botocore's derivation (AWS4+secret → date → region → service → aws4_request),
            # kept per key and day instead of redone for every request
            scope = (
                self.credentials.secret_key,
                request.context["timestamp"][0:8],
                self._region_name,
                self._service_name,
            )
            key = _keys.get(scope)
            if key is None:
                key = f"AWS4{scope[0]}".encode()
                for part in scope[1:]:
                    key = self._sign(key, part)
                key = self._sign(key, "aws4_request")
                if len(_keys) >= 16:
                    _keys.clear()
                _keys[scope] = key
            return str(self._sign(key, string_to_sign, hex=True))

    return Signer
