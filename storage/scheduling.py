"""Time-shifted work: scheduled replies, snoozed tasks, and messages waiting for a channel.

Scheduled send: ``reply(..., send_at=...)`` queues the reply with ``next_attempt_at``
at that time and ``meta["scheduled_at"]``; the outbox claims it when it falls due and,
if the channel's reply window closed meanwhile, fails it with the window's reason
instead of sending it (``storage.outbox_queue``). Until then it holds back nothing written after
it. :meth:`ScheduleOps.cancel_scheduled` turns a reply not yet due into a visible
*cancelled* one: delivery state ``failed`` with the reason "Cancelled by <operator>"
and ``meta["cancelled"]`` (it stays in the thread; ``retry`` sends it at once).

Snooze: a task is hidden from the lists until ``snoozed_until`` passes, or, with no
time, until the client writes (ingest clears both). The lists compare with the current
time, so nothing has to run for a snooze to end; :meth:`end_snoozes` (called by the
automation runner when :meth:`next_snooze_end` falls due) clears the ended ones and
publishes ``task.updated`` so open lists refresh at that moment.

Waiting: a queued message whose channel has no running connector says so in its
``failure_reason`` while it stays queued (``meta["waiting"]``); the claim that finally
takes it clears the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from storage import events as ev
from storage.errors import NotFound, RuleViolation
from storage.i18n import _
from storage.models import FAILED, OUTBOUND, QUEUED, Models, utcnow
from storage.rows import MessageRow

if TYPE_CHECKING:
    from storage.core import StoreCore


class Scheduling:
    def __init__(self, core: StoreCore) -> None:
        self.core = core
        self.m: Models = core.m

    # ---- scheduled replies ------------------------------------------------------------
    def _scheduled(self) -> object:
        M = self.m.Message
        return ((M.kind == OUTBOUND) & (M.delivery_state == QUEUED) & (M.attempts == 0)
                & M.meta.contains('"scheduled_at"'))

    def scheduled_replies(self, task_id: int | None = None) -> list[MessageRow]:
        """Scheduled replies still waiting to go out (of one task, or all), soonest first."""
        M = self.m.Message
        query = self.core.reads.message_select().where(self._scheduled())
        if task_id is not None:
            query = query.where(M.task == task_id)
        return self.core.reads.message_rows(
            query.order_by(M.next_attempt_at, M.id))

    def cancel_scheduled(self, message_id: int, operator_id: int | None) -> MessageRow:
        """Cancel a scheduled reply that has not fallen due yet (audited). It stays in the
        thread as cancelled: state ``failed``, reason naming who cancelled it."""
        M = self.m.Message
        with self.core.transaction() as tx:
            msg = M.get_or_none(M.id == message_id)
            if msg is None:
                raise NotFound(_("Message {id} does not exist.").format(id=message_id))
            operator = self.core._operator(operator_id)
            if (msg.kind != OUTBOUND or msg.delivery_state != QUEUED or msg.attempts
                    or not (msg.meta or {}).get("scheduled_at")
                    or msg.next_attempt_at is None or msg.next_attempt_at <= utcnow()):
                raise RuleViolation(_("Only a scheduled reply that has not been sent yet can "
                                      "be cancelled."))
            reason = (_("Cancelled by {name}.").format(name=operator.name) if operator
                      else _("Cancelled."))
            msg.delivery_state, msg.next_attempt_at, msg.failure_reason = FAILED, None, reason
            msg.meta = {**(msg.meta or {}), "cancelled": True}
            msg.save()
            self.core._audit(msg.task_id, operator_id, "scheduled_cancelled", message_id=msg.id)
            tx.emit(ev.MESSAGE_UPDATED, task_id=msg.task_id, message_id=msg.id, state=FAILED,
                    cancelled=True)
            tx.emit(ev.TASK_UPDATED, task_id=msg.task_id)
        return self.core.reads.get_message(message_id)

    # ---- snooze -----------------------------------------------------------------------
    def snooze(self, task_ids: Iterable[int], until: datetime | None,
               until_client_writes: bool = False, by: int | None = None) -> None:
        """Hide tasks from the lists until ``until`` and/or until the client writes."""
        if until is None and not until_client_writes:
            raise RuleViolation(_("Snooze needs a time or “until the client writes”."))
        if until is not None and until <= utcnow():
            raise RuleViolation(_("The snooze time has already passed."))
        with self.core.transaction() as tx:
            self.core._operator(by)
            for task_id in task_ids:
                task = self.core._task(task_id)
                task.snoozed_until, task.snooze_until_client = until, until_client_writes
                task.save()
                self.core._audit(task.id, by, "snoozed",
                            until=until.isoformat() if until else None,
                            until_client_writes=until_client_writes)
                tx.emit(ev.TASK_UPDATED, task_id=task.id, snoozed=True)

    def unsnooze(self, task_ids: Iterable[int], by: int | None = None) -> None:
        """Bring snoozed tasks back now."""
        with self.core.transaction() as tx:
            self.core._operator(by)
            for task_id in task_ids:
                task = self.core._task(task_id)
                if task.snoozed_until is None and not task.snooze_until_client:
                    continue
                task.snoozed_until, task.snooze_until_client = None, False
                task.save()
                self.core._audit(task.id, by, "unsnoozed")
                tx.emit(ev.TASK_UPDATED, task_id=task.id, snoozed=False)

    def next_snooze_end(self) -> datetime | None:
        """The earliest stored snooze end (past or future); None when none is set."""
        T = self.m.Task
        row = (T.select(T.snoozed_until).where(T.snoozed_until.is_null(False))
               .order_by(T.snoozed_until).first())
        return row.snoozed_until if row is not None else None

    def end_snoozes(self, now: datetime | None = None) -> list[int]:
        """Clear the snoozes that ended by ``now`` and publish ``task.updated`` for each
        (once: a second caller finds them cleared). Returns the tasks brought back."""
        T = self.m.Task
        now = now or utcnow()
        woken: list[int] = []
        with self.core.transaction() as tx:
            for row in T.select(T.id).where(T.snoozed_until.is_null(False)
                                            & (T.snoozed_until <= now)):
                cleared = T.update(snoozed_until=None, snooze_until_client=False).where(
                    (T.id == row.id) & T.snoozed_until.is_null(False)
                    & (T.snoozed_until <= now)).execute()
                if cleared:
                    woken.append(row.id)
                    self.core._audit(row.id, None, "snooze_ended")
                    tx.emit(ev.TASK_UPDATED, task_id=row.id, snoozed=False)
        return woken

    # ---- messages waiting for a channel -----------------------------------------------
    def mark_waiting(self, message_ids: Iterable[int], reason: str) -> int:
        """Show ``reason`` on queued messages that stay queued (a channel not running).
        Only messages without that reason change; returns how many did."""
        M = self.m.Message
        changed = 0
        with self.core.transaction() as tx:
            for msg in M.select().where(M.id.in_(list(message_ids))
                                        & (M.delivery_state == QUEUED)):
                if msg.failure_reason == reason and (msg.meta or {}).get("waiting"):
                    continue
                msg.failure_reason = reason
                msg.meta = {**(msg.meta or {}), "waiting": True}
                msg.save()
                changed += 1
                tx.emit(ev.MESSAGE_UPDATED, task_id=msg.task_id, message_id=msg.id,
                        state=QUEUED, waiting=True)
        return changed

    def mark_unserved(self, served_channel_ids: Iterable[int]) -> int:
        """Queued messages of channels not in ``served_channel_ids`` get the reason "the
        channel is not running" (once: already marked ones are left alone)."""
        m = self.m
        M = m.Message
        served = list(served_channel_ids)
        query = (M.select(M.id, M.channel, M.failure_reason, M.meta)
                 .where((M.kind == OUTBOUND) & (M.delivery_state == QUEUED)
                        & M.channel.is_null(False)))
        if served:
            query = query.where(M.channel.not_in(served))
        by_channel: dict[int, list[int]] = {}
        for row in query:
            if not (row.meta or {}).get("waiting"):
                by_channel.setdefault(row.channel_id, []).append(row.id)
        changed = 0
        for channel_id, ids in by_channel.items():
            name = self.core._channel(channel_id).name
            changed += self.mark_waiting(ids, _(
                "The channel {name} is not running: the message waits in the queue and goes "
                "out when the channel starts.").format(name=name))
        return changed
