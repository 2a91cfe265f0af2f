"""Helpers every operation shares: loading rows for update, system events, audit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import peewee as pw

from storage import events as ev
from storage.channel_policy import ChannelPolicy
from storage.errors import NotFound
from storage.i18n import _
from storage.models import EVENT, NEW, Models, utcnow

if TYPE_CHECKING:
    from storage.store import Tx

PREVIEW_LENGTH = 120


def preview_of(text: str) -> str:
    """A one-line preview: whitespace folded, cut to PREVIEW_LENGTH characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_LENGTH else flat[: PREVIEW_LENGTH - 1] + "…"


QUOTE_LENGTH = 100


def quote_excerpt(text: str) -> str:
    """The short excerpt of a quoted message shown above a reply (one line)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_LENGTH else flat[: QUOTE_LENGTH - 1] + "…"


class OpsBase:
    m: Models
    db: pw.Database
    postgres: bool

    def transaction(self) -> AbstractContextManager[Tx]:  # provided by Store
        raise NotImplementedError

    def policy(self, kind: str) -> ChannelPolicy:  # provided by Store (injected rules)
        raise NotImplementedError

    def _task(self, task_id: int) -> Any:
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

    def _batched(self, ids: list[int], size: int = 500) -> Iterator[list[int]]:
        for i in range(0, len(ids), size):
            yield ids[i : i + size]
