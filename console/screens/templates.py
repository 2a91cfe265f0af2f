"""Pick an approved template message (WhatsApp, outside the 24-hour window or to write first).

The names come from the channel's options (``templates`` in the config); Enter on one
dismisses with its name, which the composer sends as ``meta={"template": name}``.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.screens.dialog import Dialog
from storage.i18n import _


class TemplatesDialog(Dialog[str | None]):
    def __init__(self, names: list[str], reason: str) -> None:
        super().__init__()
        self.names = names
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="templates") as box:
            box.border_title = _("Templates")
            box.border_subtitle = _("Enter sends · Esc cancels")
            yield Static(Text(self.reason), classes="dialog-hint")
            if not self.names:
                yield Static(_("No templates are configured for this channel (options: "
                               "templates)."), classes="dialog-error")
            yield OptionList(*[Option(Text(n), id=f"t{i}") for i, n in enumerate(self.names)],
                             id="template-list")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected, "#template-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.names[event.option_index])
