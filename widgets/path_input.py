"""A one-line path input whose Tab completes file names (like a shell).

Tab extends the path to the longest prefix shared by the matching entries of its
folder (a folder gets its ``/``); when several remain, they are listed through
:class:`PathInput.Candidates` for the dialog to show. ``~`` is expanded.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

from storage.i18n import _

MAX_CANDIDATES = 50


def complete_path(text: str) -> tuple[str, list[str]]:
    """``text`` completed as far as it is unambiguous, and the names still matching."""
    expanded = os.path.expanduser(text) if text.startswith("~") else text
    folder, _sep, stem = expanded.rpartition(os.sep)
    base = Path(folder + os.sep if _sep else ".")
    if _sep and not folder:
        base = Path(os.sep)
    try:
        names = sorted(e.name + (os.sep if e.is_dir() else "") for e in os.scandir(base)
                       if e.name.startswith(stem) and (stem.startswith(".")
                                                       or not e.name.startswith(".")))
    except OSError:
        return text, []
    if not names:
        return text, []
    common = os.path.commonprefix(names)
    head = expanded[: len(expanded) - len(stem)]
    completed = head + common
    if text.startswith("~") and not completed.startswith("~"):
        home = os.path.expanduser("~")
        if completed.startswith(home):
            completed = "~" + completed[len(home):]
    return completed, names if len(names) > 1 else []


class PathInput(Input):
    """An ``Input`` for a file path; Tab completes."""

    BINDINGS = [Binding("tab", "complete", _("Complete"), id="path_input.complete",
                        show=False, tooltip=_("Complete the file name."))]

    class Candidates(Message):
        """Tab left several matches: ``names`` (at most :data:`MAX_CANDIDATES`)."""

        def __init__(self, names: list[str]) -> None:
            super().__init__()
            self.names = names

    def action_complete(self) -> None:
        completed, names = complete_path(self.value)
        if completed != self.value:
            self.value = completed
            self.cursor_position = len(completed)
        self.post_message(self.Candidates(names[:MAX_CANDIDATES]))
