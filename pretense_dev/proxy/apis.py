"""The table of APIs the proxy serves: one entry per API, everything it needs.

The server knows no API by name.  For each request under ``/r/<id>/`` it
walks `APIS` in order and takes the first entry whose `Api.match` accepts the
path; from then on every API-specific step reads that entry:

=================  ===========================================================
field              what it decides
=================  ===========================================================
``name``           the API's id (logs, tests)
``vendor``         who reads the body: the ``[proxy] vendors`` policy entry it
                   must be approved under, and the ``vendor`` of the audit event
``method``         the only HTTP method served (another one is a 405)
``match``          ``(raw path after /r/<id>/, request headers)`` → the path's
                   parameters (a ``dict``, empty when there are none) or None.
                   The path is still percent-encoded and has no query string;
                   a regular expression with named groups (`pattern`) covers
                   paths with a deployment or model segment
``upstream``       which configured base URL the request goes to (a key
                   ``Settings.upstream`` knows)
``path``           ``(raw path, parameters)`` → the path appended to that base
                   URL (the raw query string is appended after it unchanged)
``walk``           the request walker: mutates the parsed JSON body in place
                   through an `Outgoing`, or raises `Unprotectable`; None for
                   an API without a body (GET pass-through)
``model``          ``(parsed body or None, parameters)`` → the model the policy
                   must approve (from the body, or from a path segment)
``unmutate``       a whole successful JSON answer → the answer the developer
                   reads; None passes successful answers on as they came
``rewriter``       ``(map, encoder)`` → a `streams.Rewriter` that un-mutates a
                   streamed answer event by event
``framing``        how a stream is cut into events and written back
                   (`Framing`: content type, decoder, encoder); SSE today
``errors``         the API's error format (`ErrorFormat`): the body of a
                   refusal, the same error as one stream event, and how an
                   upstream error body is un-mutated
``exempt``         top-level fields sent as they are (the model, tool
                   definitions, ids of server-side state); every other string
                   in the body is mutated (deny by default, `transform`)
``keyed``          top-level fields that are JSON schemas the answer is written
                   to: their keys are mutated too (the answer comes back as text
                   and is un-mutated whole)
``sign``           called with the outgoing request (`Outbound`) after the body
                   was mutated, to adjust or re-sign its headers (a request
                   signed over its body, as AWS SigV4 does, must be signed
                   again); None leaves the headers as the client sent them
=================  ===========================================================

Adding an API is one new `Api` in `APIS` (before any entry whose pattern would
also match its paths), plus, when the vendor is new, a base URL in
``Settings.upstream`` and a walker in `transform` and a rewriter in
`streams` if the existing ones do not fit.  A new stream framing (binary
event frames, a streamed JSON array) is a `Framing` whose decoder yields
`sse.Event` objects: the raw bytes of the frame (sent on untouched when
nothing in it changes), a name, and the payload the rewriter parses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from yarl import URL

from pretense_dev.mutation import IdentifierMap
from pretense_dev.proxy import bedrock, eventstream, google, jsonarray, jsonx, sse
from pretense_dev.proxy.guard import Refusal
from pretense_dev.proxy.sse import Decoder, Encoder
from pretense_dev.proxy.streams import (
    AnthropicRewriter,
    ChatRewriter,
    PassThrough,
    ResponsesRewriter,
    Rewriter,
)
from pretense_dev.proxy.transform import (
    Outgoing,
    mutate_anthropic,
    mutate_chat,
    mutate_responses,
    unmutate_anthropic_message,
    unmutate_chat_completion,
    unmutate_error,
    unmutate_response_object,
)

Params = Mapping[str, str]
Matcher = Callable[[str, Mapping[str, str]], Params | None]
Walker = Callable[[dict[str, Any], Outgoing], None]
Unmutator = Callable[[Any, IdentifierMap], Any]


@dataclass(frozen=True)
class Framing:
    """A streamed answer's framing: which content type, how to cut it, how to write it."""

    name: str
    content_type: str
    decoder: Callable[[], Decoder]
    encode: Encoder


