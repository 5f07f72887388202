"""Secret diagnostics end to end: the real server process and the real detector.

Tokens are built at run time (`tests.lsp.support.github_token`); the tests assert
where a finding is reported, that its text never carries the value, that it
goes away with the secret, and what must not happen: no diagnostics for clean
buffers, none for files nobody opened (the server never scans the repository).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types

from pretense_dev.lifecycle import init_repo
from tests.conftest import git, write
from tests.lsp.support import (
    SERVER,
    RecordingClient,
    github_token,
    initialize_params,
    open_doc,
    replace_all,
    replace_range,
)

LINES = 5000
SECRET_LINE = 3001  # 1-based


def big_module(token: str | None, at: int = SECRET_LINE) -> str:
    """A 5,000-line Python module; line `at` assigns `token` if given."""
    out = []
    for i in range(1, LINES + 1):
        if i == at and token is not None:
            out.append(f'    api_token = "{token}"')
        elif i % 5 == 1:
            out.append(f"def handler_{i}(request):")
        elif i % 5 == 0:
            out.append("")
        else:
            out.append(f"    value_{i} = request.get('field_{i}', {i})")
    return "\n".join(out) + "\n"


@pytest.fixture
def repo(git_repo: Path) -> Path:
    # A committed file with a secret that no test opens: it must never be reported.
    planted = github_token()
    write(git_repo, {"ops/deploy.py": f'TOKEN = "{planted}"\n', "app.py": "x = 1\n"})
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "seed")
    init_repo(git_repo, workers=1)
    return git_repo


@pytest_lsp.fixture(config=SERVER)  # type: ignore[untyped-decorator]
async def client(lsp_client: RecordingClient, repo: Path) -> AsyncIterator[None]:
    await lsp_client.initialize_session(initialize_params(repo))
    yield
    await lsp_client.shutdown_session()


def wire_text(client: RecordingClient) -> str:
    """Everything the server published, as JSON text."""
    conv = client.protocol._converter
    return json.dumps([conv.unstructure(p) for p in client.published])


@pytest.mark.asyncio
async def test_unsaved_large_buffer_secret_reported_then_cleared(
    client: RecordingClient, repo: Path
) -> None:
    token = github_token()
    path = repo / "services" / "big_unsaved.py"  # never written to disk
    uri = open_doc(client, path, big_module(token))
    diags = await client.diagnostics_at(uri, 1)
    assert len(diags) == 1
    d = diags[0]
    assert d.range.start == types.Position(line=SECRET_LINE - 1, character=4)
    line_text = f'    api_token = "{token}"'
    assert d.range.end == types.Position(line=SECRET_LINE - 1, character=len(line_text))
    assert d.severity == types.DiagnosticSeverity.Error
    assert d.source == "pretense-dev"
    assert isinstance(d.code, str) and d.code in d.message
    assert "pretense: allow" in d.message
    assert token not in d.message and token[4:] not in d.message

    # Change it away (incremental): the finding goes.
    col = line_text.index(token) - 1
    replace_range(
        client,
        uri,
        2,
        (SECRET_LINE - 1, col),
        (SECRET_LINE - 1, len(line_text)),
        'os.environ["API_TOKEN"]',
    )
    assert await client.diagnostics_at(uri, 2) == []

    # Back, elsewhere, with a full-document change.
    replace_all(client, uri, 3, big_module(token, at=12))
    diags = await client.diagnostics_at(uri, 3)
    assert [d.range.start.line for d in diags] == [11]

    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    await client.until(
        lambda: client.published[-1].uri == uri and not client.published[-1].diagnostics
    )
    assert token not in wire_text(client)
    assert not path.exists()


@pytest.mark.asyncio
async def test_clean_buffer_gets_no_diagnostics_and_unopened_files_none_at_all(
    client: RecordingClient, repo: Path
) -> None:
    uri = open_doc(client, repo / "app.py", big_module(None))
    assert await client.diagnostics_at(uri, 1) == []
    replace_range(client, uri, 2, (0, 0), (0, 0), "# a comment\n")
    assert await client.diagnostics_at(uri, 2) == []
    published = {p.uri for p in client.published}
    assert published == {uri}, "the server published for a file nobody opened"
    assert (repo / "ops" / "deploy.py").as_uri() not in published


@pytest.mark.asyncio
async def test_columns_are_utf16_code_units(client: RecordingClient, repo: Path) -> None:
    token = github_token()
    line = f'label = "😀 café"; token = "{token}"'
    uri = open_doc(client, repo / "emoji.py", f"x = 1\n{line}\n")
    (d,) = await client.diagnostics_at(uri, 1)
    assert d.range.start == types.Position(line=1, character=0)
    assert d.range.end.character == len(line.encode("utf-16-le")) // 2 == len(line) + 1


@pytest.mark.asyncio
async def test_allow_action_silences_the_finding(client: RecordingClient, repo: Path) -> None:
    token = github_token()
    text = f'import os\nKEY = "{token}"\nprint(KEY)\n'
    uri = open_doc(client, repo / "allowed.py", text)
    diags = await client.diagnostics_at(uri, 1)
    assert len(diags) == 1
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diags[0].range,
            context=types.CodeActionContext(diagnostics=diags),
        )
    )
    allow = [a for a in result or [] if isinstance(a, types.CodeAction) and a.kind == "quickfix"]
    assert len(allow) == 1 and allow[0].edit is not None and allow[0].edit.changes is not None
    (edit,) = allow[0].edit.changes[uri]
    assert edit.new_text == "  # pretense: allow"
    assert edit.range.start == types.Position(line=1, character=len(f'KEY = "{token}"'))
    # The editor applies the edit (unsaved) and sends the change: the finding goes.
    replace_range(
        client,
        uri,
        2,
        (edit.range.start.line, edit.range.start.character),
        (edit.range.end.line, edit.range.end.character),
        edit.new_text,
    )
    assert await client.diagnostics_at(uri, 2) == []
