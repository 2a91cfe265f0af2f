"""Triage reads: the next task needing an answer, the oldest unread task, the unread total.

"Needing an answer": not done, completed nor cancelled, not merged away, and the client
wrote after the last reply sent to them (a private note answers nothing). The order is
by the client's last message (oldest first), then task id: it does not follow the list's
re-sorting by activity, so "next" walks every waiting task once however the list moves.
Every read takes a :class:`TaskFilter` (snoozed tasks are left out unless it asks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import peewee as pw

from storage.constants import CLOSED_STATUSES
from storage.inputs import TaskFilter
from storage.models import OUTBOUND, Models
from storage.rows import TaskRow

if TYPE_CHECKING:
    from storage.core import StoreCore


class Triage:
    def __init__(self, core: StoreCore) -> None:
        self.core = core
        self.m: Models = core.m

    def _needing_answer(self, f: TaskFilter | None) -> pw.ModelSelect:
        T, M = self.m.Task, self.m.Message
        answered = M.select(M.id).where(
            (M.task == T.id) & (M.kind == OUTBOUND) & (M.created_at >= T.last_client_message_at))
        query = self.core.reads.task_select()
        return self.core.reads.filtered(query, f or TaskFilter()).where(
            T.status.not_in(CLOSED_STATUSES) & T.merged_into.is_null()
            & T.last_client_message_at.is_null(False) & ~pw.fn.EXISTS(answered))

    def _first(self, query: pw.ModelSelect) -> TaskRow | None:
        T = self.m.Task
        obj = query.order_by(T.last_client_message_at, T.id).limit(1).objects().first()
        return self.core.reads.task_from(obj) if obj is not None else None

    def next_task_needing_answer(self, f: TaskFilter | None = None,
                                 after_task_id: int | None = None) -> TaskRow | None:
        """The task after ``after_task_id`` in the needing-an-answer order (wrapping round to
        the first; never ``after_task_id`` itself), or the first one; None when none waits."""
        T = self.m.Task
        query = self._needing_answer(f)
        if after_task_id is None:
            return self._first(query)
        query = query.where(T.id != after_task_id)
        here: Any = T.select(T.last_client_message_at, T.id).where(T.id == after_task_id).first()
        if here is None or here.last_client_message_at is None:
            return self._first(query)
        at = here.last_client_message_at
        later = self._first(query.where((T.last_client_message_at > at) | (
            (T.last_client_message_at == at) & (T.id > after_task_id))))
        return later if later is not None else self._first(query)

    def oldest_unread_task(self, f: TaskFilter | None = None) -> TaskRow | None:
        """The task with unread client messages whose client wrote longest ago."""
        T = self.m.Task
        query = self.core.reads.filtered(
            self.core.reads.task_select(), f or TaskFilter())
        return self._first(query.where((T.unread_count > 0) & T.merged_into.is_null()))

    def unread_total(self, f: TaskFilter | None = None) -> int:
        """How many client messages are unread across the tasks of the filter."""
        T = self.m.Task
        query = self.core.reads.filtered(
            T.select(pw.fn.COALESCE(pw.fn.SUM(T.unread_count), 0)), f or TaskFilter())
        return int(query.where(T.unread_count > 0).scalar() or 0)
