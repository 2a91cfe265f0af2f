"""The task list's filters as the operator sees them: a mode plus what it filters by.

Kept apart from the screens so the same choice yields the same ``TaskFilter`` and the
same visible label everywhere (inbox, supervisor view, palette, tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from storage.constants import STATUS_LABELS
from storage.i18n import _
from storage.inputs import TaskFilter
from storage.models import STATUSES
from storage.rows import ChannelRow, OperatorRow
from widgets.safe_text import one_line

MINE, UNASSIGNED, ALL, CHANNEL, STATUS, OPERATOR = (
    "mine", "unassigned", "all", "channel", "status", "operator")

T = TypeVar("T")


@dataclass(frozen=True)
class FilterChoice:
    mode: str = ALL
    channel: ChannelRow | None = None
    status: str | None = None
    operator: OperatorRow | None = None

    def task_filter(self, me: int) -> TaskFilter | None:
        """The store's filter. Done, completed and cancelled tasks are left out unless the
        operator asks for one status (``5``): the lists are for work still to do."""
        if self.mode == MINE:
            return TaskFilter(assignee_id=me, active_only=True, hide_closed=True)
        if self.mode == UNASSIGNED:
            return TaskFilter(unassigned=True, active_only=True, hide_closed=True)
        if self.mode == CHANNEL and self.channel is not None:
            return TaskFilter(channel_id=self.channel.id, hide_closed=True)
        if self.mode == STATUS and self.status is not None:
            return TaskFilter(statuses=(self.status,))
        if self.mode == OPERATOR and self.operator is not None:
            return TaskFilter(assignee_id=self.operator.id, hide_closed=True)
        return TaskFilter(hide_closed=True)

    def label(self) -> str:
        if self.mode == MINE:
            return _("Mine (open)")
        if self.mode == UNASSIGNED:
            return _("Unassigned (open)")
        if self.mode == CHANNEL and self.channel is not None:
            return _("Channel: {name} (open)").format(name=one_line(self.channel.name, 20))
        if self.mode == STATUS and self.status is not None:
            return _("Status: {status}").format(status=_(STATUS_LABELS[self.status]))
        if self.mode == OPERATOR and self.operator is not None:
            return _("Operator: {name}").format(name=one_line(self.operator.name, 20))
        return _("All (open)")


def _after(items: list[T], current_id: int | None) -> T:
    """The item after the one with ``current_id`` (the first when it is not among them)."""
    ids = [item.id for item in items]  # type: ignore[attr-defined]
    index = ids.index(current_id) if current_id in ids else -1
    return items[(index + 1) % len(items)]


def next_channel(current: FilterChoice, channels: list[ChannelRow]) -> FilterChoice:
    """The next channel after the current one (the first when not filtering by channel)."""
    if not channels:
        return current
    now = current.channel.id if current.mode == CHANNEL and current.channel else None
    return FilterChoice(CHANNEL, channel=_after(channels, now))


def next_status(current: FilterChoice) -> FilterChoice:
    index = STATUSES.index(current.status) if (current.mode == STATUS and current.status) else -1
    return FilterChoice(STATUS, status=STATUSES[(index + 1) % len(STATUSES)])


def next_operator(current: FilterChoice, operators: list[OperatorRow]) -> FilterChoice:
    if not operators:
        return current
    now = current.operator.id if current.mode == OPERATOR and current.operator else None
    return FilterChoice(OPERATOR, operator=_after(operators, now))
