"""Inbound files over real HTTP: every media kind fetched with ``getFile`` and downloaded
from the fake's file route into the attachments folder; a failed download keeps the
message and shows why; a redelivered message is not downloaded again."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from connectors.telegram.connector import TelegramConnector
from storage.rows import ChannelRow, MessageRow
from storage.store import Store
from tests.connectors.fake_telegram import FakeTelegram
from tests.connectors.fake_telegram_files import FILE_TOO_BIG, WRONG_FILE_ID
from tests.connectors.telegram_fixtures import *  # noqa: F403
from tests.connectors.telegram_fixtures import HookServer, all_messages, wait_for

MB = 1024 * 1024


async def _receive(fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
                   store: Store, channel: ChannelRow, count: int, **options: Any
                   ) -> list[MessageRow]:
    """Start a polling connector, wait until ``count`` client messages are stored."""
    conn: TelegramConnector = make_connector(**options)
    await conn.start(session)
    try:
        return await wait_for(lambda: len(all_messages(store, channel.id)) >= count
                              and all_messages(store, channel.id), what=f"{count} messages")
    finally:
        await conn.stop()


def _sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


async def test_every_media_kind_is_downloaded(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow, media_dir: Path) -> None:
    fake.files.add("p-small", data=b"small jpeg", folder="photos", ext=".jpg")
    fake.files.add("p-big", data=b"\xff\xd8big jpeg" * 100, folder="photos", ext=".jpg")
    fake.files.add("doc1", data=b"%PDF-1.4 invoice", ext=".pdf")
    photo = [{"file_id": "p-small", "file_unique_id": "a", "width": 90, "height": 90,
              "file_size": 10},
             {"file_id": "p-big", "file_unique_id": "b", "width": 800, "height": 800,
              "file_size": 1000}]
    fake.push_message(photo=photo, caption="фото")
    fake.push_message(document={"file_id": "doc1", "file_unique_id": "d",
                                "file_name": "счёт №5.pdf", "mime_type": "application/pdf",
                                "file_size": 16})
    fake.push_message(voice={"file_id": "voice1", "file_unique_id": "v", "duration": 2,
                             "mime_type": "audio/ogg", "file_size": 555})
    fake.push_message(video={"file_id": "vid1", "file_unique_id": "w", "duration": 2,
                             "width": 1, "height": 1, "mime_type": "video/mp4",
                             "file_size": 777})
    fake.push_message(audio={"file_id": "aud1", "file_unique_id": "x", "duration": 2,
                             "file_name": "песня.mp3", "mime_type": "audio/mpeg",
                             "file_size": 321})
    fake.push_message(sticker={"file_id": "st1", "file_unique_id": "s", "emoji": "👍",
                               "width": 512, "height": 512, "is_animated": False,
                               "is_video": False, "type": "regular", "file_size": 99})
    msgs = await _receive(fake, make_connector, session, sqlite_store, tg_channel, 6)
    got = [(m.text, [(a.name, a.mime, a.size) for a in m.attachments]) for m in msgs]
    assert got == [
        ("фото", [("photo.jpg", "image/jpeg", 1000)]),
        ("", [("счёт №5.pdf", "application/pdf", 16)]),
        ("", [("voice.ogg", "audio/ogg", 555)]),
        ("", [("video.mp4", "video/mp4", 777)]),
        ("", [("песня.mp3", "audio/mpeg", 321)]),
        ("👍", [("sticker.webp", "image/webp", 99)]),
    ]
    by_id = ["p-big", "doc1", "voice1", "vid1", "aud1", "st1"]
    for msg, file_id in zip(msgs, by_id, strict=True):
        [att] = msg.attachments
        path = Path(att.location)
        assert path.is_file() and path.is_relative_to(media_dir)
        assert path.read_bytes() == fake.files.by_id[file_id].content()
        assert path.stem == _sha(att.location)  # content-addressed
    # Only the largest photo size was fetched; each file once, through getFile.
    assert [c.params["file_id"] for c in fake.calls_to("getFile")] == by_id
    assert fake.files.downloads == [fake.files.by_id[f].path for f in by_id]
    assert msgs[1].attachments[0].location.endswith(".pdf")


@pytest.mark.parametrize("break_it, reason", [
    (lambda fake: fake.files.forget("doc1"), WRONG_FILE_ID),
    (lambda fake: fake.files.expire("doc1"), "HTTP 404"),
    (lambda fake: fake.fail("getFile", 500, "Internal Server Error", times=1),
     "Internal Server Error"),
    (lambda fake: fake.fail("getFile", 502, "Bad Gateway", html=True), "HTTP 502"),
])
async def test_a_failed_download_keeps_the_message_and_says_why(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow, media_dir: Path,
        break_it: Any, reason: str) -> None:
    fake.push_message(caption="договор", document={
        "file_id": "doc1", "file_unique_id": "d", "file_name": "договор.pdf",
        "mime_type": "application/pdf", "file_size": 2000})
    break_it(fake)
    [msg] = await _receive(fake, make_connector, session, sqlite_store, tg_channel, 1)
    assert msg.text == "договор"
    [att] = msg.attachments
    assert att.location == "" and att.name.startswith("договор.pdf (not downloaded: ")
    assert reason in att.name
    assert fake.token not in att.name and fake.token.split(":")[1] not in att.name
    assert not any(media_dir.rglob("*.pdf"))


async def test_files_over_the_bot_api_limit_are_not_fetched(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow) -> None:
    """The update declares 25 MB: getFile is not even asked. A file whose size the update
    leaves out is refused by getFile itself (``file is too big``)."""
    fake.push_message(video={"file_id": "huge", "file_unique_id": "h", "duration": 60,
                             "width": 1, "height": 1, "mime_type": "video/mp4",
                             "file_size": 25 * MB})
    fake.files.add("big-doc", size=21 * MB)
    fake.push_message(document={"file_id": "big-doc", "file_unique_id": "b",
                                "file_name": "архив.zip"})
    first, second = await _receive(fake, make_connector, session, sqlite_store, tg_channel, 2)
    [video] = first.attachments
    assert video.location == "" and "20 MB" in video.name
    [doc] = second.attachments
    assert doc.location == "" and FILE_TOO_BIG in doc.name
    assert [c.params["file_id"] for c in fake.calls_to("getFile")] == ["big-doc"]
    assert fake.files.downloads == []


async def test_the_channels_own_cap_stops_the_download(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow, media_dir: Path) -> None:
    """max_media_bytes is smaller than the file; the update does not say its size, so
    the download starts and is cut at the cap."""
    fake.files.add("doc1", data=b"x" * 5000)
    fake.push_message(document={"file_id": "doc1", "file_unique_id": "d",
                                "file_name": "big.bin"})
    [msg] = await _receive(fake, make_connector, session, sqlite_store, tg_channel, 1,
                           max_media_bytes=1000)
    [att] = msg.attachments
    assert att.location == "" and "not downloaded" in att.name and "MiB" in att.name
    assert not [p for p in media_dir.rglob("*") if p.is_file()]


async def test_a_redelivered_message_is_not_downloaded_again(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow) -> None:
    update = fake.push_message(document={"file_id": "doc1", "file_unique_id": "d",
                                         "file_name": "акт.pdf", "file_size": 300})
    conn: TelegramConnector = make_connector()
    await conn.start(session)
    try:
        await wait_for(lambda: all_messages(sqlite_store, tg_channel.id), what="the message")
        fake.push(message=update["message"])  # the same message under a new update_id
        await wait_for(lambda: not fake.updates and len(fake.calls_to("getUpdates")) >= 3,
                       what="the repeat consumed")
    finally:
        await conn.stop()
    [msg] = all_messages(sqlite_store, tg_channel.id)
    assert msg.attachments[0].location
    assert len(fake.calls_to("getFile")) == 1 and len(fake.files.downloads) == 1


async def test_an_edit_of_a_message_never_seen_downloads_its_file(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow) -> None:
    original = fake.message(caption="старая подпись", document={
        "file_id": "doc1", "file_unique_id": "d", "file_name": "акт.pdf", "file_size": 300})
    fake.files.register_message(original)
    fake.push_edit(original, "новая подпись")
    [msg] = await _receive(fake, make_connector, session, sqlite_store, tg_channel, 1)
    assert msg.text == "новая подпись" and Path(msg.attachments[0].location).is_file()


async def test_files_through_the_gateways_webhook_server(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow) -> None:
    """Webhook mode behind the gateway's HttpServer: the update is answered 200 once the
    message is stored with its file."""
    server = HookServer(gateway=True)
    fake.files.add("AgACphoto", data=b"\xff\xd8 a photo", folder="photos", ext=".jpg")
    try:
        conn: TelegramConnector = make_connector(mode="webhook", public_url=server.url,
                                                 webhook_secret="files-hook")
        await server.start(conn.routes())
        await conn.start(session)
        try:
            update = fake.push_message(caption="вот фото", photo=[
                {"file_id": "AgACphoto", "file_unique_id": "p", "width": 10, "height": 10}])
            await wait_for(lambda: fake.deliveries, what="the delivery")
        finally:
            await conn.stop()
    finally:
        await server.close()
    assert fake.deliveries == [(update["update_id"], 200)]
    [msg] = all_messages(sqlite_store, tg_channel.id)
    assert msg.text == "вот фото"
    assert Path(msg.attachments[0].location).read_bytes() == b"\xff\xd8 a photo"
