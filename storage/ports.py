"""What a connector may ask of the store: a narrow protocol, not the whole ``Store``.

``connectors/base.py`` types ``Connector.store`` with :class:`ConnectorStore`; the
:class:`storage.store.Store` satisfies it structurally. A method a connector starts to
need is added here on purpose, so the surface stays visible.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from storage.channel_policy import ChannelPolicy
from storage.events import Event
from storage.inputs import Inbound
from storage.rows import ChannelRow, IngestResult, MessageRow, Page

Cursor = tuple[int, int]


class EventSource(Protocol):
    """The store's bus as a connector sees it: events after commit."""

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]: ...


class ConnectorStore(Protocol):
    """The store's surface a channel connector uses (inbound, receipts, state, history)."""

    @property
    def bus(self) -> EventSource: ...

    def transaction(self) -> AbstractContextManager[Any]: ...

    def policy(self, kind: str) -> ChannelPolicy: ...

    # inbound
    def ingest(self, inbound: Inbound) -> IngestResult: ...

    def ingest_many(self, batch: list[Inbound]) -> list[IngestResult]: ...

    def edit_inbound(self, channel_id: int, external_id: str, text: str) -> int | None: ...

    def mark_inbound_deleted(self, channel_id: int, external_id: str) -> int | None: ...

    # outbound receipts
    def mark_sent(self, message_id: int, external_id: str | None) -> None: ...

    def mark_delivery(self, channel_id: int, external_id: str, state: str,
                      reason: str = "") -> int | None: ...

    # durable state
    def get_state(self, key: str, default: str | None = None) -> str | None: ...

    def set_state(self, key: str, value: str) -> None: ...

    # reads a channel needs (replayed history, quoting, receipts)
    def get_message(self, message_id: int) -> MessageRow: ...

    def find_message(self, channel_id: int, external_id: str) -> MessageRow | None: ...

    def chat_task_id(self, channel_id: int, chat_id: str) -> int | None: ...

    def thread_before(self, task_id: int, before: Cursor | None = None,
                      limit: int = 100) -> Page[MessageRow]: ...

    def conversation_page(self, channel_id: int, chat_id: str, before: Cursor | None = None,
                          limit: int = 50) -> Page[MessageRow]: ...

    def conversation_after(self, channel_id: int, chat_id: str, after: Cursor,
                           limit: int = 200) -> Page[MessageRow]: ...

    def channel_by_name(self, name: str) -> ChannelRow: ...


__all__ = ["ConnectorStore", "EventSource"]
