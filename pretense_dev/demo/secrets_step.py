"""The demo's secrets step: a generated token staged in the sample, blocked at commit."""

from __future__ import annotations

import os
import random
import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pretense_dev.demo.console import DemoContext


def step_secrets(ctx: DemoContext) -> bool:
    """Stage a (generated) GitHub token and try to commit it: the hook blocks it."""
    from pretense_dev.demo.console import heading, out
    from pretense_dev.secrets.samples import generate

    heading("a secret in a commit")
    token = generate("gh" + "p_{b62:30}{ghcrc}", random.Random())
    target = ctx.repo / "billing" / "settings_local.py"
    target.write_text(f'GITHUB_TOKEN = "{token}"  # oops\n', encoding="utf-8")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Demo",
        "GIT_AUTHOR_EMAIL": "demo@example.invalid",
        "GIT_COMMITTER_NAME": "Demo",
        "GIT_COMMITTER_EMAIL": "demo@example.invalid",
    }
    subprocess.run(["git", "-C", str(ctx.repo), "add", "-A"], check=True, env=env)
    out("$ git commit -m 'local settings'")
    p = subprocess.run(
        ["git", "-C", str(ctx.repo), "commit", "-q", "-m", "local settings"],
        capture_output=True,
        text=True,
        env=env,
    )
    for line in (p.stdout + p.stderr).splitlines():
        out(f"  {line}")
    blocked = p.returncode != 0 and token not in p.stdout + p.stderr
    out(
        "blocked by the pre-commit hook; the token itself was never printed"
        if blocked
        else "THE COMMIT WAS NOT BLOCKED"
    )
    subprocess.run(["git", "-C", str(ctx.repo), "reset", "-q"], check=True, env=env)
    target.unlink()
    return blocked
