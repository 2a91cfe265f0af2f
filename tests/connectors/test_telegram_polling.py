"""The Telegram connector against the fake Bot API over real HTTP: getMe, long polling,
the database offset, conflicts, back-off, inbound kinds and edits."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from connectors.base import DEGRADED, FAILED, OK, ConnectorError
from connectors.telegram.connector import TelegramConnector
from storage.inputs import Inbound
from storage.rows import ChannelRow, IngestResult
from storage.store import Store
from tests.connectors.fake_telegram import CONFLICT_POLL, CONFLICT_WEBHOOK, FakeTelegram
from tests.connectors.telegram_fixtures import *  # noqa: F403
from tests.connectors.telegram_fixtures import all_messages, wait_for


async def test_revoked_token_is_a_clear_error_without_the_token(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession) -> None:
    fake.revoked.add(fake.token)
    conn = make_connector()
    with pytest.raises(ConnectorError) as info:
        await conn.start(session)
    message = str(info.value)
    assert message.startswith("Telegram rejected the bot token (401 Unauthorized): Unauthorized")
    secret = fake.token.split(":")[1]
    assert fake.token not in message and secret not in message
    assert "123456789:***" in message
    assert [c.method for c in fake.calls] == ["getMe"]


async def test_polling_stores_messages_in_order_with_contact_data(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow) -> None:
    conn: TelegramConnector = make_connector()
    await conn.start(session)
    try:
        assert conn.health.state == OK and conn.health.detail == "@switchboard_test_bot"
        for text in ("первое", "второе", "третье"):
            fake.push_message(text)
        msgs = await wait_for(lambda: len(all_messages(sqlite_store, tg_channel.id)) == 3
                              and all_messages(sqlite_store, tg_channel.id), what="3 messages")
    finally:
        await conn.stop()
    assert [m.text for m in msgs] == ["первое", "второе", "третье"]
    task = sqlite_store.get_task(msgs[0].task_id)
    assert task.chat_id == "4242"
    assert task.additional_data["username"] == "anna_p"
    assert task.additional_data["language"] == "ru"
    contact = sqlite_store.get_contact(task.contact_id)
    assert contact.name == "Анна Петрова"
    # The long poll asked for the update kinds the connector understands.
    first = fake.calls_to("getUpdates")[0].params
    assert first["allowed_updates"] == ["message", "edited_message"] and first["timeout"] == 1


async def test_media_kinds_and_shared_contact_via_polling(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow) -> None:
    photo = [{"file_id": "p-small", "file_unique_id": "a", "width": 90, "height": 90,
              "file_size": 900},
             {"file_id": "p-big", "file_unique_id": "b", "width": 800, "height": 800,
              "file_size": 80000}]
    fake.push_message(photo=photo, caption="фото")
    fake.push_message(document={"file_id": "doc1", "file_unique_id": "d", "file_name": "акт.pdf",
                                "mime_type": "application/pdf", "file_size": 1234})
    fake.push_message(voice={"file_id": "voice1", "file_unique_id": "v", "duration": 2,
                             "mime_type": "audio/ogg", "file_size": 555})
    fake.push_message(video={"file_id": "vid1", "file_unique_id": "w", "duration": 2, "width": 1,
                             "height": 1, "mime_type": "video/mp4", "file_size": 777})
    fake.push_message(sticker={"file_id": "st1", "file_unique_id": "s", "emoji": "👍",
                               "width": 512, "height": 512, "is_animated": False,
                               "is_video": False, "type": "regular"})
    fake.push_message(location={"latitude": 59.93863, "longitude": 30.31413})
    fake.push_message(contact={"phone_number": "+79001112233", "first_name": "Анна",
                               "user_id": 4242})
    conn: TelegramConnector = make_connector()
    await conn.start(session)
    try:
        msgs = await wait_for(lambda: len(all_messages(sqlite_store, tg_channel.id)) == 7
                              and all_messages(sqlite_store, tg_channel.id), what="7 messages")
    finally:
        await conn.stop()
    # Files are downloaded (connectors/telegram/files.py): a location is a stored file.
    got = [(m.text, [(a.name, a.mime, a.size, bool(a.location)) for a in m.attachments])
           for m in msgs]
    assert got == [
        ("фото", [("photo.jpg", "image/jpeg", 80000, True)]),
        ("", [("акт.pdf", "application/pdf", 1234, True)]),
        ("", [("voice.ogg", "audio/ogg", 555, True)]),
        ("", [("video.mp4", "video/mp4", 777, True)]),
        ("👍", [("sticker.webp", "image/webp", 64, True)]),  # the fake's size when none is said
        ("📍 59.93863, 30.31413", []),
        ("📞 Анна, +79001112233", []),
    ]
    task = sqlite_store.get_task(msgs[0].task_id)
    assert sqlite_store.get_contact(task.contact_id).phones == ("+79001112233",)
    assert task.additional_data["location"] == "59.93863, 30.31413"


async def test_edit_updates_text_and_marks_edited(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow) -> None:
    original = fake.push_message("Заказ 15")["message"]
    conn: TelegramConnector = make_connector()
    await conn.start(session)
    try:
        await wait_for(lambda: all_messages(sqlite_store, tg_channel.id), what="the message")
        fake.push_edit(original, "Заказ 16")
        msgs = await wait_for(lambda: [m for m in all_messages(sqlite_store, tg_channel.id)
                                       if m.edited], what="the edit")
    finally:
        await conn.stop()
    assert len(all_messages(sqlite_store, tg_channel.id)) == 1
    assert msgs[0].text == "Заказ 16" and msgs[0].meta["original_text"] == "Заказ 15"


async def test_offset_persists_across_restart_no_loss_no_repeat(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow) -> None:
    key = f"telegram:{tg_channel.id}:offset"
    u1 = fake.push_message("раз")
    u2 = fake.push_message("два")
    first: TelegramConnector = make_connector()
    await first.start(session)
    await wait_for(lambda: sqlite_store.get_state(key) == str(u2["update_id"] + 1),
                   what="the offset saved")
    await first.stop()
    assert len(all_messages(sqlite_store, tg_channel.id)) == 2
    # As if the process died before its next getUpdates confirmed them: Telegram still
    # holds both. The new connector starts from the database offset and skips them.
    fake.updates[:0] = [u for u in (u1, u2) if u not in fake.updates]
    u3 = fake.push_message("три")
    calls_before = len(fake.calls_to("getUpdates"))
    second: TelegramConnector = make_connector()
    await second.start(session)
    try:
        await wait_for(lambda: sqlite_store.get_state(key) == str(u3["update_id"] + 1),
                       what="the third update committed")
    finally:
        await second.stop()
    assert fake.calls_to("getUpdates")[calls_before].params["offset"] == u2["update_id"] + 1
    assert [m.text for m in all_messages(sqlite_store, tg_channel.id)] == ["раз", "два", "три"]


async def test_offset_saved_only_after_commit(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow) -> None:
    """The store fails once after committing (as if the process died between commit and
    offset): the batch is fetched again, and the store keeps one copy of each message."""
    key = f"telegram:{tg_channel.id}:offset"
    failures = {"left": 1}

    async def flaky_ingest(inbound: Inbound) -> IngestResult:
        result = await asyncio.to_thread(sqlite_store.ingest, inbound)
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("the writer died after commit")
        return result

    u1 = fake.push_message("один")
    u2 = fake.push_message("другой")
    conn: TelegramConnector = make_connector(ingest=flaky_ingest)
    await conn.start(session)
    try:
        await wait_for(lambda: sqlite_store.get_state(key) == str(u2["update_id"] + 1),
                       what="the offset after the retry")
        await wait_for(lambda: not fake.updates, what="Telegram told (the next offset)")
    finally:
        await conn.stop()
    offsets = [c.params.get("offset") for c in fake.calls_to("getUpdates")]
    assert offsets[:3] == [None, None, u2["update_id"] + 1]  # failed batch fetched again
    assert u1["update_id"] < u2["update_id"]
    assert [m.text for m in all_messages(sqlite_store, tg_channel.id)] == ["один", "другой"]


async def test_service_messages_are_acknowledged_not_stored(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow) -> None:
    key = f"telegram:{tg_channel.id}:offset"
    fake.push_message(new_chat_members=[{"id": 5, "is_bot": False, "first_name": "Ян"}])
    fake.push(message={"message_id": 3, "chat": {"id": 1, "type": "private"}})  # no sender
    last = fake.push_message("после")
    conn: TelegramConnector = make_connector()
    await conn.start(session)
    try:
        await wait_for(lambda: sqlite_store.get_state(key) == str(last["update_id"] + 1),
                       what="all three acknowledged")
        assert conn.health.state == OK
    finally:
        await conn.stop()
    assert [m.text for m in all_messages(sqlite_store, tg_channel.id)] == ["после"]


async def _rival_poller(fake: FakeTelegram, stop: asyncio.Event) -> None:
    async with aiohttp.ClientSession() as s:
        while not stop.is_set():
            async with s.post(f"{fake.url}/bot{fake.token}/getUpdates",
                              json={"timeout": 1}) as resp:
                await resp.read()


async def test_conflict_with_a_second_poller_is_reported_and_stops(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession) -> None:
    conn: TelegramConnector = make_connector(conflict_limit=3)
    states: list[str] = []
    conn.on_health(lambda h: states.append(h.state))
    stop = asyncio.Event()
    await conn.start(session)
    rival = asyncio.create_task(_rival_poller(fake, stop))
    try:
        with pytest.raises(ConnectorError) as info:
            await asyncio.wait_for(conn.run(), timeout=10)
    finally:
        stop.set()
        await rival
        await conn.stop()
    assert CONFLICT_POLL in str(info.value)
    assert conn.health.state != OK and FAILED in states and DEGRADED in states
    mine = [c for c in fake.calls_to("getUpdates") if c.params.get("allowed_updates")]
    assert len(mine) <= 3 + 1  # gave up after the limit instead of looping


async def test_conflict_with_a_webhook_backs_off_then_fails(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession) -> None:
    fake.webhook = {"url": "http://127.0.0.1:9/elsewhere", "secret_token": None}
    conn: TelegramConnector = make_connector(conflict_limit=4, backoff_initial=0.05)
    await conn.start(session)
    try:
        with pytest.raises(ConnectorError):
            await asyncio.wait_for(conn.run(), timeout=10)
    finally:
        await conn.stop()
    calls = fake.calls_to("getUpdates")
    assert len(calls) == 4
    gaps = [b.at - a.at for a, b in zip(calls, calls[1:], strict=False)]
    assert gaps[-1] > gaps[0] >= 0.03  # exponential back-off, not a tight loop
    assert conn.health.state == FAILED and CONFLICT_WEBHOOK in conn.health.detail


async def test_server_errors_back_off_then_recover(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession,
        sqlite_store: Store, tg_channel: ChannelRow) -> None:
    fake.fail("getUpdates", 502, "Bad Gateway", times=3, html=True)
    fake.push_message("дошло")
    conn: TelegramConnector = make_connector(backoff_initial=0.05)
    states: list[str] = []
    conn.on_health(lambda h: states.append(h.state))
    await conn.start(session)
    try:
        await wait_for(lambda: all_messages(sqlite_store, tg_channel.id), what="the message")
        await wait_for(lambda: conn.health.state == OK, what="healthy again")
    finally:
        await conn.stop()
    calls = fake.calls_to("getUpdates")
    assert calls[3].at - calls[0].at >= 0.05 + 0.1 + 0.2 - 0.1  # 1x, 2x, 4x, with jitter
    assert DEGRADED in states


async def test_429_on_getupdates_waits_retry_after(
        fake: FakeTelegram, make_connector: Any, session: aiohttp.ClientSession) -> None:
    fake.fail("getUpdates", 429, "Too Many Requests: retry after 1", retry_after=1)
    conn: TelegramConnector = make_connector()
    await conn.start(session)
    try:
        await wait_for(lambda: len(fake.calls_to("getUpdates")) >= 2, what="the second poll")
    finally:
        await conn.stop()
    first, second = fake.calls_to("getUpdates")[:2]
    assert second.at - first.at >= 0.95


async def test_network_error_on_start_is_a_connector_error(
        make_connector: Any, session: aiohttp.ClientSession) -> None:
    conn: TelegramConnector = make_connector(api_base="http://127.0.0.1:9")
    started = time.monotonic()
    with pytest.raises(ConnectorError) as info:
        await conn.start(session)
    assert "Cannot reach Telegram" in str(info.value) and time.monotonic() - started < 5


async def test_missing_token_is_a_clear_error(
        make_connector: Any, session: aiohttp.ClientSession) -> None:
    with pytest.raises(ConnectorError, match="no token"):
        await make_connector(token="").start(session)


async def test_bad_option_is_a_clear_error_at_start(
        make_connector: Any, session: aiohttp.ClientSession) -> None:
    conn: TelegramConnector = make_connector(poll_timeout="soon")  # constructing must not raise
    with pytest.raises(ConnectorError, match="poll_timeout: Input should be a valid number"):
        await conn.start(session)
    with pytest.raises(ConnectorError, match="mode: Input should be 'polling' or 'webhook'"):
        await make_connector(mode="push").start(session)


async def test_restart_and_duplicates_on_both_backends(
        fake: FakeTelegram, session: aiohttp.ClientSession, store: Store) -> None:
    """The offset and the (chat, message_id) dedupe hold on SQLite and PostgreSQL alike."""
    from connectors.base import ChannelSpec
    from tests.connectors.telegram_fixtures import FAST_OPTIONS, store_ingest

    channel = store.ensure_channel("telegram", "tg-both", {})
    spec = ChannelSpec(channel.id, channel.name, "telegram", {},
                       {"token": fake.token, "api_base": fake.url, **FAST_OPTIONS})
    key = f"telegram:{channel.id}:offset"
    first_update = fake.push_message("Привет")
    for _round in range(2):
        conn = TelegramConnector(spec, store, store_ingest(store))
        await conn.start(session)
        try:
            last = fake.push_message(f"раунд {_round}")
            await wait_for(lambda last=last: store.get_state(key) == str(last["update_id"] + 1),
                           what="the round committed")
        finally:
            await conn.stop()
        fake.push(message=first_update["message"])  # the same message, a new update_id
    texts = [m.text for m in all_messages(store, channel.id)]
    assert texts == ["Привет", "раунд 0", "раунд 1"]
