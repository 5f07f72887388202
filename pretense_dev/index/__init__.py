"""The per-repo store and the indexer that keeps it current."""

from __future__ import annotations
