"""The proxy daemon's half of the gate: one packed hook call in, the signed answer's body out.

The daemon runs `run.answer` — the same decision, the same answer in the
tool's format and the same audit event as a hook deciding in its own process —
with the hook process's directory and the environment variables the decision
reads (`wire.ENV_NAMES`).  The request's MAC is checked by the caller before
this runs (`check`), so only the user who owns the daemon's key can make it
read files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pretense_dev.integrations.toolhook import wire


def check(key: bytes, body: bytes, mac_hex: str) -> bool:
    """Whether the request's MAC is the key holder's."""
    expected = wire.request_mac(key, body).hex().encode()
    return wire.same(expected, mac_hex.strip().lower().encode("ascii", "replace"))


@dataclass(frozen=True)
class Call:
    """One hook call as the hook process sent it."""

    argv: list[str]
    stdin: bytes
    environ: dict[str, str]
    cwd: Path


def parse(body: bytes) -> Call:
    """The call in a request's body; ValueError if it is not one of this version."""
    (version, _nonce, cwd, argv, env), raw = wire.unpack(body, 5)
    if version != wire.VERSION or not cwd:
        raise ValueError("not a gate request of this version")
    environ: dict[str, str] = {}
    for item in os.fsdecode(env).split("\0"):
        name, sep, value = item.partition("=")
        if sep and name in wire.ENV_NAMES:
            environ[name] = value
    args = os.fsdecode(argv).split("\0") if argv else []
    return Call(args, raw, environ, Path(os.fsdecode(cwd)))


def answer_packed(call: Call) -> bytes:
    """The packed (exit code, stdout, stderr) of the call, its audit event written."""
    from pretense_dev.integrations.toolhook.run import answer

    code, out, err = answer(call.argv, call.stdin, call.environ, call.cwd)
    return wire.pack(
        [str(code).encode(), out.encode("utf-8", "replace"), err.encode("utf-8", "replace")]
    )
