"""Schema version 4 on a database made by version 3: the snooze columns are added, old
tasks are not snoozed, and snoozing works after the upgrade."""

from __future__ import annotations

from datetime import timedelta

from storage.database import SCHEMA_VERSION
from storage.hot_indexes import HOT_INDEXES
from storage.models import utcnow
from storage.store import Store
from tests.storage.conftest import Desk


def _back_to_version_3(store: Store) -> None:
    db = store.db
    for name in HOT_INDEXES:  # made at open (storage.hot_indexes) on the snooze columns
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    db.execute_sql("ALTER TABLE task DROP COLUMN snoozed_until")
    db.execute_sql("ALTER TABLE task DROP COLUMN snooze_until_client")
    kv = store.m.KeyValue
    kv.update(value="3").where(kv.key == "schema_version").execute()


def test_version_4_adds_snooze_to_a_version_3_database(desk: Desk, store_url: str) -> None:
    a = desk.say(desk.web, "visitor-a", "from A").task.id
    b = desk.say(desk.telegram, "2002", "from B").task.id
    _back_to_version_3(desk.store)
    assert "snoozed_until" not in {c.name for c in desk.store.db.get_columns("task")}
    desk.store.close()

    again = Store.open(store_url)
    try:
        assert again.schema_version == SCHEMA_VERSION >= 4
        assert {t.id for t in again.list_tasks().items} == {a, b}
        old = again.get_task(a)
        assert old.snoozed_until is None and old.snooze_until_client is False
        again.snooze([a], utcnow() + timedelta(hours=1))
        again.snooze([b], None, until_client_writes=True)
        assert again.list_tasks().items == ()
        assert again.get_task(b).snooze_until_client is True
    finally:
        again.close()


def test_a_fresh_database_runs_version_4_over_its_own_tables(store: Store) -> None:
    columns = {c.name for c in store.db.get_columns("task")}
    assert {"snoozed_until", "snooze_until_client"} <= columns
    assert store.schema_version == SCHEMA_VERSION >= 4
