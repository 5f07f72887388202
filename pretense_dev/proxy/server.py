"""The aiohttp server: routing, fail-closed request handling, forwarding, streaming.

See the package docstring for the routes and the verify protocol.  One request,
start to end:

1. the Host and Origin must be loopback (DNS rebinding; a browser page cannot
   reach the proxy under another name, nor post to it from another origin);
2. ``/r/<id>`` resolves to a `RepoContext` and refreshes its map and policy;
3. the vendor and model must be approved by the repo's ``[proxy]`` policy;
4. the body is parsed and walked (`transform`): every text leaf the vendor
   reads is mutated; new leaves are scanned for secrets;
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
import ipaddress
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from yarl import URL

from pretense_dev.audit.events import BLOCKED, ERROR, FORWARDED, REQUEST, AuditEvent
from pretense_dev.mutation import IdentifierMap
from pretense_dev.proxy import canary, jsonx, state
from pretense_dev.proxy.auditing import AuditSink, AuditWriter
from pretense_dev.proxy.repos import (
    Refusal,
    RepoContext,
    RepoSource,
    Resolver,
    ScannerFactory,
    approved,
    blocked_message,
    default_scanner,
    registry_resolver,
    scan,
)
from pretense_dev.proxy.sse import SSEParser

if TYPE_CHECKING:
    from pretense_dev.index.watcher import IndexWatcher
from pretense_dev.proxy.streams import rewriter_for
from pretense_dev.proxy.transform import (
    Outgoing,
    Unprotectable,
    mutate_anthropic,
    mutate_chat,
    mutate_responses,
    unmutate_anthropic_message,
    unmutate_chat_completion,
    unmutate_error,
    unmutate_response_object,
)

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
# Not passed back: the body we send is decoded and re-framed.
_DROP_RESPONSE = HOP_BY_HOP | {"content-length", "content-encoding"}
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


_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def version() -> str:
    """The installed package version."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as v

    try:
        return v("pretense-dev")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


@dataclass(frozen=True)
class Route:
    """What a path under /r/<id>/ is."""

    vendor: str  # "anthropic" | "openai"
    api: str  # "anthropic" | "chat" | "responses" | "count_tokens" | "models"
    method: str


def route_of(tail: str, headers: Any) -> Route | None:
    """The route for ``/r/<id>/<tail>``, or None if the proxy does not serve it."""
    if tail == "v1/messages":
        return Route("anthropic", "anthropic", "POST")
    if tail == "v1/messages/count_tokens":
        return Route("anthropic", "count_tokens", "POST")
    if tail == "v1/chat/completions":
        return Route("openai", "chat", "POST")
    if tail == "v1/responses":
        return Route("openai", "responses", "POST")
    if tail == "v1/models" or tail.startswith("v1/models/"):
        vendor = "anthropic" if "anthropic-version" in headers else "openai"
        return Route(vendor, "models", "GET")
    return None


def is_loopback_host(value: str) -> bool:
    """Whether a Host header names the loopback interface (any port).

    Only ``localhost`` and literal loopback addresses: a name that merely starts
    with "127." (``127.0.0.1.nip.io``) is a DNS name an attacker controls.
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


def error_body(vendor: str, status: int, message: str, code: str) -> dict[str, Any]:
    """An error in the vendor's own format (shared/reference: errors)."""
    if vendor == "anthropic":
        etype = _ANTHROPIC_ERROR_TYPES.get(
            status, "api_error" if status >= 500 else "invalid_request_error"
        )
        return {"type": "error", "error": {"type": etype, "message": message}}
    etype = "invalid_request_error" if status < 500 else "server_error"
    return {"error": {"message": message, "type": etype, "param": None, "code": code}}


def error_response(
    vendor: str, status: int, message: str, code: str, decision: str
) -> web.Response:
    """The HTTP response for a refusal; ``x-pretense-decision`` says what happened."""
    return web.Response(
        status=status,
        body=jsonx.dumps(error_body(vendor, status, message, code)),
        content_type="application/json",
        headers={"x-pretense-decision": decision},
    )


def tool_of(user_agent: str) -> str:
    """Which client sent a request, from its User-Agent."""
    ua = user_agent.lower()
    if "claude-cli" in ua or "claude-code" in ua:
        return "claude-code"
    if "copilot" in ua:
        return "copilot"
    if "cursor" in ua:
        return "cursor"
    if ua.startswith(("anthropic/", "asyncanthropic/", "openai/", "asyncopenai/")):
        return "sdk"
    return ""


@dataclass
class Settings:
    """How the proxy listens and where it forwards."""

    host: str = state.DEFAULT_HOST
    port: int = state.DEFAULT_PORT
    upstream_anthropic: str = state.DEFAULT_UPSTREAM_ANTHROPIC
    upstream_openai: str = state.DEFAULT_UPSTREAM_OPENAI


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


