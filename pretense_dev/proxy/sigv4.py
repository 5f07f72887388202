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
* an unsigned request is refused when the chain has credentials, for the same
  reason (``CLAUDE_CODE_SKIP_BEDROCK_AUTH`` must stay unset: the client signs,
  the proxy checks and signs again);
* no credentials in the chain: a signed request is refused, with the fix; an
  unsigned one passes as it is (a corporate gateway behind the proxy
  authenticates it);
* a ``Bearer`` token (Bedrock API keys) is not over the body: it passes
  through untouched.

Only ``host``, ``content-type`` and the ``x-amz-*`` headers are signed: the
HTTP client may add or change others (``accept-encoding``) after signing.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, MutableMapping
from typing import Any

from pretense_dev.audit.events import BLOCKED
from pretense_dev.proxy.guard import Refusal

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")
# Set by the client's signature; recomputed here.
_DROP = ("authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256")

CredentialSource = Callable[[], Any]  # () -> botocore Credentials or None

_lock = threading.Lock()
_session: Any = None


def default_credentials() -> Any:
    """The developer's credentials from botocore's default chain (refreshed by botocore)."""
    global _session
    with _lock:
        if _session is None:
            import botocore.session  # deferred: ~60 ms, only for Bedrock

            _session = botocore.session.get_session()
        return _session.get_credentials()


def default_region() -> str | None:
    """The region the developer's AWS configuration names (``AWS_REGION`` …)."""
    # AWS_REGION is what Claude Code and the JS/Java SDKs read; botocore reads the rest.
    if os.environ.get("AWS_REGION"):
        return os.environ["AWS_REGION"]
    default_credentials()
    region = _session.get_config_variable("region") if _session is not None else None
    return region if isinstance(region, str) and region else None


def client_scope(headers: MutableMapping[str, str]) -> tuple[str, str, str] | None:
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


def _bearer(headers: MutableMapping[str, str]) -> bool:
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
    signature is checked first.
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
            "pretense-dev re-signs only as the identity the client chose: run the proxy with "
            "the client's AWS profile, or let it sign alone (CLAUDE_CODE_SKIP_BEDROCK_AUTH=1)",
            decision=BLOCKED,
            code="pretense_aws_identity_mismatch",
        )
    if scope is None:
        raise Refusal(
            401,
            "pretense-dev signs a Bedrock request only when the client signed it with the same "
            "AWS credentials (any local process can reach the proxy); unset "
            "CLAUDE_CODE_SKIP_BEDROCK_AUTH and give the client the proxy's AWS profile",
            decision=BLOCKED,
            code="pretense_unsigned",
        )
    if received is None or not _verifies(received, frozen, scope):
        raise Refusal(
            403,
            "this request's AWS signature does not verify with the proxy's credentials (or is "
            "older than 15 minutes), so pretense-dev will not sign it; check the client's "
            "clock and that it uses the proxy's AWS profile",
            decision=BLOCKED,
            code="pretense_bad_signature",
        )
    region, service = scope[1], scope[2]
    region = region or default_region()
    if not region:
        raise Refusal(
            400,
            "pretense-dev cannot tell which AWS region to sign for; set AWS_REGION",
            decision=BLOCKED,
        )
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    for name in [k for k in headers if k.lower() in _DROP]:
        del headers[name]
    signed = {k: v for k, v in headers.items() if k.lower() == "content-type"}
    request = AWSRequest(method=method, url=url, data=body or b"", headers=signed)
    SigV4Auth(frozen, service, region).add_auth(request)
    for name, value in request.headers.items():
        if name.lower() in ("authorization", "x-amz-date", "x-amz-security-token"):
            headers[name] = value


MAX_SKEW = 15 * 60  # seconds; AWS itself allows 5 minutes each way


def _verifies(received: Any, frozen: Any, scope: tuple[str, str, str]) -> bool:
    """Whether the client's signature is the one botocore computes over what arrived."""
    import datetime
    import hmac

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    lower = {k.lower(): v for k, v in received.headers.items()}
    auth = lower.get("authorization", "")
    try:
        signed = auth.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
        given = auth.split("Signature=", 1)[1].strip()
        stamp = lower["x-amz-date"]
        when = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
        request = AWSRequest(
            method=received.method,
            url=received.url,
            data=received.body or b"",
            headers={k: lower[k] for k in signed},
        )
    except (IndexError, KeyError, ValueError):
        return False
    now = datetime.datetime.now(datetime.UTC)
    if abs((now - when).total_seconds()) > MAX_SKEW:
        return False
    request.context["timestamp"] = stamp
    signer = SigV4Auth(frozen, scope[2], scope[1])
    want = signer.signature(
        signer.string_to_sign(request, signer.canonical_request(request)), request
    )
    return hmac.compare_digest(want, given)
