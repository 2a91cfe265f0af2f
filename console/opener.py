"""Attachments on this machine: open one with the system's opener, or save a copy.

The opener is ``$SWITCHBOARD_OPENER`` when set (split like a shell would), else
``open`` on macOS and ``xdg-open`` elsewhere. It is started detached (its own session,
no terminal streams) and never waited for, so the console does not block. Saving copies
the stored file; a folder as destination keeps the attachment's name.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from storage.i18n import _
from storage.rows import AttachmentRow

OPENER_ENV = "SWITCHBOARD_OPENER"


class OpenerError(Exception):
    """Why an attachment could not be opened or saved (``str()`` for the operator)."""


def opener_command(environ: dict[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    configured = env.get(OPENER_ENV, "").strip()
    if configured:
        return shlex.split(configured)
    return ["open"] if sys.platform == "darwin" else ["xdg-open"]


def local_file(attachment: AttachmentRow) -> Path:
    """The attachment's stored file; OpenerError when it was never downloaded or is gone."""
    if not attachment.location or attachment.location.startswith(("http://", "https://")):
        raise OpenerError(_("{name} was not downloaded: nothing to open.").format(
            name=attachment.name))
    path = Path(attachment.location).expanduser()
    if not path.is_file():
        raise OpenerError(_("{name} is no longer on this machine ({path}).").format(
            name=attachment.name, path=str(path)))
    return path


def open_attachment(attachment: AttachmentRow,
                    environ: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start the opener on the attachment's file, detached; returns at once."""
    path = local_file(attachment)
    command = opener_command(environ)
    try:
        return subprocess.Popen([*command, str(path)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True, close_fds=True)
    except OSError as err:
        raise OpenerError(_("The opener {command} could not start: {error}").format(
            command=command[0], error=err.strerror or err)) from None


def save_attachment(attachment: AttachmentRow, destination: Path) -> Path:
    """Copy the attachment to ``destination`` (a folder keeps its name); the new path."""
    source = local_file(attachment)
    target = destination / attachment.name if destination.is_dir() else destination
    try:
        shutil.copyfile(source, target)
    except OSError as err:
        raise OpenerError(_("Could not save {name}: {error}").format(
            name=attachment.name, error=err.strerror or err)) from None
    return target
