"""The aiohttp server: routing, fail-closed request handling, forwarding, streaming.

See the package docstring for the routes and the verify protocol.  One request,
start to end:

1. the Host and Origin must be loopback (DNS rebinding; a browser page cannot
   reach the proxy under another name, nor post to it from another origin);
2. the path after ``/r/<id>/`` picks a row of the API table (`apis`), which
   supplies every API-specific step below;
3. ``/r/<id>`` resolves to a `RepoContext` and refreshes its map and policy;
   the vendor and model must be approved by the repo's ``[proxy]`` policy
   (`guard`);
4. the body is parsed and walked by the row's walker (`transform`): every text
   leaf the vendor reads is mutated; new leaves are scanned for secrets;
5. only then is the re-serialised body sent upstream on the pooled session,
   with the client's own credentials and without hop-by-hop headers;
6. the answer is un-mutated, streamed event by event (`streams`) or whole;
7. one audit event is queued (`auditing`), with no prompt text and no secret.

Any failure before step 5 answers in the API's own error format and forwards
nothing.  Logs hold method, route, status, decision, sizes and latency — never
headers (credentials), query strings, or bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from aiohttp.compression_utils import HAS_BROTLI
from yarl import URL

from pretense_dev.audit.events import BLOCKED, ERROR, FORWARDED, REQUEST, AuditEvent
from pretense_dev.integrations.toolhook import wire
from pretense_dev.mutation import IdentifierMap
from pretense_dev.proxy import canary, history, jsonx, state
from pretense_dev.proxy.apis import (
    ANTHROPIC_ERRORS,
    APIS,
    CLOUD_UPSTREAMS,
    JSON_ARRAY,
    Api,
    ErrorFormat,
    Framing,
    Outbound,
    Received,
    Route,
    errors_for_headers,
    route_of,
)
from pretense_dev.proxy.auditing import AuditSink, AuditWriter
from pretense_dev.proxy.deadline import ReadDeadline
from pretense_dev.proxy.guard import (
    Refusal,
    ScannerFactory,
    approved,
    blocked_message,
    default_scanner,
    scan,
)
from pretense_dev.proxy.jsonarray import ArrayWriter
from pretense_dev.proxy.repos import RepoContext, RepoSource, Resolver, registry_resolver
from pretense_dev.proxy.transform import Outgoing, Unprotectable

if TYPE_CHECKING:
    from pretense_dev.index.watcher import IndexWatcher

log = logging.getLogger("pretense_dev.proxy")

MAX_BODY = 64 * 1024 * 1024  # Anthropic caps Messages at 32 MB; leave headroom
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Not forwarded upstream: recomputed (length, host), or ours to choose (encodings).
_DROP_REQUEST = HOP_BY_HOP | {
    "host",
    "content-length",
    "content-encoding",
    "accept-encoding",
    "expect",
}
# Request bodies the proxy can decode (aiohttp decodes them as it reads).
_REQUEST_ENCODINGS = ("", "identity", "gzip", "deflate") + (("br",) if HAS_BROTLI else ())
# Sent as they are and never scanned: they are the client's credentials.
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "cookie",
        "x-amz-security-token",
        "x-amz-date",
        "x-amz-content-sha256",
    }
)
_CREDENTIAL_PREFIXES = ("proxy-",)
# Sent as they are (protocol negotiation, not content: a renamed media type or beta
# flag would break the request) but scanned for secrets like the body.
PROTOCOL_HEADERS = frozenset(
    {
        "accept",
        "content-type",
        "user-agent",
        "anthropic-version",
        "anthropic-beta",
        "openai-beta",
        "openai-organization",
        "openai-project",
        "idempotency-key",
        "x-request-id",
        "x-claude-code-session-id",
    }
)
_PROTOCOL_PREFIXES = ("x-stainless-", "accept-")
# Not passed back: the body we send is decoded and re-framed.
_DROP_RESPONSE = HOP_BY_HOP | {"content-length", "content-encoding"}


# Seconds of audit events handed to the audit thread at once (`Proxy.record_soon`).
AUDIT_BATCH = 0.01

_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def version() -> str:
    """The installed package version."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as v

    try:
        return v("pretense-dev")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


