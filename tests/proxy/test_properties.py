"""Invariants of the outgoing transform over arbitrary bodies of each API (hypothesis).

For any JSON body built from the API's own field names, arbitrary extra fields
and texts that mix protected names with prose, either the proxy refuses it
(`Unprotectable`: nothing is sent) or every string value that still contains a
protected name sits in a documented exempt position.  And a generated secret
placed anywhere in such a body (a value, a key, an exempt field, or split
across two adjacent text blocks) is always found by the secret guard.

The exempt positions are restated here from the documented lists (`apis`,
`transform`), so a change to them shows up as a test change.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pretense_dev.config import Config
from pretense_dev.mutation import IdentifierMap
from pretense_dev.proxy.apis import APIS, Api
from pretense_dev.proxy.guard import Scanner, default_scanner, scan
from pretense_dev.proxy.transform import (
    EXEMPT_SUBTREES,
    EXEMPT_VALUES,
    LeafCache,
    Outgoing,
    Unprotectable,
)
from tests.proxy.conftest import KEY, NAMES, build_index, protected_tokens

BODY_APIS = {api.name: api for api in APIS if api.walk is not None}
# Objects sent as they are, by their "type" (signed, encrypted or binary content).
OPAQUE_TYPES = frozenset(
    {
        "thinking",
        "redacted_thinking",
        "image",
        "container_upload",
        "reasoning",
        "item_reference",
        "input_image",
        "input_audio",
        "image_url",
        "web_search_tool_result",
    }
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[IdentifierMap, Scanner]:
    root: Path = tmp_path_factory.mktemp("props")
    mapping = build_index(root, NAMES)
    return mapping, default_scanner(KEY, Config(), root)


WORDS = [*NAMES, "the", "call", "x", "ok", "data", "src/app.py", "\n", "(", "."]
texts = st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join)
FIELDS = [
    "role",
    "content",
    "type",
    "text",
    "name",
    "input",
    "arguments",
    "function",
    "tool_calls",
    "source",
    "title",
    "data",
    "signature",
    "thinking",
    "metadata",
    "stop",
    "id",
    "url",
    "description",
    "output",
    "summary",
    "context",
    "citations",
    "extra",
]
TYPES = [
    "text",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
    "document",
    "search_result",
    "image",
    "message",
    "function_call",
    "function_call_output",
    "reasoning",
    "input_text",
    "output_text",
    "refusal",
    "weird_new_block",
]
keys = st.sampled_from(FIELDS) | st.sampled_from(list(NAMES)) | st.text(max_size=5)
leaves = st.none() | st.booleans() | st.integers() | texts
json_values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(keys, inner, max_size=4)
        | st.fixed_dictionaries({"type": st.sampled_from(TYPES)}, optional={"text": texts}).flatmap(
            lambda d: st.dictionaries(keys, inner, max_size=3).map(lambda extra: {**extra, **d})
        )
    ),
    max_leaves=16,
)
messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "assistant", "system", "tool"])},
        optional={"content": json_values, "tool_calls": json_values, "name": texts},
    ),
    max_size=4,
)
TOP = {
    "anthropic-messages": ["system", "messages", "stop_sequences", "metadata", "tools"],
    "anthropic-count-tokens": ["system", "messages", "tools", "output_format"],
    "openai-chat": ["messages", "stop", "response_format", "tools", "metadata"],
    "openai-responses": ["input", "instructions", "text", "tools", "client_metadata"],
}
# The cloud routes: the same bodies where the API is the same, their own fields otherwise.
_INVOKE = ["anthropic_version", "system", "messages", "stop_sequences", "metadata", "tools"]
_CONVERSE = ["system", "messages", "inferenceConfig", "toolConfig", "requestMetadata"]
_GEMINI = ["contents", "systemInstruction", "generationConfig", "tools", "toolConfig"]
TOP |= {
    "bedrock-invoke": _INVOKE,
    "bedrock-invoke-with-response-stream": _INVOKE,
    "vertex-claude": _INVOKE,
    "bedrock-converse": _CONVERSE,
    "bedrock-converse-stream": _CONVERSE,
    "gemini": _GEMINI,
    "vertex-gemini": _GEMINI,
    "azure-chat": TOP["openai-chat"],
    "azure-responses": TOP["openai-responses"],
}


@st.composite
def bodies(draw: st.DrawFn, api: str) -> dict[str, Any]:
    body: dict[str, Any] = {"model": draw(texts)}
    for field in draw(st.lists(st.sampled_from(TOP[api]), unique=True)):
        if field in ("messages", "input"):
            body[field] = draw(messages | texts if field == "input" else messages)
        else:
            body[field] = draw(json_values)
    body.update(draw(st.dictionaries(keys, json_values, max_size=2)))
    return body


def exempt_leaks(obj: Any, api: Api, path: tuple[str, ...] = ()) -> Iterator[str]:
    """Strings holding a protected-name-like token, at positions not documented as exempt."""
    if isinstance(obj, dict):
        t = obj.get("type")
        t = t if isinstance(t, str) else ""
        opaque = t in OPAQUE_TYPES or t.endswith("_tool_result")
        if opaque and t not in ("tool_result", "mcp_tool_result"):
            return
        for k, v in obj.items():
            if (not path and (k in api.exempt)) or k in EXEMPT_SUBTREES:
                continue
            if isinstance(v, str) and k in EXEMPT_VALUES:
                continue
            if k == "arguments" and isinstance(v, str):
                try:
                    parsed = json.loads(v)
                except ValueError:
                    yield v
                    continue
                yield from _values(parsed)  # keys of tool arguments are kept by design
                continue
            yield from exempt_leaks(v, api, (*path, k))
    elif isinstance(obj, list):
        for v in obj:
            yield from exempt_leaks(v, api, (*path, "[]"))
    elif isinstance(obj, str):
        yield obj


def _values(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _values(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _values(v)


def _protect(api: Api, body: dict[str, Any], mapping: IdentifierMap) -> Outgoing | None:
    out = Outgoing(mapping, LeafCache())
    try:
        api.protect(body, out)
    except Unprotectable:
        return None
    return out


PROPS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("api_name", sorted(BODY_APIS))
@PROPS
@given(data=st.data())
def test_every_string_with_a_name_is_mutated_or_exempt(
    repo: tuple[IdentifierMap, Scanner], api_name: str, data: st.DataObject
) -> None:
    mapping, _ = repo
    api = BODY_APIS[api_name]
    body = data.draw(bodies(api_name))
    if _protect(api, body, mapping) is None:
        return  # refused: nothing is sent
    for s in exempt_leaks(body, api):
        assert protected_tokens(s, mapping) == set(), (s, body)


def _secret(seed: int) -> str:
    rnd = random.Random(seed)
    alphabet = string.ascii_letters + string.digits
    return "gh" + "p_" + "".join(rnd.choice(alphabet) for _ in range(36))


def _places(obj: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every (container path, kind) where a string could be put: values and keys."""
    if isinstance(obj, dict):
        yield path, "key"
        for k, v in obj.items():
            yield (*path, k), "value"
            yield from _places(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield (*path, i), "value"
            yield from _places(v, (*path, i))


def _plant(body: dict[str, Any], where: tuple[Any, ...], kind: str, secret: str) -> None:
    target: Any = body
    for step in where[:-1] if kind == "value" else where:
        target = target[step]
    if kind == "key":
        target[secret] = "v"
    else:
        target[where[-1]] = f"token {secret} here"


@pytest.mark.parametrize("api_name", sorted(BODY_APIS))
@PROPS
@given(data=st.data(), seed=st.integers(0, 2**32))
def test_a_secret_anywhere_is_found(
    repo: tuple[IdentifierMap, Scanner], api_name: str, data: st.DataObject, seed: int
) -> None:
    mapping, scanner = repo
    api = BODY_APIS[api_name]
    body = data.draw(bodies(api_name))
    places = list(_places(body))
    where, kind = data.draw(st.sampled_from(places))
    secret = _secret(seed)
    _plant(body, where, kind, secret)
    out = _protect(api, body, mapping)
    if out is None:
        return  # refused: nothing is sent
    assert scan(scanner, out.new), (where, kind, body)


@pytest.mark.parametrize("api_name", ["anthropic-messages", "openai-chat", "openai-responses"])
@PROPS
@given(seed=st.integers(0, 2**32), cut=st.integers(5, 35), before=texts, after=texts)
def test_a_secret_split_across_adjacent_blocks_is_found(
    repo: tuple[IdentifierMap, Scanner], api_name: str, seed: int, cut: int, before: str, after: str
) -> None:
    mapping, scanner = repo
    secret = _secret(seed)
    a, b = before + " " + secret[:cut], secret[cut:] + " " + after
    kind = "input_text" if api_name == "openai-responses" else "text"
    message = {"role": "user", "content": [{"type": kind, "text": a}, {"type": kind, "text": b}]}
    key = "input" if api_name == "openai-responses" else "messages"
    out = _protect(BODY_APIS[api_name], {"model": "m", key: [message]}, mapping)
    assert out is not None and scan(scanner, out.new)
