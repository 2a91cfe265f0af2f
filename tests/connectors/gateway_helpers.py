"""Shared set-up for the gateway, outbox, HTTP server and web chat tests (no mocks).

A real store (SQLite file or PostgreSQL), real channels ensured in it, a real gateway
listening on 127.0.0.1 with an ephemeral port.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from connectors.backoff import Backoff
from connectors.base import ChannelSpec
from connectors.gateway import Gateway
from storage.inputs import Inbound
from storage.store import Store

SECRET = "s3cret"


def spec(store: Store, kind: str, name: str, **options: Any) -> ChannelSpec:
    row = store.ensure_channel(kind, name, {})
    return ChannelSpec(id=row.id, name=name, kind=kind, settings={}, options=options)


@asynccontextmanager
async def running(store: Store, specs: list[ChannelSpec], **kwargs: Any) -> AsyncIterator[Gateway]:
    kwargs.setdefault("port", 0)
    kwargs.setdefault("outbox_backoff", Backoff(base=0.05, cap=0.2))
    gateway = Gateway(store, specs, **kwargs)
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop()


def inbound(channel_id: int, chat: str, text: str, external_id: str, **kw: Any) -> Inbound:
    return Inbound(channel_id=channel_id, chat_id=chat, sender_id=chat, text=text,
                   external_id=external_id, **kw)


async def eventually(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Wait (in the test, not in the product) until ``check()`` is truthy (runs in a thread)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(check)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {check}")
        await asyncio.sleep(interval)
