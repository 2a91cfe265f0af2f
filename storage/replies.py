"""Replies, private notes and writing first.

An operator's reply is stored as an outbound message in state ``queued`` in the same
transaction that records it: the messages table *is* the transactional outbox, and
the outbox worker (``connectors/``) delivers it. A private note is stored and never
queued: it cannot reach the client by construction.

The address is recorded when the reply is written: the task's channel and chat at that
moment go on the message (``Message.channel``, ``Message.chat_id``) and the outbox sends
there whatever happens to the task later (a merge moves the message, not its address).

Channel rules are checked before anything is queued: a reply past the channel's reply
window is refused (:class:`WindowClosed`), one over its text limit is split between
words into several queued messages, or refused (:class:`TooLong`) where the channel
does not allow splitting. Sending clears the operator's draft of the task in the same
transaction.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from storage import events as ev
from storage.automation import status_after_operator_reply
from storage.channel_policy import (
    LIMIT_UTF8_BYTES,
    WRITE_FIRST_TEMPLATE,
    ChannelPolicy,
    write_first_refusal,
)
from storage.constants import CLOSED_STATUSES, STATUS_LABELS
from storage.errors import (
    CannotWriteFirst,
    NoChannel,
    NotFound,
    RuleViolation,
    TooLong,
    WindowClosed,
)
from storage.i18n import _, ngettext
from storage.inputs import AttachmentIn
from storage.models import (
    FAILED,
    INBOUND,
    NOTE,
    OUTBOUND,
    QUEUED,
    Models,
    utcnow,
)
from storage.rows import MessageRow
from storage.split import measure, split_text
from storage.task_update import bound_key
from storage.text import storable

QUOTE_LENGTH = 100


def quote_excerpt(text: str) -> str:
    """The short excerpt of a quoted message shown above a reply (one line)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_LENGTH else flat[: QUOTE_LENGTH - 1] + "…"

if TYPE_CHECKING:
    from storage.core import StoreCore


