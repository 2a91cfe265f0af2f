"""Change the status of the marked tasks (or the open one, or the highlighted one).

The dialog names the tasks (numbers and clients) and says when they are the marked
ones, so the operator sees what the change will act on."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.screens.dialog import Dialog, task_named, tasks_named
from storage.constants import STATUS_LABELS, STATUSES
from storage.i18n import _, ngettext
from storage.rows import TaskRow


class StatusDialog(Dialog[str | None]):
    def __init__(self, tasks: list[TaskRow], marked: bool = False) -> None:
        super().__init__()
        self.tasks = tasks
        self.marked = marked
        self.current = tasks[0].status if len(tasks) == 1 else None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = self.title_text()
            box.border_subtitle = _("Enter sets · Esc cancels")
            yield Static(Text(tasks_named(self.tasks)), id="dialog-tasks", classes="dialog-hint")
            yield OptionList(*[Option(_(STATUS_LABELS[s]), id=s) for s in STATUSES],
                             id="status-list")
            yield Static(_("Completed and cancelled tasks stop receiving the client's messages; "
                           "the next message opens a new task."), classes="dialog-hint")

    def title_text(self) -> str:
        n = len(self.tasks)
        if n == 1 and not self.marked:
            return _("Status of task {task}").format(task=task_named(self.tasks[0]))
        if self.marked:
            return ngettext("Status of {n} marked task", "Status of {n} marked tasks",
                            n).format(n=n)
        return ngettext("Status of {n} task", "Status of {n} tasks", n).format(n=n)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if self.current in STATUSES:
            options.highlighted = STATUSES.index(self.current)
        options.focus()

    @on(OptionList.OptionSelected, "#status-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

