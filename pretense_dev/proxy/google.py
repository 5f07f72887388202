"""Gemini (Gemini API and Vertex AI) and Claude on Vertex AI.

Gemini request (``generateContent``, ``streamGenerateContent``, ``countTokens``):
``contents[].parts[]`` and ``systemInstruction.parts[]``, each part one of
``text`` (also ``thought`` summaries), ``functionCall {name, args}``,
``functionResponse {name, response}``, ``executableCode {code}``,
``codeExecutionResult {output}``, ``inlineData`` / ``fileData`` (binary or a
URI: untouched).  ``countTokens`` may wrap a whole request in
``generateContentRequest``.  Tool declarations are not mutated, as for the
other APIs.  Answers carry the same parts under ``candidates[].content``.

Streams: with ``?alt=sse`` each SSE event is a whole ``GenerateContentResponse``
whose text parts continue the previous ones; without it the answer is one JSON
array of those responses, streamed too: `jsonarray` cuts it into elements as
they complete and the same rewriter un-mutates them as one stream (so a name
cut across two elements still comes back whole).

Claude on Vertex (``…/publishers/anthropic/models/{model}:rawPredict`` and
``:streamRawPredict``) is the Anthropic Messages API with the model in the path.
The Google access token (``Authorization: Bearer``) or API key passes through.
"""

from __future__ import annotations

import re
from typing import Any

from pretense_dev.mutation import IdentifierMap, StreamUnmutator
from pretense_dev.proxy import jsonx
from pretense_dev.proxy.sse import Encoder, Event
from pretense_dev.proxy.sse import encode as sse_encode
from pretense_dev.proxy.streams import Rewriter
from pretense_dev.proxy.transform import Outgoing, Unprotectable, unmutate_all

GEMINI_UPSTREAM = "https://generativelanguage.googleapis.com"
VERTEX_UPSTREAM = "https://aiplatform.googleapis.com"

_VERTEX_MODEL = (
    r"(?P<version>v1|v1beta1)/projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)"
    r"/publishers/{publisher}/models/(?P<model>[^/:]+):(?P<op>{ops})"
)
GEMINI_OPS = "generateContent|streamGenerateContent|countTokens"
GEMINI_PATH = r"(?P<version>v1|v1beta|v1alpha)/models/(?P<model>[^/:]+):(?P<op>" + GEMINI_OPS + ")"
VERTEX_GEMINI_PATH = _VERTEX_MODEL.format(publisher="google", ops=GEMINI_OPS)
VERTEX_CLAUDE_PATH = _VERTEX_MODEL.format(publisher="anthropic", ops="rawPredict|streamRawPredict")


def path_model(body: Any, params: Any) -> str | None:
    """The model named in the path."""
    model = params.get("model")
    return model if isinstance(model, str) else None


def is_stream(params: Any) -> bool:
    """Whether the request asked for a stream (then a JSON answer is a streamed array)."""
    return bool(params.get("op") == "streamGenerateContent")


def vertex_route(outbound: Any) -> None:
    """Send a Vertex request to the region in its path (when the upstream is Google's default)."""
    if outbound.url.host != "aiplatform.googleapis.com":
        return
    m = re.search(r"/locations/([a-z0-9-]+)/", outbound.url.raw_path)
    region = m.group(1) if m else "global"
    if region == "global":
        return
    if region in ("us", "eu"):  # multi-region endpoints
        host = f"aiplatform.{region}.rep.googleapis.com"
    else:
        host = f"{region}-aiplatform.googleapis.com"
    outbound.url = outbound.url.with_host(host)


def _need(cond: bool, what: str) -> None:
    if not cond:
        raise Unprotectable(what)


