"""The outbox side of outbound messages: claim, mark sent / delivered / failed, retry later.

Order within a task is kept: only the oldest undelivered message of a task is ever
claimed, so a message waiting for a retry holds back the ones written after it. A
permanently failed message does not block the ones after it.

A message found in ``sending`` at start-up was being sent when the process died: it is
queued again (:meth:`recover_outbox`). Where the channel has an idempotency key
(``Message.id`` is used as the key: VK's ``random_id``, the web chat's message id) the
resend is harmless; elsewhere the message is flagged ``possible_double`` in its meta.

Addressing: an item's channel and chat are the ones recorded on the message when it
was written (``Message.channel``, ``Message.chat_id``), never the task's: a merge
moves the message to another task but cannot re-address it. A message without a
recorded chat (none is written so; only a damaged old row could be) fails rather than
being guessed.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from storage import events as ev
from storage.errors import NotFound, WindowClosed
from storage.i18n import _
from storage.models import DELIVERED, FAILED, OUTBOUND, QUEUED, READ, SENDING, SENT, Models, utcnow
from storage.rows import OutboxItem


def _first_scheduled_try(row: Any) -> bool:
    """A scheduled reply not tried yet."""
    return bool((row.meta or {}).get("scheduled_at")) and not row.attempts


def _scheduled_ahead(row: Any, now: datetime) -> bool:
    """A scheduled reply whose time is still ahead: it waits for its time without
    holding back the task's later messages."""
    return (_first_scheduled_try(row) and row.delivery_state == QUEUED
            and row.next_attempt_at is not None and row.next_attempt_at > now)


OUTBOX_LOCK = 0x5B0A7D  # an application-wide advisory lock key for outbox claims
STATE_RANK = {QUEUED: 0, SENDING: 1, SENT: 2, DELIVERED: 3, READ: 4}

if TYPE_CHECKING:
    from storage.core import StoreCore


