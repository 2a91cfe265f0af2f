"""Schema 6: no index that another index of its table already covers (issue 20).

A single-column index on a foreign key whose column leads a composite index of the same
table serves nothing the composite does not, and every insert writes it: on the
1M-message database the two on ``message`` cost ~10 % of a small batch's commit, which
is what a webhook's group commit makes (bench/PROFILE.md §14). Checked on both backends:
a fresh schema has none, a schema-5 database loses them at its next open, and (SQLite)
a lookup by each of those keys still searches an index.
"""

from __future__ import annotations

from typing import Any

from connectors.registry import policies
from storage.database import SCHEMA_VERSION, unindexed_foreign_keys
from storage.inputs import Inbound
from storage.store import Store


def indexes(store: Store, table: str) -> dict[str, tuple[str, ...]]:
    """The table's full (not partial) indexes: name -> columns."""
    return {index.name: tuple(index.columns) for index in store.db.get_indexes(table)
            if " WHERE " not in (index.sql or "").upper()}


def covered(found: dict[str, tuple[str, ...]]) -> list[str]:
    """Indexes whose columns are the leading columns of another index's."""
    return [name for name, cols in found.items()
            if any(other != name and len(more) > len(cols) and more[:len(cols)] == cols
                   for other, more in found.items())]


# The keys schema 6 took the own index from, and the composite that serves each.
UNINDEXED = {
    "identity": frozenset({"channel_id"}),  # (channel_id, external_id)
    "task": frozenset({"assignee_id", "channel_id"}),  # (assignee_id, last_activity_at, id), (channel_id, chat_id)
    "message": frozenset({"task_id", "channel_id"}),  # (task_id, created_at, id), (channel_id, external_id)
    "draft": frozenset({"task_id", "operator_id"}),  # (task_id, operator_id), (operator_id, task_id)
}


def test_a_fresh_schema_has_no_index_another_covers(store: Store) -> None:
    assert unindexed_foreign_keys(store.m) == UNINDEXED
    tables = [model._meta.table_name for model in store.m.all()]
    assert {t: covered(indexes(store, t)) for t in tables} == {t: [] for t in tables}
    # …and the composites that serve those keys are there.
    for table, columns in UNINDEXED.items():
        leading = {cols[0] for cols in indexes(store, table).values()}
        assert columns <= leading, (table, columns - leading)


def test_a_schema_5_database_drops_them_at_its_next_open(store: Store, store_url: str) -> None:
    web = store.ensure_channel("webchat", "web").id
    task = store.ingest(Inbound(channel_id=web, chat_id="c1", sender_id="c1", text="Привет",
                                external_id="c1-1")).task.id
    for model in store.m.all():  # what peewee made for those keys before schema 6
        for field in model._meta.sorted_fields:
            if field.column_name in UNINDEXED.get(model._meta.table_name, ()):
                store.db.execute(model.index(field))
    kv = store.m.KeyValue
    kv.update(value="5").where(kv.key == "schema_version").execute()
    assert indexes(store, "message")["message_task_id"] == ("task_id",)

    again = Store.open(store_url, policies=policies())
    try:
        assert again.schema_version == SCHEMA_VERSION == 6
        tables = [model._meta.table_name for model in again.m.all()]
        assert {t: covered(indexes(again, t)) for t in tables} == {t: [] for t in tables}
        for table, columns in UNINDEXED.items():
            assert not {cols for cols in indexes(again, table).values() if cols[0] in columns
                        and len(cols) == 1}, table
        assert [m.text for m in again.thread_before(task, None).items][-1] == "Привет"
    finally:
        again.close()


def plan(store: Store, sql: str, params: Any) -> str:
    rows = store.db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return " | ".join(str(row[-1]) for row in rows)


def test_lookups_by_those_keys_still_search_an_index_on_sqlite(sqlite_store: Store) -> None:
    store = sqlite_store
    for table, columns in UNINDEXED.items():
        for column in columns:
            how = plan(store, f'SELECT * FROM "{table}" WHERE "{column}" = ?', (1,))
            assert how.startswith(f"SEARCH {table} USING ") and "INDEX" in how, (column, how)
