"""The user-level audit log: an append-only, hash-chained SQLite table.

One file, ``<user data dir>/audit.db`` (0600, in a 0700 directory), shared by
every writer of a user: the proxy (one event per request, appended in
batches from its writer thread, `proxy/auditing.py`), the hook processes and
``verify`` (session, blocked and drift events).  The chain is described in
`chain`; this module owns the file.

Design choices, each measured or forced by a requirement:

* **One transaction per append that reads the head inside it** (``BEGIN
  IMMEDIATE``): two processes appending at once serialise on SQLite's write
  lock, so each reads the other's head and the chain stays one line
  (tests/audit/test_store.py runs four writer processes at once).
* **The hashed JSON is the only source of truth.** The indexed columns
  (session, time, repo, tool, decision, event type…) are *generated* columns
  computed by SQLite from ``data``, so no UPDATE can make a query disagree with
  what ``verify`` checks.  They are STORED, not VIRTUAL: the sessions list
  aggregates them and must not re-parse JSON per row.
* **WAL, synchronous=NORMAL**: an append costs ~0.1 ms instead of an fsync per
  row (bench/audit_append.py).  A process crash loses nothing; a power cut can
  lose the last commits, which looks like truncation and is caught the same way
  (a recorded head, see `chain`).
* A ``sessions`` summary table, so the TUI's first screen reads a few hundred
  rows instead of aggregating a million (its goal is a first paint under a
  second, bench/audit_tui.py).  It is derived data: evidence and incident
  reports compute from ``events`` itself.  The writer keeps it in the same
  transaction as the rows, one statement per batch (`_summarise`), not a
  per-row trigger.
* **Only the indexes a query uses** (`m002_lean_appends`): every index and the
  per-row summary trigger are paid by every append (SQLite maintained 9
  indexes and the trigger at 120–200 µs of CPU per event; bare rows cost
  ~25 µs), and the proxy appends once per request on a thread that competes
  with the requests for the CPU.

`record()` is the hook's entry point: stdlib only (sqlite3, hashlib, json),
one open, one append, one close — measured by bench/audit_append.py.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from pretense_dev.audit import chain
from pretense_dev.audit.chain import GENESIS, Head, Problem
from pretense_dev.audit.events import DECISIONS, EVENT_TYPES, AuditEvent, SecretRef
from pretense_dev.errors import PretenseError
from pretense_dev.sqlite import Migrations, open_database, transaction

DB_NAME = "audit.db"

MIGRATIONS = Migrations()

# Defence in depth against a writer that puts prompt text where a name or a
# reason belongs: free text is one line of at most REASON_MAX characters, and
# every other string at most FIELD_MAX.  Real values are far shorter (a reason
# is a sentence; a session id is a UUID; a path a few hundred bytes).
REASON_MAX = 300
FIELD_MAX = 512


class AuditError(PretenseError):
    """The audit log cannot be opened or written."""


# Columns computed from the hashed JSON (name, SQL type, expression).
_J = "json_extract(data, '$.{}')"
GENERATED = (
    ("data_seq", "INTEGER", _J.format("seq")),
    ("time", "REAL", _J.format("time")),
    ("event", "TEXT", _J.format("event")),
    ("session_id", "TEXT", _J.format("session_id")),
    ("tool", "TEXT", _J.format("tool")),
    ("user", "TEXT", _J.format("user")),
    ("machine", "TEXT", _J.format("machine")),
    ("repo_id", "TEXT", _J.format("repo_id")),
    ("repo_path", "TEXT", _J.format("repo_path")),
    ("vendor", "TEXT", _J.format("vendor")),
    ("model", "TEXT", _J.format("model")),
    ("endpoint", "TEXT", _J.format("endpoint")),
    ("mutation_active", "INTEGER", _J.format("mutation_active")),
    ("identifiers_protected", "INTEGER", _J.format("identifiers_protected")),
    ("secrets_count", "INTEGER", "json_array_length(data, '$.secrets')"),
    ("decision", "TEXT", _J.format("decision")),
    ("context_bytes", "INTEGER", _J.format("context_bytes")),
    # Events without a session id (an SDK call, a hook that got none) are
    # grouped per tool, repo and UTC day, so they still form readable sessions.
    (
        "session",
        "TEXT",
        "CASE WHEN session_id != '' THEN session_id ELSE "
        "'nosession:' || tool || ':' || repo_id || ':' || date(time, 'unixepoch') END",
    ),
)

_SESSION_COLUMNS = """
    session TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    first_time REAL NOT NULL,
    last_time REAL NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    tool TEXT NOT NULL,
    user TEXT NOT NULL,
    machine TEXT NOT NULL,
    repo_id TEXT NOT NULL,
    repo_path TEXT NOT NULL,
    vendor TEXT NOT NULL,
    model TEXT NOT NULL,
    events INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    prompts INTEGER NOT NULL,
    forwarded INTEGER NOT NULL,
    blocked INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    unprotected INTEGER NOT NULL,
    secrets INTEGER NOT NULL,
    drift INTEGER NOT NULL,
    names INTEGER NOT NULL,
    context_max INTEGER NOT NULL
