"""The mutation proxy: every byte that reaches an AI vendor passes here.

One loopback aiohttp server per user (127.0.0.1:9339 by default) serves all of
the user's initialised repositories; the path prefix ``/r/<repo-id>`` selects a
repository's identifier map, policy and secret detector.

Routes (``<id>`` is a repo id from the user registry)::

    POST /r/<id>/v1/messages[?beta=true]          Anthropic Messages, streamed or not
    POST /r/<id>/v1/messages/count_tokens          Anthropic token count (mutated the same way)
    POST /r/<id>/v1/chat/completions               OpenAI Chat Completions, streamed or not
    POST /r/<id>/v1/responses                      OpenAI Responses, streamed or not
    GET  /r/<id>/v1/models[/<model>]               pass-through (Anthropic if the request
                                                   carries ``anthropic-version``, else OpenAI)
    GET  /health                                   liveness: service, version, pid, port
    POST /r/<id>/pretense/verify                   the canary challenge (below)

The routes above are rows of one table, `pretense_dev.proxy.apis.APIS`: each
row says how a path is matched, where it is forwarded, which walker mutates
its body, how its streams are framed and un-mutated, its error format and its
vendor; adding an API is adding a row (see that module).  The policy and
secret checks a request must pass are in `pretense_dev.proxy.guard`; the
per-repository state they read (map, policy, detector, leaf cache) is in
`pretense_dev.proxy.repos`.

What goes out: every string the vendor can read is mutated (deny by default)
— system prompts, text blocks, ``tool_result`` content, ``tool_use`` inputs and
assistant ``tool_calls`` arguments (string values only, never keys), document
text and base64 text files, Responses input items and instructions, and every
field no walker knows (unknown or extra fields, stop sequences, JSON-schema
descriptions, client metadata, request header values other than credentials
and protocol headers such as ``Accept`` or ``anthropic-beta``).
Only a documented exempt list goes as sent: model names, ids, roles and types,
tool definitions, signatures and encrypted or base64 image data, URLs, Anthropic
``thinking`` / ``redacted_thinking`` blocks (and the server-tool result blocks
the vendor produced), and Responses ``reasoning`` items (`transform`,
`apis`).  Every string of the body, exempt ones and keys included, is scanned
for secrets first; a request with a secret, for an unapproved vendor or model,
for an unknown repo, with a body that cannot be parsed or has a known field of
the wrong shape, or when the map or the detector cannot be loaded is answered
with an error in the API's own format and nothing is forwarded (fail closed).
The path, the query string and every integer reach the vendor exactly as
received.  What comes back is un-mutated event by event (text deltas, partial
tool JSON, tool-call argument fragments, non-streamed bodies and error
messages) with one streaming un-mutator per content block, so a synthetic cut
across two events still comes back whole.  An upstream that sends nothing for
the read timeout, or a malformed chunk, ends the answer with the API's error
(event); a client that leaves cancels the upstream request.

Verify protocol (for ``pretense-dev verify``; the client half lives in
`pretense_dev.proxy.canary`, which is stdlib-only)::

    POST /r/<id>/pretense/verify
    {"nonce": "<32-128 hex chars>", "text": "<canary text>"}

    200 {"service": "pretense-dev", "version": "<package version>",
         "repo_id": "<id>", "map_version": N, "map_size": M, "nonce": "<echoed>",
         "mutated": "<text as this proxy would send it>", "guard": "ready",
         "proof": "<hex HMAC-SHA256 under the repo key>"}

The proxy re-reads the index's ``map_version`` before answering, so the answer
reflects the repository's current map.  The three things verify proves:

(a) it is a pretense proxy — ``service`` is ``"pretense-dev"`` and the answer
    carries a valid ``proof`` (only a process holding the repo key can make it);
(b) it serves this repo — ``repo_id`` matches and ``proof`` is
    ``canary.proof(key, nonce, repo_id, map_version, mutated)`` under *this*
    repo's key, for the fresh ``nonce`` verify chose;
(c) with this repo's current map — ``mutated`` equals what the local
    ``IndexStore.load_map().mutate(text)`` predicts for a text made of
    currently protected names, and ``map_version`` equals the local one.

Errors on that route use the Anthropic error format (404 unknown repo, 400 bad
challenge, 503 map or detector not loadable).

Decisions worth knowing:

* Only the routes above are forwarded; any other path (``/v1/files``, batches,
  ``/v1/messages`` without ``/r/<id>``) is refused: content there could not be
  protected.  ``/v1/models`` picks the vendor by the ``anthropic-version`` header.
* Thinking blocks go out with the same *values* (the body is re-serialised
  from the parsed tree, so the vendor reads exactly what was inspected) and
  come back as the upstream's exact bytes.  Their text is still scanned for
  secrets.  Responses ``reasoning`` items and reasoning-summary events are
  untouched both ways, like thinking.
* The per-leaf cache is cleared when the map grows: a block that mentions a
  newly protected name is re-mutated (protection over prompt-cache hits; only
  blocks that mention such a name change bytes).
* The secret-guard message gives rule, location, line and a fingerprint
  prefix — not the redacted form — because it lands in the tool's transcript.
* One audit event per request, including refusals and rejected Hosts; the list
  of protected names is computed after the answer has gone out (audit thread)
  and capped at 500 names per event (the count is exact).
* Client credentials pass through untouched and unscanned (``Authorization``,
  ``x-api-key`` and the like); ``X-Pretense-*`` request headers are not
  special.  Upstream answers are decompressed (gzip/deflate, and br or zstd
  when aiohttp can) and sent to the client uncompressed.
* An upstream reached through ``HTTPS_PROXY`` works (trust_env is on when one
  of the proxy variables is set).

Import cost: this package's ``__init__`` imports nothing; `state` and `canary`
are stdlib-only (hooks and verify use them); aiohttp is imported by `server`.
"""

from __future__ import annotations
