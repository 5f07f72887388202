"""The mutation contract (docs/architecture.md, mutation contract rules 3-5), property-tested.

The C kernel is checked against the pure-Python reference, the round trip
against any text (including text full of our own synthetics and escapes), and
the stream un-mutator against every split of its input.
"""

from __future__ import annotations

import itertools
import json as jsonlib
import keyword
import re
from typing import AnyStr

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pretense_dev.mutation import ESCAPE_PREFIX, KERNEL, IdentifierMap, _reference, synthesize
from pretense_dev.mutation.synth import HINTS, LOOKALIKE, PROBES, SCHEMES, shape_of
from pretense_dev.mutation.table import TokenTable

KEY = bytes(range(32))
TOKEN = re.compile(r"[A-Za-z0-9_]+")

identifier = st.from_regex(r"\A_{0,2}[A-Za-z][A-Za-z0-9_]{0,14}\Z")
kinds = st.sampled_from(sorted(HINTS))


@st.composite
def maps(draw: st.DrawFn) -> IdentifierMap:
    """A map as the indexer builds it: synthetics issued collision-free."""
    names = draw(st.lists(identifier, min_size=0, max_size=25, unique=True))
    taken: set[str] = set(names)
    forward: dict[str, str] = {}
    scheme = draw(st.sampled_from(SCHEMES))
    for n in names:
        if n.startswith(ESCAPE_PREFIX):
            continue
        s = synthesize(KEY, n, draw(kinds), taken, scheme)
        taken.add(s)
        forward[n] = s
    # Some issued names are no longer active: their synthetics still come back.
    inactive = draw(st.lists(st.sampled_from(sorted(forward)), unique=True)) if forward else []
    issued = {forward[n]: n for n in forward}
    for n in inactive:
        del forward[n]
    return IdentifierMap(forward, issued)


@st.composite
def texts_for(draw: st.DrawFn, m: IdentifierMap) -> str:
    """Text mixing real names, synthetics, escapes, look-alikes, Unicode and JSON escapes."""
    vocab = (
        sorted(m.forward)
        + sorted(m.issued)
        + [
            ESCAPE_PREFIX,
            ESCAPE_PREFIX + "x",
            ESCAPE_PREFIX + ESCAPE_PREFIX,
            "fn_0000aa",
            "Cls_abcdef",
            "CONST_ZZZZZZ",
            "é",
            "’",
            "\\n",
            "\\u00e9",
            "\\\\",
            "\\",
            "🙂",
        ]
    )
    vocab += [ESCAPE_PREFIX + s for s in m.issued]
    pieces = st.one_of(
        st.sampled_from(vocab),
        st.text(max_size=6),
        st.sampled_from([" ", ".", "/", "_", "(", "\n", "-", '"', "'"]),
    )
    return "".join(draw(st.lists(pieces, max_size=40)))


@given(st.data())
def test_round_trip_any_text(data: st.DataObject) -> None:
    m = data.draw(maps())
    x = data.draw(texts_for(m))
    assert m.unmutate(m.mutate(x)) == x
    b = x.encode("utf-8", "surrogatepass")
    assert m.unmutate(m.mutate(b)) == b


@given(st.data())
def test_round_trip_arbitrary_unicode(data: st.DataObject) -> None:
    m = data.draw(maps())
    x = data.draw(st.text())
    assert m.unmutate(m.mutate(x)) == x


@given(st.data())
def test_no_protected_name_survives_mutation(data: st.DataObject) -> None:
    m = data.draw(maps())
    x = data.draw(texts_for(m))
    out_tokens = set(TOKEN.findall(m.mutate(x)))
    assert not out_tokens & set(m.forward)


@given(st.data())
def test_kernel_matches_reference(data: st.DataObject) -> None:
    m = data.draw(maps())
    x = data.draw(texts_for(m))
    json = data.draw(st.booleans())
    final = data.draw(st.booleans())
    strip = data.draw(st.booleans())
    table = dict(m.issued) if strip else dict(m.forward)
    t = TokenTable(table, ESCAPE_PREFIX, strip)
    assert t.sub(x, json=json, final=final) == _reference.sub(
        x, table, ESCAPE_PREFIX, strip, json, final
    )
    b = x.encode("utf-8", "surrogatepass")
    assert t.sub(b, json=json, final=final) == _reference.sub(
        b, table, ESCAPE_PREFIX, strip, json, final
    )


