"""A minimal HTTP/1.1 client for our own proxy on loopback (hooks, `verify`, `doctor`).

`urllib.request` costs about 40 ms to import here — it pulls in `http.client`,
the whole `email` parser and `ssl` (`python -X importtime -c "import
urllib.request"`; bench/hooks.py) — which is half of a hook's 80 ms budget, for
two small JSON requests to a server on 127.0.0.1 that we wrote.  This speaks
just enough HTTP for that: one request per connection (`Connection: close`),
a `Content-Length` or chunked body, a size limit, a timeout on every socket
operation.  Not for anything that leaves the machine.
"""

from __future__ import annotations

import json
import socket
from typing import Any

MAX_BYTES = 1 << 20


def request(
    host: str,
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    timeout: float,
) -> tuple[int, bytes]:
    """(status, body) of one request.  Raises OSError on any connection or protocol problem."""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
        "Accept: application/json\r\n"
    )
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        # A bytes host: a str one is IDNA-encoded, which imports encodings.idna and
        # stringprep (about 2 ms) to spell "127.0.0.1".
        s.connect((host.encode("ascii"), port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(head.encode("latin-1") + b"\r\n" + (body or b""))
        chunks: list[bytes] = []
        size = 0
        while True:
            data = s.recv(65536)
            if not data:
                break
            size += len(data)
            if size > MAX_BYTES:
                raise OSError("the answer is too large")
            chunks.append(data)
    return _parse(b"".join(chunks))


def _parse(raw: bytes) -> tuple[int, bytes]:
    head, sep, rest = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split() if lines else []
    if not sep or len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise OSError("not an HTTP answer")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower()] = v.strip()
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        rest = _dechunk(rest)
    elif b"content-length" in headers:
        n = int(headers[b"content-length"])
        if len(rest) < n:
            raise OSError("the answer was cut short")
        rest = rest[:n]
    return int(parts[1]), rest


def _dechunk(data: bytes) -> bytes:
    out: list[bytes] = []
    pos = 0
    while True:
        end = data.find(b"\r\n", pos)
        if end < 0:
            raise OSError("bad chunked encoding")
        size = int(data[pos:end].split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(data[end + 2 : end + 2 + size])
        pos = end + 2 + size + 2


def get_json(host: str, port: int, path: str, *, timeout: float) -> tuple[int, Any]:
    """(status, parsed JSON) of a GET; OSError, or ValueError for a body that is not JSON."""
    status, body = request(host, port, "GET", path, timeout=timeout)
    return status, json.loads(body)


def post_json(host: str, port: int, path: str, data: Any, *, timeout: float) -> tuple[int, Any]:
    """(status, parsed JSON) of a POST of `data` as JSON."""
    status, body = request(host, port, "POST", path, json.dumps(data).encode(), timeout=timeout)
    return status, json.loads(body)
