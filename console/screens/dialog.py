"""What every dialog shares: a centred box with a title, a hint line, and Esc to cancel."""

from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.screen import ModalScreen

from storage.i18n import _

R = TypeVar("R")


class Dialog(ModalScreen[R]):
    """A modal dialog; subclasses compose a ``Vertical(classes="dialog")`` box."""

    DEFAULT_CSS = """
    Dialog {
        align: center middle;
        background: $background 50%;
    }
    Dialog > .dialog {
        width: 80%;
        max-width: 90;
        height: auto;
        max-height: 90%;
        border: round $primary;
        border-title-color: $primary;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        background: $surface;
        padding: 0 1;
    }
    Dialog .dialog-hint { color: $text-muted; height: auto; }
    Dialog .dialog-info { height: auto; margin: 1 0 0 0; }
    Dialog .dialog-error { color: $error; height: auto; }
    Dialog OptionList { height: auto; max-height: 12; border: none; padding: 0; }
    """

    BINDINGS = [Binding("escape", "cancel", _("Cancel"), id="dialog.cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)
