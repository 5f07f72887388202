"""pretense-dev: keep a repository's identifiers and secrets on the developer's machine.

This module imports nothing: hooks and `verify` run on every prompt and commit,
so their start-up path must stay lean (see tests/test_import_hygiene.py).
"""

from __future__ import annotations
