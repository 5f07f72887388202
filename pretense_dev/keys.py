"""The per-repo mutation key: OS keyring first, a 0600 file where there is none.

The key makes synthetic names and secret fingerprints unguessable: whoever has
the mutated text but not the key cannot map a synthetic back to a name, nor
confirm a guessed secret against a fingerprint.  It never lives in the repo.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from pretense_dev import paths
from pretense_dev.errors import PretenseError

SERVICE = "pretense-dev"
KEY_BYTES = 32


@dataclass(frozen=True)
class KeyInfo:
    """Where a repo's key is kept, for `doctor`."""

    backend: str  # "keyring (<backend name>)" or "file"
    location: str


def _key_file(repo_id: str) -> Path:
    return paths.user_data_dir() / "keys" / f"{repo_id}.key"


def _keyring_get(repo_id: str) -> tuple[str | None, str | None]:
    """(hex key or None, backend name or None when no usable keyring exists)."""
    try:
        import keyring  # deferred: ~40 ms of backend discovery
        from keyring.backends import fail
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - keyring is a dependency
        return None, None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or backend.priority <= 0:
        return None, None
    try:
        return keyring.get_password(SERVICE, repo_id), _backend_name(backend)
    except KeyringError:
        return None, None


def _backend_name(backend: object) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def load_key(repo_id: str) -> bytes:
    """The repo's key; raise if it does not exist (the repo needs `init`).

    The file is tried first: it is one read, while asking the keyring costs
    tens of milliseconds of backend discovery on every hook call.  A key is kept
    in exactly one of the two places.
    """
    try:
        value: str | None = _key_file(repo_id).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        value, _ = _keyring_get(repo_id)
    if value is None:
        raise PretenseError(f"no key for repository {repo_id}", "run `pretense-dev init` in it")
    try:
        key = bytes.fromhex(value)
    except ValueError:
        raise PretenseError(
            f"the key for repository {repo_id} is corrupt",
            "run `pretense-dev doctor` to see where it is kept",
        ) from None
    if len(key) != KEY_BYTES:
        raise PretenseError(f"the key for repository {repo_id} has the wrong length")
    return key


def ensure_key(repo_id: str) -> tuple[bytes, KeyInfo]:
    """Load the repo's key, creating it on first use."""
    try:
        return load_key(repo_id), key_info(repo_id)
    except PretenseError:
        pass
    key = secrets.token_bytes(KEY_BYTES)
    _, backend = _keyring_get(repo_id)
    if backend is not None:
        import keyring
        from keyring.errors import KeyringError

        try:
            keyring.set_password(SERVICE, repo_id, key.hex())
            return key, KeyInfo(f"keyring ({backend})", f"service {SERVICE!r}, entry {repo_id!r}")
        except KeyringError:
            pass  # a locked or broken keyring: fall back to the file, and say so in doctor
    path = _key_file(repo_id)
    paths.ensure_private_dir(path.parent)
    paths.atomic_write(path, key.hex() + "\n", mode=0o600)
    return key, KeyInfo("file", str(path))


def key_info(repo_id: str) -> KeyInfo:
    """Where the key is (for `doctor`), without reading it into output."""
    value, backend = _keyring_get(repo_id)
    if value is not None and backend is not None:
        return KeyInfo(f"keyring ({backend})", f"service {SERVICE!r}, entry {repo_id!r}")
    path = _key_file(repo_id)
    if path.exists():
        mode = path.stat().st_mode & 0o777
        note = "" if mode == 0o600 else f" (mode {mode:o}: should be 600)"
        return KeyInfo("file", f"{path}{note}")
    return KeyInfo("missing", "-")


def delete_key(repo_id: str) -> None:
    """Forget a repo's key (uninstall): both places, whichever holds it."""
    _, backend = _keyring_get(repo_id)
    if backend is not None:
        import keyring
        from keyring.errors import KeyringError, PasswordDeleteError

        with contextlib.suppress(PasswordDeleteError, KeyringError):
            keyring.delete_password(SERVICE, repo_id)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(_key_file(repo_id))
