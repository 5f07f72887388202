"""History mode (`scan --rev RANGE`, pre-push): the lines each commit adds, streamed.

One ``git log --reverse -p`` process writes every commit of the range, oldest
first; its output is read line by line and never held whole.  Per (commit,
file) the new version's hunks are collected (the added lines and `CONTEXT`
unchanged lines around them, so a key name or a `pretense: allow` on the line
above still counts) and scanned as one text; a finding is reported when it
touches a line the commit added, in that commit's path and line numbers, and
each secret (path, rule, fingerprint) once: at the oldest commit of the range
that added it.  A secret added and removed later is still reported: it is in
the history a push sends.

* Memory is bounded by the largest file's added text in one commit, and even
  that is cut: past `CHUNK_BYTES` the text is scanned and only its last
  `CARRY_LINES` lines are kept as context for the rest (a PEM block is a few
  dozen lines; the carried lines are never reported twice).
* Merges: the dense combined diff (``--cc``) shows only what the merge itself
  brings that no parent had (a conflict resolution, an "evil merge"); a line
  taken from a parent was scanned in the commit that wrote it.
* Renames are detected: a file moved unchanged adds no line.
* Binary files have no lines: a key store named as such (.p12, .jks…) is
  read whole from git and scanned, since the file itself is the secret.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import subprocess
import tempfile
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from pretense_dev.errors import PretenseError, UsageError
from pretense_dev.secrets.analyzers import KEY_FILE
from pretense_dev.secrets.detector import Detector
from pretense_dev.secrets.model import Finding

CONTEXT = 2  # unchanged lines shown around each hunk (the detector's joined-literal reach)
CHUNK_BYTES = 8_000_000  # one file's added text is scanned in pieces of about this size
CARRY_LINES = 200  # lines kept from one piece as context for the next
BATCH_BYTES = 1_000_000  # added text per worker job
BATCH_FILES = 500
PARALLEL_BYTES = 4_000_000  # a range with less added text is scanned in-process
_NULL_SHA = re.compile(rb"^0+$")
_C_ESCAPES = {b"a": 7, b"b": 8, b"t": 9, b"n": 10, b"v": 11, b"f": 12, b"r": 13}


@dataclass
class _File:
    """The new version's lines of one file that one commit's diff shows."""

    commit: str
    path: str
    lines: list[bytes] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)  # line number in the commit's version
    added: bytearray = field(default_factory=bytearray)  # 1 where the commit added the line
    size: int = 0
    any_added: bool = False

    def add(self, text: bytes, number: int, added: bool) -> None:
        self.lines.append(text)
        self.numbers.append(number)
        self.added.append(added)
        self.size += len(text)
        self.any_added = self.any_added or added


@dataclass
class HistoryScan:
    """What a history scan found, and how many (commit, file) pairs it read."""

    found: list[tuple[Finding, str]]
    scanned: int


def unquote(raw: bytes) -> bytes:
    """A path as git prints it: C-quoted (a tab as backslash-t) when it holds odd bytes."""
    if not raw.startswith(b'"') or not raw.endswith(b'"') or len(raw) < 2:
        return raw
    body, out, i = raw[1:-1], bytearray(), 0
    while i < len(body):
        c = body[i : i + 1]
        if c != b"\\" or i + 1 >= len(body):
            out += c
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        if nxt in _C_ESCAPES:
            out.append(_C_ESCAPES[nxt])
            i += 2
        elif nxt.isdigit():
            out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        else:
            out += nxt
            i += 2
    return bytes(out)


def _path(raw: bytes) -> str:
    return unquote(raw).decode("utf-8", "surrogateescape")


def _diff_git_path(rest: bytes) -> str | None:
    """The new path from ``diff --git a/X b/X`` (a rename names it in `rename to`)."""
    if rest.startswith(b'"'):
        m = re.match(rb'("(?:[^"\\]|\\.)*"|\S+) ("(?:[^"\\]|\\.)*"|.+)$', rest)
        if not m:
            return None
        new = unquote(m.group(2))
    else:
        half = (len(rest) - 1) // 2  # "a/X b/X": both halves equal when not renamed
        new = rest[half + 1 :]
    return new[2:].decode("utf-8", "surrogateescape") if new.startswith(b"b/") else None


# (commit, path, text, line numbers, added flags) of one file of one commit.
_Unit = tuple[str, str, bytes, list[int], bytearray]
_WORKER_DETECTOR: Detector | None = None  # set before the workers fork


def _scan_units(units: list[tuple[bytes, str]]) -> list[list[Finding]]:
    """A worker's job: the findings of each (text, path); the parent decides what counts."""
    det = _WORKER_DETECTOR
    assert det is not None
    return [det.scan_bytes(data, path) for data, path in units]


