"""aider: its OpenAI base URL on this repository's proxy prefix, in ``.aider.conf.yml``.

aider reads ``.aider.conf.yml`` from the current directory, the git root and the
home directory, and sends OpenAI models' Chat Completions (through litellm) to
``openai-api-base``.  `init` appends one marked block to the git root's file:

* ``openai-api-base: <proxy>/r/<id>/v1`` — the key (``OPENAI_API_KEY``) passes
  through the proxy untouched;
* ``analytics: false`` and ``check-update: false`` — aider's usage analytics and
  its version check would leave the machine directly.  A value the user already
  set for one of these is kept (and said), never replaced.

The URL holds this clone's repo id, so the file must not be committed: when git
does not track it, a marked line in ``.git/info/exclude`` keeps it out; when git
does track it (a team file), `init` leaves it untouched and says how to route
aider from the environment instead (``eval "$(pretense-dev env aider)"``).
An ``openai-api-base`` the user already has is a gateway of theirs: it is not
replaced, and aider is not set up (all or nothing).

What cannot be turned off: aider downloads a public model price list
(raw.githubusercontent.com, litellm's ``model_prices_and_context_window.json``)
at start; it carries no code, but it goes direct.
"""

from __future__ import annotations

import re

from pretense_dev.integrations.base import (
    AIDER,
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

CONF = ".aider.conf.yml"
START = "# pretense-dev: routes aider through the pretense-dev proxy (uninstall removes this)"
END = "# pretense-dev: end"
BASE_KEY = "openai-api-base"
OFF = {"analytics": "false", "check-update": "false"}
UNPROTECTED = (
    "aider: it downloads a public model price list (raw.githubusercontent.com) at start, "
    "outside the proxy; it carries no code."
)


def base_url(ctx: Context) -> str:
    """Where aider's OpenAI calls go."""
    return f"{ctx.repo_url}/v1"


def _user_keys(text: str) -> set[str]:
    """Top-level keys the user's file sets outside our block."""
    span = re.search(re.escape(START) + r"\n.*?\n" + re.escape(END) + r"\n", text, re.S)
    if span:
        text = text[: span.start()] + text[span.end() :]
    return set(re.findall(r"^([A-Za-z0-9_-]+)\s*:", text, re.M))


def block(ctx: Context, user_keys: set[str]) -> str:
    """Our block: the base URL, and the switches the user did not set themselves."""
    lines = [START, f"{BASE_KEY}: {base_url(ctx)}"]
    lines += [f"{k}: {v}" for k, v in OFF.items() if k not in user_keys]
    return "\n".join([*lines, END]) + "\n"


def plan(ctx: Context) -> Plan:
    """What `apply` would change."""
    return planned(
        ctx,
        AIDER,
        _edit,
        "aider: run it in this repository as usual; its OpenAI calls go through the proxy "
        "with your key from OPENAI_API_KEY.",
        UNPROTECTED,
    )


def apply(ctx: Context) -> Plan:
    """Plan, then write."""
    return apply_plan(ctx, plan(ctx))


def remove(ctx: Context) -> Plan:
    """Take our block (and our exclude line) out, byte for byte."""
    return removed(ctx, AIDER, _edit)


def _edit(ctx: Context, p: Plan, *, removing: bool) -> None:
    path = ctx.root / CONF
    text = read_text(path) or ""
    keys = _user_keys(text)
    if not removing:
        if is_tracked(ctx, CONF):
            p.problems.append(
                f"{CONF} is committed, and the proxy URL is per clone; left untouched — route "
                'aider from your shell with `eval "$(pretense-dev env aider)"`'
            )
            return
        if BASE_KEY in keys:
            p.problems.append(
                f"{CONF} already sets {BASE_KEY} (a gateway of yours); left untouched — "
                "remove it, then run `pretense-dev init`"
            )
            return
        p.notes.extend(
            f"aider: {k} is set in {CONF} by you and kept as it is" for k in OFF if k in keys
        )
    edit_block(ctx, p, path, block(ctx, keys), removing=removing)
    exclude_locally(ctx, p, CONF, AIDER, removing=removing)


def check(ctx: Context) -> list[Drift]:
    """Whether aider still sends this repository's OpenAI calls to the proxy."""
    out: list[Drift] = []
    path = ctx.root / CONF
    text = read_text(path) or ""
    if not has_block(path, block(ctx, _user_keys(text))):
        out.append(Drift(AIDER, CONF, "the pretense-dev block is missing or changed"))
    for var in ("OPENAI_API_BASE", "AIDER_OPENAI_API_BASE"):
        problem = f"{var} overrides {CONF} and sends aider elsewhere"
        out += env_override(ctx, AIDER, var, base_url(ctx), problem)
    return out


def cli_environment(ctx: Context) -> dict[str, str]:
    """The variables that route aider through the proxy from a shell."""
    return {
        "OPENAI_API_BASE": base_url(ctx),
        "AIDER_ANALYTICS": "false",
        "AIDER_CHECK_UPDATE": "false",
    }