@functools.lru_cache(maxsize=256)
def is_loopback_host(value: str) -> bool:
    """Whether a Host header names the loopback interface (any port).

    Only ``localhost`` and literal loopback addresses: a name that merely starts
    with "127." (``127.0.0.1.nip.io``) is a DNS name an attacker controls.
    Asked on every request with the same few values, so the answers are kept
    (parsing the address costs more than the rest of the check).
    """
    host = value.strip().lower()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_origin(value: str) -> bool:
    """Whether an Origin header is a loopback page (``null`` is not)."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    return is_loopback_host(parts.hostname)


def error_response(
    errors: ErrorFormat, status: int, message: str, code: str, decision: str
) -> web.Response:
    """The HTTP response for a refusal; ``x-pretense-decision`` says what happened."""
    return web.Response(
        status=status,
        body=jsonx.dumps(errors.body(status, message, code)),
        content_type="application/json",
        headers={"x-pretense-decision": decision},
    )


def raw_tail(raw_path: str, repo_id: str) -> str:
    """The path after ``/r/<id>/`` exactly as the client wrote it (no query string).

    The vendor must read the path and the query as received: decoding them
    would turn ``%20`` into a raw space, decode ``%2526`` twice, or cut the
    query at a decoded ``%23``.
    """
    path = raw_path.partition("?")[0]
    prefix = f"/r/{repo_id}/"
    return path[len(prefix) :] if path.startswith(prefix) else path.lstrip("/")


# Clients that send nothing naming themselves are named by a tag in their base URL,
# ``/r/<id>/t/<tag>/…`` (`pretense-dev env llm`).  Only these tags exist: any other
# ``t/…`` path matches no API and is refused like every unknown path.
CLIENT_TAGS = frozenset({"llm"})


def client_tag(tail: str) -> tuple[str, str]:
    """Split a known client tag off a raw tail: ``("llm", "v1/…")`` or ``("", tail)``.

    The tag is cut before the route is matched, so the vendor never sees it, and it
    comes after ``/r/<id>/``, so it cannot choose the repository.  Matched on the
    raw text: an encoded tag is not a tag (and then no route matches).
    """
    if tail.startswith("t/"):
        tag, sep, rest = tail[2:].partition("/")
        if sep and tag in CLIENT_TAGS:
            return tag, rest
    return "", tail


def tool_of(user_agent: str, headers: Mapping[str, str] | None = None) -> str:
    """Which client sent a request, from what it sends about itself.

    Each real CLI was captured with a loopback server: Claude Code sends
    ``claude-cli/<v> (external, …)``; Codex ``codex_exec/<v> …`` (or
    ``codex_cli_rs``, …) with an ``originator`` header of the same name; the
    Gemini CLI ``GeminiCLI-…/<v>``; the Copilot CLI with its own provider sends
    the OpenAI JS SDK's agent plus Copilot's ``X-Initiator`` and
    ``X-Interaction-Type`` headers (VS Code's agent says ``copilot``).  aider talks
    through litellm, whose OpenAI calls carry only the OpenAI SDK's
    ``OpenAI/Python`` agent plus ``X-Stainless-Raw-Response: true`` (litellm
    reads raw responses): nothing in them names aider, so `init` has aider add
    ``X-Title: Aider`` (the name aider gives OpenRouter in that header); without
    it they are audited as ``litellm``.  `llm` (0.36) sends only the OpenAI SDK's
    headers, like any program on the official SDKs (``sdk``): the base URL that
    `pretense-dev env llm` gives it carries the tag ``t/llm`` (`client_tag`), which
    names it where the headers name no client of their own.
    """
    ua = user_agent.lower()
    originator = (headers.get("originator", "") if headers is not None else "").lower()
    if "claude-cli" in ua or "claude-code" in ua:
        return "claude-code"
    if ua.startswith("codex_") or originator.startswith("codex_"):
        return "codex"
    if "copilot" in ua or (headers is not None and "x-initiator" in headers):
        return "copilot"
    if "cursor" in ua:
        return "cursor"
    if ua.startswith("geminicli"):  # "GeminiCLI-tui/0.61.0/<model> (…) google-genai-sdk/…"
        return "gemini-cli"
    if headers is not None and headers.get("X-Title", "").lower() == "aider":
        return "aider"
    if ua.startswith("litellm"):
        return "litellm"
    raw = headers.get("X-Stainless-Raw-Response", "") if headers is not None else ""
    if ua.startswith(("openai/python", "asyncopenai/python")) and raw.lower() == "true":
        return "litellm"
    if ua.startswith(("anthropic/", "asyncanthropic/", "openai/", "asyncopenai/")):
        return "sdk"
    if "google-genai-sdk/" in ua or ua.startswith(("boto3/", "botocore/")):
        return "sdk"
    return ""


@dataclass
class Settings:
    """How the proxy listens and where it forwards."""

    host: str = state.DEFAULT_HOST
    port: int = state.DEFAULT_PORT
    upstream_anthropic: str = state.DEFAULT_UPSTREAM_ANTHROPIC
    upstream_openai: str = state.DEFAULT_UPSTREAM_OPENAI

    extra_upstreams: dict[str, str] = field(default_factory=dict)
    # Seconds without a byte from the upstream before the answer is given up (the
    # client then gets the API's error, or its error event mid-stream).
    read_timeout: float = 900.0

    def upstream(self, key: str) -> str:
        """Base URL for an `apis.Api.upstream` key: a configured one first, then the defaults.

        Asked on every request, so one lookup rather than a table built each time.
        """
        url = self.extra_upstreams.get(key)
        if url is not None:
            return url
        url = CLOUD_UPSTREAMS.get(key)
        if url is not None:
            return url
        if key == "anthropic":
            return self.upstream_anthropic
        if key == "openai":
            return self.upstream_openai
        raise KeyError(key)


@dataclass
class Exchange:
    """What one request did, for the audit event and the log line."""

    t0: float
    endpoint: str
    vendor: str = ""
    model: str = ""
    repo_id: str = ""
    repo_path: str = ""
    session_id: str = ""
    tool: str = ""
    decision: str = ERROR
    reason: str = ""
    status: int = 0
    upstream_status: int = 0
    request_bytes: int = 0
    context_bytes: int = 0
    response_bytes: int = 0
    out: Outgoing | None = None
    secrets: tuple[Any, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    read_timeout: float | None = None  # seconds per upstream read, once forwarding


class Proxy:
    """The application: build with `create_app()`; tests inject resolver, scanner and sink."""

    def __init__(
        self,
        settings: Settings,
        *,
        resolver: Resolver = registry_resolver,
        scanner_factory: ScannerFactory = default_scanner,
        audit: AuditSink | None = None,
        apis: tuple[Api, ...] = APIS,
    ) -> None:
        self.settings = settings
        self.apis = apis
        self.resolver = resolver
        self.scanner_factory = scanner_factory
        self.audit_sink = audit
        self.audit: AuditWriter | None = None
        self._audit_batch: list[Callable[[], AuditEvent]] = []
        self._audit_timer: asyncio.TimerHandle | None = None
        self.contexts: dict[str, RepoContext] = {}
        from pretense_dev import registry

        self._registry_file = registry.registry_path()
        self._registry_stamp: tuple[int, int, int] | None = None
        self.session: aiohttp.ClientSession | None = None
        self.started_at = time.time()
        self.port = settings.port
        self.version = version()
        # The tool-hook gate's key (`serve` makes one per run and writes the gate file);
        # None: no gate served (an app built in-process without the daemon's state).
        self.gate_key: bytes | None = None
        self._gate_pool: ThreadPoolExecutor | None = None

    # -- lifecycle -----------------------------------------------------------

    async def on_startup(self, app: web.Application) -> None:
        """Open the pooled upstream session and the audit writer."""
        # A corporate HTTPS_PROXY applies upstream.  Only when one is set: with trust_env
        # aiohttp looks the proxy up in a worker thread on every request (~0.1 ms).
        trust_env = any(os.environ.get(v) for v in _PROXY_VARS)
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256, ttl_dns_cache=300, keepalive_timeout=60),
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=30, sock_read=self.settings.read_timeout
            ),
            auto_decompress=True,
            trust_env=trust_env,
            skip_auto_headers=("User-Agent",),
        )
        if self.audit_sink is None:
            from pretense_dev.proxy.auditing import default_sink

            self.audit_sink = default_sink()
        self.audit = AuditWriter(self.audit_sink)

    async def on_cleanup(self, app: web.Application) -> None:
        """Close the session, flush the audit queue, close polling connections."""
        if self.session is not None:
            await self.session.close()
        if self.audit is not None:
            self.flush_audit()
            await asyncio.get_running_loop().run_in_executor(None, self.audit.close)
        for ctx in self.contexts.values():
            ctx.close()
        if self._gate_pool is not None:
            self._gate_pool.shutdown(wait=False, cancel_futures=True)

    def create_app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self.loopback_only])
        app.router.add_get("/health", self.health)
        app.router.add_post(wire.PATH, self.gate)
        app.router.add_post("/r/{repo_id}/" + canary.VERIFY_PATH, self.verify)
        app.router.add_route("*", "/r/{repo_id}/{tail:.*}", self.handle)
        app.router.add_route("*", "/{tail:.*}", self.not_found)
        app.on_startup.append(self.on_startup)
        app.on_cleanup.append(self.on_cleanup)
        return app

    # -- middleware and small routes -----------------------------------------

    @web.middleware
    async def loopback_only(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Refuse a non-loopback Host or Origin (DNS rebinding, cross-site posts)."""
        host = request.headers.get("Host", "")
        origin = request.headers.get("Origin")
        bad = None
        if not is_loopback_host(host):
            bad = "Host"
        elif origin is not None and not is_loopback_origin(origin):
            bad = "Origin"
        if bad is None:
            return await handler(request)
        vendor, errors = errors_for_headers(request.headers)
        message = (
            f"pretense-dev refused a request whose {bad} header is not loopback "
            "(possible DNS rebinding or cross-site request); use http://127.0.0.1:<port>"
        )
        ex = Exchange(time.perf_counter(), request.path, vendor=vendor)
        ex.decision, ex.reason, ex.status = BLOCKED, message, 403
        self.record_soon(ex)
        return error_response(errors, 403, message, "pretense_non_loopback", BLOCKED)

    async def health(self, request: web.Request) -> web.Response:
        """Liveness for `proxy start` / `state.running()`."""
        return web.json_response(
            {
                "service": state.SERVICE,
                "version": self.version,
                "pid": os.getpid(),
                "port": self.port,
                "started_at": self.started_at,
            }
        )

    async def gate(self, request: web.Request) -> web.Response:
        """A tool hook's call, decided here with the warm detector (toolhook/client.py).

        Only for the holder of this run's key (the request's MAC), and the answer
        is signed with it, bound to the request.  Calls run in a few threads of
        their own (a tool may fire several file-read hooks at once): the gate's
        `verify` sends its probes to this very event loop, which must stay free
        to answer them.
        """
        from pretense_dev.integrations.toolhook import served

        key = self.gate_key
        if key is None:
            return web.Response(status=503, text="this proxy serves no tool-hook gate\n")
        body = await request.read()
        if not served.check(key, body, request.headers.get(wire.MAC_HEADER, "")):
            return web.Response(status=403, text="the gate request is not signed with this key\n")
        try:
            call = served.parse(body)
        except ValueError:
            return web.Response(status=400, text="not a gate request of this version\n")
        if self._gate_pool is None:
            self._gate_pool = ThreadPoolExecutor(4, thread_name_prefix="pretense-gate")
        loop = asyncio.get_running_loop()
        try:
            answer = await loop.run_in_executor(self._gate_pool, served.answer_packed, call)
        except Exception:  # the client refuses on anything but a signed answer
            log.exception("internal error in the tool-hook gate")
            return web.Response(status=500, text="the gate hit an internal error\n")
        proof = wire.answer_proof(key, wire.request_mac(key, body), answer)
        return web.Response(
            body=answer,
            content_type="application/octet-stream",
            headers={wire.PROOF_HEADER: proof.hex()},
        )

    async def not_found(self, request: web.Request) -> web.Response:
        """Anything outside /r/<id>/…: nothing is forwarded."""
        _, errors = errors_for_headers(request.headers)
        message = (
            f"pretense-dev does not proxy {request.path}; use the base URL from "
            "`pretense-dev proxy url` (it ends in /r/<repo-id>)"
        )
        return error_response(errors, 404, message, "pretense_no_route", BLOCKED)

    async def context(self, repo_id: str) -> RepoContext:
        """The repo's context, created on first use; refreshed."""
        self._follow_registry()
        ctx = self.contexts.get(repo_id)
        if ctx is None:
            source = self.resolver(repo_id)  # raises Refusal
            ctx = self.contexts.setdefault(repo_id, RepoContext(source, self.scanner_factory))
        await ctx.refresh()
        return ctx

    def _follow_registry(self) -> None:
        """Resolve the known repositories again when the registry file changed.

        `init` records a user's own gateway for a repository in the registry
        (`registry.set_upstream`) and `uninstall` clears it, while this daemon
        may be running with that repository's source already resolved: without
        this, its traffic would keep going to the public vendor instead of the
        user's gateway until a restart.  One stat per request; the registry is
        written by rename, so any change moves its inode, time or size.  A
        repository that no longer resolves, or now leads elsewhere, loses its
        context, so its next request is resolved (and refused) afresh.
        """
        try:
            st = os.stat(self._registry_file)
            stamp: tuple[int, int, int] | None = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        if stamp == self._registry_stamp:
            return
        self._registry_stamp = stamp
        for repo_id, ctx in list(self.contexts.items()):
            try:
                source = self.resolver(repo_id)
            except Refusal:
                self.contexts.pop(repo_id, None)
                continue
            if source.root != ctx.source.root:
                self.contexts.pop(repo_id, None)
            else:
                ctx.source = source

    async def verify(self, request: web.Request) -> web.Response:
        """The canary challenge (package docstring)."""
        repo_id = request.match_info["repo_id"]
        try:
            try:
                data = jsonx.loads(await request.read())
            except jsonx.JSONError:
                data = None
            if (
                not isinstance(data, dict)
                or not canary.valid_nonce(data.get("nonce"))
                or not isinstance(data.get("text"), str)
                or len(data["text"]) > canary.MAX_TEXT
            ):
                raise Refusal(
                    400, 'a verify challenge is {"nonce": <32-128 hex>, "text": <string>}'
                )
            ctx = await self.context(repo_id)
            assert ctx.mapping is not None
            mutated = ctx.mapping.mutate(data["text"])
            return web.json_response(
                canary.answer(
                    key=ctx.key,
                    nonce=data["nonce"],
                    repo_id=repo_id,
                    map_version=ctx.map_version,
                    map_size=len(ctx.mapping),
                    mutated=mutated,
                    version=self.version,
                )
            )
        except Refusal as r:
            return error_response(ANTHROPIC_ERRORS, r.status, r.message, r.code, r.decision)

    # -- the proxied routes ---------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Every /r/<id>/… request: refuse, or mutate, guard, forward and un-mutate."""
        repo_id = request.match_info["repo_id"]
        tag, tail = client_tag(raw_tail(request.raw_path, repo_id))
        ex = Exchange(time.perf_counter(), "/" + tail, repo_id=repo_id)
        ex.session_id = request.headers.get("X-Claude-Code-Session-Id", "")[:128]
        ex.tool = tool_of(request.headers.get("User-Agent", ""), request.headers)
        if tag and ex.tool in ("", "sdk"):  # a client that names itself keeps its name
            ex.tool = tag
        route = route_of(tail, request.headers, self.apis)
        if route is not None:
            ex.vendor, errors = route.vendor, route.api.errors
        else:
            ex.vendor, errors = errors_for_headers(request.headers)
        try:
            try:
                return await self._handle(request, route, ex)
            except asyncio.CancelledError:
                # The client left (the runner cancels the handler): the upstream request
                # was cancelled with it.
                ex.reason = ex.reason or "client went away before the answer"
                raise
            except Refusal:
                raise
            except Exception as e:  # a bug must not turn into a forwarded request
                if ex.upstream_status:
                    raise
                log.exception("internal error before forwarding")
                raise Refusal(
                    500,
                    f"pretense-dev hit an internal error ({type(e).__name__}); nothing was sent "
                    "— see `pretense-dev proxy logs`",
                ) from e
        except Refusal as r:
            ex.decision, ex.reason, ex.status = r.decision, r.audit_reason, r.status
            ex.secrets = r.secrets
            resp = error_response(errors, r.status, r.message, r.code, r.decision)
            ex.response_bytes = len(resp.body) if isinstance(resp.body, bytes) else 0
            return resp
        finally:
            self.record_soon(ex)

    async def _handle(
        self, request: web.Request, route: Route | None, ex: Exchange
    ) -> web.StreamResponse:
        if route is None:
            raise Refusal(
                404,
                f"pretense-dev does not proxy /{request.match_info['tail']} "
                "(only messages, count_tokens, chat/completions, responses and models), "
                "so it was not sent",
                decision=BLOCKED,
            )
        api = route.api
        if request.method != api.method:
            raise Refusal(405, f"{request.method} is not allowed here", decision=BLOCKED)
        ctx = await self.context(ex.repo_id)
        ex.repo_path = str(ctx.root)
        policy = ctx.policy()
        assert ctx.mapping is not None and ctx.scanner is not None
        out = Outgoing(ctx.mapping, ctx.cache)
        if api.walk is None:
            if route.vendor not in policy.vendors:
                reason = approved(policy, route.vendor, None)
                raise Refusal(403, f"pretense-dev: {reason}", decision=BLOCKED)
            headers = self._headers(request, out)
            self._guard(ctx, out)
            return await self._forward(request, route, ex, ctx, headers, None)
        encoding = request.headers.get("Content-Encoding", "").strip().lower()
        if encoding not in _REQUEST_ENCODINGS:
            raise Refusal(
                400,
                f"pretense-dev cannot read a request body with Content-Encoding {encoding!r} "
                f"(supported: {', '.join(e for e in _REQUEST_ENCODINGS if e)}), "
                "so it was not sent",
                decision=BLOCKED,
                code="pretense_bad_encoding",
            )
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise Refusal(
                413, f"the request is larger than {MAX_BODY} bytes", decision=BLOCKED
            ) from None
        except Exception as e:  # aiohttp's RequestPayloadError, zlib and brotli errors
            # A body that does not decode as its Content-Encoding says.
            raise Refusal(
                400,
                f"pretense-dev could not decode this request body as Content-Encoding "
                f"{encoding!r} ({type(e).__name__}), so it was not sent",
                decision=BLOCKED,
                code="pretense_bad_encoding",
            ) from None
        ex.request_bytes = len(raw)
        ex.extra["client_body"] = raw  # a sign hook checks the client's signature over it
        cut = history.split(raw, api.name, api.history, ctx.history) if api.history else None
        if cut is not None:
            body: Any = cut.body
        else:
            body = self._parse(raw)
        model = api.model(body, route.params)
        ex.model = model or ""
        reason = approved(policy, route.vendor, model)
        if reason is not None:
            raise Refusal(
                403, f"pretense-dev: {reason}", decision=BLOCKED, code="pretense_not_approved"
            )
        sent = self._protect_history(request, ctx, api, cut) if cut is not None else None
        if sent is not None:
            out, headers, payload = sent
            ex.extra["digests"] = cut.digests if cut is not None else None
        else:
            if cut is not None:  # the ordinary path decides (and words any refusal)
                body = self._parse(raw)
            out, headers, payload = self._protect(request, ctx, api, raw, body)
        ex.out = out
        ex.context_bytes = len(payload)
        return await self._forward(request, route, ex, ctx, headers, payload)

    @staticmethod
    def _parse(raw: bytes) -> dict[str, Any]:
        """The request body as a JSON object, or a refusal."""
        try:
            body = jsonx.loads(raw)
        except jsonx.JSONError:
            raise Refusal(
                400,
                "pretense-dev could not parse this request body as JSON, so it was not sent",
                decision=BLOCKED,
            ) from None
        if not isinstance(body, dict):
            raise Refusal(
                400, "the request body must be a JSON object; it was not sent", decision=BLOCKED
            )
        return body

    def _protect(
        self, request: web.Request, ctx: RepoContext, api: Api, raw: bytes, body: dict[str, Any]
    ) -> tuple[Outgoing, dict[str, str], bytes]:
        """The whole body walked, swept and guarded: (walker state, headers, body to send)."""
        assert ctx.mapping is not None
        out = Outgoing(ctx.mapping, ctx.cache)
        try:
            api.protect(body, out)
            if out.inexact:  # an integer literal may have been rounded: parse it exactly
                body = jsonx.loads_exact(raw)
                out = Outgoing(ctx.mapping, ctx.cache)
                api.protect(body, out)
        except jsonx.JSONError:
            raise Refusal(
                400,
                "pretense-dev could not parse this request body as JSON, so it was not sent",
                decision=BLOCKED,
            ) from None
        except Unprotectable as e:
            raise Refusal(
                400,
                f"pretense-dev cannot protect this request ({e}), so it was not sent",
                decision=BLOCKED,
            ) from None
        headers = self._headers(request, out)
        self._guard(ctx, out)
        return out, headers, jsonx.dumps(body)

    def _protect_history(
        self, request: web.Request, ctx: RepoContext, api: Api, cut: history.Split
    ) -> tuple[Outgoing, dict[str, str], bytes] | None:
        """`_protect` for a body cut at its history (`history`); None: take the ordinary path.

        Anything but a clean pass (a shape the walker refuses, a possibly rounded
        integer, a secret) returns None, so the ordinary path decides and
        words the refusal exactly as without the cache.
        """
        assert ctx.mapping is not None and ctx.scanner is not None
        headers: dict[str, str] = {}
        done = history.reuse(
            cut,
            api.protect,
            ctx.mapping,
            ctx.cache,
            ctx.history,
            api.name,
            ctx.scanner,
            also=lambda out: headers.update(self._headers(request, out)),
        )
        if done is None:
            return None
        out, payload = done
        return out, headers, payload

    @staticmethod
    def _guard(ctx: RepoContext, out: Outgoing) -> None:
        """The secret scan over every new string; the leaves are cached only if it passes."""
        assert ctx.scanner is not None
        findings = scan(ctx.scanner, out.new)
        if findings:
            raise blocked_message(findings)
        out.commit()

    @staticmethod
    def _headers(request: web.Request, out: Outgoing) -> dict[str, str]:
        """The request headers to send on: hop-by-hop dropped, values the vendor reads mutated.

        Credentials pass as they are and are not scanned (they are secrets by
        design); protocol headers (`PROTOCOL_HEADERS`) pass as they are and are
        scanned; every other value is mutated and scanned like a body string,
        because a client may put a checkout path or a prompt there (Codex sends
        its turn metadata, with the working directory, in a header).
        """
        # Headers named in Connection are hop-by-hop too (RFC 9110 §7.6.1).
        listed = {n.strip().lower() for n in request.headers.get("Connection", "").split(",")}
        drop = _DROP_REQUEST | listed
        headers: dict[str, str] = {}
        for k, v in request.headers.items():
            low = k.lower()
            if low in drop:
                continue
            if low in CREDENTIAL_HEADERS or low.startswith(_CREDENTIAL_PREFIXES):
                headers[k] = v
            elif low in PROTOCOL_HEADERS or low.startswith(_PROTOCOL_PREFIXES):
                out.scan_only(v, f"header {k}")
                headers[k] = v
            else:
                headers[k] = out.text(v, f"header {k}")
        return headers

    def upstream_url(self, route: Route, query: str, source: RepoSource | None = None) -> URL:
        """Where a route goes: the API's base URL plus its path (and the raw query).

        A repository whose user had their own gateway for a vendor (recorded at
        `init`, `registry.set_upstream`) has that gateway as its base URL.
        """
        key = route.api.upstream
        override = None
        if source is not None and source.upstreams:
            override = dict(source.upstreams).get(key)
        base = override or self.settings.upstream(key)
        url = base.rstrip("/") + "/" + route.api.path(route.tail, route.params)
        if query:
            url += "?" + query
        return URL(url, encoded=True)

    async def _forward(
        self,
        request: web.Request,
        route: Route,
        ex: Exchange,
        ctx: RepoContext,
        headers: dict[str, str],
        payload: bytes | None,
    ) -> web.StreamResponse:
        assert self.session is not None and ctx.mapping is not None
        if self.audit is not None:
            self.audit.ensure_writable()  # no evidence, no forward
        mapping = ctx.mapping
        if payload is not None:
            headers["Content-Type"] = "application/json"
        url = self.upstream_url(route, request.raw_path.partition("?")[2], ctx.source)
        client_body = ex.extra.pop("client_body", None)
        digests = ex.extra.pop("digests", None)  # a resent history's hashes (`history`)
        outbound = Outbound(request.method, url, headers, payload)
        if route.api.sign is not None:  # the request as received: for the signature check
            outbound.received = Received(
                request.method,
                f"{request.scheme}://{request.host}{request.raw_path}",
                request.headers,
                client_body,
                digests.received if digests is not None else None,
            )
            outbound.digest = digests.sent if digests is not None else None
            route.api.sign(outbound)
        # From here the body may be on the wire: a client leaving now is audited as sent.
        ex.decision = FORWARDED
        # The repository's own bound (`[proxy] read_timeout`), else the proxy's.
        ex.read_timeout = ctx.policy().read_timeout or self.settings.read_timeout
        try:
            up_cm = self.session.request(
                outbound.method,
                outbound.url,
                data=outbound.body,
                headers=outbound.headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=30, sock_read=ex.read_timeout
                ),
            )
            up = await up_cm.__aenter__()
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as e:
            ex.decision = ERROR  # no connection: nothing was sent
            raise Refusal(
                502,
                f"pretense-dev could not reach {url.host}: {type(e).__name__} {e}".rstrip(),
            ) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as e:
            # Connected and sent, but the answer's head never came or did not parse.
            raise Refusal(
                502,
                f"pretense-dev: the upstream answer from {url.host} broke ({type(e).__name__}); "
                "the request had been sent",
                decision=FORWARDED,
                code="upstream_error",
                audit_reason=f"upstream answer broke: {type(e).__name__}",
            ) from None
        ex.decision = FORWARDED
        ex.upstream_status = up.status
        try:
            out_headers = {k: v for k, v in up.headers.items() if k.lower() not in _DROP_RESPONSE}
            framing = self._framing(route, up)
            if framing is not None:
                return await self._stream(request, route, ex, up, out_headers, mapping, framing)
            try:
                body = await self._read_body(up, ex.read_timeout)
            except (TimeoutError, aiohttp.ClientError) as e:
                ex.reason = f"upstream answer broke: {type(e).__name__}"
                ex.status = 502
                return error_response(
                    route.api.errors,
                    502,
                    f"pretense-dev: the upstream answer broke ({type(e).__name__}); "
                    "the request had been sent",
                    "upstream_error",
                    FORWARDED,
                )
            body = self._unmutate_body(route, up.status, up.content_type, body, mapping)
            ex.response_bytes = len(body)
            ex.status = up.status
            return web.Response(status=up.status, body=body, headers=out_headers)
        finally:
            await up_cm.__aexit__(None, None, None)

    async def _read_some(self, up: aiohttp.ClientResponse, timeout: float | None = None) -> bytes:
        """The next bytes of an upstream answer (b"" at its end), within the read timeout.

        The timeout is ours as well as aiohttp's: with aiohttp's C parser, an
        invalid chunk-size line mid-body leaves the read waiting forever and its
        socket read timeout never fires (aiohttp 3.14), so a broken upstream
        would hang the client.  Bytes already received (or the end) are taken
        without a wait, so without arming a timer: a small answer usually
        arrives with its head.
        """
        content = up.content
        data = content.read_nowait()
        if data or content.is_eof():
            return data
        async with asyncio.timeout(timeout or self.settings.read_timeout):
            return await content.readany()

    async def _read_body(self, up: aiohttp.ClientResponse, timeout: float | None = None) -> bytes:
        """A whole (non-streamed) upstream answer, each read within the read timeout."""
        parts = []
        while chunk := await self._read_some(up, timeout):
            parts.append(chunk)
        return b"".join(parts)

    @staticmethod
    def _unmutate_body(
        route: Route, status: int, content_type: str, body: bytes, m: IdentifierMap
    ) -> bytes:
        api = route.api
        if api.unmutate is None and status < 400:
            return body
        if not body or m.unmutate(body, json=True) == body:
            return body  # nothing to change anywhere: skip the parse and the re-write
        if "json" not in content_type:
            return m.unmutate(body) if body else body
        try:
            data = jsonx.loads(body)
        except jsonx.JSONError:
            return m.unmutate(body, json=True)
        if status >= 400:
            data = api.errors.unmutate(data, m)
        elif api.unmutate is not None:
            data = api.unmutate(data, m)
        return jsonx.dumps(data)

    @staticmethod
    def _framing(route: Route, up: aiohttp.ClientResponse) -> Framing | None:
        """How to stream this answer, or None to read it whole."""
        api = route.api
        if up.content_type == api.framing.content_type:
            return api.framing
        if (
            api.json_stream is not None
            and up.status < 400
            and up.content_type == JSON_ARRAY.content_type
            and api.json_stream(route.params)
        ):
            return JSON_ARRAY
        return None

    async def _stream(
        self,
        request: web.Request,
        route: Route,
        ex: Exchange,
        up: aiohttp.ClientResponse,
        headers: dict[str, str],
        mapping: IdentifierMap,
        framing: Framing,
    ) -> web.StreamResponse:
        resp = web.StreamResponse(status=up.status, headers=headers)
        await resp.prepare(request)
        ex.status = up.status
        rw = route.api.rewriter(mapping, framing.encode)
        if framing is JSON_ARRAY:
            rw = ArrayWriter(rw)
        parser = framing.decoder()
        sent = 0
        deadline = ReadDeadline(up, ex.read_timeout or self.settings.read_timeout)
        try:
            while chunk := await deadline.read():
                data = rw.feed(parser, chunk)
                if data:
                    await resp.write(data)
                    sent += len(data)
            data = b"".join([rw.event(e) for e in parser.finish()]) + rw.end()
            if data:
                await resp.write(data)
                sent += len(data)
        except (TimeoutError, aiohttp.ClientError) as e:
            # The upstream broke mid-stream: tell the client in the stream's own way.
            ex.reason = f"upstream stream broke: {type(e).__name__}"
            errors = route.api.errors
            body = errors.body(
                502,
                f"pretense-dev: the upstream stream broke ({type(e).__name__})",
                "upstream_error",
            )
            if isinstance(rw, ArrayWriter):
                tail = rw.error(jsonx.dumps(body))
            else:
                tail = rw.end() + errors.event(body)
            with contextlib.suppress(ConnectionResetError, RuntimeError):
                await resp.write(tail)
        except ConnectionResetError:
            # The client left: stop reading (closing the upstream stops the generation).
            ex.reason = "client went away mid-stream"
            ex.response_bytes = sent
            return resp
        finally:
            deadline.close()
        ex.response_bytes = sent
        await resp.write_eof()
        return resp

    # -- audit and log ------------------------------------------------------------

    def record(self, ex: Exchange) -> None:
        """Queue one log line and one audit event for this request.

        The event is built and written on the audit thread, after the answer
        has gone out; the protected names were collected per leaf while
        mutating (cached with the leaf, so a resent history costs a set union).
        """
        latency = (time.perf_counter() - ex.t0) * 1000
        if self.audit is not None:
            self.audit.submit(lambda: self._event(ex, latency))

    def record_soon(self, ex: Exchange) -> None:
        """`record`, batched: the events of `AUDIT_BATCH` seconds go to the thread at once.

        Waking the audit thread costs the event loop a system call and hands
        the thread the GIL; per request, on a busy machine, that was a tenth of
        the proxy's own time.  The batch is handed over by a timer, so never
        before the answer returned by the handler is on the wire (the handler's
        task writes it before it next yields); the evidence follows within
        `AUDIT_BATCH` seconds, and the batch is flushed when the proxy stops.
        """
        if self.audit is None:
            return
        latency = (time.perf_counter() - ex.t0) * 1000
        self._audit_batch.append(lambda: self._event(ex, latency))
        if self._audit_timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no running loop (called from a test's thread)
                self.flush_audit()
                return
            self._audit_timer = loop.call_later(AUDIT_BATCH, self.flush_audit)

    def flush_audit(self) -> None:
        """Hand the batched events to the audit thread."""
        if self._audit_timer is not None:
            self._audit_timer.cancel()
            self._audit_timer = None
        batch, self._audit_batch = self._audit_batch, []
        if batch and self.audit is not None:
            self.audit.submit_all(batch)

    @staticmethod
    def _event(ex: Exchange, latency: float) -> AuditEvent:
        names: set[str] = set()
        if ex.out is not None:
            try:
                names = ex.out.names()
            except Exception:  # the audit must not fail a request that went out
                log.exception("audit: could not list protected names")
        log.info(
            "%s %s %s status=%s upstream=%s decision=%s req=%d sent=%d resp=%d names=%d ms=%.1f%s",
            ex.repo_id or "-",
            ex.vendor or "-",
            ex.endpoint,
            ex.status,
            ex.upstream_status,
            ex.decision,
            ex.request_bytes,
            ex.context_bytes,
            ex.response_bytes,
            len(names),
            latency,
            f" reason={ex.reason!r}" if ex.reason else "",
        )
        return AuditEvent(
            event=REQUEST,
            session_id=ex.session_id,
            tool=ex.tool,
            repo_id=ex.repo_id,
            repo_path=ex.repo_path,
            vendor=ex.vendor,
            model=ex.model,
            endpoint=ex.endpoint,
            mutation_active=ex.decision == FORWARDED,
            identifiers_protected=len(names),
            identifiers=tuple(sorted(names)[:500]),
            secrets=ex.secrets,
            decision=ex.decision,
            reason=ex.reason,
            request_bytes=ex.request_bytes,
            response_bytes=ex.response_bytes,
            context_bytes=ex.context_bytes,
            latency_ms=round(latency, 3),
            upstream_status=ex.upstream_status,
        )


def create_app(settings: Settings | None = None, **kwargs: Any) -> tuple[Proxy, web.Application]:
    """A `Proxy` and its aiohttp application."""
    proxy = Proxy(settings or Settings(), **kwargs)
    return proxy, proxy.create_app()


# -- the daemon's main ---------------------------------------------------------


def _use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    uvloop.install()


async def serve(
    settings: Settings, *, write_state: bool = True, ready: Callable[[int], None] | None = None
) -> None:
    """Run until SIGTERM/SIGINT; record the state file while listening."""
    proxy, app = create_app(settings)
    # handler_cancellation: a client that leaves cancels its handler, and with it the
    # upstream request (the vendor stops generating).
    runner = web.AppRunner(app, access_log=None, handle_signals=False, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    port = int(runner.addresses[0][1])
    proxy.port = port
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    st = state.ProxyState(
        pid=os.getpid(),
        host=settings.host,
        port=port,
        upstream_anthropic=settings.upstream_anthropic,
        upstream_openai=settings.upstream_openai,
        started_at=proxy.started_at,
        version=proxy.version,
        log_path=str(state.log_path()),
    )
    if write_state:
        # The gate file first: once `proxy start` sees the state file, hooks may ask.
        proxy.gate_key = _write_gate_file(settings.host, port)
        state.write_state(st)
    log.info("listening on http://%s:%d (pid %d)", settings.host, port, os.getpid())
    # The daemon keeps every registered repo's index current (the watcher
    # runs inside the proxy daemon), so edits made outside an editor reach the map.
    watcher = _start_watcher() if write_state else None
    follow = asyncio.create_task(_follow_registry(watcher)) if watcher is not None else None
    if ready is not None:
        ready(port)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        if follow is not None:
            follow.cancel()
        if watcher is not None:
            await loop.run_in_executor(None, watcher.stop)
        if write_state:
            state.remove_state(os.getpid())
            _remove_gate_file(os.getpid())
        await runner.cleanup()


REGISTRY_POLL_SECONDS = 5.0


def _write_gate_file(host: str, port: int) -> bytes:
    """A fresh key for this run, written with the address to the user's gate file (0600)."""
    from pathlib import Path

    from pretense_dev import paths

    key = os.urandom(32)
    path = Path(wire.gate_file())
    paths.ensure_private_dir(path.parent)
    paths.atomic_write(path, wire.encode_file(os.getpid(), host, port, key), mode=0o600)
    return key


def _remove_gate_file(pid: int) -> None:
    """Remove the gate file if it is still this run's (a newer proxy may own it)."""
    path = wire.gate_file()
    try:
        with open(path, encoding="ascii") as f:
            owner = wire.decode_file(f.read())[0]
    except (OSError, ValueError):
        return
    if owner == pid:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _start_watcher() -> IndexWatcher | None:
    """Watch every registered repo; a failure to watch is logged, never fatal to the proxy."""
    try:
        from pretense_dev.index.watcher import IndexWatcher

        # workers=1: index bursts in a thread, never fork the event loop's process.
        watcher = IndexWatcher.registered(workers=1)
        watcher.start()
    except Exception as e:  # the proxy still protects: maps are polled from the index
        log.error("cannot start the file watcher: %s", e)
        return None
    for root, problem in watcher.errors.items():
        log.warning("not watching %s: %s", root, problem)
    log.info("watching %d repositories", len(watcher.roots))
    return watcher


async def _follow_registry(watcher: IndexWatcher) -> None:
    """Add repos `init` registers while the proxy runs; drop those unregistered."""
    from pretense_dev import registry
    from pretense_dev.repo import Repo

    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(REGISTRY_POLL_SECONDS)
        try:
            repos = await loop.run_in_executor(None, registry.load)
        except Exception as e:  # an unreadable registry: keep what we watch
            log.warning("cannot read the registry: %s", e)
            continue
        wanted = {r.path.resolve() for r in repos.values() if Repo(r.path).is_initialised()}
        current = set(watcher.roots)
        for root in sorted(wanted - current):
            log.info("watching %s", root)
            await loop.run_in_executor(None, watcher.add, root)
        for root in sorted(current - wanted):
            log.info("no longer watching %s", root)
            await loop.run_in_executor(None, watcher.remove, root)


def setup_logging(to_stderr: bool) -> None:
    """Log to the proxy log (rotated), and to stderr in the foreground."""
    from logging.handlers import RotatingFileHandler

    from pretense_dev import paths

    paths.ensure_private_dir(state.log_path().parent)
    handler: logging.Handler = RotatingFileHandler(
        state.log_path(), maxBytes=5_000_000, backupCount=3, encoding="utf-8"
    )
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    handler.setFormatter(fmt)
    root = logging.getLogger("pretense_dev")
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    if to_stderr:
        h2 = logging.StreamHandler(sys.stderr)
        h2.setFormatter(fmt)
        root.addHandler(h2)
    with_mode = state.log_path()
    if with_mode.exists():
        os.chmod(with_mode, 0o600)


def main(argv: list[str] | None = None) -> int:
    """``python -m pretense_dev.proxy.server``: what `proxy start` spawns."""
    import argparse

    p = argparse.ArgumentParser(prog="pretense_dev.proxy.server")
    p.add_argument("--host", default=state.DEFAULT_HOST)
    p.add_argument("--port", type=int, default=state.DEFAULT_PORT)
    p.add_argument("--upstream-anthropic", default=state.DEFAULT_UPSTREAM_ANTHROPIC)
    p.add_argument("--upstream-openai", default=state.DEFAULT_UPSTREAM_OPENAI)
    p.add_argument("--read-timeout", type=float, default=Settings.read_timeout)
    p.add_argument("--upstream", action="append", default=[], metavar="NAME=URL")
    p.add_argument("--foreground", action="store_true")
    a = p.parse_args(argv)
    from pretense_dev.config import READ_TIMEOUT_RANGE

    low, high = READ_TIMEOUT_RANGE
    if not low <= a.read_timeout <= high:
        print(
            f"pretense-dev proxy: --read-timeout must be between {low:g} and {high:g} "
            f"seconds, not {a.read_timeout:g}",
            file=sys.stderr,
        )
        return 2
    try:
        extra = dict(state.parse_upstream(v) for v in a.upstream)
    except ValueError as e:
        print(f"pretense-dev proxy: {e}", file=sys.stderr)
        return 2
    if a.host not in ("127.0.0.1", "::1", "localhost"):
        print("pretense-dev proxy: refusing to listen on a non-loopback address", file=sys.stderr)
        return 2
    setup_logging(a.foreground)
    _use_uvloop()
    settings = Settings(
        a.host,
        a.port,
        a.upstream_anthropic,
        a.upstream_openai,
        read_timeout=a.read_timeout,
        extra_upstreams=extra,
    )
    try:
        asyncio.run(serve(settings))
    except OSError as e:
        log.error("cannot listen on %s:%d: %s", a.host, a.port, e.strerror or e)
        print(
            f"pretense-dev proxy: cannot listen on {a.host}:{a.port}: {e.strerror or e}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    from pretense_dev.bugs import run_guarded

    raise SystemExit(run_guarded(main, prefix="pretense-dev proxy"))
