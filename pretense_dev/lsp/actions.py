"""Code actions: allow a finding inline; add a name to `never` or `always`.

* **Allow this finding** edits the buffer (a `WorkspaceEdit`, so it works on
  unsaved text and undoes like any edit): `pretense: allow` in a comment at the
  end of the finding's line, or — for a multi-line finding such as a PEM
  block — alone on a new line before it, with the language's comment syntax.
  Languages without comments (JSON, plain text) get no inline action.
* **Never / always protect NAME** runs the `pretense.addToPolicy` command on
  the server: `.pretense/config.toml` is edited with tomlkit (comments kept),
  validated, written atomically (`config_edit.add_to_list`), and the map is
  recomputed with the new policy at once, as the next index run would.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from pretense_dev.errors import PretenseError
from pretense_dev.identifiers.stoplists import TOKEN
from pretense_dev.index.indexer import always_names
from pretense_dev.lsp.context import WorkspaceRepo
from pretense_dev.lsp.documents import POLICY_REL, document_path, reindex
from pretense_dev.lsp.hover import word_at
from pretense_dev.lsp.lean import SOURCE
from pretense_dev.lsp.uris import find

if TYPE_CHECKING:
    # Annotations only (the server imports this module to register it, and a
    # runtime import back would be a cycle): pygls recognises a feature
    # handler's server parameter by its name, `ls`, without evaluating the
    # annotation; the one command below names no such type.
    from pretense_dev.lsp.server import PretenseLanguageServer

ADD_TO_POLICY = "pretense.addToPolicy"
PRAGMA = "pretense: allow"
POLICY_KIND = "refactor.pretense.policy"

_HASH = (
    "python ruby shellscript yaml toml dockerfile makefile perl r properties dotenv ini "
    "elixir powershell coffeescript julia nim terraform hcl graphql cmake"
)
_SLASH = (
    "javascript javascriptreact typescript typescriptreact go java csharp rust c cpp "
    "objective-c objective-cpp swift kotlin scala php dart jsonc groovy fsharp zig proto "
    "scss less"
)
COMMENTS: dict[str, tuple[str, str]] = {
    **{lang: ("# ", "") for lang in _HASH.split()},
    **{lang: ("// ", "") for lang in _SLASH.split()},
    **{lang: ("-- ", "") for lang in ("sql", "lua", "haskell", "elm")},
    **{lang: ("<!-- ", " -->") for lang in ("html", "xml", "markdown", "vue", "svelte")},
    "css": ("/* ", " */"),
}


def allow_edit(
    doc_lines: list[str], language_id: str | None, line: int, end_line: int, codec: Any
) -> types.TextEdit | None:
    """The edit that adds the inline ignore for a finding on 1-based `line`..`end_line`."""
    comment = COMMENTS.get(language_id or "")
    if comment is None or not doc_lines:
        return None
    opener, closer = comment
    first = min(max(line - 1, 0), len(doc_lines) - 1)
    text = doc_lines[first].rstrip("\r\n")
    if end_line > line:  # alone on the line before the block
        indent = text[: len(text) - len(text.lstrip())]
        eol = doc_lines[first][len(text) :] or "\n"
        at = types.Position(line=first, character=0)
        return types.TextEdit(
            range=types.Range(start=at, end=at), new_text=f"{indent}{opener}{PRAGMA}{closer}{eol}"
        )
    at = types.Position(line=first, character=codec.client_num_units(text))
    return types.TextEdit(
        range=types.Range(start=at, end=at), new_text=f"  {opener}{PRAGMA}{closer}"
    )


def _finding_actions(
    ls: PretenseLanguageServer, params: types.CodeActionParams
) -> list[types.CodeAction]:
    doc = find(ls, params.text_document.uri)
    if doc is None:
        return []
    out = []
    seen: set[int] = set()
    for d in params.context.diagnostics:
        if d.source != SOURCE or not isinstance(d.data, dict):
            continue
        line, end_line = d.data.get("line"), d.data.get("endLine")
        if not isinstance(line, int) or not isinstance(end_line, int) or line in seen:
            continue
        seen.add(line)
        edit = allow_edit(list(doc.lines), doc.language_id, line, end_line, doc.position_codec)
        if edit is None:
            continue
        out.append(
            types.CodeAction(
                title=f"pretense-dev: allow this finding ({d.code}) with `{PRAGMA}`",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[d],
                edit=types.WorkspaceEdit(changes={doc.uri: [edit]}),
            )
        )
    return out


def _name_actions(
    ls: PretenseLanguageServer, params: types.CodeActionParams
) -> list[types.CodeAction]:
    doc = find(ls, params.text_document.uri)
    if doc is None:
        return []
    found = word_at(doc, params.range.start)
    if found is None or not TOKEN.match(found[0]):
        return []
    name = found[0]
    ctx = ls.contexts.for_path(document_path(doc))
    store = ctx.read_store()
    if store is None:
        return []
    cfg = ctx.policy().config.identifiers
    row = store.issued([name]).get(name)
    protected = row is not None and row.active
    out = []
    if protected and name not in cfg.never:
        out.append(
            ("never", f"pretense-dev: never protect `{name}` (team policy: identifiers.never)")
        )
    if not protected and name not in always_names(cfg.always) and len(name) >= 3:
        out.append(
            ("always", f"pretense-dev: always protect `{name}` (team policy: identifiers.always)")
        )
    return [
        types.CodeAction(
            title=title,
            kind=POLICY_KIND,
            command=types.Command(
                title=title, command=ADD_TO_POLICY, arguments=[doc.uri, which, name]
            ),
        )
        for which, title in out
    ]


def add_to_policy(ls: PretenseLanguageServer, ctx: WorkspaceRepo, which: str, name: str) -> bool:
    """Edit the policy file and apply it to the map (worker thread); True if changed."""
    from pretense_dev.config_edit import add_to_list

    assert ctx.repo is not None
    result = add_to_list(ctx.repo.config_path, "identifiers", which, name)
    if result.changed:
        reindex(ls, ctx, POLICY_REL)  # only=[]: recomputes the map with the new policy
    return result.changed


def setup(server: PretenseLanguageServer) -> None:
    """Register `textDocument/codeAction` and the policy command."""

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, POLICY_KIND]),
    )
    def code_action(
        ls: PretenseLanguageServer, params: types.CodeActionParams
    ) -> list[types.CodeAction] | None:
        if not ls.options.code_actions:
            return None
        only = params.context.only
        out: list[types.CodeAction] = []
        if only is None or any(str(k).startswith("quickfix") for k in only):
            out += _finding_actions(ls, params)
        if only is None or any(POLICY_KIND.startswith(str(k)) for k in only):
            out += _name_actions(ls, params)
        return out or None

    @server.command(ADD_TO_POLICY)
    # pygls evaluates a command's annotations to convert its arguments, so this
    # one names no type that is imported for annotations only; `server` is `ls`.
    async def add_to_policy_command(ls: Any, *args: Any) -> dict[str, Any]:
        if (
            len(args) != 3
            or not all(isinstance(a, str) for a in args)
            or args[1] not in ("never", "always")
        ):
            raise ValueError(f"{ADD_TO_POLICY} takes [uri, 'never' | 'always', name]")
        uri, which, name = args
        doc = find(server, uri)
        path = document_path(doc) if doc is not None else None
        ctx = server.contexts.for_path(path)
        if ctx.repo is None or not ctx.initialised:
            raise ValueError("this file is not in a repository set up with `pretense-dev init`")
        loop = asyncio.get_running_loop()
        try:
            changed = await loop.run_in_executor(
                server.work_pool, add_to_policy, server, ctx, which, name
            )
        except PretenseError as e:
            message = "; ".join(e.lines())
            server.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Error, message=f"pretense-dev: {message}"
                )
            )
            return {"changed": False, "error": message}
        if changed:
            server.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Info,
                    message=f"pretense-dev: added {name} to identifiers.{which} in "
                    ".pretense/config.toml (team policy: review and commit it).",
                )
            )
            await server.status.refresh(ctx, "policy")
        return {"changed": changed, "list": which, "name": name}
