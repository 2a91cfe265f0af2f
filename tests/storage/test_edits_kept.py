"""Issue 19.6: a client's edits keep the earlier versions; a deleted message is marked,
its text kept for the team."""

from __future__ import annotations

from storage import events as ev
from tests.storage.conftest import Desk
from tests.storage.test_events import Recorder


def test_edits_keep_every_earlier_version(desk: Desk) -> None:
    said = desk.say(desk.telegram, "1001", "first", external_id="e1")
    assert desk.store.edit_inbound(desk.telegram, "e1", "second") == said.message.id
    desk.store.edit_inbound(desk.telegram, "e1", "third")
    desk.store.edit_inbound(desk.telegram, "e1", "third")  # no change: no new version
    msg = desk.store.get_message(said.message.id)
    assert msg.text == "third" and msg.edited
    assert [v["text"] for v in msg.versions] == ["first", "second"]
    assert msg.versions[0]["at"] == said.message.created_at.isoformat()
    assert msg.versions[1]["at"] > msg.versions[0]["at"]
    assert desk.store.edit_inbound(desk.telegram, "unknown", "x") is None


def test_a_deleted_message_is_marked_once_and_keeps_its_text(desk: Desk) -> None:
    said = desk.say(desk.web, "v1", "oops, wrong chat", external_id="d1")
    rec = Recorder()
    desk.store.bus.subscribe(rec)
    assert desk.store.mark_inbound_deleted(desk.web, "d1") == said.message.id
    assert desk.store.mark_inbound_deleted(desk.web, "d1") == said.message.id  # no change
    sentinel = desk.store.reply(said.task.id, desk.anna, "noted").id
    events = rec.wait_for(lambda evs: any(e.kind == ev.OUTBOX_QUEUED for e in evs))
    assert sentinel in [e.message_id for e in events]
    deleted = [e for e in events if e.kind == ev.MESSAGE_UPDATED and e.data.get("deleted")]
    assert [e.message_id for e in deleted] == [said.message.id]
    msg = desk.store.get_message(said.message.id)
    assert msg.deleted and msg.text == "oops, wrong chat"
    assert desk.store.mark_inbound_deleted(desk.web, "nope") is None


def test_only_client_messages_can_be_marked_deleted(desk: Desk) -> None:
    said = desk.say(desk.web, "v2", "hi")
    reply = desk.store.reply(said.task.id, desk.anna, "hello")
    [item] = desk.store.claim_outbox(limit=5)
    desk.store.mark_sent(item.message_id, "out-1")
    assert desk.store.mark_inbound_deleted(desk.web, "out-1") is None
    assert not desk.store.get_message(reply.id).deleted
