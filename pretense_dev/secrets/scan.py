"""What `scan` reads: work-tree files, staged blobs, the commits of a range.

* files: the repository's files as git lists them (tracked and untracked but
  not ignored), or the paths given;
* staged: the blobs in git's index (``git ls-files -s``), never the work tree,
  so a secret removed from the file but still staged is still caught;
* a range (``--rev A..B``, pre-push): every commit in it, not only the tip:
  the lines each commit adds with a little context, streamed from one
  ``git log -p`` (history.py), and a finding counts when it touches a line
  that commit added.

Blobs are read with one ``git cat-file --batch`` process per scan.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pretense_dev.errors import UsageError
from pretense_dev.secrets.analyzers import KEY_FILE
from pretense_dev.secrets.detector import Detector
from pretense_dev.secrets.gitread import git as _git
from pretense_dev.secrets.gitread import read_blobs
from pretense_dev.secrets.model import Finding
from pretense_dev.worktree import BINARY_SNIFF, git_files, is_binary

MAX_BYTES = 20_000_000  # larger files are reported as skipped, not read whole
PARALLEL_BYTES = 4_000_000  # below this a process pool costs more than it saves
ALWAYS_SKIPPED = (".git/", ".pretense/")
ZERO_SHA = re.compile(r"^0+$")


@dataclass(frozen=True)
class Located:
    """A finding and, for a commit range, the commit that introduced it."""

    finding: Finding
    commit: str | None = None


@dataclass
class ScanResult:
    """What a scan found and what it could not read."""

    found: list[Located]
    scanned: int = 0
    skipped: list[str] | None = None


# -- work-tree files --------------------------------------------------------------


def list_files(root: Path, paths: Sequence[str]) -> list[str]:
    """Repo-relative files to scan: all of git's, or those under the given paths."""
    listed = git_files(root) if (root / ".git").exists() else _walk(root)
    if not paths:
        files = listed
    else:
        prefixes = []
        for p in paths:
            rel = os.path.relpath(os.path.abspath(p), root).replace(os.sep, "/")
            if rel.startswith("../"):
                raise UsageError(f"{p} is outside the repository {root}")
            if not os.path.exists(p):
                raise UsageError(f"{p}: no such file or directory")
            prefixes.append("" if rel == "." else rel)
        listed_set = set(listed)
        files = [
            f for f in listed if any(f == q or f.startswith(q + "/") or not q for q in prefixes)
        ]
        # A file named explicitly is scanned even if git ignores it (or reported if unreadable).
        files += [q for q in prefixes if q and q not in listed_set and not os.path.isdir(root / q)]
    return [f for f in files if not f.startswith(ALWAYS_SKIPPED)]


def _walk(root: Path) -> list[str]:
    """Every file under `root` but .git/ and .pretense/, sorted; links to directories not followed.

    Paths are joined as strings on the way down: os.walk plus relpath per
    file was a second of the parent's time on 26,000 files, while the
    workers waited.
    """
    out: list[str] = []
    stack = [("", str(root))]
    while stack:
        prefix, where = stack.pop()
        try:
            entries = list(os.scandir(where))
        except OSError:
            continue  # unreadable or gone: os.walk ignores it too
        for e in entries:
            try:
                is_dir = e.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if e.name not in (".git", ".pretense") and not e.is_symlink():
                    stack.append((prefix + e.name + "/", e.path))
            else:
                out.append(prefix + e.name)
    out.sort()
    return out


def _scan_file(detector: Detector, root: str, rel: str) -> tuple[list[Finding], str | None]:
    """Scan one work-tree file; the second item says why it was not read, if it was not.

    Gone (deleted since git listed it) and symbolic links are not reads we
    owe: a link's target is scanned where it lives.  Anything else that is not
    a regular file (a FIFO, a socket, a device) is reported as skipped.
    """
    import stat

    path = os.path.join(root, rel)
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            return [], None
        if not stat.S_ISREG(st.st_mode):
            return [], f"{rel}: not a regular file, not scanned"
        size = st.st_size
        if size > MAX_BYTES:
            return [], f"{rel}: larger than {MAX_BYTES // 1_000_000} MB, not scanned"
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return [], None
    except OSError as e:
        return [], f"{rel}: {e.strerror}, not scanned"
    return scan_blob(detector, rel, data), None


