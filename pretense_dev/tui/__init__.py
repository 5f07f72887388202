"""The Textual browser over the audit log (`pretense-dev audit`): read-only.

Only `pretense-dev audit` with no subcommand imports this package; every other
command stays free of textual (tests/test_import_hygiene.py).
"""

from __future__ import annotations
