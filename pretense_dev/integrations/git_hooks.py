"""Secret-scanning hooks in a repository: through pre-commit, or as plain git hooks.

`plan` says what `apply` would do; `apply` does it (idempotent); `check` lists
drift (a hook removed or edited); `remove` undoes it, restoring what was there.

* The repository uses pre-commit (`.pre-commit-config.yaml` at its root): a
  `repo: local` block calling the installed `pretense-dev` is inserted into the
  `repos:` list as text, between marker comments, so every comment, key order
  and blank line of the user's file stays as it was; the result is parsed
  (PyYAML) before it is written (atomically), and nothing is written when the
  hooks are already there.  The push hook needs pre-commit's pre-push shim:
  installed with `pre-commit install --hook-type pre-push` when pre-commit is
  on PATH, otherwise the command is given in the report.
* Otherwise: git hooks `pre-commit` and `pre-push` in the hooks directory.  An
  existing hook that is not ours is moved aside to `<hook>.pretense-prior` and
  runs first (its exit code is respected; a push hook gets the same stdin);
  removal moves it back.  A hooks directory inside the work tree
  (`core.hooksPath`, e.g. husky's) is a shared, committed setup: refused with a
  hint rather than edited.

STYLE 13 (install what we own, recognise it, never destroy what we don't).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pretense_dev.errors import PretenseError
from pretense_dev.paths import atomic_write

CONFIG = ".pre-commit-config.yaml"
BEGIN = "# >>> pretense-dev secret scanning (managed by `pretense-dev init`) >>>"
END = "# <<< pretense-dev secret scanning <<<"
HOOK_MARK = "# pretense-dev hook v1"
PRIOR_SUFFIX = ".pretense-prior"
STEP_CONFIG = f"{CONFIG} (pretense-dev secret-scanning hooks, repo: local)"
STEP_SHIM = "the pre-push hook, via `pre-commit install --hook-type pre-push`"

_LOCAL_BLOCK = """\
{i}{begin}
{i}- repo: local
{i}  hooks:
{i}    - id: pretense-secrets
{i}      name: pretense-dev secret scan (staged)
{i}      entry: pretense-dev scan --staged
{i}      language: system
{i}      stages: [pre-commit]
{i}      require_serial: true
{i}    - id: pretense-guard-store
{i}      name: pretense-dev store guard
{i}      entry: pretense-dev guard-store
{i}      language: system
{i}      stages: [pre-commit]
{i}      require_serial: true
{i}    - id: pretense-secrets-push
{i}      name: pretense-dev secret scan (pushed commits)
{i}      entry: pretense-dev scan --pre-push
{i}      language: system
{i}      stages: [pre-push]
{i}      pass_filenames: false
{i}      always_run: true
{i}      require_serial: true
{i}{end}
"""

_SCRIPT = """\
#!/bin/sh
{mark} ({kind}; written by `pretense-dev init`, removed by `pretense-dev hooks remove`)
# A hook that was here before runs first: {prior_name}
hook="$0"
pretense() {{
    if [ -x {exe} ]; then {exe} -m pretense_dev.secrets.hook "$@"
    else python3 -m pretense_dev.secrets.hook "$@"; fi
}}
{body}"""

_PRE_COMMIT_BODY = """\
if [ -x "$hook{suffix}" ]; then "$hook{suffix}" "$@" || exit $?; fi
pretense staged
"""

_PRE_PUSH_BODY = """\
input=$(cat)
if [ -x "$hook{suffix}" ]; then
    printf '%s\\n' "$input" | "$hook{suffix}" "$@" || exit $?
