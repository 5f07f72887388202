"""A streamed JSON array, element by element (Gemini's ``streamGenerateContent``, no ``alt=sse``).

Without ``alt=sse`` Gemini streams one JSON array whose elements are whole
``GenerateContentResponse`` objects, written as the model produces them
(``[{…}`` CRLF ``,{…}`` CRLF ``]``).  Reading it whole would hold the answer back until
the model is done, so `ArraySplitter` cuts the bytes into elements as they
complete — a small scanner that only tracks string, escape and nesting state,
never parsing — and `ArrayWriter` hands each element to the same rewriter the
``alt=sse`` stream uses, writing what it returns back as one valid array.

An answer that turns out not to be an array (an error object with a 200, say)
is un-mutated whole at the end, as JSON text; bytes left over by a stream cut
short are un-mutated as text and passed on, so the client sees the same
truncation it would have seen without the proxy.
"""

from __future__ import annotations

import re

from pretense_dev.proxy.sse import Event
from pretense_dev.proxy.streams import Rewriter

CONTENT_TYPE = "application/json"
_SPACE = b" \t\r\n"
_IN_STRING = re.compile(rb'["\\]')
_STRUCTURE = re.compile(rb'["\[\]{},]')
WHOLE = "#whole"  # not an array: the whole answer, at the end
REST = "#rest"  # a stream cut short: what was left


class ArraySplitter:
    """Bytes of a JSON array in, one `Event` per complete element out (`Decoder`)."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.pos = 0  # where scanning resumes in `buf`
        self.start = -1  # where the current element starts in `buf` (-1: between elements)
        self.depth = 0  # 1 inside the outer array
        self.in_string = False
        self.state = "before"  # before the outer "[", "in" it, "after" its "]", or "whole"

    def feed(self, chunk: bytes) -> list[Event]:
        """The elements `chunk` completes."""
        self.buf += chunk
        out: list[Event] = []
        buf = self.buf
        i = self.pos
        n = len(buf)
        if self.state == "before":
            while i < n and buf[i] in _SPACE:
                i += 1
            if i < n:
                if buf[i] != ord("["):
                    self.state = "whole"
                else:
                    self.state, self.depth = "in", 1
                    i += 1
        while self.state == "in" and i < n:
            if self.in_string:
                m = _IN_STRING.search(buf, i)
                if m is None:
                    i = n
                    break
                i = m.start()
                if buf[i] == ord("\\"):
                    i += 2  # the escaped byte (maybe in the next chunk: `pos` may pass `n`)
                    continue
                self.in_string = False
                i += 1
                continue
            if self.depth == 1 and self.start < 0:
                while i < n and (buf[i] in _SPACE or buf[i] == ord(",")):
                    i += 1
                if i >= n:
                    break
                if buf[i] == ord("]"):
                    self.state = "after"
                    i += 1
                    break
                self.start = i
            m = _STRUCTURE.search(buf, i)
            if m is None:
                i = n
                break
            i = m.start()
            c = buf[i]
            if c == ord('"'):
                self.in_string = True
            elif c in b"[{":
                self.depth += 1
            elif c in b"]}":
                self.depth -= 1
                if self.depth == 1:  # an object or array element closed
                    out.append(_element(bytes(buf[self.start : i + 1])))
                    self.start = -1
                elif self.depth == 0:  # the outer array closed after a bare value
                    out.append(_element(bytes(buf[self.start : i]).rstrip(_SPACE)))
                    self.start, self.state = -1, "after"
            elif c == ord(",") and self.depth == 1:  # after a bare value (number, string…)
                out.append(_element(bytes(buf[self.start : i]).rstrip(_SPACE)))
                self.start = -1
            i += 1
        if self.state in ("in", "after"):
            cut = self.start if self.start >= 0 else min(i, n)
            del buf[:cut]
            if self.start >= 0:
                self.start = 0
            i -= cut
        self.pos = i
        return out

    def finish(self) -> list[Event]:
        """At the end of the stream: the whole answer if it was not an array, or what is left."""
        if self.state == "whole":
            raw = bytes(self.buf)
            return [Event(raw, WHOLE, raw)]
        rest = bytes(self.buf[self.start :]) if self.start >= 0 else b""
        if self.state == "in" and rest.strip(_SPACE):
            return [Event(rest, REST, rest)]
        return []


def _element(raw: bytes) -> Event:
    return Event(raw, None, raw)


def raw_encode(name: str | None, data: str | bytes) -> bytes:
    """An element as itself (the writer adds the array's brackets and commas)."""
    return data.encode() if isinstance(data, str) else data


class ArrayWriter(Rewriter):
    """Writes an element rewriter's answers as one JSON array, opened and closed once.

    Elements the rewriter holds back entirely (a name cut at the end of one
    element) produce nothing, so commas are written here, before each element
    that does go out, never copied from the upstream.
    """

    def __init__(self, inner: Rewriter) -> None:
        super().__init__(inner.m, raw_encode)
        self.inner = inner
        self.count = 0
        self.whole = False
        self.cut = False

    def _put(self, data: bytes) -> bytes:
        if not data:
            return b""
        self.count += 1
        return (b"[" if self.count == 1 else b",\r\n") + data

    def event(self, ev: Event) -> bytes:
        """See `Rewriter.event`."""
        if ev.name == WHOLE:
            self.whole = True
            return self.m.unmutate(ev.raw, json=True)
        if ev.name == REST:
            self.cut = True
            return self._put(self.inner.end()) + self._put(self.m.unmutate(ev.raw, json=True))
        return self._put(self.inner.event(ev))

    def end(self) -> bytes:
        """What the rewriter still holds, then the array's close."""
        if self.whole or self.cut:
            return b""
        tail = self._put(self.inner.end())
        return tail + (b"]" if self.count else b"[]")

    def error(self, body: bytes) -> bytes:
        """The stream broke: what is held, the error as a last element, and the close."""
        tail = self._put(self.inner.end())
        return tail + self._put(body) + b"]"
