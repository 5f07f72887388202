"""Synthetic names and the text transform both ways (no I/O here).

See `mapping` for the round-trip contract and `synth` for the names.
"""

from __future__ import annotations

from pretense_dev.mutation.mapping import ESCAPE_PREFIX, IdentifierMap, StreamUnmutator
from pretense_dev.mutation.synth import HINTS, LOOKALIKE, synthesize
from pretense_dev.mutation.table import KERNEL

__all__ = [
    "ESCAPE_PREFIX",
    "HINTS",
    "KERNEL",
    "LOOKALIKE",
    "IdentifierMap",
    "StreamUnmutator",
    "synthesize",
]