def test_kernel_is_built() -> None:
    # The wheel is expected to ship the C kernel; the Python fallback is a safety net.
    assert KERNEL == "c"


def test_lone_surrogates_fall_back_to_reference() -> None:
    m = IdentifierMap({"ledgerTotal": "var_abc123"})
    x = "ledgerTotal \ud800 ledgerTotal"
    assert m.mutate(x) == "var_abc123 \ud800 var_abc123"
    assert m.unmutate(m.mutate(x)) == x


@st.composite
def splits(draw: st.DrawFn, n: int) -> list[int]:
    cuts = draw(st.lists(st.integers(0, n), max_size=12))
    return sorted(set(cuts))


def _chunks(x: AnyStr, cuts: list[int]) -> list[AnyStr]:
    bounds = [0, *cuts, len(x)]
    return [x[a:b] for a, b in itertools.pairwise(bounds)]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_stream_equals_whole_for_any_split(data: st.DataObject) -> None:
    m = data.draw(maps())
    x = m.mutate(data.draw(texts_for(m)))
    json = data.draw(st.booleans())
    cuts = data.draw(splits(len(x)))
    su = m.stream_unmutator(json=json)
    got = "".join(su.feed(c) for c in _chunks(x, cuts)) + su.flush()
    assert got == m.unmutate(x, json=json)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_stream_bytes_cut_inside_utf8(data: st.DataObject) -> None:
    m = data.draw(maps())
    x = m.mutate(data.draw(texts_for(m))).encode("utf-8", "surrogatepass")
    cuts = data.draw(splits(len(x)))
    su = m.stream_unmutator_bytes(json=True)
    got = b"".join(su.feed(c) for c in _chunks(x, cuts)) + su.flush()
    assert got == m.unmutate(x, json=True)


def test_stream_every_offset_of_a_synthetic() -> None:
    m = IdentifierMap({"refundTotalCents": "var_q7k2md", "LedgerReconciler": "Cls_8xk2p0"})
    whole = 'new Cls_8xk2p0(var_q7k2md); // "var_q7k2md\\nCls_8xk2p0" é'
    expect = 'new LedgerReconciler(refundTotalCents); // "refundTotalCents\\nLedgerReconciler" é'
    for json in (False, True):
        if not json:
            # Plain text: "\n" + token reads as one token "nCls_…", not a synthetic.
            continue
        for i in range(len(whole) + 1):
            su = m.stream_unmutator(json=json)
            assert su.feed(whole[:i]) + su.feed(whole[i:]) + su.flush() == expect
        raw = whole.encode()
        for i in range(len(raw) + 1):
            sb = m.stream_unmutator_bytes(json=json)
            assert sb.feed(raw[:i]) + sb.feed(raw[i:]) + sb.flush() == expect.encode()


@given(st.data())
def test_stream_holds_back_at_most_one_partial_token(data: st.DataObject) -> None:
    m = data.draw(maps())
    x = m.mutate(data.draw(texts_for(m)))
    su = m.stream_unmutator(json=True)
    emitted = ""
    for c in _chunks(x, data.draw(splits(len(x)))):
        emitted += su.feed(c)
        held = su.pending  # the only state: what was not emitted yet
        assert " " not in held and "\n" not in held
        # What is held is a suffix of the input: one token or one escape.
        assert re.fullmatch(r"[A-Za-z0-9_]*|\\(u[0-9A-Fa-f]{0,3})?", held), held


def test_json_escapes_separate_tokens() -> None:
    m = IdentifierMap({"ledgerTotal": "var_abc123"})
    assert m.unmutate('"var_abc123\\nvar_abc123\\u00e9var_abc123"', json=True) == (
        '"ledgerTotal\\nledgerTotal\\u00e9ledgerTotal"'
    )
    # Without json=True the same text reads "nvar_abc123" as one token.
    assert m.unmutate("\\nvar_abc123") == "\\nvar_abc123"


