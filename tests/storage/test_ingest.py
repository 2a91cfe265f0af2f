"""Rule 1 — ingest: contact by channel identity, one active task per contact per
channel, idempotent on the channel's message id, system data kept out of the thread."""

from __future__ import annotations

import pytest

from storage.errors import NotFound, RuleViolation
from storage.inputs import AttachmentIn, Inbound
from storage.models import INBOUND, NEW
from tests.storage.conftest import Desk, snapshot


def test_first_message_creates_contact_identity_and_task(desk: Desk) -> None:
    r = desk.say(desk.telegram, "500", "Здравствуйте!", display_name="Иван Петров",
                 username="ivan_p", phone="+79160000001")
    assert r.created_contact and r.created_task and not r.duplicate
    card = desk.store.contact_card(r.contact_id)
    assert card.contact.name == "Иван Петров"
    assert card.contact.phones == ("+79160000001",)
    (identity,) = card.identities
    assert (identity.channel_id, identity.external_id) == (desk.telegram, "500")
    assert (identity.username, identity.phone) == ("ivan_p", "+79160000001")
    task = r.task
    assert (task.channel_id, task.chat_id, task.contact_id) == (desk.telegram, "500", r.contact_id)
    assert task.status == NEW and task.unread_count == 1
    assert r.message.kind == INBOUND and r.message.text == "Здравствуйте!"
    assert r.message.author_contact_id == r.contact_id


def test_name_falls_back_to_username_then_phone_then_id(desk: Desk) -> None:
    assert desk.store.get_contact(desk.say(desk.web, "a", username="nick").contact_id).name == "nick"
    assert desk.store.get_contact(desk.say(desk.web, "b", phone="+100").contact_id).name == "+100"
    assert desk.store.get_contact(desk.say(desk.web, "c").contact_id).name == "c"


def test_same_contact_same_channel_stays_in_one_task(desk: Desk) -> None:
    first = desk.say(desk.telegram, "500", "one")
    second = desk.say(desk.telegram, "500", "two")
    third = desk.say(desk.telegram, "500", "three")
    assert not second.created_contact and not second.created_task
    assert first.task.id == second.task.id == third.task.id
    assert first.contact_id == third.contact_id
    assert desk.store.get_task(first.task.id).unread_count == 3
    texts = [m.text for m in desk.store.thread_before(first.task.id).items if m.kind == INBOUND]
    assert texts == ["one", "two", "three"]


def test_other_channel_or_other_client_gets_another_task(desk: Desk) -> None:
    a = desk.say(desk.telegram, "500")
    b = desk.say(desk.web, "500")  # the same id string in another channel is another client
    c = desk.say(desk.telegram, "501")
    assert len({a.task.id, b.task.id, c.task.id}) == 3
    assert len({a.contact_id, b.contact_id, c.contact_id}) == 3


def test_group_chat_binds_the_chat_and_identifies_the_sender(desk: Desk) -> None:
    a = desk.say(desk.telegram, "-100", "from A", sender="A")
    b = desk.say(desk.telegram, "-100", "from B", sender="B")
    assert a.task.id == b.task.id  # one window: one task
    assert a.contact_id != b.contact_id


def test_duplicate_delivery_stores_one_message(desk: Desk) -> None:
    first = desk.say(desk.telegram, "500", "hello", external_id="tg-1")
    before = snapshot(desk.store)
    again = desk.say(desk.telegram, "500", "hello", external_id="tg-1")
    assert again.duplicate and not again.created_task and not again.created_contact
    assert again.message.id == first.message.id and again.task.id == first.task.id
    assert snapshot(desk.store) == before  # unread count, activity: nothing moved
    # The same id in another channel is a different message.
    other = desk.say(desk.web, "500", "hello", external_id="tg-1")
    assert not other.duplicate


def test_duplicates_inside_one_batch(desk: Desk) -> None:
    msg = Inbound(desk.web, "v1", "v1", "hi", external_id="w-1")
    results = desk.store.ingest_many([msg, msg, Inbound(desk.web, "v1", "v1", "2", external_id="w-2")])
    assert [r.duplicate for r in results] == [False, True, False]
    assert results[0].message.id == results[1].message.id
    assert desk.store.thread_count(results[0].task.id) == 3  # created event + 2 messages


def test_system_data_goes_to_additional_data_not_the_thread(desk: Desk) -> None:
    r = desk.say(desk.web, "visitor", "Do you ship abroad?", username="v_user", phone="+4470",
                 system_data={"page": "https://shop.example/ship", "utm_source": "mail",
                              "language": "en", "empty": ""})
    data = desk.store.get_task(r.task.id).additional_data
    assert data["page"] == "https://shop.example/ship" and data["utm_source"] == "mail"
    assert data["channel"] == "web" and data["channel_kind"] == "webchat"
    assert data["username"] == "v_user" and data["phone"] == "+4470"
    assert "empty" not in data
    thread = " ".join(m.text for m in desk.store.thread_before(r.task.id).items)
    assert "shop.example" not in thread and "utm" not in thread
    assert r.message.text == "Do you ship abroad?"
    # Later system data is added, the client's text still stays separate.
    desk.say(desk.web, "visitor", "also", system_data={"page": "https://shop.example/pay"})
    assert desk.store.get_task(r.task.id).additional_data["page"] == "https://shop.example/pay"


def test_phone_and_username_update_the_identity_and_contact(desk: Desk) -> None:
    r = desk.say(desk.telegram, "500", username="old")
    desk.say(desk.telegram, "500", username="new", phone="+7999")
    card = desk.store.contact_card(r.contact_id)
    assert card.identities[0].username == "new" and card.identities[0].phone == "+7999"
    assert card.contact.phones == ("+7999",)
    desk.say(desk.telegram, "500", phone="+7999", email="a@b.c")
    card = desk.store.contact_card(r.contact_id)
    assert card.contact.phones == ("+7999",) and card.contact.emails == ("a@b.c",)


def test_attachments_are_stored_with_the_message(desk: Desk) -> None:
    r = desk.say(desk.telegram, "500", "", attachments=(
        AttachmentIn("фото.jpg", "image/jpeg", 1234, "tg://file/1"),))
    (att,) = desk.store.get_message(r.message.id).attachments
    assert (att.name, att.mime, att.size, att.location) == ("фото.jpg", "image/jpeg", 1234,
                                                            "tg://file/1")
    assert desk.store.get_task(r.task.id).last_preview == "фото.jpg"


def test_unknown_channel_is_a_clear_error_and_changes_nothing(desk: Desk) -> None:
    before = snapshot(desk.store)
    with pytest.raises(NotFound, match="Channel 999"):
        desk.say(999, "500")
    with pytest.raises(RuleViolation, match="chat id"):
        desk.say(desk.web, "")
    assert snapshot(desk.store) == before


def test_a_bad_message_in_a_batch_stores_none_of_it(desk: Desk) -> None:
    before = snapshot(desk.store)
    with pytest.raises(NotFound):
        desk.store.ingest_many([Inbound(desk.web, "v", "v", "ok", external_id="x1"),
                                Inbound(999, "v", "v", "bad", external_id="x2")])
    assert snapshot(desk.store) == before


def test_edit_inbound_keeps_the_original(desk: Desk) -> None:
    r = desk.say(desk.telegram, "500", "helo", external_id="m-1")
    desk.store.edit_inbound(desk.telegram, "m-1", "hello")
    msg = desk.store.get_message(r.message.id)
    assert msg.text == "hello" and msg.edited and msg.meta["original_text"] == "helo"
    assert desk.store.edit_inbound(desk.telegram, "unknown", "x") is None