class OutboxQueue:
    def __init__(self, core: StoreCore) -> None:
        self.core = core
        self.m: Models = core.m

    def claim_outbox(self, limit: int = 20, now: datetime | None = None,
                     channel_ids: tuple[int, ...] | None = None) -> list[OutboxItem]:
        """Mark up to ``limit`` due messages ``sending`` (one per task, oldest first)."""
        m = self.m
        now = now or utcnow()
        M = m.Message
        claimed: list[int] = []
        unaddressed: list[int] = []
        task_of: dict[int, int] = {}
        with self.core.transaction() as tx:
            if self.core.postgres:
                # Serialize claims across processes (two `serve` on one database): the
                # per-task order check below must see every other claim.
                self.core.db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (OUTBOX_LOCK,))
            query = (M.select(M.id, M.task, M.delivery_state, M.next_attempt_at, M.chat_id,
                              M.attempts, M.meta, M.channel)
                     .where((M.kind == OUTBOUND) & M.delivery_state.in_((QUEUED, SENDING))))
            if channel_ids is not None:
                # ``+ 0``: the channels filter, the queued state is the way in. With one
                # channel id SQLite's planner otherwise walked every message of that channel
                # (an index led by channel_id: 0.5 s per claim at 1M messages).
                query = query.where((M.channel + 0).in_(channel_ids))
            blocked: set[int] = set()
            closed: dict[int, str] = {}
            waited: list[int] = []
            for row in query.order_by(M.created_at, M.id).limit(2000):
                if row.task_id in blocked:
                    continue
                due = row.delivery_state == QUEUED and (row.next_attempt_at is None
                                                        or row.next_attempt_at <= now)
                if not due and _scheduled_ahead(row, now):
                    continue  # a scheduled reply holds back nothing written after it
                if due and not row.chat_id:
                    unaddressed.append(row.id)
                    task_of[row.id] = row.task_id
                    continue
                if due and _first_scheduled_try(row):
                    reason = self._window_refusal(row, now)
                    if reason:  # the window closed while it waited: failed, not sent
                        closed[row.id] = reason
                        task_of[row.id] = row.task_id
                        continue
                blocked.add(row.task_id)
                if due and (row.meta or {}).get("waiting"):
                    waited.append(row.id)
                if due:
                    claimed.append(row.id)
                    task_of[row.id] = row.task_id
                    if len(claimed) >= limit:
                        break
            if claimed:
                M.update(delivery_state=SENDING, attempts=M.attempts + 1).where(
                    M.id.in_(claimed)).execute()
                for mid in claimed:
                    tx.emit(ev.MESSAGE_UPDATED, task_id=task_of[mid], message_id=mid,
                            state=SENDING)
            for mid, reason in closed.items():
                M.update(delivery_state=FAILED, next_attempt_at=None,
                         failure_reason=reason).where(M.id == mid).execute()
                tx.emit(ev.MESSAGE_UPDATED, task_id=task_of[mid], message_id=mid, state=FAILED)
            for mid in waited:  # its channel runs now: the "not running" reason goes
                if mid in claimed:
                    msg = M.get_by_id(mid)
                    M.update(failure_reason="", meta={k: v for k, v in (msg.meta or {}).items()
                                                      if k != "waiting"}).where(
                        M.id == mid).execute()
            if unaddressed:
                M.update(delivery_state=FAILED, next_attempt_at=None, failure_reason=_(
                    "The message has no recorded chat to send it to.")).where(
                    M.id.in_(unaddressed)).execute()
                for mid in unaddressed:
                    tx.emit(ev.MESSAGE_UPDATED, task_id=task_of[mid], message_id=mid,
                            state=FAILED)
        items = []
        for msg in (M.select(M, m.Channel.kind.alias("channel_kind"))
                    .join(m.Channel, on=(M.channel == m.Channel.id))
                    .where(M.id.in_(claimed)).order_by(M.created_at, M.id).objects()):
            atts = tuple(m.Attachment.select().where(m.Attachment.message == msg.id))
            items.append(OutboxItem(
                msg.id, msg.task_id, msg.channel_id, msg.channel_kind, msg.chat_id or "", msg.text,
                msg.attempts, dict(msg.meta or {}),
                tuple((a.name, a.mime, a.size, a.location) for a in atts)))
        return items

    def next_outbox_due(self) -> datetime | None:
        """When the earliest *claimable* message becomes due (None: nothing to wait for).

        Only the head of each task's queue counts, as in :meth:`claim_outbox`: a message
        queued behind one that waits for a retry (or is being sent) is not due, and
        reporting its time would make the worker wake, claim nothing, and spin."""
        M = self.m.Message
        heads: set[int] = set()
        due: datetime | None = None
        now = utcnow()
        for row in (M.select(M.task, M.delivery_state, M.next_attempt_at, M.attempts, M.meta)
                    .where((M.kind == OUTBOUND) & M.delivery_state.in_((QUEUED, SENDING)))
                    .order_by(M.created_at, M.id).limit(2000)):
            if row.task_id in heads:
                continue
            if not _scheduled_ahead(row, now):
                heads.add(row.task_id)
            if row.delivery_state == QUEUED:
                at = row.next_attempt_at or utcnow()
                due = at if due is None or at < due else due
        return due

    def _window_refusal(self, row: Any, now: datetime) -> str:
        """Why a scheduled reply that fell due may not go out at ``now`` ("": it may): the
        channel's reply window closed while it waited. Where the channel allows a late
        reply with a tag (``HUMAN_AGENT``), the tag is put on the message instead."""
        channel = self.core._channel(row.channel_id)
        meta = dict(row.meta or {})
        try:
            allowed = self.core.replies.window_meta(
                self.core.policy(channel.kind), row.channel_id, row.chat_id, meta, now)
        except WindowClosed as err:
            return str(err)
        if allowed != meta:
            self.m.Message.update(meta=allowed).where(self.m.Message.id == row.id).execute()
        return ""

    def _outbound(self, message_id: int) -> Any:
        msg = self.m.Message.get_or_none(self.m.Message.id == message_id)
        if msg is None or msg.kind != OUTBOUND:
            raise NotFound(_("Outgoing message {id} does not exist.").format(id=message_id))
        return msg

    def mark_sent(self, message_id: int, external_id: str | None) -> None:
        with self.core.transaction() as tx:
            msg = self._outbound(message_id)
            msg.delivery_state, msg.failure_reason, msg.next_attempt_at = SENT, "", None
            if external_id:
                M = self.m.Message
                clash = M.select(M.id).where((M.channel == msg.channel_id)
                                             & (M.external_id == external_id) & (M.id != msg.id))
                if clash.exists():
                    # The channel's id for this reply equals another message's id (a client
                    # message's, in channels whose ids are not global): the reply is sent all
                    # the same; its id is kept aside so the unique key stays the client's.
                    msg.meta = {**(msg.meta or {}), "channel_message_id": external_id}
                else:
                    msg.external_id = external_id
            msg.save()
            tx.emit(ev.MESSAGE_UPDATED, task_id=msg.task_id, message_id=msg.id, state=SENT)

    def mark_delivery(self, channel_id: int, external_id: str, state: str,
                      reason: str = "") -> int | None:
        """A status report from the channel (delivered, read, failed); never moves backwards."""
        M = self.m.Message
        with self.core.transaction() as tx:
            msg = M.get_or_none((M.channel == channel_id) & (M.external_id == external_id))
            if msg is None:
                return None
            if state == FAILED:
                msg.delivery_state, msg.failure_reason = FAILED, reason
            elif STATE_RANK.get(state, -1) > STATE_RANK.get(msg.delivery_state or "", -1):
                msg.delivery_state = state
            else:
                return msg.id
            msg.save()
            tx.emit(ev.MESSAGE_UPDATED, task_id=msg.task_id, message_id=msg.id, state=state)
            return msg.id

    def mark_failed(self, message_id: int, reason: str) -> None:
        """A permanent failure: shown with the channel's reason, retryable by hand."""
        with self.core.transaction() as tx:
            msg = self._outbound(message_id)
            msg.delivery_state, msg.failure_reason, msg.next_attempt_at = FAILED, reason, None
            msg.save()
            tx.emit(ev.MESSAGE_UPDATED, task_id=msg.task_id, message_id=msg.id, state=FAILED)

    def schedule_retry(self, message_id: int, at: datetime, reason: str) -> None:
        """A transient failure: back to ``queued``, due at ``at``."""
        with self.core.transaction() as tx:
            msg = self._outbound(message_id)
            msg.delivery_state, msg.failure_reason, msg.next_attempt_at = QUEUED, reason, at
            msg.save()
            tx.emit(ev.MESSAGE_UPDATED, task_id=msg.task_id, message_id=msg.id, state=QUEUED)
            tx.emit(ev.OUTBOX_QUEUED, task_id=msg.task_id, message_id=msg.id)

    def recover_outbox(self) -> int:
        """Re-queue what was ``sending`` when the process stopped; returns how many."""
        m = self.m
        M = m.Message
        with self.core.transaction() as tx:
            rows = list(M.select(M, m.Channel.kind.alias("channel_kind")).join(
                m.Channel, on=(M.channel == m.Channel.id)).where(
                M.delivery_state == SENDING).objects())
            for msg in rows:
                meta = dict(msg.meta or {})
                if not self.core.policy(msg.channel_kind).idempotent_send:
                    meta["possible_double"] = True
                M.update(delivery_state=QUEUED, next_attempt_at=utcnow(), meta=meta).where(
                    M.id == msg.id).execute()
                tx.emit(ev.OUTBOX_QUEUED, task_id=msg.task_id, message_id=msg.id)
        return len(rows)
