"""The hot path of ingest in prepared SQL.

peewee spends ~1 ms building the SQL of each statement (``bench/README.md``), which made
ingest 10× slower than the database. The common case — a known client writing into
their active task, no attachment, not a reply to a message, nothing on the identity to
update — is done here with
prepared statements. Anything else (a first message, a completed task, a new phone
or name, attachments) returns None; a new client's first message in a new chat goes to
``storage.ingest_new``, the rest to the general path in ``storage.ingesting``.
How the task changes is one rule for both paths
(:func:`storage.task_update.after_client_message`); this path's UPDATE is written from
the Task model's columns for the columns that rule sets (tests/storage check both paths
store the same rows). Every statement here is written once from the models' table and
column names (:mod:`storage.prepared`, issue 15), not by hand.

Statements per message (issue 20): :meth:`FastIngest.lookup` asks in ONE SELECT
whether the delivery is already stored, who the sender is and which task the chat is
bound to (three unique-index look-ups, left-joined to one row); the common case then
costs one INSERT and one UPDATE — three statements, where it took five.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import peewee as pw

from storage.inputs import Inbound
from storage.models import INBOUND, Models, to_micros, utcnow
from storage.prepared import Prepared, column, columns, table
from storage.task_update import after_client_message


@dataclass(frozen=True)
class FastResult:
    message_id: int
    task_id: int
    contact_id: int


@dataclass(frozen=True)
class Looked:
    """What :meth:`FastIngest.lookup` found for one message, in one statement."""

    seen: FastResult | None  # the same delivery, already stored
    identity: tuple[Any, ...] | None  # contact_id, display_name, username, phone
    task: tuple[Any, ...] | None  # id, status, last_activity_at, last_client_message_at, data


class FastIngest:
    """Prepared SQL for one database, written once from the models (:mod:`storage.prepared`)."""

    def __init__(self, db: pw.Database, models: Models) -> None:
        self.db = db
        self.task_model = T = models.Task
        self.message_model = M = models.Message
        I = models.Identity  # noqa: E741 - the model's initial, as elsewhere
        self.sql = Prepared(db)
        p = self.sql.p
        ident = ("contact", "display_name", "username", "phone")
        task = ("id", "status", "last_activity_at", "last_client_message_at", "additional_data")
        self.lookup_sql = (
            f"SELECT s.{column(M, 'id')}, s.{column(M, 'task')}, st.{column(T, 'contact')}, "
            f"{columns(I, ident, 'i')}, {columns(T, task, 't')} FROM (SELECT 1) one "
            f"LEFT JOIN {table(M)} s ON s.{column(M, 'channel')} = {p} "
            f"AND s.{column(M, 'external_id')} = {p} "
            f"LEFT JOIN {table(T)} st ON st.{column(T, 'id')} = s.{column(M, 'task')} "
            f"LEFT JOIN {table(I)} i ON i.{column(I, 'channel')} = {p} "
            f"AND i.{column(I, 'external_id')} = {p} "
            f"LEFT JOIN {table(T)} t ON t.{column(T, 'bound_key')} = {p}")

    def lookup(self, inbound: Inbound, bound_key: str) -> Looked:
        """The stored duplicate of ``inbound`` (by the channel's message id), its sender's
        identity and its chat's bound task, in one statement; :meth:`try_ingest` of the
        same message takes what was found here instead of asking again."""
        row = self.sql.one(self.lookup_sql, (inbound.channel_id, inbound.external_id or None,
                                             inbound.channel_id, inbound.sender_id, bound_key))
        assert row is not None  # (SELECT 1) LEFT JOIN ...: always one row
        return Looked(seen=FastResult(row[0], row[1], row[2]) if row[0] is not None else None,
                      identity=row[3:7] if row[3] is not None else None,
                      task=row[7:12] if row[7] is not None else None)

    def try_ingest(self, inbound: Inbound, looked: Looked) -> FastResult | None:
        """Store ``inbound`` if it is the common case, given what :meth:`lookup` found for
        it; None means "take the general path"."""
        if inbound.attachments or inbound.email or inbound.reply_to_external_id:
            return None
        ident, task = looked.identity, looked.task
        if ident is None:
            return None
        contact_id, display_name, username, phone = ident
        for given, stored in ((inbound.display_name, display_name),
                              (inbound.username, username), (inbound.phone, phone)):
            if given and given != stored:
                return None
        if task is None:
            return None
        task_id, status, last_activity, last_client, data_text = task
        at = to_micros(inbound.sent_at or utcnow())
        message_id = self.sql.insert(self.message_model, {
            "task": task_id, "kind": INBOUND, "author_contact": contact_id,
            "text": inbound.text, "created_at": at, "channel": inbound.channel_id,
            "chat_id": inbound.chat_id, "external_id": inbound.external_id or None})
        changes = after_client_message(
            status=status, last_activity_at=last_activity, last_client_message_at=last_client,
            additional_data=json.loads(data_text) if data_text else {}, at=at,
            preview=inbound.text, system_data=inbound.system_data,
            client_data=inbound.client_data)
        self.sql.update(self.task_model, task_id, changes, increment=("unread_count",))
        return FastResult(message_id, task_id, contact_id)
