"""Hooks and verify run before every prompt: no aiohttp, textual or tree-sitter on their path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pretense_dev.lifecycle import init_repo
from tests.conftest import git, write

HEAVY = ("tree_sitter", "aiohttp", "textual", "pygls", "watchdog", "rich", "click", "tomlkit")


def heavy(loaded: list[str]) -> list[str]:
    return sorted(m for m in loaded if m.split(".")[0] in HEAVY or m.startswith("tree_sitter"))


@pytest.mark.parametrize(
    "module",
    [
        "pretense_dev.integrations.toolhook.run",
        "pretense_dev.entry",
        "pretense_dev.integrations.verify",
        "pretense_dev.integrations.base",
        "pretense_dev.integrations.claude_code",
        "pretense_dev.integrations.cursor",
        "pretense_dev.integrations.copilot",
        "pretense_dev.integrations.setup",
    ],
)
def test_modules_on_the_hook_path_import_nothing_heavy(module: str) -> None:
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert heavy(json.loads(out.stdout)) == []


def test_a_whole_hook_call_imports_nothing_heavy(git_repo: Path) -> None:
    """Through the console entry (`entry.main`), as the tools run it: not even click."""
    write(git_repo, {"app.py": "def settle_window():\n    pass\n"})
    git(git_repo, "add", "-A")
    init_repo(git_repo, tools=("claude-code",))
    payload = {
        "session_id": "s",
        "cwd": str(git_repo),
        "hook_event_name": "PreToolUse",
        "tool_name": "Read",
        "tool_input": {"file_path": str(git_repo / "app.py")},
    }
    code = (
        "import json, sys\n"
        "sys.argv = ['pretense-dev', 'hook', 'claude-code', 'PreToolUse']\n"
        "from pretense_dev.entry import main\n"
        "rc = main()\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        cwd=git_repo,
    )
    loaded = json.loads(out.stderr.strip().splitlines()[-1])
    assert heavy(loaded) == []
