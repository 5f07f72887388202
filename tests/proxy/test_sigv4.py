"""The proxy's SigV4 signer and verifier against stock botocore (hypothesis).

`sigv4` runs botocore's ``SigV4Auth`` over a light request with cached steps
instead of ``AWSRequest`` (see its docstring for why).  These properties hold
it to stock botocore: for any method, path, query, content type, body,
credentials (with or without a session token), region, service and time,

* `sigv4.sign` sets exactly the ``Authorization``, ``X-Amz-Date`` and
  ``X-Amz-Security-Token`` that ``SigV4Auth.add_auth`` sets on an
  ``AWSRequest`` with the same content type and body;
* `sigv4.verifies` accepts a request that stock botocore signed with any
  extra headers, and refuses it once its body, a signed header, the secret key
  or the time is changed, or when its claimed body hash is not its body's.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import string
import time
from typing import Any
from unittest import mock

import botocore.auth
from botocore.auth import SigV4Auth, _host_from_url
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from pretense_dev.proxy import sigv4
from pretense_dev.proxy.apis import Received

TOKEN = string.ascii_letters + string.digits + "-_.~!$'()*+,;=@:%"
# Path and query characters, raw or percent-encoded, and some beyond ASCII.
URL_PIECES = [*TOKEN, " ", "/", "é", "…", "%3A", "%2F", ".."]
URL_TEXT = st.lists(st.sampled_from(URL_PIECES), max_size=8).map("".join)
HEADER_VALUE = st.text(
    alphabet=st.sampled_from([*string.ascii_letters, *string.digits, " ", "\t", "/", ";", "="]),
    max_size=20,
)


def _key(prefix: str, n: int) -> str:
    return prefix + "".join(
        secrets.choice(string.ascii_uppercase + string.digits) for _ in range(n)
    )


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https"]))
    host = draw(st.sampled_from(["127.0.0.1", "Bedrock-Runtime.us-west-2.amazonaws.com"]))
    port = draw(st.sampled_from(["", ":80", ":443", ":8123"]))
    path = "/".join(draw(st.lists(URL_TEXT, max_size=5)))
    pairs = draw(st.lists(st.tuples(URL_TEXT, URL_TEXT), max_size=3))
    query = "&".join(f"{k}={v}" for k, v in pairs)
    return f"{scheme}://{host}{port}/{path}" + (f"?{query}" if query else "")


@st.composite
def credentials(draw: st.DrawFn) -> Any:
    token = draw(st.sampled_from([None, "", _key("IQo", 60)]))
    return Credentials(_key("AKIA", 16), _key("", 40), token).get_frozen_credentials()


METHODS = st.sampled_from(["POST", "GET", "PUT", "DELETE", "post"])
REGIONS = st.sampled_from(["us-west-2", "eu-central-1"])
SERVICES = st.sampled_from(["bedrock", "execute-api"])
TIMES = st.datetimes(
    min_value=datetime.datetime(2020, 1, 1), max_value=datetime.datetime(2035, 12, 31)
).map(lambda d: d.replace(microsecond=0))


@given(
    method=METHODS,
    url=urls(),
    content_types=st.lists(
        st.tuples(st.sampled_from(["content-type", "Content-Type"]), HEADER_VALUE),
        max_size=2,
        unique_by=lambda t: t[0],
    ),
    body=st.one_of(st.none(), st.binary(max_size=200)),
    frozen=credentials(),
    region=REGIONS,
    service=SERVICES,
    when=TIMES,
)
def test_sign_is_stock_botocore_byte_for_byte(
    method: str,
    url: str,
    content_types: list[tuple[str, str]],
    body: bytes | None,
    frozen: Any,
    region: str,
    service: str,
    when: datetime.datetime,
) -> None:
    stock = AWSRequest(method=method, url=url, data=body or b"", headers=dict(content_types))
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
        SigV4Auth(frozen, service, region).add_auth(stock)
    # the client's own SigV4 headers are replaced; other headers are left as they are
    headers = {
        **dict(content_types),
        "Authorization": "AWS4-HMAC-SHA256 Credential=old",
        "x-amz-date": "19990101T000000Z",
        "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD",
        "accept": "application/json",
    }
    sigv4.sign(
        method,
        url,
        headers,
        body,
        frozen,
        region=region,
        service=service,
        stamp=when.strftime("%Y%m%dT%H%M%SZ"),
    )
    want = {k: v for k, v in stock.headers.items() if k.lower() != "content-type"}
    assert {k: v for k, v in headers.items() if k.lower() != "content-type"} == {
        **want,
        "accept": "application/json",
    }
    assert set(want) == {"Authorization", "X-Amz-Date"} | (
        {"X-Amz-Security-Token"} if frozen.token else set()
    )


def client_signed(
    method: str, url: str, extra: dict[str, str], body: bytes, frozen: Any, region: str
) -> Received:
    """A request as stock botocore signs it (now) and as the proxy receives it."""
    stock = AWSRequest(method=method, url=url, data=body, headers=extra)
    SigV4Auth(frozen, "bedrock", region).add_auth(stock)
    headers = dict(stock.headers.items())
    headers["Host"] = _host_from_url(url)  # what an HTTP client sends; botocore signs it
    return Received(method, url, headers, body)


@given(
    method=METHODS,
    url=urls(),
    extra=st.dictionaries(
        st.text(alphabet=string.ascii_lowercase + "-", min_size=1, max_size=12).filter(
            lambda n: (
                n not in ("host", "authorization", "x-amz-date")
                and not n.startswith("x-amz-security")
            )
        ),
        HEADER_VALUE,
        max_size=6,
    ),
    body=st.binary(min_size=1, max_size=200),
    frozen=credentials(),
    region=REGIONS,
)
def test_verifies_what_stock_botocore_signed_and_nothing_changed(
    method: str, url: str, extra: dict[str, str], body: bytes, frozen: Any, region: str
) -> None:
    scope = (frozen.access_key, region, "bedrock")
    received = client_signed(method, url, extra, body, frozen, region)

    # the headers as a plain mapping and as aiohttp hands them over (looked up by name)
    def multi(h: Any) -> Any:
        return CIMultiDictProxy(CIMultiDict(h))

    for form in (dict, multi):
        headers = form(received.headers)
        assert sigv4.verifies(Received(method, url, headers, body), frozen, scope)
        # the body changed on the way
        altered = bytes([body[0] ^ 1]) + body[1:]
        assert not sigv4.verifies(Received(method, url, headers, altered), frozen, scope)
        # a signed header changed on the way, or sent twice
        signed = received.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]
        for name in signed.split(";"):
            changed = {k: v + "x" if k.lower() == name else v for k, v in received.headers.items()}
            assert not sigv4.verifies(Received(method, url, form(changed), body), frozen, scope)
            twice = CIMultiDict(received.headers)  # a mapping cannot hold a name twice
            twice.add(name, next(v for k, v in twice.items() if k.lower() == name))
            assert not sigv4.verifies(Received(method, url, multi(twice), body), frozen, scope)
        # the signed names not in lower case, as SigV4 writes them
        auth = received.headers["Authorization"]
        upper = {**received.headers, "Authorization": auth.replace(";x-amz-date", ";X-Amz-Date", 1)}
        assert not sigv4.verifies(Received(method, url, form(upper), body), frozen, scope)
    # signed with another secret key for the same access key id
    forged = Credentials(frozen.access_key, _key("", 40), frozen.token)
    fake = client_signed(method, url, extra, body, forged.get_frozen_credentials(), region)
    assert not sigv4.verifies(fake, frozen, scope)


def test_a_claimed_body_hash_must_be_the_body_s() -> None:
    """A signed ``X-Amz-Content-SHA256`` stands for the body in the signature: it must be it."""
    frozen = Credentials(_key("AKIA", 16), _key("", 40)).get_frozen_credentials()
    url = "http://127.0.0.1:8123/model/m/invoke"
    body = b'{"messages": []}'
    for claim in (hashlib.sha256(body).hexdigest(), "UNSIGNED-PAYLOAD"):
        received = client_signed("POST", url, {"X-Amz-Content-SHA256": claim}, body, frozen, "r")
        scope = (frozen.access_key, "r", "bedrock")
        assert sigv4.verifies(received, frozen, scope) == (claim != "UNSIGNED-PAYLOAD")
        # the same signature over another body: stock botocore would accept it
        other = Received("POST", url, received.headers, b'{"messages": [1]}')
        assert not sigv4.verifies(other, frozen, scope)


def test_an_old_or_future_signature_is_refused() -> None:
    frozen = Credentials(_key("AKIA", 16), _key("", 40)).get_frozen_credentials()
    scope = (frozen.access_key, "us-west-2", "bedrock")
    url = "http://127.0.0.1:8123/model/m/invoke"
    for skew in (-sigv4.MAX_SKEW - 60, sigv4.MAX_SKEW + 60, 0):
        when = datetime.datetime.fromtimestamp(time.time() + skew, datetime.UTC)
        with mock.patch.object(
            botocore.auth, "get_current_datetime", return_value=when.replace(tzinfo=None)
        ):
            received = client_signed("POST", url, {}, b"{}", frozen, "us-west-2")
        assert sigv4.verifies(received, frozen, scope) == (skew == 0)
