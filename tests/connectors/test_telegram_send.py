"""Outbound over real HTTP to the fake Bot API: text, long-text splitting, files, and the
mapping of Telegram's errors onto the outbox's transient and permanent classes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from connectors.base import PermanentSendError, SendResult, TransientSendError
from connectors.telegram.connector import TelegramConnector
from connectors.telegram.send import CAPTION_LIMIT, reply_parameters
from storage.errors import CannotWriteFirst
from storage.inputs import AttachmentIn, Inbound
from storage.rows import ChannelRow, OutboxItem
from storage.store import Store
from tests.connectors.fake_telegram import BLOCKED, CHAT_NOT_FOUND, REPLY_NOT_FOUND, FakeTelegram
from tests.connectors.telegram_fixtures import *  # noqa: F403
from tests.connectors.telegram_fixtures import all_messages, wait_for

CHAT = 4242


def item(text: str, *, message_id: int = 1, chat_id: int = CHAT, attempts: int = 1,
         attachments: tuple = (), meta: dict | None = None) -> OutboxItem:
    return OutboxItem(message_id, 1, 1, "telegram", str(chat_id), text, attempts, meta or {},
                      attachments)


@pytest.fixture
async def conn(fake: FakeTelegram, make_connector: Any,
               session: aiohttp.ClientSession) -> Any:
    fake.chats[CHAT] = {"id": CHAT, "type": "private", "first_name": "Анна"}
    connector: TelegramConnector = make_connector(mode="webhook", webhook_url="http://127.0.0.1:9/h")
    await connector.start(session)  # webhook mode: no poller competing for the fake
    yield connector
    await connector.stop()


async def test_reply_from_the_store_is_sent(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow) -> None:
    """The whole path: a client writes, the operator replies, the outbox item goes out."""
    polling: TelegramConnector = make_connector()
    await polling.start(session)
    try:
        fake.push_message("Где мой заказ?")
        [msg] = await wait_for(lambda: all_messages(sqlite_store, tg_channel.id), what="inbound")
        op = sqlite_store.ensure_operator("Оля")
        reply = sqlite_store.reply(msg.task_id, op.id, "Уже в пути!")
        [claimed] = sqlite_store.claim_outbox(10, channel_ids=(tg_channel.id,))
        result = await polling.send(claimed)
        sqlite_store.mark_sent(claimed.message_id, result.external_id)
    finally:
        await polling.stop()
    [sent] = fake.sent
    assert sent["text"] == "Уже в пути!" and sent["chat"]["id"] == CHAT
    assert result == SendResult(f"{CHAT}:{sent['message_id']}")
    assert sqlite_store.get_message(reply.id).delivery_state == "sent"


async def test_long_text_is_split_and_every_id_recorded(
        fake: FakeTelegram, conn: TelegramConnector) -> None:
    paragraph = ("Строка ответа оператора. " * 100).strip()  # 2,499 characters
    text = "\n\n".join([paragraph] * 4)
    result = await conn.send(item(text))
    texts = [m["text"] for m in fake.sent]
    assert len(texts) == 4 and texts == [paragraph] * 4
    ids = [f"{CHAT}:{m['message_id']}" for m in fake.sent]
    assert (result.external_id, *result.extra_ids) == tuple(ids)


async def test_429_is_transient_with_retry_after_and_the_retry_succeeds(
        fake: FakeTelegram, conn: TelegramConnector) -> None:
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    with pytest.raises(TransientSendError) as info:
        await conn.send(item("привет"))
    assert info.value.retry_after == 3 and str(info.value) == "Too Many Requests: retry after 3"
    assert fake.sent == []
    result = await conn.send(item("привет", attempts=2))
    assert [m["text"] for m in fake.sent] == ["привет"] and result.external_id


async def test_blocked_bot_is_permanent_with_telegrams_description(
        fake: FakeTelegram, conn: TelegramConnector) -> None:
    fake.blocked.add(CHAT)
    with pytest.raises(PermanentSendError) as info:
        await conn.send(item("вы тут?"))
    assert str(info.value) == BLOCKED


async def test_blocked_ends_as_failed_in_the_store(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow) -> None:
    polling: TelegramConnector = make_connector()
    await polling.start(session)
    try:
        fake.push_message("привет")
        [msg] = await wait_for(lambda: all_messages(sqlite_store, tg_channel.id), what="inbound")
        fake.blocked.add(CHAT)
        reply = sqlite_store.reply(msg.task_id, sqlite_store.ensure_operator("Оля").id, "ответ")
        [claimed] = sqlite_store.claim_outbox(10, channel_ids=(tg_channel.id,))
        with pytest.raises(PermanentSendError) as info:
            await polling.send(claimed)
        sqlite_store.mark_failed(claimed.message_id, str(info.value))
    finally:
        await polling.stop()
    row = sqlite_store.get_message(reply.id)
    assert row.delivery_state == "failed" and row.failure_reason == BLOCKED


async def test_chat_not_found_and_bad_requests_are_permanent(
        fake: FakeTelegram, conn: TelegramConnector) -> None:
    with pytest.raises(PermanentSendError) as info:
        await conn.send(item("кому?", chat_id=999))
    assert str(info.value) == CHAT_NOT_FOUND
    fake.fail("sendMessage", 400, "Bad Request: can't parse entities")
    with pytest.raises(PermanentSendError, match="can't parse entities"):
        await conn.send(item("x"))
    with pytest.raises(PermanentSendError, match="empty"):
        await conn.send(item("   "))
    assert not [c for c in fake.calls_to("sendMessage") if not str(c.params["text"]).strip()]


@pytest.mark.parametrize("failure", [
    {"error_code": 502, "description": "Bad Gateway", "html": True},
    {"error_code": 500, "description": "Internal Server Error"},
    {"error_code": 401, "description": "Unauthorized"},
])
async def test_server_errors_are_transient(fake: FakeTelegram, conn: TelegramConnector,
                                           failure: dict) -> None:
    fake.fail("sendMessage", **failure)
    with pytest.raises(TransientSendError):
        await conn.send(item("x"))


async def test_connection_errors_and_timeouts_are_transient(
        fake: FakeTelegram, conn: TelegramConnector, session: aiohttp.ClientSession) -> None:
    assert conn.api is not None
    conn.api.base_url = "http://127.0.0.1:9"
    with pytest.raises(TransientSendError, match="Cannot reach Telegram") as info:
        await conn.send(item("x"))
    assert fake.token.split(":")[1] not in str(info.value)


async def test_timeout_is_transient(fake: FakeTelegram, conn: TelegramConnector) -> None:
    assert conn.api is not None
    conn.api.request_timeout = 0.1
    fake.delay("sendMessage", 0.3)
    with pytest.raises(TransientSendError, match="in time"):
        await conn.send(item("x"))


async def test_partial_failure_resumes_without_repeating_parts(
        fake: FakeTelegram, conn: TelegramConnector, sqlite_store: Store) -> None:
    """Telegram has no idempotency key: after the second of three parts fails, the retry
    sends only what is missing, and the result names all three."""
    text = ("а" * 4000) + "\n\n" + ("б" * 4000) + "\n\n" + ("в" * 100)
    fake.fail("sendMessage", 503, "Service Unavailable", after=1)
    with pytest.raises(TransientSendError, match="Service Unavailable"):
        await conn.send(item(text, message_id=77, attempts=1))
    assert [m["text"][0] for m in fake.sent] == ["а"]
    result = await conn.send(item(text, message_id=77, attempts=2))
    assert [m["text"][0] for m in fake.sent] == ["а", "б", "в"]  # "а" was not sent again
    assert (result.external_id, *result.extra_ids) == tuple(
        f"{CHAT}:{m['message_id']}" for m in fake.sent)
    assert sqlite_store.get_state(f"telegram:{conn.spec.id}:sending:77") == ""


async def test_attachments_local_file_photo_url_and_file_id(
        fake: FakeTelegram, conn: TelegramConnector, tmp_path: Path) -> None:
    doc = tmp_path / "счёт.pdf"
    doc.write_bytes(b"%PDF-1.4 test")
    png = tmp_path / "photo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    known = fake.file_id()
    atts = (("счёт.pdf", "application/pdf", 13, str(doc)),
            ("photo.png", "image/png", 108, str(png)),
            ("remote.pdf", "application/pdf", 0, "https://example.org/remote.pdf"),
            ("again.pdf", "application/pdf", 0, known))
    result = await conn.send(item("файлы", attachments=atts))
    # The text fits a caption: it goes with the first file, in one message.
    assert [c.method for c in fake.calls if c.method.startswith("send")] == [
        "sendDocument", "sendPhoto", "sendDocument", "sendDocument"]
    doc_call, photo_call, url_call, id_call = [c for c in fake.calls if c.method in (
        "sendDocument", "sendPhoto")]
    assert doc_call.params["caption"] == "файлы" and fake.sent[0]["caption"] == "файлы"
    assert "caption" not in photo_call.params
    assert doc_call.files["document"].data == b"%PDF-1.4 test"
    assert doc_call.files["document"].filename == "счёт.pdf"
    assert doc_call.params["chat_id"] == str(CHAT)
    assert photo_call.files["photo"].data == png.read_bytes()
    assert url_call.params["document"] == "https://example.org/remote.pdf"
    assert id_call.params["document"] == known
    assert (result.external_id, *result.extra_ids) == tuple(
        f"{CHAT}:{m['message_id']}" for m in fake.sent)
    assert len(result.extra_ids) == 3


async def test_missing_local_file_is_permanent(fake: FakeTelegram, conn: TelegramConnector,
                                               tmp_path: Path) -> None:
    with pytest.raises(PermanentSendError, match="cannot be read"):
        await conn.send(item("", attachments=(("нет.pdf", "application/pdf", 0,
                                               str(tmp_path / "нет.pdf")),)))
    assert not fake.calls_to("sendDocument")


async def test_cannot_write_first(sqlite_store: Store, tg_channel: ChannelRow) -> None:
    assert TelegramConnector.can_write_first is False
    result = sqlite_store.ingest(Inbound(tg_channel.id, "1", "1", "привет", external_id="1:1"))
    assert sqlite_store.write_first_refusal(result.contact_id, tg_channel.id)
    with pytest.raises(CannotWriteFirst):
        sqlite_store.write_first(result.contact_id, tg_channel.id, None, "Здравствуйте!")


async def test_file_names_cannot_inject_multipart_headers(
        fake: FakeTelegram, conn: TelegramConnector, tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_bytes(b"data")
    await conn.send(item("", attachments=(('a"b\r\nX-Evil: 1.txt', "text/plain", 4,
                                           str(path)),)))
    [call] = fake.calls_to("sendDocument")
    assert call.files["document"].filename == "a_b__X-Evil: 1.txt"
    assert call.files["document"].data == b"data"


# ---- files with captions ---------------------------------------------------------------
async def test_reply_with_a_file_from_the_store_is_uploaded_with_its_caption(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow, tmp_path: Path) -> None:
    """The whole path: an operator's reply with a local file becomes one multipart
    sendPhoto whose caption is the text."""
    png = tmp_path / "схема.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"1" * 50)
    polling: TelegramConnector = make_connector()
    await polling.start(session)
    try:
        fake.push_message("Покажите, куда подъехать?")
        [msg] = await wait_for(lambda: all_messages(sqlite_store, tg_channel.id), what="inbound")
        reply = sqlite_store.reply(msg.task_id, sqlite_store.ensure_operator("Оля").id,
                                   "Вот схема проезда", attachments=(AttachmentIn(
                                       "схема.png", "image/png", 58, str(png)),))
        [claimed] = sqlite_store.claim_outbox(10, channel_ids=(tg_channel.id,))
        result = await polling.send(claimed)
        sqlite_store.mark_sent(claimed.message_id, result.external_id)
    finally:
        await polling.stop()
    assert not fake.calls_to("sendMessage")
    [call] = fake.calls_to("sendPhoto")
    assert call.files["photo"].data == png.read_bytes()
    assert call.files["photo"].filename == "схема.png"
    assert call.files["photo"].content_type == "image/png"
    assert call.params["caption"] == "Вот схема проезда" and call.params["chat_id"] == str(CHAT)
    [sent] = fake.sent
    assert result == SendResult(f"{CHAT}:{sent['message_id']}")
    assert sqlite_store.get_message(reply.id).delivery_state == "sent"


async def test_text_too_long_for_a_caption_goes_first(
        fake: FakeTelegram, conn: TelegramConnector, tmp_path: Path) -> None:
    doc = tmp_path / "отчёт.txt"
    doc.write_bytes(b"report")
    text = "п" * (CAPTION_LIMIT + 1)
    result = await conn.send(item(text, attachments=(("отчёт.txt", "text/plain", 6,
                                                      str(doc)),)))
    assert [c.method for c in fake.calls if c.method.startswith("send")] == [
        "sendMessage", "sendDocument"]
    assert fake.sent[0]["text"] == text and "caption" not in fake.sent[1]
    assert len(result.extra_ids) == 1
    # At the limit it still fits.
    await conn.send(item("п" * CAPTION_LIMIT, attachments=(("отчёт.txt", "text/plain", 6,
                                                             str(doc)),)))
    assert fake.sent[-1]["caption"] == "п" * CAPTION_LIMIT


# ---- native quote-reply ------------------------------------------------------------------
async def test_quote_reply_from_the_store_sends_reply_parameters(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow) -> None:
    polling: TelegramConnector = make_connector()
    await polling.start(session)
    try:
        asked = fake.push_message("Сколько стоит доставка?")["message"]
        fake.push_message("И сколько ехать?")
        first, _second = await wait_for(
            lambda: len(all_messages(sqlite_store, tg_channel.id)) == 2
            and all_messages(sqlite_store, tg_channel.id), what="two messages")
        assert first.external_id == f"{CHAT}:{asked['message_id']}"
        sqlite_store.reply(first.task_id, sqlite_store.ensure_operator("Оля").id, "300 ₽",
                           meta={"quote_external_id": first.external_id})
        [claimed] = sqlite_store.claim_outbox(10, channel_ids=(tg_channel.id,))
        await polling.send(claimed)
    finally:
        await polling.stop()
    [call] = fake.calls_to("sendMessage")
    assert call.params["reply_parameters"] == {"message_id": asked["message_id"],
                                               "allow_sending_without_reply": True}
    [sent] = fake.sent
    assert sent["reply_to_message"]["message_id"] == asked["message_id"]


async def test_quote_reply_on_a_captioned_upload(
        fake: FakeTelegram, conn: TelegramConnector, tmp_path: Path) -> None:
    """Multipart bodies carry reply_parameters JSON-serialized; Telegram reads it."""
    asked = fake.message("пришлите счёт", chat_id=CHAT)
    doc = tmp_path / "счёт.pdf"
    doc.write_bytes(b"%PDF")
    await conn.send(item("Счёт во вложении", attachments=(
        ("счёт.pdf", "application/pdf", 4, str(doc)),),
        meta={"quote_external_id": f"{CHAT}:{asked['message_id']}"}))
    [call] = fake.calls_to("sendDocument")
    assert call.files["document"].data == b"%PDF"
    assert call.params["reply_parameters"] == {"message_id": asked["message_id"],
                                               "allow_sending_without_reply": True}
    assert fake.sent[0]["reply_to_message"]["message_id"] == asked["message_id"]
    assert fake.sent[0]["caption"] == "Счёт во вложении"


async def test_quote_of_a_deleted_message_still_sends(
        fake: FakeTelegram, conn: TelegramConnector) -> None:
    asked = fake.message("удалю потом", chat_id=CHAT)
    fake.delete_message(CHAT, asked["message_id"])
    result = await conn.send(item("ответ", meta={
        "quote_external_id": f"{CHAT}:{asked['message_id']}"}))
    [sent] = fake.sent
    assert result.external_id == f"{CHAT}:{sent['message_id']}"
    assert "reply_to_message" not in sent  # allow_sending_without_reply: sent all the same


async def test_only_the_first_part_quotes_and_other_chats_never_do(
        fake: FakeTelegram, conn: TelegramConnector) -> None:
    asked = fake.message("длинный вопрос", chat_id=CHAT)
    quote = {"quote_external_id": f"{CHAT}:{asked['message_id']}"}
    await conn.send(item(("а" * 4000) + "\n\n" + ("б" * 100), meta=quote))
    first, second = fake.calls_to("sendMessage")
    assert first.params["reply_parameters"]["message_id"] == asked["message_id"]
    assert "reply_parameters" not in second.params
    # The store split a long reply into outbox items: only its first part quotes.
    fake.calls.clear()
    await conn.send(item("часть 2", message_id=2, meta={**quote, "part": 2, "parts": 2}))
    await conn.send(item("часть 1", message_id=3, meta={**quote, "part": 1, "parts": 2}))
    second_part, first_part = fake.calls_to("sendMessage")
    assert "reply_parameters" not in second_part.params
    assert first_part.params["reply_parameters"]["message_id"] == asked["message_id"]
    # A message id means something only in its own chat: a quote from another chat (the
    # task moved) would point at an unrelated message here, so it is not sent.
    fake.calls.clear()
    await conn.send(item("ответ", meta={"quote_external_id": f"999:{asked['message_id']}"}))
    [call] = fake.calls_to("sendMessage")
    assert "reply_parameters" not in call.params


def test_reply_parameters_parsing() -> None:
    assert reply_parameters("4242", "4242:17") == {"message_id": 17,
                                                   "allow_sending_without_reply": True}
    assert reply_parameters("-1001234", "-1001234:5") == {"message_id": 5,
                                                          "allow_sending_without_reply": True}
    for bad in (None, "", "17", "4242:", "4242:x", "1:17", 17):
        assert reply_parameters("4242", bad) is None


async def test_the_fake_refuses_a_reply_to_a_missing_message_unless_allowed(
        fake: FakeTelegram, conn: TelegramConnector, session: aiohttp.ClientSession) -> None:
    """Why the connector always sets allow_sending_without_reply."""
    url = f"{fake.url}/bot{fake.token}/sendMessage"
    body = {"chat_id": CHAT, "text": "x", "reply_parameters": {"message_id": 999}}
    async with session.post(url, json=body) as resp:
        assert resp.status == 400 and (await resp.json())["description"] == REPLY_NOT_FOUND
    body["reply_parameters"] = {"message_id": 999, "allow_sending_without_reply": True}
    async with session.post(url, json=body) as resp:
        assert resp.status == 200
