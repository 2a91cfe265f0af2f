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

import threading
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee as pw

from storage.models import JSONField, TimeField, utcnow

FIRED = "fired"
SKIPPED = "skipped"
FAILED = "failed"


@dataclass(frozen=True)
class RuleModels:
    Firing: type[pw.Model]
    Notification: type[pw.Model]


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


def _build(db: pw.Database) -> RuleModels:
    class Base(pw.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Firing(Base):
        rule = pw.CharField(max_length=100)
        task = pw.IntegerField(index=True)
        occurrence = pw.BigIntegerField()
        trigger = pw.CharField(max_length=40)
        outcome = pw.CharField(max_length=20)
        detail = JSONField(default=dict)
        at = TimeField(default=utcnow)

        class Meta:
            table_name = "automation_firing"
            indexes = ((("rule", "task", "occurrence"), True),)

    class Notification(Base):
        task = pw.IntegerField(null=True, index=True)
        operator = pw.IntegerField(null=True, index=True)
        rule = pw.CharField(max_length=100)
        text = pw.TextField()
        at = TimeField(default=utcnow)
        seen = pw.BooleanField(default=False)

        class Meta:
            table_name = "automation_notification"

    return RuleModels(Firing=Firing, Notification=Notification)


_models: weakref.WeakKeyDictionary[Any, RuleModels] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def rule_models(store: Any) -> RuleModels:
    """The automation tables bound to ``store``'s database, created on first use."""
    with _lock:
        found = _models.get(store)
        if found is None:
            found = _build(store.db)
            tables = [found.Firing, found.Notification]
            try:
                store.db.create_tables(tables, safe=True)
            except (pw.IntegrityError, pw.ProgrammingError, pw.OperationalError):
                # Another process created them at the same instant (PostgreSQL reports
                # the race on its catalog); they exist now.
                if store.postgres:
                    store.db.rollback()
                if not all(t.table_exists() for t in tables):
                    raise
            _models[store] = found
        return found


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
