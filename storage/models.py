"""peewee models, built per database so two stores can live in one process.

``build_models(db)`` returns a :class:`Models` namespace whose classes are bound to
``db``. Nothing here is module-level state: a test may open a SQLite store and a
PostgreSQL store side by side.

Times are stored as integer microseconds since the Unix epoch (UTC): they compare
the same way on every backend and make keyset paging exact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee as pw

# The plain constants live in storage.constants (no ORM); re-exported here.
from storage.constants import (  # noqa: F401
    CANCELLED,
    COMPLETED,
    DELIVERED,
    DELIVERY_STATES,
    DONE,
    EVENT,
    FAILED,
    IN_PROGRESS,
    INACTIVE_STATUSES,
    INBOUND,
    MESSAGE_KINDS,
    NEW,
    NOTE,
    OPERATOR,
    OUTBOUND,
    QUEUED,
    READ,
    ROLES,
    SENDING,
    SENT,
    STATUSES,
    SUPERVISOR,
    WAITING,
)
from storage.timestamps import from_micros, to_micros, utcnow  # noqa: F401


class TimeField(pw.BigIntegerField):
    """A UTC datetime stored as integer microseconds."""

    def db_value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return to_micros(value)
        return value

    def python_value(self, value: Any) -> Any:
        return from_micros(value) if value is not None else None


class JSONField(pw.TextField):
    """JSON text; the same on SQLite and PostgreSQL, Cyrillic kept readable."""

    def db_value(self, value: Any) -> Any:
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value: Any) -> Any:
        return None if value is None else json.loads(value)


@dataclass(frozen=True)
class Models:
    KeyValue: type[pw.Model]
    Operator: type[pw.Model]
    Channel: type[pw.Model]
    Contact: type[pw.Model]
    Identity: type[pw.Model]
    Task: type[pw.Model]
    Message: type[pw.Model]
    Attachment: type[pw.Model]
    QuickReply: type[pw.Model]
    Audit: type[pw.Model]
    Draft: type[pw.Model]

    def all(self) -> list[type[pw.Model]]:
        return [
            self.KeyValue, self.Operator, self.Channel, self.Contact, self.Identity,
            self.Task, self.Message, self.Attachment, self.QuickReply, self.Audit, self.Draft,
        ]


def build_models(db: pw.Database) -> Models:
    # A foreign key whose column leads one of its table's composite indexes is declared
    # ``index=False``: the composite serves the key's lookups, joins and constraint
    # checks, and each extra index is one more B-tree every insert writes (schema 6,
    # ``storage.database``; bench/PROFILE.md §14).
    class Base(pw.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class KeyValue(Base):
        """Small durable state: schema version, polling offsets, preferences."""

        key = pw.CharField(primary_key=True, max_length=200)
        value = pw.TextField()

    class Operator(Base):
        name = pw.CharField(unique=True, max_length=200)
        role = pw.CharField(max_length=20, default=OPERATOR)
        created_at = TimeField(default=utcnow)

    class Channel(Base):
        """A configured integration: its kind (telegram, webchat, ...), name and settings."""

        kind = pw.CharField(max_length=40)
        name = pw.CharField(unique=True, max_length=200)
        settings = JSONField(default=dict)
        enabled = pw.BooleanField(default=True)

    class Contact(Base):
        name = pw.CharField(max_length=500)
        phones = JSONField(default=list)
        emails = JSONField(default=list)
        merged_into = pw.ForeignKeyField("self", null=True, backref="absorbed")
        created_at = TimeField(default=utcnow)

    class Identity(Base):
        """The contact's identifier in one channel."""

        channel = pw.ForeignKeyField(Channel, backref="identities", index=False)
        external_id = pw.CharField(max_length=200)
        contact = pw.ForeignKeyField(Contact, backref="identities", index=True)
        display_name = pw.CharField(max_length=500, default="")
        username = pw.CharField(max_length=200, default="")
        phone = pw.CharField(max_length=64, default="")

        class Meta:
            indexes = ((("channel", "external_id"), True),)

    class Task(Base):
        number = pw.IntegerField(unique=True, null=True)
        title = pw.CharField(max_length=500)
        status = pw.CharField(max_length=20, default=NEW)
        assignee = pw.ForeignKeyField(Operator, null=True, backref="tasks", index=False)
        contact = pw.ForeignKeyField(Contact, null=True, backref="tasks", index=True)
        channel = pw.ForeignKeyField(Channel, null=True, backref="tasks", index=False)
        chat_id = pw.CharField(max_length=200, null=True)
        # "<channel id>:<chat id>" while this task is the one receiving that chat's
        # messages, NULL otherwise. Unique: one active task per contact per channel.
        bound_key = pw.CharField(max_length=250, null=True, unique=True)
        description = pw.TextField(default="")
        additional_data = JSONField(default=dict)
        previous_task = pw.ForeignKeyField("self", null=True, backref="next_tasks")
        merged_into = pw.ForeignKeyField("self", null=True, backref="merged_from")
        created_at = TimeField(default=utcnow)
        last_activity_at = TimeField(default=utcnow)
        last_client_message_at = TimeField(null=True)
        first_reply_at = TimeField(null=True)
        unread_count = pw.IntegerField(default=0)
        last_preview = pw.CharField(max_length=300, default="")
        last_kind = pw.CharField(max_length=20, default="")
        # Snooze (schema 4): hidden from the lists while ``snoozed_until`` is ahead, or,
        # with no time, until the client writes (``snooze_until_client``). A client's
        # message clears both; so does the snooze's end (``Store.end_snoozes``).
        snoozed_until = TimeField(null=True)
        # A database default too: rows inserted by raw SQL (bench, fast paths) need none.
        snooze_until_client = pw.BooleanField(default=False,
                                              constraints=[pw.SQL("DEFAULT FALSE")])

        class Meta:
            indexes = (
                (("last_activity_at", "id"), False),
                (("assignee", "last_activity_at", "id"), False),
                (("channel", "chat_id"), False),
                (("status", "last_activity_at", "id"), False),
            )

    class Message(Base):
        task = pw.ForeignKeyField(Task, backref="messages", index=False)
        kind = pw.CharField(max_length=20)
        author_operator = pw.ForeignKeyField(Operator, null=True)
        author_contact = pw.ForeignKeyField(Contact, null=True)
        text = pw.TextField(default="")
        created_at = TimeField(default=utcnow)
        # The address: the channel and chat an inbound message came from, or an outbound
        # one goes to, recorded when it is written. A merge moves the message to another
        # task; its address stays. NULL for notes and events.
        channel = pw.ForeignKeyField(Channel, null=True, index=False)
        chat_id = pw.CharField(max_length=200, null=True)
        external_id = pw.CharField(max_length=200, null=True)
        delivery_state = pw.CharField(max_length=20, null=True)
        failure_reason = pw.TextField(default="")
        attempts = pw.IntegerField(default=0)
        next_attempt_at = TimeField(null=True)
        edited = pw.BooleanField(default=False)
        moved_from = pw.ForeignKeyField(Task, null=True, backref="moved_out")
        meta = JSONField(default=dict)

        class Meta:
            indexes = (
                (("channel", "external_id"), True),
                (("task", "created_at", "id"), False),
                (("delivery_state", "next_attempt_at"), False),
                (("channel", "chat_id", "created_at", "id"), False),  # one client's conversation
            )

    class Attachment(Base):
        message = pw.ForeignKeyField(Message, backref="attachments", index=True)
        name = pw.CharField(max_length=500)
        mime = pw.CharField(max_length=200, default="application/octet-stream")
        size = pw.BigIntegerField(default=0)
        location = pw.TextField(default="")

    class QuickReply(Base):
        title = pw.CharField(max_length=300)
        text = pw.TextField()
        language = pw.CharField(max_length=16, default="en")
        tags = pw.CharField(max_length=500, default="")

    class Audit(Base):
        task = pw.ForeignKeyField(Task, null=True, backref="audit")
        operator = pw.ForeignKeyField(Operator, null=True)
        action = pw.CharField(max_length=60)
        detail = JSONField(default=dict)
        at = TimeField(default=utcnow)

    class Draft(Base):
        """An operator's unsent text in one task (one per task and operator)."""

        task = pw.ForeignKeyField(Task, backref="drafts", on_delete="CASCADE", index=False)
        operator = pw.ForeignKeyField(Operator, backref="drafts", on_delete="CASCADE",
                                      index=False)
        text = pw.TextField(default="")
        private = pw.BooleanField(default=False)
        updated_at = TimeField(default=utcnow)

        class Meta:
            indexes = ((("task", "operator"), True), (("operator", "task"), False))

    return Models(
        KeyValue=KeyValue, Operator=Operator, Channel=Channel, Contact=Contact,
        Identity=Identity, Task=Task, Message=Message, Attachment=Attachment,
        QuickReply=QuickReply, Audit=Audit, Draft=Draft,
    )
