"""Full and incremental indexing, and the map computed from the definitions.

An index run lists the repository's files, re-reads only those whose size or
mtime changed (and re-parses only those whose content hash changed), writes
their definitions, then recomputes the map for the names those files touched:

* a name is **active** (protected) when some file defines it and the config
  allows it (``min_length``, ``never``), or when it is in ``always``;
* an active name without a synthetic gets one now; a synthetic once issued never
  changes, and a name leaves the map only when no file defines it any more.

A full index of many files uses a process pool (tree-sitter holds the GIL; one
worker per core); small runs stay in-process, where the pool would cost more
than it saves.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Container, Generator, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pretense_dev.config import Config, IdentifiersConfig, SecretsConfig
from pretense_dev.identifiers import PRIORITY, stoplists
from pretense_dev.identifiers.languages import language_for_path
from pretense_dev.index.store import FileRecord, IndexStore
from pretense_dev.mutation import synthesize
from pretense_dev.mutation.synth import Issuer, find_lookalikes
from pretense_dev.worktree import Candidate, candidates, is_binary, is_generated

if TYPE_CHECKING:
    from pretense_dev.secrets import Detector

PARALLEL_THRESHOLD = 64  # files; below this a pool costs more than it saves
_KIND_RANK = {k: i for i, k in enumerate(PRIORITY)}
BULK_COMMIT_BYTES = 16 * 1024 * 1024  # source bytes per transaction in a large run
BATCH_BYTES = 256 * 1024
_PART = re.compile(r"[A-Za-z0-9_]{3,}")


@dataclass
class IndexReport:
    """What an index run did, for `init`, `index` and `status`."""

    files_seen: int = 0
    files_parsed: int = 0
    files_removed: int = 0
    bytes_parsed: int = 0
    languages: Counter[str] = field(default_factory=Counter)
    names_protected: int = 0
    names_added: int = 0
    names_removed: int = 0
    seconds: float = 0.0
    unnamed: list[str] = field(default_factory=list)  # names not UTF-8: not indexed


def index_file(
    root: str,
    rel: str,
    size: int,
    mtime_ns: int,
    skip_generated: bool,
    detector: Detector | None = None,
) -> FileRecord | None:
    """Read, hash and parse one file, and scan it for secrets in the same read.

    None if it is binary or unreadable.  Without a `detector` the record's
    findings are None (not scanned), and the store keeps what it had.
    """
    try:
        with open(os.path.join(root, rel), "rb") as f:
            data = f.read()
    except OSError:
        return None
    if is_binary(data):
        return None
    findings = None if detector is None else tuple(detector.scan_bytes(data, rel))
    language = language_for_path(rel)
    defs = definitions_in(data, rel, language, skip_generated)
    looks = tuple(sorted(find_lookalikes(data)))
    return FileRecord(
        rel, hashlib.sha256(data).hexdigest(), language, size, mtime_ns, defs, looks, findings
    )


# What a worker needs to build its own Detector (the key and the [secrets] policy
# pickle; a Detector holds a hyperscan database, which does not).
SecretsSetup = tuple[bytes, SecretsConfig]


def definitions_in(
    data: bytes, rel: str, language: str | None, skip_generated: bool
) -> tuple[tuple[str, str, int], ...]:
    """(name, kind, line) that `rel` with content `data` defines, as the index records them.

    The language server calls this on unsaved editor buffers, so a name typed
    in an editor is found exactly as the indexer will find it once saved.
    """
    if language is None or (skip_generated and is_generated(data)):
        return ()
    from pretense_dev.identifiers.extract import definition_rows, module_definitions

    found = definition_rows(data, language)
    names = {row[0] for row in found}
    found += [
        (d.name, d.kind, d.line) for d in module_definitions(rel, language) if d.name not in names
    ]
    return tuple(found)


def _index_batch(
    root: str,
    batch: Sequence[tuple[str, int, int]],
    skip_generated: bool,
    secrets: SecretsSetup | None = None,
) -> list[FileRecord]:
    detector = None
    if secrets is not None:
        from pretense_dev.secrets import Detector

        detector = Detector(*secrets)
    out = []
    for rel, size, mtime_ns in batch:
        rec = index_file(root, rel, size, mtime_ns, skip_generated, detector)
        if rec is not None:
            out.append(rec)
    return out


def _batches(items: list[Candidate]) -> list[list[tuple[str, int, int]]]:
    out: list[list[tuple[str, int, int]]] = []
    cur: list[tuple[str, int, int]] = []
    size = 0
    for c in items:
        cur.append((c.path, c.size, c.mtime_ns))
        size += c.size
        if size >= BATCH_BYTES:
            out.append(cur)
            cur, size = [], 0
    if cur:
        out.append(cur)
    return out


def _parse_batches(
    root: Path,
    todo: list[Candidate],
    workers: int | None,
    skip_generated: bool,
    secrets: SecretsSetup | None = None,
) -> Generator[list[FileRecord], None, None]:
    """Parse `todo`, yielding records batch by batch as workers finish them.

    The caller writes each batch while the workers parse the next ones, so the
    store's inserts overlap the parsing instead of following it.
    """
    if workers is None:
        workers = os.cpu_count() or 1
    if workers <= 1 or len(todo) < PARALLEL_THRESHOLD:
        yield _index_batch(
            str(root), [(c.path, c.size, c.mtime_ns) for c in todo], skip_generated, secrets
        )
        return
    import multiprocessing
    from concurrent.futures import as_completed

    # Largest first, so one big file does not finish alone at the end.
    todo = sorted(todo, key=lambda c: c.size, reverse=True)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context(method), initializer=_worker_ignores_sigint
    )
    try:
        futures = [
            pool.submit(_index_batch, str(root), b, skip_generated, secrets) for b in _batches(todo)
        ]
        for fut in as_completed(futures):
            yield fut.result()
    except BaseException:
        _stop_now(pool)
        raise
    pool.shutdown(wait=True)


def _worker_ignores_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which stops them (`_stop_now`).

    A terminal's Ctrl-C reaches the whole process group: a worker interrupted
    mid-task breaks the pool, and the parent's orderly shutdown then waited
    for every queued batch — 5 to 20 s on a large repository.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop_now(pool: ProcessPoolExecutor) -> None:
    """Drop queued batches and end the workers at once (an interrupted or failed run)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        p.terminate()
    for p in procs:
        p.join(1.0)


