"""`pretense-dev audit …` wiring: help, errors, and imports kept lean per subcommand."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli

PROBE = """
import contextlib, io, json, sys
from pretense_dev.cli import main
sink = io.TextIOWrapper(io.BytesIO())
with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
heavy = ("textual", "aiohttp", "tree_sitter", "opentelemetry")
print(json.dumps([code, sorted({m.split(".")[0] for m in sys.modules if m.startswith(heavy)})]))
"""


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (["verify"], []),
        (["alerts"], []),
        (["evidence", "--since", "3650d"], []),
        (["incident", "cursor-"], []),  # ambiguous prefix: exit 2, still lean
        (["export", "--format", "jsonl"], []),
        (["export", "--format", "csv"], []),
        (["archive", "--before", "3650d"], []),
        (["export", "--format", "otlp", "--endpoint", "http://127.0.0.1:9", "--timeout", "0.1"],
         ["opentelemetry"]),
    ],
)  # fmt: skip
def test_subcommands_do_not_import_the_tui(
    seeded: Path, args: list[str], allowed: list[str]
) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, "audit", "--db", str(seeded), *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    code, heavy = json.loads(out)
    assert code in (0, 1, 2)  # never 3 (a bug)
    assert heavy == allowed


def test_help_lists_the_subcommands() -> None:
    r = run_cli("audit", "--help")
    assert r.code == 0
    for name in ("verify", "alerts", "evidence", "incident", "export", "archive"):
        assert f"  {name} " in r.out


def test_browser_without_a_log_is_one_line(tmp_path: Path) -> None:
    r = run_cli("audit", "--db", str(tmp_path / "none.db"))
    assert r.code == 1
    assert r.err == (
        f"pretense-dev: no audit log at {tmp_path / 'none.db'} — events are recorded once the "
        "proxy or a hook has run (`pretense-dev init`)\n"
    )


def test_bad_duration_is_a_usage_error(seeded: Path) -> None:
    r = run_cli("audit", "--db", str(seeded), "alerts", "--since", "yesterday")
    assert r.code == 2
    assert "cannot read 'yesterday' as a time" in r.err
