"""Assign the marked tasks (or the open one, or the highlighted one) to an operator,
or to nobody. The dialog names the tasks and says when they are the marked ones."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.screens.dialog import Dialog, task_named, tasks_named
from storage.i18n import _, ngettext
from storage.rows import OperatorRow, TaskRow
from widgets.safe_text import clean

NOBODY = "nobody"


@dataclass(frozen=True)
class AssignChoice:
    """The dialog's answer: ``operator_id`` None means "unassign"."""

    operator_id: int | None


class AssignDialog(Dialog[AssignChoice | None]):
    def __init__(self, operators: list[OperatorRow], tasks: list[TaskRow],
                 marked: bool = False) -> None:
        super().__init__()
        self.operators = operators
        self.tasks = tasks
        self.marked = marked

    def title_text(self) -> str:
        n = len(self.tasks)
        if n == 1 and not self.marked:
            return _("Assign task {task}").format(task=task_named(self.tasks[0]))
        if self.marked:
            return ngettext("Assign {n} marked task", "Assign {n} marked tasks", n).format(n=n)
        return ngettext("Assign {n} task", "Assign {n} tasks", n).format(n=n)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = self.title_text()
            box.border_subtitle = _("Enter assigns · Esc cancels")
            yield Static(Text(tasks_named(self.tasks)), id="dialog-tasks", classes="dialog-hint")
            options = [Option(Text(clean(o.name) + (f"  ({_(o.role)})" if o.role != "operator"
                                                     else "")), id=str(o.id))
                       for o in self.operators]
            options.append(Option(_("Nobody (unassign)"), id=NOBODY))
            yield OptionList(*options, id="assign-list")
            yield Static(_("Choose who works on them."), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected, "#assign-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        value = event.option.id
        self.dismiss(AssignChoice(None if value == NOBODY else int(value or 0)))
