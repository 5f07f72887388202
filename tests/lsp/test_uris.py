"""Documents whose URIs need percent-encoding are found, whatever the client encoded.

A repository under a directory with a space, files named `café.py`, `a#b.py`
and `100%.py`, and a Windows-style URI with an encoded drive letter: each
gets diagnostics, hover and names, through the real server.
"""

from __future__ import annotations

import string
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest
import pytest_lsp
from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types

from pretense_dev.lifecycle import init_repo
from pretense_dev.lsp.uris import key
from pretense_dev.repo import Repo
from tests.conftest import git
from tests.lsp.support import (
    SERVER,
    RecordingClient,
    github_token,
    hover_text,
    initialize_params,
    replace_all,
)

APP = "def reconcile_ledger(entries):\n    return sum(entries)\n"
NAMES = ["café.py", "a#b.py", "100%.py", "with space.py", "ü/ß è.py"]


# -- the key, unit ---------------------------------------------------------------------


def test_key_decodes_once_and_lowers_the_drive_letter() -> None:
    assert key("file:///C%3A/Users/Me/caf%C3%A9.py") == "file:///c:/Users/Me/café.py"
    assert key("file:///c:/Users/Me/café.py") == "file:///c:/Users/Me/café.py"
    assert key("file:///tmp/my%20repo/a%23b.py") == "file:///tmp/my repo/a#b.py"
    # `%25` is a literal `%`: decoded once, `100%2541` stays `100%41`, not `100A`.
    assert key("file:///tmp/100%2541.py") == "file:///tmp/100%41.py"
    assert key("untitled:Untitled-1") == "untitled:Untitled-1"


_PATH_CHARS = string.ascii_letters + string.digits + " #%?&=+;,@!$'()[]~_-.éüß漢😀"


@given(
    parts=st.lists(st.text(_PATH_CHARS, min_size=1, max_size=8), min_size=1, max_size=4),
    safe=st.sampled_from(["/", "/:", "/:@&=+$,;", "/:@!$&'()*+,;=~"]),
    drive=st.sampled_from(["", "c:/", "C:/"]),
)
def test_every_encoding_of_one_path_has_one_key(parts: list[str], safe: str, drive: str) -> None:
    path = "/" + drive + "/".join(parts)
    as_sent = "file://" + quote(path, safe=safe)
    canonical = "file://" + quote(path.replace("C:", "c:"), safe="/")
    assert key(as_sent) == key(canonical)
    assert key(key(as_sent).replace("%", "%25")) == key(as_sent)  # re-encoding round-trips


# -- end to end ----------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "my repos" / "prøject #1"
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for name in NAMES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(APP, encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "seed")
    init_repo(root, workers=1)
    return root


@pytest_lsp.fixture(config=SERVER)  # type: ignore[untyped-decorator]
async def client(lsp_client: RecordingClient, repo: Path) -> AsyncIterator[None]:
    await lsp_client.initialize_session(initialize_params(repo))
    yield
    await lsp_client.shutdown_session()


def open_uri(client: RecordingClient, uri: str, text: str) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=text
            )
        )
    )


async def hover(client: RecordingClient, uri: str, line: int, character: int) -> str:
    h = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
        )
    )
    return hover_text(h)


def closed(client: RecordingClient, uri: str, after: int) -> types.PublishDiagnosticsParams | None:
    """The clearing publish sent for `uri` on close (no version), among those after `after`."""
    return next((p for p in client.published[after:] if p.uri == uri and p.version is None), None)


def encodings(path: Path) -> list[str]:
    """The same file as VS Code (everything encoded) and as a lax client may send it."""
    strict = "file://" + quote(path.as_posix(), safe="/")
    lax = "file://" + quote(path.as_posix(), safe="/ ()!$&'+,;=@[]~")  # spaces raw
    return [strict, lax, path.as_uri()]


@pytest.mark.asyncio
@pytest.mark.parametrize("name", NAMES)
async def test_encoded_paths_get_diagnostics_hover_and_names(
    client: RecordingClient, repo: Path, name: str
) -> None:
    token = github_token()
    text = APP + f'TOKEN = "{token}"\n'
    synthetic = Repo(repo).open_store().issued(["reconcile_ledger"])["reconcile_ledger"].synthetic
    for i, uri in enumerate(dict.fromkeys(encodings(repo / name))):
        open_uri(client, uri, text)  # the same file, opened again as another client spells it
        diags = await client.diagnostics_at(uri, 1)
        assert [d.code for d in diags] == ["github-pat"], uri
        assert f"AI tools see `{synthetic}`" in await hover(client, uri, 0, 6)
        replace_all(client, uri, 2, APP)
        assert list(await client.diagnostics_at(uri, 2)) == [], uri
        before = len(client.published)
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        cleared = await client.until(lambda u=uri, n=before: closed(client, u, n))  # type: ignore[misc]
        assert list(cleared.diagnostics) == [], i
    assert not [m for m in client.messages if m.type == types.MessageType.Error]


@pytest.mark.asyncio
async def test_a_windows_style_uri_with_an_encoded_drive_letter(client: RecordingClient) -> None:
    # What VS Code sends on Windows.  The file does not exist here: the buffer
    # is scanned as one outside any repository.
    sent = "file:///c%3A/Users/Dev/My%20Project/app.py"
    token = github_token()
    open_uri(client, sent, f'TOKEN = "{token}"\n')
    diags = await client.diagnostics_at(sent, 1)
    assert [d.code for d in diags] == ["github-pat"]
    # Later messages about the same document may spell the drive letter differently.
    replace_all(client, sent, 2, "x = 1\n")
    assert list(await client.diagnostics_at(sent, 2)) == []
    text = await hover(client, "file:///C:/Users/Dev/My Project/app.py", 0, 0)
    assert text.startswith("`x` — not protected: this file is not in a repository")
    assert not [m for m in client.messages if m.type == types.MessageType.Error]
