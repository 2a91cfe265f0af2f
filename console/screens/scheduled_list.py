"""Scheduled replies not yet sent: Enter opens the task, ``c`` cancels the highlighted one.

The list is loaded by the screen; cancelling goes through ``on_cancel`` (the screen's
store call), and the row leaves the list once the store accepted it.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.screens.dialog import Dialog
from console.time_input import app_zone, when_text
from storage.i18n import _
from storage.rows import MessageRow
from widgets.safe_text import one_line

TEXT_CELLS = 56


class ScheduledListDialog(Dialog[int | None]):
    """Dismisses with the task id to open, or None."""

    BINDINGS = [Binding("c,delete", "cancel_reply", _("Cancel reply"),
                        id="scheduled.cancel_reply",
                        tooltip=_("Cancel the highlighted scheduled reply."))]

    def __init__(self, rows: list[MessageRow],
                 on_cancel: Callable[[MessageRow, Callable[[], None]], None]) -> None:
        super().__init__()
        self.rows = list(rows)
        self.on_cancel = on_cancel

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="scheduled") as box:
            box.border_title = _("Scheduled replies")
            box.border_subtitle = _("Enter opens · c cancels the reply · Esc closes")
            yield Static(_("No scheduled replies.") if not self.rows else "",
                         id="scheduled-empty", classes="dialog-hint")
            yield OptionList(*self._options(), id="scheduled-list")

    def _options(self) -> list[Option]:
        zone = app_zone(self.app)
        return [Option(Text(f"{when_text(m.scheduled_at, zone) if m.scheduled_at else '?'}  "
                            f"{one_line(m.text, TEXT_CELLS)}"), id=str(m.id))
                for m in self.rows]

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def _highlighted(self) -> MessageRow | None:
        index = self.query_one(OptionList).highlighted
        return self.rows[index] if index is not None and index < len(self.rows) else None

    def action_cancel_reply(self) -> None:
        row = self._highlighted()
        if row is None:
            return

        def cancelled() -> None:
            self.rows = [m for m in self.rows if m.id != row.id]
            options = self.query_one(OptionList)
            options.clear_options()
            options.add_options(self._options())
            if not self.rows:
                self.query_one("#scheduled-empty", Static).update(_("No scheduled replies."))

        self.on_cancel(row, cancelled)

    @on(OptionList.OptionSelected, "#scheduled-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        row = next(m for m in self.rows if str(m.id) == event.option.id)
        self.dismiss(row.task_id)
