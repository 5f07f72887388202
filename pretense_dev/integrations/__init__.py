"""Tool integrations: Claude Code, Cursor, Copilot (and the git pre-commit hook).

Each tool module has `plan` / `apply` / `check` / `remove` (see `base`).  This
package's `__init__` imports nothing: `verify` and the hooks load only the
module they need.
"""

from __future__ import annotations
