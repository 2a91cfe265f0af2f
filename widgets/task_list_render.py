"""What one task row of the list says, and the small rules the list sorts and filters by.

Pure functions (no widget state), so the list widget keeps to loading, cursor and
drawing. A row is two lines, readable at 80 columns and in a narrow left pane::

    ● TG  Ivan Petrov                       5m  3
      #12 Hello, where is my order?          Anna

Every client-supplied string (name, preview) goes through ``safe_text.one_line`` and
into ``Text`` as plain text: never markup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text

from storage.constants import (
    CANCELLED,
    COMPLETED,
    DONE,
    IN_PROGRESS,
    NEW,
    NOTE,
    WAITING,
)
from storage.i18n import _
from storage.inputs import TaskFilter
from storage.rows import TaskRow
from widgets.safe_text import clean, one_line

__all__ = ["Rows", "STATUS_MARKS", "age_label", "channel_tag", "first_line", "second_line",
           "sort_key", "status_mark", "task_matches"]

Part = Callable[[str], Style]  # component class name -> the style of that text piece

# One cell per status, in the row before the task number (the help screen names them).
STATUS_MARKS = {NEW: "◆", IN_PROGRESS: "▸", WAITING: "◷", DONE: "✓", COMPLETED: "✔",
                CANCELLED: "✗"}
VIEWING_MARK, TYPING_MARK = "◉", "⌨"


def status_mark(status: str) -> str:
    return STATUS_MARKS.get(status, "?")


def channel_tag(kind: str, tags: Mapping[str, str] | None = None) -> str:
    """The channel column of a row: exactly three cells (cut or padded), plain text.

    ``tags`` maps a kind to the tag its plug-in declares (``ChannelPolicy.short_tag``,
    handed down by the console); a kind it does not name gets a neutral tag, the
    kind's first letters."""
    tag = (tags or {}).get(kind) or kind[:3].upper() or "—"
    return set_cell_size(clean(tag[:3]).replace("\n", " ").replace("\t", " "), 3)


def age_label(then: datetime, now: datetime) -> str:
    """A compact age: ``now``, ``5m``, ``3h``, ``2d``, ``7w``, ``1y``."""
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 60:
        return _("now")
    for size, unit in ((31_536_000, _("y")), (604_800, _("w")), (86_400, _("d")),
                       (3_600, _("h")), (60, _("m"))):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return _("now")  # pragma: no cover - loop always returns


def task_matches(row: TaskRow, f: TaskFilter | None) -> bool:
    """Whether ``row`` belongs in a list filtered by ``f`` (:meth:`TaskFilter.matches`):
    the list decides without a query if a task that changed still belongs on screen."""
    return f is None or f.matches(row)


def sort_key(row: TaskRow) -> tuple[datetime, int]:
    return (row.last_activity_at, row.id)


@dataclass
class Rows:
    """The loaded rows in display order (newest activity first) and an id index."""

    items: list[TaskRow]
    index: dict[int, int]

    @classmethod
    def empty(cls) -> Rows:
        return cls([], {})

    def reindex(self) -> None:
        self.index = {row.id: i for i, row in enumerate(self.items)}


def first_line(row: TaskRow, width: int, style: Part, marked: bool, now: datetime,
               presence: str = "", open_here: bool = False,
               tags: Mapping[str, str] | None = None) -> Text:
    """Mark, channel tag, contact name ... presence, age and unread badge.

    ``now`` comes from the list's clock (injectable), so tests and snapshots do not
    depend on the day they run. ``presence`` is :data:`TYPING_MARK` or
    :data:`VIEWING_MARK` when another operator is in the task. The task open in this
    console shows no unread badge: its messages are being read. ``tags``: see
    :func:`channel_tag`."""
    mark = "●" if marked else " "
    tag = channel_tag(row.channel_kind, tags)
    age = age_label(row.last_activity_at, now)
    if presence:
        age = f"{presence} {age}"
    unread = row.unread_count if not open_here else 0
    badge = f" {unread} " if unread else ""
    right_len = cell_len(age) + 1 + len(badge)
    name_width = max(1, width - 2 - 4 - right_len - 1)
    name = one_line(row.contact_name or _("(no name)"), name_width)
    text = Text()
    text.append(mark, style("task-list--mark"))
    text.append(" ")
    text.append(tag, style("task-list--channel"))
    text.append(" ")
    name_style = style("task-list--name")
    if unread:
        name_style = name_style + style("task-list--unread")
    if not row.active:
        name_style = name_style + style("task-list--inactive")
    text.append(name, name_style)
    pad = width - text.cell_len - right_len
    text.append(" " * max(1, pad))
    text.append(age, style("task-list--age"))
    if badge:
        text.append(" ")
        text.append(badge, style("task-list--badge"))
    return text


ASSIGNEE_MAX = 10  # cells an assignee's name may take on the preview line
PREVIEW_MIN = 24  # cells the preview keeps before an assignee is shown at all


def second_line(row: TaskRow, width: int, style: Part, draft: bool = False) -> Text:
    """Status mark, task number and last message preview ... assignee (or "unassigned");
    a pencil (``✎``) under the mark when the operator has an unsent draft in the task; a
    lock before a preview that is a private note (the client never saw it).

    The preview is what the operator scans for, so it gets the room: the assignee is
    cut to :data:`ASSIGNEE_MAX` cells (a third of the line in a narrow pane);
    "unassigned" shrinks to "—" unless the preview keeps :data:`PREVIEW_MIN` cells;
    and nothing is shown on the right if the preview would keep less than that or
    half the line, whichever is smaller."""
    number = f"#{row.number} "
    text = Text("✎" if draft else " ", style("task-list--draft"))
    text.append(status_mark(row.status), style("task-list--status"))
    text.append(number, style("task-list--number"))
    free = width - text.cell_len - 1  # one cell of right margin
    if row.assignee_name:
        cap = max(4, min(ASSIGNEE_MAX, free // 3))  # a third of the line at most
        who, who_style = one_line(row.assignee_name, cap), "task-list--assignee"
    else:
        who, who_style = _("unassigned"), "task-list--unassigned"
        if free - cell_len(who) - 1 < PREVIEW_MIN:
            who = "—"
    if free - cell_len(who) - 1 < min(PREVIEW_MIN, free // 2):
        who = ""
    room = max(1, free - (cell_len(who) + 1 if who else 0))
    preview = row.last_preview or row.title or ""
    if row.last_kind == NOTE and row.last_preview:
        text.append("🔒", style("task-list--draft"))
        room = max(1, room - 2)
    text.append(one_line(preview, room), style("task-list--preview"))
    if who:
        pad = width - text.cell_len - cell_len(who) - 1
        text.append(" " * max(1, pad))
        text.append(who, style(who_style))
    return text
