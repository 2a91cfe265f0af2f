"""Writing the draft in ``$VISUAL`` / ``$EDITOR`` (issue 19.3).

The text goes to a temporary UTF-8 file, the app is suspended (``App.suspend()``) so
the editor owns the terminal, and the file's text comes back when it exits. The
command is split like a shell would (``EDITOR="code --wait"`` works) and run without
a shell. A failed editor (not found, non-zero exit) leaves the draft unchanged.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from storage.i18n import _

FALLBACK = "vi"


class EditorError(Exception):
    """The editor could not run or failed; ``str()`` says why, for the operator."""


def editor_command(environ: dict[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    command = (env.get("VISUAL") or env.get("EDITOR") or FALLBACK).strip()
    return shlex.split(command) or [FALLBACK]


def edit_text(text: str, environ: dict[str, str] | None = None) -> str:
    """Run the editor on ``text``; returns what the file holds when it exits."""
    command = editor_command(environ)
    handle, name = tempfile.mkstemp(prefix="switchboard-", suffix=".txt")
    path = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        try:
            result = subprocess.run([*command, str(path)], check=False)
        except OSError as err:
            raise EditorError(_("The editor {command} could not start: {error}").format(
                command=command[0], error=err.strerror or err)) from None
        if result.returncode != 0:
            raise EditorError(_("The editor {command} exited with status {code}; "
                                "the text was not changed.").format(
                                    command=command[0], code=result.returncode))
        edited = path.read_text(encoding="utf-8", errors="replace")
    finally:
        path.unlink(missing_ok=True)
    # Editors end files with a newline: one trailing newline is not the operator's.
    return edited[:-1] if edited.endswith("\n") and not text.endswith("\n") else edited
