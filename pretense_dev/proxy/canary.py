"""The verify challenge, both halves' shared rules (stdlib only; see the package docstring).

`pretense-dev verify` and the editor's status both drive the challenge with
`run()`: it builds the text with `challenge()`, POSTs it to
``<proxy>/r/<id>/pretense/verify`` with `ask()` and checks the answer with
`check()` against the local key and map.  The proxy answers with `answer()`.
Keeping both halves here means the proof's exact bytes, and what counts as a
pass, are defined once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

VERIFY_PATH = "pretense/verify"
PROOF_CONTEXT = b"pretense-dev verify v1"
_NONCE = re.compile(r"\A[0-9a-f]{32,128}\Z")
_IDENT = re.compile(r"[A-Za-z0-9_]+")
MAX_TEXT = 65536


def new_nonce() -> str:
    """A fresh 128-bit nonce, hex."""
    return secrets.token_hex(16)


def valid_nonce(nonce: object) -> bool:
    """Whether a nonce is well formed (32-128 lower-case hex chars)."""
    return isinstance(nonce, str) and bool(_NONCE.match(nonce))


def proof(key: bytes, nonce: str, repo_id: str, map_version: int, mutated: str) -> str:
    """HMAC-SHA256 under the repo key over the challenge and the answer.

    The context string and NUL separators keep it apart from the synthetic-name
    HMACs (names never contain NUL), so a proof never reveals a synthetic.
    """
    msg = b"\0".join(
        (
            PROOF_CONTEXT,
            nonce.encode("ascii"),
            repo_id.encode("ascii"),
            str(map_version).encode("ascii"),
            hashlib.sha256(mutated.encode("utf-8")).digest(),
        )
    )
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def answer(
    *,
    key: bytes,
    nonce: str,
    repo_id: str,
    map_version: int,
    map_size: int,
    mutated: str,
    version: str,
) -> dict[str, Any]:
    """The proxy's answer to a challenge."""
    return {
        "service": "pretense-dev",
        "version": version,
        "repo_id": repo_id,
        "map_version": map_version,
        "map_size": map_size,
        "nonce": nonce,
        "mutated": mutated,
        "guard": "ready",
        "proof": proof(key, nonce, repo_id, map_version, mutated),
    }


@dataclass(frozen=True)
class Verdict:
    """What the answer proved; `problems` is empty when everything held."""

    problems: tuple[str, ...]
    proxy_map_version: int | None

    @property
    def ok(self) -> bool:
        """Whether (a), (b) and (c) all held."""
        return not self.problems


def check(
    reply: dict[str, Any],
    *,
    key: bytes,
    nonce: str,
    repo_id: str,
    text: str,
    mutate: Callable[[str], str],
    local_map_version: int,
) -> Verdict:
    """Check a proxy's answer against the local key and map (`mutate` = the local map's)."""
    problems: list[str] = []
    version = reply.get("map_version")
    if reply.get("service") != "pretense-dev":
        problems.append("the server on that port is not a pretense-dev proxy")
        return Verdict(tuple(problems), None)
    if reply.get("repo_id") != repo_id or reply.get("nonce") != nonce:
        problems.append("the proxy answered for another repository or another challenge")
        return Verdict(tuple(problems), None)
    mutated = reply.get("mutated")
    if not isinstance(version, int) or not isinstance(mutated, str):
        problems.append("the proxy's answer is malformed")
        return Verdict(tuple(problems), None)
    expected_proof = proof(key, nonce, repo_id, version, mutated)
    if not hmac.compare_digest(str(reply.get("proof", "")), expected_proof):
        problems.append("the proxy does not hold this repository's key")
    if mutated != mutate(text):
        problems.append("the proxy mutates this repository's names differently from its index")
    if version != local_map_version:
        problems.append(
            f"the proxy uses map version {version}, the index is at {local_map_version}"
        )
    return Verdict(tuple(problems), version)


def challenge(names: list[str]) -> tuple[str, str]:
    """(nonce, text): a canary text made of protected names, for one verify run."""
    return new_nonce(), "canary: " + " ".join(names)


def ask(base_url: str, repo_id: str, nonce: str, text: str, timeout: float = 2.0) -> dict[str, Any]:
    """POST the challenge to ``<base_url>/r/<repo_id>/pretense/verify``; the parsed answer.

    Raises OSError (connection problems) or ValueError (not a JSON object).
    """
    from pretense_dev import loopback  # not urllib: see pretense_dev/loopback.py

    scheme, _, rest = base_url.partition("://")
    hostport = rest.split("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    if scheme != "http" or not host or not port.isdigit():
        raise ValueError(f"not a loopback proxy URL: {base_url}")
    path = f"/r/{repo_id}/{VERIFY_PATH}"
    _, data = loopback.post_json(
        host, int(port), path, {"nonce": nonce, "text": text}, timeout=timeout
    )
    if not isinstance(data, dict):
        raise ValueError("the verify answer is not a JSON object")
    return data


@dataclass(frozen=True)
class CanaryOutcome:
    """One run of the challenge against a running proxy, as `verify` and the editor show it."""

    problems: tuple[str, ...]  # empty: the proxy serves this repository's current map
    answered: bool  # False: no usable answer came back (connection refused, not JSON)
    from_pretense: bool  # the answer came from a pretense-dev proxy
    refusal: str | None  # the proxy's own message when it refused in an API's error format

    @property
    def ok(self) -> bool:
        """Whether the proxy proved it protects with this repository's current map."""
        return not self.problems


def run(
    url: str,
    repo_id: str,
    key: bytes,
    sample: Sequence[tuple[str, str]],
    map_version: int,
    *,
    timeout: float = 2.0,
) -> CanaryOutcome:
    """Send a fresh challenge made of `sample` (protected (name, synthetic) pairs); check it.

    `sample` holds a few protected names and, when it is protected, the word
    "canary" itself (the text starts with it).  The expected mutation is
    computed from `sample` alone: the text is those names between spaces and
    punctuation, so replacing each whole identifier by its synthetic is exactly
    what the full map would do, without loading it.
    """
    forward = dict(sample)
    nonce, text = challenge([n for n, _ in sample if n != "canary"])
    expected = _IDENT.sub(lambda m: forward.get(m.group(), m.group()), text)
    try:
        reply = ask(url, repo_id, nonce, text, timeout=timeout)
    except (OSError, ValueError) as e:
        return CanaryOutcome(
            (f"the proxy did not answer the verify challenge ({e})",), False, False, None
        )
    verdict = check(
        reply,
        key=key,
        nonce=nonce,
        repo_id=repo_id,
        text=text,
        mutate=lambda t: expected if t == text else t,
        local_map_version=map_version,
    )
    from_pretense = reply.get("service") == "pretense-dev"
    error = reply.get("error")
    refusal = None
    if not from_pretense and isinstance(error, dict):
        refusal = str(error.get("message", "no reason given"))
    return CanaryOutcome(verdict.problems, True, from_pretense, refusal)
