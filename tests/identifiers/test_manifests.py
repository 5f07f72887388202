"""The repository's own package names, read from its manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from pretense_dev.identifiers.extract import extract_definitions, raw_definitions
from pretense_dev.identifiers.languages import MANIFESTS, language_for_path
from pretense_dev.index.indexer import index_file


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("Cargo.toml", "cargo"),
        ("crates/ledger/Cargo.toml", "cargo"),
        ("go.mod", "gomod"),
        ("web/package.json", "npm"),
        ("pyproject.toml", "pyproject"),
        ("Cargo.lock", None),
        ("tsconfig.json", None),
    ],
)
def test_manifests_are_recognised_by_file_name(path: str, language: str | None) -> None:
    assert language_for_path(path) == language


CARGO = b"""\
[package]
name = "acmepay-settlement"
version = "0.3.0"

[lib]
name = "payout_engine"

[[bin]]
name = "settlectl"

[dependencies]
serde = "1"
"""


@pytest.mark.parametrize(
    ("language", "source", "names"),
    [
        # Each part, and the underscore form Rust code uses (`use acmepay_settlement::`);
        # `settlement` and `refund` are domain words, not generic in code.
        (
            "cargo",
            CARGO,
            {"acmepay", "settlement", "acmepay_settlement", "payout_engine", "settlectl"},
        ),
        # The last path parts, without the host and the major-version suffix.
        ("gomod", b"module github.com/acmepay/ledgerd/v2\n\ngo 1.22\n", {"acmepay", "ledgerd"}),
        ("gomod", b"module ledgerd\n", {"ledgerd"}),
        (
            "npm",
            b'{"name": "@acmepay/refund-widgets"}',
            {"acmepay", "refund", "widgets", "refund_widgets"},
        ),
        (
            "pyproject",
            b'[project]\nname = "acmepay-dunning"',
            {"acmepay", "dunning", "acmepay_dunning"},
        ),
    ],
)
def test_manifest_names(language: str, source: bytes, names: set[str]) -> None:
    found = {d.name for d in extract_definitions(source, language)}
    assert found == names
    assert all(d.kind == "module" for d in extract_definitions(source, language))


def test_dependencies_are_not_the_repositorys_names() -> None:
    found = {n for n, _, _ in raw_definitions(CARGO, "cargo")}
    assert "serde" not in found


def test_manifest_line_points_at_the_name() -> None:
    defs = {d.name: d.line for d in extract_definitions(CARGO, "cargo")}
    assert defs["acmepay"] == 2


@pytest.mark.parametrize("language", sorted(MANIFESTS))
def test_broken_manifest_defines_nothing(language: str) -> None:
    assert extract_definitions(b"[package\nname = ", language) == []
    assert extract_definitions(b"\xff\xfe not text", language) == []


def test_indexer_reads_a_manifest(tmp_path: Path) -> None:
    (tmp_path / "settlement_engine").mkdir()
    manifest = tmp_path / "settlement_engine" / "Cargo.toml"
    manifest.write_bytes(CARGO)
    rec = index_file(str(tmp_path), "settlement_engine/Cargo.toml", len(CARGO), 0, True)
    assert rec is not None and rec.language == "cargo"
    assert {n for n, _, _ in rec.definitions} == {
        "acmepay",
        "acmepay_settlement",
        "payout_engine",
        "settlectl",
        "settlement",
        "settlement_engine",
    }
