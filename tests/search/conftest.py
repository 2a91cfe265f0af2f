"""A small world to search in, built through the real domain operations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from storage.inputs import AttachmentIn, Inbound
from storage.store import Store


@dataclass
class World:
    store: Store
    tg: int
    web: int
    anna: int
    boris: int
    ivan_task: int
    olga_task: int
    petr_task: int


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


def inbound(channel: int, chat: str, text: str, ext: str, day: int, **kw: object) -> Inbound:
    return Inbound(channel_id=channel, chat_id=chat, sender_id=chat, text=text, external_id=ext,
                   sent_at=at(day), **kw)  # type: ignore[arg-type]


@pytest.fixture
def world(store: Store) -> World:
    tg = store.ensure_channel("telegram", "tg-main").id
    web = store.ensure_channel("webchat", "web").id
    anna = store.ensure_operator("Anna").id
    boris = store.ensure_operator("Борис", "supervisor").id
    ivan = store.ingest(inbound(tg, "100", "Please send invoice 4471 for October", "t1", 1,
                                display_name="Ivan Petrov", username="ivanp",
                                phone="+7 (916) 123-45-67")).task.id
    store.ingest(inbound(tg, "100", "Where is my refund?", "t2", 2))
    olga = store.ingest(inbound(web, "w-olga", "Мне нужен СЧЁТ на оплату", "w1", 3,
                                display_name="Ольга", email="olga@example.com")).task.id
    store.ingest(inbound(web, "w-olga", "scan attached", "w2", 4,
                         attachments=(AttachmentIn("contract-ЁЖ-77.pdf"),)))
    petr = store.ingest(inbound(tg, "200", "invoice 9000 is wrong, I want a refund", "t3", 5,
                                display_name="Пётр")).task.id
    store.assign([ivan], anna)
    store.assign([olga], boris)
    store.reply(ivan, anna, "Here is the invoice you asked for")
    store.note(ivan, anna, "check the refund policy before answering")
    return World(store, tg, web, anna, boris, ivan, olga, petr)
