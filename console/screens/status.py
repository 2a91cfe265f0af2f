"""Change the status of the marked tasks (or the highlighted one)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.screens.dialog import Dialog
from storage.i18n import _, ngettext
from storage.models import STATUSES
from storage.ops_tasks import STATUS_LABELS


class StatusDialog(Dialog[str | None]):
    def __init__(self, count: int, current: str | None = None) -> None:
        super().__init__()
        self.count = count
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = ngettext("Status of {n} task", "Status of {n} tasks",
                                        self.count).format(n=self.count)
            box.border_subtitle = _("Enter sets · Esc cancels")
            yield OptionList(*[Option(_(STATUS_LABELS[s]), id=s) for s in STATUSES],
                             id="status-list")
            yield Static(_("Completed and cancelled tasks stop receiving the client's messages; "
                           "the next message opens a new task."), classes="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if self.current in STATUSES:
            options.highlighted = STATUSES.index(self.current)
        options.focus()

    @on(OptionList.OptionSelected, "#status-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
