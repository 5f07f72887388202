"""Cursor: guarded by its hooks, because its model traffic cannot reach a local proxy.

Cursor sends every chat, agent, Tab and Cmd+K request from its own servers —
even with your own API key, "all requests are routed through Cursor's servers
for final prompt building", and a custom base URL is called from there, so
``127.0.0.1`` is unreachable (Cursor's documentation on models and API keys,
https://cursor.com/docs).  Mutation is therefore impossible for Cursor.  What
runs on the developer's machine are its hooks, and
`.cursor/hooks.json` (project level, committed, so the policy travels) installs
ours on:

* ``sessionStart`` / ``beforeSubmitPrompt`` — refuse when the repository is not
  initialised or the policy does not approve Cursor, and refuse a prompt that
  carries a secret; every prompt is logged to the audit log as unmutated;
* ``beforeReadFile`` / ``beforeTabFileRead`` — deny the agent (and Tab) a file
  the secret index says holds a secret (both fail closed in Cursor itself);
* ``beforeShellExecution`` — deny a shell command that names such a file.

Cursor's prompts are blocked or passed, never mutated: `init` says so, and a
team that needs mutation must use a tool that can be routed (Claude Code, or
Copilot with its bring-your-own-key models).  We never write Cursor's
``state.vscdb`` (undocumented, and Cursor must be closed for it).

The file is read as JSON with comments (lenient) and written in the same
layout; what we add is plain JSON.
"""

from __future__ import annotations

from typing import Any

from pretense_dev.integrations.base import (
    CURSOR,
    Context,
    Drift,
    IntegrationError,
    JsonFile,
    Plan,
    apply_plan,
    is_our_command,
    manifest,
    planned,
    read_text,
    removed,
)

HOOKS_FILE = ".cursor/hooks.json"
NOT_MUTATED = (
    "Cursor: its prompts are checked for secrets and then blocked or passed — never "
    "mutated: Cursor sends model requests from its own servers (Tab and Cmd+K included), "
    "so they cannot go through the local proxy. A team that needs mutation must use a tool "
    "that can be routed (Claude Code, or Copilot's bring-your-own-key models)."
)


def entries() -> dict[str, list[dict[str, Any]]]:
    """Event → our hook entries, from the manifest (hooks/cursor.json)."""
    hooks: dict[str, list[dict[str, Any]]] = manifest(CURSOR)["hooks"]
    return hooks


def is_ours(item: Any) -> bool:
    """A hook entry we wrote."""
    return isinstance(item, dict) and is_our_command(item.get("command"))


def plan(ctx: Context) -> Plan:
    """What `apply` would change."""
    return planned(
        ctx,
        CURSOR,
        _edit,
        NOT_MUTATED,
        "Cursor runs project hooks only in a trusted workspace; check Settings → Hooks "
        "after opening the repository.",
    )


def apply(ctx: Context) -> Plan:
    """Plan, then write."""
    return apply_plan(ctx, plan(ctx))


def remove(ctx: Context) -> Plan:
    """Take out exactly what we added, and write."""
    return removed(ctx, CURSOR, _edit)


def _edit(ctx: Context, p: Plan, *, removing: bool) -> None:
    try:
        f = JsonFile(ctx, ctx.root / HOOKS_FILE, strict=False, empty={})
        data = f.value()
        if not isinstance(data, dict):
            raise IntegrationError(f"{f.display} is not a JSON object; left untouched")
        version = data.get("version")
        if version not in (None, 1):
            raise IntegrationError(
                f"{f.display} has version {version!r}, which this pretense-dev does not "
                "know; left untouched"
            )
        hooks = data.get("hooks")
        if hooks is not None and not isinstance(hooks, dict):
            raise IntegrationError(f"{f.display}: hooks is not an object; left untouched")
        if removing:
            for event in list((hooks or {}).keys()):
                before = f.get(["hooks", event])
                if isinstance(before, list):
                    f.remove_items(["hooks", event], is_ours)
                    f.prune(["hooks", event], emptied=bool(before))
            f.prune(["hooks"], emptied=bool(hooks))
            if f.value() == {"version": 1}:
                f.prune_key(["version"])
        else:
            if version is None:
                f.set_owned(["version"], 1)
            for event, ours in entries().items():
                f.ensure_items(["hooks", event], ours, is_ours)
    except IntegrationError as e:
        p.problems.append(e.message)
        return
    f.add_to(p, removing=removing)


def check(ctx: Context) -> list[Drift]:
    """Whether our hooks are still in `.cursor/hooks.json`."""
    from pretense_dev.integrations.jsonedit import JsonEditError, parse

    text = read_text(ctx.root / HOOKS_FILE)
    if text is None:
        return [Drift(CURSOR, HOOKS_FILE, "the file is missing")]
    try:
        data = parse(text, strict=False).to_python()
    except JsonEditError as e:
        return [Drift(CURSOR, HOOKS_FILE, f"cannot be parsed ({e})", f"fix {HOOKS_FILE}")]
    hooks = data.get("hooks") if isinstance(data, dict) else None
    out = []
    for event, ours in entries().items():
        items = hooks.get(event) if isinstance(hooks, dict) else None
        if not isinstance(items, list) or not any(is_ours(i) for i in items):
            out.append(Drift(CURSOR, HOOKS_FILE, f"the {event} hook is missing"))
        elif any(e not in items for e in ours):
            # e.g. written before every gate set `failClosed`: Cursor would let the
            # action through when the hook crashes, times out or is not found.
            out.append(Drift(CURSOR, HOOKS_FILE, f"the {event} hook is outdated (not fail-closed)"))
    return out
