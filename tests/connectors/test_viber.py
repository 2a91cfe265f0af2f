"""Viber over real HTTP against the fake: set_webhook on start, signed callbacks in (stored
once, after commit), receipts, subscriptions, send_message out (limits, errors)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from connectors.base import ChannelSpec, ConnectorError, PermanentSendError, TransientSendError
from connectors.viber.api import check_signature
from connectors.viber.connector import ViberConnector, webhook_path
from storage.inputs import AttachmentIn, Inbound
from storage.rows import ChannelRow, IngestResult, OutboxItem
from storage.store import Store
from tests.connectors.fake_viber import FIRST_TOKEN, NOT_SUBSCRIBED, TOO_MANY, FakeViber, sign
from tests.connectors.gateway_helpers import eventually, running, spec
from tests.connectors.telegram_fixtures import HookServer, all_messages

USER = "01234567890A="


@pytest.fixture
async def fake() -> AsyncIterator[FakeViber]:
    server = FakeViber()
    server.user(USER, "Ольга Петрова")
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
def viber_channel(sqlite_store: Store) -> ChannelRow:
    return sqlite_store.ensure_channel("viber", "viber/поддержка", {})


def make(store: Store, channel: ChannelRow, fake: FakeViber, public_url: str,
         **options: Any) -> ViberConnector:
    async def ingest(inbound: Inbound) -> IngestResult:
        return await asyncio.to_thread(store.ingest, inbound)
    opts = {"token": fake.token, "api_base": fake.url, "public_url": public_url,
            "media_dir": str(Path(str(store.db.database)).parent / "media"), **options}
    return ViberConnector(ChannelSpec(channel.id, channel.name, "viber", {}, opts), store,
                          ingest)


@pytest.fixture
async def conn(sqlite_store: Store, viber_channel: ChannelRow,
               fake: FakeViber) -> AsyncIterator[ViberConnector]:
    hook = HookServer()
    connector = make(sqlite_store, viber_channel, fake, hook.url)
    await hook.start(connector.routes())
    async with aiohttp.ClientSession() as session:
        await connector.start(session)
        try:
            yield connector
        finally:
            await connector.stop()
            await hook.close()


def item(text: str, message_id: int = 9, attempts: int = 1, chat: str = USER) -> OutboxItem:
    return OutboxItem(message_id, 1, 1, "viber", chat, text, attempts, {}, ())


def test_signature_matches_the_viber_bot_python_vector() -> None:
    # Viber/viber-bot-python tests/api/test_api.py
    token = "44dafb7e0f40021e-61a47a1e6778d187-f2c5a676a07050b3"
    body = b'{"event":"webhook","timestamp":4977069964384421269,"message_token":1478683725125}'
    good = "d21b343448c8aee33b8e93768ef6ceb64a6ba6163099973a2b8bd028fea510ef"
    assert check_signature(token, body, good)
    assert check_signature(token, body, good.upper())
    assert not check_signature(token, body, "aaaaaaaaaaaaaaaaaaaaaa")
    assert not check_signature(token, body + b" ", good)


async def test_start_sets_the_webhook_after_viber_checked_it(
        fake: FakeViber, conn: ViberConnector, viber_channel: ChannelRow) -> None:
    [call] = fake.calls_to("set_webhook")
    expected = conn.options.public_url + webhook_path(viber_channel.name)
    assert call.payload["url"] == expected and fake.webhook == expected
    assert "%2F" in expected  # the channel name's slash stays inside one path segment
    assert set(call.payload["event_types"]) >= {"delivered", "seen", "failed", "subscribed",
                                                "unsubscribed", "conversation_started"}
    assert fake.deliveries == [("webhook", 200)]
    assert conn.sender_name == "Магазин Ромашка"  # from get_account_info


async def test_start_fails_clearly_when_viber_cannot_reach_the_webhook(
        fake: FakeViber, sqlite_store: Store, viber_channel: ChannelRow) -> None:
    hook = HookServer()  # bound but serving nothing: Viber's check is refused
    connector = make(sqlite_store, viber_channel, fake, hook.url, sender_name="Поддержка")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ConnectorError, match=r"set_webhook \(1\)"):
            await connector.start(session)
    hook.sock.close()
    missing = make(sqlite_store, viber_channel, fake, "", sender_name="Поддержка")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ConnectorError, match="public_url"):
            await missing.start(session)
    too_long = make(sqlite_store, viber_channel, fake, "https://x", sender_name="Я" * 29)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ConnectorError, match="sender_name"):
            await too_long.start(session)


async def test_picture_with_caption_is_stored_once_after_commit(
        fake: FakeViber, conn: ViberConnector, sqlite_store: Store,
        viber_channel: ChannelRow) -> None:
    event = fake.message(USER, {"type": "picture", "text": "Вот так выглядит поломка",
                                "media": fake.file_url("x.jpg", b"\xff\xd8 broken kettle"),
                                "thumbnail": fake.file_url("t.jpg", b"thumb"),
                                "size": 17, "file_name": "IMG_0001.jpg"})
    assert await fake.deliver(event) == 200
    [stored] = all_messages(sqlite_store, viber_channel.id)  # committed before the 200
    assert stored.text == "Вот так выглядит поломка"
    assert stored.external_id == str(event["message_token"])
    assert int(stored.external_id) == event["message_token"] > 2 ** 53
    [attachment] = stored.attachments
    assert attachment.name == "IMG_0001.jpg"
    assert Path(attachment.location).read_bytes() == b"\xff\xd8 broken kettle"
    task = sqlite_store.get_task(stored.task_id)
    assert task.chat_id == USER
    assert sqlite_store.get_contact(task.contact_id).name == "Ольга Петрова"
    assert await fake.deliver(event) == 200  # Viber repeats the callback
    assert len(all_messages(sqlite_store, viber_channel.id)) == 1


@pytest.mark.parametrize("signature", [None, "0" * 64, "not hex"])
async def test_bad_or_missing_signature_stores_nothing(
        fake: FakeViber, conn: ViberConnector, sqlite_store: Store,
        viber_channel: ChannelRow, signature: str | None) -> None:
    event = fake.message(USER, {"type": "text", "text": "чужое"})
    assert await fake.deliver(event, signature=signature) in (401, 403)
    assert all_messages(sqlite_store, viber_channel.id) == []


async def test_a_body_changed_after_signing_is_refused(
        fake: FakeViber, conn: ViberConnector, sqlite_store: Store,
        viber_channel: ChannelRow) -> None:
    event = fake.message(USER, {"type": "text", "text": "раз"})
    signed = json.dumps(event).encode()
    tampered = json.dumps({**event, "message": {"type": "text", "text": "два"}}).encode()
    assert await fake.deliver(tampered, signature=sign(fake.token, signed)) == 403
    assert all_messages(sqlite_store, viber_channel.id) == []


async def test_reply_goes_out_as_utf8_with_the_sender_and_receipts_move_it(
        fake: FakeViber, conn: ViberConnector, sqlite_store: Store,
        viber_channel: ChannelRow) -> None:
    await fake.deliver(fake.message(USER, {"type": "text", "text": "Когда доставка?"}))
    [msg] = all_messages(sqlite_store, viber_channel.id)
    op = sqlite_store.ensure_operator("Оля")
    reply = sqlite_store.reply(msg.task_id, op.id, "Завтра до обеда")
    [claimed] = sqlite_store.claim_outbox(10, channel_ids=(viber_channel.id,))
    result = await conn.send(claimed)
    sqlite_store.mark_sent(claimed.message_id, result.external_id)
    [call] = fake.calls_to("send_message")
    assert "Завтра до обеда".encode() in call.body  # raw UTF-8, not \\u escapes
    [sent] = fake.sent
    assert sent["receiver"] == USER and sent["type"] == "text"
    assert sent["sender"]["name"] == "Магазин Ромашка"
    assert result.external_id == str(sent["message_token"])
    token = sent["message_token"]
    assert await fake.deliver(fake.event("delivered", message_token=token, user_id=USER)) == 200
    assert sqlite_store.get_message(reply.id).delivery_state == "delivered"
    assert await fake.deliver(fake.event("seen", message_token=token, user_id=USER)) == 200
    assert sqlite_store.get_message(reply.id).delivery_state == "read"
    assert await fake.deliver(fake.event("delivered", message_token=token, user_id=USER)) == 200
    assert sqlite_store.get_message(reply.id).delivery_state == "read"  # never backwards


async def test_failed_receipt_shows_vibers_description(
        fake: FakeViber, conn: ViberConnector, sqlite_store: Store,
        viber_channel: ChannelRow) -> None:
    await fake.deliver(fake.message(USER, {"type": "text", "text": "Алло"}))
    [msg] = all_messages(sqlite_store, viber_channel.id)
    reply = sqlite_store.reply(msg.task_id, sqlite_store.ensure_operator("Оля").id, "Да?")
    [claimed] = sqlite_store.claim_outbox(10, channel_ids=(viber_channel.id,))
    result = await conn.send(claimed)
    sqlite_store.mark_sent(claimed.message_id, result.external_id)
    failed = fake.event("failed", message_token=int(result.external_id), user_id=USER,
                        desc="failure desc")
    assert await fake.deliver(failed) == 200
    row = sqlite_store.get_message(reply.id)
    assert row.delivery_state == "failed" and row.failure_reason == "failure desc"


async def test_too_many_requests_is_transient_and_the_retry_sends_once(
        fake: FakeViber, conn: ViberConnector) -> None:
    fake.fail("send_message", TOO_MANY)
    with pytest.raises(TransientSendError) as info:
        await conn.send(item("повтор"))
    assert str(info.value) == "Too many requests"
    result = await conn.send(item("повтор", attempts=2))
    [sent] = fake.sent
    assert result.external_id == str(sent["message_token"])


async def test_not_subscribed_is_permanent_with_vibers_reason(
        fake: FakeViber, conn: ViberConnector) -> None:
    fake.fail("send_message", NOT_SUBSCRIBED)
    with pytest.raises(PermanentSendError) as info:
        await conn.send(item("вы здесь?"))
    assert str(info.value) == "notSubscribed"


async def test_after_unsubscribed_sends_fail_permanently_until_the_client_returns(
        fake: FakeViber, conn: ViberConnector) -> None:
    assert await fake.deliver(fake.event("unsubscribed", user_id=USER,
                                         message_token=FIRST_TOKEN - 5)) == 200
    calls = len(fake.calls_to("send_message"))
    with pytest.raises(PermanentSendError, match="unsubscribed"):
        await conn.send(item("новости"))
    assert len(fake.calls_to("send_message")) == calls  # Viber was not asked
    user = fake.subscribers[USER]
    assert await fake.deliver(fake.event("subscribed", user=user,
                                         message_token=FIRST_TOKEN - 4)) == 200
    await conn.send(item("с возвращением"))
    assert [s["text"] for s in fake.sent] == ["с возвращением"]


async def test_other_callbacks_are_acknowledged_without_storing(
        fake: FakeViber, conn: ViberConnector, sqlite_store: Store,
        viber_channel: ChannelRow) -> None:
    started = fake.event("conversation_started", message_token=FIRST_TOKEN - 3, type="open",
                         context="", user=fake.subscribers[USER], subscribed=False)
    assert await fake.deliver(started) == 200
    assert await fake.deliver(fake.event("delivered", message_token=1, user_id=USER)) == 200
    assert all_messages(sqlite_store, viber_channel.id) == []


async def test_long_cyrillic_text_fits_the_limits(
        fake: FakeViber, conn: ViberConnector) -> None:
    full = "Ж" * 7000  # 14 KB of UTF-8; as \\u escapes it would be 42 KB
    await conn.send(item(full))
    assert fake.sent[0]["text"] == full
    assert len(fake.calls_to("send_message")[0].body) < 30 * 1024
    paragraph = ("Подробный ответ оператора. " * 200).strip()  # 5,399 characters
    result = await conn.send(item("\n\n".join([paragraph] * 3), message_id=10))
    parts = [s["text"] for s in fake.sent[1:]]
    assert parts == [paragraph] * 3 and all(len(p) <= 7000 for p in parts)
    assert (result.external_id, *result.extra_ids) == tuple(
        str(s["message_token"]) for s in fake.sent[1:])


async def test_a_retry_after_a_failure_midway_does_not_repeat_parts(
        fake: FakeViber, conn: ViberConnector) -> None:
    paragraph = ("Часть длинного ответа. " * 250).strip()
    text = "\n\n".join([paragraph] * 2)
    fake.fail("send_message", TOO_MANY, after=1)  # the first part goes, the second fails
    with pytest.raises(TransientSendError):
        await conn.send(item(text, message_id=11))
    result = await conn.send(item(text, message_id=11, attempts=2))
    assert [s["text"] for s in fake.sent] == [paragraph] * 2
    assert (result.external_id, *result.extra_ids) == tuple(
        str(s["message_token"]) for s in fake.sent)


async def test_files_go_as_links_and_local_files_are_published(
        fake: FakeViber, conn: ViberConnector, sqlite_store: Store, viber_channel: ChannelRow,
        tmp_path: Path) -> None:
    await fake.deliver(fake.message(USER, {"type": "text", "text": "Пришлите инструкцию"}))
    [msg] = all_messages(sqlite_store, viber_channel.id)
    photo = ("фото.jpg", "image/jpeg", 2048, "https://cdn.example.com/p/фото.jpg")
    manual = tmp_path / "инструкция.pdf"
    manual.write_bytes(b"%PDF-1.7 manual")
    operator = sqlite_store.ensure_operator("Оля")
    reply = sqlite_store.reply(msg.task_id, operator.id, "Вот", attachments=(
        AttachmentIn(name=photo[0], mime=photo[1], size=photo[2], location=photo[3]),
        AttachmentIn(name="инструкция.pdf", mime="application/pdf", location=str(manual))))
    [claimed] = sqlite_store.claim_outbox(10, channel_ids=(viber_channel.id,))
    await conn.send(claimed)
    assert [(s["type"], s.get("media")) for s in fake.sent][:2] == [("text", None),
                                                                   ("picture", photo[3])]
    link = fake.sent[2]["media"]
    assert link.startswith(f"{conn.options.public_url}/files/viber/{viber_channel.id}/"
                           f"{reply.id}/1/")
    assert fake.sent[2]["size"] == len(b"%PDF-1.7 manual")
    assert fake.sent[2]["file_name"] == "инструкция.pdf"
    async with aiohttp.ClientSession() as session:
        async with session.get(link) as resp:  # what Viber does with the link
            assert resp.status == 200 and await resp.read() == b"%PDF-1.7 manual"
        wrong_key = link.replace(link.split("/")[-2], "0" * 32)
        client_message = link.replace(f"/{reply.id}/1/", f"/{msg.id}/1/")
        for url in (wrong_key, client_message, link.replace("/1/", "/5/")):
            async with session.get(url) as resp:
                assert resp.status == 404
    nowhere = make(sqlite_store, viber_channel, fake, "", sender_name="Поддержка")
    nowhere.api = conn.api
    with pytest.raises(PermanentSendError, match="public_url"):
        await nowhere.send(OutboxItem(99, 1, 1, "viber", USER, "", 1, {},
                                      (("a.pdf", "application/pdf", 3, str(manual)),)))


async def test_through_the_gateway_the_webhook_is_set_and_a_message_stored(
        fake: FakeViber, store: Store) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # the gateway binds it next
    name = "viber поддержка"
    viber = spec(store, "viber", name, token=fake.token, api_base=fake.url,
                 public_url=f"http://127.0.0.1:{port}", sender_name="Поддержка")
    async with running(store, [viber], port=port) as gateway:
        await eventually(lambda: gateway.health()[name][0] == "ok")
        assert fake.webhook == f"http://127.0.0.1:{port}{webhook_path(name)}"
        assert fake.deliveries == [("webhook", 200)]
        assert await fake.deliver(fake.message(USER, {"type": "text", "text": "Привет"})) == 200
        [msg] = all_messages(store, viber.id)
        reply = store.reply(msg.task_id, store.ensure_operator("Оля").id, "Здравствуйте!")
        await eventually(lambda: store.get_message(reply.id).delivery_state == "sent")
        assert [s["text"] for s in fake.sent] == ["Здравствуйте!"]
        assert fake.sent[0]["sender"] == {"name": "Поддержка"}
