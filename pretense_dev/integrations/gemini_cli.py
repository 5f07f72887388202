"""Gemini CLI: ``GOOGLE_GEMINI_BASE_URL`` on this repository's proxy prefix, in ``.gemini/.env``.

The Gemini CLI (npm ``@google/gemini-cli``) sends its Gemini API calls to
``GOOGLE_GEMINI_BASE_URL`` when it authenticates with an API key, and loads
variables from the first ``.env`` file it finds walking up from the working
directory — ``.gemini/.env`` first in each directory, in a trusted workspace —
without overriding the shell's.  `init` appends one marked block to the
repository's ``.gemini/.env``, and keeps that per-clone file out of git with a
marked line in ``.git/info/exclude``.

Not set up (all or nothing), each said in one line: a committed ``.gemini/.env``
(the URL is per clone: ``eval "$(pretense-dev env gemini-cli)"`` routes it from
the shell instead), one that already sets the variable (a gateway of the user's),
and a repository whose root ``.env`` a new ``.gemini/.env`` would hide from the
CLI.  `verify` reports a shell variable that overrides the file.
"""

from __future__ import annotations

import re

from pretense_dev.integrations.base import (
    GEMINI_CLI,
    Context,
    Drift,
    Plan,
    apply_plan,
    edit_block,
    env_override,
    exclude_locally,
    has_block,
    is_tracked,
    planned,
    read_text,
    removed,
)

ENV_FILE = ".gemini/.env"
VAR = "GOOGLE_GEMINI_BASE_URL"
START = "# pretense-dev: routes Gemini CLI through the pretense-dev proxy (uninstall removes this)"
END = "# pretense-dev: end"


def block(ctx: Context) -> str:
    """Our block of ``.gemini/.env``."""
    return f"{START}\n{VAR}={ctx.repo_url}\n{END}\n"


def plan(ctx: Context) -> Plan:
    """What `apply` would change."""
    return planned(
        ctx,
        GEMINI_CLI,
        _edit,
        "Gemini CLI: run it in this repository with API-key auth (GEMINI_API_KEY, passed "
        "through); it reads .gemini/.env only in a trusted folder. Its usage statistics go "
        'direct: set "privacy": {"usageStatisticsEnabled": false} in its settings.',
    )


def apply(ctx: Context) -> Plan:
    """Plan, then write."""
    return apply_plan(ctx, plan(ctx))


def remove(ctx: Context) -> Plan:
    """Take our block (and our exclude line) out, byte for byte."""
    return removed(ctx, GEMINI_CLI, _edit)


def _edit(ctx: Context, p: Plan, *, removing: bool) -> None:
    path = ctx.root / ENV_FILE
    text = read_text(path)
    if not removing:
        if text is not None and is_tracked(ctx, ENV_FILE):
            p.problems.append(
                f"{ENV_FILE} is committed, and the proxy URL is per clone; left untouched — "
                'route the Gemini CLI from your shell with `eval "$(pretense-dev env gemini-cli)"`'
            )
            return
        others = re.sub(
            re.escape(START) + r"\n.*?\n" + re.escape(END) + r"\n", "", text or "", flags=re.S
        )
        if re.search(rf"^\s*(?:export\s+)?{VAR}\s*=", others, re.M):
            p.problems.append(
                f"{ENV_FILE} already sets {VAR} (a gateway of yours); left untouched — remove "
                "it, then run `pretense-dev init`"
            )
            return
        if text is None and (ctx.root / ".env").exists():
            p.problems.append(
                f".env exists: the Gemini CLI reads only the first .env it finds, so a new "
                f"{ENV_FILE} would hide it; left untouched — add the lines of "
                "`pretense-dev env gemini-cli` to your shell instead"
            )
            return
    edit_block(ctx, p, path, block(ctx), removing=removing)
    exclude_locally(ctx, p, ENV_FILE, GEMINI_CLI, removing=removing)


def check(ctx: Context) -> list[Drift]:
    """Whether the Gemini CLI still sends this repository's calls to the proxy."""
    out: list[Drift] = []
    if not has_block(ctx.root / ENV_FILE, block(ctx)):
        out.append(Drift(GEMINI_CLI, ENV_FILE, f"the pretense-dev {VAR} is missing or changed"))
    problem = f"{VAR} in the shell overrides {ENV_FILE} and sends Gemini CLI elsewhere"
    return out + env_override(ctx, GEMINI_CLI, VAR, ctx.repo_url, problem)


def cli_environment(ctx: Context) -> dict[str, str]:
    """The variable that routes the Gemini CLI through the proxy from a shell."""
    return {VAR: ctx.repo_url}
