"""Fixtures for the Telegram connector tests: a fake Bot API, a real SQLite store, and
a connector wired to both with a tiny group-commit-free ingest (``store.ingest`` in a
thread, returning after commit) — the real gateway writer is tested by its own tests.

Import the fixtures into a test module with
``from tests.connectors.telegram_fixtures import *  # noqa: F403``.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from connectors.base import ChannelSpec, IngestFn
from connectors.http_server import HttpServer, ServerLimits
from connectors.telegram.connector import TelegramConnector
from storage.inputs import Inbound
from storage.rows import ChannelRow, IngestResult, MessageRow
from storage.store import Store
from tests.connectors.fake_telegram import FakeTelegram

__all__ = ["fake", "session", "tg_channel", "media_dir", "make_connector", "wait_for", "messages_of",
           "all_messages", "hook_server", "HookServer"]

FAST_OPTIONS: dict[str, Any] = {"poll_timeout": 1, "backoff_initial": 0.02, "backoff_max": 0.2}


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
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
def tg_channel(sqlite_store: Store) -> ChannelRow:
    return sqlite_store.ensure_channel("telegram", "tg-support", {})


def store_ingest(store: Store) -> IngestFn:
    async def ingest(inbound: Inbound) -> IngestResult:
        return await asyncio.to_thread(store.ingest, inbound)
    return ingest


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    """Where the test connectors download clients' files (never the user's data dir)."""
    return tmp_path / "media"


@pytest.fixture
def make_connector(sqlite_store: Store, tg_channel: ChannelRow, fake: FakeTelegram,
                   media_dir: Path) -> Callable[..., TelegramConnector]:
    """``make_connector(ingest=None, channel=None, **options)``: options override the fast
    test defaults (token and api_base point at the fake, files go to ``media_dir``)."""
    def build(ingest: IngestFn | None = None, channel: ChannelRow | None = None,
              **options: Any) -> TelegramConnector:
        ch = channel or tg_channel
        opts = {"token": fake.token, "api_base": fake.url, "media_dir": str(media_dir),
                **FAST_OPTIONS, **options}
        spec = ChannelSpec(ch.id, ch.name, "telegram", {}, opts)
        return TelegramConnector(spec, sqlite_store, ingest or store_ingest(sqlite_store))
    return build


async def wait_for(predicate: Callable[[], Any], timeout: float = 5.0,
                   what: str = "condition") -> Any:
    """Poll a test predicate (tests only; the product never polls)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if isinstance(value, Awaitable):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def messages_of(store: Store, task_id: int) -> list[MessageRow]:
    return list(store.thread_before(task_id, None, 500).items)


def all_messages(store: Store, channel_id: int) -> list[MessageRow]:
    """Every client message in the channel (inbound only), oldest first."""
    out: list[MessageRow] = []
    for task in store.list_tasks(None, None, 500).items:
        if task.channel_id == channel_id:
            out += [m for m in messages_of(store, task.id) if m.kind == "inbound"]
    return sorted(out, key=lambda m: m.cursor)


class HookServer:
    """A real server on 127.0.0.1 that mounts a connector's webhook routes.

    ``gateway=True`` is the gateway's own :class:`HttpServer`, with its
    middlewares (the body size cap, the webhook rate limit, and the body timeout that
    reads every body before the handler runs); ``gateway=False`` is a bare aiohttp
    application (the default), where the handler reads the stream itself."""

    def __init__(self, gateway: bool = False, body_timeout: float = 1.0) -> None:
        self.gateway = gateway
        self.body_timeout = body_timeout
        self.http: HttpServer | None = None
        self.runner: web.AppRunner | None = None
        # Bound now, served later: the address is known before the connector is built.
        if gateway:
            self.http = HttpServer("127.0.0.1", 0, limits=ServerLimits(body_timeout=body_timeout))
            self.http.bind()
            self.url = self.http.base_url()
            return
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    async def start(self, routes: list[web.RouteDef], client_max_size: int = 1024 ** 2) -> str:
        if self.http is not None:
            self.http.add_routes(routes)
            await self.http.start()
            return self.url
        app = web.Application(client_max_size=client_max_size)
        app.add_routes(routes)
        self.runner = web.AppRunner(app, handle_signals=False)
        await self.runner.setup()
        await web.SockSite(self.runner, self.sock).start()
        return self.url

    async def close(self) -> None:
        if self.http is not None:
            await self.http.stop()
            return
        if self.runner is not None:
            await self.runner.cleanup()
        self.sock.close()


@pytest.fixture(params=["gateway", "bare"])
async def hook_server(request: pytest.FixtureRequest) -> AsyncIterator[HookServer]:
    """The webhook tests run behind the gateway's server and on a bare application."""
    server = HookServer(gateway=request.param == "gateway")
    try:
        yield server
    finally:
        await server.close()
