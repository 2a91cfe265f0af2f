"""Schema: created on first open, versioned, a newer version refused."""

from __future__ import annotations

import pytest

from storage.database import SCHEMA_VERSION
from storage.errors import SwitchboardError
from storage.store import Store


def test_schema_version_is_stored(store: Store) -> None:
    assert store.schema_version == SCHEMA_VERSION
    row = store.m.KeyValue.get(store.m.KeyValue.key == "schema_version")
    assert int(row.value) == SCHEMA_VERSION


def test_reopen_keeps_data(store: Store, store_url: str) -> None:
    store.ensure_operator("Анна", "operator")
    again = Store.open(store_url)
    try:
        assert [op.name for op in again.list_operators()] == ["Анна"]
    finally:
        again.close()


def test_newer_schema_is_refused(store: Store, store_url: str) -> None:
    kv = store.m.KeyValue
    kv.update(value=str(SCHEMA_VERSION + 1)).where(kv.key == "schema_version").execute()
    with pytest.raises(SwitchboardError) as err:
        Store.open(store_url)
    assert str(SCHEMA_VERSION + 1) in str(err.value)
    assert "newer" in str(err.value)
    # Nothing was changed by the refused open.
    row = store.m.KeyValue.get(store.m.KeyValue.key == "schema_version")
    assert int(row.value) == SCHEMA_VERSION + 1


def test_state_round_trip(store: Store) -> None:
    """set_state is an upsert on both backends (a polling offset is written many times)."""
    assert store.get_state("telegram.offset") is None
    store.set_state("telegram.offset", "41")
    store.set_state("telegram.offset", "42")
    assert store.get_state("telegram.offset") == "42"
