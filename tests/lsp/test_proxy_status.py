"""The proxy's state as the editor sees it: a real proxy daemon started and stopped.

Skipped until the proxy part is installed (it is developed beside this one).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types

from pretense_dev.lifecycle import init_repo
from tests.conftest import git, write
from tests.lsp.support import SERVER, RecordingClient, initialize_params, open_doc

daemon = pytest.importorskip("pretense_dev.proxy.daemon", reason="the proxy has not landed yet")


@pytest.fixture
def repo(git_repo: Path) -> Path:
    write(git_repo, {"app.py": "def settle_invoices():\n    pass\n"})
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "app")
    init_repo(git_repo, workers=1)
    return git_repo


@pytest.fixture
def proxy_stopped() -> Iterator[None]:
    yield
    daemon.stop()


@pytest_lsp.fixture(config=SERVER)  # type: ignore[untyped-decorator]
async def client(lsp_client: RecordingClient, repo: Path) -> AsyncIterator[None]:
    await lsp_client.initialize_session(initialize_params(repo))
    yield
    await lsp_client.shutdown_session()


def messages(client: RecordingClient, kind: types.MessageType) -> list[str]:
    return [m.message for m in client.messages if m.type == kind]


@pytest.mark.asyncio
async def test_status_follows_the_proxy(
    client: RecordingClient, repo: Path, proxy_stopped: None
) -> None:
    first = await client.status("startup")
    assert first["state"] == "down" and first["port"] is None
    warning = await client.until(
        lambda: next(iter(messages(client, types.MessageType.Warning)), None)
    )
    assert "the proxy is not running" in warning and "pretense-dev proxy start" in warning

    started = daemon.start(port=0)
    uri = open_doc(client, repo / "app.py", (repo / "app.py").read_text())
    save = types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    before = len(client.statuses)
    client.text_document_did_save(save)
    up = await client.status("saved", after=before)
    assert up["state"] == "up" and up["port"] == started.state.port, up
    info = await client.until(
        lambda: next(
            (m for m in messages(client, types.MessageType.Info) if "protecting" in m), None
        )
    )
    assert f"on port {started.state.port}" in info

    daemon.stop()
    before = len(client.statuses)
    client.text_document_did_save(save)
    down = await client.status("saved", after=before)
    assert down["state"] == "down"
    await client.until(lambda: len(messages(client, types.MessageType.Warning)) == 2 or None)
