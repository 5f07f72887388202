"""`pretense-dev verify`: whether this repository is really protected right now.

It passes only if (docs/architecture.md, "Verify and the canary"):

1. the repository is initialised (id, index, key), its identifier map is
   readable and complete (index/reader.py), and the audit log can be read;
2. the proxy is up — its state file names a live pid and ``/health`` answers
   as a pretense-dev proxy with that pid;
3. it serves *this* repository's *current* map — the canary: a text made of
   protected names goes through ``/r/<id>/pretense/verify`` with a fresh nonce,
   and comes back mutated exactly as the local key and index predict, with an
   HMAC proof that only a holder of this repository's key can make and the
   index's current map version (`pretense_dev.proxy.canary` defines both halves);
4. at least one tool is configured, and every configured tool still points at
   the proxy and runs our hooks (no drift).

Each failed check is one line with the command that fixes it; `--json` gives
the same for machines.  The hooks call `run` before every prompt, so it is
cheap: standard library plus SQLite, two loopback requests, a few small files;
the canary's expected mutation is computed with a map of just the canary's
names rather than the whole map (bench/verify.py has the figure).
`thorough=True` (the command, not the hooks) adds slower advice: whether the
installed Claude Code honours ``onFailure: "block"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from pretense_dev.errors import PretenseError

if TYPE_CHECKING:
    from pretense_dev.repo import Repo

CANARY_NAMES = 3
TIMEOUT = 2.0  # seconds per loopback request; a proxy slower than this is as good as down
RESTART = "pretense-dev proxy stop && pretense-dev proxy start"


@dataclass(frozen=True)
class VerifyCheck:
    """One check's outcome; a failed one says what is wrong and what fixes it."""

    name: str  # "initialised", "proxy", "canary", "tools", "claude-code"
    ok: bool
    problem: str = ""
    fix: str = ""  # a command, or a sentence when no command fixes it
    warning: bool = False  # advice: reported, but does not fail verify

    def line(self) -> str:
        """One line for people."""
        if self.ok:
            return f"{self.name}: ok"
        fix = f"run `{self.fix}`" if self.fix.startswith("pretense-dev") else self.fix
        return f"{self.problem}: {fix}" if fix else self.problem


@dataclass
class VerifyResult:
    """All checks of one run."""

    root: str
    repo_id: str
    checks: list[VerifyCheck] = field(default_factory=list)
    proxy_url: str = ""
    map_version: int | None = None

    @property
    def ok(self) -> bool:
        """Whether every check that matters passed."""
        return not self.failures

    @property
    def failures(self) -> list[VerifyCheck]:
        """Failed checks (not warnings)."""
        return [c for c in self.checks if not c.ok and not c.warning]

    @property
    def warnings(self) -> list[VerifyCheck]:
        """Advice that does not fail verify."""
        return [c for c in self.checks if not c.ok and c.warning]

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "ok": self.ok,
            "repo": self.root,
            "repo_id": self.repo_id,
            "proxy_url": self.proxy_url,
            "map_version": self.map_version,
            "checks": [asdict(c) | {"line": c.line()} for c in self.checks],
        }


def run(
    repo: Repo,
    *,
    tools: Iterable[str] | None = None,
    probe: bool = True,
    thorough: bool = False,
) -> VerifyResult:
    """Run the checks; `tools` defaults to the policy's `tools.configured`."""
    result = VerifyResult(str(repo.root), "")
    if not repo.is_initialised():
        result.checks.append(
            VerifyCheck(
                "initialised",
                False,
                f"{repo.root} is not initialised for pretense-dev",
                "pretense-dev init",
            )
        )
        return result
    try:
        result.repo_id = repo.repo_id
        config = repo.config
        key = repo.key
    except PretenseError as e:
        result.checks.append(
            VerifyCheck("initialised", False, e.message, e.hint or "pretense-dev init")
        )
        return result
    result.checks.append(VerifyCheck("initialised", True))
    from pretense_dev.index.reader import index_problem

    # No map, no protection: an index that is unreadable or was never completed
    # makes the proxy refuse everything, and nothing here may say "ok".
    problem = index_problem(repo.index_path)
    if problem is not None:
        result.checks.append(VerifyCheck("index", False, *problem))
        return result
    result.checks.append(VerifyCheck("index", True))
    audit = audit_problem()
    if audit is not None:
        result.checks.append(VerifyCheck("audit", False, *audit))
    else:
        result.checks.append(VerifyCheck("audit", True))
    from pretense_dev.proxy import state as proxy_state

    running = proxy_state.running(probe=probe, timeout=TIMEOUT)
    if running is None:
        result.checks.append(
            VerifyCheck("proxy", False, "pretense proxy is not running", "pretense-dev proxy start")
        )
    else:
        result.proxy_url = running.url
        result.checks.append(VerifyCheck("proxy", True))
        result.checks.append(_canary(repo, key, running.url, result))
    chosen = tuple(config.tools.configured if tools is None else tools)
    if tools is None and not chosen:
        # After `uninstall` (or an init that found no tool) the proxy and the
        # canary may be fine while no tool sends anything through them: saying
        # "protected" then would be a false claim.
        result.checks.append(
            VerifyCheck(
                "tools",
                False,
                "no AI tool is set up to use the proxy here (.pretense/config.toml "
                "tools.configured is empty)",
                "pretense-dev init",
            )
        )
    if chosen:
        result.checks.extend(_drift(repo, result, chosen, config.tools.copilot_models))
    if thorough and "claude-code" in chosen:
        result.checks.append(_claude_version())
    if thorough:
        result.checks.extend(_hooks_start(repo, chosen))
        result.checks.append(_git_hooks(repo))
        result.checks.extend(_coverage(repo))
    return result


