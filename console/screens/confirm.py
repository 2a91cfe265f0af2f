"""A yes/no question that names what it is about (merging two clients, replying into
another operator's task). Enter on the highlighted answer; Esc says no."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.screens.dialog import Dialog
from storage.i18n import _

YES, NO = "yes", "no"


class ConfirmDialog(Dialog[bool]):
    """Dismisses with True only when the operator chose ``yes``."""

    def __init__(self, title: str, text: str, yes: str, no: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.yes = yes
        self.no = no or _("Cancel")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="confirm") as box:
            box.border_title = self.title_text
            box.border_subtitle = _("Enter chooses · Esc cancels")
            yield Static(Text(self.text), id="confirm-text", classes="dialog-info")
            yield OptionList(Option(self.no, id=NO), Option(self.yes, id=YES),
                             id="confirm-choice")

    def on_mount(self) -> None:
        choice = self.query_one(OptionList)
        choice.highlighted = 0  # the safe answer first
        choice.focus()

    @on(OptionList.OptionSelected, "#confirm-choice")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id == YES)

    def action_cancel(self) -> None:
        self.dismiss(False)
