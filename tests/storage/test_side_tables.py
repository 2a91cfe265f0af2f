"""The side tables' models (team: availability and leases; automation: firings and
notices) are built once per store and let go with it.

Both groups go through one cache (``storage.side_tables.PerStore``). The team tables
had their own, keyed by the store's *database*, which the models themselves hold
(``Meta.database``): no entry could ever be dropped, so every store ever opened in a
process stayed alive with all its models (a test worker held 12,000 model classes and
a million objects by the end of the suite)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from connectors.registry import policies
from storage.rule_tables import rule_models
from storage.store import Store
from storage.team_tables import team_models


def test_the_side_models_are_built_once_per_store(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "a.db"), policies=policies())
    other = Store.open(str(tmp_path / "b.db"), policies=policies())
    try:
        assert team_models(store) is team_models(store)
        assert rule_models(store) is rule_models(store)
        assert team_models(store).Lease is not team_models(other).Lease
        assert team_models(store).Lease._meta.database is store.db
        assert team_models(other).Availability._meta.database is other.db
    finally:
        store.close()
        other.close()


def test_a_closed_store_and_its_models_are_freed(tmp_path: Path) -> None:
    refs = []
    for i in range(3):
        store = Store.open(str(tmp_path / f"s{i}.db"), policies=policies())
        refs += [weakref.ref(store), weakref.ref(store.db), weakref.ref(store.m.Task),
                 weakref.ref(team_models(store).Availability),
                 weakref.ref(rule_models(store).Firing)]
        store.ensure_operator("Anna", "operator")
        store.close()
        del store
    gc.collect()
    gc.collect()
    assert [r for r in refs if r() is not None] == []
