"""Every pass does bounded work per hit, so a one-line file costs its length, not its square.

Measured work, not time: a joined-literal view copies at most `CHAIN_CONTEXT`
bytes of its line, and the windows around keyword hits on one long line stay
within `LONG_LINE` of the hit.  Timings live in bench/secrets_pathological.py.
"""

from __future__ import annotations

import random

from pretense_dev.secrets import Detector
from pretense_dev.secrets.decode import CHAIN_CONTEXT, concat_views
from pretense_dev.secrets.detector import LONG_LINE, _around
from pretense_dev.secrets.samples import generate

UNIT = b'var a="pa"+"ss",k="to"+"ken";'  # two chains


def _minified(n: int) -> bytes:
    return UNIT * (n // len(UNIT))


def test_chain_views_copy_a_bounded_context() -> None:
    data = _minified(200_000)
    views = list(concat_views(data, [(0, len(data))]))
    assert len(views) == 2 * (len(data) // len(UNIT))
    assert max(len(v.data) for v in views) <= CHAIN_CONTEXT + 8
    assert all(v.skip <= CHAIN_CONTEXT for v in views)
    assert views[-1].skip == CHAIN_CONTEXT  # far into the line, the context is cut


def test_widened_windows_stay_near_the_hit_on_one_line() -> None:
    data = b'x="a" ' * 100_000
    mid = len(data) // 2
    [(s, e)] = _around(data, [(mid, mid + 10)], 2)
    assert mid - s <= LONG_LINE + 1 and e - (mid + 10) <= LONG_LINE + 1


def test_secret_in_a_long_minified_line_is_found() -> None:
    pad = _minified(300_000)
    value = generate("{b62:8}!{b62:8}", random.Random(3))
    text = pad.decode() + f'var password="{value}";' + pad.decode()
    found = Detector(bytes(32)).scan_text(text, "app.min.js")
    assert [(f.rule, f.line) for f in found] == [("generic-password", 1)]
