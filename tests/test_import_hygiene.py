"""Hooks, verify and the CLI run on every prompt and commit: keep their imports lean."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("tree_sitter", "aiohttp", "textual", "pygls", "watchdog", "rich")
LEAN_MODULES = [
    "pretense_dev",
    "pretense_dev.cli",
    "pretense_dev.config",
    "pretense_dev.repo",
    "pretense_dev.keys",
    "pretense_dev.audit.events",
    "pretense_dev.identifiers",
    "pretense_dev.mutation",
    "pretense_dev.index.store",
]


def _modules_after_import(module: str) -> list[str]:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout))


@pytest.mark.parametrize("module", LEAN_MODULES)
def test_no_heavy_imports(module: str) -> None:
    loaded = _modules_after_import(module)
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY or m.startswith("tree_sitter"))
    assert heavy == []


def test_cli_help_does_not_load_heavy_modules() -> None:
    code = (
        "import sys, json\n"
        "from pretense_dev.cli import main\n"
        "rc = main(['--version'])\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stderr.strip().splitlines()[-1])
    assert not [m for m in loaded if m.split(".")[0] in HEAVY or m.startswith("tree_sitter")]
