"""`pretense-dev hook <tool> <event>` as a thin client of the proxy daemon; fail closed.

A tool starts this process before every prompt and every agent file read, so
its start-up is what the user waits for.  The decision itself (`run.answer`:
the gate, the answer in the tool's format, the audit event) runs in the proxy
daemon, which keeps the detector, the policy and the map warm; this process
sends the hook's stdin and context over loopback (`wire`) and prints the
daemon's signed answer.  It imports almost nothing: the standard library's
``os``, ``sys``, ``time``, ``_socket`` and the builtin SHA-256 (bench/hooks.py,
and ``python -X importtime``).

When the daemon is **down** (no gate file, its pid gone, the port refusing
connections) the call is decided in this process exactly as before the daemon
could answer (`run.main`): a routed tool's prompt is refused there because
`verify` finds no proxy, a file read is still checked, and Cursor, which is not
routed, works without a proxy at all.  When the daemon is **slow** (no answer
within `wire.DEADLINE`) or **not ours** (an answer without a valid proof, or
our key refused), the call is refused here with one line naming the fault and
the fix: something is wrong on the proxy's port, and nothing it says is
trusted.
"""

from __future__ import annotations

import os
import sys
import time

from pretense_dev.integrations.toolhook import wire

RESTART = "run `pretense-dev proxy stop && pretense-dev proxy start`"


class Down(Exception):
    """No daemon to ask: decide in this process."""


class Fault(Exception):
    """A daemon that cannot be trusted or did not answer in time: refuse with this line."""


def main(argv: list[str], stdin: bytes | None = None) -> int:
    """Run one hook call; return the exit code the calling tool expects."""
    raw = sys.stdin.buffer.read() if stdin is None else stdin
    try:
        code, out, err = ask(argv, raw)
    except Down:
        from pretense_dev.integrations.toolhook.run import main as in_process

        return in_process(argv, raw)
    except Fault as f:
        from pretense_dev.integrations.toolhook.run import answer

        code, out, err = answer(argv, raw, dict(os.environ), fault=str(f))
    return wire.emit(code, out, err)


def _read_gate_file() -> tuple[int, str, int, bytes]:
    """(pid, host, port, key) of the running daemon; Down or Fault otherwise."""
    path = wire.gate_file()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        raise Down from None
    try:
        st = os.fstat(fd)
        text = os.read(fd, 4096).decode("ascii", "replace")
    finally:
        os.close(fd)
    if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o077):
        raise Fault(
            f"the proxy's gate file {path} is open to other users, so its answers cannot be "
            f"trusted: remove it, then {RESTART}"
        )
    try:
        pid, host, port, key = wire.decode_file(text)
    except ValueError:
        raise Down from None
    if os.name == "posix":  # elsewhere signal 0 is not a probe; a refused connection tells
        try:
            os.kill(pid, 0)
        except OSError:  # gone, or the pid now belongs to another user: our daemon is gone
            raise Down from None
    return pid, host, port, key


def ask(argv: list[str], raw: bytes) -> tuple[int, str, str]:
    """The daemon's (exit code, stdout, stderr) for this call; Down or Fault otherwise."""
    pid, host, port, key = _read_gate_file()
    nonce = os.urandom(16)
    env = "\0".join(f"{k}={os.environ[k]}" for k in wire.ENV_NAMES if k in os.environ)
    try:
        cwd = os.fsencode(os.getcwd())
    except OSError:  # the working directory was removed: as before, in this process
        raise Down from None
    body = (
        wire.pack([wire.VERSION, nonce, cwd, os.fsencode("\0".join(argv)), os.fsencode(env)]) + raw
    )
    req_mac = wire.request_mac(key, body)
    head = (
        f"POST {wire.PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n"
        f"{wire.MAC_HEADER}: {req_mac.hex()}\r\n\r\n"
    ).encode("latin-1")
    where = f"the pretense-dev proxy (pid {pid}, port {port})"
    reply = _exchange(host, port, head + body, where)
    status, headers, answer = _parse(reply, where, port)
    if status == 403:
        raise Fault(f"{where} refused this user's gate key: {RESTART}")
    if status != 200:
        raise Fault(
            f"{where} could not decide (HTTP {status}): see `pretense-dev proxy logs`, or {RESTART}"
        )
    proof = headers.get(wire.PROOF_HEADER.lower().encode(), b"")
    expected = wire.answer_proof(key, req_mac, answer)
    if status != 200 or not wire.same(proof, expected.hex().encode()):
        raise Fault(_impostor(port))
    try:
        (code, out, err), _ = wire.unpack(answer, 3)
        return int(code), out.decode("utf-8"), err.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise Fault(_impostor(port)) from None


def _impostor(port: int) -> str:
    return (
        f"what answers on port {port} is not this user's pretense-dev proxy (its answer is not "
        f"signed with the proxy's key): stop what listens on port {port}, then "
        "run `pretense-dev proxy start`"
    )


def _exchange(host: str, port: int, request: bytes, where: str) -> bytes:
    """Send `request`, read until the daemon closes; the whole exchange within the deadline."""
    # `_socket`, not `socket`: the module wraps it in enums that cost more to import than
    # this whole exchange takes (`python -X importtime -c "import socket"`).
    import _socket

    deadline = time.monotonic() + wire.DEADLINE
    family = _socket.AF_INET6 if ":" in host else _socket.AF_INET
    s = _socket.socket(family, _socket.SOCK_STREAM)
    chunks: list[bytes] = []
    size = 0
    try:
        s.settimeout(wire.DEADLINE)
        try:
            s.connect((host.encode("ascii"), port))
        except ConnectionRefusedError:
            raise Down from None
        s.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        s.sendall(request)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            s.settimeout(left)
            data = s.recv(65536)
            if not data:
                break
            size += len(data)
            if size > wire.MAX_ANSWER:
                raise Fault(_impostor(port))
            chunks.append(data)
    except TimeoutError:
        raise Fault(
            f"{where} did not answer the gate within {wire.DEADLINE:g} s: {RESTART}"
        ) from None
    except OSError as e:
        raise Fault(
            f"{where} broke off the gate's exchange ({e.strerror or e}): {RESTART}"
        ) from None
    finally:
        s.close()
    return b"".join(chunks)


def _parse(raw: bytes, where: str, port: int) -> tuple[int, dict[bytes, bytes], bytes]:
    """(status, headers, body) of an HTTP/1.1 answer with a Content-Length."""
    head, sep, rest = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if not sep or len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise Fault(_impostor(port))
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower()] = v.strip()
    length = headers.get(b"content-length", b"")
    if not length.isdigit() or len(rest) < int(length):
        raise Fault(f"{where} cut its gate answer short: {RESTART}")
    return int(parts[1]), headers, rest[: int(length)]
