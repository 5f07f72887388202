"""How a tool-hook process asks the proxy daemon for its decision, and knows the answer is real.

The daemon holds the detector, the policy and the map warm, so the hook
process only carries the call over and the answer back.  What it must still
do itself is refuse to trust anything else:

* the running daemon writes ``<user state dir>/gate`` (0600, owned by the
  user): its pid, address and a fresh 32-byte key for this run;
* a request carries a random nonce and an HMAC-SHA256 of its whole body under
  that key (so the daemon reads files and answers only for this user), and the
  answer carries an HMAC of the request's MAC and the answer's body (so a
  process listening on the port without the key cannot say "allow", and an old
  answer cannot be replayed).

Standard library only, and little of it: this runs on every prompt and every
file read, and `json` (which pulls in `re`) or the `socket` module (which pulls
in `enum`) would cost more than the rest of the call (`python -X importtime`;
bench/hooks.py).  Fields travel as netstrings (``<length>:<bytes>,``).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # `typing` itself costs a few ms to import: not on this path
if TYPE_CHECKING:
    from typing import Any

PATH = "/pretense/gate"
FILE_NAME = "gate"
MAC_HEADER = "X-Pretense-Gate-Mac"
PROOF_HEADER = "X-Pretense-Gate-Proof"
VERSION = b"1"
# Seconds for the whole exchange.  The daemon answers in milliseconds; one slower
# than this is as good as down (the same bound `verify` gives each loopback request).
DEADLINE = 2.0
# What the in-process gate reads from the hook's environment (dialects.read_input).
ENV_NAMES = ("CLAUDE_CODE_SESSION_ID", "CLAUDE_PROJECT_DIR", "CURSOR_PROJECT_DIR")
MAX_ANSWER = 1 << 20


def state_dir() -> str:
    """The user state dir, as `paths.user_state_dir` gives it, without importing platformdirs.

    On Linux the XDG rule is applied directly (platformdirs' own rule: a blank
    ``XDG_STATE_HOME`` means unset); elsewhere platformdirs answers.
    """
    platform: str = sys.platform  # a variable: the other branch is real on other systems
    if platform.startswith("linux"):
        base = os.environ.get("XDG_STATE_HOME", "")
        if not base.strip():
            base = os.path.expanduser("~/.local/state")
        return os.path.join(base, "pretense-dev")
    from pretense_dev.paths import user_state_dir

    return str(user_state_dir())


def gate_file() -> str:
    """`<user state dir>/gate`."""
    return os.path.join(state_dir(), FILE_NAME)


def _sha256() -> Any:
    """The SHA-256 constructor, from the smallest module that has it.

    ``import hmac`` loads OpenSSL's ``_hashlib`` (about 3 ms here, a tenth of
    the hook's whole budget above the interpreter's start); the interpreter's
    own SHA-256 module loads in about 0.25 ms (``python -X importtime``).
    """
    names = ("_sha2", "_sha256") if sys.version_info >= (3, 12) else ("_sha256", "_sha2")
    for name in names:
        try:
            return __import__(name).sha256
        except ImportError:
            continue
    from hashlib import sha256  # pragma: no cover - a build without the builtin modules

    return sha256


def mac(key: bytes, label: bytes, *parts: bytes) -> bytes:
    """HMAC-SHA256 (RFC 2104) of `label` and `parts` under `key`.

    The label keeps a request's MAC from ever being taken for an answer's.  The
    construction is spelled out rather than `hmac.new` only for the import cost
    above; tests/integrations/test_gate_wire.py checks it against `hmac`.
    """
    sha256 = _sha256()
    if len(key) > 64:
        key = sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = sha256(bytes(b ^ 0x36 for b in key))
    inner.update(label)
    for p in parts:
        inner.update(p)
    outer = sha256(bytes(b ^ 0x5C for b in key))
    outer.update(inner.digest())
    return bytes(outer.digest())


def same(a: bytes, b: bytes) -> bool:
    """Compare in constant time (`hmac.compare_digest`, without importing `hmac`)."""
    try:
        compare = __import__("_operator")._compare_digest
    except (ImportError, AttributeError):  # pragma: no cover - another interpreter
        from hmac import compare_digest as compare
    return bool(compare(a, b))


def request_mac(key: bytes, body: bytes) -> bytes:
    """The MAC a request carries (its body holds the nonce)."""
    return mac(key, b"pretense-gate-request\0", body)


def answer_proof(key: bytes, req_mac: bytes, body: bytes) -> bytes:
    """The proof an answer carries: bound to the request it answers."""
    return mac(key, b"pretense-gate-answer\0", req_mac, body)


def pack(fields: list[bytes]) -> bytes:
    """Netstrings, one per field."""
    return b"".join(b"%d:%s," % (len(f), f) for f in fields)


def unpack(data: bytes, count: int) -> tuple[list[bytes], bytes]:
    """The first `count` netstrings of `data`, and what follows; ValueError if malformed."""
    out: list[bytes] = []
    pos = 0
    for _ in range(count):
        colon = data.index(b":", pos, pos + 12)
        size = int(data[pos:colon])
        end = colon + 1 + size
        if size < 0 or data[end : end + 1] != b",":
            raise ValueError("bad netstring")
        out.append(data[colon + 1 : end])
        pos = end + 1
    return out, data[pos:]


def encode_file(pid: int, host: str, port: int, key: bytes) -> str:
    """The gate file's text: one line."""
    return f"1 {pid} {host} {port} {key.hex()}\n"


def decode_file(text: str) -> tuple[int, str, int, bytes]:
    """(pid, host, port, key) from the gate file's text; ValueError if it is not one."""
    version, pid, host, port, key = text.split()
    if version != "1":
        raise ValueError("unknown gate file version")
    secret = bytes.fromhex(key)
    if len(secret) != 32:
        raise ValueError("bad key")
    return int(pid), host, int(port), secret


def emit(code: int, out: str, err: str) -> int:
    """Hand one hook answer (exit code, stdout, stderr) to the calling tool; return the code.

    Shared by the thin client (the daemon's answer) and the in-process fallback
    (`run.main`), so both print exactly the same way.
    """
    if out:
        sys.stdout.write(out)
        sys.stdout.flush()
    if err:
        sys.stderr.write(err)
    return code
