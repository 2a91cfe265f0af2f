"""Taking a task: exactly one of many operators taking it at the same moment wins.

The take is one conditional ``UPDATE … WHERE assignee IS NULL``: the database, not
the caller, decides who was first. On PostgreSQL a second concurrent UPDATE waits
for the first one's row lock and then re-checks the condition against the committed
row (READ COMMITTED), so it changes nothing; on SQLite the store's transactions take
the write lock at BEGIN, so takers run one after another and only the first finds
the task unassigned. The loser is told who won (the winner's id and name), which is
what the console and ``switchboard task take`` show.

A won take is recorded like an assignment: the task becomes the operator's, a new
task goes to "in progress", an inline system event and an audit entry are written,
and ``task.updated`` is published after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import peewee as pw

from storage import events as ev
from storage.errors import NotFound, RuleViolation
from storage.i18n import _
from storage.models import IN_PROGRESS, NEW

if TYPE_CHECKING:
    from storage.store import Store


@dataclass(frozen=True)
class TakeResult:
    """``won``: the task is now (or already was) the taker's. Otherwise ``winner_id`` and
    ``winner_name`` name the operator who has it. ``changed``: this call assigned it."""

    won: bool
    winner_id: int
    winner_name: str
    task_number: int
    changed: bool = False

    def message(self) -> str:
        """One line for a person: what happened."""
        if self.won:
            return (_("You took task #{number}.") if self.changed else
                    _("Task #{number} is already yours.")).format(number=self.task_number)
        return _("{name} took task #{number} first.").format(
            name=self.winner_name, number=self.task_number)


def take(store: Store, task_id: int, operator_id: int) -> TakeResult:
    """Make the unassigned task ``task_id`` the operator's, unless someone else has it."""
    m = store.m
    T = m.Task
    with store.transaction() as tx:
        operator = m.Operator.get_or_none(m.Operator.id == operator_id)
        if operator is None:
            raise NotFound(_("Operator {id} does not exist.").format(id=operator_id))
        status = pw.Case(None, [(T.status == NEW, IN_PROGRESS)], T.status)
        won = (T.update(assignee=operator_id, status=status)
               .where((T.id == task_id) & T.assignee.is_null() & T.merged_into.is_null())
               .execute())
        task = T.get_or_none(T.id == task_id)
        if task is None:
            raise NotFound(_("Task {id} does not exist.").format(id=task_id))
        number = task.number or task.id
        if won:
            store._system_event(tx, task, "assigned",
                                _("Assigned to {name}.").format(name=operator.name),
                                operator=operator_id)
            store._audit(task.id, operator_id, "taken", to=operator_id)
            tx.emit(ev.TASK_UPDATED, task_id=task.id, assignee=operator_id)
            return TakeResult(True, operator_id, operator.name, number, changed=True)
        if task.merged_into_id is not None:
            raise RuleViolation(_("Task #{number} was merged into #{target}; take that one.").format(
                number=number, target=task.merged_into_id))
        winner = m.Operator.get_by_id(task.assignee_id)
        return TakeResult(task.assignee_id == operator_id, winner.id, winner.name, number)
