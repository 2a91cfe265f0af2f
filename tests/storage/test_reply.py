"""Rule 3 — reply: an operator comment is stored outbound and queued (the outbox); a
private note is stored and never queued; a task with no channel refuses a reply."""

from __future__ import annotations

import pytest

from storage.errors import NoChannel, NotFound, RuleViolation
from storage.models import COMPLETED, NOTE, OUTBOUND, QUEUED, WAITING
from tests.storage.conftest import Desk, snapshot


def test_reply_is_queued_outbound(desk: Desk) -> None:
    task = desk.say(desk.telegram, "500", "где заказ?").task.id
    msg = desk.store.reply(task, desk.anna, "Уже в пути!")
    assert msg.kind == OUTBOUND and msg.delivery_state == QUEUED
    assert msg.channel_id == desk.telegram and msg.author_operator_name == "Anna"
    assert msg.meta["text_limit"] == 4096
    (item,) = desk.store.claim_outbox()
    assert (item.message_id, item.chat_id, item.text) == (msg.id, "500", "Уже в пути!")
    assert desk.store.get_task(task).unread_count == 0


def test_private_note_is_never_queued(desk: Desk) -> None:
    task = desk.say(desk.telegram, "500").task.id
    status = desk.store.get_task(task).status
    note = desk.store.note(task, desk.anna, "client sounds angry")
    assert note.kind == NOTE and note.delivery_state is None and note.channel_id is None
    assert desk.store.claim_outbox() == []
    assert desk.store.next_outbox_due() is None
    assert desk.store.get_task(task).status == status  # a note is not a reply to the client
    private = desk.store.reply(task, desk.anna, "also private", private=True)
    assert private.kind == NOTE and desk.store.claim_outbox() == []


def test_reply_on_task_without_channel_is_a_clear_error(desk: Desk) -> None:
    task = desk.say(desk.web, "v").task.id
    desk.store.m.Task.update(channel=None, chat_id=None, bound_key=None).where(
        desk.store.m.Task.id == task).execute()  # a task made by hand has no channel
    before = snapshot(desk.store)
    with pytest.raises(NoChannel, match="not bound to any channel"):
        desk.store.reply(task, desk.anna, "hello?")
    assert snapshot(desk.store) == before
    assert desk.store.note(task, desk.anna, "a note still works").kind == NOTE


def test_empty_reply_and_unknown_task_or_operator(desk: Desk) -> None:
    task = desk.say(desk.web, "v").task.id
    before = snapshot(desk.store)
    with pytest.raises(RuleViolation, match="empty"):
        desk.store.reply(task, desk.anna, "   ")
    with pytest.raises(NotFound):
        desk.store.reply(9999, desk.anna, "x")
    with pytest.raises(NotFound):
        desk.store.reply(task, 9999, "x")
    assert snapshot(desk.store) == before


def test_reply_in_a_completed_task_is_still_allowed_and_queued(desk: Desk) -> None:
    task = desk.say(desk.web, "v").task.id
    desk.store.set_status([task], COMPLETED)
    msg = desk.store.reply(task, desk.anna, "one more thing")
    assert msg.delivery_state == QUEUED
    assert desk.store.get_task(task).status == COMPLETED


def test_failed_reply_can_be_retried_by_hand(desk: Desk) -> None:
    task = desk.say(desk.telegram, "500").task.id
    msg = desk.store.reply(task, desk.anna, "hi")
    with pytest.raises(RuleViolation):
        desk.store.retry(msg.id, desk.anna)  # queued, not failed
    desk.store.claim_outbox()
    desk.store.mark_failed(msg.id, "Forbidden: bot was blocked by the user")
    failed = desk.store.get_message(msg.id)
    assert failed.failure_reason == "Forbidden: bot was blocked by the user"
    assert desk.store.retry(msg.id, desk.anna).delivery_state == QUEUED
    assert [i.message_id for i in desk.store.claim_outbox()] == [msg.id]
    assert desk.store.get_task(task).status == WAITING
