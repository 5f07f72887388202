"""One direction of the transform, backed by the C kernel when it is built."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, AnyStr

from pretense_dev.mutation import _reference

try:
    from pretense_dev.mutation._kernel import TokenTable as _CTable  # type: ignore[import-not-found,import-untyped,unused-ignore]

    KERNEL = "c"
except ImportError:  # pragma: no cover - exercised only where the build failed
    _CTable = None
    KERNEL = "python"


class TokenTable:
    """An immutable token → replacement table; `sub` replaces whole tokens.

    `prefix` and `strip` implement the escape for tokens that already look like
    our output (see `mapping.ESCAPE_PREFIX`): a token not in the table that starts
    with `prefix` gains one (`strip=False`, going out) or loses one
    (`strip=True`, coming back).
    """

    __slots__ = ("_c", "_py", "prefix", "strip")

    def __init__(self, table: dict[str, str], prefix: str, strip: bool) -> None:
        self._py = table
        self._c = _CTable(table) if _CTable is not None else None
        self.prefix = prefix
        self.strip = strip

    @property
    def c_sub(self) -> Callable[..., tuple[Any, int]] | None:
        """The kernel's `sub(text, prefix, strip, json, final)`, or None without the kernel."""
        return self._c.sub if self._c is not None else None

    def c_stream(self, *, json: bool, is_bytes: bool) -> Any:
        """The kernel's stream un-mutator (`feed(chunk)`, `flush()`), or None without it.

        Lone surrogates in a str chunk go to the reference implementation.
        """
        if self._c is None:
            return None

        def fallback(text: str, final: bool) -> tuple[str, int]:
            return _reference.sub(text, self._py, self.prefix, self.strip, json, final)

        return self._c.stream(self.prefix, self.strip, json, is_bytes, fallback)

    def __len__(self) -> int:
        return len(self._py)

    def sub(self, text: AnyStr, *, json: bool = False, final: bool = True) -> tuple[AnyStr, int]:
        """Return (result, held): see `_reference.sub`."""
        if self._c is not None:
            try:
                return self._c.sub(text, self.prefix, self.strip, json, final)  # type: ignore[no-any-return]
            except UnicodeEncodeError:
                pass  # lone surrogates cannot be UTF-8: the reference handles str as is
        return _reference.sub(text, self._py, self.prefix, self.strip, json, final)
