"""The body of `scan` and `guard-store`: repository, key, policy, what to read.

An initialised repository gives its key (stable fingerprints), its
`[secrets]` policy and its baseline.  A repository that only uses our
pre-commit hook, without `pretense-dev init`, still gets scanned: with the
policy file if there is one, and a key made up for this run (fingerprints are
then not comparable between runs, and the command says so).
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets as pysecrets
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pretense_dev import paths as P
from pretense_dev.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError
from pretense_dev.repo import Repo
from pretense_dev.secrets.baseline import Baseline
from pretense_dev.secrets.detector import Detector
from pretense_dev.secrets.gitread import read_blobs
from pretense_dev.secrets.scan import (
    Located,
    ScanResult,
    list_files,
    pre_push_ranges,
    scan_files,
    scan_range,
    scan_staged,
    staged_entries,
)

# What may be committed from .pretense/ (repo.GITIGNORE_TEXT lets the same through).
COMMITTABLE = {".pretense/config.toml", ".pretense/.gitignore", ".pretense/baseline.json"}
_KEY_CONTENT = re.compile(rb"^\s*[0-9a-fA-F]{64}\s*$")  # keys.py writes hex + newline
_STORE_NAMES = re.compile(r"(?:^|/)(?:index\.db(?:-wal|-shm|-journal)?|repo-id)$")


@dataclass
class ScanOutcome:
    """A scan's result and how it was set up."""

    result: ScanResult
    root: Path
    detector: Detector
    what: str  # "staged changes", "commits main..HEAD", "12 files"
    ephemeral_key: bool
    refused: list[tuple[str, str]] = field(default_factory=list)  # store/key files staged


def detector_for(root: Path, *, use_baseline: bool = True) -> tuple[Detector, bool]:
    """The repository's detector; True if its key was made up for this run."""
    repo = Repo(root)
    config = repo.config
    ephemeral = not repo.is_initialised()
    baseline = None
    if use_baseline and not ephemeral:
        baseline = Baseline.load(root / config.secrets.baseline)
    if ephemeral:
        return Detector(pysecrets.token_bytes(32), config.secrets, baseline), True
    return Detector(lambda: repo.key, config.secrets, baseline), False


