"""Webhook mode over real HTTP: setWebhook with a secret, the secret header checked before
the body, 200 only after commit, duplicate deliveries, size cap, malformed bodies.

Every test runs twice (the ``hook_server`` fixture): behind the gateway's own
:class:`connectors.http_server.HttpServer`, whose body-timeout middleware reads the body
before the handler (the path production takes), and on a bare aiohttp application."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from connectors.base import ConnectorError
from connectors.telegram.connector import (
    SECRET_HEADER,
    TelegramConnector,
    derived_secret,
    webhook_path,
)
from storage.rows import ChannelRow
from storage.store import Store
from tests.connectors.fake_telegram import FakeTelegram
from tests.connectors.telegram_fixtures import *  # noqa: F403
from tests.connectors.telegram_fixtures import HookServer, all_messages, wait_for

SECRET = "hook-Secret_123"


async def _webhook_connector(make_connector: Any, hook_server: HookServer,
                             session: aiohttp.ClientSession, **options: Any) -> TelegramConnector:
    options.setdefault("webhook_secret", SECRET)
    conn: TelegramConnector = make_connector(mode="webhook", public_url=hook_server.url,
                                             **options)
    await hook_server.start(conn.routes())
    await conn.start(session)
    return conn


async def test_set_webhook_and_delivery_answered_after_commit(
        fake: FakeTelegram, make_connector: Any, hook_server: HookServer,
        session: aiohttp.ClientSession, sqlite_store: Store, tg_channel: ChannelRow) -> None:
    conn = await _webhook_connector(make_connector, hook_server, session)
    try:
        [call] = fake.calls_to("setWebhook")
        assert call.params["url"] == hook_server.url + "/hooks/telegram/tg-support"
        assert call.params["secret_token"] == SECRET
        assert call.params["allowed_updates"] == ["message", "edited_message"]
        assert not fake.calls_to("getUpdates")
        update = fake.push_message("через вебхук")
        await wait_for(lambda: fake.deliveries, what="a delivery")
        # The fake recorded 200 only once the answer came: the message is already stored.
        assert fake.deliveries == [(update["update_id"], 200)]
        msg = sqlite_store.find_message(tg_channel.id, f"4242:{update['message']['message_id']}")
        assert msg is not None and msg.text == "через вебхук"
    finally:
        await conn.stop()


async def test_bad_or_missing_secret_stores_nothing(
        fake: FakeTelegram, make_connector: Any, hook_server: HookServer,
        session: aiohttp.ClientSession, sqlite_store: Store, tg_channel: ChannelRow) -> None:
    conn = await _webhook_connector(make_connector, hook_server, session)
    url = hook_server.url + webhook_path("tg-support")
    body = json.dumps({"update_id": 1, "message": fake.message("чужое")})
    try:
        async with session.post(url, data=body, headers={SECRET_HEADER: "wrong"}) as resp:
            assert resp.status == 403
        async with session.post(url, data=body) as resp:
            assert resp.status == 401
        async with session.post(url, data=body, headers={SECRET_HEADER: SECRET + "x"}) as resp:
            assert resp.status == 403
    finally:
        await conn.stop()
    assert all_messages(sqlite_store, tg_channel.id) == []


async def test_duplicate_delivery_stores_one_message(
        fake: FakeTelegram, make_connector: Any, hook_server: HookServer,
        session: aiohttp.ClientSession, sqlite_store: Store, tg_channel: ChannelRow) -> None:
    conn = await _webhook_connector(make_connector, hook_server, session)
    try:
        update = fake.push_message("дважды")
        await wait_for(lambda: fake.deliveries, what="the first delivery")
        assert await fake.deliver(update) == 200  # Telegram delivers the same update again
        # ... and the same message under a new update_id (same chat and message_id)
        assert await fake.deliver({**update, "update_id": update["update_id"] + 100}) == 200
    finally:
        await conn.stop()
    msgs = all_messages(sqlite_store, tg_channel.id)
    assert [m.text for m in msgs] == ["дважды"]
    assert sqlite_store.get_task(msgs[0].task_id).unread_count == 1


async def test_edit_via_webhook(
        fake: FakeTelegram, make_connector: Any, hook_server: HookServer,
        session: aiohttp.ClientSession, sqlite_store: Store, tg_channel: ChannelRow) -> None:
    conn = await _webhook_connector(make_connector, hook_server, session)
    try:
        original = fake.push_message("до правки")["message"]
        fake.push_edit(original, "после правки")
        await wait_for(lambda: len(fake.deliveries) == 2, what="two deliveries")
    finally:
        await conn.stop()
    [msg] = all_messages(sqlite_store, tg_channel.id)
    assert msg.text == "после правки" and msg.edited


async def test_oversized_and_malformed_bodies(
        fake: FakeTelegram, make_connector: Any, hook_server: HookServer,
        session: aiohttp.ClientSession, sqlite_store: Store, tg_channel: ChannelRow) -> None:
    conn = await _webhook_connector(make_connector, hook_server, session, max_body_bytes=2048)
    url = hook_server.url + webhook_path("tg-support")
    headers = {SECRET_HEADER: SECRET}
    try:
        big = json.dumps({"update_id": 1, "message": fake.message("я" * 3000)})
        async with session.post(url, data=big, headers=headers) as resp:
            assert resp.status == 413

        async def chunks() -> Any:  # no Content-Length: the cap applies while reading
            for _ in range(10):
                yield b"x" * 1000
        async with session.post(url, data=chunks(), headers=headers) as resp:
            assert resp.status == 413
        async with session.post(url, data=b"{not json", headers=headers) as resp:
            assert resp.status == 400
        async with session.post(url, json={"message": {}}, headers=headers) as resp:
            assert resp.status == 400 and "update_id" in (await resp.json())["error"]
        async with session.post(url, json={"update_id": 5, "callback_query": {"id": "1"}},
                                headers=headers) as resp:
            assert resp.status == 200  # acknowledged, nothing to store
    finally:
        await conn.stop()
    assert all_messages(sqlite_store, tg_channel.id) == []


async def test_store_failure_answers_500_so_telegram_retries(
        fake: FakeTelegram, make_connector: Any, hook_server: HookServer,
        session: aiohttp.ClientSession, sqlite_store: Store, tg_channel: ChannelRow) -> None:
    calls = {"n": 0}

    async def failing_once(inbound: Any) -> Any:
        import asyncio
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database is locked")
        return await asyncio.to_thread(sqlite_store.ingest, inbound)

    conn = await _webhook_connector(make_connector, hook_server, session, ingest=failing_once)
    try:
        update = fake.push_message("повтор")
        await wait_for(lambda: any(s == 200 for _, s in fake.deliveries), what="a 200")
    finally:
        await conn.stop()
    assert fake.deliveries == [(update["update_id"], 500), (update["update_id"], 200)]
    assert [m.text for m in all_messages(sqlite_store, tg_channel.id)] == ["повтор"]


async def test_cyrillic_channel_name_and_derived_secret(
        fake: FakeTelegram, make_connector: Any, hook_server: HookServer,
        session: aiohttp.ClientSession, sqlite_store: Store) -> None:
    channel = sqlite_store.ensure_channel("telegram", "поддержка 24/7", {})
    conn: TelegramConnector = make_connector(channel=channel, mode="webhook",
                                             public_url=hook_server.url)
    await hook_server.start(conn.routes())
    await conn.start(session)
    try:
        [call] = fake.calls_to("setWebhook")
        assert call.params["secret_token"] == derived_secret(fake.token, "поддержка 24/7")
        assert fake.token not in call.params["secret_token"]
        assert call.params["url"].endswith("/hooks/telegram/%D0%BF%D0%BE%D0%B4%D0%B4%D0%B5%D1%80"
                                           "%D0%B6%D0%BA%D0%B0%2024%2F7")
        fake.push_message("привет")
        await wait_for(lambda: all_messages(sqlite_store, channel.id), what="the message")
    finally:
        await conn.stop()


async def test_webhook_without_url_is_a_clear_error(
        make_connector: Any, session: aiohttp.ClientSession) -> None:
    with pytest.raises(ConnectorError, match="webhook_url"):
        await make_connector(mode="webhook").start(session)


async def test_secret_is_checked_before_the_body_is_read(
        fake: FakeTelegram, make_connector: Any, hook_server: HookServer,
        session: aiohttp.ClientSession, sqlite_store: Store, tg_channel: ChannelRow) -> None:
    """A body that never ends does not hold the connection: on a bare application the
    handler answers 403 at once (the secret is checked before the body is read); behind
    the gateway's server, whose middleware reads every body first, the server's body
    timeout answers 408. Either way nothing is stored."""
    import asyncio

    conn = await _webhook_connector(make_connector, hook_server, session)
    url = hook_server.url + webhook_path("tg-support")
    release = asyncio.Event()

    async def endless() -> Any:
        yield b'{"update_id": 1, '
        await release.wait()
        yield b"}"

    try:
        async with asyncio.timeout(hook_server.body_timeout + 3):
            async with session.post(url, data=endless(),
                                    headers={SECRET_HEADER: "wrong"}) as resp:
                assert resp.status == (408 if hook_server.gateway else 403)
    finally:
        release.set()
        await conn.stop()
    assert all_messages(sqlite_store, tg_channel.id) == []
