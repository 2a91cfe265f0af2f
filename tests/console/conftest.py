"""Fixtures for the console tests: a real SQLite store filled with fixed-time data.

Times are fixed (2020) and the app gets a frozen clock (``FROZEN_NOW``) and the UTC
zone, so snapshots are deterministic: the task list's ages and the thread's "Today" /
times do not depend on the day or the machine the tests run on. The process also runs
in UTC for the parts that format times themselves.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.app import SwitchboardApp
from console.config import Config, OperatorConfig
from storage.inputs import AttachmentIn, Inbound
from storage.rows import OperatorRow
from storage.store import Store
from tests.workers import workers_done

T0 = datetime(2020, 6, 1, 9, 0, tzinfo=UTC)
FROZEN_NOW = datetime(2020, 6, 1, 21, 0, tzinfo=UTC)  # after every pinned scene time


def frozen_clock() -> datetime:
    return FROZEN_NOW


@dataclass
class Data:
    """What ``filled`` put into the store (ids the tests refer to)."""

    store: Store
    web: int
    tg: int
    anna: OperatorRow
    boris: OperatorRow
    tasks: dict[str, int]
    contacts: dict[str, int]


def inbound(channel: int, chat: str, text: str, minute: int, name: str = "", **kw: Any) -> Inbound:
    return Inbound(channel_id=channel, chat_id=chat, sender_id=chat, text=text,
                   external_id=f"{chat}-{minute}-{abs(hash(text)) % 100000}",
                   sent_at=T0 + timedelta(minutes=minute), display_name=name or chat, **kw)


def fill(store: Store) -> Data:
    web = store.ensure_channel("webchat", "web").id
    tg = store.ensure_channel("telegram", "tg").id
    anna = store.ensure_operator("Anna", "operator")
    boris = store.ensure_operator("Boris", "operator")
    tasks: dict[str, int] = {}
    contacts: dict[str, int] = {}
    for n, (key, channel, name, text) in enumerate([
        ("ivan", tg, "Ivan Petrov", "Hello, where is my order?"),
        ("olga", web, "Ольга Смирнова", "Здравствуйте! Не работает оплата."),
        ("mark", web, "Mark Stone", "Can I change my delivery address?"),
        ("lena", tg, "Lena", "Thanks, got it."),
    ]):
        result = store.ingest(inbound(channel, key, text, n, name,
                                      email=f"{key}@example.com" if key == "mark" else ""))
        tasks[key] = result.task.id
        contacts[key] = result.contact_id
    store.add_quick_reply("Greeting", "Hello {{contact.name}}, this is {{operator.name}}.",
                          tags=("hello",))
    store.add_quick_reply("Order status", "Your order in task #{{task.number}} is on its way.",
                          tags=("order", "delivery"))
    store.add_quick_reply("Broken", "Dear {{contact.nickname}}, sorry.", tags=("typo",))
    return Data(store, web, tg, anna, boris, tasks, contacts)


@pytest.fixture
def data(sqlite_store: Store) -> Data:
    return fill(sqlite_store)


AppFactory = Callable[..., SwitchboardApp]


@pytest.fixture
def make_app(sqlite_store: Store) -> Iterator[AppFactory]:
    def factory(operator: OperatorRow | None = None, role: str = "operator",
                keys: dict[str, str] | None = None, theme: str = "switchboard-dark",
                **kw: Any) -> SwitchboardApp:
        if operator is None:
            operator = sqlite_store.ensure_operator("Anna", role)
        config = Config(operator=OperatorConfig(operator.name, operator.role), theme=theme,
                        keys=keys or {})
        app = SwitchboardApp(sqlite_store, config, operator, clock=frozen_clock, **kw)
        app.timezone = UTC  # read by the inbox for the conversation's times (None: local)
        return app

    yield factory


async def settle(pilot: Any, rounds: int = 3) -> None:
    """Wait until workers finished and the messages they posted were handled."""
    for _ in range(rounds):
        await workers_done(pilot.app)
        await pilot.pause()
    await workers_done(pilot.app)
    await pilot.pause()


async def until(pilot: Any, condition: Callable[[], bool], what: str,
                timeout: float = 20.0) -> None:
    """Let the app run until ``condition()`` holds; ``what`` names it if it never does
    (20 s by default: the longest a condition may take on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


@asynccontextmanager
async def started(app: SwitchboardApp, size: tuple[int, int] = (120, 36)) -> AsyncIterator[Any]:
    """``app`` running headless at ``size``, settled after its first screen loaded."""
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        yield pilot


async def press(pilot: Any, *keys: str) -> None:
    """Press ``keys``, then wait for the workers they started and what those posted."""
    await pilot.press(*keys)
    await settle(pilot)


@pytest.fixture
def fixtures_dir() -> Path:
    return Path(__file__).parent / "fixtures"


__all__ = ["AttachmentIn", "Data", "fill", "inbound", "press", "settle", "started", "T0"]
