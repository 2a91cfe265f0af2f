"""The earlier versions of a client's edited message, oldest first (``v`` in the thread)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from console.screens.dialog import Dialog
from storage.i18n import _
from storage.rows import MessageRow
from widgets.safe_text import clean

VERSION_MAX = 2000  # characters of one version shown


class VersionsDialog(Dialog[None]):
    """Lists each text the message had, with the time from which it stood."""

    DEFAULT_CSS = """
    VersionsDialog VerticalScroll { height: auto; max-height: 16; }
    VersionsDialog .version-at { color: $text-muted; text-style: bold; }
    """

    def __init__(self, message: MessageRow) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        box = Vertical(classes="dialog")
        box.border_title = _("Earlier versions")
        box.border_subtitle = _("esc close")
        with box:
            with VerticalScroll():
                versions = list(self.message.versions)
                for version in versions:
                    at = str(version.get("at", ""))[:16].replace("T", " ")
                    yield Static(Text(at), classes="version-at")
                    yield Static(Text(clean(str(version.get("text", "")))[:VERSION_MAX]))
                yield Static(Text(_("Now")), classes="version-at")
                yield Static(Text(clean(self.message.text)[:VERSION_MAX]))
            if self.message.deleted:
                yield Static(Text(_("The client deleted this message.")), classes="dialog-hint")