def _coverage(repo: Repo) -> list[VerifyCheck]:
    """One warning when source files are in languages the map cannot read.

    The command prints "is protected" when the proxy works; for a repository
    that is mostly PHP or Kotlin that would claim protection the map does not
    give.  A warning, not a failure: the proxy does what it should, and a
    missing grammar is nothing the user can fix.  The command only: the hooks'
    per-prompt run stays about the proxy (init, status and doctor say it too).
    """
    from pretense_dev.index.coverage import index_coverage

    cov = index_coverage(repo.index_path)
    if cov is None or not cov.unread_files:
        return []
    return [VerifyCheck("coverage", False, cov.summary(), warning=True)]


def _hooks_start(repo: Repo, tools: tuple[str, ...]) -> list[VerifyCheck]:
    """Each installed tool-hook command, run once: it must start (slow: the command only)."""
    from pretense_dev.integrations import startprobe

    bad = startprobe.problems(repo.root, tools)
    if not bad:
        return [VerifyCheck("hook-start", True)]
    # `init` rewrites the launcher for its interpreter and replaces outdated entries.
    return [VerifyCheck("hook-start", False, line, "pretense-dev init") for line in bad]


def _git_hooks(repo: Repo) -> VerifyCheck:
    """A canary secret committed and pushed through this repo's git hooks must be refused."""
    from pretense_dev.integrations import git_hooks

    if not git_hooks.installed(repo.root):
        return VerifyCheck(
            "git-hooks",
            False,
            "no secret-scanning git hooks (init --no-hooks?): a staged secret can be committed",
            "pretense-dev hooks install",
            warning=True,
        )
    problems = git_hooks.check(repo.root)
    if not problems:
        return VerifyCheck("git-hooks", True)
    first = problems[0].split(" — run `")[0]
    return VerifyCheck("git-hooks", False, first, "pretense-dev hooks install")


def audit_problem() -> tuple[str, str] | None:
    """None if the audit log can be read (or none was written yet); else (problem, fix).

    The proxy refuses every request it cannot record, so an unreadable log
    means nothing is forwarded: verify must say so, not "ok".  Cheap enough for
    every prompt: open, the schema's migration list and the chain's head.
    """
    import sqlite3

    from pretense_dev.audit.store import AuditError, connect_readonly, default_path

    path = default_path()
    if not path.exists():
        return None
    try:
        conn = connect_readonly(path)
        try:
            conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        finally:
            conn.close()
    except AuditError as e:
        if "not been upgraded" in e.message:
            return None  # the next writer migrates it; readable, not damaged
        return f"the audit log cannot be read ({e.message})", RECOVER
    except sqlite3.DatabaseError as e:
        return f"the audit log {path} cannot be read ({e})", RECOVER
    return None


RECOVER = "pretense-dev audit recover"


def _canary(repo: Repo, key: bytes, url: str, result: VerifyResult) -> VerifyCheck:
    from pretense_dev.index.reader import IndexReader, IndexUnreadable
    from pretense_dev.proxy import canary

    # The lean reader, not IndexStore: this runs before every prompt, and IndexStore
    # would import the mutation kernel and the secrets package for three reads.
    try:
        with IndexReader(repo.index_path) as reader:
            version = reader.map_version()
            rows = reader.sample_active(CANARY_NAMES)
            extra = reader.sample_active(0, include=("canary",))
    except IndexUnreadable as e:
        return VerifyCheck("canary", False, str(e).split(" — ")[0], "pretense-dev index --full")
    result.map_version = version
    outcome = canary.run(url, result.repo_id, key, [*rows, *extra], version, timeout=TIMEOUT)
    if outcome.ok:
        return VerifyCheck("canary", True)
    problem = "; ".join(outcome.problems)
    if outcome.answered and not outcome.from_pretense:
        return VerifyCheck(
            "canary",
            False,
            problem,
            f"stop what listens on {url}, then run `pretense-dev proxy start`",
        )
    return VerifyCheck("canary", False, problem, RESTART)


def _drift(
    repo: Repo, result: VerifyResult, tools: tuple[str, ...], models: Iterable[str]
) -> list[VerifyCheck]:
    from pretense_dev.integrations import setup
    from pretense_dev.integrations.base import Context

    url = result.proxy_url or setup.proxy_url()
    ctx = Context(repo.root, result.repo_id, proxy_url=url, copilot_models=tuple(models))
    drifts = setup.check(ctx, tools)
    if not drifts:
        return [VerifyCheck("tools", True)]
    return [VerifyCheck("tools", False, f"{d.tool}: {d.where}: {d.problem}", d.fix) for d in drifts]


def _claude_version() -> VerifyCheck:
    from pretense_dev.integrations.claude_code import ON_FAILURE_SINCE, installed_version

    version = installed_version()
    if version is None or version >= ON_FAILURE_SINCE:
        return VerifyCheck("claude-code", True)
    shown = ".".join(map(str, version))
    return VerifyCheck(
        "claude-code",
        False,
        f'Claude Code {shown} ignores "onFailure": "block" (needs 2.1.295 or later), so a '
        "hook that cannot run lets the prompt through",
        "upgrade it: `npm install -g @anthropic-ai/claude-code@latest`",
        warning=True,
    )
