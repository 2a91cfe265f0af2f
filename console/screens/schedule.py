"""Asking for a moment: "send at" for a scheduled reply, "snooze until" for a task.

One line of input read by :func:`console.time_input.parse_when` in the app's zone
(``09:00``, ``tomorrow 09:00``, ``2026-12-02 09:00``, ``+2h``); a wrong time is explained
under the input and the dialog stays. The snooze dialog also accepts an empty line:
until the client writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from console.screens.dialog import Dialog
from console.time_input import TimeInputError, app_zone, parse_when, when_text
from storage.i18n import _


class WhenDialog(Dialog[datetime | None]):
    """Dismisses with the UTC moment typed, or None when cancelled."""

    allow_empty = False

    def __init__(self, title: str, hint: str) -> None:
        super().__init__()
        self.title_text = title
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="when") as box:
            box.border_title = self.title_text
            box.border_subtitle = _("Enter accepts · Esc cancels")
            yield Static(self.hint, classes="dialog-hint", markup=False)
            yield Input(placeholder=_("tomorrow 09:00"), id="when-input")
            yield Static("", id="when-error", classes="dialog-error", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Changed, "#when-input")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#when-error", Static).update(self._preview(event.value))

    def _preview(self, text: str) -> str:
        if not text.strip():
            return ""
        zone = app_zone(self.app)
        try:
            return _("→ {time}").format(time=when_text(parse_when(text, zone), zone))
        except TimeInputError as err:
            return str(err)

    @on(Input.Submitted, "#when-input")
    def _submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip() and self.allow_empty:
            self.dismiss_empty()
            return
        try:
            at = parse_when(event.value, app_zone(self.app))
        except TimeInputError as err:
            self.query_one("#when-error", Static).update(str(err))
            return
        self.dismiss(at)

    def dismiss_empty(self) -> None:
        self.dismiss(None)


def schedule_dialog() -> WhenDialog:
    return WhenDialog(_("Send at"), _("When should the reply go out? 09:00, tomorrow 09:00, "
                                      "2026-12-02 09:00, +2h"))


@dataclass(frozen=True)
class Snooze:
    until: datetime | None  # None: until the client writes
    until_client_writes: bool


class SnoozeDialog(WhenDialog):
    """Dismisses with a :class:`Snooze` (through ``snoozed``), or None when cancelled."""

    allow_empty = True

    def __init__(self) -> None:
        super().__init__(_("Snooze task"),
                         _("Hide the task until a time (09:00, tomorrow 09:00, +2h), or leave "
                           "empty: until the client writes. A client's message always wakes it."))

    def dismiss(self, result: object = None) -> object:  # type: ignore[override]
        if isinstance(result, datetime):
            result = Snooze(result, False)
        return super().dismiss(result)  # type: ignore[arg-type]

    def dismiss_empty(self) -> None:
        self.dismiss(Snooze(None, True))
