"""What ``ingest_many`` answers is exactly what the store's readers give for the same
message and task, on every ingest path (the results are read back without peewee
objects: storage/result_rows.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.inputs import AttachmentIn, Inbound
from storage.store import Store

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def test_ingest_results_are_the_rows_the_readers_give(store: Store) -> None:
    ch = store.ensure_channel("generic", "api", {})
    op = store.ensure_operator("anna")
    batch = [
        # a new conversation (storage.ingest_new)
        Inbound(ch.id, "c1", "c1", "first", external_id="1", sent_at=T0, display_name="Иван",
                username="ivan", system_data={"page": "/a"}),
        # the same client again in the same batch: the fast path
        Inbound(ch.id, "c1", "c1", "second", external_id="2", sent_at=T0 + timedelta(minutes=1),
                client_data={"plan": "gold"}),
        # with a file: the general path
        Inbound(ch.id, "c2", "c2", "a file", external_id="3", sent_at=T0,
                attachments=(AttachmentIn("a.pdf", "application/pdf", 10, "s3://a"),)),
        # the same delivery twice in one batch
        Inbound(ch.id, "c1", "c1", "second", external_id="2"),
    ]
    results = store.ingest_many(batch)
    assert [r.duplicate for r in results] == [False, False, False, True]
    assert [r.created_task for r in results] == [True, False, True, False]
    store.assign([results[0].task.id], op.id, op.id)
    # a stored duplicate (with its attachment) in a later batch, into an assigned task
    later = store.ingest_many([batch[2], Inbound(ch.id, "c1", "c1", "third", external_id="4",
                                                 sent_at=T0 + timedelta(minutes=2))])
    for r in [*results, *later]:
        assert r.message == store.get_message(r.message.id)
        assert r.task.id == r.message.task_id
    assert later[0].message.attachments[0].name == "a.pdf"
    assert later[0].duplicate
    # the result is read after the whole batch: the task as the batch left it
    assert results[0].task == results[1].task
    assert later[1].task == store.get_task(later[1].task.id)
    assert later[1].task.assignee_name == "anna"
    assert later[1].task.contact_name == "Иван"
    assert later[1].task.channel_name == "api"
