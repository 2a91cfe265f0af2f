"""What connectors and the console hand to the store (inputs, not rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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
