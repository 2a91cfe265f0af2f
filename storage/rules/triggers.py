"""Triggers: which events start a rule, and when each timer falls due.

Timers are derived from stored times only, never from an in-memory sleep, so they
survive restarts and every process computes the same due times:

* ``no_first_reply`` — the task's ``created_at`` + N minutes, while ``first_reply_at``
  is empty. Occurrence: ``created_at`` in microseconds (once per task).
* ``in_status`` — the time the task entered its current status + N hours. That time
  is the latest of: the audit's last "status" change into it; for "waiting", the last
  operator reply; for "in progress", the client's last message; for "new", the
  creation (the store's built-in status hooks move a task there without an audit
  entry, and each such event restarts the clock). Occurrence: that time.
* ``no_client_answer`` — the last operator reply + N days, while the client has not
  written since. Occurrence: the time of that reply (a new reply starts a new one).
* ``schedule`` — the latest weekly instant (``at`` on ``days`` in a time zone) not
  older than ``catch_up_minutes``, for the active tasks that existed then.
  Occurrence: the instant.

Event triggers use the triggering message's id as occurrence (``task_created``: 0;
``task_merged``: the largest merged task's id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import peewee as pw

from storage.i18n import _
from storage.models import (
    IN_PROGRESS,
    INACTIVE_STATUSES,
    NEW,
    OUTBOUND,
    WAITING,
    from_micros,
    to_micros,
)
from storage.rules.loader import RuleSet, schedule_zone
from storage.rules.model import Rule
from storage.working_hours import parse_clock, parse_days, weekly_slot_after, weekly_slot_before

TIMER_TRIGGERS = ("no_first_reply", "in_status", "no_client_answer", "schedule")


@dataclass(frozen=True)
class TaskTimes:
    """The stored times of one active task that timers are computed from."""

    task_id: int
    status: str
    created_at: datetime
    first_reply_at: datetime | None
    last_client_message_at: datetime | None
    last_operator_reply_at: datetime | None
    status_since: datetime


@dataclass(frozen=True)
class Due:
    occurrence: int
    due: datetime
    why: str


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def load_times(store: Any, task_ids: list[int] | None = None, with_status_since: bool = True,
               with_last_reply: bool = True) -> list[TaskTimes]:
    """Times of every active, unmerged task (or of ``task_ids``), in two queries. The
    last operator reply (a sub-query per task) and the audit's status changes are read
    only when a rule needs them."""
    m = store.m
    T, M = m.Task, m.Message
    last_out: Any = pw.SQL("NULL")
    if with_last_reply:
        last_out = (M.select(pw.fn.MAX(M.created_at))
                    .where((M.task == T.id) & (M.kind == OUTBOUND)
                           & M.author_operator.is_null(False)))
    query = (T.select(T.id, T.status, T.created_at, T.first_reply_at, T.last_client_message_at,
                      last_out.alias("last_out"))
             .where(T.status.not_in(INACTIVE_STATUSES) & T.merged_into.is_null()))
    if task_ids is not None:
        query = query.where(T.id.in_(task_ids))
    rows = list(query.tuples())
    moved: dict[int, dict[str, datetime]] = {}
    if with_status_since and rows:
        moved = _status_changes(store, [r[0] for r in rows])
    result = []
    for task_id, status, created, first, last_client, out in rows:
        last_reply = from_micros(out) if out is not None else None
        since = [created] if status == NEW else []
        if status == WAITING and last_reply is not None:
            since.append(last_reply)
        if status == IN_PROGRESS and last_client is not None:
            since.append(last_client)
        if status in moved.get(task_id, {}):
            since.append(moved[task_id][status])
        result.append(TaskTimes(task_id, status, created, first, last_client, last_reply,
                                max(since) if since else created))
    return result


def _status_changes(store: Any, task_ids: list[int]) -> dict[int, dict[str, datetime]]:
    """Per task, the latest audit time of a status change into each status."""
    A = store.m.Audit
    found: dict[int, dict[str, datetime]] = {}
    for i in range(0, len(task_ids), 500):
        batch = task_ids[i:i + 500]
        for audit in A.select(A.task, A.detail, A.at).where(
                (A.action == "status") & A.task.in_(batch)).order_by(A.at):
            new = (audit.detail or {}).get("new")
            if new:
                found.setdefault(audit.task_id, {})[new] = audit.at
    return found


def timer_due(ruleset: RuleSet, rule: Rule, times: TaskTimes, now: datetime) -> Due | None:
    """When this rule's timer falls (or fell) due for this task; None: it does not apply."""
    kind, params = rule.when.kind, rule.when.params
    if kind == "no_first_reply":
        if times.first_reply_at is not None:
            return None
        due = times.created_at + timedelta(minutes=params.minutes)
        return Due(to_micros(times.created_at), due, _(
            "no first reply {minutes:g} minutes after the task was created at {time}").format(
                minutes=params.minutes, time=stamp(times.created_at)))
    if kind == "in_status":
        if times.status != params.status:
            return None
        due = times.status_since + timedelta(hours=params.hours)
        return Due(to_micros(times.status_since), due, _(
            "in status {status} since {time}, {hours:g} hours").format(
                status=params.status, time=stamp(times.status_since), hours=params.hours))
    if kind == "no_client_answer":
        reply = times.last_operator_reply_at
        if reply is None or (times.last_client_message_at is not None
                             and times.last_client_message_at >= reply):
            return None
        due = reply + timedelta(days=params.days)
        return Due(to_micros(reply), due, _(
            "no answer from the client {days:g} days after the operator replied at {time}").format(
                days=params.days, time=stamp(reply)))
    if kind == "schedule":
        slot = last_slot(ruleset, rule, now)
        if slot is None or times.created_at > slot:
            return None
        return Due(to_micros(slot), slot, _("the scheduled time {time} was reached").format(
            time=stamp(slot)))
    return None


def _slot_args(ruleset: RuleSet, rule: Rule) -> tuple[Any, list[int], int]:
    at = rule.when.schedule
    assert at is not None
    return schedule_zone(ruleset, at.timezone, at.schedule), parse_days(at.days), parse_clock(at.at)


def last_slot(ruleset: RuleSet, rule: Rule, now: datetime) -> datetime | None:
    """The scheduled instant this rule is (still) catching up on at ``now``, if any."""
    tz, days, minute = _slot_args(ruleset, rule)
    slot = weekly_slot_before(now, tz, days, minute)
    at = rule.when.schedule
    assert at is not None
    if slot is None or now - slot > timedelta(minutes=at.catch_up_minutes):
        return None
    return slot


def next_slot(ruleset: RuleSet, rule: Rule, now: datetime) -> datetime | None:
    tz, days, minute = _slot_args(ruleset, rule)
    return weekly_slot_after(now, tz, days, minute)
