"""VK over real HTTP against the fake: the Callback API in (confirmation, secret, ok only
after commit, repeats stored once, edits), messages.send out (random_id, errors, length)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from connectors.base import ChannelSpec, PermanentSendError, TransientSendError
from connectors.vk.connector import VkConnector, webhook_path
from connectors.vk.send import TEXT_LIMIT
from storage.inputs import Inbound
from storage.rows import ChannelRow, IngestResult, OutboxItem
from storage.store import Store
from tests.connectors.fake_vk import FLOOD, NO_PERMISSION, TOO_MANY, FakeVk
from tests.connectors.telegram_fixtures import HookServer, all_messages

SECRET = "vk-Secret_42"
CONFIRMATION = "4f1c2e9a"
CLIENT = 5550001


@pytest.fixture
async def fake() -> AsyncIterator[FakeVk]:
    server = FakeVk()
    server.users[CLIENT] = {"first_name": "Пётр", "last_name": "Сидоров"}
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def vk_channel(sqlite_store: Store) -> ChannelRow:
    return sqlite_store.ensure_channel("vk", "vk-клиенты", {})


def make(store: Store, channel: ChannelRow, fake: FakeVk, **options: Any) -> VkConnector:
    async def ingest(inbound: Inbound) -> IngestResult:
        return await asyncio.to_thread(store.ingest, inbound)
    opts = {"access_token": fake.token, "api_base": fake.url, "group_id": fake.group_id,
            "confirmation": CONFIRMATION, "secret": SECRET,
            "media_dir": str(Path(store_dir(store)) / "media"), "max_media_bytes": 4096,
            **options}
    return VkConnector(ChannelSpec(channel.id, channel.name, "vk", {}, opts), store, ingest)


def store_dir(store: Store) -> str:
    return str(Path(str(store.db.database)).parent)


@pytest.fixture
async def conn(sqlite_store: Store, vk_channel: ChannelRow, fake: FakeVk,
               session: aiohttp.ClientSession) -> AsyncIterator[tuple[VkConnector, str]]:
    hook = HookServer()
    connector = make(sqlite_store, vk_channel, fake)
    await hook.start(connector.routes())
    await connector.start(session)
    try:
        yield connector, hook.url + webhook_path(vk_channel.name)
    finally:
        await connector.stop()
        await hook.close()


def item(text: str, message_id: int = 7, meta: dict | None = None,
         attachments: tuple = ()) -> OutboxItem:
    return OutboxItem(message_id, 1, 1, "vk", str(CLIENT), text, 1, meta or {}, attachments)


async def test_confirmation_is_answered_with_the_configured_string(
        fake: FakeVk, conn: tuple[VkConnector, str]) -> None:
    _connector, url = conn
    event = {"type": "confirmation", "group_id": fake.group_id}
    assert await fake.deliver(url, event, secret=SECRET) == (200, CONFIRMATION)
    other = {"type": "confirmation", "group_id": fake.group_id + 1}
    status, _body = await fake.deliver(url, other, secret=SECRET)
    assert status == 403


async def test_message_with_photo_is_stored_named_and_answered_ok_after_commit(
        fake: FakeVk, conn: tuple[VkConnector, str], sqlite_store: Store,
        vk_channel: ChannelRow) -> None:
    _connector, url = conn
    small = fake.file_url("s.jpg", b"small")
    large = fake.file_url("x.jpg", b"\xff\xd8 the large photo")
    photo = {"type": "photo", "photo": {"id": 457239017, "owner_id": CLIENT, "sizes": [
        {"type": "s", "width": 75, "height": 56, "url": small},
        {"type": "x", "width": 604, "height": 453, "url": large},
    ]}}
    message = fake.message("Здравствуйте! Вот фото чека", attachments=[photo])
    assert await fake.deliver(url, fake.message_new(message), secret=SECRET) == (200, "ok")
    # "ok" came only after commit: the message is already there.
    [stored] = all_messages(sqlite_store, vk_channel.id)
    assert stored.text == "Здравствуйте! Вот фото чека"
    assert stored.external_id == str(message["id"])
    [attachment] = stored.attachments  # the largest size, downloaded (VK's URLs expire)
    assert Path(attachment.location).read_bytes() == b"\xff\xd8 the large photo"
    assert attachment.size == len(b"\xff\xd8 the large photo")
    task = sqlite_store.get_task(stored.task_id)
    contact = sqlite_store.get_contact(task.contact_id)
    assert contact.name == "Пётр Сидоров"
    assert task.chat_id == str(CLIENT)


async def test_a_document_over_the_size_cap_is_stored_with_the_reason(
        fake: FakeVk, conn: tuple[VkConnector, str], sqlite_store: Store,
        vk_channel: ChannelRow) -> None:
    _connector, url = conn
    doc = {"type": "doc", "doc": {"id": 1, "owner_id": CLIENT, "title": "счёт.pdf",
                                  "size": 5000, "ext": "pdf",
                                  "url": fake.file_url("d.pdf", b"%" * 5000, "application/pdf")}}
    message = fake.message("", attachments=[doc])
    assert await fake.deliver(url, fake.message_new(message), secret=SECRET) == (200, "ok")
    [stored] = all_messages(sqlite_store, vk_channel.id)
    [attachment] = stored.attachments
    assert attachment.location == "" and "счёт.pdf" in attachment.name
    assert "not downloaded" in attachment.name


async def test_repeated_event_is_stored_once_and_the_name_looked_up_once(
        fake: FakeVk, conn: tuple[VkConnector, str], sqlite_store: Store,
        vk_channel: ChannelRow) -> None:
    _connector, url = conn
    event = fake.message_new(fake.message("дважды"))
    assert await fake.deliver(url, event, secret=SECRET) == (200, "ok")
    assert await fake.deliver(url, event, retry=1, secret=SECRET) == (200, "ok")
    # The same message under a new event id (a second Callback server, a replay).
    again = fake.message_new(event["object"]["message"])
    assert await fake.deliver(url, again, secret=SECRET) == (200, "ok")
    assert [m.text for m in all_messages(sqlite_store, vk_channel.id)] == ["дважды"]
    assert len(fake.calls_to("users.get")) == 1
    fake.users[CLIENT] = {"first_name": "Другое", "last_name": "Имя"}
    assert await fake.deliver(url, fake.message_new(fake.message("ещё")), secret=SECRET) \
        == (200, "ok")
    assert len(fake.calls_to("users.get")) == 1  # cached


@pytest.mark.parametrize("secret", ["wrong", "", None, SECRET + "x"])
async def test_bad_or_missing_secret_stores_nothing(
        fake: FakeVk, conn: tuple[VkConnector, str], sqlite_store: Store,
        vk_channel: ChannelRow, secret: str | None) -> None:
    _connector, url = conn
    status, _body = await fake.deliver(url, fake.message_new(fake.message("чужое")),
                                       secret=secret)
    assert status == 403
    assert all_messages(sqlite_store, vk_channel.id) == []
    assert fake.calls_to("users.get") == []


async def test_edit_changes_the_stored_text(
        fake: FakeVk, conn: tuple[VkConnector, str], sqlite_store: Store,
        vk_channel: ChannelRow) -> None:
    _connector, url = conn
    message = fake.message("превет")
    await fake.deliver(url, fake.message_new(message), secret=SECRET)
    edited = {**message, "text": "привет", "update_time": 1_764_000_100}
    assert await fake.deliver(url, fake.event("message_edit", edited), secret=SECRET) \
        == (200, "ok")
    [stored] = all_messages(sqlite_store, vk_channel.id)
    assert stored.text == "привет" and stored.edited


async def test_the_communitys_own_messages_are_not_stored_as_the_clients(
        fake: FakeVk, conn: tuple[VkConnector, str], sqlite_store: Store,
        vk_channel: ChannelRow) -> None:
    _connector, url = conn
    own = {**fake.message("Ответ из веб-интерфейса VK"), "out": 1, "from_id": -fake.group_id}
    assert await fake.deliver(url, fake.event("message_edit", own), secret=SECRET) \
        == (200, "ok")
    assert await fake.deliver(url, fake.message_new({**own, "out": 0}), secret=SECRET) \
        == (200, "ok")
    assert all_messages(sqlite_store, vk_channel.id) == []
    assert not sqlite_store.list_tasks(None, None, 10).items


async def test_reply_is_sent_with_a_stable_nonzero_random_id(
        fake: FakeVk, conn: tuple[VkConnector, str], sqlite_store: Store,
        vk_channel: ChannelRow) -> None:
    connector, url = conn
    await fake.deliver(url, fake.message_new(fake.message("Где заказ?")), secret=SECRET)
    [msg] = all_messages(sqlite_store, vk_channel.id)
    op = sqlite_store.ensure_operator("Оля")
    sqlite_store.reply(msg.task_id, op.id, "Уже в пути, ждите завтра!")
    [claimed] = sqlite_store.claim_outbox(10, channel_ids=(vk_channel.id,))
    result = await connector.send(claimed)
    [call] = fake.calls_to("messages.send")
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.params["access_token"] == fake.token and call.params["v"] == "5.199"
    [sent] = fake.sent
    assert sent["text"] == "Уже в пути, ждите завтра!" and sent["peer_id"] == CLIENT
    assert sent["random_id"] != 0 and result.external_id == str(sent["id"])
    # The answer was lost and the outbox sends again: VK keeps one message.
    again = await connector.send(claimed)
    assert again.external_id == result.external_id and len(fake.sent) == 1
    assert fake.calls_to("messages.send")[1].params["random_id"] == str(sent["random_id"])


async def test_random_id_survives_a_restart_and_differs_on_a_fresh_database(
        fake: FakeVk, sqlite_store: Store, vk_channel: ChannelRow,
        session: aiohttp.ClientSession, tmp_path: Any) -> None:
    first = make(sqlite_store, vk_channel, fake)
    await first.start(session)
    await first.send(item("раз"))
    await first.stop()
    second = make(sqlite_store, vk_channel, fake)  # a restart on the same database
    await second.start(session)
    await second.send(item("раз"))
    await second.stop()
    assert len(fake.sent) == 1
    fresh = Store.open(str(tmp_path / "fresh.db"))
    try:
        channel = fresh.ensure_channel("vk", "vk-клиенты", {})
        reinstalled = make(fresh, channel, fake)
        await reinstalled.start(session)
        await reinstalled.send(item("раз"))  # the same local message id, a new database
        await reinstalled.stop()
    finally:
        fresh.close()
    assert len(fake.sent) == 2
    assert fake.sent[0]["random_id"] != fake.sent[1]["random_id"]


@pytest.mark.parametrize("error", [TOO_MANY, FLOOD])
async def test_rate_errors_are_transient_and_the_retry_goes_once(
        fake: FakeVk, conn: tuple[VkConnector, str], error: tuple[int, str]) -> None:
    connector, _url = conn
    fake.fail("messages.send", error)
    with pytest.raises(TransientSendError) as info:
        await connector.send(item("повтор"))
    assert str(info.value) == error[1]
    result = await connector.send(item("повтор"))
    [sent] = fake.sent
    assert result.external_id == str(sent["id"])
    ids = {c.params["random_id"] for c in fake.calls_to("messages.send")}
    assert len(ids) == 1


async def test_no_permission_is_permanent_with_vks_text(
        fake: FakeVk, conn: tuple[VkConnector, str]) -> None:
    connector, _url = conn
    fake.fail("messages.send", NO_PERMISSION)
    with pytest.raises(PermanentSendError) as info:
        await connector.send(item("можно?"))
    assert str(info.value) == "Can't send messages for users without permission"
    assert fake.sent == []


async def test_long_text_is_split_under_the_limit_with_distinct_random_ids(
        fake: FakeVk, conn: tuple[VkConnector, str]) -> None:
    connector, _url = conn
    paragraph = ("Ответ оператора по заказу. " * 200).strip()  # 5,399 characters
    text = "\n\n".join([paragraph] * 3)
    result = await connector.send(item(text))
    assert [s["text"] for s in fake.sent] == [paragraph] * 3
    assert all(len(s["text"]) <= TEXT_LIMIT for s in fake.sent)
    assert len({s["random_id"] for s in fake.sent}) == 3
    assert (result.external_id, *result.extra_ids) == tuple(str(s["id"]) for s in fake.sent)


async def test_quoted_message_is_sent_as_reply_to(
        fake: FakeVk, conn: tuple[VkConnector, str]) -> None:
    connector, _url = conn
    await connector.send(item("Да, это он", meta={"quote_external_id": "1042"}))
    await connector.send(item("И этот", message_id=8,
                              meta={"quote_external_id": "2000000001_17"}))
    assert fake.sent[0]["reply_to"] == "1042"
    assert '"conversation_message_ids": [17]' in fake.sent[1]["forward"]


async def test_files_are_uploaded_and_sent_with_the_text_once(
        fake: FakeVk, conn: tuple[VkConnector, str], tmp_path: Path) -> None:
    connector, _url = conn
    photo, doc = tmp_path / "фото.png", tmp_path / "счёт.pdf"
    photo.write_bytes(b"\x89PNG picture")
    doc.write_bytes(b"%PDF invoice")
    files = (("фото.png", "image/png", 13, str(photo)),
             ("счёт.pdf", "application/pdf", 12, str(doc)))
    fake.fail("messages.send", TOO_MANY)  # the files are up, the send is refused once
    with pytest.raises(TransientSendError):
        await connector.send(item("Счёт и фото", attachments=files))
    retry = OutboxItem(7, 1, 1, "vk", str(CLIENT), "Счёт и фото", 2, {}, files)
    await connector.send(retry)
    assert [(f, n, d) for f, n, d in fake.uploads] == [
        ("photo", "фото.png", b"\x89PNG picture"), ("file", "счёт.pdf", b"%PDF invoice")]
    [sent] = fake.sent  # not uploaded again on the retry
    owner = -fake.group_id
    assert sent["text"] == "Счёт и фото"
    photo_id, doc_id = (s.split("_")[1] for s in sent["attachment"].split(","))
    assert sent["attachment"] == f"photo{owner}_{photo_id}_a1b2c3,doc{owner}_{doc_id}"


async def test_a_refused_or_missing_file_is_permanent_with_the_reason(
        fake: FakeVk, conn: tuple[VkConnector, str], tmp_path: Path) -> None:
    connector, _url = conn
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 10)
    fake.upload_error = "ERR_UPLOAD_BAD_IMAGE_SIZE: market photo min size 400x400"
    with pytest.raises(PermanentSendError, match="ERR_UPLOAD_BAD_IMAGE_SIZE"):
        await connector.send(item("", attachments=(("big.bin", "image/jpeg", 10, str(big)),)))
    with pytest.raises(PermanentSendError, match="cannot be read"):
        await connector.send(item("", attachments=(("нет.pdf", "application/pdf", 1,
                                                    str(tmp_path / "нет.pdf")),)))
    with pytest.raises(PermanentSendError, match="not a local file"):
        await connector.send(item("", attachments=(("a.pdf", "application/pdf", 1,
                                                    "https://example.com/a.pdf"),)))
    assert fake.calls_to("messages.send") == []
