"""The fake Bot API itself: the documented envelope and getUpdates semantics the
connector tests rely on (a fake that drifts from Telegram proves nothing)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from tests.connectors.fake_telegram import CONFLICT_POLL, FakeTelegram
from tests.connectors.telegram_fixtures import *  # noqa: F403
from tests.connectors.telegram_fixtures import wait_for


async def _call(session: aiohttp.ClientSession, fake: FakeTelegram, method: str,
                **kwargs: Any) -> tuple[int, dict]:
    async with session.post(f"{fake.url}/bot{fake.token}/{method}", **kwargs) as resp:
        return resp.status, await resp.json()


async def _until_polled(fake: FakeTelegram, count: int) -> None:
    """Until the fake has registered ``count`` getUpdates calls. It records a call and
    registers the poll as held in one step (no await between), so this is the moment the
    latest poll is waiting."""
    await wait_for(lambda: len(fake.calls_to("getUpdates")) >= count,
                   what=f"getUpdates call #{count}")


async def test_envelope_and_errors(fake: FakeTelegram, session: aiohttp.ClientSession) -> None:
    status, body = await _call(session, fake, "getme")  # methods are case-insensitive
    assert status == 200 and body["ok"] is True and body["result"]["is_bot"] is True
    fake.fail("getMe", 429, "Too Many Requests: retry after 7", retry_after=7)
    status, body = await _call(session, fake, "getMe")
    assert status == 429 and body == {"ok": False, "error_code": 429,
                                      "description": "Too Many Requests: retry after 7",
                                      "parameters": {"retry_after": 7}}
    status, body = await _call(session, fake, "noSuchMethod")
    assert status == 404 and body["ok"] is False
    fake.revoked.add(fake.token)
    status, body = await _call(session, fake, "getMe")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


async def test_get_updates_offset_limit_order(fake: FakeTelegram,
                                              session: aiohttp.ClientSession) -> None:
    ids = [fake.push_message(str(i))["update_id"] for i in range(5)]
    _, body = await _call(session, fake, "getUpdates", json={"limit": 2})
    assert [u["update_id"] for u in body["result"]] == ids[:2]
    _, body = await _call(session, fake, "getUpdates", json={"offset": ids[2]})
    assert [u["update_id"] for u in body["result"]] == ids[2:]
    _, body = await _call(session, fake, "getUpdates", json={})  # confirmed ones are gone
    assert [u["update_id"] for u in body["result"]] == ids[2:]
    _, body = await _call(session, fake, "getUpdates", json={"offset": -1})
    assert [u["update_id"] for u in body["result"]] == ids[-1:]
    # form bodies work as well as JSON
    _, body = await _call(session, fake, "getUpdates", data={"offset": str(ids[-1] + 1)})
    assert body["result"] == []


async def test_long_poll_holds_until_an_update_or_the_timeout(
        fake: FakeTelegram, session: aiohttp.ClientSession) -> None:
    started = time.monotonic()
    _, body = await _call(session, fake, "getUpdates", json={"timeout": 0.3})
    assert body["result"] == [] and time.monotonic() - started >= 0.3
    started = time.monotonic()
    held = asyncio.create_task(_call(session, fake, "getUpdates", json={"timeout": 5}))
    await _until_polled(fake, 2)  # the second poll is held open by the fake
    assert not held.done()
    fake.push_message("пришло")
    _, body = await held
    assert [u["message"]["text"] for u in body["result"]] == ["пришло"]
    assert time.monotonic() - started < 2


async def test_overlapping_polls_terminate_the_earlier(
        fake: FakeTelegram, session: aiohttp.ClientSession) -> None:
    first = asyncio.create_task(_call(session, fake, "getUpdates", json={"timeout": 5}))
    await _until_polled(fake, 1)  # the fake holds the first poll before the second comes
    assert not first.done()
    second = asyncio.create_task(_call(session, fake, "getUpdates", json={"timeout": 0.2}))
    status, body = await first
    assert status == 409 and body["description"] == CONFLICT_POLL
    status, _ = await second
    assert status == 200


async def test_send_message_limits(fake: FakeTelegram, session: aiohttp.ClientSession) -> None:
    fake.push_message("привет")
    status, body = await _call(session, fake, "sendMessage",
                               json={"chat_id": 4242, "text": "я" * 4096})
    assert status == 200 and body["result"]["text"] == "я" * 4096
    status, body = await _call(session, fake, "sendMessage",
                               json={"chat_id": 4242, "text": "я" * 4097})
    assert (status, body["description"]) == (400, "Bad Request: message is too long")
    status, body = await _call(session, fake, "sendMessage", data={"chat_id": "4242", "text": ""})
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")
    status, body = await _call(session, fake, "sendMessage", json={"chat_id": 1, "text": "x"})
    assert (status, body["description"]) == (400, "Bad Request: chat not found")