"""

# One event's contribution to its session's summary row, as an upsert: the
# writer feeds it a batch's new rows in order (`_summarise`; m001's trigger
# fed it NEW.*), `rebuild_sessions` feeds it the stored rows in order,
# so both give the same summary (tests/audit/test_store.py compares them).
_UNPROTECTED = "(event = 'request' AND decision = 'forwarded' AND NOT mutation_active)"
_SESSION_ROW = """
    {p}session, {p}session_id, {p}time, {p}time, {p}seq, {p}seq,
    {p}tool, {p}user, {p}machine, {p}repo_id, {p}repo_path, {p}vendor, {p}model,
    1, {p}event = 'request', {p}event = 'prompt_submitted',
    {p}decision = 'forwarded', {p}decision = 'blocked', {p}decision = 'error',
    ({p}event = 'request' AND {p}decision = 'forwarded' AND NOT {p}mutation_active),
    {p}secrets_count > 0, {p}event = 'drift_detected',
    {p}identifiers_protected, {p}context_bytes
"""
_SESSION_UPSERT = """
    INSERT INTO sessions {source}
    ON CONFLICT (session) DO UPDATE SET
        first_time = min(first_time, excluded.first_time),
        last_time = max(last_time, excluded.last_time),
        first_seq = min(first_seq, excluded.first_seq),
        last_seq = max(last_seq, excluded.last_seq),
        tool = CASE WHEN tool = '' THEN excluded.tool ELSE tool END,
        user = CASE WHEN user = '' THEN excluded.user ELSE user END,
        machine = CASE WHEN machine = '' THEN excluded.machine ELSE machine END,
        repo_id = CASE WHEN repo_id = '' THEN excluded.repo_id ELSE repo_id END,
        repo_path = CASE WHEN repo_path = '' THEN excluded.repo_path ELSE repo_path END,
        vendor = CASE WHEN excluded.vendor != '' THEN excluded.vendor ELSE vendor END,
        model = CASE WHEN excluded.model != '' THEN excluded.model ELSE model END,
        events = events + excluded.events,
        requests = requests + excluded.requests,
        prompts = prompts + excluded.prompts,
        forwarded = forwarded + excluded.forwarded,
        blocked = blocked + excluded.blocked,
        errors = errors + excluded.errors,
        unprotected = unprotected + excluded.unprotected,
        secrets = secrets + excluded.secrets,
        drift = drift + excluded.drift,
        names = max(names, excluded.names),
        context_max = max(context_max, excluded.context_max)
