"""GitHub Copilot: what can be routed goes through the proxy; the rest is said plainly.

What we set up (https://docs.github.com/en/copilot):

* **VS Code chat and agent with bring-your-own-key models** — one provider group
  per repository in VS Code's ``chatLanguageModels.json`` (user level: VS Code
  has no repository-level model list), vendor ``customendpoint``, API type
  OpenAI Chat Completions, each model's ``url`` on this repository's proxy
  prefix.  The API key is an ``${input:…}`` reference, so VS Code asks for the
  upstream key once and keeps it in its secret storage; the proxy passes it
  through untouched.
* **Agent hooks** — ``.github/hooks/pretense-dev.json`` (repository level,
  committed), a file wholly ours, in the Copilot CLI format, which VS Code also
  reads (lowerCamelCase events, ``bash``/``powershell`` commands): the prompt gate,
  the secret-file gate on tool use, and audit logging.
* **Copilot CLI** — its bring-your-own-key routing is environment variables
  only (``COPILOT_PROVIDER_BASE_URL`` …; no config file), so there is nothing to
  write: ``pretense-dev copilot …`` runs it with them set after `verify`
  passes, and ``eval "$(pretense-dev env copilot)"`` sets them in a shell.

What cannot be routed with supported settings, and is said by `init` rather
than worked around with undocumented debug settings: inline completions and
next-edit suggestions (always GitHub's completions service), chat with
GitHub-hosted models, and GitHub-side utility calls (embeddings, commit
messages…).  A CLI ``userPromptSubmitted`` hook cannot refuse a prompt either;
the CLI's gate is the wrapper, and a stopped proxy fails its model calls.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pretense_dev.integrations.base import (
    COPILOT,
    Context,
    Drift,
    IntegrationError,
    JsonFile,
    Plan,
    all_or_nothing,
    apply_plan,
    edit_whole_file,
    is_our_command,
    manifest,
    read_text,
    removed,
)
from pretense_dev.integrations.jsonedit import JsonEditError, parse

HOOKS_FILE = ".github/hooks/pretense-dev.json"
MODELS_FILE = "chatLanguageModels.json"
API_KEY_INPUT = "${input:pretense-dev-openai-key}"
NOT_ROUTED = (
    "Copilot: inline completions, next-edit suggestions and chat with GitHub-hosted models "
    "cannot be routed with supported settings — they reach GitHub unmutated. Only the "
    '"pretense-dev" bring-your-own-key models in VS Code chat and the Copilot CLI run '
    "as `pretense-dev copilot` go through the proxy."
)


def hooks_document() -> dict[str, Any]:
    """The whole of `.github/hooks/pretense-dev.json`: the manifest hooks/copilot.json."""
    return manifest(COPILOT)


def hooks_text() -> str:
    """The file's exact text."""
    return json.dumps(hooks_document(), indent=2) + "\n"


def _all_ours(data: Any) -> bool:
    """Whether a hooks document holds only our handlers (so the file is ours)."""
    if not isinstance(data, dict) or not isinstance(data.get("hooks"), dict):
        return False
    for items in data["hooks"].values():
        if not isinstance(items, list):
            return False
        for h in items:
            if not isinstance(h, dict):
                return False
            cmds = [h.get(k) for k in ("bash", "powershell", "command") if k in h]
            if not cmds or not all(is_our_command(c) for c in cmds):
                return False
    return True


def vscode_user_dirs(ctx: Context) -> list[Path]:
    """VS Code's user settings dirs that exist (stable and Insiders)."""
    env = ctx.environ
    if sys.platform == "darwin":
        base = ctx.home / "Library" / "Application Support"
    elif sys.platform == "win32":
        base = Path(env.get("APPDATA") or ctx.home / "AppData" / "Roaming")
    else:
        base = Path(env.get("XDG_CONFIG_HOME") or ctx.home / ".config")
    return [base / n / "User" for n in ("Code", "Code - Insiders") if (base / n).is_dir()]


def group_name(ctx: Context) -> str:
    """The provider group's name: says what it is and which repository."""
    return f"pretense-dev {ctx.root.name} ({ctx.repo_id})"


def model_group(ctx: Context) -> dict[str, Any]:
    """Our provider group for this repository."""
    return {
        "name": group_name(ctx),
        "vendor": "customendpoint",
        "apiKey": API_KEY_INPUT,
        "apiType": "chat-completions",
        "models": [
            {
                "id": model,
                "name": f"{model} (pretense-dev: {ctx.root.name})",
                "url": f"{ctx.repo_url}/v1/chat/completions",
                "toolCalling": True,
                "vision": False,
                "maxInputTokens": 128000,
                "maxOutputTokens": 16384,
            }
            for model in ctx.copilot_models
        ],
    }


def is_our_group(ctx: Context) -> Any:
    """A predicate: our provider group for this repository (any version of it)."""
    suffix = f"({ctx.repo_id})"

    def ours(g: Any) -> bool:
        name = g.get("name") if isinstance(g, dict) else None
        return isinstance(name, str) and name.startswith("pretense-dev ") and name.endswith(suffix)

    return ours


