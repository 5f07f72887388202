"""The language server end to end: the real `pretense-dev lsp` process over stdio.

Every test starts the server as a subprocess (pytest-lsp), points it at a
real git repository initialised with `init_repo`, and waits on the server's
notifications, never on the clock.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types

from pretense_dev.config import load_config
from pretense_dev.index.indexer import run_index
from pretense_dev.lifecycle import init_repo
from pretense_dev.repo import Repo
from tests.conftest import REPO_ROOT, git, write
from tests.lsp.support import (
    SERVER,
    STATUS,
    RecordingClient,
    hover_text,
    initialize_params,
    open_doc,
    replace_all,
    replace_range,
)

APP = '''\
"""Billing."""


def reconcile_ledger(entries):
    return sum(entries)


class InvoiceSummary:
    pass
'''


@pytest.fixture
def repo(git_repo: Path) -> Path:
    write(git_repo, {"billing/app.py": APP, "README.md": "hello\n"})
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "app")
    init_repo(git_repo, workers=1)
    return git_repo


@pytest_lsp.fixture(config=SERVER)  # type: ignore[untyped-decorator]
async def client(lsp_client: RecordingClient, repo: Path) -> AsyncIterator[None]:
    await lsp_client.initialize_session(initialize_params(repo))
    yield
    await lsp_client.shutdown_session()


def identifier(repo: Path, name: str) -> tuple[str, bool] | None:
    """(synthetic, active) of `name` in the repo's index, read as the proxy would."""
    with Repo(repo).open_store() as store:
        row = store.issued([name]).get(name)
    return None if row is None else (row.synthetic, row.active)


def rand_name(prefix: str) -> str:
    return prefix + "".join(secrets.choice(string.ascii_lowercase) for _ in range(8)).title()


# -- start-up and status ----------------------------------------------------------


@pytest.mark.asyncio
async def test_status_on_start_reports_the_map(client: RecordingClient, repo: Path) -> None:
    status = await client.status("startup")
    assert status["root"] == str(repo)
    assert status["repoId"] == Repo(repo).repo_id
    with Repo(repo).open_store() as store:
        assert status["protectedNames"] == store.active_count() > 0
        assert status["mapVersion"] == store.map_version()
    assert status["state"] in ("up", "down", "not-protecting", "unknown")
    assert status["policyError"] is None


# -- buffer names -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_name_defined_only_in_the_buffer_is_protected_at_once(
    client: RecordingClient, repo: Path
) -> None:
    name = rand_name("settle")
    path = repo / "billing" / "app.py"
    uri = open_doc(client, path, APP)
    # Type a new function at the end of the unsaved buffer (incremental sync).
    end = len(APP.splitlines())
    replace_range(client, uri, 2, (end, 0), (end, 0), f"\n\ndef {name}(batch):\n    return batch\n")
    h = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=end + 2, character=6),
        )
    )
    text = hover_text(h)
    row = identifier(repo, name)
    assert row is not None, "the buffer's name did not reach the index"
    synthetic, active = row
    assert active
    assert f"`{name}` is protected: AI tools see `{synthetic}`" in text
    assert f"Defined in this unsaved buffer, line {end + 3} (function)" in text
    assert not path.read_text().count(name), "the file on disk was not touched"

    # The synthetic is the one the indexer keeps once the file is saved.
    path.write_text(APP + f"\n\ndef {name}(batch):\n    return batch\n")
    r = Repo(repo)
    with r.open_store() as store:
        run_index(repo, store, r.config, r.key, only=["billing/app.py"], workers=1)
    assert identifier(repo, name) == (synthetic, True)


@pytest.mark.asyncio
async def test_names_typed_then_removed_stop_being_protected(
    client: RecordingClient, repo: Path
) -> None:
    name = rand_name("draft")
    path = repo / "billing" / "app.py"
    uri = open_doc(client, path, APP)
    replace_all(client, uri, 2, APP + f"\n{name} = 3\n")
    line = len(APP.splitlines()) + 1
    hover = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=1),
    )
    assert "is protected" in hover_text(await client.text_document_hover_async(hover))
    assert identifier(repo, name) is not None and identifier(repo, name)[1]  # type: ignore[index]

    replace_all(client, uri, 3, APP)  # the half-typed name is gone again
    await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=3, character=6),  # reconcile_ledger
        )
    )
    row = identifier(repo, name)
    assert row is not None and not row[1], "a vanished, never-saved name stays protected"
    # ... while names the saved file defines are untouched.
    assert identifier(repo, "reconcile_ledger") is not None
    assert identifier(repo, "reconcile_ledger")[1]  # type: ignore[index]