"""


@MIGRATIONS
def m001_events(conn: sqlite3.Connection) -> None:
    """The chained events, their indexes, checkpoints and the session summary."""
    generated = ",\n".join(f"{n} {t} GENERATED ALWAYS AS ({e}) STORED" for n, t, e in GENERATED)
    statements = [
        f"""CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            data TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            {generated}
        )""",
        "CREATE INDEX events_session ON events (session, seq)",
        "CREATE INDEX events_time ON events (time)",
        "CREATE INDEX events_repo ON events (repo_id, time)",
        "CREATE INDEX events_tool ON events (tool, time)",
        "CREATE INDEX events_decision ON events (decision, time)",
        "CREATE INDEX events_event ON events (event, time)",
        "CREATE INDEX events_context ON events (context_bytes) WHERE context_bytes > 0",
        "CREATE INDEX events_secrets ON events (seq) WHERE secrets_count > 0",
        f"CREATE INDEX events_unprotected ON events (seq) WHERE {_UNPROTECTED}",
        # Rows moved to an archive file; the first kept row links to the last one.
        """CREATE TABLE checkpoints (
            seq_end INTEGER PRIMARY KEY,
            hash_end TEXT NOT NULL,
            seq_start INTEGER NOT NULL,
            prev_hash TEXT NOT NULL,
            rows INTEGER NOT NULL,
            first_time REAL,
            last_time REAL,
            archive TEXT NOT NULL,
            archive_sha256 TEXT NOT NULL,
            created_at REAL NOT NULL
        )""",
        f"CREATE TABLE sessions ({_SESSION_COLUMNS})",
        "CREATE INDEX sessions_last ON sessions (last_time, session)",
        "CREATE INDEX sessions_repo ON sessions (repo_id, last_time)",
        "CREATE INDEX sessions_tool ON sessions (tool, last_time)",
        "CREATE TRIGGER events_session AFTER INSERT ON events BEGIN "
        + _SESSION_UPSERT.format(source="VALUES (" + _SESSION_ROW.format(p="NEW.") + ")")
        + "; END",
    ]
    for sql in statements:
        conn.execute(sql)


# Requests whose whole conversation is at least this large are indexed for the
# large-context alert (its default threshold, `alerts.DEFAULT_LARGE_CONTEXT`);
# a lower per-repository threshold reads the table instead.  Indexing every
# request's size cost each append an index entry for an alert that is rare.
LARGE_CONTEXT_INDEXED = 1_000_000

# Indexes no query used (the TUI's lists read `sessions`; evidence, export and
# retention select by time; alerts by the partial indexes), or that covered
# nearly every row where a partial one serves the only query.
_DROPPED = ("events_repo", "events_tool", "events_decision", "events_event", "events_context")


@MIGRATIONS
def m002_lean_appends(conn: sqlite3.Connection) -> None:
    """Cheaper appends: drop unused indexes; the writer keeps `sessions`, not a trigger.

    Touches no row of ``events`` (the chain is unchanged) and no summary row
    (the trigger kept them up to date until now); idempotent, so a second
    opener racing the first changes nothing.  ``sessions_through`` records the
    last row the summary covers: a writer summarises every row after it, so
    rows appended by a process that opened the log before this migration
    (with the trigger gone) are summarised by the next append.
    """
    for name in _DROPPED:
        conn.execute(f"DROP INDEX IF EXISTS {name}")
    conn.execute("DROP TRIGGER IF EXISTS events_session")
    conn.execute(
        "CREATE INDEX IF NOT EXISTS events_drift ON events (seq) WHERE event = 'drift_detected'"
    )
    conn.execute(
        "CREATE INDEX IF NOT EXISTS events_large ON events (context_bytes) "
        f"WHERE context_bytes >= {LARGE_CONTEXT_INDEXED}"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS sessions_through "
        "(id INTEGER PRIMARY KEY CHECK (id = 0), seq INTEGER NOT NULL)"
    )
    conn.execute(
        "INSERT OR IGNORE INTO sessions_through (id, seq) "
        "SELECT 0, coalesce(max(seq), 0) FROM events"
    )


MIGRATION_NAMES = tuple(name for name, _ in MIGRATIONS.steps)
# Schemas a read-only handle can read: m002 changed only what writers do, so a
# log not yet upgraded (no writer has opened it since) reads the same.
READABLE = (MIGRATION_NAMES[:1], MIGRATION_NAMES)


def default_path() -> Path:
    """``<user data dir>/audit.db``."""
    from pretense_dev import paths

    return paths.user_data_dir() / DB_NAME


@dataclass(frozen=True)
class ChainReport:
    """What `AuditStore.verify` found."""

    problems: tuple[Problem, ...]
    rows: int  # live rows re-derived
    archived_rows: int  # rows re-derived from archive files
    head: Head | None  # the last row (or checkpoint); None for an empty log
    checkpoints: int
    anchors: int  # recorded heads checked
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True if nothing is wrong."""
        return not self.problems


