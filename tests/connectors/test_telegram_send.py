"""Outbound over real HTTP to the fake Bot API: text, long-text splitting, files, and the
mapping of Telegram's errors onto the outbox's transient and permanent classes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from connectors.base import PermanentSendError, SendResult, TransientSendError
from connectors.telegram.connector import TelegramConnector
from storage.errors import CannotWriteFirst
from storage.inputs import Inbound
from storage.ops_outbox import OutboxItem
from storage.rows import ChannelRow
from storage.store import Store
from tests.connectors.fake_telegram import BLOCKED, CHAT_NOT_FOUND, FakeTelegram
from tests.connectors.telegram_fixtures import *  # noqa: F403
from tests.connectors.telegram_fixtures import all_messages, wait_for

CHAT = 4242


def item(text: str, *, message_id: int = 1, chat_id: int = CHAT, attempts: int = 1,
         attachments: tuple = ()) -> OutboxItem:
    return OutboxItem(message_id, 1, 1, "telegram", str(chat_id), text, attempts, {}, attachments)


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
    assert [c.method for c in fake.calls if c.method.startswith("send")] == [
        "sendMessage", "sendDocument", "sendPhoto", "sendDocument", "sendDocument"]
    doc_call, photo_call, url_call, id_call = [c for c in fake.calls if c.method in (
        "sendDocument", "sendPhoto")]
    assert doc_call.files["document"].data == b"%PDF-1.4 test"
    assert doc_call.files["document"].filename == "счёт.pdf"
    assert doc_call.params["chat_id"] == str(CHAT)
    assert photo_call.files["photo"].data == png.read_bytes()
    assert url_call.params["document"] == "https://example.org/remote.pdf"
    assert id_call.params["document"] == known
    assert len(result.extra_ids) == 4


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