def _close_in_worker(fds: list[int]) -> None:
    """A worker closes its copy of git's pipe and leaves Ctrl-C to the parent.

    Were the parent to stop reading, git must not wait on a reader still alive.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


class _Walker:
    """Reads one ``git log -p`` stream and scans each file's new lines as it ends."""

    def __init__(self, detector: Detector, root: Path, workers: int | None = None) -> None:
        self.detector = detector
        self.root = root
        self.seen: set[tuple[str | None, str, str]] = set()
        self.found: list[tuple[Finding, str]] = []
        self.scanned = 0
        self.blobs: list[tuple[str, str, str]] = []  # (commit, path, blob) of key stores
        self.batch: list[_Unit] = []
        self.batch_bytes = 0
        self.total = 0
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self.pool: ProcessPoolExecutor | None = None
        self.inflight: deque[tuple[Future[list[list[Finding]]], list[_Unit]]] = deque()
        self.inherited: list[int] = []  # descriptors a forked worker must not keep open

    def flush(self, f: _File, final: bool) -> None:
        """Scan what `f` holds; if more of the file follows, keep its tail as context.

        A piece is cut at a line: a finding that reaches the last
        `CARRY_LINES` lines (a key block the cut may have truncated) is left
        for the next piece, which starts no later than that finding does.
        A whole file goes to the batch for the workers; a piece is scanned
        here, after everything before it (its cut depends on what it holds).
        """
        if final:
            if f.any_added:
                self._queue(f)
            return
        self.drain()
        n = len(f.lines)
        cut = n - CARRY_LINES if n > 2 * CARRY_LINES else max(1, n // 2)
        keep_from = cut
        if f.any_added:
            for finding in self.detector.scan_bytes(b"".join(f.lines), f.path):
                lo, hi = finding.line - 1, finding.end_line
                if finding.identity not in self.seen and hi > cut and lo > 0:
                    keep_from = min(keep_from, lo)  # seen whole, or again, in the next piece
                    continue
                self._report(finding, f.commit, f.numbers, f.added)
        del f.lines[:keep_from], f.numbers[:keep_from], f.added[:keep_from]
        f.size = sum(map(len, f.lines))
        f.any_added = any(f.added)

    def _report(self, finding: Finding, commit: str, numbers: list[int], added: bytearray) -> None:
        """Record `finding` if it is new and touches a line `commit` added."""
        if finding.identity in self.seen:
            return
        lo, hi = finding.line - 1, finding.end_line
        if not any(added[lo:hi]):
            return  # on unchanged context lines only: another commit added it
        self.seen.add(finding.identity)
        line, end = numbers[lo], numbers[min(hi, len(numbers)) - 1]
        self.found.append((dataclasses.replace(finding, line=line, end_line=end), commit))

    def _queue(self, f: _File) -> None:
        self.batch.append((f.commit, f.path, b"".join(f.lines), f.numbers, f.added))
        self.batch_bytes += f.size
        self.total += f.size
        if self.batch_bytes >= BATCH_BYTES or len(self.batch) >= BATCH_FILES:
            self._submit()

    def _submit(self) -> None:
        """Send the batch to a worker (in order), or scan it here for a small range."""
        batch, self.batch, self.batch_bytes = self.batch, [], 0
        if not batch:
            return
        if self.pool is None and self.workers > 1 and self.total >= PARALLEL_BYTES:
            self._start_pool()
        if self.pool is None:
            self._apply(batch, [self.detector.scan_bytes(d, p) for _, p, d, _, _ in batch])
            return
        fut = self.pool.submit(_scan_units, [(d, p) for _, p, d, _, _ in batch])
        self.inflight.append((fut, batch))
        while len(self.inflight) > 2 * self.workers:  # bounded: memory stays flat
            done, units = self.inflight.popleft()
            self._apply(units, done.result())

    def _apply(self, units: list[_Unit], results: list[list[Finding]]) -> None:
        for (commit, _path, _data, numbers, added), findings in zip(units, results, strict=True):
            for finding in findings:
                self._report(finding, commit, numbers, added)

    def drain(self) -> None:
        """Everything queued scanned and applied, in commit order."""
        self._submit()
        while self.inflight:
            done, units = self.inflight.popleft()
            self._apply(units, done.result())

    def _start_pool(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        global _WORKER_DETECTOR
        if "fork" not in multiprocessing.get_all_start_methods():
            return  # the detector (a hyperscan database) cannot be sent to a spawned worker
        _ = self.detector.key  # resolved once here, not by every worker
        _WORKER_DETECTOR = self.detector
        self.pool = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_close_in_worker,
            initargs=(self.inherited,),
        )

    def close(self) -> None:
        """Stop the workers (after `drain`, or on an error: queued work is dropped)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def walk(self, out: IO[bytes]) -> None:
        """Parse the stream: commit lines, diff headers, hunks."""
        commit = ""
        cur: _File | None = None
        in_hunk = False
        parents = 1  # 1 for a plain diff, N for a merge's combined diff
        number = 0  # next line number in the new version
        path: str | None = None
        blob = b""
        binary = False
        allowed = self.detector.path_allowed
        for line in out:
            if in_hunk:
                c = line[:1]
                if c == b"+" or c == b" ":
                    if parents == 1:
                        if cur is not None:
                            cur.add(line[1:], number, c == b"+")
                            if cur.size > CHUNK_BYTES:
                                self.flush(cur, final=False)
                        number += 1
                        continue
                    marks = line[:parents]
                    if b"-" not in marks:
                        if cur is not None:
                            cur.add(line[parents:], number, marks == b"+" * parents)
                            if cur.size > CHUNK_BYTES:
                                self.flush(cur, final=False)
                        number += 1
                    continue
                if c == b"-" or c == b"\\":
                    continue
                in_hunk = False
            # A header line.
            if line.startswith(b"@@"):
                at = len(line) - len(line.lstrip(b"@"))
                parents = at - 1
                fields = line.split(b" ", parents + 2)
                start = fields[parents + 1][1:].split(b",", 1)[0]
                first = int(start) if start.isdigit() else 0
                if cur is None and path is not None and not allowed(path):
                    cur = _File(commit, path)
                if cur is not None and cur.lines and cur.numbers[-1] + 1 < first:
                    cur.add(b"\n", first - 1, False)  # hunks apart: not one line
                number = first
                in_hunk = True
                continue
            if line.startswith(b"diff "):
                self._end_file(cur, commit, path, blob, binary)
                cur, path, blob, binary = None, None, b"", False
                if line.startswith(b"diff --git "):
                    path = _diff_git_path(line[11:].rstrip(b"\n"))
                else:  # "diff --cc PATH" / "diff --combined PATH"
                    path = _path(line.split(b" ", 2)[2].rstrip(b"\n"))
                continue
            if line.startswith(b"\0"):
                self._end_file(cur, commit, path, blob, binary)
                cur, path, blob, binary = None, None, b"", False
                commit = line[1:].strip().decode()
                continue
            if line.startswith(b"+++ "):
                target = line[4:].rstrip(b"\n")
                if target.startswith(b'"'):
                    target = unquote(target)
                elif target.endswith(b"\t"):
                    target = target[:-1]  # git marks a name holding a space with a tab
                new = target[2:] if target[:2] == b"b/" else None
                path = None if new is None else new.decode("utf-8", "surrogateescape")
            elif line.startswith((b"rename to ", b"copy to ")):
                path = _path(line.split(b" ", 2)[2].rstrip(b"\n"))
            elif line.startswith(b"index "):
                blob = line.split()[1].rsplit(b".", 1)[-1]
            elif line.startswith(b"Binary files "):
                binary = True
        self._end_file(cur, commit, path, blob, binary)

    def _end_file(
        self, cur: _File | None, commit: str, path: str | None, blob: bytes, binary: bool
    ) -> None:
        if cur is not None:
            self.flush(cur, final=True)
            self.scanned += 1
        elif (
            binary
            and path is not None
            and blob
            and not _NULL_SHA.match(blob)
            and KEY_FILE.search(path)
            and not self.detector.path_allowed(path)
        ):
            self.blobs.append((commit, path, blob.decode()))

    def key_stores(self) -> None:
        """Scan the binary key stores the range added, whole, from one `cat-file`."""
        from pretense_dev.secrets.gitread import read_blobs

        if not self.blobs:
            return
        contents = read_blobs(self.root, sorted({b for _, _, b in self.blobs}))
        for commit, path, blob in self.blobs:
            for finding in self.detector.scan_bytes(contents.get(blob, b""), path):
                if finding.identity not in self.seen:
                    self.seen.add(finding.identity)
                    self.found.append((finding, commit))
            self.scanned += 1


def log_command(root: Path, rev_args: Sequence[str]) -> list[str]:
    """The ``git log`` that writes a range as the walker reads it, whatever the user's config."""
    return [
        "git", "-C", str(root),
        "-c", "core.quotePath=false", "-c", "diff.noprefix=false",
        "-c", "diff.mnemonicPrefix=false", "-c", "log.showSignature=false",
        # Bounded pack windows and delta cache: git's own memory stays near
        # 130 MB on a large repository instead of mapping whole packs (400 MB).
        "-c", "core.packedGitWindowSize=4m", "-c", "core.packedGitLimit=48m",
        "-c", "core.deltaBaseCacheLimit=32m",
        "log", "--reverse", "-p", f"-U{CONTEXT}", "--cc", "--root", "-M",
        "--full-index", "--no-color", "--no-ext-diff", "--no-textconv", "--no-relative",
        "--src-prefix=a/", "--dst-prefix=b/", "--diff-filter=AMRCT", "--format=%x00%H",
        *rev_args, "--",
    ]  # fmt: skip


def _bigger_pipe(fd: int) -> None:
    """A 1 MB pipe (Linux): git keeps writing while a large file is scanned."""
    import fcntl

    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)  # type: ignore[attr-defined,unused-ignore]


