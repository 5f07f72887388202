"""A resent history's SHA-256, resumed at remembered states (`history.Digests`), is exact.

Bedrock signs over the body, so the proxy hashes the body it received (to
check the client's signature) and the body it sends.  On a resend both start
with bytes an earlier request had, and `history` resumes SHA-256 states kept
at those boundaries.  These properties hold it to a fresh ``hashlib.sha256``:

* hypothesis: for any conversation resent turn after turn (growing, rewound,
  retried), in any JSON formatting and with any head before the history, both
  digests equal the SHA-256 of the whole bytes, and a turn that extends the
  last one does resume (a poisoned mark shows in its digest);
* hypothesis over raw prefixes and tails: a remembered state is resumed only
  for a body that starts with the very bytes it read; a body whose earlier
  bytes differ (a tampered prefix) finds no state and is hashed whole;
* any other body object, or a sent body with another head, is hashed whole
  even when the marks are wrong.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pretense_dev.mutation import IdentifierMap
from pretense_dev.proxy import history
from pretense_dev.proxy.apis import APIS
from pretense_dev.proxy.guard import Scanner
from pretense_dev.proxy.transform import LeafCache
from tests.proxy.conftest import NAMES

API = next(a for a in APIS if a.name == "bedrock-invoke")
WRONG = hashlib.sha256(b"not these bytes")


pytestmark = pytest.mark.usefixtures("small_bodies_take_history")


class Cached:
    """The proxy's history path over one repository's caches, keeping each request's cut."""

    def __init__(self, mapping: IdentifierMap, scanner: Scanner) -> None:
        self.mapping, self.scanner = mapping, scanner
        self.leaves = LeafCache()
        self.states = history.HistoryCache()

    def send(self, raw: bytes) -> tuple[history.Split, bytes]:
        cut = history.split(raw, API.name, API.history, self.states)
        assert cut is not None
        done = history.reuse(
            cut, API.protect, self.mapping, self.leaves, self.states, API.name, self.scanner
        )
        assert done is not None and cut.digests is not None
        return cut, done[1]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


WORDS = [*NAMES, "the", "ok", "\n", '"q"', "é", "[", "}", "\\", "\u2028", "😀"]
texts = st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join)
messages = st.lists(
    st.tuples(st.sampled_from(["user", "assistant"]), texts).map(
        lambda rt: {"role": rt[0], "content": rt[1]}
    ),
    min_size=1,
    max_size=8,
)
FORMATS = [{"separators": (",", ":")}, {}, {"indent": 2}, {"ensure_ascii": False}]


@given(
    msgs=messages,
    cuts=st.lists(st.integers(1, 8), min_size=2, max_size=6),
    heads=st.lists(st.integers(1, 3), min_size=6, max_size=6),
    fmt=st.sampled_from(FORMATS),
    poison=st.booleans(),
)
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_resumed_digests_are_the_sha256_of_the_whole_bytes(
    history_repo: tuple[IdentifierMap, Scanner],
    msgs: list[dict[str, Any]],
    cuts: list[int],
    heads: list[int],
    fmt: dict[str, Any],
    poison: bool,
) -> None:
    cached = Cached(*history_repo)
    previous: history.Split | None = None
    for cut, tokens in zip(cuts, heads, strict=False):
        # `max_tokens` changes the head of the body sent: the sent mark must not be reused
        body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": tokens}
        raw = json.dumps({**body, "messages": msgs[: min(cut, len(msgs))]}, **fmt).encode()
        split, payload = cached.send(raw)
        base = split.base
        assert split.digests is not None
        marked = base is not None and base.marks.received is not None
        same_head = (
            base is not None
            and base.marks.sent is not None
            and payload.startswith(base.marks.head + b"[")
        )
        if poison and base is not None:  # a wrong mark shows exactly where it is used
            if marked:
                base.marks.received = WRONG.copy()
            if base.marks.sent is not None:
                base.marks.sent = WRONG.copy()
        got_received = split.digests.received(raw)
        got_sent = split.digests.sent(payload)
        if poison and marked:
            assert got_received != sha(raw)
        else:
            assert got_received == sha(raw)
        if poison and same_head:
            assert got_sent != sha(payload)
        else:
            assert got_sent == sha(payload)
        if not poison:
            # a turn that extends the last one resumes the marks that turn set
            if previous is not None and base is not None:
                assert marked
            # and a body that is not the very object cut or built is hashed whole
            assert split.digests.received(b" " + raw) == sha(b" " + raw)
            assert split.digests.sent(b" " + payload) == sha(b" " + payload)
        previous = split


def _state(prefix: bytes) -> history.State:
    names = history.Names(None, LeafCache(), IdentifierMap({}), [])
    return history.State("bedrock-invoke", prefix, 0, (b"{}",), names, {}, len(prefix), 0, -1)


@given(
    prefix=st.binary(min_size=1, max_size=300),
    tail=st.binary(max_size=300),
    flip=st.integers(0, 10_000),
    grow=st.integers(0, 300),
)
def test_a_state_is_resumed_only_for_the_bytes_it_read(
    prefix: bytes, tail: bytes, flip: int, grow: int
) -> None:
    """Random prefixes and tails: resumed or whole, the digest is sha256 of the body."""
    cache = history.HistoryCache()
    base = _state(prefix)
    cache.store(base)
    base.marks.received = hashlib.sha256(prefix)
    raw = prefix + tail + b"x"  # longer than the prefix, as `find` requires
    assert cache.find(raw, "bedrock-invoke") is base
    grown = _state(raw[: len(prefix) + min(grow, len(tail))])
    digests = history.Digests(raw, base, grown, raw, b"", 0)
    assert digests.received(raw) == sha(raw)
    # the new state's mark is the SHA-256 state over its prefix, exactly
    assert grown.marks.received is not None
    assert grown.marks.received.hexdigest() == sha(grown.prefix)
    # resumed from the grown state: still the whole body's digest
    assert history.Digests(raw, grown, None, raw, b"", 0).received(raw) == sha(raw)
    # one byte of the prefix differs: no state is found, so nothing is resumed
    at = flip % len(prefix)
    tampered = prefix[:at] + bytes([prefix[at] ^ 0x01]) + prefix[at + 1 :] + tail + b"x"
    assert cache.find(tampered, "bedrock-invoke") is None


def test_a_sent_body_with_another_head_is_hashed_whole(
    history_repo: tuple[IdentifierMap, Scanner],
) -> None:
    """The sent mark is resumed only after the very head it read (defence in depth).

    Through the proxy a resend's head is always the base's (the received bytes
    before the history are the same, and their mutation is deterministic), so
    the mark's head is changed by hand here.
    """
    cached = Cached(*history_repo)
    conv = [{"role": "user", "content": "reconcile_batch"}]
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5}
    for head_differs in (True, False):
        cached.states.clear()
        split, payload = cached.send(json.dumps({**body, "messages": conv}).encode())
        assert split.digests is not None
        split.digests.sent(payload)
        longer = [*conv, {"role": "assistant", "content": "ok apply_credit_note"}]
        split, payload = cached.send(json.dumps({**body, "messages": longer}).encode())
        base = split.base
        assert base is not None and base.marks.sent is not None and split.digests is not None
        assert payload.startswith(base.marks.head + b"[")
        base.marks.sent = WRONG.copy()
        if head_differs:
            base.marks.head = base.marks.head.replace(b"5", b"6")
            assert split.digests.sent(payload) == sha(payload)
        else:  # the poisoned mark is used: the check above bites
            assert split.digests.sent(payload) != sha(payload)