SSE = Framing("sse", "text/event-stream", sse.SSEParser, sse.encode)
JSON_ARRAY = Framing(
    "json-array", jsonarray.CONTENT_TYPE, jsonarray.ArraySplitter, jsonarray.raw_encode
)


@dataclass(frozen=True)
class ErrorFormat:
    """How one API says "error": as a body, as a stream event, and how to un-mutate one."""

    body: Callable[[int, str, str], dict[str, Any]]  # (status, message, code)
    event: Callable[[dict[str, Any]], bytes]  # an error body as one stream event
    unmutate: Unmutator = unmutate_error


@dataclass(frozen=True)
class Received:
    """The request exactly as the client sent it (a signature over it can be checked)."""

    method: str
    url: str  # scheme, the Host header and the raw path with its query
    headers: Mapping[str, str]
    body: bytes | None
    # sha256(body).hexdigest() by a quicker way (a resent history's hash resumed,
    # `history.Digests`); None: hashed whole.
    digest: Callable[[bytes], str] | None = None


@dataclass
class Outbound:
    """The request about to go upstream, for `Api.sign` to adjust."""

    method: str
    url: URL
    headers: dict[str, str]
    body: bytes | None
    received: Received | None = None
    digest: Callable[[bytes], str] | None = None  # as `Received.digest`, for `body`


def _body_model(body: Any, params: Params) -> str | None:
    model = body.get("model") if isinstance(body, dict) else None
    return model if isinstance(model, str) else None


def _same_path(tail: str, params: Params) -> str:
    return tail


@dataclass(frozen=True)
class Api:
    """One API the proxy serves (the module docstring describes each field)."""

    name: str
    vendor: str
    method: str
    match: Matcher
    upstream: str
    errors: ErrorFormat
    walk: Walker | None = None
    unmutate: Unmutator | None = None
    rewriter: Callable[[IdentifierMap, Encoder], Rewriter] = PassThrough
    framing: Framing = SSE
    # Whether a JSON answer (not `framing`'s content type) to this request is a streamed
    # JSON array, un-mutated element by element (Gemini's streamGenerateContent without
    # alt=sse); None: a JSON answer is one document, read whole.
    json_stream: Callable[[Params], bool] | None = None
    path: Callable[[str, Params], str] = _same_path
    model: Callable[[Any, Params], str | None] = _body_model
    sign: Callable[[Outbound], None] | None = None
    exempt: frozenset[str] = frozenset({"model"})
    keyed: frozenset[str] = frozenset()
    # The top-level list a client resends whole every turn (``messages``), whose
    # elements the walker handles independently: a resend reuses their mutated
    # bytes (`history`).  Empty: the body is always parsed whole.
    history: str = ""

    def protect(self, body: dict[str, Any], out: Outgoing) -> None:
        """Mutate `body` in place: the walker, then the deny-by-default sweep.

        Raises `Unprotectable` for a known field of the wrong shape.  The
        strings to scan are left in ``out.new`` for the secret guard.
        """
        if self.walk is not None:
            self.walk(body, out)
        out.sweep(body, "", self.exempt, self.keyed)


@dataclass(frozen=True)
class Route:
    """A request's API and what its path said."""

    api: Api
    tail: str  # the raw path after /r/<id>/, no query string
    params: Params

    @property
    def vendor(self) -> str:
        """The vendor the policy and the audit name."""
        return self.api.vendor


# -- matchers -------------------------------------------------------------------


def exact(path: str, *, header: str | None = None) -> Matcher:
    """Match one path (and, when given, only requests carrying `header`)."""

    def match(tail: str, headers: Mapping[str, str]) -> Params | None:
        if tail != path or (header is not None and header not in headers):
            return None
        return {}

    return match


