"""End to end: the real Claude Code CLI, set up only by `pretense-dev init`, through the real proxy.

A tmp repository and a tmp HOME; `claude -p` headless; the proxy in front of a
scripted loopback fake of the Anthropic API (the one part that cannot exist
here).  The fake acts on what it receives — synthetic names — so the test
proves the whole loop: it asks the agent to Read a file, then to Edit it with
``input_json_delta`` fragments cut inside identifiers (and after backslashes),
and answers in prose.  The edit must land on the real file with the real
names, the final answer must show the real names, and no request may carry a
protected name.  With the proxy stopped, the installed hook must refuse the
prompt before anything is sent (`claude -p` still exits 0: we assert on the
text and on what the fake received).

The CLI is looked up in `.tools/claude-code` (CI installs it there, see the
skip reason), then `$PRETENSE_CLAUDE`, then PATH.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pretense_dev.repo import Repo
from tests.conftest import REPO_ROOT, git, run_cli, write
from tests.integrations.fake_anthropic import Block, FakeAnthropic, cut_inside

INSTALL = "npm install --prefix .tools/claude-code @anthropic-ai/claude-code@2.1.331"


def find_claude() -> str | None:
    for candidate in (
        REPO_ROOT / ".tools/claude-code/node_modules/.bin/claude",
        Path(os.environ.get("PRETENSE_CLAUDE", "/nonexistent")),
    ):
        if candidate.exists():
            return str(candidate)
    return shutil.which("claude")


CLAUDE = find_claude()
pytestmark = pytest.mark.skipif(
    CLAUDE is None, reason=f"the Claude Code CLI is not installed: run `{INSTALL}`"
)

LEDGER = (
    "class LedgerReconciler:\n"
    "    def reconcile_invoices(self, batch_total):\n"
    '        """Sum the batch.\\n Keep the "quotes"."""\n'
    "        return batch_total\n"
)
REAL_NAMES = ("LedgerReconciler", "reconcile_invoices", "batch_total")
TASK = "E2E-TASK"


class EditScript:
    """The fake vendor's side of the conversation, written against synthetic names."""

    def __init__(self) -> None:
        self.path = ""
        self.names: dict[str, str] = {}  # role -> synthetic, as the vendor saw them
        self.edit_pieces: list[str] = []

    def __call__(self, req: dict[str, Any]) -> list[Block]:
        # The last user turn (2.1.331 appends a "system" role message after it).
        last = next(m for m in reversed(req["messages"]) if m.get("role") == "user")
        results = _tool_results(last)
        # Latest stage first: Claude Code may send both results in one user turn.
        if "toolu_edit" in results:
            n = self.names
            answer = f"Done: {n['cls']}.{n['meth']} now returns {n['var']} * 2."
            return [Block(cut_inside(answer, list(n.values())))]
        if "toolu_read" in results:
            text = results["toolu_read"]
            self.names = {
                "cls": _group(r"class (\w+)", text),
                "meth": _group(r"def (\w+)\(self", text),
                "var": _group(r"return (\w+)", text),
            }
            n = self.names
            edit = {
                "file_path": self.path,
                "old_string": f"return {n['var']}",
                # Quotes: JSON escapes right against the names (`\"Cls_…`), cut after `\`.
                "new_string": f'return {n["var"]} * 2  # reviewed: "{n["cls"]}.{n["meth"]}"',
            }
            self.edit_pieces = cut_inside(json.dumps(edit), list(n.values()))
            return [Block(self.edit_pieces, tool="Edit", tool_id="toolu_edit")]
        if TASK in _text(last):
            self.path = _group(r"(/\S+\.py)", _text(last))
            raw = json.dumps({"file_path": self.path})
            return [
                Block(
                    cut_inside(raw, [self.path.rsplit("/", 1)[-1]]),
                    tool="Read",
                    tool_id="toolu_read",
                )
            ]
        return [Block(["ok"])]  # side requests (titles, checks): not part of the task


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    out = []
    for block in content or []:
        if block.get("type") == "text":
            out.append(block.get("text", ""))
    return "\n".join(out)


