"""How a client's message changes its task: the one rule both ingest paths apply.

The general path (:mod:`storage.ingesting`) sets these values on the peewee object; the
fast path (:mod:`storage.ingest_fast`) binds them into its prepared UPDATE. Either way
the unread count goes up by one.
"""

from __future__ import annotations

from typing import Any

from storage.additional_data import merge as merge_data
from storage.automation import status_after_client_message
from storage.constants import INBOUND

PREVIEW_LENGTH = 120


def preview_of(text: str) -> str:
    """A one-line preview: whitespace folded, cut to PREVIEW_LENGTH characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_LENGTH else flat[: PREVIEW_LENGTH - 1] + "…"


def after_client_message(*, status: str, last_activity_at: Any, last_client_message_at: Any,
                         additional_data: dict[str, Any] | None, at: Any, preview: str,
                         system_data: dict[str, Any] | None = None,
                         client_data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The task's new column values after a client message dated ``at`` (besides
    ``unread_count + 1``), by column name.

    The last activity and preview move only forward (a late message leaves them); the
    client's last message time only forward; a snooze ends; the status follows
    :func:`storage.automation.status_after_client_message`; the channel's and the
    client's data merge by :func:`storage.additional_data.merge`. ``at`` and the stored
    times are compared as given (datetimes, or microseconds on the fast path)."""
    changes: dict[str, Any] = {}
    if last_activity_at is None or at >= last_activity_at:
        changes.update(last_activity_at=at, last_preview=preview_of(preview), last_kind=INBOUND)
    changes["last_client_message_at"] = (at if last_client_message_at is None
                                         or at > last_client_message_at
                                         else last_client_message_at)
    changes["status"] = status_after_client_message(status)
    changes["additional_data"] = merge_data(additional_data, system_data, client_data)
    changes["snoozed_until"], changes["snooze_until_client"] = None, False
    return changes




def bound_key(channel_id: int, chat_id: str) -> str:
    """The key binding a conversation ``(channel, chat id)`` to its one active task."""
    return f"{channel_id}:{chat_id}"
