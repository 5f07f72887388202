"""The proxy harness: a real proxy and a real fake upstream on 127.0.0.1, shared per module.

Both run on one background event loop (`BackgroundServer`), so the official
SDKs' synchronous clients can be used as they would be by a developer.  The
repository behind ``/r/<id>`` is a real index.db written through `IndexStore`
(no tree-sitter needed), with synthetics from the real `synthesize`.  Each
test sets the upstream's answer and reads what the upstream received.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import anthropic
import openai
import pytest

from pretense_dev.audit.events import AuditEvent
from pretense_dev.config import Config
from pretense_dev.index.store import IndexStore
from pretense_dev.mutation import IdentifierMap, synthesize
from pretense_dev.proxy.replay import (
    Answer,
    BackgroundServer,
    Recorded,
    ReplayUpstream,
    Reply,
    reply_for,
)
from pretense_dev.proxy.repos import Refusal, RepoSource, Scanner, default_scanner
from pretense_dev.proxy.server import Proxy, Settings
from tests.conftest import git, run_cli, write


def initialised(root: Path) -> Path:
    """The git repository at `root` with a little committed code, initialised without tools."""
    write(root, {"billing/ledger.py": "class LedgerReconciler:\n    pass\n"})
    git(root, "add", "-A")
    git(root, "commit", "-qm", "code")
    r = run_cli("init", "--no-tools", cwd=root)
    assert r.code == 0, r.err
    return root


KEY = bytes(range(32))
REPO_ID = "abc123def4567890"
# name -> kind: what the test repository "defines".
NAMES: dict[str, str] = {
    "LedgerReconciler": "class",
    "reconcile_batch": "function",
    "apply_credit_note": "function",
    "_ledger_cache": "variable",
    "MAX_RETRY_BUDGET": "constant",
    "InvoiceSummaryCard": "class",
    "dunning_schedule": "function",
    "TaxJurisdiction": "class",
    "proration_days": "variable",
    "acme_internal": "name",
}
TOKEN = re.compile(r"[A-Za-z0-9_]+")


def build_index(root: Path, names: dict[str, str], key: bytes = KEY) -> IdentifierMap:
    """Write `.pretense/{repo-id,index.db}` for `names`; return the map."""
    state = root / ".pretense"
    state.mkdir(parents=True, exist_ok=True)
    (state / "repo-id").write_text(REPO_ID + "\n")
    with IndexStore(state / "index.db") as store:
        issued = store.issued()
        taken = {i.synthetic for i in issued.values()}
        new = []
        for n, kind in names.items():
            if n in issued:
                continue
            s = synthesize(key, n, kind, taken)
            taken.add(s)
            new.append((n, s, kind))
        store.update_identifiers(new, [], [])
        store.mark_complete()  # as a finished `pretense-dev index` leaves it
        return store.load_map()


def protected_tokens(text: str, mapping: IdentifierMap) -> set[str]:
    """Protected names that occur in `text` as whole tokens."""
    return {t for t in TOKEN.findall(text) if t in mapping.forward}


class ListSink:
    """An audit sink that keeps events in memory."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)

    def append(self, event: AuditEvent) -> str:
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()
        return "sha256:test"

    def event_for(self, session_id: str, timeout: float = 10) -> AuditEvent:
        """The event of the request that carried this X-Claude-Code-Session-Id."""

        def find() -> AuditEvent | None:
            return next((e for e in self.events if e.session_id == session_id), None)

        with self.changed:
            self.changed.wait_for(lambda: find() is not None, timeout)
            found = find()
        assert found is not None, f"no audit event for session {session_id}"
        return found


def scanner_factory(key: bytes, config: Config, root: Path) -> Scanner:
    """The real detector, as the proxy builds it."""
    return default_scanner(key, config, root)


@dataclass
class Harness:
    bg: BackgroundServer
    upstream: ReplayUpstream
    proxy: Proxy
    port: int
    root: Path
    mapping: IdentifierMap
    sink: ListSink
    answer: Answer = field(default_factory=Answer)
    reply: Callable[[Recorded], Reply] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        return f"{self.url}/r/{REPO_ID}"

    def respond(self, rec: Recorded) -> Reply:
        if self.reply is not None:
            return self.reply(rec)
        return reply_for(rec, self.answer)

    def anthropic(self) -> anthropic.Anthropic:
        return anthropic.Anthropic(base_url=self.base, api_key="sk-ant-test-key", max_retries=0)

    def openai(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.base + "/v1", api_key="sk-test-key", max_retries=0)

    def syn(self, name: str) -> str:
        s = self.mapping.synthetic(name)
        assert s is not None
        return s

    def spawn(
        self, root: Path, scanner: Callable[[bytes, Config, Path], Scanner] | None = None
    ) -> str:
        """Another proxy (same upstream) serving REPO_ID from `root`; its base URL."""

        def resolve(repo_id: str) -> RepoSource:
            if repo_id != REPO_ID:
                raise Refusal(404, f"no repository with id {repo_id}", decision="blocked")
            return RepoSource(REPO_ID, root, lambda: KEY)

        proxy = Proxy(
            self.proxy.settings,
            resolver=resolve,
            scanner_factory=scanner or scanner_factory,
            audit=self.sink,
        )
        port = self.bg.serve(proxy.create_app())
        return f"http://127.0.0.1:{port}/r/{REPO_ID}"

    def raw(
        self,
        path: str,
        body: bytes = b"{}",
        headers: dict[str, str] | None = None,
        method: str = "POST",
        port: int | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """A request with exactly these bytes and headers (Host included)."""
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=10)
        hdrs = {"Host": f"127.0.0.1:{port or self.port}", "Content-Type": "application/json"}
        hdrs.update(headers or {})
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def reset(self) -> None:
        self.upstream.records.clear()
        self.answer = Answer()
        self.reply = None


def start_harness(root: Path, resolver: Callable[[str], RepoSource] | None = None) -> Harness:
    mapping = build_index(root, NAMES)
    bg = BackgroundServer()
    upstream = ReplayUpstream()
    up_port = bg.serve(upstream.app)
    sink = ListSink()

    def resolve(repo_id: str) -> RepoSource:
        if repo_id != REPO_ID:
            raise Refusal(404, f"no repository with id {repo_id}", decision="blocked")
        return RepoSource(REPO_ID, root, lambda: KEY)

    settings = Settings(
        upstream_anthropic=f"http://127.0.0.1:{up_port}",
        upstream_openai=f"http://127.0.0.1:{up_port}/v1",
    )
    proxy = Proxy(
        settings, resolver=resolver or resolve, scanner_factory=scanner_factory, audit=sink
    )
    port = bg.serve(proxy.create_app())
    proxy.port = port
    h = Harness(bg, upstream, proxy, port, root, mapping, sink)
    upstream.responder = h.respond
    return h


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    h = start_harness(tmp_path_factory.mktemp("repo"))
    try:
        yield h
    finally:
        h.bg.close()


@pytest.fixture
def h(harness: Harness) -> Harness:
    harness.reset()
    return harness


@pytest.fixture
def small_bodies_take_history(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small test bodies take the history path too (it starts at 32 KB in use)."""
    from pretense_dev.proxy import history

    monkeypatch.setattr(history, "MIN_BYTES", 0)


@pytest.fixture(scope="module")
def history_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[IdentifierMap, Scanner]:
    """One repository's map and secret scanner, for the history-cache tests."""
    root: Path = tmp_path_factory.mktemp("history")
    mapping = build_index(root, NAMES)
    return mapping, default_scanner(KEY, Config(), root)
