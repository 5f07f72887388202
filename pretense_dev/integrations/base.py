"""What every tool integration shares: plans, file changes, ownership records, drift.

Each tool module (`claude_code`, `cursor`, `copilot`) offers the same four
functions, as `git_hooks` does for the git hooks:

* ``plan(ctx) -> Plan`` — what `apply` would change, as whole-file before/after
  texts (``Plan.diff()`` shows a unified diff), plus what cannot be done;
* ``apply(ctx) -> Plan`` — plan, then write: temp file + rename, only files whose
  text changes, each re-validated, and only if the file still holds the text the
  plan was made from;
* ``check(ctx) -> list[Drift]`` — does the tool still point at the proxy and run
  our hooks?  Cheap: `verify` calls it before every prompt;
* ``remove(ctx) -> Plan`` — take out exactly what we added (restoring any value
  we replaced), and write.

Ownership: we never take a user's setting over.  We recognise what we wrote
without a side file: a hook
handler is ours when its command runs ``pretense-dev hook``; a setting is ours
when it holds the value we write.  What cannot be recognised that way — which
containers and files we created, and the exact original text of a value we
replaced — is recorded in ``.pretense/integrations.json`` (local, git-ignored),
so `remove` puts the file back byte for byte.  Without that record (a fresh
clone, a deleted ``.pretense/``) `remove` still takes out everything of ours and
leaves the rest; it only cannot know what to delete *around* it.

A file we cannot parse is never touched: the plan carries one line naming it,
and the other files of the plan are still handled.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pretense_dev.integrations.jsonedit import Document

from pretense_dev import paths
from pretense_dev.errors import PretenseError

CLAUDE_CODE = "claude-code"
CURSOR = "cursor"
COPILOT = "copilot"
CODEX = "codex"
AIDER = "aider"
GEMINI_CLI = "gemini-cli"
TOOLS = (CLAUDE_CODE, CURSOR, COPILOT, CODEX, AIDER, GEMINI_CLI)

DEFAULT_PROXY_URL = "http://127.0.0.1:9339"
STATE_NAME = "integrations.json"
STATE_VERSION = 1

# The marker of every hook command we install: `…/pretense-dev hook <tool> <event>` (the
# launcher, `.pretense/bin/pretense-dev`, or `pretense-dev.cmd` on Windows; a bare
# `pretense-dev hook …` was written by older versions and is ours too).
_OUR_COMMAND = re.compile(r"(?:^|[\s/\\\"'])pretense-dev(?:\.cmd)?[\"']?\s+hook\s")


def is_our_command(command: object) -> bool:
    """Whether a hook command string is one of ours."""
    return isinstance(command, str) and bool(_OUR_COMMAND.search(command))


def manifest(tool: str) -> dict[str, Any]:
    """The hook manifest we install for `tool`: `integrations/hooks/<tool>.json`.

    Data, one source of truth, shipped in the wheel (`hooks/` at the
    repository root links here).  Every command runs this clone's launcher
    through the project-directory variable the tool sets, never a bare
    `pretense-dev` looked up on PATH (a tool started from a GUI does not have
    the virtualenv on PATH) and never one developer's absolute path (the files
    are committed): see `launcher.py`, which also explains the `|| … exit 2`
    that makes a missing launcher block in every tool.  Read by path next to
    this module rather than through importlib.resources: `check` reads it
    before every prompt, and the package is never imported from a zip.
    """
    path = Path(__file__).with_name("hooks") / f"{tool}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


@dataclass(frozen=True)
class Context:
    """Everything an integration needs to know about where it works."""

    root: Path  # the repository
    repo_id: str
    proxy_url: str = DEFAULT_PROXY_URL  # scheme://host:port of the proxy, no path
    home: Path = field(default_factory=Path.home)
    copilot_models: tuple[str, ...] = ("gpt-4.1",)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def repo_url(self) -> str:
        """The repository's prefix on the proxy (the Anthropic SDK's base URL)."""
        return f"{self.proxy_url}/r/{self.repo_id}"

    @property
    def state_path(self) -> Path:
        """`.pretense/integrations.json`: what we created or replaced (local)."""
        return paths.state_dir(self.root) / STATE_NAME

    def display(self, path: Path) -> str:
        """A path as people read it: repo-relative inside the repo, `~/…` under home."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            pass
        try:
            return "~/" + path.relative_to(self.home).as_posix()
        except ValueError:
            return str(path)