def run_scan(
    *,
    paths: Sequence[str] = (),
    staged: bool = False,
    rev: str | None = None,
    pre_push: bool = False,
    use_baseline: bool = True,
    push_lines: Sequence[str] = (),
    root: Path | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> ScanOutcome:
    """Scan what the options name (see `commands.scan`); `progress` follows a work-tree scan."""
    if root is None:
        try:
            root = P.find_repo_root()
        except UsageError:
            if staged or rev is not None or pre_push:
                raise
            root = Path.cwd()  # a plain directory: scan its files
    det, ephemeral = detector_for(root, use_baseline=use_baseline)
    refusals: list[tuple[str, str]] = []
    if staged:
        entries = staged_entries(root, [_rel(root, p) for p in paths])
        blobs = read_blobs(root, sorted({s for _, s in entries}))
        result, what = scan_staged(det, root, entries, blobs), "staged changes"
        refusals = refused(entries, blobs)
    elif rev is not None:
        result, what = scan_range(det, root, rev.split()), f"commits {rev}"
    elif pre_push:
        found: list[Located] = []
        n = 0
        seen: set[tuple[str | None, str, str]] = set()
        for args in pre_push_ranges(root, push_lines):
            r = scan_range(det, root, args)
            n += r.scanned
            for loc in r.found:
                if loc.finding.identity not in seen:
                    seen.add(loc.finding.identity)
                    found.append(loc)
        result, what = ScanResult(found, n, []), "commits being pushed"
    elif paths == ("-",):
        data = sys.stdin.buffer.read()
        found_in = [Located(f) for f in det.scan_bytes(data, STDIN_NAME)]
        result, what = ScanResult(found_in, 1, []), "standard input"
    else:
        if "-" in paths:
            raise UsageError("`-` (standard input) cannot be combined with other paths")
        groups = _by_repository(root, paths) if paths else {root: []}
        result = ScanResult([], 0, [])
        if root in groups:
            result = scan_files(det, root, list_files(root, groups.pop(root)), progress=progress)
        for other, named in groups.items():
            # A path in another repository (or none) is scanned with that one's policy.
            other_det, other_ephemeral = detector_for(other, use_baseline=use_baseline)
            ephemeral = ephemeral or other_ephemeral
            part = scan_files(other_det, other, list_files(other, named), progress=progress)
            shown = os.path.relpath(other, Path.cwd())
            result.found += [
                Located(dataclasses.replace(loc.finding, path=f"{shown}/{loc.finding.path}"))
                for loc in part.found
            ]
            result.scanned += part.scanned
            result.skipped = (result.skipped or []) + [f"{shown}/{s}" for s in part.skipped or []]
        what = f"{result.scanned} file(s)"
    result.found.sort(key=lambda loc: (loc.finding.path or "", loc.finding.line, loc.finding.rule))
    return ScanOutcome(result, root, det, what, ephemeral, refusals)


STDIN_NAME = "<stdin>"


def _by_repository(root: Path, paths: Sequence[str]) -> dict[Path, list[str]]:
    """Named paths grouped by the repository (or plain directory) each belongs to."""
    groups: dict[Path, list[str]] = {}
    for p in paths:
        if not os.path.lexists(p):
            raise UsageError(f"{p}: no such file or directory")
        absolute = Path(os.path.abspath(p))
        if absolute == root or root in absolute.parents:
            groups.setdefault(root, []).append(p)
            continue
        start = absolute if absolute.is_dir() else absolute.parent
        try:
            own = P.find_repo_root(start)
        except UsageError:
            own = start  # not in a repository: the directory itself, no policy file
        groups.setdefault(own, []).append(str(absolute))
    return groups


def _rel(root: Path, p: str) -> str:
    import os

    return os.path.relpath(os.path.abspath(p), root).replace(os.sep, "/")


def write_baseline(outcome: ScanOutcome) -> tuple[Path, int]:
    """Accept every finding of a work-tree scan: write the baseline (atomically)."""
    if outcome.ephemeral_key:
        from pretense_dev.errors import UsageError

        raise UsageError("a baseline needs this repository's key", "run `pretense-dev init` first")
    where = outcome.root / outcome.detector.config.baseline
    findings = [loc.finding for loc in outcome.result.found]
    P.atomic_write(where, Baseline.render(findings))
    return where, len({f.identity for f in findings})


def forbidden_staged(paths: Sequence[str] = (), root: Path | None = None) -> list[tuple[str, str]]:
    """Staged files that must never be committed: the local store and key files."""
    root = root or P.find_repo_root()
    entries = staged_entries(root, [_rel(root, p) for p in paths])
    sizes = _blob_sizes(root, [s for _, s in entries]) if entries else {}
    small = [s for _, s in entries if sizes.get(s, 1 << 20) <= KEY_FILE_MAX]
    return refused(entries, read_blobs(root, small))


KEY_FILE_MAX = 80


def refused(entries: Sequence[tuple[str, str]], blobs: dict[str, bytes]) -> list[tuple[str, str]]:
    """Which staged entries are the store or a key (blobs: contents of the small ones)."""
    bad: list[tuple[str, str]] = []
    for path, sha in entries:
        if path.startswith(".pretense/") and path not in COMMITTABLE:
            bad.append((path, "the .pretense/ store is local (index, ids, keys)"))
        elif "/.pretense/" in "/" + path and _STORE_NAMES.search(path):
            bad.append((path, "part of a pretense-dev store"))
        else:
            data = blobs.get(sha, b"")
            if len(data) <= KEY_FILE_MAX and _KEY_CONTENT.match(data):
                bad.append((path, "it looks like a pretense-dev repository key (64 hex digits)"))
    return bad


def _blob_sizes(root: Path, shas: Sequence[str]) -> dict[str, int]:
    from pretense_dev.secrets.gitread import git

    out = git(root, "cat-file", "--batch-check", stdin="".join(f"{s}\n" for s in shas).encode())
    sizes = {}
    for line in out.decode().splitlines():
        parts = line.split()
        if len(parts) == 3:
            sizes[parts[0]] = int(parts[2])
    return sizes


STORE_HINT = (
    "unstage with `git restore --staged <path>`; only .pretense/config.toml, "
    ".pretense/.gitignore and .pretense/baseline.json belong in git"
)


def emit(
    outcome: ScanOutcome, fmt: str = "text", version: str = "0", *, accept_skipped: bool = False
) -> int:
    """Print a scan's findings (stdout) and its notes (stderr); return the exit code.

    1 if a secret was found (or a store file staged); else 2 if a file could
    not be read, unless `accept_skipped`: a scan that did not read everything
    it was asked to must not look clean.
    """
    from pretense_dev.secrets import report

    found = outcome.result.found
    if fmt == "json":
        out = report.as_json(found)
    elif fmt == "sarif":
        out = report.sarif(found, version)
    else:
        out = report.text(found)
    sys.stdout.write(out)
    sys.stdout.flush()
    err = sys.stderr
    for note in outcome.result.skipped or ():
        err.write(f"pretense-dev: skipped {note}\n")
    for path, why in outcome.refused:
        err.write(f"pretense-dev: refusing to commit {path}: {why}\n")
    if outcome.refused:
        err.write(f"pretense-dev: {STORE_HINT}\n")
    skipped = len(outcome.result.skipped or ())
    if skipped and not accept_skipped:
        err.write(
            f"pretense-dev: the scan is incomplete: {skipped} file(s) could not be read (listed "
            "above) — make them readable, or pass --accept-skipped to accept an incomplete scan\n"
        )
    if not found:
        if outcome.refused:
            return EXIT_FAILURE
        return EXIT_USAGE if skipped and not accept_skipped else EXIT_OK
    if fmt == "text":
        err.write(
            f"pretense-dev: {len(found)} secret(s) found ({outcome.what}); the values are not "
            f"shown — remove them, or {report.ALLOW_HINT}\n"
        )
        if outcome.ephemeral_key:
            err.write(
                "pretense-dev: this repository is not initialised, so fingerprints change "
                "between runs — run `pretense-dev init` to make them stable\n"
            )
    return EXIT_FAILURE
