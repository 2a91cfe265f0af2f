"""The store's core: the database, its models, the one write path, the bus and the rules.

Every write runs in :meth:`StoreCore.transaction`, which serializes writers in this
process, commits, and only then publishes the events the operation recorded (the
PostgreSQL bus sends them inside the transaction with ``pg_notify``, which delivers on
commit). The core also holds the low-level helpers every service shares (loading a row
for update, system events, audit, the task's last activity) and the services
themselves, one object per concern, which call each other through it
(``self.core.reads.get_task(...)``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import peewee as pw

from storage import events as ev
from storage.channel_policy import ChannelPolicy, Policies
from storage.database import Progress, ensure_schema, postgres_connector
from storage.drafts import Drafts
from storage.durable_state import DurableState
from storage.errors import NotFound
from storage.events import Event, EventBus, InProcessBus, PostgresBus
from storage.hot_indexes import ensure_hot_indexes
from storage.i18n import _
from storage.ingesting import Ingest
from storage.merging import Merging
from storage.models import EVENT, NEW, Models, build_models, utcnow
from storage.outbox_queue import OutboxQueue
from storage.quick_replies import QuickReplies
from storage.reading import Reads
from storage.replies import Replies
from storage.scheduling import Scheduling
from storage.task_admin import Tasks
from storage.task_update import preview_of
from storage.triage import Triage


@dataclass
class Tx:
    """A running write transaction: collects the events to publish on commit."""

    events: list[Event] = field(default_factory=list)

    def emit(self, kind: str, *, task_id: int | None = None, message_id: int | None = None,
             contact_id: int | None = None, **data: object) -> None:
        self.events.append(Event(kind, task_id, message_id, contact_id, dict(data)))


class StoreCore:
    def __init__(self, db: pw.Database, bus: EventBus | None = None,
                 progress: Progress | None = None,
                 policies: Mapping[str, ChannelPolicy] | None = None) -> None:
        self.db = db
        # The channel rules, by kind: injected (``connectors.registry.policies()``);
        # a kind not given gets the permissive ``unknown_kind_policy``.
        self.policies = Policies(policies)
        self.m: Models = build_models(db)
        self.postgres = isinstance(db, pw.PostgresqlDatabase)
        self.schema_version = ensure_schema(db, self.m, progress)
        ensure_hot_indexes(db)  # unread total, snooze timer: no scan of every task
        self._ensure_side_tables()
        if bus is None:
            bus = PostgresBus(postgres_connector(db)) if self.postgres else InProcessBus(db.database)
        self.bus = bus
        self._write_lock = threading.RLock()
        self._local = threading.local()
        # The services, one per concern (they call each other through this core).
        self.reads = Reads(self)
        self.triage = Triage(self)
        self.ingesting = Ingest(self)
        self.replies = Replies(self)
        self.outbox = OutboxQueue(self)
        self.merging = Merging(self)
        self.tasks = Tasks(self)
        self.scheduling = Scheduling(self)
        self.quick_replies = QuickReplies(self)
        self.drafts = Drafts(self)  # operators' unsent text per task
        self.state = DurableState(self)  # small values by key (offsets, secrets)

    def _ensure_side_tables(self) -> None:
        """The team and automation tables, created now, before any worker thread runs:
        creating them lazily from a worker raced a writer holding the database lock
        while waiting for the creation lock (a lock-order deadlock)."""
        from storage.rule_tables import rule_models
        from storage.team_tables import team_models

        team_models(self)
        rule_models(self)

    def policy(self, kind: str) -> ChannelPolicy:
        """The rules of channels of ``kind`` (write first, window, text limit...)."""
        return self.policies(kind)

    @property
    def url_is_postgres(self) -> bool:
        return self.postgres

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction. Nested calls join the outer one; events publish once, on commit."""
        outer: Tx | None = getattr(self._local, "tx", None)
        if outer is not None:
            with self.db.atomic():
                yield outer
            return
        tx = Tx()
        with self._write_lock:
            self._local.tx = tx
            try:
                # SQLite: take the write lock at BEGIN. A deferred transaction that reads
                # first and writes later cannot wait for another process's writer (its
                # snapshot is stale) and fails at once with "database is locked";
                # IMMEDIATE waits for the lock under busy_timeout instead.
                with self.db.atomic() if self.postgres else self.db.atomic("IMMEDIATE"):
                    yield tx
                    if tx.events:
                        self.bus.in_transaction(self.db, tx.events)
            finally:
                self._local.tx = None
        self.bus.after_commit(tx.events)

    def close(self) -> None:
        self.bus.close()
        if not self.db.is_closed():
            self.db.close()

    # ---- helpers the services share (inside a transaction) --------------------------
    def _task(self, task_id: int) -> Any:
        """The task's model object, locked for update on PostgreSQL; NotFound if absent."""
        T = self.m.Task
        query = T.select().where(T.id == task_id)
        if self.postgres:
            query = query.for_update()
        t = query.first()
        if t is None:
            raise NotFound(_("Task {id} does not exist.").format(id=task_id))
        return t

    def _contact(self, contact_id: int) -> Any:
        c = self.m.Contact.get_or_none(self.m.Contact.id == contact_id)
        if c is None:
            raise NotFound(_("Contact {id} does not exist.").format(id=contact_id))
        return c

    def _channel(self, channel_id: int) -> Any:
        c = self.m.Channel.get_or_none(self.m.Channel.id == channel_id)
        if c is None:
            raise NotFound(_("Channel {id} does not exist.").format(id=channel_id))
        return c

    def _operator(self, operator_id: int | None) -> Any:
        if operator_id is None:
            return None
        o = self.m.Operator.get_or_none(self.m.Operator.id == operator_id)
        if o is None:
            raise NotFound(_("Operator {id} does not exist.").format(id=operator_id))
        return o

    def _system_event(self, tx: Tx, task: Any, code: str, text: str,
                      at: datetime | None = None, **meta: Any) -> Any:
        """Record an inline system event in the task's thread (never sent to the client).

        ``text`` is the English source already translated for storage; ``code`` lets the
        console re-translate or style it.
        """
        msg = self.m.Message.create(task=task.id, kind=EVENT, text=text,
                                    created_at=at or utcnow(), meta={"event": code, **meta})
        tx.emit(ev.MESSAGE_STORED, task_id=task.id, message_id=msg.id, message_kind=EVENT)
        return msg

    def _create_task(self, tx: Tx, *, contact: Any, channel: Any, chat_id: str, key: str,
                     assignee: int | None, data: dict[str, Any], event_text: str,
                     audit_action: str, by: int | None = None, description: str = "",
                     previous: Any = None, at: datetime | None = None) -> Any:
        """A new conversation task bound to ``key``, numbered, with its "created" event and
        audit entry: the one place both a client's first message and "Write" make tasks."""
        now = utcnow()
        task = self.m.Task.create(
            title=_("{name} in {channel}").format(name=contact.name, channel=channel.name),
            status=NEW, assignee=assignee, contact=contact.id, channel=channel.id,
            chat_id=chat_id, bound_key=key, description=description, additional_data=data,
            previous_task=previous.id if previous is not None else None,
            created_at=now, last_activity_at=at or now)
        task.number = task.id
        task.save()
        self._system_event(tx, task, "created", event_text, at=at or now)
        self._audit(task.id, by, audit_action, channel=channel.name)
        return task

    def _audit(self, task_id: int | None, operator_id: int | None, action: str,
               **detail: Any) -> None:
        self.m.Audit.create(task=task_id, operator=operator_id, action=action, detail=detail)

    def _touch(self, task: Any, at: datetime, preview: str, kind: str) -> None:
        """Move the task's last activity forward (never backward) with a new preview."""
        if task.last_activity_at is None or at >= task.last_activity_at:
            task.last_activity_at = at
            task.last_preview = preview_of(preview)
            task.last_kind = kind


__all__ = ["StoreCore", "Tx"]
