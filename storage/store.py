"""The store: one object that owns the database, its models and the event bus.

Every write runs in :meth:`Store.transaction`, which serializes writers in this
process, commits, and only then publishes the events the operation recorded (the
PostgreSQL bus sends them inside the transaction with ``pg_notify``, which delivers
on commit). Reads return frozen rows from :mod:`storage.rows`.

The operations are grouped by concern in the ``ops_*`` modules and mixed in here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import peewee as pw

from storage.channel_policy import ChannelPolicy, Policies
from storage.database import Progress, ensure_schema, is_postgres, open_database, postgres_connector
from storage.drafts import Drafts
from storage.events import Event, EventBus, InProcessBus, PostgresBus
from storage.ingest_fast import FastIngest
from storage.models import Models, build_models
from storage.ops_ingest import IngestOps
from storage.ops_merge import MergeOps
from storage.ops_outbox import OutboxOps
from storage.ops_quick_replies import QuickReplyOps
from storage.ops_reply import ReplyOps
from storage.ops_schedule import ScheduleOps
from storage.ops_tasks import TaskOps
from storage.queries import Queries
from storage.triage import TriageQueries


@dataclass
class Tx:
    """A running write transaction: collects the events to publish on commit."""

    events: list[Event] = field(default_factory=list)

    def emit(self, kind: str, *, task_id: int | None = None, message_id: int | None = None,
             contact_id: int | None = None, **data: object) -> None:
        self.events.append(Event(kind, task_id, message_id, contact_id, dict(data)))


class Store(IngestOps, ReplyOps, OutboxOps, MergeOps, TaskOps, QuickReplyOps, ScheduleOps,
            TriageQueries, Queries):
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
        if bus is None:
            bus = PostgresBus(postgres_connector(db)) if self.postgres else InProcessBus(db.database)
        self.bus = bus
        self._fast_ingest = FastIngest(db)
        self._sql_by_ids: dict[tuple[str, int], str] = {}
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self.drafts = Drafts(self)  # operators' unsent text per task

    @classmethod
    def open(cls, url: str | None = None, bus: EventBus | None = None,
             progress: Progress | None = None,
             policies: Mapping[str, ChannelPolicy] | None = None) -> Store:
        """Open (and create or migrate) the database at ``url``; None: the default SQLite file.

        ``policies`` are the channel rules by kind (``connectors.registry.policies()``)."""
        return cls(open_database(url), bus, progress, policies)

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


__all__ = ["Store", "Tx", "is_postgres"]
