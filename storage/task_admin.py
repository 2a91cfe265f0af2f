"""Task housekeeping: assignment, status, reading, editing; operators and channels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from storage import events as ev
from storage.constants import STATUS_LABELS  # also imported from here by older code
from storage.convert import channel_row, operator_row
from storage.errors import ReadOnly, RuleViolation
from storage.i18n import _
from storage.models import IN_PROGRESS, INACTIVE_STATUSES, NEW, ROLES, STATUSES, Models
from storage.rows import ChannelRow, OperatorRow
from storage.task_update import bound_key

EDITABLE_FIELDS = ("title", "description")

if TYPE_CHECKING:
    from storage.core import StoreCore


class Tasks:
    def __init__(self, core: StoreCore) -> None:
        self.core = core
        self.m: Models = core.m

    def ensure_operator(self, name: str, role: str = "operator") -> OperatorRow:
        if role not in ROLES:
            raise RuleViolation(_("Unknown role {role!r}: use operator or supervisor.").format(role=role))
        with self.core.transaction():
            op, _created = self.m.Operator.get_or_create(name=name, defaults={"role": role})
            if op.role != role:
                op.role = role
                op.save()
        return operator_row(op)

    def ensure_channel(self, kind: str, name: str, settings: dict[str, Any] | None = None) -> ChannelRow:
        """Create the channel or update its kind and settings (from the config file)."""
        with self.core.transaction():
            ch = self.m.Channel.get_or_none(self.m.Channel.name == name)
            if ch is None:
                ch = self.m.Channel.create(kind=kind, name=name, settings=settings or {})
            elif ch.kind != kind or (settings is not None and ch.settings != settings):
                if ch.kind != kind and self.m.Task.select().where(self.m.Task.channel == ch.id).exists():
                    raise RuleViolation(_("Channel {name!r} already has tasks as a {old} channel; "
                                          "it cannot become {new}.").format(name=name, old=ch.kind, new=kind))
                ch.kind = kind
                if settings is not None:
                    ch.settings = settings
                ch.save()
        return channel_row(ch)

    def assign(self, task_ids: list[int], operator_id: int | None, by: int | None = None) -> None:
        """Assign tasks (None: unassign). A new task that is taken goes to "in progress"."""
        with self.core.transaction() as tx:
            self.core._operator(operator_id)
            for task_id in task_ids:
                task = self.core._task(task_id)
                if task.assignee_id == operator_id:
                    continue
                task.assignee = operator_id
                if operator_id is not None and task.status == NEW:
                    task.status = IN_PROGRESS
                task.save()
                name = self.m.Operator.get_by_id(operator_id).name if operator_id else _("nobody")
                self.core._system_event(tx, task, "assigned", _("Assigned to {name}.").format(name=name),
                                   operator=operator_id)
                self.core._audit(task.id, by, "assigned", to=operator_id)
                tx.emit(ev.TASK_UPDATED, task_id=task.id, assignee=operator_id)

    def take_over(self, task_id: int, operator_id: int) -> None:
        """A supervisor (or operator) takes the task: it becomes theirs."""
        self.assign([task_id], operator_id, by=operator_id)

    def set_status(self, task_ids: list[int], status: str, by: int | None = None) -> None:
        if status not in STATUSES:
            raise RuleViolation(_("Unknown status {status!r}.").format(status=status))
        with self.core.transaction() as tx:
            for task_id in task_ids:
                task = self.core._task(task_id)
                if task.status == status:
                    continue
                if task.merged_into_id is not None:
                    raise RuleViolation(_("Task #{number} was merged and stays closed.").format(
                        number=task.number))
                if status in INACTIVE_STATUSES:
                    task.bound_key = None
                elif task.channel_id is not None and task.bound_key is None:
                    key = bound_key(task.channel_id, task.chat_id or "")
                    other = self.m.Task.get_or_none(self.m.Task.bound_key == key)
                    if other is not None:
                        raise RuleViolation(_(
                            "Task #{other} is already the active conversation with this client in "
                            "this channel; task #{number} cannot be reopened.").format(
                                other=other.number, number=task.number))
                    task.bound_key = key
                old = task.status
                task.status = status
                task.save()
                self.core._system_event(tx, task, "status", _("Status: {status}.").format(
                    status=_(STATUS_LABELS[status])), old=old, new=status)
                self.core._audit(task.id, by, "status", old=old, new=status)
                tx.emit(ev.TASK_UPDATED, task_id=task.id, status=status)

    def mark_read(self, task_id: int) -> None:
        """The operator saw the task: its unread count goes to 0. Cheap enough to call on
        every message that arrives in the open task (one UPDATE; no event when it was 0)."""
        T = self.m.Task
        with self.core.transaction() as tx:
            if T.update(unread_count=0).where((T.id == task_id) & (T.unread_count > 0)).execute():
                tx.emit(ev.TASK_UPDATED, task_id=task_id, read=True)

    def update_task(self, task_id: int, by: int | None = None, **fields: Any) -> None:
        """Edit a task's title or description. Additional description data is system data:
        no operator operation may edit it."""
        if "additional_data" in fields:
            raise ReadOnly(_("Additional description data is filled by the channel and cannot be "
                             "edited."))
        unknown = set(fields) - set(EDITABLE_FIELDS)
        if unknown:
            raise RuleViolation(_("These task fields cannot be edited: {fields}.").format(
                fields=", ".join(sorted(unknown))))
        with self.core.transaction() as tx:
            task = self.core._task(task_id)
            for name, value in fields.items():
                setattr(task, name, value)
            task.save()
            self.core._audit(task.id, by, "edited", fields=sorted(fields))
            tx.emit(ev.TASK_UPDATED, task_id=task.id)