@pytest.mark.asyncio
async def test_hover_on_a_saved_name_and_on_an_unprotected_one(
    client: RecordingClient, repo: Path
) -> None:
    uri = open_doc(client, repo / "billing" / "app.py", APP)
    h = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=3, character=8),
        )
    )
    text = hover_text(h)
    syn = identifier(repo, "reconcile_ledger")
    assert syn is not None
    assert f"AI tools see `{syn[0]}`" in text
    assert "Defined at `billing/app.py:4` (function)." in text
    assert "unsaved buffer" not in text
    assert h is not None and h.range == types.Range(
        start=types.Position(line=3, character=4), end=types.Position(line=3, character=20)
    )

    h = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=4, character=12),  # `sum`: a builtin
        )
    )
    assert "`sum` is not protected:" in hover_text(h)


# -- on save ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_save_reindexes_that_file(client: RecordingClient, repo: Path) -> None:
    name = rand_name("saved")
    path = repo / "billing" / "new_module.py"
    text = f"def {name}():\n    pass\n"
    path.write_text(text)
    await client.status("startup")
    before = len(client.statuses)
    uri = open_doc(client, path, text)
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    status = await client.status("saved", after=before)
    with Repo(repo).open_store() as store:
        assert ("billing/new_module.py", "function", 1) in store.definitions_of(name)
        assert status["mapVersion"] == store.map_version()
        assert status["protectedNames"] == store.active_count()


@pytest.mark.asyncio
async def test_save_of_an_ignored_file_indexes_nothing(client: RecordingClient, repo: Path) -> None:
    write(repo, {".gitignore": "build/\n"})
    path = repo / "build" / "gen.py"
    path.parent.mkdir()
    name = rand_name("generated")
    path.write_text(f"def {name}():\n    pass\n")
    uri = open_doc(client, path, path.read_text())
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    # A hover is answered after the save was handled (same worker thread, in order).
    await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=0, character=6),
        )
    )
    with Repo(repo).open_store() as store:
        assert "build/gen.py" not in store.file_states()
        assert store.definitions_of(name) == []


# -- code actions: the policy ---------------------------------------------------------


async def _policy_actions(
    client: RecordingClient, uri: str, line: int, character: int
) -> list[types.CodeAction]:
    pos = types.Position(line=line, character=character)
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=pos, end=pos),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


@pytest.mark.asyncio
async def test_never_and_always_edit_the_policy_and_the_map(
    client: RecordingClient, repo: Path
) -> None:
    cfg_path = repo / ".pretense" / "config.toml"
    cfg_path.write_text(cfg_path.read_text().replace("never = []", "never = []  # team: keep"))
    uri = open_doc(client, repo / "billing" / "app.py", APP + "\nprint('Initech')\n")
    actions = await _policy_actions(client, uri, 7, 8)  # InvoiceSummary
    assert [a.title for a in actions] == [
        "pretense-dev: never protect `InvoiceSummary` (team policy: identifiers.never)"
    ]
    cmd = actions[0].command
    assert cmd is not None
    before = len(client.statuses)
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=cmd.command, arguments=cmd.arguments)
    )
    assert result is not None and result["changed"] is True
    await client.status("policy", after=before)
    cfg = load_config(cfg_path)  # still valid, and says what we asked
    assert cfg.identifiers.never == ("InvoiceSummary",)
    assert "# team: keep" in cfg_path.read_text()
    assert identifier(repo, "InvoiceSummary") is not None
    assert not identifier(repo, "InvoiceSummary")[1]  # type: ignore[index]

    # A name the repo does not define can be protected: a customer's name.
    actions = await _policy_actions(client, uri, 10, 9)  # Initech
    titles = [a.title for a in actions]
    assert titles == ["pretense-dev: always protect `Initech` (team policy: identifiers.always)"]
    cmd = actions[0].command
    assert cmd is not None
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=cmd.command, arguments=cmd.arguments)
    )
    assert load_config(cfg_path).identifiers.always == ("Initech",)
    assert load_config(cfg_path).identifiers.never == ("InvoiceSummary",)
    assert identifier(repo, "Initech") is not None and identifier(repo, "Initech")[1]  # type: ignore[index]
    info = [m.message for m in client.messages if m.type == types.MessageType.Info]
    assert any("added Initech to identifiers.always" in m for m in info)


