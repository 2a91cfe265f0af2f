"""Ingest: an inbound client message finds (or makes) its contact and its one task.

Rules implemented here:

* one active task per contact per channel: the task is found by the conversation's
  binding ``(channel, chat id)``, enforced by the unique ``Task.bound_key``;
* a first message creates the contact (name + identity in the channel); the channel
  binding lives on the task;
* idempotent on the channel's own message id (``Message(channel, external_id)`` is
  unique): the same delivery twice stores one message;
* after completion the next message creates a new task that links the previous one
  and carries its last N messages in the description (``history_messages`` channel
  setting, default 10) — or, with the ``reopen_completed`` setting, reopens it;
* system data goes to the task's additional description data, never to the thread;
  what the client supplied goes under its own key there and can overwrite no system
  key (:mod:`storage.additional_data`, the rule both ingest paths call).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import peewee as pw

from storage import events as ev
from storage.constants import DEFAULT_HISTORY
from storage.errors import RuleViolation
from storage.i18n import _
from storage.ingest_fast import FastIngest
from storage.ingest_new import NewConversation
from storage.inputs import Inbound
from storage.models import IN_PROGRESS, INBOUND, OUTBOUND, Models, utcnow
from storage.result_rows import ResultRows
from storage.rows import IngestResult
from storage.task_update import after_client_message, bound_key, preview_of
from storage.text import storable, storable_inbound

if TYPE_CHECKING:
    from storage.core import StoreCore


class Ingest:
    def __init__(self, core: StoreCore) -> None:
        self.core = core
        self.m: Models = core.m
        self.fast = FastIngest(core.db, core.m)
        self.fresh = NewConversation(core.db, core.m)
        self.rows = ResultRows(core)

    def ingest(self, inbound: Inbound) -> IngestResult:
        """Store one inbound message; see the module docstring for the rules."""
        return self.ingest_many([inbound])[0]

    def ingest_many(self, batch: list[Inbound]) -> list[IngestResult]:
        """Store a batch in ONE transaction (group commit); results in the batch's order."""
        batch = [storable_inbound(inbound) for inbound in batch]
        results: list[tuple[int, int, int, bool, bool, bool]] = []
        for attempt in range(3):
            results = []
            try:
                with self.core.transaction() as tx:
                    channels: dict[int, Any] = {}
                    for inbound in batch:
                        results.append(self._ingest_one(tx, inbound, channels))
                break
            except pw.IntegrityError:
                # Another process stored the same delivery (or bound the same chat) between
                # our look-up and insert: the transaction rolled back; the retry sees it.
                if attempt == 2:
                    raise
        # A stored duplicate or a message with attachments may have attachments to show.
        maybe_files = {r[0] for r, inbound in zip(results, batch, strict=True)
                       if r[5] or inbound.attachments}
        messages, tasks = self.rows.read([r[0] for r in results], [r[1] for r in results],
                                         maybe_files)
        return [
            IngestResult(message=messages[mid], task=tasks[tid], contact_id=cid,
                         created_contact=cc, created_task=ct, duplicate=dup)
            for mid, tid, cid, cc, ct, dup in results
        ]

    def _ingest_one(self, tx: Any, inbound: Inbound,
                    channels: dict[int, Any]) -> tuple[int, int, int, bool, bool, bool]:
        m = self.m
        if not inbound.chat_id or not inbound.sender_id:
            raise RuleViolation(_("An inbound message needs a chat id and a sender id."))
        fast = self.fast
        key = bound_key(inbound.channel_id, inbound.chat_id)
        # One statement: the same delivery stored already? the sender? the chat's task?
        looked = fast.lookup(inbound, key)
        if looked.seen is not None:
            seen = looked.seen
            return seen.message_id, seen.task_id, seen.contact_id, False, False, True
        # A known identity's message into its active task: the fast path (which finds
        # nothing for a channel that does not exist, so _channel below reports that).
        done = fast.try_ingest(inbound, looked)
        if done is not None:
            tx.emit(ev.MESSAGE_STORED, task_id=done.task_id, message_id=done.message_id,
                    contact_id=done.contact_id, message_kind=INBOUND)
            tx.emit(ev.TASK_UPDATED, task_id=done.task_id)
            return done.message_id, done.task_id, done.contact_id, False, False, False
        # A new client opening a new conversation: prepared SQL too (storage.ingest_new).
        opened = self.fresh.try_open(tx, inbound, key, known=looked.identity is not None)
        if opened is not None:
            return opened
        channel = channels.get(inbound.channel_id)
        if channel is None:
            channel = channels[inbound.channel_id] = self.core._channel(inbound.channel_id)
        contact, created_contact = self._contact_for(tx, channel, inbound)
        task, created_task = self._task_for(tx, channel, contact, inbound)
        at = inbound.sent_at or utcnow()
        msg = m.Message.create(
            task=task.id, kind=INBOUND, author_contact=contact.id, text=inbound.text,
            created_at=at, channel=channel.id, chat_id=inbound.chat_id,
            external_id=inbound.external_id or None, meta=self._reply_to_meta(inbound),
        )
        for a in inbound.attachments:
            m.Attachment.create(message=msg.id, name=a.name, mime=a.mime, size=a.size,
                                location=a.location)
        changes = after_client_message(
            status=task.status, last_activity_at=task.last_activity_at,
            last_client_message_at=task.last_client_message_at,
            additional_data=task.additional_data, at=at,
            preview=inbound.text or ", ".join(a.name for a in inbound.attachments),
            system_data=inbound.system_data, client_data=inbound.client_data)
        for name, value in changes.items():
            setattr(task, name, value)
        task.unread_count += 1
        task.save()
        tx.emit(ev.MESSAGE_STORED, task_id=task.id, message_id=msg.id, contact_id=contact.id,
                message_kind=INBOUND)
        tx.emit(ev.TASK_CREATED if created_task else ev.TASK_UPDATED, task_id=task.id)
        return msg.id, task.id, contact.id, created_contact, created_task, False

    def _contact_for(self, tx: Any, channel: Any, inbound: Inbound) -> tuple[Any, bool]:
        m = self.m
        identity = m.Identity.get_or_none((m.Identity.channel == channel.id)
                                          & (m.Identity.external_id == inbound.sender_id))
        if identity is None:
            name = inbound.display_name or inbound.username or inbound.phone or inbound.sender_id
            contact = m.Contact.create(
                name=name, phones=[inbound.phone] if inbound.phone else [],
                emails=[inbound.email] if inbound.email else [])
            m.Identity.create(channel=channel.id, external_id=inbound.sender_id,
                              contact=contact.id, display_name=inbound.display_name,
                              username=inbound.username, phone=inbound.phone)
            tx.emit(ev.CONTACT_UPDATED, contact_id=contact.id, created=True)
            return contact, True
        contact = self.core._contact(identity.contact_id)
        while contact.merged_into_id is not None:  # a merge repoints identities; be safe
            contact = self.core._contact(contact.merged_into_id)
        changed = False
        for field_name in ("display_name", "username", "phone"):
            value = getattr(inbound, field_name)
            if value and getattr(identity, field_name) != value:
                setattr(identity, field_name, value)
                changed = True
        if changed:
            identity.save()
        for attr, value in (("phones", inbound.phone), ("emails", inbound.email)):
            if value and value not in (getattr(contact, attr) or []):
                setattr(contact, attr, [*(getattr(contact, attr) or []), value])
                contact.save()
                tx.emit(ev.CONTACT_UPDATED, contact_id=contact.id)
        return contact, False

    def _task_for(self, tx: Any, channel: Any, contact: Any, inbound: Inbound) -> tuple[Any, bool]:
        m = self.m
        T = m.Task
        key = bound_key(channel.id, inbound.chat_id)
        task = T.get_or_none(T.bound_key == key)
        if task is not None:
            return task, False
        previous = (T.select().where((T.channel == channel.id) & (T.chat_id == inbound.chat_id)
                                     & T.merged_into.is_null())
                    .order_by(T.id.desc()).first())
        settings = channel.settings or {}
        if previous is not None and settings.get("reopen_completed"):
            previous.status = IN_PROGRESS
            previous.bound_key = key
            previous.save()
            # Dated like the message that reopened it, so the thread reads event → message.
            self.core._system_event(tx, previous, "reopened", _("The client wrote again: task reopened."),
                               at=inbound.sent_at or utcnow())
            self.core._audit(previous.id, None, "reopened")
            return previous, False
        return self._new_task(tx, channel, contact, inbound, previous, key), True

    def _new_task(self, tx: Any, channel: Any, contact: Any, inbound: Inbound,
                  previous: Any, key: str) -> Any:
        m = self.m
        data: dict[str, Any] = {"channel": channel.name, "channel_kind": channel.kind}
        if inbound.username:
            data["username"] = inbound.username
        if inbound.phone:
            data["phone"] = inbound.phone
        description = ""
        if previous is not None:
            data["previous_task"] = previous.number or previous.id
            description = self._history(previous, int((channel.settings or {}).get(
                "history_messages", DEFAULT_HISTORY)))
        assignee = None
        default_operator = (channel.settings or {}).get("default_assignee")
        if default_operator:
            op = m.Operator.get_or_none(m.Operator.name == default_operator)
            assignee = op.id if op else None
        text = _("Task created from a message in {channel}.").format(channel=channel.name)
        if previous is not None:
            text = _("Task created: the client wrote again after task #{number} was completed.").format(
                number=previous.number or previous.id)
        return self.core._create_task(tx, contact=contact, channel=channel, chat_id=inbound.chat_id,
                                 key=key, assignee=assignee, data=data, event_text=text,
                                 audit_action="created", description=description,
                                 previous=previous, at=inbound.sent_at)

    def _history(self, previous: Any, count: int) -> str:
        """The previous task's link and the last ``count`` messages of this client's own
        conversation in it (never a note, an event, nor a merged-in client's words)."""
        M = self.m.Message
        rows = list(M.select().where(
            (M.task == previous.id) & M.kind.in_((INBOUND, OUTBOUND))
            & (M.channel == previous.channel_id) & (M.chat_id == previous.chat_id))
                    .order_by(M.created_at.desc(), M.id.desc()).limit(max(count, 0)))
        rows.reverse()
        lines = [_("Previous task: #{number}").format(number=previous.number or previous.id)]
        for r in rows:
            who = _("Client") if r.kind == INBOUND else _("Operator")
            lines.append(f"{r.created_at:%Y-%m-%d %H:%M} {who}: {preview_of(r.text)}")
        return "\n".join(lines)

    def _reply_to_meta(self, inbound: Inbound) -> dict[str, Any]:
        """What a client's message answers: the channel's id of that message and, when it
        is a message of this same chat that we hold, our id of it."""
        ref = inbound.reply_to_external_id
        if not ref:
            return {}
        M = self.m.Message
        found = M.get_or_none((M.channel == inbound.channel_id) & (M.external_id == ref)
                              & (M.chat_id == inbound.chat_id))
        meta: dict[str, Any] = {"reply_to_external_id": ref}
        if found is not None:
            meta["reply_to_message_id"] = found.id
        return meta

    def edit_inbound(self, channel_id: int, external_id: str, text: str) -> int | None:
        """The client edited a message: update its text, mark it edited, keep the earlier
        versions in ``meta["versions"]`` (``{"text", "at"}``, oldest first; ``at`` is when
        that text began to stand). Returns its id (None: unknown message)."""
        m = self.m
        text = storable(text)
        with self.core.transaction() as tx:
            msg = m.Message.get_or_none((m.Message.channel == channel_id)
                                        & (m.Message.external_id == external_id))
            if msg is None:
                return None
            if msg.text != text:
                now = utcnow()
                meta = dict(msg.meta or {})
                meta.setdefault("original_text", msg.text)
                since = meta.get("edited_at") or msg.created_at.isoformat()
                meta["versions"] = [*(meta.get("versions") or []),
                                    {"text": msg.text, "at": since}]
                meta["edited_at"] = now.isoformat()
                msg.text, msg.edited, msg.meta = text, True, meta
                msg.save()
                tx.emit(ev.MESSAGE_UPDATED, task_id=msg.task_id, message_id=msg.id, edited=True)
            return msg.id

    def mark_inbound_deleted(self, channel_id: int, external_id: str) -> int | None:
        """The client deleted a message in the channel: ``meta["deleted"]`` (the text stays
        visible to the team). Returns its id; None for a message we do not hold."""
        M = self.m.Message
        with self.core.transaction() as tx:
            msg = M.get_or_none((M.channel == channel_id) & (M.external_id == external_id)
                                & (M.kind == INBOUND))
            if msg is None:
                return None
            if not (msg.meta or {}).get("deleted"):
                msg.meta = {**(msg.meta or {}), "deleted": True,
                            "deleted_at": utcnow().isoformat()}
                msg.save()
                tx.emit(ev.MESSAGE_UPDATED, task_id=msg.task_id, message_id=msg.id, deleted=True)
            return msg.id
