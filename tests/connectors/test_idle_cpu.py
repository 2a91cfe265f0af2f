"""No spinning pollers: against a Bot API that answers ``getUpdates`` at once with nothing
(a local Bot API server, a proxy, an emulator that does not hold the long poll), the
Telegram connector waits between empty polls, and an idle gateway (Telegram polling plus
a web chat) uses at most 2 % of a core.

The CPU check measures this process's CPU time (``time.process_time``) over a window
bounded by events — the next few polls — not a speed benchmark: a busy loop would burn
most of a core, a paced poller a fraction of a percent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from connectors.base import ChannelSpec
from connectors.telegram.connector import EMPTY_POLL_INTERVAL
from storage.store import Store
from tests.connectors.gateway_helpers import running, spec

TOKEN = "123456789:AAE-instant-answer-test-token-000000"


class InstantBotApi:
    """Answers every Bot API call at once; ``getUpdates`` with an empty list, always."""

    def __init__(self) -> None:
        self.polls: list[float] = []  # monotonic time of each getUpdates
        self.changed = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._call)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _call(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        result: Any = True
        if method == "getMe":
            result = {"id": 123456789, "is_bot": True, "first_name": "Idle",
                      "username": "idle_bot"}
        elif method == "getUpdates":
            self.polls.append(time.monotonic())
            self.changed.set()
            result = []
        elif method == "getWebhookInfo":
            result = {"url": "", "pending_update_count": 0}
        return web.json_response({"ok": True, "result": result})

    async def wait_polls(self, count: int, timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.polls) < count:
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def instant() -> AsyncIterator[InstantBotApi]:
    api = InstantBotApi()
    await api.start()
    try:
        yield api
    finally:
        await api.close()


def telegram_spec(store: Store, api: InstantBotApi) -> ChannelSpec:
    return spec(store, "telegram", "tg", token=TOKEN, api_base=api.url, poll_timeout=25)


async def test_empty_polls_are_paced_against_an_instant_api(
        sqlite_store: Store, instant: InstantBotApi) -> None:
    async with running(sqlite_store, [telegram_spec(sqlite_store, instant)]):
        await instant.wait_polls(4)
    gaps = [b - a for a, b in zip(instant.polls, instant.polls[1:], strict=False)]
    assert gaps and min(gaps) >= EMPTY_POLL_INTERVAL * 0.9


async def test_idle_gateway_uses_at_most_two_percent_of_a_core(
        sqlite_store: Store, instant: InstantBotApi) -> None:
    specs = [telegram_spec(sqlite_store, instant), spec(sqlite_store, "webchat", "web")]
    async with running(sqlite_store, specs):
        await instant.wait_polls(2)  # started and polling
        cpu, wall, first = time.process_time(), time.monotonic(), len(instant.polls)
        await instant.wait_polls(first + 3)  # a window of three more polls
        used = time.process_time() - cpu
        elapsed = time.monotonic() - wall
    assert elapsed >= 2 * EMPTY_POLL_INTERVAL * 0.9
    assert used / elapsed <= 0.02, f"{used:.3f} s CPU in {elapsed:.2f} s"
