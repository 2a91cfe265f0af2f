"""Schema version 3 on a database made by version 2: addresses filled, drafts table made."""

from __future__ import annotations

from storage.database import SCHEMA_VERSION
from storage.store import Store
from tests.storage.conftest import Desk


def _back_to_version_2(store: Store) -> None:
    """Make the database look as version 2 left it: no message.chat_id, no drafts."""
    db = store.db
    db.execute_sql("DROP INDEX IF EXISTS message_channel_id_chat_id_created_at_id")
    db.execute_sql("DROP TABLE IF EXISTS draft")
    db.execute_sql("ALTER TABLE message DROP COLUMN chat_id")
    kv = store.m.KeyValue
    kv.update(value="2").where(kv.key == "schema_version").execute()


def test_version_3_fills_each_message_address_from_where_it_was_written(
        desk: Desk, store_url: str) -> None:
    a = desk.say(desk.web, "visitor-a", "from A", display_name="A").task.id
    b = desk.say(desk.telegram, "2002", "from B", display_name="B").task.id
    queued = desk.store.reply(a, desk.anna, "to A").id
    to_b = desk.store.reply(b, desk.anna, "to B").id
    note = desk.store.note(a, desk.anna, "note").id
    desk.store.merge_tasks(b, [a], desk.maria, different_clients_ok=True)
    _back_to_version_2(desk.store)
    desk.store.close()

    again = Store.open(store_url)
    try:
        assert again.schema_version == SCHEMA_VERSION
        M = again.m.Message
        chats = {m.text: (m.channel_id, m.chat_id) for m in M.select()}
        assert chats["from A"] == (desk.web, "visitor-a")
        assert chats["to A"] == (desk.web, "visitor-a")  # moved by the merge: its own chat
        assert chats["from B"] == (desk.telegram, "2002")
        assert chats["to B"] == (desk.telegram, "2002")
        assert again.get_message(note).chat_id is None
        items = {i.message_id: (i.channel_id, i.chat_id) for i in again.claim_outbox(limit=10)}
        assert items == {queued: (desk.web, "visitor-a")}
        assert to_b not in items  # same task, queued after: waits its turn
        assert [m.text for m in again.conversation_page(desk.web, "visitor-a").items] == [
            "from A", "to A"]
        again.drafts.save(b, desk.anna, "works after the upgrade")
        assert again.drafts.task_ids(desk.anna) == frozenset({b})
    finally:
        again.close()


def test_a_fresh_database_runs_version_3_over_its_own_tables(store: Store) -> None:
    """Created from the models (chat_id and drafts already there), then migrated: no error."""
    columns = {c.name for c in store.db.get_columns("message")}
    assert "chat_id" in columns
    assert store.db.table_exists("draft")
    indexes = {i.name for i in store.db.get_indexes("message")}
    assert "message_channel_id_chat_id_created_at_id" in indexes