def pattern(regex: str, *, header: str | None = None) -> Matcher:
    """Match a whole path against `regex`; its named groups are the parameters."""
    compiled = re.compile(regex)

    def match(tail: str, headers: Mapping[str, str]) -> Params | None:
        m = compiled.fullmatch(tail)
        if m is None or (header is not None and header not in headers):
            return None
        return {k: v for k, v in m.groupdict().items() if v is not None}

    return match


def strip_prefix(prefix: str) -> Callable[[str, Params], str]:
    """A `path` that drops `prefix` (a base URL that already ends in it, as OpenAI's /v1)."""

    def path(tail: str, params: Params) -> str:
        return tail.removeprefix(prefix)

    return path


# -- error formats ----------------------------------------------------------------

_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    415: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "timeout_error",
}


def anthropic_error(status: int, message: str, code: str) -> dict[str, Any]:
    """``{"type": "error", "error": {"type", "message"}}`` with the type the status implies."""
    etype = _ANTHROPIC_ERROR_TYPES.get(
        status, "api_error" if status >= 500 else "invalid_request_error"
    )
    return {"type": "error", "error": {"type": etype, "message": message}}


def openai_error(status: int, message: str, code: str) -> dict[str, Any]:
    """``{"error": {"message", "type", "param", "code"}}``."""
    etype = "invalid_request_error" if status < 500 else "server_error"
    return {"error": {"message": message, "type": etype, "param": None, "code": code}}


ANTHROPIC_ERRORS = ErrorFormat(anthropic_error, lambda body: sse.encode("error", jsonx.dumps(body)))
OPENAI_ERRORS = ErrorFormat(openai_error, lambda body: sse.encode(None, jsonx.dumps(body)))


def errors_for_headers(headers: Mapping[str, str]) -> tuple[str, ErrorFormat]:
    """(vendor, error format) for a request no API matched: guessed from its headers."""
    if "anthropic-version" in headers:
        return "anthropic", ANTHROPIC_ERRORS
    return "openai", OPENAI_ERRORS


# -- the table ------------------------------------------------------------------------

# Top-level fields kept as sent.  Tool definitions are the contract tool calls are
# checked against (names, parameter names); the secret guard still reads them.
ANTHROPIC_EXEMPT = frozenset({"model", "tools", "tool_choice", "mcp_servers", "container"})
CHAT_EXEMPT = frozenset({"model", "tools", "tool_choice", "functions", "function_call"})
RESPONSES_EXEMPT = frozenset(
    {"model", "tools", "tool_choice", "previous_response_id", "conversation", "include"}
)

# -- the cloud routes -------------------------------------------------------------------

# The Azure OpenAI resource is the developer's own (https://<resource>.openai.azure.com):
# it has no default, and a request is refused until the proxy is told where it is.
AZURE_UNSET = "https://azure-openai-endpoint-not-set.invalid"
CLOUD_UPSTREAMS = {
    "bedrock": bedrock.DEFAULT_UPSTREAM,
    "vertex": google.VERTEX_UPSTREAM,
    "gemini": google.GEMINI_UPSTREAM,
    "azure-openai": AZURE_UNSET,
}

EVENTSTREAM_INVOKE = Framing(
    "eventstream-invoke",
    eventstream.CONTENT_TYPE,
    eventstream.InvokeDecoder,
    eventstream.encode_invoke,
)
EVENTSTREAM_CONVERSE = Framing(
    "eventstream-converse",
    eventstream.CONTENT_TYPE,
    eventstream.ConverseDecoder,
    eventstream.encode_converse,
)
BEDROCK_ERRORS = ErrorFormat(bedrock.bedrock_error, bedrock.error_event)
GOOGLE_ERRORS = ErrorFormat(google.google_error, lambda body: sse.encode(None, jsonx.dumps(body)))


