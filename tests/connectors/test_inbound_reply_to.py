"""Issue 19.4 (W1): connectors hand the store what a client's message answers
(``Inbound.reply_to_external_id``), in the form the store knows that message by."""

from __future__ import annotations

from connectors.telegram.parse import NewMessage, parse_update
from connectors.vk.parse import parse_message
from storage.store import Store


def test_telegram_reply_carries_the_replied_messages_external_id() -> None:
    chat = {"id": 1001, "type": "private", "first_name": "Анна"}
    parsed = parse_update({"update_id": 5, "message": {
        "message_id": 8, "date": 1_700_000_000, "chat": chat, "from": {"id": 1001, "is_bot": False,
                                                                      "first_name": "Анна"},
        "text": "да, этот", "reply_to_message": {"message_id": 7, "date": 1_699_999_000,
                                                 "chat": chat, "text": "который?"}}}, 3)
    assert isinstance(parsed, NewMessage)
    assert parsed.inbound.reply_to_external_id == parsed.reply_to
    assert parsed.inbound.reply_to_external_id == parsed.inbound.external_id.replace(":8", ":7")


def test_vk_reply_message_id_becomes_reply_to(sqlite_store: Store) -> None:
    vk = sqlite_store.ensure_channel("vk", "vk").id
    first = parse_message({"id": 41, "peer_id": 2000, "from_id": 2000, "text": "вопрос",
                           "date": 1_700_000_000}, vk)
    answer = parse_message({"id": 43, "peer_id": 2000, "from_id": 2000, "text": "ответ",
                            "date": 1_700_000_100, "reply_message": {
                                "id": 41, "from_id": 2000, "text": "вопрос"}}, vk)
    plain = parse_message({"id": 44, "peer_id": 2000, "from_id": 2000, "text": "x",
                           "date": 1_700_000_200}, vk)
    assert answer.reply_to_external_id == "41" and plain.reply_to_external_id is None
    stored = sqlite_store.ingest(first).message
    assert sqlite_store.ingest(answer).message.reply_to_message_id == stored.id