def scan_blob(detector: Detector, rel: str, data: bytes) -> list[Finding]:
    """Scan one file's bytes; binary files only for key stores named as such."""
    if is_binary(data[:BINARY_SNIFF]) and not KEY_FILE.search(rel):
        return []
    return detector.scan_bytes(data, rel)


_WORKER: tuple[Detector, str] | None = None  # a pool worker's detector and root


def _worker_init(setup: tuple[bytes, object, object], root: str) -> None:
    """Build a worker's detector once, not per task (a baseline would be pickled each time)."""
    from pretense_dev.config import SecretsConfig
    from pretense_dev.secrets.baseline import Baseline

    global _WORKER
    key, cfg, baseline = setup
    assert isinstance(cfg, SecretsConfig)
    assert baseline is None or isinstance(baseline, Baseline)
    _WORKER = (Detector(key, cfg, baseline), root)


def _scan_batch(rels: list[str]) -> tuple[list[Finding], list[str]]:
    assert _WORKER is not None
    det, root = _WORKER
    found: list[Finding] = []
    skipped: list[str] = []
    for rel in rels:
        f, skip = _scan_file(det, root, rel)
        found.extend(f)
        if skip:
            skipped.append(skip)
    return found, skipped


def scan_files(
    detector: Detector,
    root: Path,
    files: Sequence[str],
    workers: int | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> ScanResult:
    """Scan work-tree files; a process pool when there is enough to share.

    `progress(files done, files in all, -1)` follows the work (the CLI draws it
    on a terminal: pretense_dev/progress.py).
    """
    files = [f for f in files if not detector.path_allowed(f)]
    top = str(root)
    sizes = _sizes(top, files)
    total = sum(sizes)
    workers = workers or os.cpu_count() or 1
    result = ScanResult([], len(files), [])
    assert result.skipped is not None
    if workers <= 1 or total < PARALLEL_BYTES:
        for i, rel in enumerate(files, 1):
            found, skip = _scan_file(detector, top, rel)
            result.found.extend(Located(x) for x in found)
            if skip:
                result.skipped.append(skip)
            if progress is not None:
                progress(i, len(files), -1)
        return result
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    setup = (detector.key, detector.config, detector.baseline)
    batches = _batches(files, sizes, workers)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    done = 0
    skipped: list[str] = []
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_worker_init, initargs=(setup, top)
    ) as pool:
        pending = {pool.submit(_scan_batch, b): len(b) for b in batches}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                found, skips = fut.result()
                result.found.extend(Located(x) for x in found)
                skipped.extend(skips)
                done += pending.pop(fut)
                if progress is not None:
                    progress(done, len(files), -1)
    result.skipped.extend(sorted(skipped))
    return result


def _sizes(root: str, files: Sequence[str]) -> list[int]:
    """Each file's size (0 if it cannot be read now: the scan reports why)."""
    out = []
    for f in files:
        try:
            out.append(os.lstat(os.path.join(root, f)).st_size)
        except OSError:
            out.append(0)
    return out


BATCH_FILES = 64  # small files per task: a task costs ~0.2 ms to send and collect


