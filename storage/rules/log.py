"""The automation's own tables: the firing log and the console notifications.

``automation_firing`` has one row per (rule, task, occurrence) — a unique key, so a
rule acts at most once per occurrence, even with two runner processes on one
database: the row is inserted in the same transaction as the rule's actions, and the
second process's insert fails (PostgreSQL makes it wait for the first to commit).
An occurrence is an integer: the triggering message's id, the timer's reference time
in microseconds, the scheduled instant... (see :mod:`storage.rules.triggers`).

Outcomes: ``fired`` (the actions ran), ``skipped`` (a timer fell due but its
conditions did not hold then), ``failed`` (an action raised; the reason is kept).

``automation_notification`` holds what "notify" actions leave for the console: for
one operator, or (operator NULL) for every supervisor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.rule_tables import RuleModels, rule_models

FIRED = "fired"
SKIPPED = "skipped"
FAILED = "failed"

__all__ = ["FAILED", "FIRED", "SKIPPED", "FiringRow", "NotificationRow", "RuleModels",
           "firing_row", "rule_models"]


@dataclass(frozen=True)
class FiringRow:
    id: int
    rule_id: str
    task_id: int
    occurrence: int
    trigger: str
    outcome: str
    why: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class NotificationRow:
    id: int
    task_id: int | None
    operator_id: int | None  # None: for the supervisors
    rule_id: str
    text: str
    at: datetime
    seen: bool


def firing_row(f: Any) -> FiringRow:
    detail = f.detail or {}
    return FiringRow(id=f.id, rule_id=f.rule, task_id=f.task, occurrence=f.occurrence,
                     trigger=f.trigger, outcome=f.outcome, why=tuple(detail.get("why", ())),
                     at=f.at)


def firings_for(store: Any, task_id: int) -> list[FiringRow]:
    """Every rule that acted (or was checked and skipped) on the task, oldest first."""
    F = rule_models(store).Firing
    return [firing_row(f) for f in F.select().where(F.task == task_id).order_by(F.at, F.id)]


def notification_row(n: Any) -> NotificationRow:
    return NotificationRow(id=n.id, task_id=n.task, operator_id=n.operator, rule_id=n.rule,
                           text=n.text, at=n.at, seen=n.seen)


def notifications_for(store: Any, operator_id: int, *, unseen_only: bool = True,
                      limit: int = 100) -> list[NotificationRow]:
    """What the console shows this operator: theirs, plus the supervisors' if they are one."""
    N = rule_models(store).Notification
    operator = store.get_operator(operator_id)
    who = N.operator == operator_id
    if operator.role == "supervisor":
        who = who | N.operator.is_null()
    query = N.select().where(who)
    if unseen_only:
        query = query.where(N.seen == False)  # noqa: E712 (peewee expression)
    return [notification_row(n) for n in query.order_by(N.at.desc(), N.id.desc()).limit(limit)]


def mark_notifications_seen(store: Any, ids: list[int]) -> None:
    N = rule_models(store).Notification
    with store.transaction():
        N.update(seen=True).where(N.id.in_(ids)).execute()
