"""The supervisor's live summary: open tasks per operator, and who waits for a first reply.

The data (``store.supervisor_summary()``) is loaded by the screen when store events
arrive; this widget only renders it. Waiting times grow by themselves, so the widget
re-renders every 30 seconds from the rows it already has, using an injectable clock
(tests and snapshots freeze it). That timer never touches the database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from storage.i18n import _
from storage.rows import SupervisorSummary
from widgets.safe_text import one_line


def format_wait(seconds: float) -> str:
    """A short, human waiting time: 45s, 12m, 3h 05m, 2d 4h."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return _("{n}s").format(n=seconds)
    minutes = seconds // 60
    if minutes < 60:
        return _("{n}m").format(n=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("{h}h {m:02d}m").format(h=hours, m=minutes)
    days, hours = divmod(hours, 24)
    return _("{d}d {h}h").format(d=days, h=hours)


class OperatorStatsLike(Protocol):
    """One operator's live numbers (``storage.team_stats.OperatorStats``)."""

    name: str
    open_tasks: int
    waiting_tasks: int
    replies_today: int
    median_first_response: float | None
    p90_first_response: float | None


STATS_SHOWN = 4  # operators with a line of their own; the rest are counted


def stats_line(stats: OperatorStatsLike) -> str:
    """"Anna: 3 open · 1 awaiting reply · 5 replies today · first reply 4m, p90 12m"."""
    line = _("{name}: {open} open · {waiting} awaiting reply · {replies} replies today").format(
        name=one_line(stats.name, 16), open=stats.open_tasks, waiting=stats.waiting_tasks,
        replies=stats.replies_today)
    if stats.median_first_response is not None:
        line += " · " + _("first reply {median}, p90 {p90}").format(
            median=format_wait(stats.median_first_response),
            p90=format_wait(stats.p90_first_response or stats.median_first_response))
    return line


class SupervisorSummaryView(Widget):
    """Two or three lines: load per operator; tasks awaiting a first reply and for how long."""

    COMPONENT_CLASSES = {"summary--label", "summary--alert"}

    DEFAULT_CSS = """
    SupervisorSummaryView {
        height: auto;
        max-height: 8;
        padding: 0 1;
        background: $boost;
        border-bottom: hkey $panel;
    }
    SupervisorSummaryView > .summary--label { color: $text-muted; text-style: bold; }
    SupervisorSummaryView > .summary--alert { color: $warning; text-style: bold; }
    """

    summary: reactive[SupervisorSummary | None] = reactive(None, always_update=True, layout=True)
    stats: reactive[Sequence[OperatorStatsLike]] = reactive((), always_update=True, layout=True)

    def __init__(self, clock: Callable[[], datetime] | None = None, *,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.clock = clock or (lambda: datetime.now(UTC))

    def on_mount(self) -> None:
        self.set_interval(30, self.refresh)

    def render(self) -> Text:
        label = self.get_component_rich_style("summary--label")
        alert = self.get_component_rich_style("summary--alert")
        text = Text(overflow="ellipsis")
        summary = self.summary
        if summary is None:
            text.append(_("Loading the summary…"), style=label)
            return text
        text.append(_("Open tasks: "), style=label)
        if not summary.load:
            text.append(_("none"))
        for n, load in enumerate(summary.load):
            if n:
                text.append(" · ")
            text.append(f"{one_line(load.operator_name, 20)} {load.open_tasks}")
        for stats in self.stats[:STATS_SHOWN]:
            text.append("\n" + stats_line(stats))
        more = len(self.stats) - STATS_SHOWN
        if more > 0:
            text.append("\n" + _("and {n} more").format(n=more), style=label)
        text.append("\n")
        text.append(_("Waiting for a first reply: "), style=label)
        if not summary.awaiting_first_reply:
            text.append(_("nobody"))
            return text
        now = self.clock()
        oldest = summary.waiting_tasks[0] if summary.waiting_tasks else None
        if oldest is not None and oldest.last_client_message_at is not None:
            wait = (now - oldest.last_client_message_at).total_seconds()
        else:
            wait = summary.oldest_wait_seconds or 0
        text.append(_("{n}, the longest for {wait}").format(
            n=summary.awaiting_first_reply, wait=format_wait(wait)), style=alert)
        parts = []
        for task in summary.waiting_tasks[:5]:
            if task.last_client_message_at is None:
                continue
            age = format_wait((now - task.last_client_message_at).total_seconds())
            parts.append(f"#{task.number} {one_line(task.contact_name, 14)} {age}")
        if parts:
            text.append("\n" + " · ".join(parts))
        return text
