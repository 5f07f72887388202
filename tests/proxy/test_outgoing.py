"""What goes out: no protected name anywhere the vendor reads; everything else untouched.

Property-tested on the transform itself (fast), plus map growth and the
per-block cache through a running proxy.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pretense_dev.index.store import IndexStore
from pretense_dev.mutation import IdentifierMap, synthesize
from pretense_dev.proxy import canary
from pretense_dev.proxy.transform import (
    LeafCache,
    Outgoing,
    iter_strings,
    leaf_names,
    mutate_anthropic,
    mutate_chat,
    mutate_responses,
)
from tests.proxy.conftest import KEY, NAMES, REPO_ID, Harness, build_index, protected_tokens


def _map() -> IdentifierMap:
    taken: set[str] = set()
    fwd = {}
    for n, k in NAMES.items():
        fwd[n] = synthesize(KEY, n, k, taken)
        taken.add(fwd[n])
    return IdentifierMap(fwd)


M = _map()

words = st.one_of(
    st.sampled_from(sorted(NAMES)),
    st.sampled_from(
        [" ", "\n", ".", "(", ")", "\\n", "é", "名前", "x", "_", "fn_abcdefg", "pretense_esc_x"]
    ),
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=3),
)
texts = st.lists(words, max_size=20).map("".join)


@st.composite
def anthropic_requests(draw: st.DrawFn) -> dict[str, Any]:
    def t() -> str:
        return draw(texts)

    thinking = {"type": "thinking", "thinking": t(), "signature": t()}
    return {
        "model": "claude-" + t(),
        "max_tokens": 5,
        "metadata": {"user_id": t()},
        "tools": [
            {
                "name": "Edit",
                "description": t(),
                "input_schema": {"type": "object", "properties": {t(): {}}},
            }
        ],
        "system": draw(
            st.one_of(
                texts,
                st.just([{"type": "text", "text": t(), "cache_control": {"type": "ephemeral"}}]),
            )
        ),
        "messages": [
            {"role": "user", "content": t()},
            {
                "role": "assistant",
                "content": [
                    thinking,
                    {"type": "redacted_thinking", "data": t()},
                    {"type": "text", "text": t()},
                    {
                        "type": "tool_use",
                        "id": "tu",
                        "name": "Edit",
                        "input": {"k": t(), "n": [t(), 1, {"d": t()}]},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "tu",
                        "content": draw(st.one_of(texts, st.just([{"type": "text", "text": t()}]))),
                    },
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": t()},
                    },
                    {"type": "some_future_block", "type_id": "z", "body": t()},
                ],
            },
        ],
    }


def text_fields(body: dict[str, Any]) -> list[str]:
    """Every string the vendor reads as text (what must be free of protected names)."""
    out: list[str] = []
    sys_ = body["system"]
    out += [sys_] if isinstance(sys_, str) else [b["text"] for b in sys_]
    for m in body["messages"]:
        c = m["content"]
        if isinstance(c, str):
            out.append(c)
            continue
        for b in c:
            if b["type"] == "text":
                out.append(b["text"])
            elif b["type"] == "tool_use":
                out += [x for v in b["input"].values() for x in iter_strings(v)]
            elif b["type"] == "tool_result":
                rc = b["content"]
                out += [rc] if isinstance(rc, str) else [x["text"] for x in rc]
            elif b["type"] == "some_future_block":
                out.append(b["body"])
    return out


@settings(max_examples=200, deadline=None)
@given(anthropic_requests())
def test_anthropic_nothing_protected_leaks_and_rest_is_untouched(req: dict[str, Any]) -> None:
    body = copy.deepcopy(req)
    out = Outgoing(M, LeafCache())
    mutate_anthropic(body, out)
    for text in text_fields(body):
        assert protected_tokens(text, M) == set()
    # round trip: each text field un-mutates to the original
    assert [M.unmutate(x) for x in text_fields(body)] == text_fields(req)
    # untouched: model, metadata, tools, thinking, redacted thinking, image, tool name and keys
    for key in ("model", "metadata", "tools", "max_tokens"):
        assert body[key] == req[key]
    a_sent, a_orig = body["messages"][1]["content"], req["messages"][1]["content"]
    assert a_sent[0] == a_orig[0] and a_sent[1] == a_orig[1]
    assert a_sent[3]["name"] == "Edit" and list(a_sent[3]["input"]) == list(a_orig[3]["input"])
    assert body["messages"][2]["content"][1] == req["messages"][2]["content"][1]
    # the cache gives the same bytes the second time
    out.commit()
    again = copy.deepcopy(req)
    out2 = Outgoing(M, out._cache)
    mutate_anthropic(again, out2)
    assert json.dumps(again) == json.dumps(body)


@settings(max_examples=100, deadline=None)
@given(texts, texts, texts)
def test_openai_arguments_values_mutated_keys_kept(a: str, b: str, key: str) -> None:
    args = json.dumps({key or "k": a, "nested": [b, {"x": a}]}, ensure_ascii=bool(len(a) % 2))
    body = {
        "model": "gpt",
        "messages": [
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "f", "arguments": args}}
                ],
            }
        ],
    }
    mutate_chat(body, Outgoing(M, LeafCache()))
    sent = json.loads(body["messages"][0]["tool_calls"][0]["function"]["arguments"])  # type: ignore[index]
    assert list(sent) == [key or "k", "nested"]
    assert sent[key or "k"] == M.mutate(a) and sent["nested"] == [M.mutate(b), {"x": M.mutate(a)}]


def test_truncated_arguments_are_mutated_as_text() -> None:
    args = '{"path": "reconcile_batch.py\\nLedgerReconciler'  # cut mid-stream: not JSON
    body = {"input": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": args}]}
    mutate_responses(body, Outgoing(M, LeafCache()))
    sent = body["input"][0]["arguments"]
    assert protected_tokens(sent.replace("\\n", " "), M) == set()
    assert M.unmutate(sent, json=True) == args


@settings(max_examples=200, deadline=None)
@given(texts)
def test_audit_names_are_the_protected_tokens_of_a_text_leaf(text: str) -> None:
    # the audit's list of protected names: exactly the names the mutation replaced
    # (whole tokens; a backslash, an escape-looking "\\n" or a non-ASCII letter separates)
    assert leaf_names(LeafCache(), M, text, M.mutate(text)) == protected_tokens(text, M)


@settings(max_examples=100, deadline=None)
@given(texts, texts)
def test_audit_names_of_json_arguments_include_names_after_escapes(a: str, b: str) -> None:
    # a JSON-encoded leaf (tool-call arguments): a name right after "\\n" or "\\u00e9"
    args = json.dumps({"k": a + "\n" + b, "p": "é" + b}, ensure_ascii=bool(len(a) % 2))
    out = Outgoing(M, LeafCache())
    sent = out.json_text(args, "arguments")
    assert leaf_names(out.cache, M, args, sent) == protected_tokens(a + " " + b, M)
    assert out.names() == protected_tokens(a + " " + b, M)


@pytest.mark.parametrize(
    "text",
    [
        "a\x00LedgerReconciler\x00b",  # NULs (the marks of the listing) in the text itself
        "\x00\x00reconcile_batch",
        "\ud800LedgerReconciler and apply_credit_note",  # a lone surrogate (JSON can hold one)
        "C:\\ledger\\LedgerReconciler\\nTaxJurisdiction",
    ],
)
def test_audit_names_of_unusual_texts(text: str) -> None:
    assert leaf_names(LeafCache(), M, text, M.mutate(text)) == protected_tokens(text, M) != set()


def test_audit_names_of_an_unchanged_leaf_are_empty() -> None:
    assert leaf_names(LeafCache(), M, "nothing protected here", "nothing protected here") == (
        frozenset()
    )


def test_map_growth_is_picked_up_and_never_shrinks(h: Harness, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    build_index(root, NAMES)
    base = h.spawn(root)
    import anthropic

    client = anthropic.Anthropic(base_url=base, api_key="k", max_retries=0)
    text = "brand_new_helper calls reconcile_batch " * 4
    client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": text}])
    assert "brand_new_helper" in h.upstream.records[-1].body.decode()
    # the index learns a name while the proxy runs, and deactivates another
    with IndexStore(root / ".pretense" / "index.db") as store:
        taken = {i.synthetic for i in store.issued().values()}
        syn = synthesize(KEY, "brand_new_helper", "function", taken)
        store.update_identifiers([("brand_new_helper", syn, "function")], [], ["reconcile_batch"])
    client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": text}])
    sent = h.upstream.records[-1].body.decode()
    assert "brand_new_helper" not in sent and syn in sent
    assert "reconcile_batch" not in sent, "a name is never dropped within a session"


def test_verify_endpoint_answers_the_canary(h: Harness) -> None:
    names = ["LedgerReconciler", "reconcile_batch"]
    nonce, text = canary.challenge(names)
    reply = canary.ask(h.url, REPO_ID, nonce, text)
    with IndexStore(h.root / ".pretense" / "index.db") as store:
        local = store.load_map()
        version = store.map_version()
    verdict = canary.check(
        reply,
        key=KEY,
        nonce=nonce,
        repo_id=REPO_ID,
        text=text,
        mutate=local.mutate,
        local_map_version=version,
    )
    assert verdict.ok, verdict.problems
    assert reply["mutated"] == f"canary: {h.syn('LedgerReconciler')} {h.syn('reconcile_batch')}"
    # a wrong key (another repo) fails (b)
    bad = canary.check(
        reply,
        key=bytes(32),
        nonce=nonce,
        repo_id=REPO_ID,
        text=text,
        mutate=local.mutate,
        local_map_version=version,
    )
    assert "the proxy does not hold this repository's key" in bad.problems
    # a map that mutates differently fails (c)
    other = IdentifierMap({"LedgerReconciler": "Cls_zzzzzz"})
    assert not canary.check(
        reply,
        key=KEY,
        nonce=nonce,
        repo_id=REPO_ID,
        text=text,
        mutate=other.mutate,
        local_map_version=version,
    ).ok
    assert h.upstream.records == []  # verify never reaches a vendor


def test_verify_rejects_bad_challenges(h: Harness) -> None:
    status, _, data = h.raw(f"/r/{REPO_ID}/pretense/verify", b'{"nonce": "short", "text": "x"}')
    assert status == 400 and json.loads(data)["type"] == "error"
    status, _, _ = h.raw(
        "/r/ffffffffffffffff/pretense/verify", json.dumps({"nonce": "a" * 32, "text": "x"}).encode()
    )
    assert status == 404


def test_leaf_cache_stays_within_its_budget() -> None:
    cache = LeafCache(budget=50_000)
    for i in range(2000):
        out = Outgoing(M, cache)
        out.text(f"leaf number {i} about reconcile_batch " * 3, "x")
        out.commit()
    assert cache.size <= 50_000
    assert 0 < len(cache) < 2000
    # the most recent leaves are the ones kept
    assert "leaf number 1999 about reconcile_batch " * 3 in cache.table("text")