def _batches(files: Sequence[str], sizes: Sequence[int], workers: int) -> list[list[str]]:
    """Tasks for the pool, largest first, each at most ~1/64 of a worker's share.

    The pool hands the next task to whichever worker is free, so the last
    tasks, the ones that decide when the scan ends, are small: a few equal
    chunks by bytes left one worker alone with a chunk whose files cost
    more per byte (minified code, one-line JSON) for the last second.
    """
    cap = max(256_000, sum(sizes) // (workers * 64))
    order = sorted(range(len(files)), key=lambda i: sizes[i], reverse=True)
    out: list[list[str]] = []
    batch: list[str] = []
    load = 0
    for i in order:
        if batch and (load + sizes[i] > cap or len(batch) >= BATCH_FILES):
            out.append(batch)
            batch, load = [], 0
        batch.append(files[i])
        load += sizes[i]
    if batch:
        out.append(batch)
    return out


# -- staged blobs -----------------------------------------------------------------


def staged_entries(root: Path, paths: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(path, blob sha) of what is staged: added, copied, modified or renamed files.

    One `git diff --cached --raw`, which also works before the first commit
    (it then lists everything staged).
    """
    out = _git(
        root, "diff", "--cached", "--raw", "-z", "--no-abbrev", "--no-renames",
        "--diff-filter=ACMR", "--", *paths,
    ).decode("utf-8", "surrogateescape")  # fmt: skip
    fields = out.split("\0")
    entries = []
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        parts = meta.split()
        if len(parts) >= 5 and parts[1] != "160000":  # submodules have no blob
            entries.append((path, parts[3]))
    return entries


def scan_staged(
    detector: Detector,
    root: Path,
    entries: Sequence[tuple[str, str]],
    blobs: dict[str, bytes] | None = None,
) -> ScanResult:
    """Scan exactly what would be committed: the index blobs of `staged_entries`."""
    entries = [(p, s) for p, s in entries if not detector.path_allowed(p)]
    if blobs is None:
        blobs = read_blobs(root, sorted({s for _, s in entries}))
    result = ScanResult([], len(entries), [])
    for path, sha in entries:
        data = blobs.get(sha)
        if data is not None:
            result.found.extend(Located(f) for f in scan_blob(detector, path, data))
    return result


# -- commit ranges ---------------------------------------------------------------------


def scan_range(detector: Detector, root: Path, rev_args: Sequence[str]) -> ScanResult:
    """Scan every commit of a range; each secret once, at the commit that added it.

    The lines each commit adds, streamed from one `git log` (history.py).
    """
    from pretense_dev.secrets.history import scan_history

    scanned = scan_history(detector, root, rev_args)
    return ScanResult([Located(f, c) for f, c in scanned.found], scanned.scanned, [])


def pre_push_ranges(root: Path, stdin_lines: Iterable[str] = ()) -> list[list[str]]:
    """The rev ranges a push sends: from pre-commit's variables, or git's hook stdin.

    pre-commit sets PRE_COMMIT_FROM_REF/TO_REF; for a new branch whose history
    starts at a root commit it sets neither (https://pre-commit.com/#pre-push), and
    then everything not already on the remote is checked.
    """
    env = os.environ
    remote = env.get("PRE_COMMIT_REMOTE_NAME") or (env.get("PRETENSE_PUSH_REMOTE") or "")
    frm, to = env.get("PRE_COMMIT_FROM_REF"), env.get("PRE_COMMIT_TO_REF")
    if frm and to:
        return [[to] if ZERO_SHA.match(frm) else [f"{frm}..{to}"]]
    ranges: list[list[str]] = []
    for line in stdin_lines:
        parts = line.split()
        if len(parts) != 4:
            continue
        _lref, lsha, _rref, rsha = parts
        if ZERO_SHA.match(lsha):
            continue  # a deleted ref sends nothing
        if ZERO_SHA.match(rsha):
            ranges.append([lsha, "--not", f"--remotes={remote}" if remote else "--remotes"])
        else:
            ranges.append([f"{rsha}..{lsha}"])
    if ranges or env.get("PRE_COMMIT") != "1":
        return ranges
    not_remote = f"--remotes={remote}" if remote else "--remotes"
    return [["HEAD", "--not", not_remote]]
