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
from pathlib import Path

from pretense_dev.integrations.toolhook import wire


def check(key: bytes, body: bytes, mac_hex: str) -> bool:
    """Whether the request's MAC is the key holder's."""
    expected = wire.request_mac(key, body).hex().encode()
    return wire.same(expected, mac_hex.strip().lower().encode("ascii", "replace"))


def answer_packed(body: bytes) -> bytes:
    """The packed (exit code, stdout, stderr) for one packed call; ValueError if malformed."""
    from pretense_dev.integrations.toolhook.run import answer

    (version, _nonce, cwd, argv, env), raw = wire.unpack(body, 5)
    if version != wire.VERSION or not cwd:
        raise ValueError("not a gate request of this version")
    environ: dict[str, str] = {}
    for item in os.fsdecode(env).split("\0"):
        name, sep, value = item.partition("=")
        if sep and name in wire.ENV_NAMES:
            environ[name] = value
    args = os.fsdecode(argv).split("\0") if argv else []
    code, out, err = answer(args, raw, environ, Path(os.fsdecode(cwd)))
    return wire.pack(
        [str(code).encode(), out.encode("utf-8", "replace"), err.encode("utf-8", "replace")]
    )
