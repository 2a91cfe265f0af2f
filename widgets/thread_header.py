"""One line above the conversation: the task's number and status, who owns it, who else
is in it (presence), and the time left in the channel's reply window (WhatsApp's 24
hours) as a countdown.

The screen gives the task, the window length (from the channel's policy) and the other
operators present; the widget redraws the countdown on its own clock every 30 seconds.
Every name is client- or operator-supplied text: it goes through ``one_line``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from rich.text import Text
from textual.widgets import Static

from storage.constants import STATUS_LABELS
from storage.i18n import _
from storage.rows import TaskRow
from widgets.safe_text import one_line
from widgets.task_list_render import status_mark

__all__ = ["ThreadHeader", "countdown", "header_text", "presence_text"]

NAME_MAX = 16


def countdown(last_client: datetime | None, window: timedelta | None,
              now: datetime) -> str:
    """"Window: 23h 12m left" / "Window closed" / "" (no window on this channel)."""
    if window is None or last_client is None:
        return ""
    if last_client.tzinfo is None:
        last_client = last_client.replace(tzinfo=UTC)
    left = last_client + window - now
    if left <= timedelta(0):
        return _("window closed")
    minutes = int(left.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("window {hours}h {minutes}m left").format(hours=hours, minutes=minutes)
    return _("window {minutes}m left").format(minutes=minutes)


def presence_text(others: Sequence[tuple[str, bool]]) -> str:
    """"Boris typing…", "Anna here": the other operators in the task."""
    parts = []
    for name, typing in others:
        who = one_line(name, NAME_MAX)
        parts.append(_("{name} typing…").format(name=who) if typing
                     else _("{name} here").format(name=who))
    return ", ".join(parts)


def header_text(task: TaskRow | None, now: datetime, window: timedelta | None = None,
                others: Sequence[tuple[str, bool]] = ()) -> Text:
    if task is None:
        return Text("")
    text = Text()
    text.append(f"#{task.number} ", "bold")
    text.append(f"{status_mark(task.status)} {_(STATUS_LABELS.get(task.status, task.status))}")
    owner = one_line(task.assignee_name, NAME_MAX) if task.assignee_name else _("unassigned")
    text.append(f" · {owner}")
    seen = presence_text(others)
    if seen:
        text.append(f" · {seen}", "bold")
    left = countdown(task.last_client_message_at, window, now)
    if left:
        text.append(f" · {left}", "italic")
    return text


class ThreadHeader(Static):
    """The line above the thread (see the module docstring)."""

    DEFAULT_CSS = """
    ThreadHeader { height: 1; padding: 0 1; background: $boost; color: $text-muted; }
    """

    def __init__(self, *, clock: Callable[[], datetime] | None = None, id: str | None = None
                 ) -> None:
        super().__init__("", id=id)
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.task_row: TaskRow | None = None
        self.window: timedelta | None = None
        self.others: tuple[tuple[str, bool], ...] = ()

    def on_mount(self) -> None:
        self.set_interval(30, self.redraw)

    def show(self, task: TaskRow | None, window: timedelta | None = None) -> None:
        self.task_row, self.window = task, window
        self.redraw()

    def set_others(self, others: Sequence[tuple[str, bool]]) -> None:
        others = tuple(others)
        if others != self.others:
            self.others = others
            self.redraw()

    def redraw(self) -> None:
        text = header_text(self.task_row, self.clock(), self.window, self.others)
        text.no_wrap = True
        text.overflow = "ellipsis"
        self.update(text)
