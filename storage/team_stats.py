"""The supervisor's live view: per operator, load and speed, in three queries.

For every operator:

* ``open_tasks`` — active tasks assigned to them;
* ``waiting_tasks`` — of those, the ones where the client is waiting for an answer:
  the client's last message is newer than the last reply sent in the task;
* ``replies_today`` — replies they sent since ``day_start`` (notes do not count);
* ``first_responses``, ``median_first_response``, ``p90_first_response`` — for the
  tasks whose first reply was sent since ``day_start`` by this operator, seconds from
  the client's first message to that reply (tasks the company started are left out).
  The p90 is the nearest-rank percentile: the smallest time that 90% of the first
  responses did not exceed.

The queries use the tasks' ``last_activity_at`` index to reach today's work (a reply
moves its task's last activity forward), so the cost follows today's volume and the
open tasks, not the whole history. The console recomputes them on change events.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

import peewee as pw

from storage.models import INACTIVE_STATUSES, INBOUND, OUTBOUND, from_micros, utcnow

if TYPE_CHECKING:
    from storage.store import Store


@dataclass(frozen=True)
class OperatorStats:
    operator_id: int
    name: str
    role: str
    open_tasks: int
    waiting_tasks: int
    replies_today: int
    first_responses: int
    median_first_response: float | None  # seconds
    p90_first_response: float | None  # seconds


def start_of_day(now: datetime | None = None) -> datetime:
    """Midnight of ``now``'s day in ``now``'s own timezone (default: now, UTC)."""
    now = now or utcnow()
    return datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (``fraction`` in (0, 1]); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return from_micros(int(value))


def team_stats(store: Store, day_start: datetime | None = None) -> list[OperatorStats]:
    """Every operator's numbers, by name; ``day_start`` defaults to today's UTC midnight."""
    m = store.m
    T, M = m.Task, m.Message
    since = day_start or start_of_day()

    last_reply = (M.select(pw.fn.MAX(M.created_at))
                  .where((M.task == T.id) & (M.kind == OUTBOUND)))
    waiting = pw.Case(None, [(T.last_client_message_at.is_null(False)
                              & (T.last_client_message_at > pw.fn.COALESCE(last_reply, 0)), 1)], 0)
    load = {row[0]: (row[1], int(row[2] or 0)) for row in
            T.select(T.assignee, pw.fn.COUNT(T.id), pw.fn.SUM(waiting))
            .where(T.assignee.is_null(False) & T.status.not_in(INACTIVE_STATUSES))
            .group_by(T.assignee).tuples()}

    recent = T.select(T.id).where(T.last_activity_at >= since)
    replies = dict(M.select(M.author_operator, pw.fn.COUNT(M.id))
                   .where(M.task.in_(recent) & (M.created_at >= since) & (M.kind == OUTBOUND)
                          & M.author_operator.is_null(False))
                   .group_by(M.author_operator).tuples())

    first_in = M.select(pw.fn.MIN(M.created_at)).where((M.task == T.id) & (M.kind == INBOUND))
    responder = (M.select(M.author_operator).where((M.task == T.id) & (M.kind == OUTBOUND))
                 .order_by(M.created_at, M.id).limit(1))
    times: dict[int, list[float]] = {}
    for first_reply, first_message, operator_id in (
            T.select(T.first_reply_at, first_in, responder)
            .where((T.last_activity_at >= since) & (T.first_reply_at >= since)).tuples()):
        answered, asked = _time(first_reply), _time(first_message)
        if operator_id is None or answered is None or asked is None or asked > answered:
            continue
        times.setdefault(operator_id, []).append((answered - asked).total_seconds())

    out = []
    for op in store.list_operators():
        open_tasks, waiting_tasks = load.get(op.id, (0, 0))
        mine = times.get(op.id, [])
        out.append(OperatorStats(
            operator_id=op.id, name=op.name, role=op.role, open_tasks=open_tasks,
            waiting_tasks=waiting_tasks, replies_today=int(replies.get(op.id, 0)),
            first_responses=len(mine),
            median_first_response=statistics.median(mine) if mine else None,
            p90_first_response=percentile(mine, 0.9)))
    return out
