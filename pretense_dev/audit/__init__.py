"""The append-only, hash-chained audit log and what is built on it."""

from __future__ import annotations