def _parts(parts: Any, where: str, out: Outgoing) -> None:
    _need(isinstance(parts, list), f"{where} must be a list")
    for k, p in enumerate(parts):
        w = f"{where}[{k}]"
        _need(isinstance(p, dict), f"{w} must be an object")
        sig = p.get("thoughtSignature")
        if isinstance(sig, str):  # opaque, checked by the vendor: scanned, never changed
            out.scan_only(sig, f"{w}.thoughtSignature")
            out.skip(sig)
        if "text" in p:
            _need(isinstance(p["text"], str), f"{w}.text must be a string")
            p["text"] = out.text(p["text"], w)
        elif "functionCall" in p:
            fc = p["functionCall"]
            _need(isinstance(fc, dict), f"{w}.functionCall must be an object")
            if "args" in fc:
                fc["args"] = out.value(fc["args"], f"{w} (functionCall {fc.get('name')})")
        elif "functionResponse" in p:
            fr = p["functionResponse"]
            _need(isinstance(fr, dict), f"{w}.functionResponse must be an object")
            if "response" in fr:
                fr["response"] = out.value(fr["response"], f"{w} (functionResponse)")
            if "parts" in fr:
                _parts(fr["parts"], f"{w}.functionResponse.parts", out)
        elif "executableCode" in p:
            ec = p["executableCode"]
            if isinstance(ec, dict) and isinstance(ec.get("code"), str):
                ec["code"] = out.text(ec["code"], w)
        elif "codeExecutionResult" in p:
            cr = p["codeExecutionResult"]
            if isinstance(cr, dict) and isinstance(cr.get("output"), str):
                cr["output"] = out.text(cr["output"], w)
        elif "inlineData" in p or "fileData" in p:
            out.skip(p)  # binary or a URI: sent as is; the sweep scans its strings
        else:
            mutated = out.generic(p, w)
            p.clear()
            p.update(mutated)


def _content(c: Any, where: str, out: Outgoing) -> None:
    if isinstance(c, str):  # the SDKs accept a bare string; the REST API does not, but be safe
        raise Unprotectable(f"{where} must be an object with parts")
    _need(isinstance(c, dict), f"{where} must be an object")
    if "parts" in c:
        _parts(c["parts"], f"{where}.parts", out)


def mutate_gemini(body: dict[str, Any], out: Outgoing) -> None:
    """Mutate a generateContent / countTokens request in place."""
    inner = body.get("generateContentRequest")
    if inner is not None:
        _need(isinstance(inner, dict), "`generateContentRequest` must be an object")
        mutate_gemini(inner, out)
    for key in ("systemInstruction", "system_instruction"):
        if body.get(key) is not None:
            _content(body[key], key, out)
    contents = body.get("contents")
    if contents is None:
        _need(inner is not None or "cachedContent" in body, "`contents` is missing")
        return
    _need(isinstance(contents, list), "`contents` must be a list")
    for i, c in enumerate(contents):
        _content(c, f"contents[{i}]", out)


def _unmutate_parts(parts: Any, m: IdentifierMap) -> None:
    for p in parts if isinstance(parts, list) else ():
        if not isinstance(p, dict):
            continue
        if isinstance(p.get("text"), str):
            p["text"] = m.unmutate(p["text"])
        elif isinstance(p.get("functionCall"), dict) and "args" in p["functionCall"]:
            p["functionCall"]["args"] = unmutate_all(p["functionCall"]["args"], m.unmutate)
        elif isinstance(p.get("executableCode"), dict):
            ec = p["executableCode"]
            if isinstance(ec.get("code"), str):
                ec["code"] = m.unmutate(ec["code"])
        elif isinstance(p.get("codeExecutionResult"), dict):
            cr = p["codeExecutionResult"]
            if isinstance(cr.get("output"), str):
                cr["output"] = m.unmutate(cr["output"])


def unmutate_gemini(body: Any, m: IdentifierMap) -> Any:
    """A whole answer: one response, or a streamed JSON array of them (read as one stream)."""
    if isinstance(body, list):
        rw = GeminiRewriter(m)
        out = [rw.chunk(r) for r in body]
        tail = rw.tail()
        return [r for r in out if r is not None] + ([tail] if tail is not None else [])
    for cand in body.get("candidates") or () if isinstance(body, dict) else ():
        if isinstance(cand, dict) and isinstance(cand.get("content"), dict):
            _unmutate_parts(cand["content"].get("parts"), m)
    return body


