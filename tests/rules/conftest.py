"""Rules tests: a desk on the shared ``store`` fixture (both backends), a clock the
test moves by hand, and a recorder of the store's real change events."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from storage.events import Event
from storage.models import SUPERVISOR, utcnow
from storage.rules import Automation, FiringRow, parse_rules
from storage.store import Store
from tests.storage.conftest import Desk


@dataclass
class FakeClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class Recorder:
    """Collects the store's events as subscribers receive them (after commit)."""

    def __init__(self, store: Store) -> None:
        self.items: list[Event] = []
        self._cond = threading.Condition()
        self.unsubscribe = store.bus.subscribe(self._add)

    def _add(self, event: Event) -> None:
        with self._cond:
            self.items.append(event)
            self._cond.notify_all()

    def take_until(self, predicate: Callable[[Event], bool], timeout: float = 10.0) -> list[Event]:
        """Wait until an event satisfying ``predicate`` was received; return (and forget)
        every event received so far."""
        with self._cond:
            assert self._cond.wait_for(lambda: any(predicate(e) for e in self.items), timeout), \
                "the expected event never arrived"
            taken, self.items = self.items, []
        return taken


@dataclass
class Rig:
    desk: Desk
    clock: FakeClock
    events: Recorder

    @property
    def store(self) -> Store:
        return self.desk.store

    def automation(self, rules_yaml: str) -> Automation:
        return Automation(self.store, parse_rules(rules_yaml, "test.yaml"), self.clock)

    def feed(self, auto: Automation, predicate: Callable[[Event], bool]) -> list[FiringRow]:
        """Hand the engine every event up to the awaited one, as the runner would."""
        fired: list[FiringRow] = []
        for event in self.events.take_until(predicate):
            fired += auto.handle_event(event)
        return fired


@pytest.fixture
def rig(store: Store) -> Iterator[Rig]:
    desk = Desk(
        store=store,
        web=store.ensure_channel("webchat", "web").id,
        telegram=store.ensure_channel("telegram", "telegram").id,
        whatsapp=store.ensure_channel("whatsapp", "whatsapp").id,
        vk=store.ensure_channel("vk", "vk").id,
        anna=store.ensure_operator("Anna", "operator").id,
        boris=store.ensure_operator("Борис", "operator").id,
        maria=store.ensure_operator("Maria", SUPERVISOR).id,
    )
    recorder = Recorder(store)
    yield Rig(desk, FakeClock(utcnow()), recorder)
    recorder.unsubscribe()


def stored(kind: str, message_id: int | None = None) -> Callable[[Event], bool]:
    def match(event: Event) -> bool:
        return event.kind == kind and (message_id is None or event.message_id == message_id)
    return match
