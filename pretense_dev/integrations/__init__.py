"""Tool integrations: one module per tool, each with plan / apply / check / remove."""

from __future__ import annotations
