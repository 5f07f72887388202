"""`init`: set a repository up (config, id, key, registry, index); `status`; `uninstall`.

Re-running `init` is safe: each step checks what is there and changes only what
is missing or wrong (so a re-run repairs and never clobbers), and the config
is validated before anything is written, so a bad policy file stops `init`
with nothing changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pretense_dev import paths, registry
from pretense_dev.config import DEFAULT_CONFIG_TEXT, Config, load_config
from pretense_dev.errors import PretenseError
from pretense_dev.index.build import build
from pretense_dev.index.indexer import IndexReport
from pretense_dev.keys import KeyInfo, delete_key, ensure_key, key_info, load_key
from pretense_dev.repo import GITIGNORE_TEXT, Repo

if TYPE_CHECKING:
    from pretense_dev.integrations.base import Plan
    from pretense_dev.secrets.model import Finding


@dataclass
class ToolResult:
    """One tool `init` configured (or would configure), and why it chose it."""

    tool: str
    reason: str
    plan: Plan


@dataclass
class InitReport:
    """What `init` did and found."""

    root: Path
    repo_id: str
    created: list[str] = field(default_factory=list)  # files and entries written
    key: KeyInfo | None = None
    index: IndexReport | None = None
    seconds: float = 0.0
    secret_files: int = 0  # files holding at least one of `blocking`
    notes: list[str] = field(default_factory=list)  # steps left to the user
    tools: list[ToolResult] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)  # tools not detected here
    # Secret findings neither in the team's baseline nor under `allow_paths`: each
    # makes the tool hook refuse an agent's read of its file, and the proxy a request.
    blocking: list[Finding] = field(default_factory=list)
    baseline: str = ".pretense/baseline.json"  # where the team's accepted findings live

    @property
    def problems(self) -> list[str]:
        """One line per file left untouched because it could not be edited safely."""
        return [line for t in self.tools for line in t.plan.problems]


def init_repo(
    root: Path,
    *,
    workers: int | None = None,
    tools: Sequence[str] | None = None,
    configure_tools: bool = True,
    hooks: bool = True,
    new_key: bool = False,
    say: Callable[[str], None] | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> InitReport:
    """Initialise (or repair) `root`; see the module docstring.

    `tools` names the tools to configure; None means the ones detected here
    plus those the team policy lists in `tools.configured`.  `new_key` allows
    issuing a new key where an index shows one existed (every synthetic name
    and secret fingerprint changes with it).  `say` shows progress lines (the
    CLI passes one that writes to stderr); `progress` follows the index build
    (pretense_dev/progress.py).
    """
    t0 = time.perf_counter()
    repo = Repo(root)
    # Validate an existing policy before touching anything.
    config = load_config(repo.config_path)
    created: list[str] = []
    repo.state_dir.mkdir(exist_ok=True)
    gi = repo.state_dir / ".gitignore"
    if not gi.exists() or gi.read_text(encoding="utf-8") != GITIGNORE_TEXT:
        paths.atomic_write(gi, GITIGNORE_TEXT)
        created.append(".pretense/.gitignore")
    if not repo.config_path.exists():
        paths.atomic_write(repo.config_path, DEFAULT_CONFIG_TEXT)
        created.append(".pretense/config.toml")
    had_id = repo.repo_id_path.exists()
    repo_id = repo.ensure_repo_id()
    if not had_id:
        created.append(".pretense/repo-id")
    key, info = _key_for(repo, repo_id, new_key)
    if registry.register(repo_id, root):
        created.append(f"registry entry {repo_id}")
    notes: list[str] = []
    if hooks:
        # Secret scanning on commit and push (not an AI-tool setting: --no-tools keeps it).
        from pretense_dev.integrations import git_hooks

        plan = git_hooks.apply(root)
        created += plan.steps
        notes += plan.notes
    report, build_notes = build(
        root,
        repo.index_path,
        config,
        key,
        workers=workers,
        fresh=new_key,
        say=say,
        progress=progress,
    )
    notes += build_notes
    # Read-only: opening the index as a store would turn it to WAL and leave side files.
    from pretense_dev.index.reader import IndexReader
    from pretense_dev.secrets.model import Finding

    with IndexReader(repo.index_path) as reader:
        found = [
            Finding(rule, path, line, end, fp, red, conf)
            for path, rule, fp, line, end, red, conf in reader.every_finding()
        ]
    out = InitReport(root, repo_id, created, info, report, 0.0, 0, notes)
    out.blocking = _not_accepted(root, config, found)
    out.baseline = config.secrets.baseline
    out.secret_files = len({f.path for f in out.blocking})
    if configure_tools:
        _configure_tools(out, repo, config, tools)
    out.notes += sharing_notes(root)
    out.seconds = time.perf_counter() - t0
    return out


# What `init` writes for the whole team: the policy, the commit hooks' config, and
# the tools' hook settings.  Each clone gets the same gates only once they are committed.
SHARED = (
    ".pretense/config.toml",
    ".pretense/.gitignore",
    ".pretense/baseline.json",  # the findings the team accepted (`scan --update-baseline`)
    ".pre-commit-config.yaml",
    ".husky/pre-commit",
    ".husky/pre-push",
    ".claude/settings.json",
    ".cursor/hooks.json",
    ".github/hooks/pretense-dev.json",
)


def sharing_notes(root: Path) -> list[str]:
    """What is left to do so that the team gets what `init` wrote for it.

    A shared file init wrote or changed that git does not have yet is to be
    committed — and the pre-commit framework refuses every commit while its
    config has unstaged changes, which a user would otherwise meet as a
    stranger's error at the next commit.  One the repository's own ignore rules
    cover (hugo's `.gitignore` holds `.claude/`) would silently never reach a
    teammate: say which rule, and how to add it anyway.
    """
    import subprocess

    present = [rel for rel in SHARED if (root / rel).is_file()]
    if not present:
        return []

    # `--no-optional-locks`: a status must not refresh the index (a re-run of init
    # writes nothing).
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "--no-optional-locks", *args, "--", *present],
            cwd=root, capture_output=True, text=True, check=False, timeout=60,
        ).stdout  # fmt: skip

    try:
        status = git("status", "--porcelain=v1", "-z", "--untracked-files=all")
        # Tracked files are never reported; each line is "source:line:pattern<TAB>path",
        # a pattern starting with "!" being one that un-ignores the path.
        ignored = git("check-ignore", "-v").splitlines()
    except (OSError, subprocess.SubprocessError):
        return []  # git itself failing has been said by the steps before
    to_commit = [
        entry[3:]
        for entry in status.split("\0")
        if len(entry) > 3 and (entry[:2] == "??" or entry[1] != " ")
    ]
    notes = []
    if to_commit:
        hooks_config = " (pre-commit refuses every commit while its config has unstaged changes)"
        notes.append(
            f"commit {', '.join(to_commit)} so that every clone gets the same policy and gates"
            + (hooks_config if ".pre-commit-config.yaml" in to_commit else "")
        )
    for line in ignored:
        rule, _, rel = line.partition("\t")
        if rule.split(":", 2)[-1].startswith("!"):
            continue  # the last rule that matches un-ignores it
        notes.append(
            f"{rel} is ignored by git here ({rule}), so a teammate's clone will not get it: "
            f"`git add -f {rel}`"
        )
    return notes


SHOWN_FILES = 10


def blocking_lines(report: InitReport, width: int = 80) -> list[str]:
    """What `init` says about the secrets already in the repository, and what they block.

    Agents read files and send them: a secret in a file the agent opens makes
    the tool hook refuse the read, and one that reaches a prompt makes the proxy
    refuse the request.  Saying so at `init`, file by file, with the exact way
    to accept what the team accepts, beats finding out from a blocked session.
    Prose is wrapped at word boundaries to `width`; a path is never split.
    """
    import re
    import textwrap

    from pretense_dev.secrets.report import shown_path

    found = report.blocking
    if not found:
        return []
    by_file: dict[str, list[Finding]] = {}
    for f in found:
        by_file.setdefault(f.path or "", []).append(f)

    def prose(text: str) -> list[str]:
        # A quoted marker or a command is never split across lines (NBSP until wrapped).
        for keep in re.findall(r'"[^"]*"|`[^`]*`', text):
            text = text.replace(keep, keep.replace(" ", "\u00a0"))
        return [
            line.replace("\u00a0", " ")
            for line in textwrap.wrap(
                text,
                width,
                initial_indent="  ",
                subsequent_indent="  ",
                break_long_words=False,
                break_on_hyphens=False,
            )
        ]

    n, files = len(found), len(by_file)
    out = [f"  secrets: {_count(n, 'finding')} in {_count(files, 'file')} will block AI agents:"]
    for path in list(by_file)[:SHOWN_FILES]:
        first, *rest = by_file[path]
        more = f", and {len(rest)} more in this file" if rest else ""
        where = f"    {shown_path(path)}:{first.line}:"
        what = f"{first.rule} ({first.confidence}) {first.redacted}{more}"
        if len(where) + 1 + len(what) <= width:
            out.append(f"{where} {what}")
        else:  # a long path: the finding goes on its own line rather than wrap
            out += [where, f"      {what}"]
    if files > SHOWN_FILES:
        out.append(
            f"    … and {_count(files - SHOWN_FILES, 'more file')} "
            "(`pretense-dev scan` lists every finding)"
        )
    out += prose(
        f"The tool hooks refuse an agent's read of {'this file' if files == 1 else 'these files'}"
        ", and the proxy refuses a request that carries one of these secrets. Remove each "
        'secret; if one is not a secret, add "pretense: allow" to its line. To accept all '
        "current findings as the team's: `pretense-dev scan --update-baseline`, then commit "
        f"{report.baseline}."
    )
    return out


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _not_accepted(root: Path, config: Config, found: list[Finding]) -> list[Finding]:
    """The stored findings an agent would be refused for: the baseline's and allowed paths' out.

    The index keeps every finding it saw; the tool hooks and the proxy skip the
    ones the team accepted in the baseline and those under `allow_paths` (which
    may have been added since the file was indexed), so `init` does the same or
    it would warn about findings that block nothing.
    """
    if not found:
        return []
    from pretense_dev.secrets.baseline import Baseline
    from pretense_dev.worktree import PathFilter

    allowed_path = PathFilter(config.secrets.allow_paths) if config.secrets.allow_paths else None
    try:
        baseline = Baseline.load(root / config.secrets.baseline)
    except PretenseError:
        baseline = Baseline()  # a corrupt baseline accepts nothing: the hooks refuse it too
    return [
        f
        for f in found
        if not (allowed_path is not None and f.path is not None and allowed_path(f.path))
        and not baseline.contains(f.path, f.rule, f.fingerprint)
    ]


def _key_for(repo: Repo, repo_id: str, new_key: bool) -> tuple[bytes, KeyInfo]:
    """The repository's key; a new one only on a first `init` or when asked with --new-key.

    An index that exists was built with a key; issuing another one silently
    would change every synthetic name (a conversation in progress stops making
    sense) and every secret fingerprint (the baseline stops matching).
    """
    if new_key:
        delete_key(repo_id)
        return ensure_key(repo_id)
    try:
        return load_key(repo_id), key_info(repo_id)
    except PretenseError as e:
        if repo.index_path.exists():
            raise PretenseError(
                f"{e.message}, but this repository was indexed with one: a new key would "
                "change every synthetic name and secret fingerprint",
                "restore the key (see `pretense-dev doctor`), or run "
                "`pretense-dev init --new-key` to issue a new one and rebuild the index",
            ) from None
    return ensure_key(repo_id)


def _configure_tools(
    out: InitReport, repo: Repo, config: Config, named: Sequence[str] | None
) -> None:
    from pretense_dev.integrations import policy, setup
    from pretense_dev.integrations.base import TOOLS, load_state, save_state

    ctx = setup.context_for(repo.root, out.repo_id, config.tools.copilot_models)
    if named is not None:
        chosen = {t: "named with --tools" for t in named}
    else:
        found = setup.detect(ctx)
        chosen = {t: "listed in tools.configured" for t in config.tools.configured}
        for t in TOOLS:
            if t in found:
                chosen.setdefault(t, found[t])
        out.not_found = [t for t in TOOLS if t not in chosen]
    ordered = [t for t in TOOLS if t in chosen]
    if ordered:
        from pretense_dev.integrations import launcher

        # Before the settings that run it: the committed hook entries call this
        # clone's launcher, which execs this interpreter by absolute path.
        if launcher.write(repo.root):
            out.created.append(f"{launcher.REL} (runs {launcher.interpreter()})")
    for tool, plan in zip(ordered, setup.configure(ctx, ordered), strict=True):
        out.tools.append(ToolResult(tool, chosen[tool], plan))
    ok = [t.tool for t in out.tools if not t.plan.problems]
    from pretense_dev.proxy import state as proxy_state

    routed = {"claude-code", "copilot", "codex", "aider", "gemini-cli"}
    if routed & set(ok) and proxy_state.running(probe=False) is None:
        out.notes.append(
            "start the proxy with `pretense-dev proxy start`: until it runs, the Claude Code "
            "and Copilot hooks refuse every prompt and the routed tools' calls fail"
        )
    added = policy.add_configured(repo.config_path, ok)
    if added:
        out.created.append(f".pretense/config.toml tools.configured += {', '.join(added)}")
        state = load_state(ctx)
        state["policy_added"] = sorted({*state.get("policy_added", []), *added})
        save_state(ctx, state)


def plan_tools(root: Path, tools: Sequence[str] | None) -> list[ToolResult]:
    """What `init` would change in each tool's settings, writing nothing (`init --dry-run`)."""
    from pretense_dev.integrations import setup
    from pretense_dev.integrations.base import TOOLS

    repo = Repo(root)
    config = load_config(repo.config_path)
    try:
        repo_id = repo.repo_id
    except PretenseError:
        repo_id = "<repo-id>"
    ctx = setup.context_for(root, repo_id, config.tools.copilot_models)
    if tools is None:
        found = setup.detect(ctx)
        chosen = {t: "listed in tools.configured" for t in config.tools.configured}
        for t in TOOLS:
            if t in found:
                chosen.setdefault(t, found[t])
    else:
        chosen = {t: "named with --tools" for t in tools}
    ordered = [t for t in TOOLS if t in chosen]
    plans = setup.configure(ctx, ordered, dry_run=True)
    return [ToolResult(t, chosen[t], p) for t, p in zip(ordered, plans, strict=True)]


@dataclass
class UninstallReport:
    """What `uninstall` removed, and what it left."""

    root: Path
    plans: list[Plan] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """One line per file that could not be cleaned safely."""
        return [line for p in self.plans for line in p.problems]


def uninstall_repo(root: Path, *, purge: bool = False) -> UninstallReport:
    """Remove exactly what `init` added to tool settings (and with `purge`, all our state).

    Without `purge` the policy, the index, the key and the registry entry stay,
    so `init` can set the tools up again in a second.
    """
    from pretense_dev.integrations import policy, setup
    from pretense_dev.integrations.base import load_state

    repo = Repo(root)
    try:
        repo_id = repo.repo_id
    except PretenseError:
        repo_id = ""
    try:
        models = load_config(repo.config_path).tools.copilot_models
    except PretenseError:
        models = ()
    ctx = setup.context_for(root, repo_id, models)
    out = UninstallReport(root)
    state = load_state(ctx)
    out.plans = setup.unconfigure(ctx)
    for p in out.plans:
        for ch in p.changes:
            if ch.changed:
                what = "deleted" if ch.after is None else "took our entries out of"
                out.removed.append(f"{what} {ch.display}")
    from pretense_dev.integrations import git_hooks, launcher

    if not any(p.problems for p in out.plans) and launcher.remove(root):
        out.removed.append(f"deleted {launcher.REL}")
    try:
        out.removed.extend(git_hooks.remove(root))
    except PretenseError as e:
        out.plans.append(_problem_plan(e.lines()[0]))
    added = [t for t in state.get("policy_added", []) if isinstance(t, str)]
    if added and repo.config_path.exists():
        try:
            if policy.remove_configured(repo.config_path, added):
                out.removed.append("took our entries out of .pretense/config.toml tools.configured")
        except PretenseError as e:
            out.plans.append(_problem_plan(e.lines()[0]))
    if ctx.state_path.exists() and not out.problems:
        ctx.state_path.unlink()
    if purge:
        _purge(repo, repo_id, out)
    else:
        out.kept.append(
            ".pretense/ (policy, index), the key and the registry entry — "
            "`pretense-dev uninstall --purge` removes them"
        )
    return out


def _problem_plan(line: str) -> Plan:
    from pretense_dev.integrations.base import Plan

    return Plan("policy", problems=[line])


def _purge(repo: Repo, repo_id: str, out: UninstallReport) -> None:
    import contextlib

    from pretense_dev.keys import delete_key

    state = repo.state_dir
    for name in (
        "index.db",
        "index.db-wal",
        "index.db-shm",
        "index.lock",  # the build lock (index/build.py)
        paths.REPO_ID_NAME,
        ".gitignore",
    ):
        p = state / name
        if p.exists():
            p.unlink()
            out.removed.append(f"deleted .pretense/{name}")
    cfg = repo.config_path
    if cfg.exists():
        if cfg.read_text(encoding="utf-8") == DEFAULT_CONFIG_TEXT:
            cfg.unlink()
            out.removed.append("deleted .pretense/config.toml (the unchanged default)")
        else:
            out.kept.append(".pretense/config.toml (your team's policy; delete it yourself)")
    # The baseline is the team's record of accepted findings (committed, like the
    # policy); anything else left here was not written by us.  Both stay, and
    # the report says so: "purged" must not hide a file that is still there.
    left = sorted(p.name for p in state.iterdir()) if state.is_dir() else []
    for name in left:
        if name == paths.CONFIG_NAME:
            continue  # reported above
        if name == "baseline.json":
            out.kept.append(
                ".pretense/baseline.json (your team's accepted secret findings; delete it yourself)"
            )
        elif name == "integrations.json":
            out.kept.append(
                ".pretense/integrations.json (the record of the tool settings above "
                "that could not be cleaned)"
            )
        else:
            out.kept.append(f".pretense/{name} (not written by pretense-dev)")
    with contextlib.suppress(OSError):
        state.rmdir()
    if repo_id:
        if registry.unregister(repo_id):
            out.removed.append(f"deleted registry entry {repo_id}")
        delete_key(repo_id)
        out.removed.append(f"deleted the key of {repo_id}")