def _tool_results(message: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    content = message.get("content")
    if not isinstance(content, list):
        return out
    for block in content:
        if block.get("type") == "tool_result":
            c = block.get("content")
            if isinstance(c, list):
                c = "\n".join(x.get("text", "") for x in c if isinstance(x, dict))
            out[block.get("tool_use_id", "")] = str(c)
    return out


def _group(pattern: str, text: str) -> str:
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not found in what the vendor received"
    return m.group(1)


def claude_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE"))}
    bin_dir = str(Path(sys.executable).parent)  # our `pretense-dev` console script
    env.update(
        HOME=str(home),
        PATH=f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}",
        ANTHROPIC_API_KEY="sk-ant-test-not-a-key",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_AUTOUPDATER="1",
    )
    return env


def run_claude(repo: Path, home: Path, prompt: str) -> tuple[int, dict[str, Any], str]:
    assert CLAUDE is not None
    p = subprocess.run(
        [CLAUDE, "-p", prompt, "--output-format", "json", "--permission-mode", "acceptEdits"],
        cwd=repo,
        env=claude_env(home),
        capture_output=True,
        text=True,
        timeout=180,
    )
    try:
        result = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        result = {}
    return p.returncode, result, p.stderr


@pytest.fixture
def repo(git_repo: Path) -> Path:
    write(git_repo, {"billing/ledger.py": LEDGER})
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "ledger")
    return git_repo


def start_proxy(upstream: str) -> None:
    r = run_cli("proxy", "start", "--port", "0", "--upstream-anthropic", upstream)
    assert r.code == 0, r.err


def stop_proxy() -> None:
    run_cli("proxy", "stop")


def test_edit_goes_through_the_proxy_and_lands_with_real_names(
    repo: Path, isolated_user: Path
) -> None:
    script = EditScript()
    with FakeAnthropic(script) as upstream:
        start_proxy(upstream.url)
        try:
            r = run_cli("init", "--tools", "claude-code", cwd=repo)
            assert r.code == 0, r.err
            prompt = (
                f"{TASK}: in {repo}/billing/ledger.py make reconcile_invoices double batch_total."
            )
            code, result, err = run_claude(repo, isolated_user, prompt)
        finally:
            stop_proxy()
    assert code == 0, err
    # The edit landed on the real file, with the real names.
    assert (repo / "billing/ledger.py").read_text() == LEDGER.replace(
        "return batch_total",
        'return batch_total * 2  # reviewed: "LedgerReconciler.reconcile_invoices"',
    )
    # The answer shows the real names.
    assert result.get("result") == (
        "Done: LedgerReconciler.reconcile_invoices now returns batch_total * 2."
    ), result
    # The vendor saw synthetic names only: every protected name, in every request.
    with Repo(repo).open_store() as store:
        protected = set(store.load_map().forward)
    assert set(REAL_NAMES) <= protected
    requests = upstream.message_requests()
    assert len(requests) >= 3  # the task, the Read result, the Edit result
    for req in upstream.requests:
        for name in protected:
            assert not re.search(rb"\b" + name.encode() + rb"\b", req.body), (name, req.path)
    assert all(n not in script.names.values() for n in REAL_NAMES)
    # Every synthetic reached Claude Code cut across two input_json_delta fragments.
    assert script.edit_pieces and all(
        syn not in piece for syn in script.names.values() for piece in script.edit_pieces
    )
    assert any(piece.endswith("\\") for piece in script.edit_pieces)  # an escape cut in two
    # The requests reached the vendor through the repo's prefix, key passed through.
    assert all(r.headers.get("x-api-key") == "sk-ant-test-not-a-key" for r in requests)


def test_with_the_proxy_stopped_the_hook_blocks_and_nothing_is_sent(
    repo: Path, isolated_user: Path
) -> None:
    with FakeAnthropic(EditScript()) as upstream:
        start_proxy(upstream.url)
        try:
            assert run_cli("init", "--tools", "claude-code", cwd=repo).code == 0
        finally:
            stop_proxy()
        code, result, err = run_claude(repo, isolated_user, f"{TASK}: hello")
    assert code == 0, err  # a blocked prompt still exits 0 under -p
    assert "pretense proxy is not running: run `pretense-dev proxy start`" in result.get(
        "result", ""
    ), result
    assert upstream.requests == []
