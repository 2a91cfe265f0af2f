"""VK Bots Long Poll against the fake (ts kept as a string, failed 1/2/3), and the whole
path through the real gateway: an event in, a reply out, VK's refusal shown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from connectors.base import ChannelSpec
from connectors.vk.connector import VkConnector, webhook_path
from storage.inputs import Inbound
from storage.rows import ChannelRow, IngestResult
from storage.store import Store
from tests.connectors.fake_vk import BLACKLIST, TOO_MANY, FakeVk
from tests.connectors.gateway_helpers import eventually, running, spec
from tests.connectors.telegram_fixtures import all_messages, wait_for

CLIENT = 5550001


@pytest.fixture
async def fake() -> AsyncIterator[FakeVk]:
    server = FakeVk()
    server.users[CLIENT] = {"first_name": "Мария", "last_name": "Иванова"}
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
def vk_channel(sqlite_store: Store) -> ChannelRow:
    return sqlite_store.ensure_channel("vk", "vk-lp", {})


@pytest.fixture
async def poller(sqlite_store: Store, vk_channel: ChannelRow, fake: FakeVk,
                 tmp_path: Path) -> AsyncIterator[VkConnector]:
    async def ingest(inbound: Inbound) -> IngestResult:
        return await asyncio.to_thread(sqlite_store.ingest, inbound)
    opts = {"access_token": fake.token, "api_base": fake.url, "group_id": fake.group_id,
            "mode": "longpoll", "poll_wait": 1, "backoff_initial": 0.01, "backoff_max": 0.05,
            "media_dir": str(tmp_path / "media")}
    connector = VkConnector(ChannelSpec(vk_channel.id, vk_channel.name, "vk", {}, opts),
                            sqlite_store, ingest)
    async with aiohttp.ClientSession() as session:
        await connector.start(session)
        try:
            yield connector
        finally:
            await connector.stop()


async def test_long_poll_stores_events_and_keeps_ts_as_a_string(
        fake: FakeVk, poller: VkConnector, sqlite_store: Store, vk_channel: ChannelRow) -> None:
    assert poller.routes() == []  # nothing to receive over HTTP in this mode
    await wait_for(lambda: fake.calls_to("a_check"), what="the first poll")
    voice = {"type": "audio_message", "audio_message": {
        "id": 1, "owner_id": CLIENT, "duration": 3,
        "link_ogg": fake.file_url("v.ogg", b"OggS voice", "audio/ogg"),
        "link_mp3": fake.file_url("v.mp3", b"ID3 voice", "audio/mpeg")}}
    fake.push(fake.message_new(fake.message("", attachments=[voice])))
    ts = fake.push(fake.message_new(fake.message("Алло, слышно?")))
    stored = await wait_for(lambda: len(all_messages(sqlite_store, vk_channel.id)) == 2
                            and all_messages(sqlite_store, vk_channel.id), what="two messages")
    [voice_file] = stored[0].attachments
    assert voice_file.mime == "audio/ogg" and Path(voice_file.location).read_bytes() == b"OggS voice"
    assert stored[1].text == "Алло, слышно?"
    key = f"vk:{vk_channel.id}:ts"
    await wait_for(lambda: sqlite_store.get_state(key) == str(int(ts) + 1), what="ts saved")
    [lp] = fake.calls_to("groups.getLongPollServer")
    assert lp.params["group_id"] == str(fake.group_id)
    assert all(c.params["act"] == "a_check" and c.params["wait"] == "1"
               for c in fake.calls_to("a_check"))


async def test_failed_1_2_3_are_followed(
        fake: FakeVk, poller: VkConnector, sqlite_store: Store, vk_channel: ChannelRow) -> None:
    await wait_for(lambda: fake.calls_to("a_check"), what="the first poll")
    fake.lp_failures += [{"failed": 1, "ts": "1"}, {"failed": 2}, {"failed": 3}]
    # failed 2 and failed 3 each ask for a new key; failed 3 takes VK's ts too.
    await wait_for(lambda: len(fake.calls_to("groups.getLongPollServer")) == 3,
                   what="two new keys")
    polls = len(fake.calls_to("a_check"))
    await wait_for(lambda: len(fake.calls_to("a_check")) > polls, what="polling again")
    fake.push(fake.message_new(fake.message("после сбоев")))
    await wait_for(lambda: all_messages(sqlite_store, vk_channel.id), what="the message")
    checks = [c.params["ts"] for c in fake.calls_to("a_check")]
    assert checks[1] == "1"  # failed 1: continued from the returned ts
    assert len(fake.calls_to("groups.getLongPollServer")) == 3


async def test_store_keeps_ts_across_restart_and_nothing_is_stored_twice(
        fake: FakeVk, sqlite_store: Store, vk_channel: ChannelRow) -> None:
    key = f"vk:{vk_channel.id}:ts"
    first = fake.push(fake.message_new(fake.message("первое")))
    sqlite_store.set_state(key, first)  # a previous run stopped before this event
    fake.push(fake.message_new(fake.message("второе")))

    async def ingest(inbound: Inbound) -> IngestResult:
        return await asyncio.to_thread(sqlite_store.ingest, inbound)
    opts = {"access_token": fake.token, "api_base": fake.url, "group_id": fake.group_id,
            "mode": "longpoll", "poll_wait": 1}
    for _run in range(2):
        connector = VkConnector(ChannelSpec(vk_channel.id, vk_channel.name, "vk", {}, opts),
                                sqlite_store, ingest)
        async with aiohttp.ClientSession() as session:
            await connector.start(session)
            await wait_for(lambda: sqlite_store.get_state(key) == "3", what="ts moved")
            await connector.stop()
    assert [m.text for m in all_messages(sqlite_store, vk_channel.id)] == ["первое", "второе"]


async def test_through_the_gateway_a_transient_error_is_retried_and_a_permanent_one_shown(
        fake: FakeVk, store: Store) -> None:
    vk = spec(store, "vk", "vk-gw", access_token=fake.token, api_base=fake.url,
              group_id=fake.group_id, mode="longpoll", poll_wait=1)
    async with running(store, [vk]) as gateway:
        await eventually(lambda: gateway.health()["vk-gw"][0] == "ok")
        await eventually(lambda: fake.calls_to("a_check"))  # events from now on are seen
        fake.push(fake.message_new(fake.message("Добрый день")))
        [msg] = await eventually(lambda: all_messages(store, vk.id))
        op = store.ensure_operator("Оля")
        fake.fail("messages.send", TOO_MANY)
        first = store.reply(msg.task_id, op.id, "Здравствуйте, Мария!")
        await eventually(lambda: store.get_message(first.id).delivery_state == "sent")
        assert [s["text"] for s in fake.sent] == ["Здравствуйте, Мария!"]
        assert len(fake.calls_to("messages.send")) == 2
        fake.fail("messages.send", BLACKLIST)
        second = store.reply(msg.task_id, op.id, "Вы здесь?")
        failed = await eventually(lambda: (m := store.get_message(second.id))
                                  .delivery_state == "failed" and m)
        assert failed.failure_reason == "Can't send messages for users from blacklist"
    task = store.get_task(msg.task_id)
    assert store.get_contact(task.contact_id).name == "Мария Иванова"



async def test_callback_route_through_the_gateway_answers_at_the_printed_address(
        fake: FakeVk, sqlite_store: Store) -> None:
    name = "vk/поддержка 2"
    vk = spec(sqlite_store, "vk", name, access_token=fake.token, api_base=fake.url,
              confirmation="c0nf1rm", secret="s3cret-key")
    async with running(sqlite_store, [vk]) as gateway:
        await eventually(lambda: gateway.health()[name][0] == "ok")
        [line] = [a for a in gateway.addresses() if "VK" in a]
        url = line.rsplit(" ", 1)[-1]
        assert url == gateway.server.base_url() + webhook_path(name)
        confirm = {"type": "confirmation", "group_id": fake.group_id}
        assert await fake.deliver(url, confirm, secret="s3cret-key") == (200, "c0nf1rm")
        event = fake.message_new(fake.message("Через шлюз"))
        assert await fake.deliver(url, event, secret="s3cret-key") == (200, "ok")
        [msg] = all_messages(sqlite_store, vk.id)
        assert msg.text == "Через шлюз"
