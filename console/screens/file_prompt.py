"""A path prompt: pick a file to send, or where to save an attachment.

``FilePromptDialog(title, hint, must_exist=True)`` dismisses with a :class:`Path`
(expanded) or None; Tab completes (:class:`widgets.path_input.PathInput`), several
matches are listed under the input. A file to send must exist and be a file.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from console.screens.dialog import Dialog
from storage.i18n import _
from storage.inputs import AttachmentIn
from widgets.path_input import PathInput


def attachment_for(path: Path) -> AttachmentIn:
    """What the store keeps for a file the operator sends (its place on this machine)."""
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return AttachmentIn(name=path.name, mime=mime, size=path.stat().st_size,
                        location=str(path.resolve()))


class FilePromptDialog(Dialog[Path | None]):
    def __init__(self, title: str, hint: str, value: str = "", must_exist: bool = True) -> None:
        super().__init__()
        self.title_text = title
        self.hint = hint
        self.value = value
        self.must_exist = must_exist

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="file-prompt") as box:
            box.border_title = self.title_text
            box.border_subtitle = _("Tab completes · Enter accepts · Esc cancels")
            yield Static(self.hint, classes="dialog-hint", markup=False)
            yield PathInput(self.value, id="path")
            yield Static("", id="path-candidates", classes="dialog-hint")
            yield Static("", id="path-error", classes="dialog-error")

    def on_mount(self) -> None:
        self.query_one(PathInput).focus()

    @on(PathInput.Candidates)
    def _candidates(self, event: PathInput.Candidates) -> None:
        self.query_one("#path-candidates", Static).update(Text("  ".join(event.names)))

    @on(PathInput.Submitted, "#path")
    def _submitted(self, event: PathInput.Submitted) -> None:
        text = event.value.strip()
        path = Path(text).expanduser() if text else None
        error = ""
        if path is None:
            error = _("Write a path.")
        elif self.must_exist and not path.is_file():
            error = _("{path} is not a file.").format(path=text)
        elif not self.must_exist and not path.parent.is_dir():
            error = _("The folder {path} does not exist.").format(path=str(path.parent))
        if error:
            self.query_one("#path-error", Static).update(Text(error))
            return
        self.dismiss(path)