fi
printf '%s\\n' "$input" | pretense pre-push "$1"
"""


@dataclass
class Plan:
    """What `apply` would do in one repository."""

    mode: str  # "pre-commit-config" or "git-hooks"
    steps: list[str] = field(default_factory=list)  # human-readable, in order
    notes: list[str] = field(default_factory=list)  # things for the user to do

    @property
    def changes(self) -> bool:
        """Whether applying would change anything."""
        return bool(self.steps)


# -- pre-commit config ----------------------------------------------------------------


def _config_text(root: Path) -> str | None:
    try:
        return (root / CONFIG).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _has_our_hooks(text: str) -> bool:
    return BEGIN in text or re.search(r"(?m)^\s*-?\s*id:\s*pretense-secrets\s*$", text) is not None


def insert_block(text: str) -> str:
    """`text` with our `repo: local` block added at the end of its `repos:` list."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if re.match(r"repos:\s*(#.*)?$", ln)), None)
    if start is None:
        if re.search(r"(?m)^repos:", text):
            raise PretenseError(
                f"{CONFIG}: `repos:` is written in flow style ([...])",
                "write it as a block list, or add the pretense-dev hooks by hand "
                "(see .pre-commit-hooks.yaml)",
            )
        sep = "" if not text or text.endswith("\n") else "\n"
        return text + sep + "repos:\n" + _LOCAL_BLOCK.format(i="", begin=BEGIN, end=END)
    indent = None
    end = len(lines)
    for j in range(start + 1, len(lines)):
        ln = lines[j]
        if not ln.strip() or ln.lstrip().startswith("#"):
            continue
        if indent is None and ln.lstrip().startswith("- "):
            indent = ln[: len(ln) - len(ln.lstrip())]
        if not ln[0].isspace() and not ln.startswith("-"):
            end = j  # the next top-level key
            break
    # Insert after the list's last non-blank line, before trailing blank lines/comments.
    k = end
    while k > start + 1 and (not lines[k - 1].strip() or lines[k - 1].startswith("#")):
        k -= 1
    block = _LOCAL_BLOCK.format(i=indent or "", begin=BEGIN, end=END)
    if k > 0 and not lines[k - 1].endswith("\n"):
        lines[k - 1] += "\n"
    return "".join(lines[:k]) + block + "".join(lines[k:])


def remove_block(text: str) -> str:
    """`text` without our marked block (the user's lines untouched)."""
    out: list[str] = []
    skipping = False
    for ln in text.splitlines(keepends=True):
        if ln.strip() == BEGIN:
            skipping = True
            continue
        if skipping:
            if ln.strip() == END:
                skipping = False
            continue
        out.append(ln)
    return "".join(out)


def _validate(text: str) -> None:
    import yaml  # deferred: only init and its tests edit the config

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise PretenseError(f"{CONFIG}: the edited file would not parse ({e})") from None
    repos = data.get("repos") if isinstance(data, dict) else None
    if not isinstance(repos, list):
        raise PretenseError(f"{CONFIG}: the edited file has no `repos:` list")


def _pre_push_shim_installed(hooks: Path) -> bool:
    try:
        return "pre-commit" in (hooks / "pre-push").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


# -- plain git hooks ------------------------------------------------------------------------


def hooks_dir(root: Path) -> Path:
    """Where git runs hooks from (core.hooksPath and worktrees respected)."""
    p = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--git-path", "hooks"],
        capture_output=True,
        text=True,
        check=False,
    )
    if p.returncode != 0:
        raise PretenseError(f"{root} is not a git repository", "run this in a git repository")
    d = Path(p.stdout.strip())
    return d if d.is_absolute() else (root / d)


def hook_script(kind: str) -> str:
    """The text of our `pre-commit` or `pre-push` hook."""
    exe = "'" + (sys.executable or "/nonexistent").replace("'", "'\"'\"'") + "'"
    body = _PRE_COMMIT_BODY if kind == "pre-commit" else _PRE_PUSH_BODY
    return _SCRIPT.format(
        mark=HOOK_MARK,
        kind=kind,
        exe=exe,
        prior_name=f"{kind}{PRIOR_SUFFIX}",
        body=body.format(suffix=PRIOR_SUFFIX),
    )


