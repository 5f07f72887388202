"""The tool-hook gate: the decision for one call, whichever tool made it.

What is decided (a session is verified before it starts):

* session start and every prompt: the repository must be initialised and the
  tool approved by the policy (``tools.approved``); a tool routed through the
  proxy (Claude Code, Copilot) must pass `verify` — proxy up, a pretense
  proxy, this repo's current map (canary), this tool's settings still pointing
  at it.  Cursor is not routed, so it is not asked for the proxy;
* every prompt is scanned for secrets (and, for Cursor, its attached files);
* a tool call that names a file holding a secret is denied: the secret index
  answers for indexed files whose size and mtime still match; any other file
  (git-ignored ``.env``, a key outside the repository, a file edited since)
  is scanned on the spot.

The proxy is reached with a raw loopback request (`loopback`), the index with
plain SQLite; the secret detector is imported only for a prompt or a file that
must be scanned (bench/hooks.py measures the whole call).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pretense_dev.errors import PretenseError
from pretense_dev.integrations.toolhook.dialects import (
    BLOCKING,
    COMMAND_KEYS,
    LIST_KEYS,
    PATH_KEYS,
    PROMPT,
    READ,
    ROUTED,
    SESSION,
    SHELL,
    TOOL,
    Decision,
    ToolHookCall,
)

if TYPE_CHECKING:
    from pretense_dev.repo import Repo

SCAN_LIMIT = 4_000_000  # bytes: a larger file is not scanned on the spot (the proxy still is)


def decide(inp: ToolHookCall) -> Decision:
    """The decision for one hook call (may raise: the caller fails closed)."""
    from pretense_dev.audit import events as ev
    from pretense_dev.repo import Repo

    try:
        repo = _with_cached_policy(Repo.discover(inp.cwd))
    except PretenseError:
        if inp.kind in BLOCKING or inp.kind == SESSION:
            return Decision(
                True,
                f"{inp.cwd} is not inside a git repository, so pretense-dev cannot protect it",
                ev.PROMPT_BLOCKED if inp.kind == PROMPT else ev.SESSION_STARTED,
            )
        return Decision(event="")
    if inp.kind in (SESSION, PROMPT):
        d = _gate(inp, repo)
        if d is None and inp.kind == PROMPT:
            d = _scan_prompt(inp, repo)
        if d is None:
            prompt = inp.payload.get("prompt")
            size = len(prompt.encode("utf-8", "replace")) if isinstance(prompt, str) else 0
            d = Decision(
                event=ev.SESSION_STARTED if inp.kind == SESSION else ev.PROMPT_SUBMITTED,
                mutation_active=inp.caller in ROUTED,
                request_bytes=size,
                reason="" if inp.caller in ROUTED else "Cursor: sent unmutated (cannot be routed)",
            )
        d.repo = repo
        return d
    if inp.kind in (TOOL, READ, SHELL):
        d = _check_files(inp, repo)
        d.repo = repo
        return d
    return Decision(event=ev.TOOL_USE, repo=repo)


def _with_cached_policy(repo: Repo) -> Repo:
    """`repo` with its policy parsed once per content of config.toml in a long-lived process.

    Parsing and validating the policy is most of a warm call's own work (about
    7 ms here; the proxy daemon answers every hook), and the same bytes always
    give the same policy.  A changed, missing or invalid file is read afresh,
    so its errors stay the ones a fresh process reports.
    """
    from pretense_dev.config import parse_config

    try:
        raw = repo.config_path.read_bytes()
        cached = _POLICIES.get(repo.config_path)
        if cached is None or cached[0] != raw:
            # Parsed from the very bytes it is keyed by (a file replaced meanwhile
            # must not leave another text's policy under these bytes).
            cached = (raw, parse_config(raw.decode("utf-8"), str(repo.config_path)))
            _POLICIES[repo.config_path] = cached
    except (OSError, UnicodeDecodeError, PretenseError):
        return repo  # Repo.config reads it again and reports the problem as ever
    repo.__dict__["config"] = cached[1]  # Repo.config is a cached_property
    return repo


_POLICIES: dict[Path, tuple[bytes, Any]] = {}


def _gate(inp: ToolHookCall, repo: Repo) -> Decision | None:
    """Initialised, approved, and (for routed tools) verified; None if all holds."""
    from pretense_dev.audit import events as ev

    blocked = ev.PROMPT_BLOCKED if inp.kind == PROMPT else ev.SESSION_STARTED
    if not repo.is_initialised():
        return Decision(
            True,
            f"{repo.root} is not set up for pretense-dev: run `pretense-dev init`",
            blocked,
        )
    approved = repo.config.tools.approved
    if inp.tool not in approved:
        return Decision(
            True,
            f"{inp.tool} is not approved for this repository (.pretense/config.toml "
            f'tools.approved): ask your team to add "{inp.tool}" there',
            blocked,
        )
    if inp.caller not in ROUTED:
        return None
    from pretense_dev.integrations.verify import run as run_verify

    result = run_verify(repo, tools=(inp.tool,), probe=True)
    if result.ok:
        return None
    first = result.failures[0]
    kind = ev.PROXY_DOWN if first.name in ("proxy", "canary") else ev.DRIFT_DETECTED
    return Decision(True, first.line(), blocked if inp.kind == PROMPT else kind)


def _scan_prompt(inp: ToolHookCall, repo: Repo) -> Decision | None:
    from pretense_dev.audit import events as ev

    prompt = inp.payload.get("prompt")
    if isinstance(prompt, str) and prompt:
        found = _detector(repo).scan_text(prompt)
        if found:
            f = found[0]
            more = f" and {len(found) - 1} more" if len(found) > 1 else ""
            return Decision(
                True,
                f"the prompt holds a secret ({f.rule} {f.redacted}{more}); remove it and send "
                "again — nothing was sent",
                ev.PROMPT_BLOCKED,
                secrets=tuple(ev.SecretRef(x.rule, x.fingerprint, "prompt") for x in found),
            )
    # Cursor: files attached to the prompt go out with it.
    attachments = inp.payload.get("attachments")
    if isinstance(attachments, list):
        paths = [
            a.get("filePath") or a.get("file_path")
            for a in attachments
            if isinstance(a, dict) and a.get("type", "file") == "file"
        ]
        d = _deny_secret_files(inp, repo, [p for p in paths if isinstance(p, str)])
        if d is not None:
            d.event = ev.PROMPT_BLOCKED
            return d
    return None


def _check_files(inp: ToolHookCall, repo: Repo) -> Decision:
    from pretense_dev.audit import events as ev

    candidates = list(_paths_in(inp))
    d = _deny_secret_files(inp, repo, candidates)
    if d is not None:
        return d
    files = tuple(sorted({_display(repo, p) for p in _existing(inp, candidates)}))
    return Decision(event=ev.TOOL_USE, files=files)


def _paths_in(inp: ToolHookCall) -> list[str]:
    """Strings in the tool call that may name files."""
    p = inp.payload
    out: list[str] = []
    if inp.kind == READ:
        if isinstance(p.get("file_path"), str):
            out.append(p["file_path"])
        return out
    if inp.kind == SHELL:
        return _command_words(p.get("command"))
    tool_input: Any = p.get("tool_input", p.get("toolArgs", p.get("toolInput")))
    if isinstance(tool_input, str):  # the Copilot CLI and Cursor's MCP send JSON strings
        try:
            tool_input = json.loads(tool_input)
        except ValueError:
            return out
    _walk(tool_input, out, 0)
    return out


def _walk(value: Any, out: list[str], depth: int) -> None:
    if depth > 6 or not isinstance(value, dict):
        return
    for k, v in value.items():
        if k in PATH_KEYS and isinstance(v, str):
            out.append(v.removeprefix("file://"))
        elif k in LIST_KEYS and isinstance(v, list):
            out.extend(x for x in v if isinstance(x, str))
        elif k in COMMAND_KEYS:
            out.extend(_command_words(v))
        elif isinstance(v, dict):
            _walk(v, out, depth + 1)
        elif isinstance(v, list):
            for item in v:
                _walk(item, out, depth + 1)


def _command_words(command: object) -> list[str]:
    """Words of a shell command that could be paths (`cat .env`, `grep x <key.pem`)."""
    import shlex

    if not isinstance(command, str):
        return []
    try:
        words = shlex.split(command, comments=False, posix=True)
    except ValueError:
        words = command.split()
    out = []
    for w in words:
        w = w.lstrip("<>|&;(").rstrip(";|&)")
        if "=" in w and w.startswith("-"):
            w = w.split("=", 1)[1]
        if w and not w.startswith("-"):
            out.append(w)
    return out


def _existing(inp: ToolHookCall, candidates: list[str]) -> list[Path]:
    out = []
    for c in candidates:
        if len(c) > 4096 or "\0" in c:
            continue
        p = Path(os.path.expanduser(c))
        if not p.is_absolute():
            p = inp.cwd / p
        try:
            if p.is_file():
                out.append(p.resolve())
        except OSError:
            continue
    return out


def _display(repo: Repo, path: Path) -> str:
    try:
        return path.relative_to(repo.root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _deny_secret_files(inp: ToolHookCall, repo: Repo, candidates: list[str]) -> Decision | None:
    """A deny decision naming the first candidate file that holds a secret, if any."""
    from pretense_dev.audit import events as ev

    files = _existing(inp, candidates)
    if not files or not repo.is_initialised():
        return None
    checker = _SecretFiles(repo)
    try:
        for path in files:
            found = checker.findings(path)
            if not found:
                continue
            shown = _display(repo, path)
            f = found[0]
            return Decision(
                True,
                f"{shown} holds a secret ({f.rule} on line {f.line}, {f.redacted}), so the agent "
                f"may not read it — to allow it, put `pretense: allow` on that line or accept "
                f"it with `pretense-dev scan --update-baseline`",
                ev.FILE_READ_BLOCKED,
                files=(shown,),
                secrets=tuple(
                    ev.SecretRef(x.rule, x.fingerprint, f"{shown}:{x.line}") for x in found
                ),
            )
    finally:
        checker.close()
    return None


@dataclass(frozen=True)
class _Stored:
    """A finding as the index stores it (the fields a deny message needs)."""

    rule: str
    fingerprint: str
    line: int
    redacted: str


class _SecretFiles:
    """Whether a file holds an unallowed secret: from the index when it is current, else a scan.

    The index is read through `index.reader` rather than `IndexStore`: importing
    that pulls in the mutation kernel and the whole secrets package (about 25 ms,
    bench/hooks.py) for two point queries.  An index that cannot be read is an
    error (the call is refused), not "no secrets".
    """

    def __init__(self, repo: Repo) -> None:
        from pretense_dev.index.reader import IndexReader, IndexUnreadable

        self.repo = repo
        self.root = repo.root.resolve()
        self._unreadable = IndexUnreadable
        try:
            self.index = IndexReader(repo.index_path)
        except IndexUnreadable as e:
            raise PretenseError(str(e)) from None

    def close(self) -> None:
        self.index.close()

    def findings(self, path: Path) -> list[Any]:
        rel = path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else None
        if rel is not None:
            try:
                # Size and mtime as they were when the indexer read the file.
                indexed = self.index.file_stat(rel)
                st = path.stat()
                if indexed is not None and indexed == (st.st_size, st.st_mtime_ns):
                    # Current: the stored findings answer, minus what the policy allows now.
                    if _path_allowed(self.repo, rel):
                        return []
                    stored = [_Stored(*r) for r in self.index.findings(rel)]
                    base = _baseline(self.repo) if stored else None
                    return [
                        f
                        for f in stored
                        if base is None or not base.contains(rel, f.rule, f.fingerprint)
                    ]
            except self._unreadable as e:
                raise PretenseError(str(e)) from None
        # Not indexed (git-ignored, outside the repository) or changed since: scan it now.
        try:
            if path.stat().st_size > SCAN_LIMIT:
                return []
            data = path.read_bytes()
        except OSError:
            return []
        found: list[Any] = _detector(self.repo).scan_bytes(data, rel)
        return found


def _path_allowed(repo: Repo, rel: str) -> bool:
    patterns = repo.config.secrets.allow_paths
    if not patterns:
        return False
    from pretense_dev.worktree import PathFilter

    return bool(PathFilter(patterns)(rel))


def _baseline(repo: Repo) -> Any:
    from pretense_dev.secrets.baseline import Baseline

    path = repo.root / repo.config.secrets.baseline
    return Baseline.load(path) if path.exists() else None


def _detector(repo: Repo) -> Any:
    """The repository's detector with its policy and baseline (imported only when needed).

    Kept between calls in a long-lived process (the proxy daemon answers the
    gate): reused only while the key, the secrets policy and the baseline's
    bytes are those it was built with, so an edited policy or baseline applies
    to the next call.
    """
    key = repo.key
    policy = repo.config.secrets
    base_path = repo.root / policy.baseline
    try:
        base_bytes: bytes | None = base_path.read_bytes()
    except FileNotFoundError:
        base_bytes = None
    stamp = (key, policy, base_bytes)
    cached = _DETECTORS.get(repo.root)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    from pretense_dev.secrets import Detector

    det = Detector(key, policy, _baseline(repo))
    _DETECTORS[repo.root] = (stamp, det)
    return det


_DETECTORS: dict[Path, tuple[tuple[bytes, Any, bytes | None], Any]] = {}
