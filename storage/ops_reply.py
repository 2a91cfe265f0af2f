"""Replies, private notes and writing first.

An operator's reply is stored as an outbound message in state ``queued`` in the same
transaction that records it: the messages table *is* the transactional outbox, and
the outbox worker (``connectors/``) delivers it. A private note is stored and never
queued: it cannot reach the client by construction.
"""

from __future__ import annotations

from typing import Any

from storage import events as ev
from storage.automation import status_after_operator_reply
from storage.channel_policy import policy, write_first_refusal
from storage.errors import CannotWriteFirst, NoChannel, NotFound, RuleViolation
from storage.i18n import _
from storage.inputs import AttachmentIn
from storage.models import (
    FAILED,
    INBOUND,
    NOTE,
    OUTBOUND,
    QUEUED,
    utcnow,
)
from storage.ops_common import OpsBase
from storage.ops_ingest import bound_key
from storage.rows import MessageRow
from storage.text import storable


class ReplyOps(OpsBase):
    def reply(self, task_id: int, operator_id: int | None, text: str, *, private: bool = False,
              attachments: tuple[AttachmentIn, ...] = (), meta: dict[str, Any] | None = None
              ) -> MessageRow:
        """An operator's comment: queued for the client, or a private note when ``private``."""
        if not text.strip() and not attachments:
            raise RuleViolation(_("The message is empty."))
        text = storable(text)
        with self.transaction() as tx:
            task = self._task(task_id)
            self._operator(operator_id)
            if task.merged_into_id is not None:
                raise RuleViolation(_("Task #{number} was merged into #{target}; write there.").format(
                    number=task.number or task.id, target=task.merged_into_id))
            if not private and task.channel_id is None:
                raise NoChannel(_("Task #{number} is not bound to any channel, so a reply cannot "
                                  "reach a client. Write a private note instead.").format(
                                      number=task.number or task.id))
            msg_id = self._store_comment(tx, task, operator_id, text, private, attachments, meta)
        return self.get_message(msg_id)

    def _store_comment(self, tx: Any, task: Any, operator_id: int | None, text: str,
                       private: bool, attachments: tuple[AttachmentIn, ...],
                       meta: dict[str, Any] | None) -> int:
        m = self.m
        now = utcnow()
        if not private:
            limit = policy(self._channel(task.channel_id).kind).text_limit
            meta = {**(meta or {}), **({"text_limit": limit} if limit else {})}
        msg = m.Message.create(
            task=task.id, kind=NOTE if private else OUTBOUND, author_operator=operator_id,
            text=text, created_at=now, channel=None if private else task.channel_id,
            delivery_state=None if private else QUEUED, next_attempt_at=None if private else now,
            meta=meta or {},
        )
        for a in attachments:
            m.Attachment.create(message=msg.id, name=a.name, mime=a.mime, size=a.size,
                                location=a.location)
        self._touch(task, now, text or ", ".join(a.name for a in attachments),
                    NOTE if private else OUTBOUND)
        if not private:
            task.status = status_after_operator_reply(task.status)
            if task.first_reply_at is None:
                task.first_reply_at = now
            task.unread_count = 0
        task.save()
        self._audit(task.id, operator_id, "note" if private else "reply", message_id=msg.id)
        tx.emit(ev.MESSAGE_STORED, task_id=task.id, message_id=msg.id,
                message_kind=NOTE if private else OUTBOUND)
        tx.emit(ev.TASK_UPDATED, task_id=task.id)
        if not private:
            tx.emit(ev.OUTBOX_QUEUED, task_id=task.id, message_id=msg.id)
        return msg.id

    def note(self, task_id: int, operator_id: int | None, text: str) -> MessageRow:
        """A private note: stored in the thread, never queued, never sent."""
        return self.reply(task_id, operator_id, text, private=True)

    def retry(self, message_id: int, operator_id: int | None = None) -> MessageRow:
        """Queue a failed outbound message again (by hand)."""
        m = self.m
        with self.transaction() as tx:
            msg = m.Message.get_or_none(m.Message.id == message_id)
            if msg is None:
                raise NotFound(_("Message {id} does not exist.").format(id=message_id))
            if msg.kind != OUTBOUND or msg.delivery_state != FAILED:
                raise RuleViolation(_("Only a failed outgoing message can be retried."))
            msg.delivery_state, msg.next_attempt_at, msg.failure_reason = QUEUED, utcnow(), ""
            msg.save()
            self._audit(msg.task_id, operator_id, "retry", message_id=msg.id)
            tx.emit(ev.MESSAGE_UPDATED, task_id=msg.task_id, message_id=msg.id, state=QUEUED)
            tx.emit(ev.OUTBOX_QUEUED, task_id=msg.task_id, message_id=msg.id)
        return self.get_message(message_id)

    def write_first_refusal(self, contact_id: int, channel_id: int,
                            template: str | None = None) -> str | None:
        """Why "Write" in this channel is not possible for this contact (None: it is)."""
        m = self.m
        channel = self._channel(channel_id)
        identity = m.Identity.get_or_none((m.Identity.contact == contact_id)
                                          & (m.Identity.channel == channel_id))
        if identity is None:
            return _("The contact has no identity in {channel}.").format(channel=channel.name)
        last = (m.Message.select(m.Message.created_at)
                .join(m.Task, on=(m.Message.task == m.Task.id))
                .where((m.Task.channel == channel_id) & (m.Task.chat_id == identity.external_id)
                       & (m.Message.kind == INBOUND))
                .order_by(m.Message.created_at.desc()).first())
        allowed = (channel.settings or {}).get("write_first_allowed", {})
        identity_allows = bool(allowed.get(identity.external_id, True)) if isinstance(
            allowed, dict) else True
        return write_first_refusal(channel.kind, template=template,
                                   last_client_message_at=last.created_at if last else None,
                                   now=utcnow(), identity_allows=identity_allows)

    def write_first(self, contact_id: int, channel_id: int, operator_id: int | None, text: str,
                    template: str | None = None) -> MessageRow:
        """"Write" on a contact card: reuse or open the contact's task in the channel, queue text."""
        refusal = self.write_first_refusal(contact_id, channel_id, template)
        if refusal:
            raise CannotWriteFirst(refusal)
        if not text.strip():
            raise RuleViolation(_("The message is empty."))
        m = self.m
        with self.transaction() as tx:
            contact = self._contact(contact_id)
            channel = self._channel(channel_id)
            identity = m.Identity.get((m.Identity.contact == contact_id)
                                      & (m.Identity.channel == channel_id))
            key = bound_key(channel_id, identity.external_id)
            task = m.Task.get_or_none(m.Task.bound_key == key)
            if task is None:
                task = self._create_task(
                    tx, contact=contact, channel=channel, chat_id=identity.external_id, key=key,
                    assignee=operator_id, by=operator_id, audit_action="write_first",
                    data={"channel": channel.name, "channel_kind": channel.kind,
                          "started_by": "operator"},
                    event_text=_("Conversation started by the company."))
                tx.emit(ev.TASK_CREATED, task_id=task.id)
            msg_id = self._store_comment(tx, task, operator_id, text, False, (),
                                         {"template": template} if template else None)
        return self.get_message(msg_id)