def test_escape_of_synthetic_looking_input() -> None:
    m = IdentifierMap({"ledgerTotal": "var_abc123"})
    x = "ledgerTotal var_abc123 pretense_esc_var_abc123 pretense_esc_"
    y = m.mutate(x)
    assert y == (
        "var_abc123 pretense_esc_var_abc123 pretense_esc_pretense_esc_var_abc123 "
        "pretense_esc_pretense_esc_"
    )
    assert m.unmutate(y) == x


# -- synthetic names ---------------------------------------------------------

ALL_KEYWORDS = (
    set(keyword.kwlist)
    | set(keyword.softkwlist)
    | {
        # JS/TS, Go, Java, C#, Ruby, Rust keywords that look like our hints or codes.
        "fn",
        "let",
        "var",
        "const",
        "type",
        "mod",
        "impl",
        "func",
        "class",
        "def",
        "end",
    }
)


@given(identifier, kinds, st.sampled_from(SCHEMES))
@example("MAX_RETRIES", "variable", 2)
@example("__private_helper", "function", 2)
@example("InvoiceCard", "function", 2)
@example("X1", "constant", 2)
@example("MAX_RETRIES", "variable", 1)
def test_synthetic_shape_and_validity(name: str, kind: str, scheme: int) -> None:
    s = synthesize(KEY, name, kind, (), scheme)
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", s)
    assert s not in ALL_KEYWORDS
    assert LOOKALIKE.fullmatch(s)
    lead, shape = shape_of(name)
    assert shape_of(s) == (lead, shape)
    assert s != name
    assert s == synthesize(KEY, name, kind, (), scheme)  # deterministic
    # Keyed: another key gives another synthetic (scheme 2's first 3 digits may meet by
    # chance, 1 in 1000, so compare the 30-digit candidate there).
    long_taken = AllShort() if scheme == 2 else ()
    assert synthesize(KEY, name, kind, long_taken, scheme) != synthesize(
        bytes(32), name, kind, long_taken, scheme
    )


class AllShort:
    """Takes every candidate shorter than 30 digits, so scheme 2 gives its 30-digit one."""

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and sum(c.isdigit() for c in token) < 30


@pytest.mark.parametrize(("scheme", "short"), [(1, len("var_") + 6), (2, len("var") + 3)])
def test_collisions_lengthen_and_never_share(scheme: int, short: int) -> None:
    names = [f"name_{i}" for i in range(60_000)]
    taken: set[str] = set()
    out = {}
    for n in names:
        s = synthesize(KEY, n, "variable", taken, scheme)
        taken.add(s)
        out[n] = s
    assert len(set(out.values())) == len(names)
    # Some of 60,000 names must have collided and been lengthened.
    assert any(len(s) > short for s in out.values())
    assert any(len(s) == short for s in out.values())


@pytest.mark.parametrize("scheme", SCHEMES)
def test_taken_tokens_are_avoided(scheme: int) -> None:
    first = synthesize(KEY, "ledgerTotal", "variable", (), scheme)
    second = synthesize(KEY, "ledgerTotal", "variable", {first}, scheme)
    assert second != first
    if scheme == 1:  # lengthened
        assert second.startswith(first)
    else:  # another keyed 3-digit value first; 6 digits once all of them are taken
        assert len(second) == len(first)
        taken = {synthesize(KEY, "ledgerTotal", "variable", (), 2)}
        for _ in range(PROBES - 1):
            taken.add(synthesize(KEY, "ledgerTotal", "variable", taken, 2))
        assert len(taken) == PROBES and all(len(t) == len("var000") for t in taken)
        assert re.fullmatch(r"var\d{6}", synthesize(KEY, "ledgerTotal", "variable", taken, 2))


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown synthetic scheme 3"):
        synthesize(KEY, "ledgerTotal", "variable", (), 3)


