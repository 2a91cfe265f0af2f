"""Durable small state by key: a polling offset, a secret, a preference (``store.state``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.models import Models

if TYPE_CHECKING:
    from storage.core import StoreCore


class DurableState:
    def __init__(self, core: StoreCore) -> None:
        self.core = core
        self.m: Models = core.m

    def get_state(self, key: str, default: str | None = None) -> str | None:
        row = self.m.KeyValue.get_or_none(self.m.KeyValue.key == key)
        return row.value if row else default

    def set_state(self, key: str, value: str) -> None:
        """Keep ``value`` under ``key`` (replacing what was there)."""
        kv = self.m.KeyValue
        with self.core.transaction():
            # An upsert both backends accept (peewee's replace() is SQLite/MySQL only).
            kv.insert(key=key, value=value).on_conflict(
                conflict_target=[kv.key], update={kv.value: value}).execute()
