"""The gate's wire format: its HMAC is the standard one, its fields come back as they went."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pretense_dev import paths
from pretense_dev.integrations.toolhook import wire


@given(st.binary(max_size=200), st.binary(max_size=40), st.lists(st.binary(max_size=300)))
def test_mac_is_hmac_sha256(key: bytes, label: bytes, parts: list[bytes]) -> None:
    expected = hmac.new(key, label + b"".join(parts), hashlib.sha256).digest()
    assert wire.mac(key, label, *parts) == expected


def test_request_and_answer_macs_differ_for_the_same_bytes() -> None:
    key = bytes(range(32))
    assert wire.request_mac(key, b"x") != wire.answer_proof(key, b"", b"x")


@given(st.lists(st.binary(max_size=100), max_size=6), st.binary(max_size=100))
def test_pack_unpack_round_trip(fields: list[bytes], rest: bytes) -> None:
    assert wire.unpack(wire.pack(fields) + rest, len(fields)) == (fields, rest)


@pytest.mark.parametrize("data", [b"", b"3:ab,", b"2:ab;", b"x:ab,", b"99999999999999:a,"])
def test_malformed_fields_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError):
        wire.unpack(data, 1)


def test_the_state_dir_is_the_one_platformdirs_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Path(wire.state_dir()) == paths.user_state_dir()
    monkeypatch.setenv("XDG_STATE_HOME", " ")  # blank: unset, as platformdirs reads it
    assert Path(wire.state_dir()) == paths.user_state_dir()
    monkeypatch.delenv("XDG_STATE_HOME")
    assert Path(wire.state_dir()) == paths.user_state_dir()


def test_gate_file_round_trip_and_refusals() -> None:
    key = bytes(range(32))
    assert wire.decode_file(wire.encode_file(42, "127.0.0.1", 9339, key)) == (
        42,
        "127.0.0.1",
        9339,
        key,
    )
    for text in ("", "2 1 h 1 " + key.hex(), "1 1 h 1 abcd", "1 x h 1 " + key.hex()):
        with pytest.raises(ValueError):
            wire.decode_file(text)
