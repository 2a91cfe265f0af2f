"""Issue 18: scheduled replies wait for their time, can be listed and cancelled, hold back
nothing written after them, and respect the channel's window when they fall due."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.errors import RuleViolation
from storage.models import FAILED, QUEUED, SENDING, utcnow
from tests.storage.conftest import Desk, snapshot


def test_a_scheduled_reply_waits_for_its_time(desk: Desk) -> None:
    task = desk.say(desk.web, "v1", "call me tomorrow").task.id
    at = utcnow() + timedelta(hours=10)
    msg = desk.store.reply(task, desk.anna, "Good morning!", send_at=at)
    assert msg.delivery_state == QUEUED and msg.scheduled_at == at
    assert [m.id for m in desk.store.scheduled_replies(task)] == [msg.id]
    assert [m.id for m in desk.store.scheduled_replies()] == [msg.id]
    assert desk.store.claim_outbox(limit=5) == []
    assert desk.store.next_outbox_due() == at
    [item] = desk.store.claim_outbox(limit=5, now=at + timedelta(seconds=1))
    assert item.message_id == msg.id
    assert desk.store.scheduled_replies(task) == []


def test_a_scheduled_reply_holds_back_nothing_written_after_it(desk: Desk) -> None:
    task = desk.say(desk.web, "v2", "hi").task.id
    later = desk.store.reply(task, desk.anna, "later", send_at=utcnow() + timedelta(hours=1))
    now = desk.store.reply(task, desk.anna, "right now")
    assert [i.message_id for i in desk.store.claim_outbox(limit=5)] == [now.id]
    assert desk.store.get_message(later.id).delivery_state == QUEUED


def test_a_scheduled_reply_whose_window_closed_fails_with_the_reason(desk: Desk) -> None:
    # The client wrote 23 hours ago: WhatsApp's 24-hour window is open now, shut in 2 hours.
    said = desk.say(desk.whatsapp, "79001234567", "hello", minute=60)
    at = utcnow() + timedelta(hours=2)
    msg = desk.store.reply(said.task.id, desk.anna, "Here is the answer", send_at=at)
    assert desk.store.claim_outbox(limit=5, now=at + timedelta(seconds=1)) == []
    failed = desk.store.get_message(msg.id)
    assert failed.delivery_state == FAILED
    assert "WhatsApp" in failed.failure_reason and "24 hours" in failed.failure_reason


def test_a_scheduled_reply_inside_the_window_goes_out(desk: Desk) -> None:
    said = desk.say(desk.whatsapp, "79001234568", "hello", minute=23 * 60)  # 1 hour ago
    at = utcnow() + timedelta(hours=2)
    msg = desk.store.reply(said.task.id, desk.anna, "Here", send_at=at)
    [item] = desk.store.claim_outbox(limit=5, now=at + timedelta(seconds=1))
    assert item.message_id == msg.id
    assert desk.store.get_message(msg.id).delivery_state == SENDING


def test_cancel_leaves_a_visible_cancelled_message(desk: Desk) -> None:
    task = desk.say(desk.web, "v3", "hi").task.id
    msg = desk.store.reply(task, desk.anna, "reminder", send_at=utcnow() + timedelta(days=1))
    cancelled = desk.store.cancel_scheduled(msg.id, desk.anna)
    assert cancelled.delivery_state == FAILED and cancelled.cancelled
    assert "Anna" in cancelled.failure_reason
    assert desk.store.scheduled_replies(task) == []
    assert desk.store.claim_outbox(limit=5, now=utcnow() + timedelta(days=2)) == []
    assert [a.action for a in desk.store.audit_for(task)][-1] == "scheduled_cancelled"
    again = desk.store.retry(msg.id, desk.anna)  # sent now, no longer cancelled
    assert again.delivery_state == QUEUED and not again.cancelled


def test_only_a_scheduled_reply_not_yet_due_can_be_cancelled(desk: Desk) -> None:
    task = desk.say(desk.web, "v4", "hi").task.id
    plain = desk.store.reply(task, desk.anna, "plain")
    before = snapshot(desk.store)
    with pytest.raises(RuleViolation):
        desk.store.cancel_scheduled(plain.id, desk.anna)
    assert snapshot(desk.store) == before


def test_scheduling_in_the_past_or_a_note_is_refused(desk: Desk) -> None:
    task = desk.say(desk.web, "v5", "hi").task.id
    before = snapshot(desk.store)
    with pytest.raises(RuleViolation):
        desk.store.reply(task, desk.anna, "x", send_at=utcnow() - timedelta(minutes=1))
    with pytest.raises(RuleViolation):
        desk.store.reply(task, desk.anna, "x", private=True,
                         send_at=utcnow() + timedelta(minutes=1))
    assert snapshot(desk.store) == before
