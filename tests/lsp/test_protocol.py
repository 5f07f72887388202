"""What the server does with what it cannot handle: answer, log, never a traceback to the user.

Raw JSON-RPC messages are sent through pytest-lsp's client to the real
server process, so the server's decoder sees exactly what a broken or
hurried client would send.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from pretense_dev.lifecycle import init_repo
from tests.conftest import git, write
from tests.lsp.support import (
    SERVER,
    TIMEOUT,
    RecordingClient,
    github_token,
    hover_text,
    initialize_params,
    open_doc,
)

APP = "def reconcile_ledger(entries):\n    return sum(entries)\n"


@pytest.fixture
def repo(git_repo: Path) -> Path:
    write(git_repo, {"app.py": APP})
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "app")
    init_repo(git_repo, workers=1)
    return git_repo


@pytest_lsp.fixture(config=SERVER)  # type: ignore[untyped-decorator]
async def client(lsp_client: RecordingClient, repo: Path) -> AsyncIterator[None]:
    await lsp_client.initialize_session(initialize_params(repo))
    yield
    await lsp_client.shutdown_session()


async def still_serves(client: RecordingClient, repo: Path) -> None:
    """A normal request after the bad message gets its normal answer."""
    uri = open_doc(client, repo / "app.py", APP)
    h = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=0, character=6),
        )
    )
    assert "`reconcile_ledger` is protected" in hover_text(h)


async def raw_request(client: RecordingClient, method: str, params: object) -> object:
    """Send a request as raw JSON (the client's typed API would refuse bad params)."""
    msg_id = str(uuid.uuid4())
    future: concurrent.futures.Future[object] = concurrent.futures.Future()
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return await asyncio.wait_for(asyncio.wrap_future(future), TIMEOUT)


def raw_notify(client: RecordingClient, method: str, params: object) -> None:
    client.protocol._send_data({"jsonrpc": "2.0", "method": method, "params": params})


def error_popups(client: RecordingClient) -> list[str]:
    return [m.message for m in client.messages if m.type == types.MessageType.Error]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "params",
    [
        {"textDocument": None, "position": {"line": 0, "character": 0}},
        {"textDocument": {"uri": "file:///x.py"}},
        {"textDocument": {"uri": "file:///x.py"}, "position": {"line": "zero", "character": 0}},
    ],
)
async def test_a_request_with_invalid_params_gets_an_error_response(
    client: RecordingClient, repo: Path, params: dict[str, object]
) -> None:
    with pytest.raises(JsonRpcException) as caught:
        await raw_request(client, types.TEXT_DOCUMENT_HOVER, params)
    assert caught.value.code == -32602
    assert str(caught.value) == (
        "invalid params for textDocument/hover: they do not match the LSP types"
    )
    await still_serves(client, repo)
    assert error_popups(client) == []


@pytest.mark.asyncio
async def test_a_change_to_a_document_never_opened_is_ignored(
    client: RecordingClient, repo: Path
) -> None:
    uri = (repo / "never_opened.py").as_uri()
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="x = 1\n")],
        )
    )
    raw_notify(client, types.TEXT_DOCUMENT_DID_SAVE, {"textDocument": {"uri": 7}})
    await still_serves(client, repo)
    assert error_popups(client) == []
    assert all(p.uri != uri for p in client.published)


@pytest.mark.asyncio
async def test_a_failing_request_is_answered_in_one_line_without_a_traceback(
    client: RecordingClient, repo: Path
) -> None:
    with pytest.raises(JsonRpcException) as caught:
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="pretense.addToPolicy", arguments=["only one"])
        )
    assert str(caught.value) == (
        "ValueError: pretense.addToPolicy takes [uri, 'never' | 'always', name]"
    )
    assert caught.value.data is None
    assert error_popups(client) == []
    await still_serves(client, repo)


@pytest.mark.asyncio
async def test_hover_over_a_secret_says_what_it_is_never_the_value(
    client: RecordingClient, repo: Path
) -> None:
    token = github_token()
    text = APP + f'LEDGER_TOKEN = "{token}"\n'
    uri = open_doc(client, repo / "app.py", text)
    (finding,) = await client.diagnostics_at(uri, 1)
    for character in (16, 20, len(text.splitlines()[2]) - 3):  # inside the token
        h = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=2, character=character),
            )
        )
        shown = hover_text(h)
        assert token not in shown and token[:8] not in shown and token[-8:] not in shown
        assert shown == f"⚠ {finding.message}"
        assert f"({finding.code}, fingerprint " in shown and "pretense: allow" in shown
    # The name the line defines still says what AI tools see, and that a secret is there.
    h = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=2, character=3),
        )
    )
    shown = hover_text(h)
    assert shown.startswith("🔒 `LEDGER_TOKEN` is protected: AI tools see `")
    assert shown.endswith(f"⚠ {finding.message}")
    assert token not in shown