class AuditStore:
    """The audit log.  ``AuditStore()`` opens (creating if needed) the user's log.

    Thread-safe: the proxy appends from its writer thread while its event loop
    calls `probe`, and one connection is shared under a lock (a transaction is several statements).
    Use ``AuditStore.open_readonly(path)`` to read without any write access.
    """

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.readonly = False
        self._lock = threading.Lock()
        self._private = path is None
        self._conn = _open_rw(self.path, private_dir=self._private)
        self._ident = _file_ident(self.path)
        self._probed: tuple[int, int, int, int] | None = None

    @classmethod
    def open_readonly(cls, path: Path | str | None = None) -> AuditStore:
        """Open an existing log with ``mode=ro``: this handle cannot write (TUI, reports)."""
        self = cls.__new__(cls)
        self.path = Path(path) if path is not None else default_path()
        self.readonly = True
        self._lock = threading.Lock()
        self._conn = connect_readonly(self.path)
        return self

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection, for the query modules."""
        return self._conn

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writing ---------------------------------------------------------

    def append(self, event: AuditEvent) -> str:
        """Add one event at the head of the chain; return its hash.

        Raises ValueError for an invalid event (unknown type or decision, a
        non-finite number, text that is not valid Unicode) and AuditError if the
        log cannot be written.
        """
        return self.append_many((event,))[0]

    def append_many(self, events: Iterable[AuditEvent]) -> list[str]:
        """Add several events in one transaction, all or none; return their hashes.

        The proxy's writer thread appends what is queued this way (one commit
        for a batch costs about half as much per event as one per event:
        bench/audit_append.py); seeding and imports too.
        """
        if self.readonly:
            raise AuditError(f"{self.path} is open read-only")
        prepared = [normalise(e) for e in events]
        rows: list[tuple[int, str, str, str]] = []
        with self._lock:
            self._reopen_if_replaced()
            try:
                with transaction(self._conn):
                    head = self._head()
                    seq, prev = head.seq, head.hash
                    for event in prepared:
                        seq += 1
                        data = chain.encode(seq, event)
                        h = chain.link(prev, data)
                        rows.append((seq, data.decode("utf-8"), prev, h))
                        prev = h
                    self._conn.executemany(
                        "INSERT INTO events (seq, data, prev_hash, hash) VALUES (?, ?, ?, ?)", rows
                    )
                    _summarise(self._conn, head.seq)
            except sqlite3.Error as e:
                raise AuditError(
                    f"cannot write the audit log {self.path}: {e}",
                    "check the file's permissions and free disk space",
                ) from None
        return [r[3] for r in rows]

    def _reopen_if_replaced(self) -> bool:
        """Follow a log replaced on disk (`audit recover`) instead of its old inode.

        Recovery moves a damaged log aside and puts a new one in its place; a
        long-lived writer (the proxy) must append to the new file.
        """
        ident = _file_ident(self.path)
        if ident is None or ident == self._ident:
            return False
        old = self._conn
        self._conn = _open_rw(self.path, private_dir=self._private)
        self._ident = ident
        old.close()
        return True

    def probe(self) -> bool:
        """Raise AuditError unless the log's file is there and its chain head reads.

        The proxy asks before every forward (no evidence, no forward), on its
        event loop: one stat, and the writer's lock only when the file was
        replaced.  The read uses a fresh connection (a long-lived one may
        answer from its page cache after the file was damaged) and costs
        ~0.2 ms, so it runs only when the file's stat changed since the last
        good read: appends go to
        the WAL, so the main file changes only at a checkpoint or from outside;
        a failed append is caught by the writer itself.  Returns True when the
        file was replaced (recovered) since the last append, and the writer
        now uses it.
        """
        if self.readonly:
            raise AuditError(f"{self.path} is open read-only")
        try:
            st = os.stat(self.path)
            replaced = False
            if (st.st_dev, st.st_ino) != self._ident:
                # Replaced on disk: the writer lock only now (the audit thread holds it
                # through each append, and the event loop must not wait on that).
                with self._lock:
                    replaced = self._reopen_if_replaced()
                st = os.stat(self.path)
            stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            if stamp == self._probed and not replaced:
                return False
            conn = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True, timeout=5)
            try:
                conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            finally:
                conn.close()
        except (sqlite3.Error, AuditError, OSError) as e:
            self._probed = None
            raise AuditError(f"cannot read the audit log {self.path}: {e}") from None
        self._probed = stamp
        return replaced

    # -- reading ---------------------------------------------------------

    def _head(self) -> Head:
        row = self._conn.execute(
            "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        if row is not None:
            return Head(row[0], row[1])
        cp = self.last_checkpoint()
        return cp if cp is not None else chain.START

    def head(self) -> Head | None:
        """The last position of the chain, or None if nothing was ever recorded."""
        h = self._head()
        return None if h.seq == 0 else h

    def last_checkpoint(self) -> Head | None:
        """Where the live rows start from after an archive (None: from genesis)."""
        row = self._conn.execute(
            "SELECT seq_end, hash_end FROM checkpoints ORDER BY seq_end DESC LIMIT 1"
        ).fetchone()
        return None if row is None else Head(row[0], row[1])

    def count(self) -> int:
        """Live rows."""
        return int(self._conn.execute("SELECT count(*) FROM events").fetchone()[0])

    def event(self, seq: int) -> AuditEvent | None:
        """The event stored at `seq`."""
        row = self._conn.execute("SELECT data FROM events WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else decode(row[0])

    def events(self, where: str = "", params: Sequence[object] = ()) -> Iterator[StoredEvent]:
        """Stored events in chain order, optionally filtered by a SQL condition."""
        sql = "SELECT seq, data, prev_hash, hash FROM events"
        if where:
            sql += f" WHERE {where}"
        for seq, data, prev_hash, hash_ in self._conn.execute(sql + " ORDER BY seq", params):
            yield StoredEvent(seq, decode(data), prev_hash, hash_, data)

    def verify(
        self,
        *,
        anchors: Sequence[Head] = (),
        after: Head | None = None,
        check_archives: bool = True,
        archive_dir: Path | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ChainReport:
        """Re-derive the chain and report every broken, missing or moved row.

        `anchors` are heads recorded elsewhere (an evidence file, an export):
        each must still be in the chain with the same hash — this is what
        catches rows removed at the end.  `after` verifies only rows past a
        position already verified (the TUI re-checks new rows this way).
        Archived rows are re-derived from their files unless `check_archives`
        is False; `cancelled` is polled every 65,536 rows (TUI worker).
        """
        from pretense_dev.audit import checkpoints as cps  # deferred: file I/O only verify needs

        problems: list[Problem] = []
        notes: list[str] = []
        archived = 0
        checkpoints = cps.load_checkpoints(self._conn)
        anchor_list = sorted(set(anchors))
        if after is None:
            cp_result = cps.verify_checkpoints(
                checkpoints,
                archive_dir or cps.default_archive_dir(self.path),
                anchors=anchor_list,
                check_archives=check_archives,
            )
            problems += cp_result.problems
            notes += cp_result.notes
            archived = cp_result.rows
            start = checkpoints[-1].head if checkpoints else chain.START
        else:
            start = after
        checker = chain.Checker(start)
        cur = self._conn.execute(
            "SELECT seq, data_seq, CAST(data AS BLOB), prev_hash, hash FROM events "
            "WHERE seq > ? ORDER BY seq",
            (start.seq,),
        )
        while True:
            batch = cur.fetchmany(65536)
            if not batch:
                break
            checker.run(batch)
            if cancelled is not None and cancelled():
                break
        problems += checker.problems
        head = checker.last if checker.last.seq else None
        for anchor in anchor_list:
            if checkpoints and anchor.seq <= checkpoints[-1].seq_end:
                continue  # checked against the checkpoints and archives above
            if head is None or anchor.seq > head.seq:
                problems.append(
                    Problem(
                        anchor.seq,
                        chain.TRUNCATED,
                        f"recorded head {anchor.seq} is gone: the log ends at "
                        f"{head.seq if head else 0} (rows removed at the end)",
                    )
                )
                continue
            row = self._conn.execute(
                "SELECT hash FROM events WHERE seq = ?", (anchor.seq,)
            ).fetchone()
            if row is None:
                continue  # reported as missing by the checker
            if row[0] != anchor.hash:
                problems.append(
                    Problem(
                        anchor.seq,
                        chain.ANCHOR,
                        f"recorded as {anchor.hash[:19]}…, now {row[0][:19]}… "
                        "(the chain was rewritten)",
                    )
                )
        problems.sort(key=lambda p: (p.seq, p.kind))
        return ChainReport(
            tuple(problems),
            checker.rows,
            archived,
            head,
            len(checkpoints),
            len(anchor_list),
            tuple(notes),
        )


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored: its position and hashes with it."""

    seq: int
    event: AuditEvent
    prev_hash: str
    hash: str
    data: str  # the canonical JSON that was hashed


