"""The index stays right through every domain operation, and the migration builds it."""

from __future__ import annotations

import peewee as pw

from storage.database import SCHEMA_VERSION
from storage.search import Searcher
from storage.search.index import ENTITIES, PG_DOCS, uninstall
from storage.store import Store
from tests.search.conftest import World, inbound


def check_index(store: Store) -> None:
    """The index holds exactly the documents the tables say (fails loudly otherwise)."""
    if store.postgres:
        for entity in ENTITIES:
            expr, source, cond = PG_DOCS[entity]
            alias = source.split()[1]
            stale = store.db.execute_sql(
                f'SELECT count(*) FROM ((SELECT {alias}.id, {expr} FROM "{entity}" {alias} '
                f"WHERE {cond}) EXCEPT (SELECT id, tsv FROM search_{entity})) x").fetchone()[0]
            extra = store.db.execute_sql(
                f'SELECT count(*) FROM ((SELECT id, tsv FROM search_{entity}) EXCEPT '
                f'(SELECT {alias}.id, {expr} FROM "{entity}" {alias} WHERE {cond})) x').fetchone()[0]
            assert (entity, stale, extra) == (entity, 0, 0)
    else:
        for entity in ENTITIES:
            store.db.execute_sql(f"INSERT INTO search_{entity}_fts(search_{entity}_fts, rank) "
                                 f"VALUES('integrity-check', 1)")


def message_ids(store: Store, query: str) -> set[int]:
    return {h.message_id for h in Searcher(store).search(query).hits if h.message_id}


def test_fresh_database_has_a_consistent_index(world: World) -> None:
    check_index(world.store)


def test_ingest_is_found_at_once(world: World) -> None:
    store = world.store
    msg = store.ingest(inbound(world.tg, "300", "zanzibar shipment delayed", "t9", 9)).message
    assert message_ids(store, "zanzib") == {msg.id}
    batch = store.ingest_many([inbound(world.tg, "300", f"parcel{i} lost", f"b{i}", 9)
                               for i in range(3)])
    assert message_ids(store, "parcel1") == {batch[1].message.id}
    check_index(store)


def test_edit_replaces_the_old_words(world: World) -> None:
    store = world.store
    msg_id = store.edit_inbound(world.tg, "t1", "Please send the receipt for October")
    assert message_ids(store, "4471") == set()
    assert message_ids(store, "receipt") == {msg_id}
    check_index(store)


def test_task_merge_moves_hits_to_the_target(world: World) -> None:
    store = world.store
    store.merge_tasks(world.ivan_task, [world.petr_task], different_clients_ok=True)
    results = Searcher(store).search("9000")
    assert [h.task_id for h in results.hits] == [world.ivan_task]
    assert [g.task.id for g in results.groups] == [world.ivan_task]
    check_index(store)


def test_contact_merge_moves_identities_to_the_survivor(world: World) -> None:
    store = world.store
    ivan = store.get_task(world.ivan_task).contact_id
    olga = store.get_task(world.olga_task).contact_id
    store.merge_contacts(ivan, olga)
    # The loser's identity (name in the web chat, e-mail) now finds the survivor only.
    assert [c.id for c in Searcher(store).search("ольга").contacts] == [ivan]
    assert [c.id for c in Searcher(store).search("olga@example.com").contacts] == [ivan]
    check_index(store)
    # And the conversation goes on in the same task, still searchable.
    store.ingest(inbound(world.web, "w-olga", "ещё один вопрос", "w3", 9))
    assert {h.task_id for h in Searcher(store).search("еще вопрос").hits} == {world.olga_task}
    check_index(store)


def test_task_edits_and_replies_keep_the_index(world: World) -> None:
    store = world.store
    store.update_task(world.ivan_task, world.anna, title="Invoice dispute Q4")
    results = Searcher(store).search("dispute")
    assert [g.task.id for g in results.groups if g.task_matched] == [world.ivan_task]
    reply = store.reply(world.petr_task, world.anna, "We will fix invoice 9000 today")
    store.mark_sent(reply.id, "ext-1")  # an update that does not touch the text
    assert reply.id in message_ids(store, "fix 9000")
    check_index(store)


