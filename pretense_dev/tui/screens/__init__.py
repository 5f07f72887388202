"""One module per screen."""

from __future__ import annotations
