"""Resent histories (`pretense_dev.proxy.history`): the cache changes the cost, never the bytes.

* hypothesis: for any conversation resent turn after turn (growing, rewound,
  retried), in any JSON formatting, a proxy reusing the history's bytes sends
  exactly the bytes, and audits exactly the names, of a proxy that parses and
  walks every request whole;
* the same through the real proxy (aiohttp server, loopback upstream): what the
  upstream receives is byte-identical with and without the cache;
* a map that grows invalidates: a name the index learns is mutated in the
  part of the history already sent;
* a secret is refused wherever it is: in a new message after a clean cached
  history, in an old message edited since, in a history refused before.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pretense_dev.mutation import IdentifierMap
from pretense_dev.proxy import history, jsonx
from pretense_dev.proxy.apis import APIS, Api
from pretense_dev.proxy.guard import Scanner
from pretense_dev.proxy.server import Proxy
from pretense_dev.proxy.transform import LeafCache, Outgoing
from tests.proxy.conftest import (
    NAMES,
    REPO_ID,
    Harness,
    build_index,
    start_harness,
)
from tests.proxy.test_secrets import github_token, with_secret

HISTORY_APIS = {a.name: a for a in APIS if a.history}


pytestmark = pytest.mark.usefixtures("small_bodies_take_history")


class Cached:
    """The proxy's history path (`Proxy._protect_history`) over one repository's caches."""

    def __init__(self, mapping: IdentifierMap, scanner: Scanner) -> None:
        self.mapping, self.scanner = mapping, scanner
        self.leaves = LeafCache()
        self.states = history.HistoryCache()

    def send(self, api: Api, raw: bytes) -> tuple[bytes, set[str], bool] | None:
        """(body sent, names audited, whether remembered elements were reused) or None."""
        cut = history.split(raw, api.name, api.history, self.states)
        if cut is None:
            return None
        done = history.reuse(
            cut, api.protect, self.mapping, self.leaves, self.states, api.name, self.scanner
        )
        if done is None:
            return None
        out, payload = done
        return payload, out.names(), cut.base is not None


def whole(api: Api, raw: bytes, mapping: IdentifierMap) -> tuple[bytes, set[str]]:
    """What a proxy without any cache sends: the body parsed, walked and written whole."""
    body = jsonx.loads(raw)
    out = Outgoing(mapping, LeafCache())
    api.protect(body, out)
    return jsonx.dumps(body), out.names()


WORDS = [*NAMES, "the", "call", "ok", "src/app.py", "\n", '"q"', "é", "[", "}", "\\"]
texts = st.lists(st.sampled_from(WORDS), max_size=5).map(" ".join)


def anthropic_message(i: int) -> st.SearchStrategy[dict[str, Any]]:
    block = st.one_of(
        texts.map(lambda t: {"type": "text", "text": t}),
        texts.map(
            lambda t: {"type": "tool_use", "id": f"tu_{i}", "name": "Read", "input": {"path": t}}
        ),
        texts.map(lambda t: {"type": "tool_result", "tool_use_id": f"tu_{i}", "content": t}),
        texts.map(lambda t: {"type": "mystery_block", "note": t}),
    )
    content = st.one_of(texts, st.lists(block, min_size=1, max_size=3))
    nothing: dict[str, str] = {}
    extra = st.one_of(st.just(nothing), texts.map(lambda t: {"extra": t}))
    role = "user" if i % 2 == 0 else "assistant"
    return st.tuples(content, extra).map(lambda ce: {"role": role, "content": ce[0], **ce[1]})


@st.composite
def conversations(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[int], dict[str, Any]]:
    """Messages, the number of them each successive request carries, and the rest of the body."""
    n = draw(st.integers(1, 8))
    messages = [draw(anthropic_message(i)) for i in range(n)]
    cuts = draw(st.lists(st.integers(1, n), min_size=2, max_size=6))
    rest = {"model": "claude-x", "max_tokens": 5, "system": draw(texts)}
    if draw(st.booleans()):
        rest["metadata"] = {"note": draw(texts)}
    return messages, cuts, rest


FORMATS = [
    {"separators": (",", ":")},
    {},
    {"indent": 2},
    {"ensure_ascii": False},
]


# Every route whose body is an Anthropic Messages request: Anthropic's API, Claude on
# Bedrock (InvokeModel, streamed or not) and on Vertex AI, whose bodies name no model
# and carry `anthropic_version` instead.
MESSAGES_APIS = ["anthropic-messages", "bedrock-invoke", "bedrock-invoke-with-response-stream"]
MESSAGES_APIS += ["vertex-claude"]


@pytest.mark.parametrize("api_name", MESSAGES_APIS)
@given(conv=conversations(), fmt=st.sampled_from(FORMATS), first=st.booleans())
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_reused_history_sends_the_bytes_and_names_of_a_whole_walk(
    history_repo: tuple[IdentifierMap, Scanner],
    api_name: str,
    conv: tuple[list[dict[str, Any]], list[int], dict[str, Any]],
    fmt: dict[str, Any],
    first: bool,
) -> None:
    mapping, scanner = history_repo
    messages, cuts, rest = conv
    api = HISTORY_APIS[api_name]
    if api_name != "anthropic-messages":
        rest = {k: v for k, v in rest.items() if k != "model"}
        rest["anthropic_version"] = "bedrock-2023-05-31"
    cached = Cached(mapping, scanner)
    previous = 0
    for cut in cuts:
        body = (
            {"messages": messages[:cut], **rest} if first else {**rest, "messages": messages[:cut]}
        )
        raw = json.dumps(body, **fmt).encode()
        sent = cached.send(api, raw)
        assert sent is not None
        payload, names, reused = sent
        expected, expected_names = whole(api, raw, mapping)
        assert payload == expected
        assert names == expected_names
        if previous and cut >= previous:
            assert reused  # a turn that extends the last one reuses its elements
        previous = cut


def test_openai_chat_history_is_reused_byte_identically(
    history_repo: tuple[IdentifierMap, Scanner],
) -> None:
    mapping, scanner = history_repo
    api = HISTORY_APIS["openai-chat"]
    cached = Cached(mapping, scanner)
    messages: list[dict[str, Any]] = [{"role": "system", "content": "about reconcile_batch"}]
    for i in range(4):
        messages.append({"role": "user", "content": f"turn {i}: LedgerReconciler"})
        raw = json.dumps({"model": "gpt-x", "messages": messages}).encode()
        sent = cached.send(api, raw)
        assert sent is not None
        assert sent[0] == whole(api, raw, mapping)[0]
        assert sent[2] == (i > 0)
        messages.append({"role": "assistant", "content": f"ok {i} apply_credit_note"})


def test_a_second_history_key_later_in_the_body_takes_the_ordinary_path(
    history_repo: tuple[IdentifierMap, Scanner],
) -> None:
    """The last duplicate key wins in every parser: the history cut must not hide it."""
    mapping, scanner = history_repo
    api = HISTORY_APIS["anthropic-messages"]
    cached = Cached(mapping, scanner)
    one = [{"role": "user", "content": "reconcile_batch"}]
    assert cached.send(api, json.dumps({"model": "m", "messages": one}).encode()) is not None
    raw = (
        b'{"model": "m", "messages": [{"role": "user", "content": "reconcile_batch"}, '
        b'{"role": "assistant", "content": "ok"}], "messages": [{"role": "user", "content": "x"}]}'
    )
    assert history.split(raw, api.name, api.history, cached.states) is None


# -- through the real proxy --------------------------------------------------------


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Harness]:
    """A harness of its own: these tests change the map."""
    h = start_harness(tmp_path)
    try:
        yield h
    finally:
        h.bg.close()


def _uncached_proxy(h: Harness) -> int:
    """Another proxy on the same repository and upstream, with no history path."""
    apis = tuple(dataclasses.replace(a, history="") for a in APIS)
    proxy = Proxy(
        h.proxy.settings,
        resolver=h.proxy.resolver,
        scanner_factory=h.proxy.scanner_factory,
        audit=h.sink,
        apis=apis,
    )
    return h.bg.serve(proxy.create_app())


def _post(h: Harness, messages: list[dict[str, Any]], port: int | None = None) -> int:
    body = json.dumps({"model": "m", "max_tokens": 5, "messages": messages}).encode()
    status, _, _ = h.raw(f"/r/{REPO_ID}/v1/messages", body, {"anthropic-version": "x"}, port=port)
    return status


def test_upstream_receives_the_same_bytes_with_and_without_the_cache(fresh: Harness) -> None:
    h = fresh
    other = _uncached_proxy(h)
    conv: list[dict[str, Any]] = []
    for i in range(4):
        conv.append({"role": "user", "content": f"turn {i}: reconcile_batch and TaxJurisdiction"})
        h.upstream.records.clear()
        assert _post(h, conv) == 200
        assert _post(h, conv, port=other) == 200
        cached, plain = h.upstream.records
        assert cached.body == plain.body
        assert "reconcile_batch" not in cached.body.decode()
        conv.append({"role": "assistant", "content": [{"type": "text", "text": "ok"}]})
    ctx = h.proxy.contexts[REPO_ID]
    assert len(ctx.history) >= 1  # the cache was in use


def test_a_grown_map_reaches_the_history_already_sent(fresh: Harness) -> None:
    h = fresh
    conv: list[dict[str, Any]] = [{"role": "user", "content": "see quarterly_rollup_job"}]
    assert _post(h, conv) == 200
    assert "quarterly_rollup_job" in h.upstream.records[-1].body.decode()
    grown = build_index(h.root, {**NAMES, "quarterly_rollup_job": "function"})
    conv += [{"role": "assistant", "content": "ok"}, {"role": "user", "content": "and now?"}]
    assert _post(h, conv) == 200
    sent = h.upstream.records[-1].json()
    syn = grown.synthetic("quarterly_rollup_job")
    assert syn is not None
    assert sent["messages"][0]["content"] == f"see {syn}"


def test_a_secret_in_a_new_message_after_a_cached_history_is_refused(fresh: Harness) -> None:
    h = fresh
    conv: list[dict[str, Any]] = [{"role": "user", "content": "explain reconcile_batch"}]
    assert _post(h, conv) == 200
    assert _post(h, conv) == 200  # the history is now remembered
    h.upstream.records.clear()
    conv += [
        {"role": "assistant", "content": "sure"},
        {"role": "user", "content": with_secret(github_token())},
    ]
    for _ in range(2):
        assert _post(h, conv) == 400
    assert h.upstream.records == []


def test_a_secret_edited_into_an_old_message_is_refused(fresh: Harness) -> None:
    h = fresh
    conv: list[dict[str, Any]] = [
        {"role": "user", "content": "explain reconcile_batch"},
        {"role": "assistant", "content": "sure"},
    ]
    assert _post(h, conv) == 200
    h.upstream.records.clear()
    conv[0] = {"role": "user", "content": with_secret(github_token())}
    conv.append({"role": "user", "content": "go on"})
    assert _post(h, conv) == 400
    assert h.upstream.records == []


def test_a_refused_history_is_refused_again_when_resent_longer(fresh: Harness) -> None:
    h = fresh
    conv: list[dict[str, Any]] = [{"role": "user", "content": with_secret(github_token())}]
    assert _post(h, conv) == 400
    conv += [{"role": "assistant", "content": "ok"}, {"role": "user", "content": "more"}]
    assert _post(h, conv) == 400
    assert h.upstream.records == []
    assert len(h.proxy.contexts[REPO_ID].history) == 0