def run_index(
    root: Path,
    store: IndexStore,
    config: Config,
    key: bytes,
    *,
    full: bool = False,
    only: Iterable[str] | None = None,
    workers: int | None = None,
    extra_defined: Mapping[str, str] | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> IndexReport:
    """Bring the index up to date with the work tree; see the module docstring.

    `only` limits the run to these repo-relative paths (the watcher and the
    language server pass the files that changed); a listed path that no longer
    exists is removed from the index.  `extra_defined` goes to `update_map`.
    `progress(files read, files to read, distinct names defined so far)` is
    called after each batch (the CLI draws it on a terminal: pretense_dev/progress.py).
    """
    t0 = time.perf_counter()
    report = IndexReport()
    known = store.file_states()
    only_list = None if only is None else sorted(set(only))
    found = {c.path: c for c in candidates(root, config.index, only_list, report.unnamed)}
    scope = set(known) if only_list is None else set(only_list) & set(known)
    removed = sorted(scope - set(found))
    todo = [
        c
        for path, c in found.items()
        if full or (k := known.get(path)) is None or (k.size, k.mtime_ns) != (c.size, c.mtime_ns)
    ]
    report.files_seen = len(found)
    touched: list[tuple[str, int, int]] = []
    affected: set[str] = set()
    parsed: set[str] = set()
    # On a run that re-reads every file, the first definition of each name is
    # known from the records; collecting it while workers parse saves a sort of
    # every definition row afterwards.
    first: dict[str, tuple[int, str, int, str]] | None = {} if full and only is None else None
    pending_bytes = 0
    done = 0
    names_seen: set[str] = set()
    if progress is not None:
        progress(0, len(todo), 0)
    tx = store.bulk()
    tx.__enter__()
    secrets = (key, config.secrets)
    parsing = _parse_batches(root, todo, workers, config.index.skip_vendored, secrets)
    try:
        for batch in parsing:
            records = []
            for r in batch:
                parsed.add(r.path)
                k = known.get(r.path)
                if not full and k is not None and k.sha256 == r.sha256:
                    # Same bytes, new mtime: remember the stat, skip the rewrite.
                    touched.append((r.path, r.size, r.mtime_ns))
                else:
                    records.append(r)
                if first is not None:
                    for name, kind, line in r.definitions:
                        rank = (_KIND_RANK.get(kind, len(PRIORITY)), r.path, line, kind)
                        old = first.get(name)
                        if old is None or rank < old:
                            first[name] = rank
            report.files_parsed += len(records)
            if progress is not None:
                done += len(batch)
                names_seen.update(name for r in batch for name, _, _ in r.definitions)
                progress(done, len(todo), len(names_seen))
            size = sum(r.size for r in records)
            report.bytes_parsed += size
            if records:
                affected |= store.write_files(records, ())
            pending_bytes += size
            if pending_bytes > BULK_COMMIT_BYTES:
                # Bounded transactions: the watcher and the LSP can write in between.
                tx.__exit__(None, None, None)
                tx = store.bulk()
                tx.__enter__()
                pending_bytes = 0
    except BaseException as e:
        parsing.close()  # stops the workers now, not when the generator is collected
        tx.__exit__(type(e), e, e.__traceback__)
        raise
    tx.__exit__(None, None, None)
    if progress is not None:  # binary and unreadable files were read too
        progress(len(todo), len(todo), len(names_seen))
    # A file that turned binary or unreadable since the last run leaves the index.
    removed += sorted(c.path for c in todo if c.path not in parsed and c.path in known)
    report.files_removed = len(removed)
    if removed or touched:
        affected |= store.write_files((), removed, touched)
    defined = None if first is None else {n: v[3] for n, v in first.items()}
    report.names_added, report.names_removed = update_map(
        store,
        config.identifiers,
        key,
        affected,
        everything=full,
        defined=defined,
        extra_defined=extra_defined,
    )
    if only is None:
        store.mark_complete()
    report.names_protected = store.active_count()
    report.languages = Counter(store.languages())
    report.seconds = time.perf_counter() - t0
    return report


def config_fingerprint(cfg: IdentifiersConfig) -> str:
    """Changes whenever a setting that decides the map changes."""
    data = {"min_length": cfg.min_length, "never": sorted(cfg.never), "always": sorted(cfg.always)}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def always_names(entries: Iterable[str]) -> set[str]:
    """The tokens an `always` list protects, in the casings text uses.

    "Initech" protects Initech, initech and INITECH; a host such as
    "billing.acme-internal.net" protects each part that is not a common word.
    """
    out: set[str] = set()
    for entry in entries:
        if stoplists.TOKEN.match(entry):
            parts = [entry]
        else:
            parts = [p for p in _PART.findall(entry) if stoplists.reason(p) is None]
        for p in parts:
            out.update({p, p.lower(), p.upper(), p[:1].upper() + p[1:]})
    return {n for n in out if stoplists.TOKEN.match(n)}


def allowed(name: str, cfg: IdentifiersConfig) -> bool:
    """Config rules a defined name must pass to be protected."""
    return len(name) >= cfg.min_length and name not in cfg.never


class _Taken(Container[str]):
    """The names a new synthetic must avoid: issued synthetics, real look-alike tokens, names.

    A full run loads them all (a set is fastest for 60k names); an incremental
    run asks the store for each candidate instead of loading every row — on the
    standard library that is the difference between ~300 ms and ~1 ms.
    """

    def __init__(self, store: IndexStore, load_all: bool) -> None:
        self._store = store
        self._mem: set[str] = set()
        self._all = load_all
        if load_all:
            self._mem = store.taken_tokens()

    def add(self, token: str) -> None:
        self._mem.add(token)

    def __contains__(self, token: object) -> bool:
        if token in self._mem:
            return True
        return not self._all and isinstance(token, str) and self._store.is_taken(token)


# An incremental run touching more names than this recomputes everything:
# one scan beats thousands of point queries.
POINT_QUERY_LIMIT = 5000


def update_map(
    store: IndexStore,
    cfg: IdentifiersConfig,
    key: bytes,
    affected: Iterable[str],
    *,
    everything: bool = False,
    defined: dict[str, str] | None = None,
    extra_defined: Mapping[str, str] | None = None,
) -> tuple[int, int]:
    """Recompute `active` for the affected names (or all), issue new synthetics.

    `defined` (name → kind of its first definition) may be passed by a run that
    has just read every file; otherwise it is read from the store.
    `extra_defined` (name → kind) are definitions the store does not hold yet:
    the language server passes the names its open, unsaved buffers define, so
    they are protected as soon as they are typed and stay protected while a
    buffer still defines them.  Returns (names that became protected, names
    that stopped being protected).
    """
    fp = config_fingerprint(cfg)
    if store.meta("config_fingerprint") != fp:
        everything = True
    always = always_names(cfg.always) - set(cfg.never)
    names = set(affected) | always
    if len(names) > POINT_QUERY_LIMIT:
        everything = True
    extra = dict(extra_defined or {})
    if everything:
        issued = store.issued()
        if defined is None:
            defined = store.defined_names()
        names = set(issued) | set(defined) | always | set(extra)
    else:
        issued = store.issued(names)
        defined = store.defined_names(names)
    if extra:  # the store's kind wins for a name saved somewhere too
        defined = {**{n: k for n, k in extra.items() if n in names}, **defined}
    want_active: dict[str, str] = {}
    for n in names:
        if n in always:
            want_active[n] = defined.get(n, "name")
        elif n in defined and allowed(n, cfg):
            want_active[n] = defined[n]
    scheme = store.synth_scheme() if want_active else 0
    fresh = sorted(n for n in want_active if n not in issued)
    new = []
    if everything and fresh:
        # A full run holds every taken token in a plain set (a Python-level
        # __contains__ cost more than the set) and issues through an Issuer,
        # which skips a hint's 3-digit probes once they are all taken.
        issuer = Issuer(key, store.taken_tokens(), scheme)
        # sorted: collision resolution must not depend on scheduling
        new = [(n, issuer.issue(n, want_active[n]), want_active[n]) for n in fresh]
    else:
        taken = _Taken(store, False)
        for n in fresh:
            syn = synthesize(key, n, want_active[n], taken, scheme)
            taken.add(syn)
            new.append((n, syn, want_active[n]))
    activate = [n for n in want_active if n in issued and not issued[n].active]
    deactivate = [n for n in names if n in issued and issued[n].active and n not in want_active]
    store.update_identifiers(new, activate, deactivate, fp)
    return len(new) + len(activate), len(deactivate)
