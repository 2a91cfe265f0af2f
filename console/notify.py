"""Telling the operator that a client wrote, when they are looking elsewhere.

When a client's message lands in a task that is not the open one, the console rings
the terminal bell and asks the terminal for a desktop notification with two escape
sequences most terminals forward (even over SSH): OSC 9 (iTerm2, Windows Terminal,
kitty, WezTerm, foot) and OSC 777 (VTE terminals, urxvt). Which tasks notify, whether
to ring and whether to notify is the config's ``notifications:`` section; nothing is
said during the quiet hours.

Client text is untrusted: the notification carries the client's name and the start of
the message with every control character (C0, C1, DEL) removed and the length capped,
and the OSC separator ``;`` replaced in the title, so nothing the client wrote can end
the sequence early or act on the terminal. The window title (OSC 2) carries the unread
count; :func:`title_sequence` builds it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time

from storage.i18n import _
from storage.rows import TaskRow

__all__ = ["MINE", "UNASSIGNED", "ALL", "Notifier", "NotifySettings", "QuietHours",
           "desktop_sequences", "plain", "title_sequence"]

MINE, UNASSIGNED, ALL = "mine", "unassigned", "all"
TITLE_MAX = 60
BODY_MAX = 120
BEL = "\x07"
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_SPACES = re.compile(r"\s+")
_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def plain(text: str, limit: int) -> str:
    """``text`` fit for an escape sequence: controls removed, one line, at most ``limit``
    characters (an ellipsis marks a cut)."""
    flat = _SPACES.sub(" ", _CONTROLS.sub(" ", text)).strip()
    return flat if len(flat) <= limit else flat[: max(0, limit - 1)] + "…"


def desktop_sequences(title: str, body: str) -> str:
    """OSC 9 and OSC 777 desktop notifications for ``title`` and ``body`` (made plain)."""
    head = plain(title, TITLE_MAX).replace(";", ",")  # OSC 777 separates fields by ";"
    text = plain(body, BODY_MAX)
    return f"\x1b]9;{head}: {text}{BEL}\x1b]777;notify;{head};{text}{BEL}"


def title_sequence(title: str) -> str:
    """OSC 2: the terminal window's title."""
    return f"\x1b]2;{plain(title, TITLE_MAX)}{BEL}"


@dataclass(frozen=True)
class QuietHours:
    """A daily span (may cross midnight) during which nothing rings."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str | None) -> QuietHours | None:
        """``"22:00-08:00"`` → QuietHours; None or "" → None; anything else: ValueError."""
        if not text:
            return None
        found = _QUIET.match(text.strip())
        if found is None:
            raise ValueError(text)
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        return cls(time(h1, m1), time(h2, m2))

    def holds(self, moment: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True)
class NotifySettings:
    bell: bool = True
    desktop: bool = True
    scope: str = MINE
    quiet: QuietHours | None = None

    @classmethod
    def from_config(cls, section: object | None) -> NotifySettings:
        if section is None:
            return cls()
        return cls(bool(getattr(section, "bell", True)), bool(getattr(section, "desktop", True)),
                   str(getattr(section, "scope", MINE)),
                   QuietHours.parse(getattr(section, "quiet_hours", None)))


class Notifier:
    """Decides whether a client's message notifies, and writes the bell and sequences."""

    def __init__(self, settings: NotifySettings, operator_id: int, write: Callable[[str], None],
                 clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.operator_id = operator_id
        self.write = write
        self.clock = clock

    def concerns(self, task: TaskRow) -> bool:
        scope = self.settings.scope
        if scope == ALL:
            return True
        if scope == UNASSIGNED:
            return task.assignee_id is None or task.assignee_id == self.operator_id
        return task.assignee_id == self.operator_id

    def client_wrote(self, task: TaskRow, text: str, open_task_id: int | None) -> bool:
        """Ring and notify for ``text`` in ``task`` when it should; True if it did."""
        s = self.settings
        if task.id == open_task_id or not (s.bell or s.desktop) or not self.concerns(task):
            return False
        if s.quiet is not None and s.quiet.holds(self.clock().astimezone().time()):
            return False
        out = BEL if s.bell else ""
        if s.desktop:
            title = _("#{number} {client}").format(
                number=task.number, client=task.contact_name or _("(no name)"))
            out += desktop_sequences(title, text or _("(attachment)"))
        self.write(out)
        return True
