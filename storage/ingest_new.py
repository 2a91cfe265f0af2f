"""A new client's first message, opening a new conversation, in prepared SQL.

The general path (:mod:`storage.ingesting`) spends most of a new conversation's time
building peewee statements (~18× a message into an open conversation, bench/PROFILE.md).
The common case — a client we have never seen, in a chat with no task yet (neither
active nor completed), on a channel without a default assignee, no attachment, no email,
not a reply — is stored here with SQL written once per table from the models by
:mod:`storage.prepared` (the columns given plus the model's defaults, as
``Model.create`` inserts them; the fast path of :mod:`storage.ingest_fast` uses the
same helper). Anything else
returns None and takes the general path. The task's final values come from the one rule
both paths apply (:func:`storage.task_update.after_client_message`); tests/storage check
both paths store the same rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import peewee as pw

from storage import events as ev
from storage.i18n import _
from storage.inputs import Inbound
from storage.models import EVENT, INBOUND, NEW, Models, utcnow
from storage.prepared import Prepared, column, columns, table
from storage.task_update import after_client_message


class NewConversation:
    """Prepared SQL for one database (placeholders differ between SQLite and PostgreSQL)."""

    def __init__(self, db: pw.Database, models: Models) -> None:
        self.db = db
        self.m = models
        self.sql = Prepared(db)
        p = self.sql.p
        I, Ch, T = models.Identity, models.Channel, models.Task  # noqa: E741
        self.known_sql = (f"SELECT 1 FROM {table(I)} WHERE {column(I, 'channel')} = {p} "
                          f"AND {column(I, 'external_id')} = {p}")
        self.channel_sql = (f"SELECT {columns(Ch, ('name', 'kind', 'settings'))} "
                            f"FROM {table(Ch)} WHERE {column(Ch, 'id')} = {p}")
        # Any task of this chat (bound, completed or merged): the general path decides.
        self.chat_sql = (f"SELECT 1 FROM {table(T)} WHERE {column(T, 'channel')} = {p} "
                         f"AND {column(T, 'chat_id')} = {p} LIMIT 1")

    def try_open(self, tx: Any, inbound: Inbound, key: str,
                 known: bool | None = None) -> tuple[int, int, int, bool, bool, bool] | None:
        """Store ``inbound`` if it is the common new-conversation case (the result tuple of
        ``Ingest._ingest_one``); None means "take the general path". ``known``: whether
        the sender's identity exists, when the caller already looked (None: look now)."""
        if inbound.attachments or inbound.email or inbound.reply_to_external_id:
            return None
        if known is None:
            known = self.sql.one(self.known_sql, (inbound.channel_id, inbound.sender_id)) is not None
        if known:
            return None
        channel = self.sql.one(self.channel_sql, (inbound.channel_id,))
        if channel is None:
            return None
        channel_name, channel_kind, settings_text = channel
        settings = self.m.Channel._meta.fields["settings"].python_value(settings_text) or {}
        if settings.get("default_assignee"):
            return None
        if self.sql.one(self.chat_sql, (inbound.channel_id, inbound.chat_id)) is not None:
            return None
        return self._store(tx, inbound, key, channel_name, channel_kind)

    def _store(self, tx: Any, inbound: Inbound, key: str, channel_name: str,
               channel_kind: str) -> tuple[int, int, int, bool, bool, bool]:
        m = self.m
        name = inbound.display_name or inbound.username or inbound.phone or inbound.sender_id
        contact_id = self.sql.insert(m.Contact, {
            "name": name, "phones": [inbound.phone] if inbound.phone else [], "emails": []})
        self.sql.insert(m.Identity, {
            "channel": inbound.channel_id, "external_id": inbound.sender_id,
            "contact": contact_id, "display_name": inbound.display_name,
            "username": inbound.username, "phone": inbound.phone})
        tx.emit(ev.CONTACT_UPDATED, contact_id=contact_id, created=True)
        data: dict[str, Any] = {"channel": channel_name, "channel_kind": channel_kind}
        if inbound.username:
            data["username"] = inbound.username
        if inbound.phone:
            data["phone"] = inbound.phone
        now = utcnow()
        created: datetime = inbound.sent_at or now
        task_id = self.sql.insert(m.Task, {
            "title": _("{name} in {channel}").format(name=name, channel=channel_name),
            "status": NEW, "assignee": None, "contact": contact_id,
            "channel": inbound.channel_id, "chat_id": inbound.chat_id, "bound_key": key,
            "description": "", "additional_data": data, "previous_task": None,
            "created_at": now, "last_activity_at": created})
        text = _("Task created from a message in {channel}.").format(channel=channel_name)
        event_id = self.sql.insert(m.Message, {"task": task_id, "kind": EVENT, "text": text,
                                            "created_at": created, "meta": {"event": "created"}})
        tx.emit(ev.MESSAGE_STORED, task_id=task_id, message_id=event_id, message_kind=EVENT)
        self.sql.insert(m.Audit, {"task": task_id, "operator": None, "action": "created",
                               "detail": {"channel": channel_name}})
        at = inbound.sent_at or utcnow()
        message_id = self.sql.insert(m.Message, {
            "task": task_id, "kind": INBOUND, "author_contact": contact_id,
            "text": inbound.text, "created_at": at, "channel": inbound.channel_id,
            "chat_id": inbound.chat_id, "external_id": inbound.external_id or None,
            "meta": {}})
        changes = after_client_message(
            status=NEW, last_activity_at=created, last_client_message_at=None,
            additional_data=data, at=at, preview=inbound.text,
            system_data=inbound.system_data, client_data=inbound.client_data)
        changes["number"] = task_id
        self.sql.update(m.Task, task_id, changes, increment=("unread_count",))
        tx.emit(ev.MESSAGE_STORED, task_id=task_id, message_id=message_id,
                contact_id=contact_id, message_kind=INBOUND)
        tx.emit(ev.TASK_CREATED, task_id=task_id)
        return message_id, task_id, contact_id, True, True, False
