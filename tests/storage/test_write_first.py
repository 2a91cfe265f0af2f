"""Rule 6 — write first: only where the channel allows it (never a Telegram bot;
WhatsApp only with a template; the web chat yes), reusing the contact's active task."""

from __future__ import annotations

import pytest

from storage.errors import CannotWriteFirst, RuleViolation
from storage.models import COMPLETED, OUTBOUND, QUEUED
from tests.storage.conftest import Desk, snapshot


def test_telegram_bot_cannot_write_first(desk: Desk) -> None:
    contact = desk.say(desk.telegram, "500").contact_id
    reason = desk.store.write_first_refusal(contact, desk.telegram)
    assert reason and "Telegram" in reason and "client must write first" in reason
    before = snapshot(desk.store)
    with pytest.raises(CannotWriteFirst, match="Telegram"):
        desk.store.write_first(contact, desk.telegram, desk.anna, "hello")
    assert snapshot(desk.store) == before


def test_whatsapp_needs_a_template(desk: Desk) -> None:
    contact = desk.say(desk.whatsapp, "+4470").contact_id
    assert "template" in (desk.store.write_first_refusal(contact, desk.whatsapp) or "")
    before = snapshot(desk.store)
    with pytest.raises(CannotWriteFirst, match="template"):
        desk.store.write_first(contact, desk.whatsapp, desk.anna, "hello")
    assert snapshot(desk.store) == before
    assert desk.store.write_first_refusal(contact, desk.whatsapp, template="order_update") is None
    msg = desk.store.write_first(contact, desk.whatsapp, desk.anna, "Your order shipped",
                                 template="order_update")
    assert msg.meta["template"] == "order_update" and msg.delivery_state == QUEUED


def test_webchat_allows_and_opens_a_new_task_after_completion(desk: Desk) -> None:
    r = desk.say(desk.web, "visitor")
    desk.store.set_status([r.task.id], COMPLETED)
    assert desk.store.write_first_refusal(r.contact_id, desk.web) is None
    msg = desk.store.write_first(r.contact_id, desk.web, desk.anna, "Can we help?")
    assert msg.kind == OUTBOUND and msg.task_id != r.task.id
    task = desk.store.get_task(msg.task_id)
    assert (task.channel_id, task.chat_id, task.contact_id) == (desk.web, "visitor", r.contact_id)
    assert task.assignee_id == desk.anna
    assert task.additional_data["started_by"] == "operator"
    # The client's answer lands in the task the operator opened.
    assert desk.say(desk.web, "visitor", "yes please").task.id == task.id


def test_write_first_reuses_the_active_task(desk: Desk) -> None:
    r = desk.say(desk.web, "visitor")
    msg = desk.store.write_first(r.contact_id, desk.web, desk.anna, "Hello again")
    assert msg.task_id == r.task.id
    assert desk.store.count_tasks() == 1


def test_contact_without_identity_in_the_channel(desk: Desk) -> None:
    contact = desk.say(desk.telegram, "500").contact_id
    assert "no identity" in (desk.store.write_first_refusal(contact, desk.web) or "")
    with pytest.raises(CannotWriteFirst):
        desk.store.write_first(contact, desk.web, desk.anna, "hi")


def test_vk_respects_the_clients_permission(desk: Desk) -> None:
    contact = desk.say(desk.vk, "id1").contact_id
    assert desk.store.write_first_refusal(contact, desk.vk) is None
    desk.store.ensure_channel("vk", "vk", {"write_first_allowed": {"id1": False}})
    assert "not allowed" in (desk.store.write_first_refusal(contact, desk.vk) or "")


def test_empty_text_is_refused(desk: Desk) -> None:
    contact = desk.say(desk.web, "v").contact_id
    with pytest.raises(RuleViolation, match="empty"):
        desk.store.write_first(contact, desk.web, desk.anna, "  ")
