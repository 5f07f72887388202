"""No map, no forward: a repository whose map is incomplete gets a 503; nothing leaves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anthropic
import pytest

from pretense_dev.index.store import IndexStore
from tests.proxy.conftest import NAMES, Harness, build_index

MSG: Any = [{"role": "user", "content": "reconcile_batch"}]


def test_incomplete_map_is_refused_until_a_run_finishes(h: Harness, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    build_index(root, NAMES)
    db = root / ".pretense" / "index.db"
    with IndexStore(db) as store:  # what an interrupted run leaves: the flag not set
        store.conn.execute("UPDATE meta SET value = '0' WHERE key = 'map_complete'")
    base = h.spawn(root)
    client = anthropic.Anthropic(base_url=base, api_key="sk-ant-test", max_retries=0)
    with pytest.raises(anthropic.InternalServerError) as e:
        client.messages.create(model="m", max_tokens=5, messages=MSG)
    assert e.value.status_code == 503
    assert "identifier map of repository" in str(e.value) and "is incomplete" in str(e.value)
    assert "run `pretense-dev index`" in str(e.value)
    assert h.upstream.records == []
    with IndexStore(db) as store:
        store.mark_complete()
    client.messages.create(model="m", max_tokens=5, messages=MSG)
    assert len(h.upstream.records) == 1
    assert b"reconcile_batch" not in h.upstream.records[0].body