@pytest.mark.parametrize(
    ("name", "scheme", "expected"),
    [
        ("refundTotalCents", 1, r"var_[0-9a-z]{6}"),
        ("LedgerReconciler", 1, r"Cls_[0-9a-z]{6}"),
        ("MAX_RETRIES", 1, r"CONST_[0-9A-Z]{6}"),
        ("_private", 1, r"_var_[0-9a-z]{6}"),
        ("__mangled", 1, r"__var_[0-9a-z]{6}"),
        ("refundTotalCents", 2, r"var[0-9]{3}"),
        ("LedgerReconciler", 2, r"Cls[0-9]{3}"),
        ("MAX_RETRIES", 2, r"CONST[0-9]{3}"),
        ("_private", 2, r"_var[0-9]{3}"),
        ("__mangled", 2, r"__var[0-9]{3}"),
        ("reconcile", 2, r"mt[0-9]{3}"),
    ],
)
def test_synthetic_examples(name: str, scheme: int, expected: str) -> None:
    kind = {"LedgerReconciler": "class", "MAX_RETRIES": "constant", "reconcile": "method"}.get(
        name, "variable"
    )
    assert re.fullmatch(expected, synthesize(KEY, name, kind, (), scheme))


def test_grow_keeps_existing_entries() -> None:
    a = IdentifierMap({"ledgerTotal": "var_abc123"})
    b = a.grow({"ledgerTotal": "var_zzzzzz", "customerTier": "var_def456"})
    assert b.synthetic("ledgerTotal") == "var_abc123"
    assert b.synthetic("customerTier") == "var_def456"
    assert a.synthetic("customerTier") is None


def test_whole_token_only() -> None:
    m = IdentifierMap({"ledger": "mod_abc123"})
    assert m.mutate("ledger ledgers subledger ledger_x ledger.py a/ledger/b") == (
        "mod_abc123 ledgers subledger ledger_x mod_abc123.py a/mod_abc123/b"
    )


@given(
    st.lists(
        st.one_of(
            identifier,
            st.sampled_from(
                [
                    "fn_abcdef",
                    "__Cls_q7k2md",
                    "CONST_ABCDEFG",
                    "fn_abc",
                    "fn_abcdef_x",
                    "zfn_abcdef",
                    "é",
                    " ",
                    "-",
                    "NM_123456",
                    "fn482",
                    "_Cls071",
                    "CONST305123",
                    "var12",
                    "fn482x",
                    "xfn482",
                    "mt_482",
                ]
            ),
        ),
        max_size=30,
    )
)
def test_kernel_lookalikes_match_the_regex(parts: list[str]) -> None:
    from pretense_dev.mutation.synth import find_lookalikes

    text = " ".join(parts)
    assert find_lookalikes(text) == {m.group() for m in LOOKALIKE.finditer(text)}
    assert find_lookalikes(text.encode()) == {m.group() for m in LOOKALIKE.finditer(text)}


def test_stream_chunk_with_a_lone_surrogate_after_a_held_token() -> None:
    """A str chunk that cannot be UTF-8 takes the reference path, with what was held."""
    m = IdentifierMap({"refundTotalCents": "var_q7k2md"})
    for json in (False, True):
        su = m.stream_unmutator(json=json)
        first = su.feed("pay var_q7")
        assert first == "pay "
        assert su.pending == "var_q7"
        rest = su.feed("k2md \ud800 var_q7k2md") + su.flush()
        assert first + rest == "pay refundTotalCents \ud800 refundTotalCents"
        assert su.pending == ""


def test_stream_refuses_the_other_text_type() -> None:
    m = IdentifierMap({"refundTotalCents": "var_q7k2md"})
    with pytest.raises(TypeError):
        m.stream_unmutator().feed(b"var_q7k2md")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        m.stream_unmutator_bytes().feed("var_q7k2md")  # type: ignore[arg-type]


def _escaped(text: str, how: int) -> bytes:
    """`text` as the inside of a JSON string literal, written one of three ways."""
    if how == 2:  # every character as an escape, letters included
        lit = "".join(
            f"\\u{u:04x}"
            for c in text
            for u in (
                [ord(c)]
                if ord(c) < 0x10000
                else [0xD800 + ((ord(c) - 0x10000) >> 10), 0xDC00 + ((ord(c) - 0x10000) & 0x3FF)]
            )
        )
        return lit.encode()
    # 0: ASCII with \uXXXX escapes (pairs beyond the BMP); 1: UTF-8 as it stands
    return jsonlib.dumps(text, ensure_ascii=how == 0).encode("utf-8", "surrogatepass")[1:-1]


