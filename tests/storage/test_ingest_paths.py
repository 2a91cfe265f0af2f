"""The hand-written fast path of ingest stores exactly what the general path stores,
and text every backend cannot hold (NUL, lone surrogates) is made storable."""

from __future__ import annotations

import json
import re
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
                                 system_data={"page": text}, client_data={text: [text]}))
    again = store.ingest(Inbound(ch.id, "c", "c", text, external_id="2",  # the fast path
                                 client_data={"note": text}))
    assert store.get_message(first.message.id).text == stored
    assert store.get_message(again.message.id).text == stored
    assert store.get_contact(first.contact_id).name == stored
    data = store.get_task(first.task.id).additional_data
    assert data["page"] == stored
    assert data["client"][stored] == [stored] and data["client"]["note"] == stored  # the
    # data a client sent (a web chat's form, a generic webhook's "data") too: a lone
    # surrogate there failed the whole message (found by tests/reliability's fuzzing)
    reply = store.reply(first.task.id, None, text)
    assert reply.text == stored


def _rows(store: Store, channel_id: int) -> list[tuple[object, ...]]:
    """Every row the channel's conversations left: contacts, identities, tasks, the
    thread (events included) and the audit, with ids replaced by their order."""
    db, p = store.db, ("%s" if "Postgres" in type(store.db).__name__ else "?")
    tasks = db.execute_sql(
        "SELECT t.id, t.number, t.title, t.status, t.chat_id, t.bound_key IS NULL, "
        "t.description, t.additional_data, t.previous_task_id IS NULL, t.last_activity_at, "
        "t.last_client_message_at, t.unread_count, t.last_preview, t.last_kind, "
        "t.snoozed_until, t.snooze_until_client, t.assignee_id, c.name, c.phones, c.emails "
        f"FROM task t JOIN contact c ON c.id = t.contact_id WHERE t.channel_id = {p} "
        "ORDER BY t.id", (channel_id,)).fetchall()
    order = {t[0]: n for n, t in enumerate(tasks, 1)}  # task numbers by their order

    def numbered(text: str) -> str:
        return re.sub(r"#(\d+)", lambda g: f"#{order[int(g[1])]}", text)

    out: list[tuple[object, ...]] = []
    for t in tasks:
        msgs = [(kind, numbered(text), None if '"status"' in meta else at, *rest)  # set_status: now
                for kind, text, at, meta, *rest in db.execute_sql(
            "SELECT kind, text, created_at, meta, external_id, author_contact_id IS NULL, "
            f"edited, attempts, failure_reason FROM message WHERE task_id = {p} ORDER BY id",
            (t[0],)).fetchall()]
        audit = db.execute_sql(f"SELECT action, detail FROM audit WHERE task_id = {p} "
                               "ORDER BY id", (t[0],)).fetchall()
        data = json.loads(t[7])
        if "previous_task" in data:
            data["previous_task"] = order[data["previous_task"]]
        out.append((t[1] == t[0], *t[2:6], numbered(t[6]), data, *t[8:], msgs, audit))
    idents = db.execute_sql(
        "SELECT external_id, display_name, username, phone FROM identity "
        f"WHERE channel_id = {p} ORDER BY id", (channel_id,)).fetchall()
    out.append(tuple(idents))
    return out


def _new_conversations(channel_id: int) -> list[Inbound]:
    return [
        Inbound(channel_id, "n1", "n1", "hello", external_id="a", sent_at=T0,
                display_name="Пётр", username="petr", phone="+100",
                system_data={"page": "/p"}, client_data={"plan": "gold", "channel": "x"}),
        Inbound(channel_id, "n2", "n2", "no names", external_id="b", sent_at=T0),
        Inbound(channel_id, "n1", "n1", "again", external_id="c",
                sent_at=T0 + timedelta(minutes=1), client_data={"plan": "silver"}),
    ]


def test_new_conversation_paths_store_the_same_rows(store: Store,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fast_ch = store.ensure_channel("generic", "same", {})
    results = [store.ingest(i) for i in _new_conversations(fast_ch.id)]
    assert [(r.created_contact, r.created_task) for r in results] == [
        (True, True), (True, True), (False, False)]
    store.set_status([results[0].task.id], "completed")
    follow = store.ingest(Inbound(fast_ch.id, "n1", "n1", "after", external_id="d",
                                  sent_at=T0 + timedelta(minutes=2), client_data={"x": 1}))
    assert follow.created_task and follow.task.id != results[0].task.id
    fast = _rows(store, fast_ch.id)

    # The same on a second channel of the same name (the first one renamed away), with
    # both prepared paths switched off.
    monkeypatch.setattr(store.ingesting.fast, "try_ingest", lambda *a, **k: None)
    monkeypatch.setattr(store.ingesting.fresh, "try_open", lambda *a, **k: None)
    store.db.execute_sql(f"UPDATE channel SET name = 'other' WHERE id = {int(fast_ch.id)}")
    slow_ch = store.ensure_channel("generic", "same", {})
    slow_results = [store.ingest(i) for i in _new_conversations(slow_ch.id)]
    store.set_status([slow_results[0].task.id], "completed")
    store.ingest(Inbound(slow_ch.id, "n1", "n1", "after", external_id="d",
                         sent_at=T0 + timedelta(minutes=2), client_data={"x": 1}))
    slow = _rows(store, slow_ch.id)
    assert slow == fast
    assert len(fast) == 4  # three tasks and the identities


def test_new_conversation_fast_path_is_taken(store: Store) -> None:
    ch = store.ensure_channel("generic", "taken", {})
    calls: list[object] = []
    real = store.ingesting.fresh._store

    def spy(*args: object) -> object:
        calls.append(args)
        return real(*args)  # type: ignore[arg-type]

    store.ingesting.fresh._store = spy  # type: ignore[method-assign]
    first = store.ingest(Inbound(ch.id, "z", "z", "hi", external_id="1", sent_at=T0))
    store.ingest(Inbound(ch.id, "z", "z", "hi again", external_id="2", sent_at=T0))
    assert len(calls) == 1 and first.created_task and first.created_contact
    task = store.get_task(first.task.id)
    assert task.number == task.id and task.unread_count == 2 and task.status == "new"


def test_a_message_into_an_open_conversation_costs_three_statements(store: Store) -> None:
    """The hot path: one look-up (duplicate? sender? task?), one INSERT, one UPDATE."""
    ch = store.ensure_channel("generic", "hot", {})
    store.ingest_many([Inbound(ch.id, f"c{i}", f"c{i}", "open", external_id=f"o{i}",
                               sent_at=T0) for i in range(4)])
    statements: list[str] = []
    real = store.db.execute_sql

    def counting(sql: str, params: object = None, *args: object, **kw: object) -> object:
        if "pg_notify" not in sql:  # the PostgreSQL bus's events, not ingest's SQL
            statements.append(sql)
        return real(sql, params, *args, **kw)  # type: ignore[arg-type]

    store.db.execute_sql = counting  # type: ignore[method-assign]
    try:
        counts = []
        for size, base in ((4, 0), (8, 100)):
            statements.clear()
            store.ingest_many([Inbound(ch.id, f"c{i % 4}", f"c{i % 4}", f"m{i}",
                                       external_id=f"m{base + i}", sent_at=T0)
                               for i in range(size)])
            counts.append(len(statements))
    finally:
        del store.db.execute_sql
    assert (counts[1] - counts[0]) / 4 == 3
