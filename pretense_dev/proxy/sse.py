r"""Server-sent events: cut a byte stream into events without touching their bytes.

TCP reads split events anywhere, even inside a UTF-8 character, so bytes are
buffered up to the blank line that ends an event and only then decoded.  Each
event keeps its raw bytes: an event the proxy does not need to change goes out
exactly as it came in (thinking deltas and signatures stay byte-identical).
Line ends may be ``\\n``, ``\\r\\n`` or ``\\r``, ``data:`` may span several lines
(joined with ``\\n``), and ``:`` lines are comments — as the vendors' SDK
decoders read them (https://html.spec.whatwg.org/multipage/server-sent-events.html).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

# Writes one event (name or None, data) back in a stream's framing.
Encoder = Callable[[str | None, str | bytes], bytes]


class Decoder(Protocol):
    """Cuts a byte stream into events; `finish` returns what the end of stream completes."""

    def feed(self, chunk: bytes) -> list[Event]: ...  # noqa: D102

    def finish(self) -> list[Event]: ...  # noqa: D102


class Event:
    """One event: its raw bytes (terminator included), its name and its data."""

    __slots__ = ("data_bytes", "name", "raw")

    def __init__(self, raw: bytes, name: str | None, data_bytes: bytes) -> None:
        self.raw = raw
        self.name = name
        self.data_bytes = data_bytes  # the joined data lines, undecoded (orjson reads bytes)

    @property
    def data(self) -> str:
        """The data as text."""
        return self.data_bytes.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"Event(name={self.name!r}, data={self.data_bytes[:60]!r})"


def parse_event(raw: bytes) -> Event:
    """One event's raw bytes (as `SSEParser.feed_raw` cuts them) read into an `Event`."""
    if b"\r" not in raw:
        # The shapes vendors send: "event: X\ndata: Y\n\n" and "data: Y\n\n".
        last = len(raw) - 2
        if raw.startswith(b"event: "):
            nl = raw.find(b"\n")
            if raw.startswith(b"data: ", nl + 1):
                end = raw.find(b"\n", nl + 7)
                if end == last:
                    return Event(raw, raw[7:nl].decode("utf-8", "replace"), raw[nl + 7 : end])
        elif raw.startswith(b"data: "):
            end = raw.find(b"\n", 6)
            if end == last:
                return Event(raw, None, raw[6:end])
    return _parse_general(raw)


def _parse_general(raw: bytes) -> Event:
    name: str | None = None
    data: list[bytes] = []
    if b"\r" in raw:
        raw_lines = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    else:
        raw_lines = raw.split(b"\n")
    for line in raw_lines:
        if line.startswith(b"data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(b" ") else value)
        elif line.startswith(b"event:"):
            value = line[6:]
            name = (value[1:] if value.startswith(b" ") else value).decode("utf-8", "replace")
        # ":" comments, id:, retry: and unknown fields are kept in `raw` only
    return Event(raw, name, data[0] if len(data) == 1 else b"\n".join(data))


class SSEParser:
    """Feed it chunks; it returns each event as soon as its blank line has arrived."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, chunk: bytes) -> list[Event]:
        """Complete events in `chunk` (and what was buffered before it)."""
        return [parse_event(raw) for raw in self.feed_raw(chunk)]

    def feed_raw(self, chunk: bytes) -> list[bytes]:
        """`feed`, but each event as its raw bytes (terminator included), not parsed."""
        # One whole event and nothing buffered: the usual read of a paced stream.
        n = len(chunk)
        if not self._buf and n > 2 and chunk.find(b"\n\n") == n - 2 and b"\r" not in chunk:
            return [chunk]
        buf = self._buf + chunk if self._buf else chunk
        return self._scan(buf, eof=False)

    def _scan(self, buf: bytes, *, eof: bool) -> list[bytes]:
        events: list[bytes] = []
        start = 0
        if b"\r" not in buf:
            # The common case: "\n" line ends only.
            while True:
                end = buf.find(b"\n\n", start)
                if end < 0:
                    break
                if end == start:  # stray blank lines between events
                    start = end + 1
                    continue
                events.append(buf[start : end + 2])
                start = end + 2
            self._buf = buf[start:]
            return events
        i = start
        n = len(buf)
        line_start = start
        while i < n:
            c = buf[i]
            if c not in (10, 13):
                i += 1
                continue
            if c == 13:
                if i + 1 >= n:
                    if not eof:
                        break  # a "\r" at the end: it may be the first half of "\r\n"
                    j = i + 1
                else:
                    j = i + 2 if buf[i + 1] == 10 else i + 1
            else:
                j = i + 1
            if i == line_start:  # an empty line ends the event
                if line_start > start:
                    events.append(buf[start:j])
                start = j
            line_start = j
            i = j
        self._buf = buf[start:]
        return events

    def finish(self) -> list[Event]:
        """End of stream: an unterminated last event, completed with its blank line."""
        events = []
        if b"\r" in self._buf:
            events = [parse_event(r) for r in self._scan(self._buf, eof=True)]
        rest, self._buf = self._buf, b""
        if not rest.strip(b"\r\n"):
            return events
        if rest.endswith(b"\r") or not rest.endswith(b"\n"):
            rest += b"\n"
        return [*events, parse_event(rest + b"\n")]


def encode(name: str | None, data: str | bytes) -> bytes:
    """One event as bytes, blank line included."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if name is None:
        return b"data: " + payload + b"\n\n"
    return b"event: " + name.encode("utf-8") + b"\ndata: " + payload + b"\n\n"
