"""Actions: what a rule does to a task, through the store's own operations.

They run inside the firing's transaction (the store's transactions nest), so either
every action of a rule and its firing-log row commit together, or nothing does. The
robot is operator ``None``. A robot reply is queued to the client like any reply, but
it is not the task's first reply and does not move its status: an out-of-hours
auto-reply must not stop "not taken within 30 minutes" nor hide the task as
"waiting for the client".
"""

from __future__ import annotations

from typing import Any

import peewee as pw

from storage import events as ev
from storage.availability import availability
from storage.errors import RuleViolation
from storage.i18n import _
from storage.models import COMPLETED, INACTIVE_STATUSES, OPERATOR
from storage.rows import TaskRow
from storage.rules.log import RuleModels
from storage.rules.model import Action, CompeteSpec, CompleteSpec, ReplySpec, Rule
from storage.templates import expand
from storage.text import fold


def perform(store: Any, models: RuleModels, tx: Any, rule: Rule, action: Action,
            task: TaskRow) -> str:
    """Do one action; returns what was done, for the log and the thread."""
    kind = action.kind
    if kind == "reply":
        assert action.reply is not None
        text, label = _text_of(store, action.reply, task)
        _robot_reply(store, task.id, text, rule)
        return _("sent {what} to the client").format(what=label)
    if kind == "note":
        assert action.note is not None
        store.note(task.id, None, expand(action.note, store.template_context(task.id, None)))
        return _("added a private note")
    if kind == "set_status":
        assert action.set_status is not None
        store.set_status([task.id], action.set_status, None)
        return _("set the status to {status}").format(status=action.set_status)
    if kind == "assign":
        assert action.assign is not None
        operator = store.operator_by_name(action.assign)
        if operator is None:
            raise RuleViolation(_("No operator is named {name!r}.").format(name=action.assign))
        store.assign([task.id], operator.id, None)
        return _("assigned to {name}").format(name=operator.name)
    if kind == "unassign":
        store.assign([task.id], None, None)
        return _("unassigned")
    if kind == "assign_competitively":
        assert action.assign_competitively is not None
        operator_id, name = least_busy(store, action.assign_competitively)
        store.assign([task.id], operator_id, None)
        return _("assigned to {name}, the available operator with the fewest open tasks"
                 ).format(name=name)
    if kind == "notify":
        assert action.notify is not None
        return _notify(store, models, tx, rule, action, task)
    if kind == "complete":
        assert action.complete is not None
        return _complete(store, action.complete, task, rule)
    raise RuleViolation(_("Unknown action {kind!r}.").format(kind=kind))


def _text_of(store: Any, spec: ReplySpec | CompleteSpec, task: TaskRow) -> tuple[str, str]:
    """The text to send and how to name it: the quick reply by title, else the given text."""
    if spec.quick_reply:
        reply_id = find_quick_reply(store, spec.quick_reply, task)
        if reply_id is not None:
            return (store.expand_quick_reply(reply_id, task.id, None),
                    _("the quick reply {title!r}").format(title=spec.quick_reply))
        if not spec.text:
            raise RuleViolation(_("No quick reply is titled {title!r}.").format(
                title=spec.quick_reply))
    assert spec.text is not None
    return expand(spec.text, store.template_context(task.id, None)), _("a message")


def find_quick_reply(store: Any, title: str, task: TaskRow) -> int | None:
    """The quick reply with this title, in the task's language when there is one."""
    wanted = fold(title.strip())
    found = [q for q in store.search_quick_replies(title) if fold(q.title.strip()) == wanted]
    if not found:
        return None
    language = str(task.additional_data.get("language") or "")
    for q in found:
        if language and q.language == language:
            return int(q.id)
    return int(found[0].id)


def _robot_reply(store: Any, task_id: int, text: str, rule: Rule) -> None:
    T = store.m.Task
    before = T.get_by_id(task_id)
    status, first_reply = before.status, before.first_reply_at
    store.reply(task_id, None, text, meta={"rule": rule.id})
    T.update(status=status, first_reply_at=first_reply).where(T.id == task_id).execute()


def _complete(store: Any, spec: CompleteSpec, task: TaskRow, rule: Rule) -> str:
    said = ""
    if spec.quick_reply or spec.text:
        text, label = _text_of(store, ReplySpec(quick_reply=spec.quick_reply, text=spec.text),
                               task)
        store.reply(task.id, None, text, meta={"rule": rule.id})
        said = label
    store.set_status([task.id], COMPLETED, None)
    if said:
        return _("completed the task after sending {what}").format(what=said)
    return _("completed the task")


def least_busy(store: Any, spec: CompeteSpec) -> tuple[int, str]:
    """The available operator with the fewest open tasks, under their own limit of open
    tasks (:mod:`storage.availability`); ties go to the earliest created."""
    m = store.m
    Op, T = m.Operator, m.Task
    if spec.among:
        wanted = {fold(n) for n in spec.among}
        candidates = [o for o in Op.select().order_by(Op.id) if fold(o.name) in wanted]
    else:
        candidates = list(Op.select().where(Op.role == OPERATOR).order_by(Op.id))
    marks = availability(store)
    counts = dict(T.select(T.assignee, pw.fn.COUNT(T.id))
                  .where(T.status.not_in(INACTIVE_STATUSES)
                         & T.assignee.in_([o.id for o in candidates] or [0]))
                  .group_by(T.assignee).tuples())
    open_ = [o for o in candidates if o.id in marks and marks[o.id].available and (
        marks[o.id].max_open is None or counts.get(o.id, 0) < marks[o.id].max_open)]
    if not open_:
        raise RuleViolation(_("No available operator can take the task."))
    best = min(open_, key=lambda o: (counts.get(o.id, 0), o.id))
    return best.id, best.name


def _notify(store: Any, models: RuleModels, tx: Any, rule: Rule, action: Action,
            task: TaskRow) -> str:
    spec = action.notify
    assert spec is not None
    text = (expand(spec.text, store.template_context(task.id, None)) if spec.text else
            _("Rule {rule!r}: task #{number} needs attention.").format(rule=rule.title,
                                                                        number=task.number))
    targets: list[int | None] = []
    if spec.supervisors:
        targets.append(None)
    if spec.operator:
        operator = store.operator_by_name(spec.operator)
        if operator is None:
            raise RuleViolation(_("No operator is named {name!r}.").format(name=spec.operator))
        targets.append(operator.id)
    for target in targets:
        note = models.Notification.create(task=task.id, operator=target, rule=rule.id, text=text)
        tx.emit(ev.TASK_UPDATED, task_id=task.id, notification=note.id)
    if spec.operator and spec.supervisors:
        return _("notified the supervisors and {name}").format(name=spec.operator)
    if spec.operator:
        return _("notified {name}").format(name=spec.operator)
    return _("notified the supervisors")