def is_ours(path: Path) -> bool:
    """Whether a hook file was written by us (marker on line 2)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return HOOK_MARK in "".join(f.readline() for _ in range(3))
    except OSError:
        return False


def _inside(root: Path, d: Path) -> bool:
    try:
        d.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return ".git" not in d.resolve().relative_to(root.resolve()).parts


# -- plan / apply / check / remove ------------------------------------------------------------


def plan(root: Path) -> Plan:
    """What `apply` would change (nothing is written)."""
    text = _config_text(root)
    if text is not None:
        p = Plan("pre-commit-config")
        if not _has_our_hooks(text):
            p.steps.append(STEP_CONFIG)
        if not _pre_push_shim_installed(hooks_dir(root)):
            if shutil.which("pre-commit"):
                p.steps.append(STEP_SHIM)
            else:
                p.notes.append(
                    "run `pre-commit install --hook-type pre-push` to check pushed commits"
                )
        return p
    p = Plan("git-hooks")
    d = hooks_dir(root)
    if _inside(root, d):
        raise PretenseError(
            f"git hooks live in {d.relative_to(root)} (core.hooksPath), a directory in the "
            "work tree that other tools manage",
            "add `pretense-dev scan --staged` and `pretense-dev scan --pre-push` to those "
            "hooks yourself, or use pre-commit (.pre-commit-hooks.yaml)",
        )
    for kind in ("pre-commit", "pre-push"):
        hook = d / kind
        want = hook_script(kind)
        if is_ours(hook):
            if hook.read_text(encoding="utf-8") != want:
                p.steps.append(f"{_show(root, hook)} (pretense-dev hook updated)")
            continue
        if hook.exists():
            prior = hook.with_name(kind + PRIOR_SUFFIX)
            if prior.exists():
                raise PretenseError(
                    f"{_show(root, hook)} is not ours and {prior.name} already exists",
                    "move one of them away; pretense-dev never overwrites a hook it did not write",
                )
            p.steps.append(
                f"{_show(root, hook)} (secret scan; your previous hook is kept as "
                f"{prior.name} and still runs first)"
            )
        else:
            p.steps.append(f"{_show(root, hook)} (secret scan)")
    return p


def _show(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def apply(root: Path) -> Plan:
    """Install the hooks; returns the plan it carried out (no steps: nothing to do)."""
    p = plan(root)
    if not p.changes:
        return p
    if p.mode == "pre-commit-config":
        text = _config_text(root)
        assert text is not None
        if not _has_our_hooks(text):
            new = insert_block(text)
            _validate(new)
            atomic_write(root / CONFIG, new, mode=_mode(root / CONFIG))
        if STEP_SHIM in p.steps:
            pc = shutil.which("pre-commit")
            assert pc is not None
            r = subprocess.run(
                [pc, "install", "--hook-type", "pre-push"], cwd=root, capture_output=True, text=True
            )
            if r.returncode != 0:
                p.steps.remove(STEP_SHIM)
                p.notes.append(
                    "`pre-commit install --hook-type pre-push` failed: "
                    + (r.stderr.strip().splitlines() or ["?"])[-1]
                )
        return p
    d = hooks_dir(root)
    d.mkdir(parents=True, exist_ok=True)
    for kind in ("pre-commit", "pre-push"):
        hook = d / kind
        want = hook_script(kind)
        if is_ours(hook):
            if hook.read_text(encoding="utf-8") == want:
                continue
        elif hook.exists():
            os.replace(hook, hook.with_name(kind + PRIOR_SUFFIX))
        atomic_write(hook, want, mode=0o755)
    return p


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def check(root: Path) -> list[str]:
    """Drift: what is missing or no longer ours (empty when all is in place)."""
    text = _config_text(root)
    problems = []
    if text is not None:
        if not _has_our_hooks(text):
            problems.append(f"{CONFIG} has no pretense-dev hooks")
        if not _pre_push_shim_installed(hooks_dir(root)):
            problems.append("the pre-push hook is not installed (pre-commit install -t pre-push)")
        return problems
    d = hooks_dir(root)
    for kind in ("pre-commit", "pre-push"):
        hook = d / kind
        if not is_ours(hook):
            problems.append(f"{_show(root, hook)} is not the pretense-dev hook")
        elif hook.read_text(encoding="utf-8") != hook_script(kind):
            problems.append(f"{_show(root, hook)} was edited (run `pretense-dev init` to restore)")
        elif not os.access(hook, os.X_OK):
            problems.append(f"{_show(root, hook)} is not executable")
    return problems


def remove(root: Path) -> list[str]:
    """Undo `apply`: our block or hooks out, a user's previous hook back in place."""
    done = []
    text = _config_text(root)
    if text is not None and BEGIN in text:
        new = remove_block(text)
        _validate(new)
        atomic_write(root / CONFIG, new, mode=_mode(root / CONFIG))
        done.append(f"{CONFIG}: removed the pretense-dev hooks")
    d = hooks_dir(root)
    for kind in ("pre-commit", "pre-push"):
        hook = d / kind
        prior = hook.with_name(kind + PRIOR_SUFFIX)
        if is_ours(hook):
            if prior.exists():
                os.replace(prior, hook)
                done.append(f"{_show(root, hook)}: restored your previous hook")
            else:
                hook.unlink()
                done.append(f"{_show(root, hook)}: removed")
    return done
