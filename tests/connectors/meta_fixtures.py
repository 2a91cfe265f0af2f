"""Fixtures for the WhatsApp, Messenger and Instagram tests: the fake Graph API, a real
store, and the real gateway (HTTP server, group-commit writer, outbox worker) running
the connector found through the registry. No mocks.

"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from connectors.gateway import Gateway
from connectors.meta.hook import webhook_path
from storage.rows import MessageRow
from storage.store import Store
from tests.connectors.fake_meta import (
    APP_SECRET,
    PAGE_ID,
    PHONE_NUMBER_ID,
    TOKEN,
    VERIFY_TOKEN,
    FakeMeta,
)
from tests.connectors.gateway_helpers import running, spec


def meta_options(kind: str, fake: FakeMeta, media_dir: Path, **extra: Any) -> dict[str, Any]:
    opts: dict[str, Any] = {"app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN,
                            "api_base": fake.url, "api_version": "v21.0",
                            "media_dir": str(media_dir)}
    if kind == "whatsapp":
        opts.update(access_token=TOKEN, phone_number_id=PHONE_NUMBER_ID)
    else:
        opts.update(page_access_token=TOKEN, page_id=PAGE_ID)
    return {**opts, **extra}


class Live:
    """A running gateway with one Meta channel, and the fake posting to it."""

    def __init__(self, store: Store, gateway: Gateway, fake: FakeMeta, channel_id: int,
                 name: str, kind: str) -> None:
        self.store, self.gateway, self.fake = store, gateway, fake
        self.channel_id, self.name, self.kind = channel_id, name, kind
        self.hook_url = gateway.server.base_url() + webhook_path(kind, name)
        fake.hook_url = self.hook_url
        self.operator_id = store.ensure_operator("Anna", "operator").id

    def message(self, external_id: str) -> MessageRow | None:
        return self.store.find_message(self.channel_id, external_id)

    def reply(self, chat_id: str, text: str, **kwargs: Any) -> MessageRow:
        task_id = self.store.chat_task_id(self.channel_id, chat_id)
        assert task_id is not None, f"no task for {chat_id}"
        return self.store.reply(task_id, self.operator_id, text, **kwargs)

    async def state_of(self, message_id: int, *states: str, timeout: float = 10.0
                       ) -> MessageRow:
        return await wait_until(lambda: (m := self.store.get_message(message_id)).delivery_state
                                in states and m, timeout, f"message {message_id} in {states}")


@asynccontextmanager
async def live(store: Store, kind: str, tmp_path: Path, *, name: str | None = None,
               window_sync: bool = False, **options: Any) -> AsyncIterator[Live]:
    fake = FakeMeta(kind, window_sync=window_sync)
    await fake.start()
    try:
        name = name or f"{kind}-канал"
        channel = spec(store, kind, name, **meta_options(kind, fake, tmp_path / "media",
                                                         **options))
        async with running(store, [channel]) as gateway:
            await wait_until(lambda: gateway.health().get(name, ("", ""))[0] == "ok", 10,
                             f"{name} started ({gateway.health()})")
            yield Live(store, gateway, fake, channel.id, name, kind)
    finally:
        await fake.close()


async def wait_until(check: Callable[[], Any], timeout: float = 10.0,
                     what: str = "condition") -> Any:
    """Wait (in the test, never in the product) until ``check()`` is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(check)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def thread(store: Store, channel_id: int, chat_id: str) -> list[MessageRow]:
    """The client's messages in this conversation (inbound only), oldest first."""
    task_id = store.chat_task_id(channel_id, chat_id)
    items = store.thread_before(task_id, None, 500).items if task_id else []
    return [m for m in items if m.kind == "inbound"]
