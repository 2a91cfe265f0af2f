"""The evaluator: rules applied to store events and to due timers, each firing once.

:class:`Automation` is synchronous (it calls the store); the runner in
``connectors/automation.py`` calls it from a worker thread. ``clock`` is injected so
tests (and the dry run) can decide what "now" is.

Exactly once: a firing starts its transaction by inserting its row in
``automation_firing`` (unique on rule, task, occurrence), then re-reads the task,
re-checks the conditions and runs the actions. A second process doing the same
waits on that key and fails with an integrity error once the first commits — and
then does nothing. If the actions raise, everything rolls back and a ``failed`` row
is written on its own, so a broken rule is reported once rather than retried forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee as pw

from storage import events as ev
from storage.errors import NotFound, SwitchboardError
from storage.events import Event
from storage.i18n import _
from storage.models import INBOUND, OUTBOUND, utcnow
from storage.rows import TaskRow
from storage.rules.actions import perform
from storage.rules.conditions import Check, Facts, evaluate
from storage.rules.loader import RuleSet
from storage.rules.log import FAILED, FIRED, SKIPPED, FiringRow, firing_row, rule_models
from storage.rules.model import Rule
from storage.rules.triggers import TIMER_TRIGGERS, Due, load_times, next_slot, timer_due

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]



def trigger_label(kind: str) -> str:
    """An event trigger in words ("a client message arrives")."""
    return {
        "client_message": _("a client message arrives"),
        "operator_reply": _("an operator replies"),
        "task_created": _("a task is created"),
        "task_merged": _("tasks are merged into this one"),
    }[kind]


class _NotNow(Exception):
    """The conditions no longer hold inside the transaction: roll the claim back."""


@dataclass(frozen=True)
class Trigger:
    kind: str
    task_id: int
    occurrence: int
    why: str
    text: str | None = None  # the triggering message's text


class Automation:
    def __init__(self, store: Any, ruleset: RuleSet, clock: Clock = utcnow) -> None:
        self.store = store
        self.ruleset = ruleset
        self.clock = clock
        self.models = rule_models(store)

    # ---- events ---------------------------------------------------------------------------
    def trigger_of(self, event: Event) -> Trigger | None:
        """The rule trigger a store event is, if any (robot messages trigger nothing)."""
        if event.task_id is None:
            return None
        if event.kind == ev.MESSAGE_STORED and event.message_id is not None:
            kind = event.data.get("message_kind")
            if kind not in (INBOUND, OUTBOUND):
                return None
            try:
                msg = self.store.get_message(event.message_id)
            except NotFound:
                return None
            if kind == OUTBOUND and msg.author_operator_id is None:
                return None
            name = "client_message" if kind == INBOUND else "operator_reply"
            return Trigger(name, msg.task_id, msg.id, trigger_label(name), msg.text)
        if event.kind == ev.TASK_CREATED:
            return Trigger("task_created", event.task_id, 0, trigger_label("task_created"))
        if event.kind == ev.TASK_MERGED:
            sources = [int(s) for s in event.data.get("sources") or []]
            return Trigger("task_merged", event.task_id, max(sources, default=0),
                           trigger_label("task_merged"))
        return None

    def handle_event(self, event: Event) -> list[FiringRow]:
        trigger = self.trigger_of(event)
        if trigger is None:
            return []
        fired = []
        for rule in self.ruleset.enabled:
            if rule.when.kind == trigger.kind:
                row = self.fire(rule, trigger, timer=False)
                if row is not None:
                    fired.append(row)
        return fired

    # ---- timers ---------------------------------------------------------------------------
    def _timer_rules(self) -> list[Rule]:
        return [r for r in self.ruleset.enabled if r.when.kind in TIMER_TRIGGERS]

    def _dues(self, now: datetime, task_ids: list[int] | None = None
              ) -> list[tuple[Rule, int, Due]]:
        rules = self._timer_rules()
        if not rules:
            return []
        with_status = any(r.when.kind == "in_status" for r in rules)
        with_reply = with_status or any(r.when.kind == "no_client_answer" for r in rules)
        found = []
        for times in load_times(self.store, task_ids, with_status, with_reply):
            for rule in rules:
                due = timer_due(self.ruleset, rule, times, now)
                if due is not None:
                    found.append((rule, times.task_id, due))
        return found

    def _logged(self, keys: list[tuple[str, int, int]]) -> set[tuple[str, int, int]]:
        F = self.models.Firing
        seen: set[tuple[str, int, int]] = set()
        task_ids = sorted({k[1] for k in keys})
        for i in range(0, len(task_ids), 500):
            rows = F.select(F.rule, F.task, F.occurrence).where(
                F.task.in_(task_ids[i:i + 500])).tuples()
            seen.update((r, t, o) for r, t, o in rows)
        return seen & set(keys)

    def run_due(self) -> list[FiringRow]:
        """Fire every timer that is due now and has not fired (or been skipped) yet."""
        return self.tick()[0]

    def next_due(self) -> datetime | None:
        """The earliest future due time of any timer (from stored times), or None."""
        now = self.clock()
        return self._next([d for _rule, _task, d in self._dues(now)], now)

    def tick(self) -> tuple[list[FiringRow], datetime | None]:
        """One scan of the stored times: fire what is due, and say when to look again.

        A firing that starts a new timer (a status set, a reply) publishes an event,
        which wakes the runner for another scan."""
        now = self.clock()
        dues = self._dues(now)
        due = [(rule, task_id, d) for rule, task_id, d in dues if d.due <= now]
        logged = self._logged([(r.id, t, d.occurrence) for r, t, d in due])
        fired = []
        for rule, task_id, d in due:
            if (rule.id, task_id, d.occurrence) in logged:
                continue
            row = self.fire(rule, Trigger(rule.when.kind, task_id, d.occurrence, d.why),
                            timer=True)
            if row is not None:
                fired.append(row)
        return fired, self._next([d for _rule, _task, d in dues], now)

    def _next(self, dues: list[Due], now: datetime) -> datetime | None:
        times = [d.due for d in dues if d.due > now]
        for rule in self._timer_rules():
            if rule.when.kind == "schedule":
                slot = next_slot(self.ruleset, rule, now)
                if slot is not None:
                    times.append(slot)
        return min(times, default=None)

    # ---- firing ---------------------------------------------------------------------------
    def facts(self, task: TaskRow, text: str | None) -> Facts:
        M = self.store.m.Message
        last = (M.select(M.kind, M.author_operator, M.text)
                .where((M.task == task.id) & M.kind.in_((INBOUND, OUTBOUND)))
                .order_by(M.created_at.desc(), M.id.desc()).first())
        writer = "robot"
        if last is not None:
            writer = ("client" if last.kind == INBOUND else
                      "operator" if last.author_operator_id is not None else "robot")
        if text is None:
            client = (M.select(M.text).where((M.task == task.id) & (M.kind == INBOUND))
                      .order_by(M.created_at.desc(), M.id.desc()).first())
            text = client.text if client is not None else ""
        return Facts(task=task, now=self.clock(), text=text, last_writer=writer)

    def check(self, rule: Rule, task: TaskRow, text: str | None) -> list[Check]:
        return evaluate(rule.if_, self.facts(task, text), self.ruleset.schedules)

    def fire(self, rule: Rule, trigger: Trigger, *, timer: bool) -> FiringRow | None:
        """Claim (rule, task, occurrence) and act; None when another process did, or when
        an event's conditions do not hold."""
        if not timer:  # cheap pre-check outside the write lock: most events match nothing
            try:
                task = self.store.get_task(trigger.task_id)
            except NotFound:
                return None
            if not all(c.ok for c in self.check(rule, task, trigger.text)):
                return None
        F = self.models.Firing
        try:
            with self.store.transaction() as tx:
                row = F.create(rule=rule.id, task=trigger.task_id, occurrence=trigger.occurrence,
                               trigger=trigger.kind, outcome=FIRED, at=self.clock())
                task = self.store.get_task(trigger.task_id)
                checks = self.check(rule, task, trigger.text)
                why = [trigger.why, *(c.why for c in checks)]
                if not task.active or task.merged_into_id is not None:
                    why.append(_("the task is closed"))
                    checks.append(Check("active", False, why[-1]))
                if not all(c.ok for c in checks):
                    if not timer:
                        raise _NotNow
                    row.outcome, row.detail = SKIPPED, {"why": why}
                    row.save()
                    return firing_row(row)
                done = [perform(self.store, self.models, tx, rule, action, task)
                        for action in rule.then]
                row.detail = {"why": why, "done": done}
                row.save()
                self._record(tx, rule, trigger, why, done)
            return firing_row(row)
        except (_NotNow, pw.IntegrityError):
            return None
        except (SwitchboardError, pw.DatabaseError, ValueError) as err:
            log.warning("rule %s failed on task %s: %s", rule.id, trigger.task_id, err)
            return self._failed(rule, trigger, str(err))

    def _record(self, tx: Any, rule: Rule, trigger: Trigger, why: list[str],
                done: list[str]) -> None:
        """The audit entry and the thread's system event: which rule acted, and why."""
        self.store._audit(trigger.task_id, None, "rule_fired", rule=rule.id, name=rule.title,
                          trigger=trigger.kind, occurrence=trigger.occurrence, why=why, done=done)
        task = self.store.m.Task.get_by_id(trigger.task_id)
        self.store._system_event(
            tx, task, "rule", _("Rule {rule!r} acted: {done}. Why: {why}.").format(
                rule=rule.title, done="; ".join(done), why="; ".join(why)), rule=rule.id)

    def _failed(self, rule: Rule, trigger: Trigger, reason: str) -> FiringRow | None:
        F = self.models.Firing
        try:
            with self.store.transaction():
                row = F.create(rule=rule.id, task=trigger.task_id, occurrence=trigger.occurrence,
                               trigger=trigger.kind, outcome=FAILED, at=self.clock(),
                               detail={"why": [trigger.why, reason]})
                self.store._audit(trigger.task_id, None, "rule_failed", rule=rule.id,
                                  name=rule.title, reason=reason)
            return firing_row(row)
        except pw.IntegrityError:
            return None