def _downgrade(store: Store) -> None:
    """Make the database look as it did before the search migration existed."""
    with store.db.atomic():
        uninstall(store.db)
        kv = store.m.KeyValue
        kv.update(value="1").where(kv.key == "schema_version").execute()


def test_migration_indexes_an_existing_database(world: World, store_url: str) -> None:
    store = world.store
    _downgrade(store)
    store.close()
    calls: list[tuple[str, int, int]] = []
    reopened = Store.open(store_url, progress=lambda label, done, total: calls.append(
        (label, done, total)))
    try:
        assert reopened.schema_version == SCHEMA_VERSION
        assert message_ids(reopened, "4471")
        assert [c.name for c in Searcher(reopened).search("ольга").contacts] == ["Ольга"]
        check_index(reopened)
        messages = [c for c in calls if c[0] == "Indexing messages for search"]
        total = reopened.m.Message.select().count()
        assert messages[0] == ("Indexing messages for search", 0, total)
        assert messages[-1] == ("Indexing messages for search", total, total)
    finally:
        reopened.close()


def test_migration_progress_in_batches(sqlite_store: Store, monkeypatch: object) -> None:
    import storage.search.index as index

    store = sqlite_store
    ch = store.ensure_channel("webchat", "web").id
    store.ingest_many([inbound(ch, f"c{i}", f"word{i} common", f"e{i}", 1) for i in range(30)])
    monkeypatch.setattr(index, "BATCH", 10)  # type: ignore[attr-defined]
    calls: list[tuple[int, int]] = []
    with store.db.atomic():
        index.install(store.db, lambda label, done, total: calls.append((done, total))
                      if label == "Indexing messages for search" else None)
    total = store.m.Message.select().count()
    assert calls[0] == (0, total) and calls[-1] == (total, total) and len(calls) >= 4
    assert [d for d, _t in calls] == sorted(d for d, _t in calls)
    assert len(Searcher(store).search("common", limit=200).hits) == 30
    check_index(store)


def test_huge_message_is_stored_and_found(store: Store) -> None:
    ch = store.ensure_channel("webchat", "web").id
    text = "needle " + "x" * 2_000_000 + " tail"
    msg = store.ingest(inbound(ch, "big", text, "big1", 1)).message
    hits = Searcher(store).search("needle").hits
    assert [h.message_id for h in hits] == [msg.id]
    assert len(hits[0].snippet) < 200


def test_reopen_does_not_rebuild(world: World, store_url: str) -> None:
    world.store.close()
    calls: list[object] = []
    again = Store.open(store_url, progress=lambda *a: calls.append(a))
    try:
        assert calls == [] and message_ids(again, "4471")
    finally:
        again.close()


def test_peewee_database_kind_matches_backend(store: Store, backend: str) -> None:
    assert isinstance(store.db, pw.PostgresqlDatabase) == (backend == "postgres")


def _automerge(store: Store) -> dict[str, int]:
    return {entity: int(store.db.execute_sql(
        f"SELECT v FROM search_{entity}_fts_config WHERE k = 'automerge'").fetchone()[0])
        for entity in ENTITIES}


def test_sqlite_full_text_merge_policy_is_set_new_migrated_and_rebuilt(
        sqlite_store: Store) -> None:
    """FTS5's merge policy (fewer, larger merges: bench/PROFILE.md §10) on a new file, on
    a file from before it (version 4), and after the index is rebuilt."""
    from storage.search.index import AUTOMERGE, install

    want = dict.fromkeys(ENTITIES, AUTOMERGE)
    assert AUTOMERGE != 4  # FTS5's own default, which the migration must change
    assert _automerge(sqlite_store) == want
    with sqlite_store.db.atomic():
        for entity in ENTITIES:
            sqlite_store.db.execute_sql(
                f"DELETE FROM search_{entity}_fts_config WHERE k = 'automerge'")
        kv = sqlite_store.m.KeyValue
        kv.update(value="4").where(kv.key == "schema_version").execute()
    path = sqlite_store.db.database
    sqlite_store.close()
    reopened = Store.open(path)
    try:
        assert reopened.schema_version == SCHEMA_VERSION
        assert _automerge(reopened) == want
        install(reopened.db, lambda *_: None)  # a rebuild (bulk import) keeps it
        assert _automerge(reopened) == want
    finally:
        reopened.close()