# -- plan / apply / remove ------------------------------------------------------------


def plan(ctx: Context) -> Plan:
    """What `apply` would change."""
    p = Plan(COPILOT)
    _edit_hooks(ctx, p, removing=False)
    dirs = vscode_user_dirs(ctx)
    for d in dirs:
        _edit_models(ctx, p, d / MODELS_FILE, removing=False)
    if dirs:
        models = ", ".join(f'"{m} (pretense-dev: {ctx.root.name})"' for m in ctx.copilot_models)
        p.notes.append(
            f"VS Code: pick {models} in the chat model picker; VS Code asks once for the "
            "OpenAI key, which the proxy passes through. Agent hooks are a VS Code preview "
            "feature: turn on `chat.useHooks` if your VS Code has it off."
        )
    else:
        p.notes.append("VS Code: no user settings directory found; no chat models were added.")
    p.notes.append(
        'Copilot CLI: run it as `pretense-dev copilot …` (or `eval "$(pretense-dev env '
        'copilot)"`), with your key in COPILOT_PROVIDER_API_KEY.'
    )
    p.notes.append(NOT_ROUTED)
    return all_or_nothing(p)


def apply(ctx: Context) -> Plan:
    """Plan, then write."""
    return apply_plan(ctx, plan(ctx))


def remove(ctx: Context) -> Plan:
    """Take out exactly what we added, and write."""
    return removed(ctx, COPILOT, _edit)


def _edit(ctx: Context, p: Plan, *, removing: bool) -> None:
    _edit_hooks(ctx, p, removing=removing)
    for d in vscode_user_dirs(ctx):
        _edit_models(ctx, p, d / MODELS_FILE, removing=removing)


def _edit_hooks(ctx: Context, p: Plan, *, removing: bool) -> None:
    path = ctx.root / HOOKS_FILE
    before = read_text(path)
    if before is not None and before != hooks_text():
        try:
            ours = _all_ours(parse(before, strict=False).to_python())
        except JsonEditError:
            ours = False
        if not ours:
            p.problems.append(
                f"{HOOKS_FILE} exists and holds hooks that are not pretense-dev's; left untouched"
            )
            return
    edit_whole_file(ctx, p, path, HOOKS_FILE, before, hooks_text(), removing=removing)


def _edit_models(ctx: Context, p: Plan, path: Path, *, removing: bool) -> None:
    try:
        f = JsonFile(ctx, path, strict=False, empty=[])
        if not isinstance(f.value(), list):
            raise IntegrationError(f"{f.display} is not a JSON list; left untouched")
        if removing:
            f.remove_items([], is_our_group(ctx))
        else:
            f.ensure_items([], [model_group(ctx)], is_our_group(ctx))
    except IntegrationError as e:
        p.problems.append(e.message)
        return
    f.add_to(p, removing=removing)


# -- drift -----------------------------------------------------------------------------


def check(ctx: Context) -> list[Drift]:
    """Whether the hooks file and the VS Code models are still ours and current."""
    out: list[Drift] = []
    if read_text(ctx.root / HOOKS_FILE) != hooks_text():
        out.append(Drift(COPILOT, HOOKS_FILE, "the agent hooks file is missing or changed"))
    for d in vscode_user_dirs(ctx):
        path = d / MODELS_FILE
        where = ctx.display(path)
        text = read_text(path)
        if text is None:
            out.append(Drift(COPILOT, where, "the pretense-dev chat models are missing"))
            continue
        try:
            data = parse(text, strict=False).to_python()
        except JsonEditError as e:
            out.append(Drift(COPILOT, where, f"cannot be parsed ({e})", f"fix {where}"))
            continue
        groups = [g for g in data if is_our_group(ctx)(g)] if isinstance(data, list) else []
        if model_group(ctx) not in groups:
            out.append(
                Drift(COPILOT, where, "the pretense-dev chat models are missing or point elsewhere")
            )
    return out


WIRE_APIS = ("completions", "responses")


def cli_environment(ctx: Context) -> dict[str, str]:
    """The variables that route the Copilot CLI through the proxy, and only there.

    ``COPILOT_OFFLINE=true`` keeps the CLI from contacting GitHub's API (it
    would otherwise reach ``api.github.com`` beside the provider).  The wire
    API is the user's choice when they made one (``COPILOT_PROVIDER_WIRE_API``
    ``completions`` or ``responses``: the proxy serves both); Chat Completions
    otherwise.
    """
    wire = ctx.environ.get("COPILOT_PROVIDER_WIRE_API", "").strip().lower()
    env = {
        "COPILOT_PROVIDER_BASE_URL": f"{ctx.repo_url}/v1",
        "COPILOT_PROVIDER_TYPE": "openai",
        "COPILOT_PROVIDER_WIRE_API": wire if wire in WIRE_APIS else "completions",
        "COPILOT_OFFLINE": "true",
    }
    if ctx.copilot_models and "COPILOT_MODEL" not in ctx.environ:
        env["COPILOT_MODEL"] = ctx.copilot_models[0]
    return env
