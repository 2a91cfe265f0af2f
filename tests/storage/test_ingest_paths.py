"""The hand-written fast path of ingest stores exactly what the general path stores,
and text every backend cannot hold (NUL, lone surrogates) is made storable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.inputs import Inbound
from storage.store import Store

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _conversation(store: Store) -> list[Inbound]:
    ch = store.ensure_channel("generic", "api", {})
    return [
        Inbound(ch.id, "c1", "c1", "first", external_id="1", sent_at=T0, display_name="Иван",
                system_data={"page": "/a"}),
        Inbound(ch.id, "c1", "c1", "second", external_id="2", sent_at=T0 + timedelta(minutes=1),
                system_data={"utm_source": "ads", "empty": ""}),
        Inbound(ch.id, "c1", "c1", "late one", external_id="3", sent_at=T0 - timedelta(minutes=5)),
        Inbound(ch.id, "c1", "c1", "third", external_id="4", sent_at=T0 + timedelta(minutes=2),
                display_name="Иван"),
        Inbound(ch.id, "c1", "c1", "dup", external_id="2", sent_at=T0 + timedelta(minutes=3)),
    ]


def _snapshot(store: Store) -> tuple[object, ...]:
    task = store.list_tasks().items[0]
    thread = store.thread_before(task.id).items
    return (
        task.status, task.unread_count, task.last_preview, task.last_kind,
        task.last_activity_at, task.last_client_message_at, task.additional_data,
        [(m.kind, m.text, m.created_at, m.external_id, m.author_contact_id == task.contact_id)
         for m in thread],
    )


def test_fast_path_stores_what_the_general_path_stores(store: Store, store_url: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    fast_results = [store.ingest(i) for i in _conversation(store)]
    fast = _snapshot(store)
    assert [r.duplicate for r in fast_results] == [False, False, False, False, True]

    # The same conversation on a second channel with the fast path switched off.
    slow_store = store
    monkeypatch.setattr(slow_store.ingesting.fast, "try_ingest", lambda *a, **k: None)
    ch2 = slow_store.ensure_channel("generic", "api2", {})
    for inbound in _conversation(store):
        slow_store.ingest(Inbound(**{**inbound.__dict__, "channel_id": ch2.id}))
    tasks = slow_store.list_tasks().items
    slow_task = next(t for t in tasks if t.channel_id == ch2.id)
    thread = slow_store.thread_before(slow_task.id).items
    slow = (slow_task.status, slow_task.unread_count, slow_task.last_preview,
            slow_task.last_kind, slow_task.last_activity_at, slow_task.last_client_message_at,
            {**slow_task.additional_data, "channel": "api"},
            [(m.kind, m.text if m.kind != "event" else m.text.replace("api2", "api"),
              m.created_at, m.external_id, m.author_contact_id == slow_task.contact_id)
             for m in thread])
    assert slow == fast


@pytest.mark.parametrize("text, stored", [
    ("a\x00b", "a\ufffdb"),
    ("lone \ud800 surrogate", "lone \ufffd surrogate"),
    ("ok [bold]x[/] \x1b[31m", "ok [bold]x[/] \x1b[31m"),
])
def test_text_no_backend_can_hold_is_made_storable(store: Store, text: str, stored: str) -> None:
    ch = store.ensure_channel("generic", "api", {})
    first = store.ingest(Inbound(ch.id, "c", "c", text, external_id="1", display_name=text,
                                 system_data={"page": text}))
    again = store.ingest(Inbound(ch.id, "c", "c", text, external_id="2"))  # the fast path
    assert store.get_message(first.message.id).text == stored
    assert store.get_message(again.message.id).text == stored
    assert store.get_contact(first.contact_id).name == stored
    assert store.get_task(first.task.id).additional_data["page"] == stored
    reply = store.reply(first.task.id, None, text)
    assert reply.text == stored
