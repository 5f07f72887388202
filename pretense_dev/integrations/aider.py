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

aider's requests carry only the OpenAI SDK's headers, so nothing in them would
name aider to the audit.  aider passes the ``extra_params`` of the special
model ``aider/extra_params`` to every model call, from ``.aider.model.settings.yml``
in the home directory, then the git root (a later file's entry replaces an
earlier one: see https://aider.chat/docs/config/adv-model-settings.html).  So
`init` appends a second marked block, to the git root's
``.aider.model.settings.yml``: ``extra_headers: {X-Title: Aider}`` — the name
aider itself gives OpenRouter in that header — which the proxy's client
identification reads.  The header carries nothing of the repository.  Where the
user already has an ``aider/extra_params`` (home or repository file), ours would
replace theirs, so none is added (aider is then audited as ``litellm``, which
`init` says); the same when the file is committed.  `verify` reports our block
missing, and an ``aider/extra_params`` of the user's that ours now replaces.

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
SETTINGS = ".aider.model.settings.yml"
SETTINGS_START = "# pretense-dev: names aider in the pretense-dev audit (uninstall removes this)"
# The entry aider merges into every model call; X-Title is what the proxy reads.
SETTINGS_BLOCK = (
    f"{SETTINGS_START}\n"
    "- name: aider/extra_params\n"
    "  extra_params:\n"
    "    extra_headers:\n"
    "      X-Title: Aider\n"
    "# pretense-dev: end\n"
)
_EXTRA_PARAMS = re.compile(r"^[ \t-]*name:\s*[\"']?aider/extra_params[\"']?\s*(?:#.*)?$", re.M)
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


def _without_block(text: str, start: str) -> str:
    """`text` without our block that begins with `start`."""
    span = re.search(re.escape(start) + r"\n.*?\n" + re.escape(END) + r"\n", text, re.S)
    return text[: span.start()] + text[span.end() :] if span else text


def _user_keys(text: str) -> set[str]:
    """Top-level keys the user's file sets outside our block."""
    return set(re.findall(r"^([A-Za-z0-9_-]+)\s*:", _without_block(text, START), re.M))


def _users_extra_params(ctx: Context) -> str | None:
    """Where the user has an ``aider/extra_params`` of their own (ours would replace it)."""
    for path in (ctx.home / SETTINGS, ctx.root / SETTINGS):
        text = read_text(path)
        if text and _EXTRA_PARAMS.search(_without_block(text, SETTINGS_START)):
            return ctx.display(path)
    return None


def _not_a_list(text: str) -> bool:
    """Whether the user's file is something our list item cannot be appended to.

    aider reads the file as a YAML list of models; an item appended to a block
    list joins it.  Any other shape (a flow list, a mapping) is left alone.
    """
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return bool(lines) and not lines[0].startswith("-")


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
    named = _edit_settings(ctx, p, removing=removing)
    exclude_locally(ctx, p, (CONF, SETTINGS) if named else CONF, AIDER, removing=removing)


def _why_not(ctx: Context) -> str | None:
    """Why our ``aider/extra_params`` block cannot go in (None: it can)."""
    text = read_text(ctx.root / SETTINGS)
    if text is not None and is_tracked(ctx, SETTINGS):
        return f"{SETTINGS} is committed"
    theirs = _users_extra_params(ctx)
    if theirs is not None:
        return f"{theirs} has an aider/extra_params of yours, which ours would replace"
    if text is not None and _not_a_list(_without_block(text, SETTINGS_START)):
        return f"{SETTINGS} is not a YAML block list"
    return None


def _edit_settings(ctx: Context, p: Plan, *, removing: bool) -> bool:
    """Our ``aider/extra_params`` block, where it replaces nothing of the user's.

    Returns whether the file holds our block afterwards.  When it cannot be
    added, an earlier block of ours is taken out, and the note says why the
    audit will name aider's requests ``litellm``.
    """
    why = None if removing else _why_not(ctx)
    if why is not None:
        p.notes.append(
            f"aider: {why}; left untouched, so the audit names aider's requests `litellm` "
            "(add the header `X-Title: Aider` to your extra_headers to have it name aider)"
        )
    edit_block(ctx, p, ctx.root / SETTINGS, SETTINGS_BLOCK, removing=removing or why is not None)
    return not removing and why is None


def check(ctx: Context) -> list[Drift]:
    """Whether aider still sends this repository's OpenAI calls to the proxy."""
    out: list[Drift] = []
    path = ctx.root / CONF
    text = read_text(path) or ""
    if not has_block(path, block(ctx, _user_keys(text))):
        out.append(Drift(AIDER, CONF, "the pretense-dev block is missing or changed"))
    if has_block(ctx.root / SETTINGS, SETTINGS_BLOCK):
        theirs = _users_extra_params(ctx)
        if theirs is not None:
            problem = f"our aider/extra_params replaces the one of yours in {theirs}"
            out.append(Drift(AIDER, SETTINGS, problem))
    elif _why_not(ctx) is None:
        problem = "the pretense-dev block that names aider in the audit is missing or changed"
        out.append(Drift(AIDER, SETTINGS, problem))
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
