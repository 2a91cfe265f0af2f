"""What connectors and the console hand to the store (inputs, not rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from storage.constants import CLOSED_STATUSES, INACTIVE_STATUSES

if TYPE_CHECKING:
    from storage.rows import TaskRow


@dataclass(frozen=True)
class AttachmentIn:
    name: str
    mime: str = "application/octet-stream"
    size: int = 0
    location: str = ""


@dataclass(frozen=True)
class Inbound:
    """One message a client sent through a channel.

    ``chat_id`` names the conversation window (the task binding); ``sender_id`` the
    client's identity in the channel (the contact). In private chats they are equal.
    ``external_id`` is the channel's own message id, unique within the channel: the
    same delivery twice stores one message. ``system_data`` (page, UTM, language...) is
    what the client did not write: it goes to the task's additional description data.
    ``client_data`` is what the client supplied about itself (the generic API's
    ``data``, web-chat form fields): it is kept under ``additional_data["client"]`` and
    can never overwrite a system key (:mod:`storage.additional_data`).
    """

    channel_id: int
    chat_id: str
    sender_id: str
    text: str
    external_id: str | None = None
    sent_at: datetime | None = None
    display_name: str = ""
    username: str = ""
    phone: str = ""
    email: str = ""
    system_data: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[AttachmentIn, ...] = ()
    client_data: dict[str, Any] = field(default_factory=dict)
    # The channel's id of the message this one answers (a client's reply to a message of
    # the same chat); kept in the stored message's meta (``reply_to_external_id``, and
    # ``reply_to_message_id`` when we know that message).
    reply_to_external_id: str | None = None


@dataclass(frozen=True)
class TaskFilter:
    """Which tasks a list shows. ``None`` fields do not filter."""

    assignee_id: int | None = None
    unassigned: bool = False
    channel_id: int | None = None
    statuses: tuple[str, ...] | None = None
    contact_id: int | None = None
    active_only: bool = False
    # Done, completed and cancelled tasks left out (the console's default lists).
    hide_closed: bool = False
    # Snoozed tasks are hidden unless asked for; ``snoozed_only`` lists just them.
    include_snoozed: bool = False
    snoozed_only: bool = False

    def matches(self, task: TaskRow, now: datetime | None = None) -> bool:
        """Whether ``task`` belongs in a list filtered by this filter (at ``now``).

        The same rules as the store's SQL (``storage.reading.Reads.filtered``); used
        wherever a filter is applied outside SQL (a task that changed on screen)."""
        if self.assignee_id is not None and task.assignee_id != self.assignee_id:
            return False
        if self.unassigned and task.assignee_id is not None:
            return False
        if self.channel_id is not None and task.channel_id != self.channel_id:
            return False
        if self.statuses and task.status not in self.statuses:
            return False
        if self.active_only and task.status in INACTIVE_STATUSES:
            return False
        if self.contact_id is not None and task.contact_id != self.contact_id:
            return False
        if self.hide_closed and task.status in CLOSED_STATUSES:
            return False
        if self.snoozed_only:
            return task.snoozed(now)
        return self.include_snoozed or not task.snoozed(now)
