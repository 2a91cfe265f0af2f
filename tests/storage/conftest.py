"""A small desk on top of the shared ``store`` fixture (both backends).

``desk.say(...)`` is one inbound client message with a fresh channel message id, so
tests read like the conversation they check.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from storage.inputs import Inbound
from storage.models import SUPERVISOR, utcnow
from storage.rows import IngestResult
from storage.store import Store


@dataclass
class Desk:
    store: Store
    web: int
    telegram: int
    whatsapp: int
    vk: int
    anna: int  # an operator
    boris: int  # another operator
    maria: int  # a supervisor
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    start: datetime = field(default_factory=lambda: utcnow() - timedelta(days=1))

    def say(self, channel: int, chat: str, text: str = "hello", *, minute: int | None = None,
            external_id: str | None = None, sender: str | None = None, **extra: Any) -> IngestResult:
        """The client in ``chat`` writes ``text``; ``minute`` places it on a fixed clock."""
        n = next(self._ids)
        sent_at = self.start + timedelta(minutes=minute if minute is not None else n)
        return self.store.ingest(Inbound(
            channel_id=channel, chat_id=chat, sender_id=sender or chat, text=text,
            external_id=external_id or f"ext-{n}", sent_at=sent_at, **extra))


@pytest.fixture
def desk(store: Store) -> Desk:
    return Desk(
        store=store,
        web=store.ensure_channel("webchat", "web").id,
        telegram=store.ensure_channel("telegram", "telegram").id,
        whatsapp=store.ensure_channel("whatsapp", "whatsapp").id,
        vk=store.ensure_channel("vk", "vk").id,
        anna=store.ensure_operator("Anna", "operator").id,
        boris=store.ensure_operator("Борис", "operator").id,
        maria=store.ensure_operator("Maria", SUPERVISOR).id,
    )


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove that a refused operation changed nothing."""
    out = {}
    for model in store.m.all():
        rows = model.select().order_by(*model._meta.get_primary_keys()).tuples()
        out[model.__name__] = [tuple(r) for r in rows]
    return out