def scan_history(
    detector: Detector, root: Path, rev_args: Sequence[str], workers: int | None = None
) -> HistoryScan:
    """Every commit of `rev_args` (``git log`` arguments), streamed; see the module doc.

    A range with more than `PARALLEL_BYTES` of added text is scanned by a
    pool of forked workers (one per core) in batches, while this process
    reads git's output; findings are applied in commit order, so the
    introducing commit is still the one reported.
    """
    walker = _Walker(detector, root, workers)
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                log_command(root, rev_args), stdout=subprocess.PIPE, stderr=err, bufsize=1 << 20
            )
        except FileNotFoundError:
            raise PretenseError("git is not installed", "install git and retry") from None
        assert proc.stdout is not None
        walker.inherited = [proc.stdout.fileno()]
        _bigger_pipe(proc.stdout.fileno())
        try:
            walker.walk(proc.stdout)
            walker.drain()
        finally:
            walker.close()
            proc.stdout.close()
            code = proc.wait()
        if code != 0:
            err.seek(0)
            msg = err.read().decode("utf-8", "replace").strip().splitlines()
            raise UsageError(f"git log failed: {msg[-1] if msg else code}")
    walker.key_stores()
    return HistoryScan(walker.found, walker.scanned)


def iter_lines(data: bytes) -> Iterator[bytes]:
    """`data` as the lines a pipe would give (for tests of the parser on fixed text)."""
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end + 1
        yield data[start:end]
        start = end
