"""A real keyring backend for tests: a JSON file named by $PRETENSE_TEST_KEYRING.

Selected with PYTHON_KEYRING_BACKEND=tests.keyring_backend.TmpFileKeyring, so the
code path that talks to an OS keyring is exercised without touching the real one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class TmpFileKeyring(KeyringBackend):
    priority = 1

    def _load(self) -> dict[str, str]:
        p = Path(os.environ["PRETENSE_TEST_KEYRING"])
        return json.loads(p.read_text()) if p.exists() else {}

    def _save(self, data: dict[str, str]) -> None:
        Path(os.environ["PRETENSE_TEST_KEYRING"]).write_text(json.dumps(data))

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError(username)
        self._save(data)
