"""OpenAI Codex CLI: a profile of its own that sends every model call through the proxy.

Codex reads a model provider (``base_url``, ``wire_api``) only from the user's
configuration: a project's ``.codex/config.toml`` may not set
``model_provider``, ``model_providers``, ``openai_base_url`` or ``profile``
(Codex 0.171 ignores them with a warning, even for a project the user's config
marks ``trust_level = "trusted"``; a ``[projects."<path>"]`` table holds only
the trust level), and its routing variables (``OPENAI_BASE_URL``,
``CODEX_HOME``) would send every repository to the same place.  What it does
offer is a profile file, ``$CODEX_HOME/<name>.config.toml`` (``~/.codex`` by
default), layered over the user's ``config.toml`` when Codex runs with
``--profile <name>``.  So `init` writes one such file per repository,
wholly ours, and touches nothing of the user's:

* ``model_provider = "pretense-dev"`` with ``[model_providers.pretense-dev]``:
  ``base_url`` on this repository's proxy prefix (``…/r/<id>/v1``), the
  Responses wire API, the key from ``OPENAI_API_KEY`` (passed through untouched);
* ``[analytics] enabled = false`` and ``[features] plugins = false``: Codex
  otherwise contacts its analytics host and the plugin hosts (chatgpt.com,
  github.com) directly, which the proxy cannot protect.

``pretense-dev codex …`` runs ``codex --profile pretense-dev-<id> …`` after
`verify` passes; a plain ``codex`` still uses the user's own provider, which
`init` says.  Codex also sends each turn's metadata — with the checkout's path —
in the ``x-codex-turn-metadata`` header and the body's ``client_metadata``; the
proxy mutates and scans both like any other text.
"""

from __future__ import annotations

from pathlib import Path

from pretense_dev.integrations.base import (
    CODEX,
    Context,
    Drift,
    Plan,
    apply_plan,
    edit_whole_file,
    planned,
    read_text,
    removed,
)

MARK = "# pretense-dev: routes Codex through the pretense-dev proxy"
PROVIDER = "pretense-dev"
# Hosts Codex talks to besides the model provider (what `init` and the README say).
UNPROTECTED = (
    "Codex CLI: with this profile its analytics (ab.chatgpt.com) and plugins (chatgpt.com, "
    "github.com) are off; login, update checks and MCP servers you add still go direct, "
    "outside the proxy."
)


def codex_home(ctx: Context) -> Path:
    """Where Codex keeps its configuration: ``$CODEX_HOME``, else ``~/.codex``."""
    env = ctx.environ.get("CODEX_HOME")
    return Path(env) if env else ctx.home / ".codex"


def profile_name(ctx: Context) -> str:
    """The profile's name: says whose it is and which repository."""
    return f"pretense-dev-{ctx.repo_id}"


def profile_path(ctx: Context) -> Path:
    """``$CODEX_HOME/pretense-dev-<id>.config.toml``."""
    return codex_home(ctx) / f"{profile_name(ctx)}.config.toml"


def profile_text(ctx: Context) -> str:
    """The whole profile file.  TOML strings are written with json-compatible escapes."""
    import json

    return (
        f"{MARK} ({ctx.root.name}).\n"
        "# Run Codex as `pretense-dev codex …`; `pretense-dev uninstall` deletes this file.\n"
        f'model_provider = "{PROVIDER}"\n'
        "\n"
        f"[model_providers.{PROVIDER}]\n"
        f'name = "pretense-dev proxy"\n'
        f"base_url = {json.dumps(ctx.repo_url + '/v1')}\n"
        'wire_api = "responses"\n'
        'env_key = "OPENAI_API_KEY"\n'
        "\n"
        "[analytics]\n"
        "enabled = false\n"
        "\n"
        "[features]\n"
        "plugins = false\n"
    )


def _is_ours(text: str) -> bool:
    return text.startswith(MARK)


def plan(ctx: Context) -> Plan:
    """What `apply` would change."""
    return planned(
        ctx,
        CODEX,
        _edit,
        f"Codex CLI: run it as `pretense-dev codex …` (it runs `codex --profile "
        f"{profile_name(ctx)}` after `pretense-dev verify` passes), with your key in "
        "OPENAI_API_KEY; a plain `codex` is not routed.",
        UNPROTECTED,
    )


def apply(ctx: Context) -> Plan:
    """Plan, then write."""
    return apply_plan(ctx, plan(ctx))


def remove(ctx: Context) -> Plan:
    """Delete our profile file (and the directories we created for it, if empty)."""
    return removed(ctx, CODEX, _edit)


def _edit(ctx: Context, p: Plan, *, removing: bool) -> None:
    path = profile_path(ctx)
    display = ctx.display(path)
    before = read_text(path)
    if before is not None and not _is_ours(before):
        p.problems.append(f"{display} exists and is not pretense-dev's; left untouched")
        return
    edit_whole_file(ctx, p, path, display, before, profile_text(ctx), removing=removing)


def check(ctx: Context) -> list[Drift]:
    """Whether our profile still routes Codex to this repository's proxy prefix."""
    path = profile_path(ctx)
    if read_text(path) != profile_text(ctx):
        return [Drift(CODEX, ctx.display(path), "the Codex profile is missing or changed")]
    return []


def cli_arguments(ctx: Context) -> list[str]:
    """The arguments that select our profile (before the user's own)."""
    return ["--profile", profile_name(ctx)]