def _lone_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_feed_string_equals_feed_of_the_decoded_text(data: st.DataObject) -> None:
    # A streamed text delta un-mutated where it stands in its JSON (escapes as sent)
    # says what un-mutating the decoded text says, for any split, with the same text
    # held back in between; it declines only an escaped name character or a lone
    # surrogate, and the caller then decodes (the same un-mutator goes on).
    m = data.draw(maps())
    x = m.mutate(data.draw(texts_for(m)))
    fast, slow = m.stream_unmutator(), m.stream_unmutator()
    for piece in _chunks(x, data.draw(splits(len(x)))):
        how = data.draw(st.integers(0, 2))
        content = _escaped(piece, how)
        raw = b'{"text":"' + content + b'"}'
        got = fast.feed_string(raw, 9, 9 + len(content))
        want = slow.feed(piece)
        declined = _lone_surrogate(piece) or (how == 2 and TOKEN.search(piece) is not None)
        assert (got is None) == declined
        if got is None:
            text = fast.feed(piece)
        elif got is raw:
            text = piece
        elif got == b"":
            assert piece
            text = ""
        else:
            assert got.startswith(b'{"text":"') and got.endswith(b'"}')
            text = jsonlib.loads(got)["text"]
        assert text == want
        assert fast.pending == slow.pending
    assert fast.flush() == slow.flush()


def test_feed_string_keeps_the_escapes_as_sent() -> None:
    m = IdentifierMap({"refundTotalCents": "var_q7k2md", "LedgerReconciler": "Cls_8xk2p0"})
    su = m.stream_unmutator()
    raw = b'data: {"text":"var_q7k2md \\"caf\\u00e9\\"\\nCls_8xk2p0 caf\xc3\xa9 var_q7"}\n\n'
    start, end = raw.index(b'"text":"') + 8, raw.rindex(b'"}')
    assert su.feed_string(raw, start, end) == (
        b'data: {"text":"refundTotalCents \\"caf\\u00e9\\"\\nLedgerReconciler caf\xc3\xa9 "}\n\n'
    )
    assert su.pending == "var_q7"
    raw = b'{"text":"k2md."}'
    assert su.feed_string(raw, 9, 14) == b'{"text":"refundTotalCents."}'
    assert su.feed_string(raw, 9, 9) is raw  # nothing: the event as it came
    assert su.feed_string(b'{"text":"var_q"}', 9, 14) == b""  # all held back
    assert su.feed_string(b'{"text":"7k2md"}', 9, 14) == b""
    assert su.flush() == "refundTotalCents"


@given(st.binary(max_size=16))
@example(b'ab"cd')
@example(b"\\ud800")
@example(b"\\ud800\\u0041")
@example(b"\\udc00\\ud800")
@example(b"\\u004")
@example(b"\\x41")
@example(b"tab\there")
@example(b"\xed\xa0\x80")
@example(b"\xc0\x80")
@example(b"\xf4\x90\x80\x80")
@example(b"end\\")
def test_feed_string_declines_what_is_not_a_json_string(content: bytes) -> None:
    # Content that is no JSON string (a raw quote or control byte, a bad escape, bad
    # UTF-8, a lone surrogate) is declined and leaves the state as it was: the
    # caller's JSON parse then decides, as for any other event.
    try:
        valid = isinstance(orjson.loads(b'"' + content + b'"'), str)
    except orjson.JSONDecodeError:
        valid = False
    m = IdentifierMap({"refundTotalCents": "var_q7k2md"})
    su = m.stream_unmutator()
    assert su.feed("x var_q7") == "x "
    raw = b'"' + content + b'"'
    got = su.feed_string(raw, 1, len(raw) - 1)
    if not valid:
        assert got is None
        assert su.pending == "var_q7"
        return
    decoded = orjson.loads(raw)
    if got is None:  # an escaped name character: the caller decodes
        text = su.feed(decoded)
    elif got is raw:
        text = decoded
    else:
        text = orjson.loads(got) if got else ""
    assert text + su.flush() == m.unmutate("var_q7" + decoded)