def _azure_endpoint(outbound: Outbound) -> None:
    if outbound.url.host == URL(AZURE_UNSET).host:
        raise Refusal(
            503,
            "pretense-dev does not know this Azure OpenAI resource's endpoint, so nothing was "
            "sent; start the proxy with `--upstream azure-openai=https://<resource>.openai.azure.com`",
            code="pretense_no_upstream",
        )


def _deployment(body: Any, params: Params) -> str | None:
    """Azure names a deployment, not a model: the policy and the audit see the deployment."""
    deployment = params.get("deployment")
    return deployment if deployment is not None else _body_model(body, params)


# Top-level fields kept as sent (as for the public APIs: versions, tool definitions, the
# vendor's controls); the secret guard still reads them.
BEDROCK_INVOKE_EXEMPT = frozenset({"anthropic_version", "anthropic_beta"}) | ANTHROPIC_EXEMPT
CONVERSE_EXEMPT = frozenset(
    {
        "modelId",
        "toolConfig",
        "inferenceConfig",
        "guardrailConfig",
        "additionalModelRequestFields",
        "additionalModelResponseFieldPaths",
        "performanceConfig",
    }
)
GEMINI_EXEMPT = frozenset(
    {"model", "tools", "toolConfig", "safetySettings", "cachedContent", "labels"}
)


def _bedrock(
    op: str,
    walk: Walker,
    unmutate: Unmutator,
    rewriter: Any,
    framing: Framing,
    exempt: frozenset[str],
    history: str = "",
) -> Api:
    return Api(
        f"bedrock-{op}",
        "bedrock",
        "POST",
        pattern(r"model/(?P<model>[^/]+)/" + op),
        "bedrock",
        BEDROCK_ERRORS,
        walk=walk,
        unmutate=unmutate,
        rewriter=rewriter,
        framing=framing,
        model=bedrock.model_of,
        sign=bedrock.sign,
        exempt=exempt,
        history=history,
    )


def _gemini(name: str, vendor: str, regex: str, upstream: str, sign: Any) -> Api:
    return Api(
        name,
        vendor,
        "POST",
        pattern(regex),
        upstream,
        GOOGLE_ERRORS,
        walk=google.mutate_gemini,
        unmutate=google.unmutate_gemini,
        rewriter=google.GeminiRewriter,
        model=google.path_model,
        sign=sign,
        exempt=GEMINI_EXEMPT,
        json_stream=google.is_stream,
    )


def _azure(
    name: str,
    regex: str,
    walk: Walker,
    unmutate: Unmutator,
    rewriter: Any,
    exempt: frozenset[str],
) -> Api:
    return Api(
        name,
        "azure-openai",
        "POST",
        pattern(regex),
        "azure-openai",
        OPENAI_ERRORS,
        walk=walk,
        unmutate=unmutate,
        rewriter=rewriter,
        model=_deployment,
        sign=_azure_endpoint,
        exempt=exempt,
    )


