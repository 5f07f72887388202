"""Claude Code: model traffic through the proxy, and hooks that refuse to work without it.

Two files, split by who they belong to (https://docs.anthropic.com/en/docs/claude-code/settings):

* ``.claude/settings.json`` — shared, committed: the hooks.  They are the team's
  policy, so they travel with the repository: a clone that has not run
  `pretense-dev init` (or whose proxy is down) gets every prompt refused with the
  command that fixes it, instead of sending code unprotected.
* ``.claude/settings.local.json`` — this clone only: ``env.ANTHROPIC_BASE_URL``,
  the proxy URL with this clone's repo id (``/r/<id>``).  The id is per clone
  (``.pretense/repo-id`` is local), so committing it would send a teammate's
  traffic to a prefix their proxy does not serve.  Local settings beat project
  and user settings, and settings ``env`` beats the shell (§1, tested), so only
  managed settings or ``--settings`` can override it; `check` reads the managed
  file too.  If git does not already ignore the file, one marked line in
  ``.git/info/exclude`` (local, never committed) does.

The gate sits on ``UserPromptSubmit``: ``SessionStart`` cannot block in Claude
Code (§5, tested), so it only warns and logs.  ``PreToolUse`` on the tools that
read or reveal a file's content denies the agent a file that holds a secret.
Every handler says ``"onFailure": "block"`` (Claude Code ≥ 2.1.295): a hook that
cannot start or times out then blocks instead of failing open.  Older versions
ignore the key; `doctor` and `verify` warn about them.

On Amazon Bedrock or Google Vertex AI (``CLAUDE_CODE_USE_BEDROCK`` /
``CLAUDE_CODE_USE_VERTEX`` on in settings ``env`` or the shell) Claude Code reads
``ANTHROPIC_BEDROCK_BASE_URL`` / ``ANTHROPIC_VERTEX_BASE_URL`` instead, so the
local file gets that variable (`Mode`); the rest is the same.

A gateway the user already had (``ANTHROPIC_BASE_URL`` in local, project or
user settings, or in the environment `init` runs in — often a corporate LLM
gateway) is not replaced: it is recorded for this repository in the registry
and the proxy forwards this repository's traffic to it.  `uninstall` gives the
local file its old value back; the other places were never touched.

Both files are strict JSON: Claude Code silently ignores a settings file with a
comment (§1, tested), so such a file is refused with a one-line error, never
"fixed" by us.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pretense_dev.errors import PretenseError
from pretense_dev.integrations.base import (
    CLAUDE_CODE,
    Context,
    Drift,
    FileChange,
    IntegrationError,
    JsonFile,
    Plan,
    all_or_nothing,
    apply_plan,
    file_key,
    is_our_command,
    manifest,
    read_text,
)

if TYPE_CHECKING:
    import subprocess

SHARED = ".claude/settings.json"
LOCAL = ".claude/settings.local.json"
BASE_URL_KEY: list[str | int] = ["env", "ANTHROPIC_BASE_URL"]


@dataclass(frozen=True)
class Mode:
    """How Claude Code reaches its model: the variable holding the base URL, and our value's shape.

    ``CLAUDE_CODE_USE_BEDROCK=1`` makes Claude Code call Bedrock's InvokeModel
    routes under ``ANTHROPIC_BEDROCK_BASE_URL``; ``CLAUDE_CODE_USE_VERTEX=1``
    calls Vertex AI's ``rawPredict`` routes under ``ANTHROPIC_VERTEX_BASE_URL``
    (a base that ends in ``/v1``), and neither reads ``ANTHROPIC_BASE_URL``
    (https://code.claude.com/docs/en/llm-gateway).  The proxy serves all three
    under the repository's prefix.
    """

    name: str  # also the registry's upstream key for a gateway of the user's
    var: str
    suffix: str = ""

    @property
    def key(self) -> list[str | int]:
        """Where the URL sits in a settings file."""
        return ["env", self.var]

    def url(self, ctx: Context) -> str:
        """Our base URL for this repository in this mode."""
        return ctx.repo_url + self.suffix


ANTHROPIC = Mode("anthropic", "ANTHROPIC_BASE_URL")
BEDROCK = Mode("bedrock", "ANTHROPIC_BEDROCK_BASE_URL")
VERTEX = Mode("vertex", "ANTHROPIC_VERTEX_BASE_URL", "/v1")
MODES = (ANTHROPIC, BEDROCK, VERTEX)
_SWITCHES = (("CLAUDE_CODE_USE_BEDROCK", BEDROCK), ("CLAUDE_CODE_USE_VERTEX", VERTEX))
# The handlers (events, matcher, timeout, onFailure) are data: hooks/claude-code.json.
# PreToolUse matches the tools whose use reveals a file's content to the model
# (plain names match exactly, reference §4); Write is left out: it does not read.
# Claude Code honours "onFailure" from this version on (reference §4).
ON_FAILURE_SINCE = (2, 1, 295)
EXCLUDE_MARK = "# pretense-dev: local Claude Code settings (pretense-dev uninstall removes this)"
EXCLUDE_LINE = "/" + LOCAL

MANAGED_SETTINGS = {
    "linux": Path("/etc/claude-code/managed-settings.json"),
    "darwin": Path("/Library/Application Support/ClaudeCode/managed-settings.json"),
    "win32": Path(r"C:\Program Files\ClaudeCode\managed-settings.json"),
}


def groups() -> dict[str, list[dict[str, Any]]]:
    """Event → our matcher groups, from the manifest."""
    hooks: dict[str, list[dict[str, Any]]] = manifest(CLAUDE_CODE)["hooks"]
    return hooks


def is_our_group(g: Any) -> bool:
    """A matcher group made only of our handlers."""
    if not isinstance(g, dict) or not isinstance(g.get("hooks"), list) or not g["hooks"]:
        return False
    return all(isinstance(h, dict) and is_our_command(h.get("command")) for h in g["hooks"])


def is_our_url(ctx: Context) -> Any:
    """A predicate: a base URL we wrote for this repository (any proxy port, any mode)."""
    rid = re.escape(ctx.repo_id) if ctx.repo_id else "[A-Za-z0-9]+"
    pattern = re.compile(r"^http://(127\.0\.0\.1|localhost|\[::1\]):\d+/r/" + rid + "(/v1)?$")
    return lambda v: isinstance(v, str) and bool(pattern.match(v))


def _truthy(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on")


def mode(ctx: Context) -> Mode:
    """Which route Claude Code takes here: Bedrock or Vertex when the user switched it on.

    Read where Claude Code reads it, settings ``env`` first (local, project,
    user: it outranks the shell), then the environment `init` runs in.
    """
    places = [
        _read_json(ctx.root / LOCAL),
        _read_json(ctx.root / SHARED),
        _read_json(ctx.home / ".claude" / "settings.json"),
    ]
    for var, m in _SWITCHES:
        for data in places:
            value = _dig(data, ["env", var]) if isinstance(data, dict) else None
            if value is not None:
                if _truthy(value):
                    return m
                break
        else:
            if _truthy(ctx.environ.get(var)):
                return m
    return ANTHROPIC


# -- plan / apply / remove ------------------------------------------------------------


def plan(ctx: Context) -> Plan:
    """What `apply` would change."""
    p = Plan(CLAUDE_CODE)
    _edit_shared(ctx, p, removing=False)
    _edit_local(ctx, p, removing=False)
    _edit_exclude(ctx, p, removing=False)
    gateway = user_gateway(ctx)
    if isinstance(gateway, str):
        p.problems.append(gateway)
    elif gateway is not None:
        url, where = gateway
        p.notes.append(
            f"Claude Code: your gateway {shown_url(url)} ({where}) is kept: the proxy "
            "forwards this repository's Anthropic traffic to it; `pretense-dev uninstall` "
            "restores the setting."
        )
    m = mode(ctx)
    via = "" if m is ANTHROPIC else f" on {m.name.capitalize()}, {m.var}"
    p.notes.append(
        f"Claude Code{via}: prompts go through the proxy ({m.url(ctx)}), mutated and checked "
        "for secrets; the UserPromptSubmit hook refuses every prompt while the proxy is "
        "down or not protecting this repository."
    )
    version = installed_version()
    if version is not None and version < ON_FAILURE_SINCE:
        p.notes.append(
            f'Claude Code {".".join(map(str, version))} ignores "onFailure": "block" '
            "(needs ≥ 2.1.295): if the hook cannot run, the prompt is not gated — upgrade "
            "with `npm install -g @anthropic-ai/claude-code@latest`."
        )
    return all_or_nothing(p)


def apply(ctx: Context) -> Plan:
    """Plan, then write; then record the user's gateway as this repository's upstream."""
    gateway = user_gateway(ctx)
    p = apply_plan(ctx, plan(ctx))
    if p.problems or gateway == KEEP:
        return p
    url = gateway[0] if isinstance(gateway, tuple) else None
    try:
        _set_upstream(ctx, url, mode(ctx))
    except PretenseError as e:
        p.problems.append(" ".join(e.lines()))
    return p


def _set_upstream(ctx: Context, url: str | None, m: Mode | None = None) -> None:
    """Record the user's gateway for this repository's mode (None: every mode back to default)."""
    from pretense_dev import registry

    entry = registry.lookup(ctx.repo_id)
    if entry is None:
        if url is not None:
            raise IntegrationError(
                f"repository {ctx.repo_id} is not registered, so its gateway cannot be kept",
                "run `pretense-dev init`",
            )
        return
    if m is None:  # uninstall: every mode back to its default upstream
        for each in MODES:
            registry.set_upstream(ctx.repo_id, each.name, None)
        return
    if url is not None and m.suffix:
        url = url.rstrip("/").removesuffix(m.suffix)  # the proxy adds the path itself
    registry.set_upstream(ctx.repo_id, m.name, url)


KEEP = ("", "")  # the local setting is already ours: the upstream recorded before stands
_ANY_OF_OURS = re.compile(r"^http://(127\.0\.0\.1|localhost|\[::1\]):\d+/r/[A-Za-z0-9]+(/v1)?/?$")


def user_gateway(ctx: Context) -> tuple[str, str] | str | None:
    """The base URL Claude Code would use here without us, in its mode: (url, where), or None.

    Looked for in Claude Code's order (local settings, project settings, user
    settings, then the environment).  `KEEP` when the local setting is already
    ours (a second `init`); a string when a value found is not an http(s) URL.
    """
    places = (
        (ctx.root / LOCAL, LOCAL),
        (ctx.root / SHARED, SHARED),
        (ctx.home / ".claude" / "settings.json", "~/.claude/settings.json"),
    )
    m = mode(ctx)
    for path, where in places:
        data = _read_json(path)
        value = _dig(data, m.key) if isinstance(data, dict) else None
        if value is None:
            continue
        if path == ctx.root / LOCAL and isinstance(value, str) and _ANY_OF_OURS.match(value):
            return KEEP
        return _gateway(value, f"env.{m.var} in {where}")
    value = ctx.environ.get(m.var)
    if value:
        return _gateway(value, f"{m.var} in the environment")
    return None


def _gateway(value: object, where: str) -> tuple[str, str] | str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    url = value.strip()
    if _ANY_OF_OURS.match(url):
        return None  # a proxy URL of ours is not a gateway to chain to
    if not re.match(r"^https?://[^/\s]+", url):
        # Not shown: a value that is not a URL may be anything, a token included.
        return f"{where} is not an http(s) URL; Claude Code left untouched"
    return url, where


def shown_url(url: str) -> str:
    """A URL as it may be shown or logged: no user:password, no query."""
    m = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)(?:[^@/]*@)?([^?#]*)", url)
    return (m.group(1) + m.group(2)) if m else "(not a URL)"


def remove(ctx: Context) -> Plan:
    """Take out exactly what we added, and write."""
    p = Plan(CLAUDE_CODE)
    _edit_shared(ctx, p, removing=True)
    _edit_local(ctx, p, removing=True)
    _edit_exclude(ctx, p, removing=True)
    p = apply_plan(ctx, p)
    try:
        _set_upstream(ctx, None)  # the user's own setting is back: no gateway to chain
    except PretenseError as e:
        p.problems.append(" ".join(e.lines()))
    return p


def _edit_shared(ctx: Context, p: Plan, *, removing: bool) -> None:
    try:
        f = JsonFile(ctx, ctx.root / SHARED, strict=True, empty={})
        if not isinstance(f.value(), dict):
            raise IntegrationError(f"{f.display} is not a JSON object; left untouched")
        hooks = f.get(["hooks"])
        if hooks is not None and not isinstance(hooks, dict):
            raise IntegrationError(f"{f.display}: hooks is not an object; left untouched")
        if removing:
            for event in list((hooks or {}).keys()):
                before = f.get(["hooks", event])
                if not isinstance(before, list):
                    continue
                f.remove_items(["hooks", event], is_our_group)
                f.prune(["hooks", event], emptied=bool(before))
            f.prune(["hooks"], emptied=bool(hooks))
        else:
            for event, ours in groups().items():
                f.ensure_items(["hooks", event], ours, is_our_group)
    except IntegrationError as e:
        p.problems.append(e.message)
        return
    f.add_to(p, removing=removing)


def _edit_local(ctx: Context, p: Plan, *, removing: bool) -> None:
    try:
        f = JsonFile(ctx, ctx.root / LOCAL, strict=True, empty={})
        if not isinstance(f.value(), dict):
            raise IntegrationError(f"{f.display} is not a JSON object; left untouched")
        env = f.get(["env"])
        if env is not None and not isinstance(env, dict):
            raise IntegrationError(f"{f.display}: env is not an object; left untouched")
        if removing:
            for m in MODES:
                f.unset_owned(m.key, is_our_url(ctx))
            f.prune(["env"], emptied=bool(env))
        else:
            m = mode(ctx)
            for other in MODES:
                if other != m:  # the user switched modes since: our old URL goes
                    f.unset_owned(other.key, is_our_url(ctx))
            f.set_owned(m.key, m.url(ctx), is_our_url(ctx))
    except IntegrationError as e:
        p.problems.append(e.message)
        return
    f.add_to(p, removing=removing)


def _git(ctx: Context, *args: str) -> subprocess.CompletedProcess[str]:
    import subprocess  # deferred (here and below): `check` runs on every prompt, without it

    return subprocess.run(
        ["git", "-C", str(ctx.root), *args], capture_output=True, text=True, check=False
    )


def _exclude_path(ctx: Context) -> Path | None:
    r = _git(ctx, "rev-parse", "--git-path", "info/exclude")
    if r.returncode != 0 or not r.stdout.strip():
        return None
    path = Path(r.stdout.strip())
    return path if path.is_absolute() else ctx.root / path


def _edit_exclude(ctx: Context, p: Plan, *, removing: bool) -> None:
    """Make git ignore the local settings file, with a marked line we can take back."""
    path = _exclude_path(ctx)
    if path is None:
        return
    before = read_text(path)
    text = before or ""
    block = f"{EXCLUDE_MARK}\n{EXCLUDE_LINE}\n"
    key = file_key(ctx, path)
    if removing:
        if block not in text:
            return
        rec = _record(ctx, path)
        after: str | None = text.replace(block, "", 1)
        if rec.get("added_newline") and after and after.endswith("\n") and text.endswith(block):
            after = after[:-1]  # the newline we put before our block, on a file without one
        if after == "" and rec.get("created"):
            after = None
    else:
        if block in text:
            return
        ignored = _git(ctx, "check-ignore", "-q", "--no-index", LOCAL).returncode == 0
        if ignored:
            return
        sep = "" if text == "" or text.endswith("\n") else "\n"
        after = text + sep + block
        rec = {"created": before is None, "added_newline": bool(sep)}
        p.records[key] = {k: v for k, v in rec.items() if v}
    display = ctx.display(path)
    p.changes.append(FileChange(path, display, before, after))
    if removing:
        p.records[key] = {}


def _record(ctx: Context, path: Path) -> dict[str, Any]:
    from pretense_dev.integrations.base import load_state

    rec = load_state(ctx)["files"].get(file_key(ctx, path))
    return rec if isinstance(rec, dict) else {}


# -- drift -----------------------------------------------------------------------------


def check(ctx: Context) -> list[Drift]:
    """Whether Claude Code still points at the proxy and runs our hooks (no subprocess)."""
    out: list[Drift] = []
    local = _read_json(ctx.root / LOCAL)
    if isinstance(local, str):
        out.append(Drift(CLAUDE_CODE, LOCAL, local, f"fix {LOCAL}, then `pretense-dev init`"))
    else:
        m = mode(ctx)
        url = _dig(local, m.key)
        if url is None:
            out.append(Drift(CLAUDE_CODE, LOCAL, f"{m.var} is not set"))
        elif url != m.url(ctx):
            out.append(Drift(CLAUDE_CODE, LOCAL, f"{m.var} is {url}, not {m.url(ctx)}"))
    shared = _read_json(ctx.root / SHARED)
    if isinstance(shared, str):
        out.append(Drift(CLAUDE_CODE, SHARED, shared, f"fix {SHARED}, then `pretense-dev init`"))
    else:
        for event, ours in groups().items():
            present = _dig(shared, ["hooks", event])
            if not isinstance(present, list) or any(g not in present for g in ours):
                out.append(Drift(CLAUDE_CODE, SHARED, f"the {event} hook is missing"))
    for path in (ctx.root / SHARED, ctx.root / LOCAL, ctx.home / ".claude" / "settings.json"):
        data = _read_json(path)
        if isinstance(data, dict) and data.get("disableAllHooks") is True:
            where = ctx.display(path)
            out.append(
                Drift(
                    CLAUDE_CODE,
                    where,
                    "disableAllHooks turns the gate off",
                    f"remove disableAllHooks from {where}",
                )
            )
    managed = MANAGED_SETTINGS.get(sys.platform)
    if managed is not None:
        data = _read_json(managed)
        if isinstance(data, dict):
            m = mode(ctx)
            url = _dig(data, m.key)
            if url is not None and url != m.url(ctx):
                out.append(
                    Drift(
                        CLAUDE_CODE,
                        str(managed),
                        f"managed settings send traffic to {url}, overriding the proxy",
                        f"ask your administrator to remove {m.var} there",
                    )
                )
            if data.get("disableAllHooks") is True or data.get("allowManagedHooksOnly") is True:
                out.append(
                    Drift(
                        CLAUDE_CODE,
                        str(managed),
                        "managed settings turn project hooks off",
                        "ask your administrator to allow project hooks",
                    )
                )
    return out


def _read_json(path: Path) -> Any:
    """Parsed JSON, None if the file is missing, or a one-line problem (str)."""
    import json

    text = read_text(path)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as e:
        return f"not valid JSON ({e.args[0] if e.args else e})"


def _dig(data: Any, path: list[str | int]) -> Any:
    for p in path:
        if not isinstance(data, dict):
            return None
        data = data.get(p)
    return data


# -- the installed version -------------------------------------------------------------


def parse_version(text: str) -> tuple[int, ...] | None:
    """`2.1.331 (Claude Code)` → (2, 1, 331)."""
    m = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(g) for g in m.groups()) if m else None


def installed_version(claude: str | None = None) -> tuple[int, ...] | None:
    """The version of the `claude` on PATH (or at `claude`), or None if there is none.

    Runs `claude --version` (about 0.1-0.3 s): `init`, `doctor` and `verify` call
    it, never the hooks.
    """
    import shutil
    import subprocess

    exe = claude or shutil.which("claude")
    if exe is None:
        return None
    try:
        r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_version(r.stdout)
