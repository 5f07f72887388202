"""The API table: a new API is one entry, and the server reads every step from it.

The entry added here is shaped like a deployment-style vendor: the model is a
path segment, the path carries a query string, the upstream path differs from
the one the client used, and the outgoing request is signed over its (mutated)
body.  Everything runs through the real proxy and a real upstream on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pretense_dev.proxy.apis import (
    APIS,
    CLOUD_UPSTREAMS,
    OPENAI_ERRORS,
    Api,
    Outbound,
    Params,
    pattern,
    route_of,
)
from pretense_dev.proxy.guard import Refusal
from pretense_dev.proxy.replay import Reply
from pretense_dev.proxy.repos import RepoSource
from pretense_dev.proxy.server import Proxy, Settings
from pretense_dev.proxy.streams import ChatRewriter
from pretense_dev.proxy.transform import mutate_chat, unmutate_chat_completion
from tests.proxy.conftest import KEY, REPO_ID, Harness, scanner_factory


def _sign(out: Outbound) -> None:
    # Stands for a signature over the body: it must be computed on what is sent.
    out.headers["x-test-signature"] = hashlib.sha256(out.body or b"").hexdigest()


def _path(tail: str, params: Params) -> str:
    return f"v1/engines/{params['deployment']}/chat/completions"


DEPLOYMENT = Api(
    "test-deployment-chat",
    "openai",
    "POST",
    pattern(r"openai/deployments/(?P<deployment>[^/]+)/chat/completions"),
    "deployments",
    OPENAI_ERRORS,
    walk=mutate_chat,
    unmutate=unmutate_chat_completion,
    rewriter=ChatRewriter,
    path=_path,
    model=lambda body, params: params["deployment"],
    sign=_sign,
)


def test_every_route_of_the_table() -> None:
    headers = {"anthropic-version": "2023-06-01"}
    cases = {
        ("v1/messages", False): "anthropic-messages",
        ("v1/messages/count_tokens", False): "anthropic-count-tokens",
        ("v1/chat/completions", False): "openai-chat",
        ("v1/responses", False): "openai-responses",
        ("v1/models", True): "anthropic-models",
        ("v1/models/claude-x", True): "anthropic-models",
        ("v1/models", False): "openai-models",
        ("v1/models/gpt-x", False): "openai-models",
    }
    for (tail, anthropic), name in cases.items():
        route = route_of(tail, headers if anthropic else {})
        assert route is not None and route.api.name == name, tail
    assert route_of("v1/files", {}) is None
    assert route_of("v1/messagesx", {}) is None
    route = route_of("v1/models/gpt-x", {})
    assert route is not None and route.params == {"model": "gpt-x"}


@pytest.fixture
def deployment_base(h: Harness) -> str:
    """A proxy whose table has the extra entry; its base URL."""

    def resolve(repo_id: str) -> RepoSource:
        if repo_id != REPO_ID:
            raise Refusal(404, "unknown", decision="blocked")
        return RepoSource(REPO_ID, h.root, lambda: KEY)

    up = h.proxy.settings.upstream_anthropic
    settings = Settings(
        upstream_anthropic=up,
        upstream_openai=up + "/v1",
        extra_upstreams={"deployments": up + "/dep"},
    )
    proxy = Proxy(
        settings,
        resolver=resolve,
        scanner_factory=scanner_factory,
        audit=h.sink,
        apis=(DEPLOYMENT, *APIS),
    )
    port = h.bg.serve(proxy.create_app())
    return f"http://127.0.0.1:{port}/r/{REPO_ID}"


def test_a_new_entry_routes_mutates_signs_and_unmutates(
    h: Harness, deployment_base: str, tmp_path: Path
) -> None:
    port = int(deployment_base.split(":")[2].split("/")[0])
    h.answer.text = f"see {h.syn('reconcile_batch')}"
    h.reply = lambda rec: Reply(
        [
            json.dumps(
                {
                    "id": "c1",
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": h.answer.text},
                            "finish_reason": "stop",
                        }
                    ],
                }
            ).encode()
        ]
    )
    body = {"messages": [{"role": "user", "content": "call reconcile_batch now"}]}
    status, _, data = h.raw(
        f"/r/{REPO_ID}/openai/deployments/gpt-x/chat/completions?api-version=2024-10-21",
        json.dumps(body).encode(),
        headers={"X-Claude-Code-Session-Id": "apis-1"},
        port=port,
    )
    assert status == 200, data
    assert json.loads(data)["choices"][0]["message"]["content"] == "see reconcile_batch"
    (rec,) = h.upstream.records
    assert rec.path == "/dep/v1/engines/gpt-x/chat/completions"
    assert rec.query == "api-version=2024-10-21"
    sent = rec.json()["messages"][0]["content"]
    assert sent == f"call {h.syn('reconcile_batch')} now"
    assert rec.headers["x-test-signature"] == hashlib.sha256(rec.body).hexdigest()
    event = h.sink.event_for("apis-1")
    assert (event.vendor, event.model, event.decision) == ("openai", "gpt-x", "forwarded")


def test_a_new_entry_refuses_in_its_own_error_format(h: Harness, deployment_base: str) -> None:
    port = int(deployment_base.split(":")[2].split("/")[0])
    status, _, data = h.raw(
        f"/r/{REPO_ID}/openai/deployments/gpt-x/chat/completions",
        b'{"messages": "reconcile_batch"}',
        port=port,
    )
    assert status == 400
    err = json.loads(data)["error"]
    assert err["type"] == "invalid_request_error" and "was not sent" in err["message"]
    assert h.upstream.records == []


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"bedrock": "http://gw.test/b", "azure-openai": "http://az.test"},
        {"anthropic": "http://x"},
    ],
)
def test_each_upstream_is_the_configured_one_first(extra: dict[str, str]) -> None:
    # the user's --upstream first, then the cloud defaults, then the two flags
    s = Settings(upstream_anthropic="http://a.test", upstream_openai="http://o.test/v1")
    s.extra_upstreams.update(extra)
    table = {"anthropic": "http://a.test", "openai": "http://o.test/v1", **CLOUD_UPSTREAMS, **extra}
    assert {k: s.upstream(k) for k in table} == table
    assert {api.upstream for api in APIS} <= set(table)
    with pytest.raises(KeyError):
        s.upstream("nowhere")
