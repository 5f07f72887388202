"""The language server's parts alone: options, debouncing, positions, edits, policy writes."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.protocol import default_converter
from pygls.workspace.position_codec import PositionCodec

from pretense_dev.config import DEFAULT_CONFIG_TEXT, load_config
from pretense_dev.config_edit import add_to_list
from pretense_dev.errors import ConfigError
from pretense_dev.index.retry import retry_on_conflict
from pretense_dev.lsp.actions import allow_edit
from pretense_dev.lsp.debounce import KeyedDebouncer
from pretense_dev.lsp.diagnostics import to_diagnostics
from pretense_dev.lsp.lean import ENCODINGS, diagnostics_json
from pretense_dev.lsp.names import buffer_language
from pretense_dev.lsp.options import InitOptions, parse_options

# -- options -------------------------------------------------------------------------


def test_options_default_when_absent() -> None:
    assert parse_options(None) == (InitOptions(), [])
    assert parse_options({}) == (InitOptions(), [])


def test_options_valid_values_and_nesting() -> None:
    raw = {"debounceMs": 0, "severity": "warning", "hover": False, "statusPollSeconds": 3600}
    opts, problems = parse_options({"pretense": raw})
    assert problems == []
    assert opts == InitOptions(
        debounce_ms=0, severity="warning", hover=False, status_poll_seconds=3600
    )


def test_options_each_problem_reported_and_defaulted() -> None:
    opts, problems = parse_options(
        {
            "debounceMs": -1,
            "severity": "information",
            "hover": "yes",
            "statusPollSeconds": True,
            "x": 1,
        }
    )
    assert opts == InitOptions()
    assert problems == [
        "option 'debounceMs': must be between 0 and 5000, got -1; using the default (150)",
        "option 'severity': must be one of 'error', 'warning', got 'information'; "
        "using the default ('error')",
        "option 'hover': must be true or false, got 'yes'; using the default (true)",
        "option 'statusPollSeconds': must be an integer, got true; using the default (30)",
        "unknown option 'x' ignored (known: codeActions, debounceMs, hover, severity, "
        "statusMessages, statusPollSeconds)",
    ]


def test_options_not_an_object() -> None:
    assert parse_options([1]) == (
        InitOptions(),
        ["initializationOptions must be an object, got a list; using defaults"],
    )


# -- debouncing ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_debouncer_runs_at_once_then_collapses_a_burst() -> None:
    seen: list[int] = []
    state = {"text": 0}
    gate = asyncio.Event()
    started = asyncio.Event()

    async def job(key: str) -> None:
        seen.append(state["text"])
        started.set()
        await gate.wait()

    d = KeyedDebouncer(0, job)
    d.request("a")
    await asyncio.wait_for(started.wait(), 5)
    assert seen == [0]  # leading edge: no delay
    for i in range(1, 50):  # a burst while the first run is in flight
        state["text"] = i
        d.request("a")
    gate.set()
    assert await d.wait_idle("a", 5)
    assert seen == [0, 49]  # one more run, and it saw the latest text


@pytest.mark.asyncio
async def test_debouncer_keys_are_independent_and_forget_cancels() -> None:
    runs: list[str] = []
    block = asyncio.Event()

    async def job(key: str) -> None:
        runs.append(key)
        if key == "slow":
            await block.wait()

    d = KeyedDebouncer(0, job)
    d.request("slow")
    d.request("fast")
    assert await d.wait_idle("fast", 5)
    assert sorted(runs) == ["fast", "slow"]
    assert not await d.wait_idle("slow", 0.01)
    d.forget("slow")
    assert await d.wait_idle("slow", 1)
    d.close()


@pytest.mark.asyncio
async def test_debouncer_survives_a_failing_run() -> None:
    calls = 0

    async def job(key: str) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("boom")

    d = KeyedDebouncer(0, job)
    d.request("k")
    assert await d.wait_idle("k", 5)
    d.request("k")
    assert await d.wait_idle("k", 5)
    assert calls == 2


# -- positions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class F:
    rule: str
    line: int
    end_line: int
    fingerprint: str = "f" * 64


def test_diagnostic_columns_in_utf16_and_utf8() -> None:
    lines = ["x = 1\n", '    s = "😀é" + TOKEN\n']
    (d,) = to_diagnostics([F("r", 2, 2)], lines, PositionCodec(), "error")
    assert d.range.start == types.Position(line=1, character=4)
    assert d.range.end == types.Position(line=1, character=len(lines[1].rstrip("\n")) + 1)
    (d8,) = to_diagnostics(
        [F("r", 2, 2)], lines, PositionCodec(types.PositionEncodingKind.Utf8), "error"
    )
    assert d8.range.end.character == len(lines[1].rstrip("\n").encode())


def test_diagnostic_multiline_and_message() -> None:
    lines = ["a\n", "-----BEGIN\n", "body\n", "-----END\n"]
    (d,) = to_diagnostics([F("private-key", 2, 4)], lines, PositionCodec(), "warning")
    assert (d.range.start.line, d.range.end.line, d.range.end.character) == (1, 3, 8)
    assert d.severity == types.DiagnosticSeverity.Warning
    assert d.code == "private-key" and d.source == "pretense-dev"
    assert d.data == {"fingerprint": "f" * 64, "line": 2, "endLine": 4}
    assert "private-key" in d.message and "pretense: allow" in d.message


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(st.text(max_size=30).map(lambda s: s.replace("\n", "") + "\n"), max_size=8),
    spans=st.lists(st.tuples(st.integers(-2, 12), st.integers(0, 4)), max_size=5),
)
def test_diagnostic_ranges_always_inside_the_document(
    lines: list[str], spans: list[tuple[int, int]]
) -> None:
    codec = PositionCodec()
    findings = [F("r", first, first + extra) for first, extra in spans]
    for d in to_diagnostics(findings, lines, codec, "error"):
        s, e = d.range.start, d.range.end
        assert 0 <= s.line <= e.line <= max(len(lines) - 1, 0)
        text = lines[e.line].rstrip("\r\n") if lines else ""
        assert 0 <= e.character <= codec.client_num_units(text)
        assert (s.line, s.character) <= (e.line, e.character)


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(
        st.text(st.characters(codec="utf-8"), max_size=30).map(
            lambda s: s.replace("\n", "").replace("\r", "") + "\n"
        ),
        max_size=8,
    ),
    spans=st.lists(st.tuples(st.integers(-2, 12), st.integers(0, 4)), max_size=5),
    encoding=st.sampled_from(ENCODINGS),
    severity=st.sampled_from(["error", "warning"]),
)
def test_start_up_loop_diagnostics_are_what_pygls_sends(
    lines: list[str], spans: list[tuple[int, int]], encoding: str, severity: str
) -> None:
    """The start-up loop publishes the JSON pygls would send for the same findings."""
    findings = [F(f"r{first}", first, first + extra) for first, extra in spans]
    ours = to_diagnostics(findings, lines, PositionCodec(encoding), severity)
    conv = default_converter()  # type: ignore[no-untyped-call]
    assert diagnostics_json(findings, lines, encoding, severity) == conv.unstructure(ours)


# -- the allow edit -----------------------------------------------------------------------------


def test_allow_edit_per_language() -> None:
    codec = PositionCodec()
    lines = ['KEY = "é-value"\n', "next\n"]
    e = allow_edit(lines, "python", 1, 1, codec)
    assert e is not None and e.new_text == "  # pretense: allow"
    assert e.range.start == e.range.end == types.Position(line=0, character=15)
    e = allow_edit(lines, "typescript", 1, 1, codec)
    assert e is not None and e.new_text == "  // pretense: allow"
    e = allow_edit(lines, "markdown", 1, 1, codec)
    assert e is not None and e.new_text == "  <!-- pretense: allow -->"
    assert allow_edit(lines, "json", 1, 1, codec) is None
    assert allow_edit(lines, "plaintext", 1, 1, codec) is None


def test_allow_edit_before_a_multiline_finding_keeps_indentation() -> None:
    lines = ["def f():\n", '    key = """\n', "    -----BEGIN\r\n", '    """\n']
    e = allow_edit(lines, "python", 2, 4, PositionCodec())
    assert e is not None
    assert e.range.start == e.range.end == types.Position(line=1, character=0)
    assert e.new_text == "    # pretense: allow\n"


# -- policy edits --------------------------------------------------------------------------------


def test_add_to_list_keeps_comments_and_validates(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(DEFAULT_CONFIG_TEXT.replace("never = []", "never = []  # team decision"))
    r = add_to_list(cfg, "identifiers", "never", "LegacyThing")
    assert r.changed and r.config.identifiers.never == ("LegacyThing",)
    text = cfg.read_text()
    assert "# team decision" in text and "# Never protect these names" in text
    assert load_config(cfg).identifiers.never == ("LegacyThing",)
    assert not add_to_list(cfg, "identifiers", "never", "LegacyThing").changed  # idempotent
    assert cfg.read_text() == text
    add_to_list(cfg, "identifiers", "always", "billing.acme-internal.net")
    assert load_config(cfg).identifiers.always == ("billing.acme-internal.net",)


def test_add_to_list_refuses_invalid_results_and_broken_files(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(DEFAULT_CONFIG_TEXT)
    with pytest.raises(ConfigError, match=r"identifiers\.never: 'a-b' is not an identifier"):
        add_to_list(cfg, "identifiers", "never", "a-b")
    assert cfg.read_text() == DEFAULT_CONFIG_TEXT
    cfg.write_text(DEFAULT_CONFIG_TEXT.replace("version = 1\n", "version = 1\nbogus = 1\n"))
    before = cfg.read_bytes()
    with pytest.raises(ConfigError, match=r"config\.toml:\d+: unknown key 'bogus'"):
        add_to_list(cfg, "identifiers", "never", "Fine")
    assert cfg.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]  # no temp file left


def test_add_to_list_creates_a_missing_policy(tmp_path: Path) -> None:
    cfg = tmp_path / ".pretense" / "config.toml"
    add_to_list(cfg, "identifiers", "always", "Initech")
    assert load_config(cfg).identifiers.always == ("Initech",)
    assert "# pretense-dev team policy" in cfg.read_text()


# -- small pieces ---------------------------------------------------------------------------------


def test_buffer_language() -> None:
    assert buffer_language("src/a.tsx", None, "typescriptreact") == "tsx"
    assert buffer_language(None, None, "typescriptreact") == "tsx"
    assert buffer_language(None, Path("/x/Gemfile"), "plaintext") == "ruby"
    assert buffer_language(None, None, "markdown") is None


def test_retry_on_conflict() -> None:
    attempts = 0

    def flaky() -> int:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise sqlite3.IntegrityError("UNIQUE constraint failed")
        return 7

    assert retry_on_conflict(flaky) == 7 and attempts == 3
    with pytest.raises(sqlite3.IntegrityError):
        retry_on_conflict(lambda: (_ for _ in ()).throw(sqlite3.IntegrityError("x")))


def test_cli_help_lists_lsp_and_watch_without_loading_them() -> None:
    code = (
        "import sys, json, contextlib, io\n"
        "from pretense_dev.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    main(['--help'])\n"
        "print(json.dumps([out.getvalue(), sorted(sys.modules)]))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    help_text, loaded = json.loads(p.stdout.strip().splitlines()[-1])
    assert "lsp" in help_text and "watch" in help_text
    heavy = [
        m for m in loaded if m.split(".")[0] in ("pygls", "lsprotocol", "watchdog", "tree_sitter")
    ]
    assert heavy == []