class GeminiRewriter(Rewriter):
    """``alt=sse`` streams: each event a whole response whose text continues the last one.

    Text is un-mutated per candidate through one `StreamUnmutator`; what it
    holds back goes out in the candidate's next text part, or — before a
    function call, at ``finishReason`` or at the end — as a text part of its own.
    """

    def __init__(self, mapping: IdentifierMap, encode: Encoder = sse_encode) -> None:
        super().__init__(mapping, encode)
        self.ums: dict[Any, StreamUnmutator[str]] = {}
        self.template: dict[str, Any] = {}

    def event(self, ev: Event) -> bytes:
        """See `Rewriter.event`."""
        try:
            data = jsonx.loads(ev.data_bytes)
        except jsonx.JSONError:
            return ev.raw
        if not isinstance(data, dict):
            return ev.raw
        if isinstance(data.get("error"), dict):
            err = data["error"]
            if isinstance(err.get("message"), str):
                err["message"] = self.m.unmutate(err["message"])
            return self.encode(ev.name, jsonx.dumps(data))
        out = self.chunk(data)
        return b"" if out is None else self.encode(ev.name, jsonx.dumps(out))

    def chunk(self, data: Any) -> Any:
        """One response un-mutated (None: everything in it is held back for now)."""
        if not isinstance(data, dict) or not isinstance(data.get("candidates"), list):
            return data
        if not self.template:
            self.template = {k: data[k] for k in ("modelVersion", "responseId") if k in data}
        empty = True
        for cand in data["candidates"]:
            if not isinstance(cand, dict):
                continue
            ci = cand.get("index", 0)
            content = cand.get("content")
            parts = content.get("parts") if isinstance(content, dict) else None
            if isinstance(parts, list):
                new: list[Any] = []
                for p in parts:
                    if (
                        isinstance(p, dict)
                        and isinstance(p.get("text"), str)
                        and not p.get("thoughtSignature")
                    ):
                        key = (ci, bool(p.get("thought")))
                        um = self.ums.get(key)
                        if um is None:
                            um = self.ums[key] = self.m.stream_unmutator()
                        p["text"] = um.feed(p["text"])
                        if p["text"]:
                            new.append(p)
                        continue
                    new.extend(self._flush(ci))
                    _unmutate_parts([p], self.m)
                    new.append(p)
                if cand.get("finishReason"):
                    new.extend(self._flush(ci))
                content["parts"] = new  # type: ignore[index]
                empty = empty and not new and not cand.get("finishReason")
            else:
                if cand.get("finishReason"):
                    flushed = self._flush(ci)
                    if flushed:
                        cand["content"] = {"role": "model", "parts": flushed}
                empty = False
        if empty and set(data) <= {"candidates", "modelVersion", "responseId"}:
            return None
        return data

    def _flush(self, ci: Any) -> list[dict[str, Any]]:
        parts = []
        for key in [k for k in self.ums if k[0] == ci]:
            rest = self.ums.pop(key).flush()
            if rest:
                parts.append({"text": rest, **({"thought": True} if key[1] else {})})
        return parts

    def tail(self) -> dict[str, Any] | None:
        """One more response with what is still held back, or None."""
        cands = []
        for ci in sorted({k[0] for k in self.ums}, key=str):
            parts = self._flush(ci)
            if parts:
                cands.append({"index": ci, "content": {"role": "model", "parts": parts}})
        return {"candidates": cands, **self.template} if cands else None

    def end(self) -> bytes:
        """See `Rewriter.end`."""
        tail = self.tail()
        return b"" if tail is None else self.encode(None, jsonx.dumps(tail))


def google_error(status: int, message: str, code: str) -> dict[str, Any]:
    """Google's error body (google.rpc.Status over HTTP)."""
    statuses = {
        400: "INVALID_ARGUMENT",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        405: "INVALID_ARGUMENT",
        413: "INVALID_ARGUMENT",
        429: "RESOURCE_EXHAUSTED",
        503: "UNAVAILABLE",
    }
    return {
        "error": {
            "code": status,
            "message": message,
            "status": statuses.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION"),
        }
    }