@pytest.mark.asyncio
async def test_an_invalid_policy_edit_is_refused_and_nothing_written(
    client: RecordingClient, repo: Path
) -> None:
    cfg_path = repo / ".pretense" / "config.toml"
    before = cfg_path.read_bytes()
    uri = open_doc(client, repo / "billing" / "app.py", APP)
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="pretense.addToPolicy", arguments=[uri, "never", "not-an-identifier"]
        )
    )
    assert result is not None and result["changed"] is False
    assert "identifiers.never: 'not-an-identifier' is not an identifier" in result["error"]
    assert cfg_path.read_bytes() == before
    errors = [m.message for m in client.messages if m.type == types.MessageType.Error]
    assert any("is not an identifier" in m for m in errors)


# -- initialization options ---------------------------------------------------------------


@pytest_lsp.fixture(config=SERVER)  # type: ignore[untyped-decorator]
async def odd_client(lsp_client: RecordingClient, repo: Path) -> AsyncIterator[None]:
    options = {"debounceMs": "soon", "severity": "hint", "hover": True, "colour": "blue"}
    await lsp_client.initialize_session(initialize_params(repo, options))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_invalid_options_are_reported_and_defaulted(
    odd_client: RecordingClient, repo: Path
) -> None:
    client = odd_client
    warnings = await client.until(
        lambda: (
            w
            if len(w := [m.message for m in client.messages if m.type == types.MessageType.Warning])
            >= 3
            else None
        )
    )
    assert (
        "pretense-dev: option 'debounceMs': must be an integer, got 'soon'; using the default (150)"
        in warnings
    )
    assert (
        "pretense-dev: option 'severity': must be one of 'error', 'warning', got 'hint'; "
        "using the default ('error')" in warnings
    )
    assert any(w.startswith("pretense-dev: unknown option 'colour' ignored") for w in warnings)
    # The server works with the defaults.
    uri = open_doc(client, repo / "billing" / "app.py", APP)
    h = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=3, character=8),
        )
    )
    assert "is protected" in hover_text(h)


def test_status_method_name_is_what_the_extension_listens_to() -> None:
    ext = REPO_ROOT / "lsp" / "vscode" / "src" / "extension.ts"
    assert f'"{STATUS}"' in ext.read_text()


@pytest.mark.asyncio
async def test_saving_an_invalid_policy_keeps_the_last_valid_one(
    client: RecordingClient, repo: Path
) -> None:
    cfg = repo / ".pretense" / "config.toml"
    cfg.write_text(cfg.read_text().replace("never = []", 'never = ["reconcile_ledger"]'))
    cfg_uri = open_doc(client, cfg, cfg.read_text(), language_id="toml")
    before = len(client.statuses)
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=cfg_uri))
    )
    await client.status("policy", after=before)
    assert identifier(repo, "reconcile_ledger") is not None
    assert not identifier(repo, "reconcile_ledger")[1]  # type: ignore[index]

    cfg.write_text(cfg.read_text().replace("never = [", "nevr = ["))  # a typo
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=cfg_uri))
    )
    error = await client.until(
        lambda: next(
            (m.message for m in client.messages if m.type == types.MessageType.Error), None
        )
    )
    assert "unknown key 'identifiers.nevr'" in error
    assert error.endswith("the last valid policy stays in force.")
    # Still in force: the name stays unprotected, new buffer names are still protected.
    name = rand_name("afterTypo")
    uri = open_doc(client, repo / "billing" / "app.py", APP + f"\n{name} = 1\n")
    h = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=len(APP.splitlines()) + 1, character=2),
        )
    )
    text = hover_text(h)
    assert "is protected" in text and "The policy file is invalid" in text
    assert not identifier(repo, "reconcile_ledger")[1]  # type: ignore[index]


@pytest.mark.asyncio
async def test_a_second_repository_gets_its_own_status(
    client: RecordingClient, repo: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    write(other, {"lib.py": "def other_repo_function():\n    pass\n"})
    init_repo(other, workers=1)
    await client.status("startup")
    before = len(client.statuses)
    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(
                added=[types.WorkspaceFolder(uri=other.as_uri(), name="other")], removed=[]
            )
        )
    )
    status = await client.status("startup", after=before)
    assert status["root"] == str(other) and status["repoId"] == Repo(other).repo_id
    uri = open_doc(client, other / "lib.py", (other / "lib.py").read_text())
    h = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=0, character=6),
        )
    )
    with Repo(other).open_store() as store:
        syn = store.issued(["other_repo_function"])["other_repo_function"].synthetic
    assert f"AI tools see `{syn}`" in hover_text(h)
    assert [s["root"] for s in client.statuses].count(str(other)) == 1  # announced once
