"""Gemini CLI: ``GOOGLE_GEMINI_BASE_URL`` on this repository's proxy prefix, in ``.gemini/.env``.

The Gemini CLI (npm ``@google/gemini-cli``) sends its Gemini API calls to
``GOOGLE_GEMINI_BASE_URL`` when it authenticates with an API key, and loads
variables from the first ``.env`` file it finds walking up from the working
directory — ``.gemini/.env`` first in each directory, in a trusted workspace —
without overriding the shell's.  `init` appends one marked block to the
repository's ``.gemini/.env``, and keeps that per-clone file out of git with a
marked line in ``.git/info/exclude``.

The CLI also sends usage statistics to Google (play.googleapis.com) directly,
outside the proxy, unless ``privacy.usageStatisticsEnabled`` is false; no
variable turns them off.  Workspace settings (``.gemini/settings.json``) outrank
the user's, in a trusted folder, as ``.gemini/.env`` is read only there.  So
`init` adds ``"privacy": {"usageStatisticsEnabled": false}`` to the workspace
file when the user has not set it (a value of theirs is kept, and said), and
`uninstall` takes back exactly what it added.  A committed settings file is not
edited (said in one line); a file `init` creates is kept out of git like the
``.env``.  Observed with Gemini CLI 0.61.0: the setting holds in a folder
trusted in its dialog (or with ``GEMINI_CLI_TRUST_WORKSPACE=true``), but
``--skip-trust`` alone takes effect after the settings are read, so workspace
settings do not apply then.

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
    IntegrationError,
    JsonFile,
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
SETTINGS = ".gemini/settings.json"
USAGE: list[str | int] = ["privacy", "usageStatisticsEnabled"]
USAGE_DIRECT = (
    "its usage statistics go to Google directly unless you set "
    '"privacy": {"usageStatisticsEnabled": false} there'
)


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
        "through); it reads .gemini/.env and .gemini/settings.json (usage statistics off) "
        "only in a trusted folder.",
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
    ours = _edit_settings(ctx, p, removing=removing)
    files = (ENV_FILE, SETTINGS) if ours else ENV_FILE
    exclude_locally(ctx, p, files, GEMINI_CLI, removing=removing)


def _edit_settings(ctx: Context, p: Plan, *, removing: bool) -> bool:
    """Usage statistics off in the workspace settings, unless the user chose.

    Returns whether the settings file is one `init` created (so it is kept out
    of git with the ``.env``).  What cannot be done is a note, not a problem:
    the routing does not depend on it.
    """
    path = ctx.root / SETTINGS
    if not removing and read_text(path) is not None and is_tracked(ctx, SETTINGS):
        p.notes.append(f"Gemini CLI: {SETTINGS} is committed and left untouched; {USAGE_DIRECT}")
        return False
    try:
        f = JsonFile(ctx, path, strict=False, empty={})
        if not isinstance(f.value(), dict):
            raise IntegrationError(f"{f.display} is not a JSON object; left untouched")
        if not isinstance(f.get(["privacy"], {}), dict):
            raise IntegrationError(f"{f.display}: privacy is not an object; left untouched")
        if removing:
            if f.created(USAGE):
                f.unset_owned(USAGE, lambda v: v is False)
            f.prune(["privacy"], emptied=False)
        elif f.get(USAGE) is None:
            f.set_owned(USAGE, False)
        elif f.get(USAGE) is not False:
            p.notes.append(
                f"Gemini CLI: usage statistics are on in {SETTINGS} by your choice and kept; "
                "they go to Google directly, outside the proxy"
            )
    except IntegrationError as e:
        p.notes.append(f"Gemini CLI: {e.message}; {USAGE_DIRECT}")
        return False
    f.add_to(p, removing=removing)
    return bool(f.record.get("created"))


def check(ctx: Context) -> list[Drift]:
    """Whether the Gemini CLI still sends this repository's calls to the proxy."""
    out: list[Drift] = []
    if not has_block(ctx.root / ENV_FILE, block(ctx)):
        out.append(Drift(GEMINI_CLI, ENV_FILE, f"the pretense-dev {VAR} is missing or changed"))
    if _usage_unset(ctx):
        problem = "usage statistics are no longer turned off (privacy.usageStatisticsEnabled)"
        out.append(Drift(GEMINI_CLI, SETTINGS, problem))
    problem = f"{VAR} in the shell overrides {ENV_FILE} and sends Gemini CLI elsewhere"
    return out + env_override(ctx, GEMINI_CLI, VAR, ctx.repo_url, problem)


def _usage_unset(ctx: Context) -> bool:
    """Whether the workspace settings no longer say anything about usage statistics.

    A value the user set (either way) is theirs; a file that does not parse, or
    a committed one, was left alone by `init`, which said so.
    """
    import json

    text = read_text(ctx.root / SETTINGS)
    if text is not None:
        try:
            value = json.loads(text)
        except ValueError:  # JSON with comments, as the CLI allows: the editor's parser
            from pretense_dev.integrations.jsonedit import Document, JsonEditError

            try:
                value = Document(text, strict=False).value()
            except JsonEditError:
                return False
        privacy = value.get("privacy", {}) if isinstance(value, dict) else None
        if not isinstance(privacy, dict) or "usageStatisticsEnabled" in privacy:
            return False
    return text is None or not is_tracked(ctx, SETTINGS)


def cli_environment(ctx: Context) -> dict[str, str]:
    """The variable that routes the Gemini CLI through the proxy from a shell."""
    return {VAR: ctx.repo_url}
