"""One bound on an upstream stream's silence, kept by one timer for all its reads.

A streamed answer is read once per event (a fast model sends 50 a second), and
every read must give up when the upstream has said nothing for the read
timeout.  `asyncio.timeout` around each read arms a timer and cancels it again
(about 6 µs a read with uvloop), and aiohttp's own ``sock_read`` re-arms its
timer on every packet (about 2 µs): under 100 concurrent streams that was about
half of the CPU the proxy spent per stream beyond a plain aiohttp pass-through
(bench/proxy_load.py prints both).  `ReadDeadline` arms one timer per answer
and moves it only when it fires: a read only notes when its wait began, and the
timer, when it comes due, either finds that wait older than the bound (then the
read fails with `TimeoutError`, in the stream's own error event) or is set again
for the current wait's bound.  So the bound is exact, counts only time spent
waiting for the upstream (not time spent writing to a slow client), and costs
a clock read per read.

The timeout is ours, not aiohttp's: with aiohttp's C parser an invalid
chunk-size line mid-body leaves a read waiting forever and ``sock_read`` never
fires (aiohttp 3.14), so a broken upstream would hang the client.
"""

from __future__ import annotations

import asyncio

import aiohttp


class ReadDeadline:
    """The reads of one upstream answer, each failing after `seconds` without a byte."""

    __slots__ = ("_content", "_handle", "_loop", "_seconds", "_since")

    def __init__(self, up: aiohttp.ClientResponse, seconds: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._content = up.content
        self._seconds = seconds
        self._since: float | None = None  # when the current read began waiting; None between
        self._handle: asyncio.TimerHandle | None = None
        # From here this timer is the bound: aiohttp's per-packet one (``sock_read``) is
        # turned off for the rest of this answer and its pending timer cancelled
        # (`start_timeout` re-arms it with no timeout: none).  The connection's next
        # request sets its own again.
        conn = up.connection
        protocol = conn.protocol if conn is not None else None
        if protocol is not None:
            protocol.read_timeout = None
            protocol.start_timeout()

    async def read(self) -> bytes:
        """The next bytes of the answer (b"" at its end); `TimeoutError` after the bound."""
        since = self._since = self._loop.time()
        if self._handle is None:
            self._handle = self._loop.call_at(since + self._seconds, self._due)
        try:
            return await self._content.readany()
        finally:
            self._since = None

    def _due(self) -> None:
        self._handle = None
        since = self._since
        if since is None:
            return  # not waiting now: the next read sets the timer again
        bound = since + self._seconds
        if self._loop.time() >= bound:
            self._content.set_exception(
                TimeoutError(f"no byte from the upstream for {self._seconds:g} s")
            )
        else:  # a later read is waiting: its own bound
            self._handle = self._loop.call_at(bound, self._due)

    def close(self) -> None:
        """Stop the timer (the answer ended, broke, or its client left)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