@dataclass(frozen=True)
class FileChange:
    """One file's text before and after (None: the file does not exist)."""

    path: Path
    display: str
    before: str | None
    after: str | None
    # Directories to remove after deleting the file, if empty (ones we created).
    prune_dirs: tuple[Path, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether applying this would change the file."""
        return self.before != self.after

    def diff(self) -> str:
        """A unified diff, `a/…` and `b/…` as git shows it."""
        import difflib  # deferred: only `init --dry-run` shows diffs, hooks never do

        a = (self.before or "").splitlines(keepends=True)
        b = (self.after or "").splitlines(keepends=True)
        old = "/dev/null" if self.before is None else f"a/{self.display}"
        new = "/dev/null" if self.after is None else f"b/{self.display}"
        out = "".join(difflib.unified_diff(a, b, old, new))
        if out and not out.endswith("\n"):
            out += "\n\\ No newline at end of file\n"
        return out


@dataclass
class Plan:
    """What an integration would do (or did): changes, notes, problems, ownership records."""

    tool: str
    changes: list[FileChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what cannot be done, said plainly
    problems: list[str] = field(default_factory=list)  # one line per file left untouched
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # state file updates

    @property
    def changed(self) -> bool:
        """Whether any file would change."""
        return any(c.changed for c in self.changes)

    def diff(self) -> str:
        """Every change as one unified diff."""
        return "".join(c.diff() for c in self.changes if c.changed)

    def touched(self) -> list[str]:
        """Display names of the files that change."""
        return [c.display for c in self.changes if c.changed]


def all_or_nothing(p: Plan) -> Plan:
    """A tool whose files cannot all be set up gets none of them.

    Half a setup is worse than none: a Claude Code routed through the proxy by
    `settings.local.json` but without the hooks of `settings.json` looks
    protected while no prompt is gated.  So when any file is left untouched,
    nothing is written for that tool, and the note says exactly that.
    """
    if not p.problems:
        return p
    p.changes.clear()
    p.records.clear()
    p.notes[:] = [
        f"{p.tool}: nothing was changed for it (not routed, no hooks) because of the "
        "problem below; fix it, then run `pretense-dev init`"
    ]
    return p


@dataclass(frozen=True)
class Drift:
    """A way a tool no longer points at the proxy or no longer runs our hooks."""

    tool: str
    where: str
    problem: str
    fix: str = "pretense-dev init"

    def line(self) -> str:
        """One line for people."""
        fix = f"run `{self.fix}`" if self.fix.startswith("pretense-dev") else self.fix
        return f"{self.tool}: {self.where}: {self.problem} — {fix}"


class IntegrationError(PretenseError):
    """A file could not be changed safely; nothing was written to it."""


# -- the ownership record -----------------------------------------------------------


def load_state(ctx: Context) -> dict[str, Any]:
    """The ownership record (empty if there is none or it is unreadable)."""
    try:
        data = json.loads(ctx.state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"version": STATE_VERSION, "files": {}}
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return {"version": STATE_VERSION, "files": {}}
    return data


def save_state(ctx: Context, state: dict[str, Any]) -> None:
    """Write the ownership record (only if it changed)."""
    text = json.dumps(state, indent=2, sort_keys=True) + "\n"
    try:
        if ctx.state_path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    if not state.get("files") and not any(k for k in state if k not in ("version", "files")):
        if ctx.state_path.exists():
            ctx.state_path.unlink()
        return
    if ctx.state_path.parent.exists():
        paths.atomic_write(ctx.state_path, text, mode=0o600)


def file_key(ctx: Context, path: Path) -> str:
    """How the record names a file: repo-relative inside the repo, else absolute."""
    try:
        return path.relative_to(ctx.root).as_posix()
    except ValueError:
        return str(path)


# -- reading and writing files ---------------------------------------------------------


def read_text(path: Path) -> str | None:
    """The file's text (newlines untouched), or None if it does not exist."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            return f.read()
    except FileNotFoundError:
        return None


def write_changes(plan: Plan) -> None:
    """Write each changed file of `plan` (temp file + rename), refusing stale plans.

    A file that changed on disk since the plan was made is left alone and
    reported: we never overwrite an edit we did not see.
    """
    for ch in plan.changes:
        if not ch.changed:
            continue
        now = read_text(ch.path)
        if now != ch.before:
            plan.problems.append(f"{ch.display}: changed while being edited; left as is")
            continue
        if ch.after is None:
            ch.path.unlink()
            for d in ch.prune_dirs:
                try:
                    d.rmdir()
                except OSError:  # not empty (or gone): someone else's files live there
                    break
            continue
        mode = ch.path.stat().st_mode & 0o777 if ch.path.exists() else 0o644
        paths.atomic_write(ch.path, ch.after.encode("utf-8"), mode=mode)


def apply_plan(ctx: Context, plan: Plan) -> Plan:
    """Write `plan` and merge its ownership records into the state file."""
    write_changes(plan)
    if plan.records:
        state = load_state(ctx)
        files = state.setdefault("files", {})
        for key, rec in plan.records.items():
            if rec:
                files[key] = rec
            else:
                files.pop(key, None)
        save_state(ctx, state)
    return plan


class Edit(Protocol):
    """A tool's edit: adds its file changes to `p` (or, `removing`, their undoing)."""

    def __call__(self, ctx: Context, p: Plan, *, removing: bool) -> None:
        """Edit (typing only)."""


def planned(ctx: Context, tool: str, edit: Edit, *notes: str) -> Plan:
    """The plan of a tool whose setup is one edit: the edit, then `notes`, all or nothing."""
    p = Plan(tool)
    edit(ctx, p, removing=False)
    p.notes.extend(notes)
    return all_or_nothing(p)


def removed(ctx: Context, tool: str, edit: Edit) -> Plan:
    """Undo a tool's one edit, and write."""
    p = Plan(tool)
    edit(ctx, p, removing=True)
    return apply_plan(ctx, p)


def env_override(ctx: Context, tool: str, var: str, url: str, problem: str) -> list[Drift]:
    """A drift when the environment sets `var` to other than `url` (the shell wins)."""
    value = ctx.environ.get(var)
    if value and value.rstrip("/") != url:
        return [Drift(tool, "environment", problem, f"unset {var}")]
    return []


def missing_dirs(path: Path) -> list[Path]:
    """The parent directories of `path` that do not exist yet, deepest first."""
    out = []
    d = path.parent
    while not d.exists() and d != d.parent:
        out.append(d)
        d = d.parent
    return out


def edit_whole_file(
    ctx: Context,
    p: Plan,
    path: Path,
    display: str,
    before: str | None,
    text: str,
    *,
    removing: bool,
) -> None:
    """Write a file that is wholly ours as `text`, or delete it (and the dirs we made).

    The caller has already made sure `before` (the file's text now) is ours.
    """
    key = file_key(ctx, path)
    if removing:
        if before is None:
            return
        rec = load_state(ctx)["files"].get(key) or {}
        dirs = tuple(Path(d) for d in rec.get("created_dirs", []))
        p.changes.append(FileChange(path, display, before, None, dirs))
        p.records[key] = {}
        return
    p.changes.append(FileChange(path, display, before, text))
    if before is None:
        p.records[key] = {"created": True, "created_dirs": [str(d) for d in missing_dirs(path)]}


# -- editing one JSON file with ownership ----------------------------------------------


class JsonFile:
    """One JSON/JSONC file being edited, with its ownership record.

    `doc` is None when the file does not exist yet (it is created on the first
    edit).  Paths are lists of keys and indices, as in `jsonedit`.
    """

    def __init__(self, ctx: Context, path: Path, *, strict: bool, empty: Any) -> None:
        self.ctx = ctx
        self.path = path
        self.display = ctx.display(path)
        self.strict = strict
        self.before = read_text(path)
        self.key = file_key(ctx, path)
        rec = load_state(ctx)["files"].get(self.key)
        self.record: dict[str, Any] = dict(rec) if isinstance(rec, dict) else {}
        self.empty = empty
        self.doc: Document | None = None
        # Deferred: `check` (before every prompt) never edits, so never needs the editor.
        from pretense_dev.integrations.jsonedit import Document, JsonEditError

        if self.before is not None:
            try:
                self.doc = Document(self.before, strict=strict)
            except JsonEditError as e:
                kind = "valid JSON" if strict else "valid JSON with comments"
                raise IntegrationError(
                    f"{self.display} is not {kind} ({e}); left untouched"
                ) from None

    def value(self) -> Any:
        """The current Python value (the empty value for a missing file)."""
        return self.empty if self.doc is None else self.doc.value()

    def _ensure_doc(self) -> Document:
        from pretense_dev.integrations.jsonedit import Document

        if self.doc is None:
            self.doc = Document(json.dumps(self.empty) + "\n", strict=self.strict)
            self.record["created"] = True
            dirs = missing_dirs(self.path)
            if dirs:
                self.record["created_dirs"] = [str(d) for d in dirs]
        return self.doc

    def get(self, path: list[str | int], default: Any = None) -> Any:
        """The value at `path`, or `default`."""
        return default if self.doc is None else self.doc.get(path, default)

    def _created(self) -> list[list[str | int]]:
        return [list(p) for p in self.record.get("created_paths", [])]

    def created(self, path: list[str | int]) -> bool:
        """Whether the record says we added `path` (False without a record)."""
        return list(path) in self._created()

    def _note_created(self, path: list[str | int]) -> None:
        created = self._created()
        if path not in created:
            created.append(path)
            self.record["created_paths"] = created

    def set_owned(
        self,
        path: list[str | int],
        value: Any,
        is_ours: Callable[[Any], bool] | None = None,
    ) -> None:
        """Set `path` to `value`, remembering the user's value it replaces.

        `is_ours` recognises values we wrote earlier (an older proxy port, say):
        those are replaced without being recorded as the user's.
        """
        doc = self._ensure_doc()
        for i in range(1, len(path)):
            if doc.node(path[:i]) is None:
                self._note_created(path[:i])
        current = doc.get(path, _MISSING)
        if current is _MISSING:
            self._note_created(path)
        elif current != value and not (is_ours or (lambda v: v == value))(current):
            self.record.setdefault("restore", {})[json.dumps(path)] = doc.raw(path)
        if current != value:
            doc.set(path, value)

    def unset_owned(self, path: list[str | int], is_ours: Callable[[Any], bool]) -> None:
        """Undo `set_owned`: restore the recorded original, or delete the key.

        Only if the value is still ours: a value the user changed since is theirs.
        """
        if self.doc is None or self.doc.node(path) is None:
            return
        if not is_ours(self.doc.get(path)):
            return
        raw = self.record.get("restore", {}).get(json.dumps(path))
        if raw is not None:
            self.doc.replace_raw(path, raw)
        else:
            self.doc.delete(path)

    def ensure_items(
        self,
        array_path: list[str | int],
        wanted: list[Any],
        is_ours: Callable[[Any], bool],
    ) -> None:
        """Make the array at `array_path` hold exactly `wanted` as its items of ours.

        Ours that already match stay where they are; stale or duplicate ones
        are removed; missing ones are appended.  Items that are not ours are
        never touched.  Missing containers are created (and recorded).
        """
        doc = self._ensure_doc()
        if doc.node(array_path) is None:
            self.set_owned(array_path, [])
        current = doc.get(array_path)
        if not isinstance(current, list):
            where = "/".join(map(str, array_path))
            raise IntegrationError(f"{self.display}: {where} is not a list; left untouched")
        todo = list(wanted)
        for i in reversed(range(len(current))):
            item = current[i]
            if not is_ours(item):
                continue
            if item in todo and current.index(item) == i:
                todo.remove(item)
            else:
                doc.delete([*array_path, i])
        for item in wanted:
            if item in todo:
                doc.append(array_path, item)
                todo.remove(item)

    def remove_items(self, array_path: list[str | int], is_ours: Callable[[Any], bool]) -> None:
        """Remove every item of ours from the array at `array_path`."""
        if self.doc is None:
            return
        current = self.doc.get(array_path)
        if not isinstance(current, list):
            return
        for i in reversed(range(len(current))):
            if is_ours(current[i]):
                self.doc.delete([*array_path, i])

    def prune(self, path: list[str | int], *, emptied: bool) -> None:
        """Delete the container at `path` if it is empty and we created it.

        With no ownership record (a fresh clone), a container that our removal
        just `emptied` is taken to be ours: an empty hook list means nothing.
        """
        if self.doc is None:
            return
        v = self.doc.get(path, _MISSING)
        if v not in ({}, []):
            return
        ours = path in self._created() if self.record else emptied
        if ours:
            self.doc.delete(path)

    def prune_key(self, path: list[str | int]) -> None:
        """Delete a scalar we added (recorded as created) — only with a record."""
        if self.doc is not None and path in self._created() and self.doc.node(path) is not None:
            self.doc.delete(path)

    def change(self, *, removing: bool = False) -> FileChange:
        """The file change, deleting a file we created that is now empty again."""
        after = None if self.doc is None else self.doc.text
        dirs: tuple[Path, ...] = ()
        if (
            removing
            and self.doc is not None
            and self.record.get("created")
            and self.doc.value() == self.empty
        ):
            after = None
            dirs = tuple(Path(d) for d in self.record.get("created_dirs", []))
        return FileChange(self.path, self.display, self.before, after, dirs)

    def record_update(self, *, removing: bool = False) -> dict[str, Any]:
        """What the state file should hold for this file afterwards."""
        if removing:
            return {}
        return self.record

    def add_to(self, p: Plan, *, removing: bool = False) -> None:
        """Put this file's change and its ownership record into `p`."""
        p.changes.append(self.change(removing=removing))
        p.records[self.key] = self.record_update(removing=removing)


_MISSING = object()


# -- a marked block of lines in a text file ---------------------------------------------


def _block_span(text: str, start: str, end: str) -> tuple[int, int] | None:
    """Where our block (its `start` line through its `end` line) sits in `text`."""
    i = 0 if text.startswith(start + "\n") else text.find("\n" + start + "\n")
    if i < 0:
        return None
    if i > 0:
        i += 1
    j = text.find("\n" + end + "\n", i)
    if j < 0:
        return None
    return i, j + len(end) + 2


def edit_block(
    ctx: Context,
    p: Plan,
    path: Path,
    block: str,
    *,
    removing: bool,
    key: str | None = None,
) -> None:
    """Add, refresh or take out our block of lines in a line-based text file.

    `block` is whole lines, its first line the start mark and its last the end
    mark (both comments in the file's syntax).  It is appended at the end of the
    file; a block of ours already there (an older proxy port, say) is replaced
    where it stands.  Taking it out restores the file byte for byte: the newline
    we had to add before it, on a file without a final one, goes too, and a file
    we created is deleted (with the directories we created for it, if empty).
    `key` names the ownership record when one file holds blocks of several tools.
    """
    lines = block.split("\n")
    start, end = lines[0], lines[-2]
    display = ctx.display(path)
    before = read_text(path)
    text = before or ""
    key = key or file_key(ctx, path)
    span = _block_span(text, start, end)
    if removing:
        if span is None:
            return
        rec = load_state(ctx)["files"].get(key) or {}
        i, j = span
        after: str | None = text[:i] + text[j:]
        if rec.get("added_newline") and j == len(text) and after and after.endswith("\n"):
            after = after[:-1]
        dirs: tuple[Path, ...] = ()
        if after == "" and rec.get("created"):
            after = None
            dirs = tuple(Path(d) for d in rec.get("created_dirs", []))
        p.changes.append(FileChange(path, display, before, after, dirs))
        p.records[key] = {}
        return
    if span is not None:
        p.changes.append(
            FileChange(path, display, before, text[: span[0]] + block + text[span[1] :])
        )
        return
    sep = "" if text == "" or text.endswith("\n") else "\n"
    p.changes.append(FileChange(path, display, before, text + sep + block))
    rec = {
        "created": before is None,
        "added_newline": bool(sep),
        "created_dirs": [str(d) for d in missing_dirs(path)] if before is None else [],
    }
    p.records[key] = {k: v for k, v in rec.items() if v}


def has_block(path: Path, block: str) -> bool:
    """Whether the file holds exactly our `block` (for drift checks)."""
    text = read_text(path)
    return text is not None and (text.startswith(block) or ("\n" + block) in text)


def exclude_locally(
    ctx: Context, p: Plan, rels: str | tuple[str, ...], tool: str, *, removing: bool
) -> None:
    """Keep per-clone files out of git with a marked block in ``.git/info/exclude``.

    Only the files git neither tracks nor already ignores (a file our block
    lists stays listed); one block per tool, with its own ownership record, so
    tools are set up and taken out separately.
    """
    import subprocess  # deferred: `check` runs on every prompt without it

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "-C", str(ctx.root), *args], capture_output=True, text=True, check=False
        )

    r = git("rev-parse", "--git-path", "info/exclude")
    if r.returncode != 0 or not r.stdout.strip():
        return
    path = Path(r.stdout.strip())
    path = path if path.is_absolute() else ctx.root / path
    start = f"# pretense-dev: local {tool} settings (pretense-dev uninstall removes this)"
    end = f"# pretense-dev: end of local {tool} settings"
    wanted = (rels,) if isinstance(rels, str) else rels
    if not removing:
        text = read_text(path) or ""
        span = _block_span(text, start, end)
        listed = set(text[span[0] : span[1]].splitlines()) if span else set()
        wanted = tuple(
            rel
            for rel in wanted
            if f"/{rel}" in listed or git("check-ignore", "-q", "--no-index", rel).returncode != 0
        )
        if not wanted:
            return
    block = "\n".join([start, *(f"/{rel}" for rel in wanted), end]) + "\n"
    edit_block(ctx, p, path, block, removing=removing, key=f"{file_key(ctx, path)}#{tool}")


def is_tracked(ctx: Context, rel: str) -> bool:
    """Whether git tracks `rel` (a committed file must not get a per-clone URL)."""
    import subprocess

    r = subprocess.run(
        ["git", "-C", str(ctx.root), "ls-files", "--error-unmatch", "--", rel],
        capture_output=True,
        text=True,
        check=False,
    )
    return r.returncode == 0
