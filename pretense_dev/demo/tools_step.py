"""The demo's tools step: what `init` writes for each tool, two hook decisions, `uninstall`."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from typing import TYPE_CHECKING

from pretense_dev.integrations.base import TOOLS

if TYPE_CHECKING:
    from pretense_dev.demo.console import DemoContext


def run(ctx: DemoContext) -> bool:
    """Set every tool init knows up on the sample, ask the hooks, take it all out again."""
    from pretense_dev.demo.console import heading, out
    from pretense_dev.lifecycle import init_repo, uninstall_repo
    from pretense_dev.secrets.samples import generate

    heading(f"AI tools: pretense-dev init --tools {','.join(TOOLS)}")
    before = _snapshot(ctx)
    report = init_repo(ctx.repo, workers=1, tools=TOOLS, hooks=False)
    for t in report.tools:
        out(f"{t.tool}: wrote {', '.join(t.plan.touched()) or 'nothing new'}")
        for note in t.plan.notes[:1]:
            out(f"  {note}")

    heading("hooks: a Cursor prompt carrying a secret, a Claude Code prompt")
    token = generate("gh" + "p_{b62:30}{ghcrc}", random.Random())
    cursor = {
        "conversation_id": "demo",
        "hook_event_name": "beforeSubmitPrompt",
        "cursor_version": "2.0.77",
        "workspace_roots": [str(ctx.repo)],
        "prompt": f"deploy with {token} please",
    }
    claude = {
        "session_id": "demo",
        "cwd": str(ctx.repo),
        "hook_event_name": "UserPromptSubmit",
        "prompt": "explain the ledger reconciler",
    }
    ok = True
    for tool, event, payload in (
        ("cursor", "beforeSubmitPrompt", cursor),
        ("claude-code", "UserPromptSubmit", claude),
    ):
        p = subprocess.run(
            [sys.executable, "-m", "pretense_dev", "hook", tool, event],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            cwd=ctx.repo,
        )
        out(f"$ pretense-dev hook {tool} {event}   (exit {p.returncode})")
        out(f"  stdout: {p.stdout.strip() or '(nothing: let through)'}")
        ok = ok and token not in p.stdout + p.stderr
    heading("pretense-dev uninstall")
    gone = uninstall_repo(ctx.repo)
    for line in gone.removed:
        out(f"  {line}")
    same = _snapshot(ctx) == before
    out("every file is back byte for byte" if same else "FILES DIFFER AFTER UNINSTALL")
    return ok and same and not report.problems


def _snapshot(ctx: DemoContext) -> dict[str, bytes]:
    """The repository's files outside .git and .pretense."""
    return {
        p.relative_to(ctx.repo).as_posix(): p.read_bytes()
        for p in ctx.repo.rglob("*")
        if p.is_file() and ".git" not in p.parts and ".pretense" not in p.parts
    }
