"""storage.prepared writes statements from the models: its INSERT stores the row
``Model.create`` stores, its UPDATE the row ``save`` leaves (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from storage.inputs import Inbound
from storage.prepared import Prepared, column, columns, table
from storage.store import Store

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _raw(store: Store, model: Any, row_id: int) -> dict[str, Any]:
    names = tuple(n for n in model._meta.fields if n != "id")
    sql = (f"SELECT {columns(model, names)} FROM {table(model)} "
           f"WHERE {column(model, 'id')} = {Prepared(store.db).p}")
    return dict(zip(names, store.db.execute_sql(sql, (row_id,)).fetchone(), strict=True))


def test_insert_and_update_store_what_peewee_stores(store: Store) -> None:
    ch = store.ensure_channel("generic", "api", {})
    first = store.ingest(Inbound(ch.id, "c", "c", "hi", external_id="1", sent_at=T0))
    m = store.m
    sql = Prepared(store.db)
    given = {"task": first.task.id, "kind": "inbound", "author_contact": first.contact_id,
             "text": "привет", "created_at": T0, "channel": ch.id, "chat_id": "c",
             "meta": {"a": "б"}}
    with store.db.atomic():
        ours = sql.insert(m.Message, {**given, "external_id": "ours"})
        theirs = m.Message.create(**given, external_id="theirs").id
    a, b = _raw(store, m.Message, ours), _raw(store, m.Message, theirs)
    assert a.pop("external_id") == "ours" and b.pop("external_id") == "theirs"
    assert a == b

    with store.db.atomic():
        sql.update(m.Task, first.task.id, {"last_preview": "x", "additional_data": {"k": 1}},
                   increment=("unread_count",))
    task = store.get_task(first.task.id)
    assert (task.last_preview, task.additional_data, task.unread_count) == (
        "x", {"k": 1}, first.task.unread_count + 1)
    assert sql.update_sql(m.Task, ("last_preview",), ("unread_count",)) == (
        f"UPDATE task SET last_preview = {sql.p}, unread_count = unread_count + 1 "
        f"WHERE id = {sql.p}")
