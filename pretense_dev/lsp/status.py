"""The proxy's state for a repository, as the editor shows it.

Sent as the `pretense/status` notification (the VS Code extension puts it in
the status bar) on start, after every on-save re-index, when a policy edit
changes the map and whenever a periodic check finds the state changed; a
change of state is also shown once with `window/showMessage`.

States: ``up`` (the proxy runs and serves this repository's current map),
``down`` (nothing answers), ``not-protecting`` (a proxy answers but not for
this repository, or with a stale map), ``unknown`` (the state cannot be
read, e.g. outside an initialised repository).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types

if TYPE_CHECKING:
    from pretense_dev.lsp.context import WorkspaceRepo
    from pretense_dev.lsp.server import PretenseLanguageServer

STATUS_METHOD = "pretense/status"
PROBE_TIMEOUT = 2.0  # s per loopback request; a proxy slower than this is as good as down
UP, DOWN, NOT_PROTECTING, UNKNOWN = "up", "down", "not-protecting", "unknown"


@dataclass(frozen=True)
class ProxyStatus:
    """One reading of the proxy's state."""

    state: str
    port: int | None
    detail: str


def probe(ctx: WorkspaceRepo) -> ProxyStatus:
    """Read the proxy's state for `ctx` (blocking: call it off the event loop).

    Up means what `pretense-dev verify` proves about the proxy: it runs (state
    file, live pid, `/health`), and the canary sent through
    `/r/<id>/pretense/verify` comes back mutated as this repository's key and
    current map predict, with a proof only a holder of the key can make.
    """
    if not ctx.initialised or ctx.repo is None or ctx.repo_id is None:
        return ProxyStatus(
            UNKNOWN, None, "this file is not in a repository set up with `pretense-dev init`"
        )
    status = _probe_once(ctx)
    if status.state == NOT_PROTECTING and status.detail.startswith(STALE):
        status = _probe_once(ctx)  # the map grew between our read and its answer
    return status


STALE = "the proxy uses map version"


def _probe_once(ctx: WorkspaceRepo) -> ProxyStatus:
    assert ctx.repo is not None and ctx.repo_id is not None
    import importlib

    try:  # stdlib-only modules of the proxy part (`verify` and the hooks use them too)
        proxy_state = importlib.import_module("pretense_dev.proxy.state")
        canary = importlib.import_module("pretense_dev.proxy.canary")
    except ModuleNotFoundError:  # the proxy part is not installed: read nothing
        return ProxyStatus(UNKNOWN, None, "this pretense-dev cannot read the proxy's state")
    running = proxy_state.running(timeout=PROBE_TIMEOUT)
    if running is None:
        return ProxyStatus(DOWN, None, "no pretense-dev proxy is running")
    from pretense_dev.index.reader import IndexReader, IndexUnreadable

    try:
        with IndexReader(ctx.repo.index_path) as reader:  # its own connection: off the loop
            version, complete = reader.map_state()
            rows = reader.sample_active(3)
            extra = reader.sample_active(0, include=("canary",))
    except IndexUnreadable as e:
        return ProxyStatus(NOT_PROTECTING, running.port, str(e))
    if not complete:
        return ProxyStatus(
            NOT_PROTECTING,
            running.port,
            "the identifier map is incomplete (an index run did not finish) "
            "— run `pretense-dev index`",
        )
    outcome = canary.run(
        running.url, ctx.repo_id, ctx.key, [*rows, *extra], version, timeout=PROBE_TIMEOUT
    )
    if outcome.refusal is not None:
        # The proxy answered in the API's error format: its message says why.
        detail = f"it refused the challenge: {outcome.refusal}"
        return ProxyStatus(NOT_PROTECTING, running.port, detail)
    if not outcome.ok:
        return ProxyStatus(NOT_PROTECTING, running.port, "; ".join(outcome.problems))
    return ProxyStatus(
        UP, running.port, f"the proxy on port {running.port} serves this map (version {version})"
    )


_MESSAGES = {
    UP: (types.MessageType.Info, "pretense-dev: the proxy is protecting {repo}{port}."),
    DOWN: (
        types.MessageType.Warning,
        "pretense-dev: the proxy is not running, so AI requests from {repo} are not "
        "protected — run `pretense-dev proxy start`.",
    ),
    NOT_PROTECTING: (
        types.MessageType.Warning,
        "pretense-dev: the proxy{port} is not protecting {repo} ({detail}) — run "
        "`pretense-dev verify`.",
    ),
}


class StatusReporter:
    """Sends `pretense/status`, and `window/showMessage` when a state changes."""

    def __init__(self, server: PretenseLanguageServer) -> None:
        self.server = server
        self.last: dict[str, ProxyStatus] = {}
        self._announced: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._poller: asyncio.Task[None] | None = None

    def announce(self, ctx: WorkspaceRepo) -> None:
        """Send a repository's first status, once.

        Called for each workspace folder, and for the repository of every
        document opened, so files from outside the workspace get one too.
        """
        key = str(ctx.root)
        if not ctx.initialised or key in self._announced:
            return
        self._announced.add(key)
        task = asyncio.get_running_loop().create_task(self.refresh(ctx, "startup"))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def refresh(self, ctx: WorkspaceRepo, reason: str) -> dict[str, Any]:
        """Probe, notify, and say so if the state changed; return the payload."""
        loop = asyncio.get_running_loop()
        status = await loop.run_in_executor(None, probe, ctx)
        key = str(ctx.root)
        before = self.last.get(key)
        self.last[key] = status
        payload = self.payload(ctx, status, reason)
        self.server.protocol.notify(STATUS_METHOD, payload)
        changed = before is None or before.state != status.state
        # The first reading is only worth a message when something is wrong.
        wanted = before is not None or status.state != UP
        if changed and wanted and status.state in _MESSAGES and self.server.options.status_messages:
            kind, text = _MESSAGES[status.state]
            self.server.window_show_message(
                types.ShowMessageParams(
                    type=kind,
                    message=text.format(
                        repo=ctx.root.name if ctx.root else "this file",
                        port=f" on port {status.port}" if status.port else "",
                        detail=status.detail,
                    ),
                )
            )
        return payload

    @staticmethod
    def payload(ctx: WorkspaceRepo, status: ProxyStatus, reason: str) -> dict[str, Any]:
        """The notification's params (camelCase, as editors expect)."""
        store = ctx.read_store()
        return {
            "state": status.state,
            "port": status.port,
            "detail": status.detail,
            "root": str(ctx.root) if ctx.root else None,
            "repoId": ctx.repo_id,
            "protectedNames": store.active_count() if store is not None else None,
            "mapVersion": store.map_version() if store is not None else None,
            "policyError": ctx.policy().error,
            "reason": reason,
        }

    def start_polling(self) -> None:
        """Re-check every `statusPollSeconds` for the repositories in use."""
        if self._poller is None:
            self._poller = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.server.options.status_poll_seconds)  # the poll period
            for ctx in self.server.contexts.all():
                if not ctx.initialised:
                    continue
                before = self.last.get(str(ctx.root))
                status = await asyncio.get_running_loop().run_in_executor(None, probe, ctx)
                if before is None or before.state != status.state:
                    await self.refresh(ctx, "poll")

    def stop(self) -> None:
        """Stop polling."""
        for task in list(self._tasks):
            task.cancel()
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None
