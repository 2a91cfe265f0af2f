"""Notifications the rules addressed to this operator (or to the supervisors).

Shown newest first; opening the dialog marks them seen (the screen does it in a worker
when the dialog closes). Enter on one opens its task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.screens.dialog import Dialog
from console.time_input import app_zone, when_text
from storage.i18n import _
from widgets.safe_text import one_line

if TYPE_CHECKING:  # the rules package (pydantic models) is not needed for the first frame
    from storage.rules import NotificationRow

TEXT_CELLS = 70


class NotificationsDialog(Dialog[int | None]):
    """Dismisses with the task id to open, or None."""

    def __init__(self, rows: list[NotificationRow]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        zone = app_zone(self.app)
        with Vertical(classes="dialog", id="notifications") as box:
            box.border_title = _("Notifications")
            box.border_subtitle = _("Enter opens the task · Esc closes")
            if not self.rows:
                yield Static(_("No new notifications."), classes="dialog-info")
            yield OptionList(*[Option(Text(f"{when_text(n.at, zone)}  "
                                           f"{one_line(n.text, TEXT_CELLS)}"), id=str(n.id))
                               for n in self.rows], id="notification-list")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected, "#notification-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        row = next(n for n in self.rows if str(n.id) == event.option.id)
        self.dismiss(row.task_id)
