"""Durable read receipts from the page: recorded, then acknowledged.

The page keeps every receipt (``delivered``/``read``) until the server answers
``receipt_ack`` for it, and sends what it still holds again after each reconnect. The
server acknowledges a receipt only once it is committed, or when there is nothing to
record (already at that state or later, or not a reply to this visitor). So a crash
loses no receipt: what the server never acknowledged, the page sends again.

A receipt can arrive before the outbox has recorded the push as sent (the page answers
within milliseconds): it is held in memory until the ``sent`` event, then recorded and
acknowledged to the visitor's open sockets. If the process dies first, the page still
holds it and sends it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable

from connectors.webchat.history import own_outbound
from storage.constants import READ, SENT
from storage.events import MESSAGE_UPDATED, Event
from storage.outbox_queue import STATE_RANK
from storage.ports import ConnectorStore

log = logging.getLogger(__name__)

MAX_HELD = 10_000
Recorded = Callable[[str, list[int], str], None]  # (chat_id, ids, state), on the loop


class Receipts:
    def __init__(self, store: ConnectorStore, channel_id: int,
                 external_id: Callable[[int], str], on_recorded: Recorded) -> None:
        self.store = store
        self.channel_id = channel_id
        self.external_id = external_id
        self.on_recorded = on_recorded
        self._held: dict[int, tuple[str, str]] = {}  # message id -> (chat id, state)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._background: set[asyncio.Future[None]] = set()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    async def record(self, chat_id: str, ids: list[int], state: str) -> list[int]:
        """Record ``state`` for the visitor's replies ``ids``; returns those settled now."""
        return await asyncio.to_thread(self._record, chat_id, ids, state)

    def _record(self, chat_id: str, ids: list[int], state: str) -> list[int]:
        settled: list[int] = []
        for message_id in ids:
            message = own_outbound(self.store, self.channel_id, chat_id, message_id)
            if message is None or (STATE_RANK.get(message.delivery_state or "", -1)
                                   >= STATE_RANK[state]):
                settled.append(message_id)  # not theirs, or nothing left to record
                continue
            if self.store.mark_delivery(self.channel_id, self.external_id(message_id),
                                        state) is not None:
                settled.append(message_id)
                continue
            with self._lock:  # not recorded as sent yet: wait for that event
                previous = self._held.get(message_id)
                if previous is None and len(self._held) >= MAX_HELD:
                    continue  # the page keeps it and sends it again
                if previous is None or previous[1] != READ:
                    self._held[message_id] = (chat_id, state)
        return settled

    def on_event(self, event: Event) -> None:
        """Store events (any thread): record a held receipt once its reply is sent."""
        if (event.kind != MESSAGE_UPDATED or event.data.get("state") != SENT
                or event.message_id is None or self._loop is None):
            return
        with self._lock:
            held = self._held.pop(event.message_id, None)
        if held is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed under us
                self._loop.call_soon_threadsafe(self._apply, event.message_id, *held)

    def _apply(self, message_id: int, chat_id: str, state: str) -> None:
        task = asyncio.ensure_future(self._settle(message_id, chat_id, state))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _settle(self, message_id: int, chat_id: str, state: str) -> None:
        try:
            settled = await self.record(chat_id, [message_id], state)
        except Exception:  # the page still holds it and sends it again
            log.warning("recording a held web chat receipt failed", exc_info=True)
            return
        if settled:
            self.on_recorded(chat_id, settled, state)
