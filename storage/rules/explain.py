"""The dry run: which rules would act on a task now, and why or why not.

Nothing is written. For an event trigger the question is "if that event happened now"
(the text conditions read the client's last message); for a timer it is "is it due
now, and has it already acted for this occurrence". ``switchboard rules test TASK``
prints :func:`explain_lines`; the console can show the same lines from the task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.i18n import _
from storage.rows import TaskRow
from storage.rules.conditions import Check
from storage.rules.engine import Automation, trigger_label
from storage.rules.log import FiringRow, firings_for
from storage.rules.model import Rule
from storage.rules.triggers import TIMER_TRIGGERS, TaskTimes, load_times, stamp, timer_due


@dataclass(frozen=True)
class Explanation:
    rule_id: str
    title: str
    enabled: bool
    trigger_ok: bool
    trigger_why: str
    checks: tuple[Check, ...]
    already: FiringRow | None
    would_fire: bool


def explain(automation: Automation, task_id: int) -> list[Explanation]:
    """One explanation per rule of the file (disabled ones too), in file order."""
    store = automation.store
    task = store.get_task(task_id)
    now = automation.clock()
    history = {(f.rule_id, f.occurrence): f for f in firings_for(store, task_id)}
    times = load_times(store, [task_id])
    result = []
    for rule in automation.ruleset.rules:
        trigger_ok, why, occurrence = _trigger(automation, rule, task, times, now)
        checks = tuple(automation.check(rule, task, None))
        if not task.active:
            checks += (Check("active", False, _("the task is closed")),)
        already = history.get((rule.id, occurrence)) if occurrence is not None else None
        would = (rule.enabled and trigger_ok and already is None and all(c.ok for c in checks))
        result.append(Explanation(rule.id, rule.title, rule.enabled, trigger_ok, why, checks,
                                  already, would))
    return result


def _trigger(automation: Automation, rule: Rule, task: TaskRow, times: list[TaskTimes],
             now: datetime) -> tuple[bool, str, int | None]:
    kind = rule.when.kind
    if kind not in TIMER_TRIGGERS:
        return True, _("if {event} now").format(event=trigger_label(kind)), None
    if not times:
        return False, _("timers do not run on a closed or merged task"), None
    due = timer_due(automation.ruleset, rule, times[0], now)
    if due is None:
        return False, _("the timer {kind} does not apply to this task now").format(kind=kind), None
    if due.due > now:
        return False, _("{why}: due at {time}").format(why=due.why, time=stamp(due.due)), \
            due.occurrence
    return True, _("{why}: due since {time}").format(why=due.why, time=stamp(due.due)), \
        due.occurrence


def explain_lines(explanations: list[Explanation]) -> list[str]:
    """Plain text, one block per rule (client text inside is never markup here)."""
    lines: list[str] = []
    for e in explanations:
        if not e.enabled:
            verdict = _("disabled")
        elif e.already is not None:
            verdict = _("already {outcome} at {time}").format(outcome=e.already.outcome,
                                                               time=stamp(e.already.at))
        elif e.would_fire:
            verdict = _("WOULD ACT")
        else:
            verdict = _("would not act")
        lines.append(f"{e.title} [{e.rule_id}]: {verdict}")
        lines.append("  " + ("+ " if e.trigger_ok else "- ") + _("trigger: {why}").format(
            why=e.trigger_why))
        for c in e.checks:
            lines.append("  " + ("+ " if c.ok else "- ") + f"{c.name}: {c.why}")
    return lines


def history_lines(firings: list[FiringRow], rule_titles: dict[str, str]) -> list[str]:
    """Which rules acted on the task and why (the firing log), oldest first."""
    lines = []
    for f in firings:
        title = rule_titles.get(f.rule_id, f.rule_id)
        lines.append(f"{stamp(f.at)} {title} [{f.rule_id}]: {f.outcome}")
        lines.extend("  " + why for why in f.why)
    return lines