class Replies:
    def __init__(self, core: StoreCore) -> None:
        self.core = core
        self.m: Models = core.m

    def reply(self, task_id: int, operator_id: int | None, text: str, *, private: bool = False,
              attachments: tuple[AttachmentIn, ...] = (), meta: dict[str, Any] | None = None,
              quote_message_id: int | None = None, send_at: datetime | None = None
              ) -> MessageRow:
        """An operator's comment: queued for the client, or a private note when ``private``.

        Refused with :class:`WindowClosed` past the channel's reply window (unless ``meta``
        names a ``template`` where templates are allowed; where a human-agent window
        applies ``meta["tag"]`` becomes ``HUMAN_AGENT``), with :class:`TooLong` over a
        limit the channel does not let us split. A split reply is several messages to
        the same address, in order; the first part is returned.

        ``quote_message_id``: the client message this reply answers — a client message of
        this task that came from the chat the reply goes to (never another client's words);
        the first part's meta gets ``quote_message_id``, ``quote_external_id`` (channels
        quote natively with it) and ``quote_text`` (an excerpt, for the others).
        ``send_at``: a scheduled reply, queued until then (``meta["scheduled_at"]``); the
        channel's window is checked again when it falls due."""
        if not text.strip() and not attachments:
            raise RuleViolation(_("The message is empty."))
        if send_at is not None and private:
            raise RuleViolation(_("A private note cannot be scheduled."))
        if send_at is not None and send_at <= utcnow():
            raise RuleViolation(_("The time to send at has already passed."))
        text = storable(text)
        with self.core.transaction() as tx:
            task = self.core._task(task_id)
            self.core._operator(operator_id)
            if task.merged_into_id is not None:
                raise RuleViolation(_("Task #{number} was merged into #{target}; write there.").format(
                    number=task.number or task.id, target=task.merged_into_id))
            if not private and task.channel_id is None:
                raise NoChannel(_("Task #{number} is not bound to any channel, so a reply cannot "
                                  "reach a client. Write a private note instead.").format(
                                      number=task.number or task.id))
            quote = self._quote_meta(task, quote_message_id, private)
            if private:
                ids = [self._store_comment(tx, task, operator_id, text, True, attachments,
                                           {**(meta or {}), **quote})]
            else:
                rules = self.core.policy(self.core._channel(task.channel_id).kind)
                meta = self.window_meta(rules, task.channel_id, task.chat_id, meta)
                if send_at is not None:
                    meta["scheduled_at"] = send_at.isoformat()
                ids = self._queue_reply(tx, task, operator_id, self._parts(rules, text),
                                        attachments, meta, quote, send_at)
        return self.core.reads.get_message(ids[0])

    def _quote_meta(self, task: Any, message_id: int | None, private: bool) -> dict[str, Any]:
        """The quote of client message ``message_id`` in a reply of ``task`` ({} for none).

        Only a client message of this task; for a reply to the client, only one that came
        from the very chat the reply goes to: a merged-in client's words are never quoted
        to another client."""
        if message_id is None:
            return {}
        M = self.m.Message
        quoted = M.get_or_none(M.id == message_id)
        if quoted is None or quoted.task_id != task.id or quoted.kind != INBOUND:
            raise RuleViolation(_("Only a client's message in this task can be quoted."))
        if not private and (quoted.channel_id != task.channel_id
                            or quoted.chat_id != task.chat_id):
            raise RuleViolation(_("This message came from another client's chat; quoting it "
                                  "would show their words to this client."))
        quote: dict[str, Any] = {"quote_message_id": quoted.id,
                                 "quote_text": quote_excerpt(quoted.text)}
        if quoted.external_id:
            quote["quote_external_id"] = quoted.external_id
        return quote

    def reply_parts(self, task_id: int, text: str) -> list[str]:
        """How a reply of ``text`` would be queued in this task's channel: the parts it is
        split into (one when it fits). Raises :class:`TooLong` where it may not be split."""
        task = self.core.reads.get_task(task_id)
        if task.channel_id is None:
            return [text]
        return self._parts(self.core.policy(task.channel_kind), storable(text))

    def reply_notice(self, task_id: int, operator_id: int | None) -> str | None:
        """What to tell an operator before they reply here (None: nothing): the task is
        another operator's (named), or done / completed / cancelled (the state named)."""
        task = self.core.reads.get_task(task_id)
        client = task.contact_name or _("no client")
        notes = []
        if task.assignee_id is not None and task.assignee_id != operator_id:
            notes.append(_("Task #{number} ({client}) is assigned to {operator}.").format(
                number=task.number, client=client, operator=task.assignee_name))
        if task.status in CLOSED_STATUSES:
            notes.append(_("Task #{number} ({client}) has the status “{state}”.").format(
                number=task.number, client=client, state=_(STATUS_LABELS[task.status])))
        return " ".join(notes) or None

    def _parts(self, rules: ChannelPolicy, text: str) -> list[str]:
        limit = rules.text_limit
        if limit is None or measure(text, rules.limit_unit) <= limit:
            return [text]
        if not rules.split_long:
            size = measure(text, rules.limit_unit)
            if rules.limit_unit == LIMIT_UTF8_BYTES:
                raise TooLong(_("{channel} accepts at most {limit} bytes (UTF-8) in one message; "
                                "this one has {size}. Shorten it.").format(
                                    channel=rules.name, limit=limit, size=size))
            raise TooLong(_("{channel} accepts at most {limit} characters in one message; this "
                            "one has {size}. Shorten it.").format(
                                channel=rules.name, limit=limit, size=size))
        return split_text(text, limit, rules.limit_unit)

    def _last_client_message_at(self, channel_id: int, chat_id: str | None) -> Any:
        M = self.m.Message
        last = (M.select(M.created_at)
                .where((M.channel == channel_id) & (M.chat_id == chat_id) & (M.kind == INBOUND))
                .order_by(M.created_at.desc(), M.id.desc()).first())
        return last.created_at if last is not None else None

    def window_meta(self, rules: ChannelPolicy, channel_id: int, chat_id: str | None,
                     meta: dict[str, Any] | None, now: datetime | None = None
                     ) -> dict[str, Any]:
        """``meta`` for a reply inside the channel's window at ``now`` (default: the current
        time); WindowClosed outside it."""
        meta = dict(meta or {})
        if rules.window is None:
            return meta
        last = self._last_client_message_at(channel_id, chat_id)
        age = (now or utcnow()) - last if last is not None else None
        if age is not None and age <= rules.window:
            return meta
        if meta.get("template") and rules.write_first == WRITE_FIRST_TEMPLATE:
            return meta
        if rules.human_agent_window is not None and age is not None \
                and age <= rules.human_agent_window:
            meta["tag"] = "HUMAN_AGENT"
            return meta
        window = _duration(rules.window.total_seconds())
        if age is None:
            raise WindowClosed(_("{channel} accepts replies only within {window} of the client's "
                                 "last message, and this client has not written.").format(
                                     channel=rules.name, window=window))
        raise WindowClosed(_("{channel} accepts replies only within {window} of the client's "
                             "last message; the client last wrote {ago} ago.").format(
                                 channel=rules.name, window=window,
                                 ago=_ago(age.total_seconds())))

    def _queue_reply(self, tx: Any, task: Any, operator_id: int | None, parts: list[str],
                     attachments: tuple[AttachmentIn, ...], meta: dict[str, Any] | None,
                     quote: dict[str, Any] | None = None, send_at: datetime | None = None
                     ) -> list[int]:
        """Queue ``parts`` in order to the task's current address; attachments and the
        quote go with the first part; ``send_at`` delays them all."""
        ids = []
        for n, part in enumerate(parts, 1):
            part_meta = {**(meta or {}), **((quote or {}) if n == 1 else {}),
                         **({"part": n, "parts": len(parts)} if len(parts) > 1 else {})}
            ids.append(self._store_comment(tx, task, operator_id, part, False,
                                           attachments if n == 1 else (), part_meta, send_at))
        return ids

    def _store_comment(self, tx: Any, task: Any, operator_id: int | None, text: str,
                       private: bool, attachments: tuple[AttachmentIn, ...],
                       meta: dict[str, Any] | None, send_at: datetime | None = None) -> int:
        m = self.m
        now = utcnow()
        if not private:
            limit = self.core.policy(self.core._channel(task.channel_id).kind).text_limit
            meta = {**(meta or {}), **({"text_limit": limit} if limit else {})}
        msg = m.Message.create(
            task=task.id, kind=NOTE if private else OUTBOUND, author_operator=operator_id,
            text=text, created_at=now, channel=None if private else task.channel_id,
            chat_id=None if private else task.chat_id,
            delivery_state=None if private else QUEUED,
            next_attempt_at=None if private else (send_at or now),
            meta=meta or {},
        )
        for a in attachments:
            m.Attachment.create(message=msg.id, name=a.name, mime=a.mime, size=a.size,
                                location=a.location)
        self.core._touch(task, now, text or ", ".join(a.name for a in attachments),
                    NOTE if private else OUTBOUND)
        if not private:
            task.status = status_after_operator_reply(task.status)
            if task.first_reply_at is None:
                task.first_reply_at = now
            task.unread_count = 0
        task.save()
        if operator_id is not None:  # what was drafted is now sent
            m.Draft.delete().where((m.Draft.task == task.id)
                                   & (m.Draft.operator == operator_id)).execute()
        self.core._audit(task.id, operator_id, "note" if private else "reply", message_id=msg.id)
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
        with self.core.transaction() as tx:
            msg = m.Message.get_or_none(m.Message.id == message_id)
            if msg is None:
                raise NotFound(_("Message {id} does not exist.").format(id=message_id))
            if msg.kind != OUTBOUND or msg.delivery_state != FAILED:
                raise RuleViolation(_("Only a failed outgoing message can be retried."))
            msg.delivery_state, msg.next_attempt_at, msg.failure_reason = QUEUED, utcnow(), ""
            if (msg.meta or {}).get("cancelled"):  # a cancelled scheduled reply: sent now
                msg.meta = {k: v for k, v in msg.meta.items() if k != "cancelled"}
            msg.save()
            self.core._audit(msg.task_id, operator_id, "retry", message_id=msg.id)
            tx.emit(ev.MESSAGE_UPDATED, task_id=msg.task_id, message_id=msg.id, state=QUEUED)
            tx.emit(ev.OUTBOX_QUEUED, task_id=msg.task_id, message_id=msg.id)
        return self.core.reads.get_message(message_id)

    def write_first_refusal(self, contact_id: int, channel_id: int,
                            template: str | None = None) -> str | None:
        """Why "Write" in this channel is not possible for this contact (None: it is)."""
        m = self.m
        channel = self.core._channel(channel_id)
        identity = m.Identity.get_or_none((m.Identity.contact == contact_id)
                                          & (m.Identity.channel == channel_id))
        if identity is None:
            return _("The contact has no identity in {channel}.").format(channel=channel.name)
        last_at = self._last_client_message_at(channel_id, identity.external_id)
        allowed = (channel.settings or {}).get("write_first_allowed", {})
        identity_allows = bool(allowed.get(identity.external_id, True)) if isinstance(
            allowed, dict) else True
        return write_first_refusal(self.core.policy(channel.kind), template=template,
                                   last_client_message_at=last_at,
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
        with self.core.transaction() as tx:
            contact = self.core._contact(contact_id)
            channel = self.core._channel(channel_id)
            identity = m.Identity.get((m.Identity.contact == contact_id)
                                      & (m.Identity.channel == channel_id))
            key = bound_key(channel_id, identity.external_id)
            task = m.Task.get_or_none(m.Task.bound_key == key)
            if task is None:
                task = self.core._create_task(
                    tx, contact=contact, channel=channel, chat_id=identity.external_id, key=key,
                    assignee=operator_id, by=operator_id, audit_action="write_first",
                    data={"channel": channel.name, "channel_kind": channel.kind,
                          "started_by": "operator"},
                    event_text=_("Conversation started by the company."))
                tx.emit(ev.TASK_CREATED, task_id=task.id)
            parts = self._parts(self.core.policy(channel.kind), storable(text))
            ids = self._queue_reply(tx, task, operator_id, parts, (),
                                    {"template": template} if template else None)
        return self.core.reads.get_message(ids[0])


def _duration(seconds: float) -> str:
    """A window or an age in whole days (from two days) or hours, in words."""
    hours = max(1, round(seconds / 3600))
    if hours >= 48 and hours % 24 == 0:
        days = hours // 24
        return ngettext("{n} day", "{n} days", days).format(n=days)
    return ngettext("{n} hour", "{n} hours", hours).format(n=hours)


def _ago(seconds: float) -> str:
    """How long ago, rounded up to hours (under two days) or down to days."""
    hours = max(1, math.ceil(seconds / 3600))
    if hours >= 48:
        days = hours // 24
        return ngettext("{n} day", "{n} days", days).format(n=days)
    return ngettext("{n} hour", "{n} hours", hours).format(n=hours)
