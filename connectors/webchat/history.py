"""What a visitor may see of their conversation, read from the store.

A visitor sees only what was said between them and the company in this channel:
their own messages and the operators' replies the outbox has picked up. Private notes,
system events, replies still queued and replies to other channels never reach the
page — the filter is here, on the server, not in the page's script.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.models import DELIVERED, INBOUND, OUTBOUND, READ, SENDING, SENT
from storage.rows import MessageRow
from storage.store import Store

# ``sending`` too: a page that reconnects while a reply is being pushed (after the
# push went to its old socket, before the outbox recorded it) must still see it.
VISIBLE_STATES = (SENDING, SENT, DELIVERED, READ)
HISTORY_LIMIT = 200


@dataclass(frozen=True)
class VisitorThread:
    task_id: int | None
    messages: tuple[MessageRow, ...]


def visible(message: MessageRow, channel_id: int) -> bool:
    if message.channel_id != channel_id:
        return False
    if message.kind == INBOUND:
        return True
    return message.kind == OUTBOUND and message.delivery_state in VISIBLE_STATES


def visitor_thread(store: Store, channel_id: int, chat_id: str,
                   limit: int = HISTORY_LIMIT) -> VisitorThread:
    """The last ``limit`` visible messages of the visitor's current task, oldest first."""
    task_id = store.chat_task_id(channel_id, chat_id)  # followed through merges
    if task_id is None:
        return VisitorThread(None, ())
    shown: list[MessageRow] = []
    cursor = None
    while len(shown) < limit:
        page = store.thread_before(task_id, before=cursor, limit=limit)
        shown[:0] = [m for m in page.items if visible(m, channel_id)]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return VisitorThread(task_id, tuple(shown[-limit:]))


def wire(message: MessageRow) -> dict[str, Any]:
    """One message as the page receives it (plain data; the page renders with textContent)."""
    return {
        "type": "message",
        "id": message.id,
        "from": "visitor" if message.kind == INBOUND else "operator",
        "text": message.text,
        "author": message.author_operator_name if message.kind == OUTBOUND else "",
        "at": message.created_at.isoformat(),
        "state": message.delivery_state or "",
        "attachments": [a.name for a in message.attachments],
    }