def decode(data: str | bytes) -> AuditEvent:
    """A stored record back to its event (``seq`` dropped)."""
    import json

    d = json.loads(data)
    d.pop("seq", None)
    return AuditEvent.from_dict(d)


def record(event: AuditEvent, path: Path | str | None = None) -> str:
    """Append one event to the user's audit log and close it: the hooks' entry point.

    Cheap: imports only the standard library, opens the existing file without
    a write transaction, appends in one (bench/audit_append.py measures a
    whole hook-style `record` in a fresh process).  Raises AuditError if the
    log cannot be written, ValueError for an invalid event.
    """
    store = AuditStore(path)
    try:
        return store.append(event)
    finally:
        store.close()


# -- opening -------------------------------------------------------------


def _file_ident(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _open_rw(path: Path, *, private_dir: bool) -> sqlite3.Connection:
    """Open for appending; create (0600) and migrate only when needed.

    The fast path (an up-to-date file) reads ``_migrations`` without taking the
    write lock, so a hook's `record` does one write transaction, not two.
    """
    try:
        if private_dir:
            from pretense_dev.paths import ensure_private_dir

            ensure_private_dir(path.parent)
            if path.parent.stat().st_mode & 0o077:
                os.chmod(path.parent, 0o700)  # it also holds the key fallback and registry
        if path.exists():
            conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            try:
                names = _migration_names(conn)
                if names == MIGRATION_NAMES:
                    conn.execute("PRAGMA synchronous=NORMAL")
                    return conn
            except BaseException:
                conn.close()
                raise
            conn.close()
            _check_known(path, names)
        conn = open_database(path, MIGRATIONS, mode=0o600, wal=True)
        return conn
    except sqlite3.Error as e:
        raise AuditError(
            f"cannot open the audit log {path}: {e}",
            "check the file's permissions; if it is damaged, run `pretense-dev audit recover` "
            "(it keeps the damaged file)",
        ) from None
    except OSError as e:
        raise AuditError(
            f"cannot create the audit log {path}: {e.strerror}",
            "check the directory's permissions and free disk space",
        ) from None


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A ``mode=ro`` connection to an existing, up-to-date log."""
    if not path.exists():
        raise AuditError(
            f"no audit log at {path}",
            "events are recorded once the proxy or a hook has run (`pretense-dev init`)",
        )
    try:
        conn = sqlite3.connect(
            path.resolve().as_uri() + "?mode=ro",
            uri=True,
            timeout=30,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            names = _migration_names(conn)
        except BaseException:
            conn.close()
            raise
    except sqlite3.Error as e:
        raise AuditError(
            f"cannot read the audit log {path}: {e}",
            "if it is damaged, run `pretense-dev audit recover` (it keeps the damaged file)",
        ) from None
    if names not in READABLE:
        conn.close()
        _check_known(path, names)
        raise AuditError(
            f"{path} has not been upgraded yet (schema {len(names)} of {len(MIGRATION_NAMES)})",
            "run any `pretense-dev audit` command that writes, e.g. start the proxy",
        )
    return conn


def _migration_names(conn: sqlite3.Connection) -> tuple[str, ...]:
    try:
        rows = conn.execute("SELECT name FROM _migrations ORDER BY rowid").fetchall()
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            raise sqlite3.DatabaseError("not a pretense-dev audit log") from None
        raise
    return tuple(r[0] for r in rows)


def _check_known(path: Path, names: tuple[str, ...]) -> None:
    unknown = [n for n in names if n not in MIGRATION_NAMES]
    if unknown:
        raise AuditError(
            f"{path} was written by a newer pretense-dev (schema {unknown[-1]})",
            "upgrade pretense-dev",
        )


# -- validation ----------------------------------------------------------


def normalise(event: AuditEvent) -> AuditEvent:
    """Check an event and bound its strings before it is hashed and stored.

    Unknown event types or decisions and non-finite numbers are programming
    errors (ValueError).  Strings are bounded (see REASON_MAX): the log must
    not become a place where prompt text can land by mistake.
    """
    if event.event not in EVENT_TYPES:
        raise ValueError(f"unknown audit event type {event.event!r}")
    if event.decision and event.decision not in DECISIONS:
        raise ValueError(f"unknown audit decision {event.decision!r}")
    if not (math.isfinite(event.time) and math.isfinite(event.latency_ms)):
        raise ValueError("audit event time and latency must be finite numbers")
    changes: dict[str, object] = {}
    reason = " ".join(event.reason.split())
    if len(reason) > REASON_MAX:
        reason = reason[: REASON_MAX - 1] + "…"
    if reason != event.reason:
        changes["reason"] = reason
    for f in dataclasses.fields(event):
        v = getattr(event, f.name)
        if f.name != "reason" and isinstance(v, str) and len(v) > FIELD_MAX:
            changes[f.name] = _clip(v)
    for name in ("identifiers", "files"):
        items: tuple[str, ...] = getattr(event, name)
        if any(len(s) > FIELD_MAX for s in items):
            changes[name] = tuple(_clip(s) for s in items)
    if any(max(len(s.rule), len(s.fingerprint), len(s.where)) > FIELD_MAX for s in event.secrets):
        changes["secrets"] = tuple(
            SecretRef(_clip(s.rule), _clip(s.fingerprint), _clip(s.where)) for s in event.secrets
        )
    out = dataclasses.replace(event, **changes) if changes else event  # type: ignore[arg-type]
    for f in dataclasses.fields(out):
        v = getattr(out, f.name)
        if isinstance(v, str):
            v.encode("utf-8")  # lone surrogates: UnicodeEncodeError, a ValueError
    for s in (*out.identifiers, *out.files, *(x for r in out.secrets for x in (r.rule, r.where))):
        s.encode("utf-8")
    return out


def _clip(s: str) -> str:
    return s if len(s) <= FIELD_MAX else s[: FIELD_MAX - 1] + "…"


# The stored rows in order, fed to `_SESSION_UPSERT` (`_summarise`, `rebuild_sessions`).
_SESSION_SOURCE = "SELECT " + _SESSION_ROW.format(p="") + " FROM events WHERE {cond} ORDER BY seq"


def _summarise(conn: sqlite3.Connection, head_seq: int) -> None:
    """Fold the rows after ``sessions_through`` into `sessions`, in the append's transaction.

    The same upsert `rebuild_sessions` runs, over the new rows only, so a batch
    gives the summary a rebuild would.  `head_seq` (the head before this
    append) bounds the work if the marker row is missing.
    """
    row = conn.execute("SELECT seq FROM sessions_through WHERE id = 0").fetchone()
    start = head_seq if row is None else min(int(row[0]), head_seq)
    conn.execute(_SESSION_UPSERT.format(source=_SESSION_SOURCE.format(cond="seq > ?")), (start,))
    conn.execute(
        "INSERT OR REPLACE INTO sessions_through (id, seq) "
        "SELECT 0, coalesce(max(seq), 0) FROM events"
    )


def rebuild_sessions(conn: sqlite3.Connection, sessions: Iterable[str] | None = None) -> None:
    """Recompute session summaries from `events` (after archiving; tests compare).

    Call inside a transaction.  `sessions` limits the work to those keys.
    """
    source = _SESSION_SOURCE
    if sessions is None:
        conn.execute("DELETE FROM sessions")
        conn.execute(_SESSION_UPSERT.format(source=source.format(cond="true")))
        conn.execute(
            "INSERT OR REPLACE INTO sessions_through (id, seq) "
            "SELECT 0, coalesce(max(seq), 0) FROM events"
        )
        return
    # Only rows the summary already covers: any after ``sessions_through`` are
    # added by the next append (`_summarise`), and must not be counted twice.
    cond = "session = ? AND seq <= coalesce((SELECT seq FROM sessions_through WHERE id = 0), seq)"
    for key in sessions:
        conn.execute("DELETE FROM sessions WHERE session = ?", (key,))
        conn.execute(_SESSION_UPSERT.format(source=source.format(cond=cond)), (key,))


__all__ = [
    "GENESIS",
    "AuditError",
    "AuditStore",
    "ChainReport",
    "Head",
    "Problem",
    "StoredEvent",
    "decode",
    "default_path",
    "record",
]