CLOUD_APIS: tuple[Api, ...] = (
    _bedrock(
        "invoke",
        mutate_anthropic,
        unmutate_anthropic_message,
        bedrock.InvokeRewriter,
        SSE,
        BEDROCK_INVOKE_EXEMPT,
        "messages",  # an Anthropic Messages body, resent whole every turn
    ),
    _bedrock(
        "invoke-with-response-stream",
        mutate_anthropic,
        unmutate_anthropic_message,
        bedrock.InvokeRewriter,
        EVENTSTREAM_INVOKE,
        BEDROCK_INVOKE_EXEMPT,
        "messages",
    ),
    _bedrock(
        "converse",
        bedrock.mutate_converse,
        bedrock.unmutate_converse,
        bedrock.ConverseRewriter,
        SSE,
        CONVERSE_EXEMPT,
    ),
    _bedrock(
        "converse-stream",
        bedrock.mutate_converse,
        bedrock.unmutate_converse,
        bedrock.ConverseRewriter,
        EVENTSTREAM_CONVERSE,
        CONVERSE_EXEMPT,
    ),
    Api(
        "vertex-claude",
        "vertex",
        "POST",
        pattern(google.VERTEX_CLAUDE_PATH),
        "vertex",
        ANTHROPIC_ERRORS,
        walk=mutate_anthropic,
        unmutate=unmutate_anthropic_message,
        rewriter=AnthropicRewriter,
        model=google.path_model,
        sign=google.vertex_route,
        exempt=BEDROCK_INVOKE_EXEMPT,  # the same Messages body: anthropic_version, no model
        history="messages",
    ),
    _gemini("vertex-gemini", "vertex", google.VERTEX_GEMINI_PATH, "vertex", google.vertex_route),
    _gemini("gemini", "gemini", google.GEMINI_PATH, "gemini", None),
    _azure(
        "azure-chat",
        r"openai/(?:deployments/(?P<deployment>[^/]+)|v1)/chat/completions",
        mutate_chat,
        unmutate_chat_completion,
        ChatRewriter,
        CHAT_EXEMPT,
    ),
    _azure(
        "azure-responses",
        r"openai/(?:deployments/(?P<deployment>[^/]+)/|v1/)?responses",
        mutate_responses,
        unmutate_response_object,
        ResponsesRewriter,
        RESPONSES_EXEMPT,
    ),
)

_MODELS = r"v1/models(?:/(?P<model>.+))?"

APIS: tuple[Api, ...] = (
    # First: a Gemini path (v1/models/{model}:generateContent) is also a /v1/models/{id} path.
    *CLOUD_APIS,
    Api(
        "anthropic-messages",
        "anthropic",
        "POST",
        exact("v1/messages"),
        "anthropic",
        ANTHROPIC_ERRORS,
        walk=mutate_anthropic,
        unmutate=unmutate_anthropic_message,
        rewriter=AnthropicRewriter,
        exempt=ANTHROPIC_EXEMPT,
        keyed=frozenset({"output_format"}),
        history="messages",
    ),
    Api(
        "anthropic-count-tokens",
        "anthropic",
        "POST",
        exact("v1/messages/count_tokens"),
        "anthropic",
        ANTHROPIC_ERRORS,
        walk=mutate_anthropic,
        rewriter=AnthropicRewriter,
        exempt=ANTHROPIC_EXEMPT,
        keyed=frozenset({"output_format"}),
        history="messages",
    ),
    Api(
        "openai-chat",
        "openai",
        "POST",
        exact("v1/chat/completions"),
        "openai",
        OPENAI_ERRORS,
        walk=mutate_chat,
        unmutate=unmutate_chat_completion,
        rewriter=ChatRewriter,
        path=strip_prefix("v1/"),
        exempt=CHAT_EXEMPT,
        keyed=frozenset({"response_format"}),
        history="messages",
    ),
    Api(
        "openai-responses",
        "openai",
        "POST",
        exact("v1/responses"),
        "openai",
        OPENAI_ERRORS,
        walk=mutate_responses,
        unmutate=unmutate_response_object,
        rewriter=ResponsesRewriter,
        path=strip_prefix("v1/"),
        exempt=RESPONSES_EXEMPT,
        keyed=frozenset({"text"}),
    ),
    # Both vendors serve /v1/models; Anthropic's clients always send anthropic-version.
    Api(
        "anthropic-models",
        "anthropic",
        "GET",
        pattern(_MODELS, header="anthropic-version"),
        "anthropic",
        ANTHROPIC_ERRORS,
    ),
    Api(
        "openai-models",
        "openai",
        "GET",
        pattern(_MODELS),
        "openai",
        OPENAI_ERRORS,
        path=strip_prefix("v1/"),
    ),
)


def route_of(tail: str, headers: Mapping[str, str], apis: tuple[Api, ...] = APIS) -> Route | None:
    """The first API in `apis` that serves ``/r/<id>/<tail>``, or None."""
    for api in apis:
        params = api.match(tail, headers)
        if params is not None:
            return Route(api, tail, params)
    return None
