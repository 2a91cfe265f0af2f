"""What the connectors may ask of the store: narrow protocols, not the whole ``Store``.

``connectors/base.py`` types ``Connector.store`` with :class:`ConnectorStore`; the
workers of ``connectors/`` take a protocol named for them (:class:`OutboxStore`,
:class:`AutomationStore`, :class:`GatewayStore`). The :class:`storage.store.Store`
satisfies each structurally (``tests/storage/test_worker_ports.py``). A method a
connector starts to need is added here on purpose, so the surface stays visible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from storage.channel_policy import ChannelPolicy
from storage.events import Event
from storage.inputs import Inbound
from storage.rows import ChannelRow, IngestResult, MessageRow, OutboxItem, Page

Cursor = tuple[int, int]


class EventSource(Protocol):
    """The store's bus as a connector sees it: events after commit."""

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]: ...


@runtime_checkable
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


@runtime_checkable
class IngestStore(Protocol):
    """The group-commit ingest writer's surface (``connectors/writer.py``)."""

    def ingest(self, inbound: Inbound) -> IngestResult: ...

    def ingest_many(self, batch: list[Inbound]) -> list[IngestResult]: ...


@runtime_checkable
class OutboxStore(Protocol):
    """The outbox worker's surface (``connectors/outbox.py``): wake on ``outbox.queued``,
    claim what is due, record each outcome."""

    @property
    def bus(self) -> EventSource: ...

    def recover_outbox(self) -> int: ...

    def mark_unserved(self, served_channel_ids: Iterable[int]) -> int: ...

    def claim_outbox(self, limit: int = 20, now: datetime | None = None,
                     channel_ids: tuple[int, ...] | None = None) -> list[OutboxItem]: ...

    def next_outbox_due(self) -> datetime | None: ...

    def mark_sent(self, message_id: int, external_id: str | None) -> None: ...

    def mark_failed(self, message_id: int, reason: str) -> None: ...

    def schedule_retry(self, message_id: int, at: datetime, reason: str) -> None: ...


@runtime_checkable
class AutomationStore(Protocol):
    """The automation worker's own calls (``connectors/automation.py``): events, and the
    snoozes that end.

    The worker also hands this same object to the rules engine it drives
    (``storage.rules.engine.Automation``, a storage component typed ``Any``), which runs
    on the whole store: in practice the object is a :class:`storage.store.Store`.
    """

    @property
    def bus(self) -> EventSource: ...

    def end_snoozes(self, now: datetime | None = None) -> list[int]: ...

    def next_snooze_end(self) -> datetime | None: ...


@runtime_checkable
class LeaseHost(Protocol):
    """What a lease (``storage.leases.Lease``) runs on: SQL on the team side table of the
    store's database, so it needs the database itself. The gateway only hands its store
    to its leases and never touches these members."""

    db: Any
    m: Any
    postgres: bool

    @property
    def bus(self) -> EventSource: ...

    def transaction(self) -> AbstractContextManager[Any]: ...


@runtime_checkable
class GatewayStore(ConnectorStore, IngestStore, OutboxStore, LeaseHost, Protocol):
    """The gateway's store (``connectors/gateway.py``). The gateway calls nothing on it:
    it hands the one store to its connectors (:class:`ConnectorStore`), its ingest
    writer (:class:`IngestStore`), its outbox worker (:class:`OutboxStore`) and its
    leases (:class:`LeaseHost`)."""


__all__ = ["AutomationStore", "ConnectorStore", "EventSource", "GatewayStore", "IngestStore",
           "LeaseHost", "OutboxStore"]
