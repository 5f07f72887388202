"""`ReadDeadline`: one timer bounds an upstream stream's silence, whatever the reader does.

Real parts: an aiohttp upstream on 127.0.0.1 that writes chunks on a schedule
(pauses, then silence), read through a real `aiohttp.ClientSession` as the
proxy reads its upstream.  Bounds are 0.3 s and the margins wide (a read must
not fail before its own wait reached the bound, and must fail well before the
test's 10 s), so a loaded machine changes no outcome.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from pretense_dev.proxy.deadline import ReadDeadline

BOUND = 0.3


async def with_upstream(
    pauses: list[float], body: Callable[[aiohttp.ClientResponse], Awaitable[None]]
) -> None:
    """Serve one answer: a chunk after each pause in `pauses`, then silence until the end."""
    done = asyncio.Event()

    async def handle(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        for i, pause in enumerate(pauses):
            await asyncio.sleep(pause)
            await resp.write(b"chunk %d\n" % i)
        await done.wait()
        return resp

    app = web.Application()
    app.router.add_get("/", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        # aiohttp's own sock_read is set as the proxy sets it: the deadline takes over.
        timeout = aiohttp.ClientTimeout(total=None, sock_read=BOUND)
        url = f"http://127.0.0.1:{port}/"
        async with aiohttp.ClientSession(timeout=timeout) as s, s.get(url) as up:
            await body(up)
    finally:
        done.set()
        await runner.cleanup()


def test_a_stream_longer_than_the_bound_whose_pauses_are_shorter_is_read_whole() -> None:
    got: list[bytes] = []

    async def body(up: aiohttp.ClientResponse) -> None:
        deadline = ReadDeadline(up, BOUND)
        try:
            while len(got) < 8:
                got.append(await deadline.read())
        finally:
            deadline.close()

    # 8 chunks 0.12 s apart: about 1 s in all, more than three bounds
    asyncio.run(with_upstream([0.12] * 8, body))
    assert b"".join(got) == b"".join(b"chunk %d\n" % i for i in range(8))


def test_silence_fails_the_waiting_read_once_its_own_wait_reaches_the_bound() -> None:
    waited: list[float] = []

    async def body(up: aiohttp.ClientResponse) -> None:
        deadline = ReadDeadline(up, BOUND)
        try:
            assert await deadline.read() == b"chunk 0\n"
            # The reader is busy elsewhere (a slow client) for three bounds: not a timeout.
            await asyncio.sleep(3 * BOUND)
            assert await deadline.read() == b"chunk 1\n"  # arrived while it was away
            t = time.monotonic()
            with pytest.raises(TimeoutError, match=r"no byte from the upstream for 0\.3 s"):
                await deadline.read()
            waited.append(time.monotonic() - t)
            with pytest.raises(TimeoutError):  # and the answer stays failed
                await deadline.read()
        finally:
            deadline.close()

    asyncio.run(with_upstream([0, 0.1], body))
    (w,) = waited
    assert BOUND * 0.9 <= w < 10  # from the start of that read's wait, not from the last byte


def test_close_stops_the_timer_and_aiohttps_is_off() -> None:
    async def body(up: aiohttp.ClientResponse) -> None:
        deadline = ReadDeadline(up, BOUND)
        assert await deadline.read() == b"chunk 0\n"
        deadline.close()
        # Neither this timer nor aiohttp's sock_read (armed by the last packet) is left:
        # three bounds of silence set no error on the answer.
        await asyncio.sleep(3 * BOUND)
        assert up.content.exception() is None

    asyncio.run(with_upstream([0], body))


def test_the_connections_next_answer_has_aiohttps_bound_again() -> None:
    """The deadline turns ``sock_read`` off for its own answer only, not for the pooled socket."""
    silent = asyncio.Event()
    go = asyncio.Event()

    async def stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"chunk 0\n")
        await go.wait()  # the answer is still open when the deadline takes over
        await resp.write_eof()
        return resp

    async def head_then_silence(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        await silent.wait()
        return resp

    async def run() -> None:
        app = web.Application()
        app.router.add_get("/stream", stream)
        app.router.add_get("/silent", head_then_silence)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        timeout = aiohttp.ClientTimeout(total=None, sock_read=BOUND)
        try:
            connector = aiohttp.TCPConnector(limit=1)  # one socket: the second answer reuses it
            async with aiohttp.ClientSession(timeout=timeout, connector=connector) as s:
                async with s.get(base + "/stream") as up:
                    assert up.connection is not None
                    first = up.connection.protocol
                    deadline = ReadDeadline(up, BOUND)
                    try:
                        assert await deadline.read() == b"chunk 0\n"
                        go.set()
                        assert await deadline.read() == b""
                    finally:
                        deadline.close()
                async with s.get(base + "/silent") as up:
                    assert up.connection is not None and up.connection.protocol is first
                    t = time.monotonic()
                    with pytest.raises(aiohttp.SocketTimeoutError):
                        await up.content.readany()  # aiohttp's own sock_read, no deadline
                    assert time.monotonic() - t < 10
        finally:
            go.set()
            silent.set()
            await runner.cleanup()

    asyncio.run(run())