class Proxy:
    """The application: build with `create_app()`; tests inject resolver, scanner and sink."""

    def __init__(
        self,
        settings: Settings,
        *,
        resolver: Resolver = registry_resolver,
        scanner_factory: ScannerFactory = default_scanner,
        audit: AuditSink | None = None,
    ) -> None:
        self.settings = settings
        self.resolver = resolver
        self.scanner_factory = scanner_factory
        self.audit_sink = audit
        self.audit: AuditWriter | None = None
        self.contexts: dict[str, RepoContext] = {}
        self.session: aiohttp.ClientSession | None = None
        self.started_at = time.time()
        self.port = settings.port
        self.version = version()

    # -- lifecycle -----------------------------------------------------------

    async def on_startup(self, app: web.Application) -> None:
        """Open the pooled upstream session and the audit writer."""
        # A corporate HTTPS_PROXY applies upstream.  Only when one is set: with trust_env
        # aiohttp looks the proxy up in a worker thread on every request (~0.1 ms).
        trust_env = any(os.environ.get(v) for v in _PROXY_VARS)
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256, ttl_dns_cache=300, keepalive_timeout=60),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=900),
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
            await asyncio.get_running_loop().run_in_executor(None, self.audit.close)
        for ctx in self.contexts.values():
            ctx.close()

    def create_app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self.loopback_only])
        app.router.add_get("/health", self.health)
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
        vendor = "anthropic" if "anthropic-version" in request.headers else "openai"
        message = (
            f"pretense-dev refused a request whose {bad} header is not loopback "
            "(possible DNS rebinding or cross-site request); use http://127.0.0.1:<port>"
        )
        ex = Exchange(time.perf_counter(), request.path, vendor=vendor)
        ex.decision, ex.reason, ex.status = BLOCKED, message, 403
        self.record(ex)
        return error_response(vendor, 403, message, "pretense_non_loopback", BLOCKED)

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

    async def not_found(self, request: web.Request) -> web.Response:
        """Anything outside /r/<id>/…: nothing is forwarded."""
        vendor = "anthropic" if "anthropic-version" in request.headers else "openai"
        message = (
            f"pretense-dev does not proxy {request.path}; use the base URL from "
            "`pretense-dev proxy url` (it ends in /r/<repo-id>)"
        )
        return error_response(vendor, 404, message, "pretense_no_route", BLOCKED)

    async def context(self, repo_id: str) -> RepoContext:
        """The repo's context, created on first use; refreshed."""
        ctx = self.contexts.get(repo_id)
        if ctx is None:
            source = self.resolver(repo_id)  # raises Refusal
            ctx = self.contexts.setdefault(repo_id, RepoContext(source, self.scanner_factory))
        await ctx.refresh()
        return ctx

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
            return error_response("anthropic", r.status, r.message, r.code, r.decision)

    # -- the proxied routes ---------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Every /r/<id>/… request: refuse, or mutate, guard, forward and un-mutate."""
        tail = request.match_info["tail"]
        repo_id = request.match_info["repo_id"]
        ex = Exchange(time.perf_counter(), "/" + tail, repo_id=repo_id)
        ex.session_id = request.headers.get("X-Claude-Code-Session-Id", "")[:128]
        ex.tool = tool_of(request.headers.get("User-Agent", ""))
        route = route_of(tail, request.headers)
        ex.vendor = (
            route.vendor
            if route
            else ("anthropic" if "anthropic-version" in request.headers else "openai")
        )
        try:
            try:
                return await self._handle(request, route, ex)
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
            resp = error_response(ex.vendor, r.status, r.message, r.code, r.decision)
            ex.response_bytes = len(resp.body) if isinstance(resp.body, bytes) else 0
            return resp
        finally:
            self.record(ex)

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
        if request.method != route.method:
            raise Refusal(405, f"{request.method} is not allowed here", decision=BLOCKED)
        ctx = await self.context(ex.repo_id)
        ex.repo_path = str(ctx.root)
        policy = ctx.policy()
        if route.api == "models":
            if route.vendor not in policy.vendors:
                reason = approved(policy, route.vendor, None)
                raise Refusal(403, f"pretense-dev: {reason}", decision=BLOCKED)
            return await self._forward(request, route, ex, ctx, None)
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise Refusal(
                413, f"the request is larger than {MAX_BODY} bytes", decision=BLOCKED
            ) from None
        ex.request_bytes = len(raw)
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
        model = body.get("model")
        ex.model = model if isinstance(model, str) else ""
        reason = approved(policy, route.vendor, model if isinstance(model, str) else None)
        if reason is not None:
            raise Refusal(
                403, f"pretense-dev: {reason}", decision=BLOCKED, code="pretense_not_approved"
            )
        assert ctx.mapping is not None and ctx.scanner is not None
        out = Outgoing(ctx.mapping, ctx.cache)
        try:
            if route.api in ("anthropic", "count_tokens"):
                mutate_anthropic(body, out)
            elif route.api == "chat":
                mutate_chat(body, out)
            else:
                mutate_responses(body, out)
        except Unprotectable as e:
            raise Refusal(
                400,
                f"pretense-dev cannot protect this request ({e}), so it was not sent",
                decision=BLOCKED,
            ) from None
        findings = scan(ctx.scanner, out.new)
        if findings:
            raise blocked_message(findings)
        out.commit()
        ex.out = out
        payload = jsonx.dumps(body)
        ex.context_bytes = len(payload)
        return await self._forward(request, route, ex, ctx, payload)

    def upstream_url(
        self, route: Route, tail: str, query: str, source: RepoSource | None = None
    ) -> URL:
        """Where a route goes: the vendor's base URL plus the path (and the raw query).

        A repository whose user had their own gateway for a vendor (recorded at
        `init`, `registry.set_upstream`) has that gateway as its base URL.
        """
        override = dict(source.upstreams).get(route.vendor) if source is not None else None
        if route.vendor == "anthropic":
            url = (override or self.settings.upstream_anthropic).rstrip("/") + "/" + tail
        else:
            # The OpenAI base URL includes /v1, as the SDK's base_url does.
            base = override or self.settings.upstream_openai
            url = base.rstrip("/") + "/" + tail.removeprefix("v1/")
        if query:
            url += "?" + query
        return URL(url, encoded=True)

    async def _forward(
        self,
        request: web.Request,
        route: Route,
        ex: Exchange,
        ctx: RepoContext,
        payload: bytes | None,
    ) -> web.StreamResponse:
        assert self.session is not None and ctx.mapping is not None
        mapping = ctx.mapping
        # Headers named in Connection are hop-by-hop too (RFC 9110 §7.6.1).
        listed = {n.strip().lower() for n in request.headers.get("Connection", "").split(",")}
        drop = _DROP_REQUEST | listed
        headers = {k: v for k, v in request.headers.items() if k.lower() not in drop}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        url = self.upstream_url(route, request.match_info["tail"], request.query_string, ctx.source)
        try:
            up_cm = self.session.request(
                request.method, url, data=payload, headers=headers, allow_redirects=False
            )
            up = await up_cm.__aenter__()
        except (TimeoutError, aiohttp.ClientError, OSError) as e:
            raise Refusal(
                502,
                f"pretense-dev could not reach {url.host}: {type(e).__name__} {e}".rstrip(),
            ) from None
        ex.decision = FORWARDED
        ex.upstream_status = up.status
        try:
            out_headers = {k: v for k, v in up.headers.items() if k.lower() not in _DROP_RESPONSE}
            if up.content_type == "text/event-stream":
                return await self._stream(request, route, ex, up, out_headers, mapping)
            body = await up.read()
            body = self._unmutate_body(route, up.status, up.content_type, body, mapping)
            ex.response_bytes = len(body)
            ex.status = up.status
            return web.Response(status=up.status, body=body, headers=out_headers)
        finally:
            await up_cm.__aexit__(None, None, None)

    @staticmethod
    def _unmutate_body(
        route: Route, status: int, content_type: str, body: bytes, m: IdentifierMap
    ) -> bytes:
        if route.api in ("models", "count_tokens") and status < 400:
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
            data = unmutate_error(data, m)
        elif route.api == "anthropic":
            data = unmutate_anthropic_message(data, m)
        elif route.api == "chat":
            data = unmutate_chat_completion(data, m)
        elif route.api == "responses":
            data = unmutate_response_object(data, m)
        return jsonx.dumps(data)

    async def _stream(
        self,
        request: web.Request,
        route: Route,
        ex: Exchange,
        up: aiohttp.ClientResponse,
        headers: dict[str, str],
        mapping: IdentifierMap,
    ) -> web.StreamResponse:
        resp = web.StreamResponse(status=up.status, headers=headers)
        await resp.prepare(request)
        ex.status = up.status
        api = "anthropic" if route.vendor == "anthropic" else route.api
        rw = rewriter_for(api, mapping)
        parser = SSEParser()
        sent = 0
        try:
            async for chunk in up.content.iter_any():
                events = parser.feed(chunk)
                if not events:
                    continue
                data = b"".join([rw.event(e) for e in events])
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
            body = error_body(
                route.vendor,
                502,
                f"pretense-dev: the upstream stream broke ({type(e).__name__})",
                "upstream_error",
            )
            tail = rw.end()
            if route.vendor == "anthropic":
                tail += b"event: error\ndata: " + jsonx.dumps(body) + b"\n\n"
            else:
                tail += b"data: " + jsonx.dumps(body) + b"\n\n"
            with contextlib.suppress(ConnectionResetError, RuntimeError):
                await resp.write(tail)
        except ConnectionResetError:
            # The client left: stop reading (closing the upstream stops the generation).
            ex.reason = "client went away mid-stream"
            ex.response_bytes = sent
            return resp
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
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
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
        state.write_state(st)
    log.info("listening on http://%s:%d (pid %d)", settings.host, port, os.getpid())
    # The daemon keeps every registered repo's index current (DESIGN: the watcher
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
        await runner.cleanup()


REGISTRY_POLL_SECONDS = 5.0


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
    p.add_argument("--foreground", action="store_true")
    a = p.parse_args(argv)
    if a.host not in ("127.0.0.1", "::1", "localhost"):
        print("pretense-dev proxy: refusing to listen on a non-loopback address", file=sys.stderr)
        return 2
    setup_logging(a.foreground)
    _use_uvloop()
    settings = Settings(a.host, a.port, a.upstream_anthropic, a.upstream_openai)
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
    raise SystemExit(main())
