"""The partial indexes behind the start-up reads (``storage.hot_indexes``, issue 20).

On both backends they exist after every open, an older database gets them at its next
open, and a second open creates nothing. On SQLite the reads a console runs at start
(the unread total of the title, the automation runner's snooze timer) use them instead
of scanning every task, and the outbox claim of one channel starts from the queued
messages: checked on the SQL the store really runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from connectors.registry import policies
from storage.hot_indexes import HOT_INDEXES, ensure_hot_indexes
from storage.inputs import Inbound, TaskFilter
from storage.models import utcnow
from storage.store import Store


def index_names(store: Store) -> set[str]:
    return {index.name for index in store.db.get_indexes("task")}


def test_every_open_has_the_indexes_and_an_old_database_gets_them(
        store: Store, store_url: str) -> None:
    assert set(HOT_INDEXES) <= index_names(store)
    assert ensure_hot_indexes(store.db) == []  # present: nothing to create
    for name in HOT_INDEXES:  # a database made before they existed
        store.db.execute_sql(f'DROP INDEX "{name}"')
    assert not set(HOT_INDEXES) & index_names(store)
    again = Store.open(store_url, policies=policies())
    try:
        assert set(HOT_INDEXES) <= index_names(again)
    finally:
        again.close()


@contextmanager
def captured(store: Store) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements ``store`` runs meanwhile, with their parameters."""
    seen: list[tuple[str, Any]] = []
    original: Callable[..., Any] = store.db.execute_sql

    def recording(sql: str, params: Any = None, *args: Any, **kw: Any) -> Any:
        seen.append((sql, params))
        return original(sql, params, *args, **kw)

    store.db.execute_sql = recording  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        del store.db.execute_sql


def plan(store: Store, sql: str, params: Any) -> str:
    rows = store.db.execute_sql("EXPLAIN QUERY PLAN " + sql, params or ()).fetchall()
    return " | ".join(str(row[-1]) for row in rows)


def test_start_up_reads_use_the_indexes_on_sqlite(sqlite_store: Store) -> None:
    store = sqlite_store
    web = store.ensure_channel("webchat", "web").id

    def say(chat: str, text: str) -> int:
        return store.ingest(Inbound(channel_id=web, chat_id=chat, sender_id=chat, text=text,
                                    external_id=f"{chat}-{text}")).task.id

    for n in range(6):
        say(f"chat-{n}", f"hello {n}")
    snoozed = say("chat-9", "later please")
    store.snooze([snoozed], utcnow() + timedelta(days=1))
    with captured(store) as seen:
        assert store.unread_total(TaskFilter(hide_closed=True)) == 6  # the snoozed one left out
    [(sql, params)] = [(s, p) for s, p in seen if "SUM" in s]
    assert "USING COVERING INDEX task_unread_open" in plan(store, sql, params)
    with captured(store) as seen:
        assert store.next_snooze_end() is not None
        store.end_snoozes(utcnow())
    selects = [(s, p) for s, p in seen if s.startswith("SELECT")]
    assert selects and all("task_snoozed_until" in plan(store, s, p) for s, p in selects)


def test_an_outbox_claim_for_one_channel_starts_from_the_queue_on_sqlite(
        sqlite_store: Store) -> None:
    """With one channel id the planner used to walk every message of that channel."""
    store = sqlite_store
    web = store.ensure_channel("webchat", "web").id
    anna = store.ensure_operator("Anna", "operator").id
    task = store.ingest(Inbound(channel_id=web, chat_id="c1", sender_id="c1", text="hi",
                                external_id="c1-1")).task.id
    store.reply(task, anna, "hello")
    with captured(store) as seen:
        [item] = store.claim_outbox(channel_ids=(web,))
    assert item.task_id == task
    claims = [(s, p) for s, p in seen if s.startswith("SELECT") and "delivery_state" in s
              and "channel_id" in s and "LIMIT" in s]
    assert claims
    how = " | ".join(plan(store, s, p) for s, p in claims)
    assert "message_delivery_state_next_attempt_at" in how and "message_channel_id" not in how, how
