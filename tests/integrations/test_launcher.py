"""Hook commands start wherever the tool is launched: this clone's launcher, failing closed.

Real processes throughout: each committed hook command is run by `/bin/sh` as
the tool runs it, from a directory outside the repository, with the tool's
project-directory variable and a PATH that does not hold the virtualenv (a
tool started from a desktop session); and the real Claude Code CLI with such a
PATH where it is installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pretense_dev.lifecycle import init_repo, uninstall_repo
from tests.conftest import git, run_cli, write
from tests.integrations.conftest import STUB, commit_code, hook_command, running_proxy
from tests.integrations.fake_anthropic import FakeAnthropic
from tests.integrations.test_claude_code_e2e import CLAUDE
from tests.integrations.test_hooks import token

SYSTEM_PATH = "/usr/bin:/bin"
MISSING = (
    "pretense-dev: the hook did not start (no working .pretense/bin/pretense-dev in this "
    "clone): run pretense-dev init"
)
ALL = ("claude-code", "cursor", "copilot")


@pytest.fixture
def repo(git_repo: Path) -> Path:
    return commit_code(git_repo, STUB)


@pytest.fixture
def proxy() -> Iterator[str]:
    with running_proxy("http://127.0.0.1:9") as st:
        yield st.url


def desktop_env(**extra: str) -> dict[str, str]:
    """What a tool started from a desktop session passes on: no virtualenv on PATH."""
    kept = {k: v for k, v in os.environ.items() if k == "HOME" or k.startswith("XDG_")}
    return {**kept, "PATH": SYSTEM_PATH, **extra}


def run_as_tool(repo: Path, tool: str, event: str, payload: dict[str, Any], cwd: Path) -> Any:
    var = {"claude-code": "CLAUDE_PROJECT_DIR", "cursor": "CURSOR_PROJECT_DIR"}.get(tool)
    env = desktop_env(**({var: str(repo)} if var else {}))
    return subprocess.run(
        ["/bin/sh", "-c", hook_command(tool, event)],
        cwd=repo if tool == "copilot" else cwd,  # Copilot's entries set "cwd": "."
        env=env,
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def prompt_payload(repo: Path, tool: str) -> tuple[str, dict[str, Any]]:
    if tool == "claude-code":
        return "UserPromptSubmit", {
            "session_id": "s-1",
            "transcript_path": "/tmp/t.jsonl",
            "cwd": str(repo),
            "hook_event_name": "UserPromptSubmit",
            "prompt": "hello",
        }
    if tool == "cursor":
        return "beforeSubmitPrompt", {
            "conversation_id": "c-1",
            "generation_id": "g-1",
            "hook_event_name": "beforeSubmitPrompt",
            "cursor_version": "2.0.77",
            "workspace_roots": [str(repo)],
            "prompt": f"use {token()}",  # a secret: Cursor's prompts are gated on secrets
        }
    return "preToolUse", {
        "timestamp": 1,
        "cwd": str(repo),
        "toolName": "view",
        "toolArgs": json.dumps({"path": str(repo / "billing/ledger.py")}),
    }


def test_the_venv_is_not_on_the_system_path() -> None:
    """The premise of every test here: the console script is not found without the venv."""
    assert shutil.which("pretense-dev", path=SYSTEM_PATH) is None
    assert str(Path(sys.executable).parent) not in SYSTEM_PATH.split(":")


@pytest.mark.parametrize("tool", ALL)
def test_each_committed_command_runs_the_gate_without_the_venv_on_path(
    repo: Path, tmp_path: Path, tool: str
) -> None:
    init_repo(repo, tools=(tool,))
    launcher = repo / ".pretense/bin/pretense-dev"
    assert launcher.read_text() == (
        "#!/bin/sh\n# pretense-dev hook launcher: written by `pretense-dev init` for this "
        "clone only (git-ignored).\n"
        f"exec {sys.executable} -c 'import sys; from pretense_dev.entry import main; "
        'sys.exit(main())\' "$@"\n'
    )
    assert os.access(launcher, os.X_OK)
    assert git(repo, "check-ignore", ".pretense/bin/pretense-dev").strip()
    event, payload = prompt_payload(repo, tool)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    p = run_as_tool(repo, tool, event, payload, elsewhere)
    # The gate itself answered (no proxy runs, so it refuses, in the tool's own format),
    # not the fail-closed fallback of a command that did not start.
    assert MISSING not in p.stderr
    if tool == "claude-code":
        assert p.returncode == 0, p.stderr
        answer = json.loads(p.stdout)
        assert answer["decision"] == "block"
        assert "pretense proxy is not running" in answer["reason"]
    elif tool == "cursor":
        assert p.returncode == 2, p.stderr
        assert json.loads(p.stdout)["continue"] is False
    else:
        assert p.returncode == 0, p.stderr  # a file without a secret: the read is allowed


@pytest.mark.parametrize("tool", ALL)
def test_a_missing_launcher_blocks_with_one_line(repo: Path, tmp_path: Path, tool: str) -> None:
    """A fresh clone (or a deleted `.pretense/bin`): exit 2, which every tool reads as block."""
    init_repo(repo, tools=(tool,))
    (repo / ".pretense/bin/pretense-dev").unlink()
    event, payload = prompt_payload(repo, tool)
    p = run_as_tool(repo, tool, event, payload, tmp_path)
    assert p.returncode == 2
    assert p.stdout == ""
    assert p.stderr.splitlines()[-1] == MISSING


def test_a_refusal_by_the_gate_passes_through_without_the_fallback_line(
    repo: Path, tmp_path: Path
) -> None:
    init_repo(repo, tools=("cursor",))
    event, payload = prompt_payload(repo, "cursor")
    p = run_as_tool(repo, "cursor", event, payload, tmp_path)
    assert p.returncode == 2 and MISSING not in p.stderr


def hook_start(repo: Path) -> list[dict[str, Any]]:
    data = json.loads(run_cli("verify", "--json", cwd=repo).out)
    return [c for c in data["checks"] if c["name"] == "hook-start"]


def test_verify_fails_and_doctor_rewrites_a_missing_launcher(repo: Path, proxy: str) -> None:
    init_repo(repo, tools=ALL)
    assert [c["ok"] for c in hook_start(repo)] == [True]
    launcher = repo / ".pretense/bin/pretense-dev"
    launcher.unlink()
    r = run_cli("verify", cwd=repo)
    assert r.code == 1 and r.out == ""
    assert r.err.splitlines() == [
        "FAIL claude-code, cursor, copilot: .pretense/bin/pretense-dev is missing, so no hook "
        "command of ours starts: run `pretense-dev init`"
    ]
    d = run_cli("doctor", cwd=repo)
    assert (
        f"warn  hook launcher: .pretense/bin/pretense-dev is missing: rewrote it for "
        f"{sys.executable}"
    ) in d.out.splitlines(), d.out
    assert "hook start" not in d.out
    assert launcher.exists()
    assert run_cli("verify", cwd=repo).code == 0


def test_a_launcher_whose_interpreter_is_gone_fails_verify_and_init_repairs_it(
    repo: Path, proxy: str, tmp_path: Path
) -> None:
    """The virtualenv was rebuilt or moved since `init`."""
    init_repo(repo, tools=("claude-code",))
    launcher = repo / ".pretense/bin/pretense-dev"
    gone = str(tmp_path / "old-venv/bin/python")
    launcher.write_text(launcher.read_text().replace(sys.executable, gone))
    (check,) = hook_start(repo)
    assert check["ok"] is False
    assert check["line"] == (
        f"claude-code: .pretense/bin/pretense-dev runs {gone}, which no longer exists, so no "
        "hook command of ours starts: run `pretense-dev init`"
    )
    event, payload = prompt_payload(repo, "claude-code")
    p = run_as_tool(repo, "claude-code", event, payload, tmp_path)
    assert (p.returncode, p.stderr.splitlines()[-1]) == (2, MISSING)
    init_repo(repo, tools=("claude-code",))
    assert [c["ok"] for c in hook_start(repo)] == [True]


def test_entries_older_than_the_launcher_fail_verify_even_with_the_venv_on_path(
    repo: Path, proxy: str
) -> None:
    """A bare `pretense-dev` works in this shell but not in a tool started elsewhere.

    The probe runs the command with the PATH a desktop-launched tool has, so
    the entry is caught although `pretense-dev` is on this test's PATH; `init`
    replaces the entries, and `uninstall` takes the new ones out byte for byte.
    """
    settings = repo / ".claude/settings.json"
    init_repo(repo, tools=("claude-code",))
    assert shutil.which("pretense-dev") is not None
    text = settings.read_text()
    for event in ("SessionStart", "UserPromptSubmit", "PreToolUse"):
        new = json.dumps(hook_command("claude-code", event))[1:-1]
        text = text.replace(new, f"pretense-dev hook claude-code {event}")
    settings.write_text(text)
    (check,) = hook_start(repo)
    assert check["line"] == (
        "claude-code: the hook command `pretense-dev hook claude-code SessionStart` and 2 more "
        "does not start (command not found): run `pretense-dev init`"
    )
    init_repo(repo, tools=("claude-code",))
    assert 'pretense-dev hook claude-code SessionStart"' not in settings.read_text()
    assert [c["ok"] for c in hook_start(repo)] == [True]


def test_uninstall_deletes_the_launcher_and_restores_settings_byte_for_byte(repo: Path) -> None:
    theirs = '{\n  "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "./x"}]}]}\n}\n'
    write(repo, {".claude/settings.json": theirs})
    init_repo(repo, tools=ALL)
    assert (repo / ".pretense/bin/pretense-dev").exists()
    report = uninstall_repo(repo)
    assert report.problems == []
    assert "deleted .pretense/bin/pretense-dev" in report.removed
    assert not (repo / ".pretense/bin").exists()
    assert (repo / ".claude/settings.json").read_text() == theirs


@pytest.mark.skipif(CLAUDE is None, reason="the Claude Code CLI is not installed")
@pytest.mark.parametrize("launcher_present", [True, False])
def test_real_claude_code_without_the_venv_on_path_gates_the_prompt(
    repo: Path, isolated_user: Path, launcher_present: bool
) -> None:
    """Claude Code started where the virtualenv is not on PATH: the hook runs, or blocks.

    The proxy is stopped, so a hook that ran refuses the prompt with its own
    reason; a missing launcher blocks through the fail-closed tail (exit 2).
    Either way the fake vendor receives nothing.
    """
    assert CLAUDE is not None
    with FakeAnthropic(lambda req: []) as upstream:
        r = run_cli("init", "--tools", "claude-code", cwd=repo)
        assert r.code == 0, r.err
        if not launcher_present:
            (repo / ".pretense/bin/pretense-dev").unlink()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("ANTHROPIC_", "CLAUDE", "VIRTUAL_ENV", "PYTHON"))
        }
        node = Path(shutil.which("node") or "/usr/bin/node").parent
        env.update(
            HOME=str(isolated_user),
            PATH=f"{node}:{SYSTEM_PATH}",  # node for the CLI; no virtualenv
            ANTHROPIC_API_KEY="sk-ant-test-not-a-key",
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
            DISABLE_AUTOUPDATER="1",
        )
        p = subprocess.run(
            [CLAUDE, "-p", "hello", "--output-format", "json"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    result = json.loads(p.stdout.strip().splitlines()[-1])["result"]
    if launcher_present:
        assert "pretense proxy is not running: run `pretense-dev proxy start`" in result, result
    else:
        assert MISSING in result, result
    assert upstream.requests == []
