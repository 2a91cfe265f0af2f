"""What a visitor may see of their conversation, read from the store, a page at a time.

A visitor sees only what was said between them and the company in this chat: their own
messages and the operators' replies addressed to this chat that the outbox has picked
up (``store.conversation_page``: by the chat each message was written to, whatever
task it sits in after merges). Private notes, system events, replies still queued and
another visitor's words never reach the page — the filter is here, on the server, not
in the page's script.

History is paged, newest first: the page gets the newest :data:`PAGE_SIZE` messages
with a cursor and asks for older ones as the visitor scrolls up, so every reply sent
while the visitor was away can be seen, however many there were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage.constants import DELIVERED, INBOUND, OUTBOUND, READ, SENDING, SENT
from storage.errors import NotFound
from storage.ports import ConnectorStore, Cursor
from storage.rows import MessageRow

# ``sending`` too: a page that connects while a reply is being pushed (after the push
# went to its old socket, before the outbox recorded it) must still see it.
VISIBLE_STATES = (SENDING, SENT, DELIVERED, READ)
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class HistoryPage:
    messages: tuple[MessageRow, ...]  # oldest first
    before: Cursor | None  # where the older page starts; None: this is the beginning


def visible(message: MessageRow, channel_id: int, chat_id: str) -> bool:
    if message.channel_id != channel_id or message.chat_id != chat_id:
        return False
    if message.kind == INBOUND:
        return True
    return message.kind == OUTBOUND and message.delivery_state in VISIBLE_STATES


def history_page(store: ConnectorStore, channel_id: int, chat_id: str,
                 before: Cursor | None = None, limit: int = PAGE_SIZE) -> HistoryPage:
    """Up to ``limit`` visible messages older than ``before`` (None: the newest)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    shown: list[MessageRow] = []
    cursor = before
    for _round in range(5):  # queued replies are skipped; a few reads fill the page
        page = store.conversation_page(channel_id, chat_id, before=cursor, limit=limit)
        shown[:0] = [m for m in page.items if visible(m, channel_id, chat_id)]
        cursor = page.next_cursor
        if cursor is None or len(shown) >= limit:
            break
    if len(shown) > limit:
        shown = shown[-limit:]
        cursor = shown[0].cursor
    return HistoryPage(tuple(shown), cursor)


def own_outbound(store: ConnectorStore, channel_id: int, chat_id: str,
                 message_id: int) -> MessageRow | None:
    """The reply ``message_id`` if it was addressed to this chat, else None."""
    try:
        message = store.get_message(message_id)
    except NotFound:
        return None
    if (message.kind != OUTBOUND or message.channel_id != channel_id
            or message.chat_id != chat_id):
        return None
    return message


def parse_cursor(value: Any) -> Cursor | None:
    """A cursor the page sent back (``[micros, id]``), or None when it is not one."""
    if (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2 ** 63
                    for v in value)):
        return (value[0], value[1])
    return None


FilesFn = Callable[[MessageRow], list[dict[str, Any]]]


def wire(message: MessageRow, files: FilesFn | None = None) -> dict[str, Any]:
    """One message as the page receives it (plain data; the page renders with textContent).

    ``quote`` (``{id, text}``: the visitor's message a reply answers) is there when the
    operator quoted one; ``files`` (``[{name, size, url}]``, signed download links from
    ``files``) for the message's stored files."""
    frame = {
        "type": "message",
        "id": message.id,
        "from": "visitor" if message.kind == INBOUND else "operator",
        "text": message.text,
        "author": message.author_operator_name if message.kind == OUTBOUND else "",
        "at": message.created_at.isoformat(),
        "state": message.delivery_state or "",
        "attachments": [a.name for a in message.attachments],
    }
    if message.kind == OUTBOUND and message.quote_message_id:
        frame["quote"] = {"id": message.quote_message_id, "text": message.quote_text}
    if files is not None and message.attachments:
        frame["files"] = files(message)
    return frame


def page_frame(kind: str, page: HistoryPage, files: FilesFn | None) -> dict[str, Any]:
    """A page of history as the page receives it: ``{type: kind, messages, before}``."""
    return {"type": kind, "messages": [wire(m, files) for m in page.messages],
            "before": list(page.before) if page.before is not None else None}
