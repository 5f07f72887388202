"""The wire protocol, hardened: every request answered, nothing a client sends can crash a feature.

pygls 2.1 leaves three holes that an editor shows its user:

* a request whose params do not match the LSP types is never answered (the
  error is raised while decoding, before a response id is known), so the
  client waits forever; JSON-RPC requires an error response (-32602);
* a `didChange` for a document that was never opened raises `KeyError` in
  pygls' own handler, and the editor pops "Error in server: KeyError: …";
* an exception in a request handler is answered with its Python traceback in
  the error's `data`, which clients print.

Here a request with invalid params gets a -32602 error naming the method, a
notification that cannot be decoded or applied is logged and dropped, and
error responses carry a one-line message, never a traceback.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol, lsp_method

log = logging.getLogger(__name__)

# Returned by `structure_message` for a message already dealt with (answered
# or dropped); a plain dict, so pygls' own dispatch never sees it.
_HANDLED: dict[str, Any] = {"pretense.handled": True}


class PretenseProtocol(LanguageServerProtocol):
    """pygls' LSP protocol with the holes of the module docstring closed."""

    # The id of an `initialize` the start-up loop (`startup.py`) has answered
    # already: pygls' own answer to it, when the message is replayed, is dropped,
    # so the client sees exactly one.
    answered_initialize: Any = _HANDLED

    def structure_message(self, data: dict[str, Any]) -> Any:
        """Decode one message; answer a request that does not decode, drop a notification."""
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            method = data.get("method")
            if "id" in data and isinstance(method, str):
                log.warning("request %s: invalid params, answered with an error", method)
                error = JsonRpcInvalidParams(
                    message=f"invalid params for {method}: they do not match the LSP types"
                )
                self._send_response(data["id"], error=error.to_response_error())
            elif isinstance(method, str):
                log.warning("notification %s: invalid params, ignored", method)
            else:
                log.warning("a message that is neither request nor notification was ignored")
            if not isinstance(exc, JsonRpcInvalidParams):
                log.debug("decoding failed", exc_info=True)
            return _HANDLED

    def handle_message(self, message: Any) -> None:
        """Dispatch as pygls does, except messages `structure_message` already handled."""
        if message is _HANDLED:
            return
        super().handle_message(message)

    def _send_response(
        self, msg_id: Any, result: Any | None = None, error: types.ResponseError | None = None
    ) -> None:
        """Send a response; an error keeps its code and message, never a traceback."""
        if self.answered_initialize is not _HANDLED and msg_id == self.answered_initialize:
            self.answered_initialize = _HANDLED
            if error is not None:  # the client has its answer already: say it in the log
                log.warning("initialize, replayed into pygls, failed: %s", error.message)
            return
        if error is not None and error.data is not None:
            error = types.ResponseError(code=error.code, message=error.message.splitlines()[0])
        super()._send_response(msg_id, result=result, error=error)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Any:
        """Apply a change to an open document; a change to any other is logged and ignored."""
        # pygls applies it under `unquote(uri)`, drive letter as sent: check that key.
        if self.workspace.text_documents.get(unquote(params.text_document.uri)) is None:
            log.warning("didChange for a document that is not open: ignored")
            return
        yield from super().lsp_text_document__did_change(params)
