"""The help screen: every binding with its effective keys, generated from the bindings.

Uses :func:`console.keymap.binding_table`, the same source as ``docs/keyboard.md``, with
the user's keymap applied, so what it lists is what the keys do.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from console.keymap import binding_table
from console.screens.dialog import Dialog
from storage.i18n import _

# Textual's key names that people type as one character.
KEY_SYMBOLS = {"slash": "/", "asterisk": "*", "question_mark": "?", "plus": "+",
               "minus": "-", "full_stop": ".", "comma": ",", "space": "space"}


def keys_shown(keys: str) -> str:
    """"slash,ctrl+f" → "/ or ctrl+f": the keys as a person reads them."""
    names = [KEY_SYMBOLS.get(k.strip(), k.strip()) for k in keys.split(",") if k.strip()]
    return _(" or ").join(names)


class HelpScreen(Dialog[None]):
    BINDINGS = [Binding("f1", "cancel", _("Close"), show=False)]

    DEFAULT_CSS = """
    HelpScreen > .dialog { max-width: 110; width: 95%; height: 90%; }
    HelpScreen DataTable { height: 1fr; }
    """

    def __init__(self, keys: dict[str, str] | None = None) -> None:
        super().__init__()
        self.keys = dict(keys or {})

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = _("Keys")
            box.border_subtitle = _("Esc closes · ctrl+p lists every command")
            yield Static(_("Inbox keys work outside text fields; press escape in the composer "
                           "to get back to the task list."), classes="dialog-hint")
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(_("Where"), _("Keys"), _("Action"), _("Id"))
        for row in binding_table(self.keys):
            table.add_row(Text(row.group), Text(keys_shown(row.keys), style="bold"),
                          Text(row.description), Text(row.binding_id, style="dim"))
        table.focus()
