"""What every dialog shares: a centred box with a title, a hint line, and Esc to cancel."""

from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.content import Content
from textual.screen import ModalScreen

from storage.i18n import _
from storage.rows import TaskRow
from widgets.fit import fit_words
from widgets.safe_text import clean, one_line

R = TypeVar("R")

NAMED_AT_MOST = 6  # tasks named one by one in a dialog or notice; the rest are counted


def task_named(task: TaskRow) -> str:
    """"#12 Ольга Кузнецова (Telegram)": the number and the client, as plain text."""
    name = one_line(task.contact_name or _("(no name)"), 30)
    channel = clean(task.channel_name)
    return f"#{task.number} {name}" + (f" ({channel})" if channel else "")


def tasks_named(tasks: list[TaskRow]) -> str:
    """The tasks an action is about, each named; past :data:`NAMED_AT_MOST`, counted."""
    named = ", ".join(task_named(t) for t in tasks[:NAMED_AT_MOST])
    rest = len(tasks) - NAMED_AT_MOST
    if rest > 0:
        named += " " + _("and {n} more").format(n=rest)
    return named


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

    KEYMAP_GROUP = "dialogs"  # its keys in the reference (console.keymap)
    BINDINGS = [Binding("escape", "cancel", _("Cancel"), id="dialog.cancel"),
                Binding("j", "move(1)", _("Down"), id="dialog.down", show=False),
                Binding("k", "move(-1)", _("Up"), id="dialog.up", show=False)]

    def on_mount(self) -> None:
        self.call_after_refresh(self.fit_titles)

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit_titles)

    def fit_titles(self) -> None:
        """Each box's border title in whole words and "…", never cut by the edge (80×24)."""
        for box in self.query(".dialog"):
            if box.outer_size.width <= 6:
                continue  # not laid out yet
            title = box.border_title
            text = title.plain if isinstance(title, Content) else str(title or "")
            full = getattr(box, "_full_title", None)
            if full is None or text != getattr(box, "_fitted_title", None):
                full = text  # a new title was set since the last fit
            fitted = fit_words(full, box.outer_size.width - 6)
            box._full_title, box._fitted_title = full, fitted  # type: ignore[attr-defined]
            if fitted != text:
                box.border_title = Content(fitted)  # plain: a client's name is no markup

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_move(self, step: int) -> None:
        """``j``/``k`` move the focused list's cursor (typed into a text field, they are text)."""
        focused = self.focused
        action = "cursor_down" if step > 0 else "cursor_up"
        if focused is not None and hasattr(focused, f"action_{action}"):
            getattr(focused, f"action_{action}")()
