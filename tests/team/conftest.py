"""Team-mode fixtures on the shared ``store`` fixture (SQLite file and real PostgreSQL)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from storage.inputs import Inbound
from storage.models import SUPERVISOR
from storage.rows import IngestResult
from storage.store import Store
from tests.team.procs import Children


@dataclass
class Team:
    store: Store
    web: int
    telegram: int
    anna: int
    boris: int
    vera: int
    maria: int  # a supervisor
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def say(self, chat: str, text: str = "hello", channel: int | None = None,
            **extra: Any) -> IngestResult:
        """The client in ``chat`` writes ``text`` (a fresh channel message id each time)."""
        n = next(self._ids)
        return self.store.ingest(Inbound(
            channel_id=channel or self.web, chat_id=chat, sender_id=chat, text=text,
            external_id=f"ext-{n}", display_name=chat, **extra))


@pytest.fixture
def team(store: Store) -> Team:
    return Team(
        store=store,
        web=store.ensure_channel("webchat", "web").id,
        telegram=store.ensure_channel("telegram", "telegram").id,
        anna=store.ensure_operator("Anna").id,
        boris=store.ensure_operator("Борис").id,
        vera=store.ensure_operator("Vera").id,
        maria=store.ensure_operator("Maria", SUPERVISOR).id,
    )


@pytest.fixture
def children() -> Iterator[Children]:
    """Processes a test starts; every one is killed at teardown."""
    started = Children()
    try:
        yield started
    finally:
        started.kill_all()
