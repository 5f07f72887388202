"""The language server (`pretense-dev lsp`); see `server.create_server`.

Importing this package is cheap: pygls loads with `server`, which only the
`lsp` command imports.
"""

from __future__ import annotations
