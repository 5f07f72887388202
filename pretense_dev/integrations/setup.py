"""Which tools are here, and configuring or unconfiguring them together (init/uninstall).

Detection is by traces a tool leaves — its command on PATH, its user
directory, its directory in the repository, and the instructions file a team
commits for it (`CLAUDE.md`, `AGENTS.md`, `GEMINI.md`, Copilot's and Cursor's
rules) — so `init` configures what the developer uses without asking;
`--tools` names them instead.  A repository that carries such a file is worked
on with that tool, so reporting it "not detected" would leave it unguarded.  The team policy's
``tools.configured`` adds the ones a teammate set up, so every clone of a
repository gets the same gates.
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Protocol

from pretense_dev.errors import UsageError
from pretense_dev.integrations.base import (
    AIDER,
    CLAUDE_CODE,
    CODEX,
    COPILOT,
    CURSOR,
    DEFAULT_PROXY_URL,
    GEMINI_CLI,
    TOOLS,
    Context,
    Drift,
    Plan,
)


class ToolResultLike(Protocol):
    """`lifecycle.ToolResult`'s shape (kept structural: lifecycle imports this module)."""

    tool: str
    reason: str
    plan: Plan


_MODULES = {
    CLAUDE_CODE: "pretense_dev.integrations.claude_code",
    CURSOR: "pretense_dev.integrations.cursor",
    COPILOT: "pretense_dev.integrations.copilot",
    CODEX: "pretense_dev.integrations.codex",
    AIDER: "pretense_dev.integrations.aider",
    GEMINI_CLI: "pretense_dev.integrations.gemini_cli",
}


def module(tool: str) -> ModuleType:
    """The integration module for `tool` (plan/apply/check/remove)."""
    return importlib.import_module(_MODULES[tool])


def parse_tools(spec: str) -> tuple[str, ...]:
    """`--tools claude-code,cursor` → ("claude-code", "cursor"); unknown names refused."""
    names = tuple(dict.fromkeys(n.strip() for n in spec.split(",") if n.strip()))
    unknown = [n for n in names if n not in TOOLS]
    if unknown or not names:
        raise UsageError(
            f"unknown tool {', '.join(map(repr, unknown))}" if unknown else "no tool named",
            f"choose from {', '.join(TOOLS)}",
        )
    return names


def detect(ctx: Context) -> dict[str, str]:
    """Tools that leave a trace here: tool → why we think it is used."""
    from pretense_dev.integrations.copilot import vscode_user_dirs

    found: dict[str, str] = {}
    home = ctx.home
    path = ctx.environ.get("PATH")

    def on_path(*names: str) -> str | None:
        for n in names:
            if shutil.which(n, path=path):
                return f"`{n}` is on PATH"
        return None

    def first(*reasons: str | None) -> str | None:
        return next((r for r in reasons if r), None)

    def exists(p: Path, text: str) -> str | None:
        return text if p.exists() else None

    def in_repo(*rels: str) -> str | None:
        """The first of these repository paths that exists, said as a reason."""
        for rel in rels:
            if (ctx.root / rel).exists():
                return f"{rel} is in the repository"
        return None

    if r := first(
        on_path("claude"),
        in_repo(".claude/", "CLAUDE.md", "CLAUDE.local.md"),
        exists(home / ".claude", "~/.claude exists"),
    ):
        found[CLAUDE_CODE] = r
    cursor_config = Path(ctx.environ.get("XDG_CONFIG_HOME") or home / ".config") / "Cursor"
    if r := first(
        on_path("cursor", "cursor-agent"),
        in_repo(".cursor/", ".cursorrules", ".cursorignore"),
        exists(home / ".cursor", "~/.cursor exists"),
        exists(cursor_config, "Cursor's settings directory exists"),
        exists(home / "Library" / "Application Support" / "Cursor", "Cursor is installed"),
    ):
        found[CURSOR] = r
    vscode = vscode_user_dirs(ctx)
    if r := first(
        on_path("copilot", "code"),
        in_repo(".github/copilot-instructions.md", ".github/instructions/"),
        "VS Code's settings directory exists" if vscode else None,
        exists(home / ".copilot", "~/.copilot exists"),
    ):
        found[COPILOT] = r
    codex_home = Path(ctx.environ.get("CODEX_HOME") or home / ".codex")
    if r := first(
        on_path("codex"),
        in_repo(".codex/", "AGENTS.md", "AGENTS.override.md"),
        exists(codex_home, f"{ctx.display(codex_home)} exists"),
    ):
        found[CODEX] = r
    if r := first(
        on_path("aider"),
        in_repo(".aider.conf.yml", ".aiderignore", ".aider.model.settings.yml"),
        exists(home / ".aider", "~/.aider exists"),
    ):
        found[AIDER] = r
    if r := first(
        on_path("gemini"),
        in_repo(".gemini/", "GEMINI.md"),
        exists(home / ".gemini", "~/.gemini exists"),
    ):
        found[GEMINI_CLI] = r
    return found


def context_for(root: Path, repo_id: str, copilot_models: Iterable[str]) -> Context:
    """The context for a repository, with the running proxy's address if one runs."""
    return Context(
        root=root,
        repo_id=repo_id,
        proxy_url=proxy_url(),
        copilot_models=tuple(copilot_models),
    )


def proxy_url() -> str:
    """Where the proxy listens (scheme://host:port): the running one's address, else the default.

    Read from the proxy's state file without a probe (no request): a stale
    file only means the settings name the port the proxy last used, which
    `verify` then checks against a live proxy.
    """
    from pretense_dev.proxy import state

    st = state.running(probe=False)
    return st.url if st is not None else DEFAULT_PROXY_URL


def configure(ctx: Context, tools: Iterable[str], *, dry_run: bool = False) -> list[Plan]:
    """Plan (and unless `dry_run`, apply) each tool's configuration."""
    out = []
    for tool in tools:
        m = module(tool)
        out.append(m.plan(ctx) if dry_run else m.apply(ctx))
    return out


def unconfigure(ctx: Context) -> list[Plan]:
    """Remove what we added for every tool (configured or not: whatever of ours is there)."""
    return [module(tool).remove(ctx) for tool in TOOLS]


def check(ctx: Context, tools: Iterable[str]) -> list[Drift]:
    """Drift of each configured tool."""
    out: list[Drift] = []
    for tool in tools:
        out.extend(module(tool).check(ctx))
    return out


def describe(
    results: Iterable[ToolResultLike], not_found: Iterable[str], *, dry_run: bool
) -> list[str]:
    """Lines for people about each tool: what was written, and what cannot be done."""
    out = ["  tools:"]
    results = list(results)
    not_found = list(not_found)
    if not results and not not_found:
        out.append("    none detected")
    for r in results:
        touched = r.plan.touched()
        if r.plan.problems and not touched:
            state = "NOT configured (see the errors below)"
        elif touched:
            state = ("would change " if dry_run else "wrote ") + ", ".join(touched)
        else:
            state = "already set up"
        out.append(f"    {r.tool} ({r.reason}): {state}")
        out.extend(f"      {note}" for note in r.plan.notes)
    for tool in not_found:
        out.append(
            f"    {tool}: not detected — `pretense-dev init --tools {tool}` sets it up anyway"
        )
    return out
