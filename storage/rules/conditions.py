"""Conditions: each one checked against a task at an instant, with its reason.

Every check returns a :class:`Check` — what was asked, whether it held, and why — so
the dry run and the task's history can say exactly why a rule did or did not act.
Text and data comparisons fold case (and ё = е).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.i18n import _
from storage.rows import TaskRow
from storage.rules.model import Conditions, DataTest
from storage.text import fold
from storage.working_hours import Schedule


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    why: str


@dataclass(frozen=True)
class Facts:
    """What conditions look at besides the task row."""

    task: TaskRow
    now: datetime
    text: str  # the triggering message's text, or the client's last message
    last_writer: str  # client | operator | robot


def evaluate(conditions: Conditions, facts: Facts,
             schedules: dict[str, Schedule]) -> list[Check]:
    """Every condition of the rule, in a fixed order; the rule acts when all are ok."""
    checks: list[Check] = []
    task = facts.task
    if conditions.channel is not None:
        ok = any(fold(c) in (fold(task.channel_kind), fold(task.channel_name))
                 for c in conditions.channel)
        checks.append(Check("channel", ok, _("channel is {value} (wanted {wanted})").format(
            value=task.channel_name or "-", wanted=", ".join(conditions.channel))))
    if conditions.status is not None:
        ok = task.status in conditions.status
        checks.append(Check("status", ok, _("status is {value} (wanted {wanted})").format(
            value=task.status, wanted=", ".join(conditions.status))))
    if conditions.assignee is not None:
        checks.append(_assignee(conditions.assignee, task))
    if conditions.text_contains is not None:
        haystack = fold(facts.text)
        hit = next((w for w in conditions.text_contains if fold(w) in haystack), None)
        wanted = ", ".join(conditions.text_contains)
        checks.append(Check("text_contains", hit is not None,
                            _("the text contains {word!r}").format(word=hit) if hit is not None
                            else _("the text contains none of: {wanted}").format(wanted=wanted)))
    if conditions.working_hours is not None:
        schedule = schedules[conditions.working_hours]
        checks.append(Check("working_hours", schedule.is_open(facts.now),
                            schedule.describe(facts.now)))
    if conditions.outside_working_hours is not None:
        schedule = schedules[conditions.outside_working_hours]
        checks.append(Check("outside_working_hours", not schedule.is_open(facts.now),
                            schedule.describe(facts.now)))
    if conditions.last_writer is not None:
        ok = facts.last_writer in conditions.last_writer
        checks.append(Check("last_writer", ok, _("the last to write was the {who} (wanted {wanted})"
                                                 ).format(who=facts.last_writer,
                                                          wanted=", ".join(conditions.last_writer))))
    for key, test in (conditions.data or {}).items():
        checks.append(_data(key, test, task.additional_data))
    return checks


def _assignee(wanted: list[str], task: TaskRow) -> Check:
    names = {fold(w) for w in wanted}
    if task.assignee_id is None:
        ok = "none" in names
        value = _("nobody")
    else:
        ok = "any" in names or fold(task.assignee_name) in names
        value = task.assignee_name
    return Check("assignee", ok, _("assigned to {value} (wanted {wanted})").format(
        value=value, wanted=", ".join(wanted)))


def _data(key: str, test: DataTest, data: dict[str, Any]) -> Check:
    name = f"data.{key}"
    present = key in data and data[key] not in (None, "")
    value = str(data.get(key, "")) if present else ""
    if test.exists is not None and present != test.exists:
        why = (_("additional data {key} is {value!r}").format(key=key, value=value) if present
               else _("additional data has no {key}").format(key=key))
        return Check(name, False, why)
    if test.equals is not None:
        options = [test.equals] if isinstance(test.equals, str) else test.equals
        ok = present and fold(value) in {fold(o) for o in options}
        return Check(name, ok, _("additional data {key} is {value!r} (wanted {wanted})").format(
            key=key, value=value, wanted=" | ".join(options)) if present
            else _("additional data has no {key}").format(key=key))
    if test.contains is not None:
        ok = present and fold(test.contains) in fold(value)
        return Check(name, ok, _("additional data {key} is {value!r} (wanted it to contain "
                                 "{wanted!r})").format(key=key, value=value, wanted=test.contains)
                     if present else _("additional data has no {key}").format(key=key))
    return Check(name, True, _("additional data {key} is {value!r}").format(key=key, value=value)
                 if present else _("additional data has no {key}").format(key=key))
