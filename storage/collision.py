"""The collision notice: before a reply goes out, is someone else answering this client?

Two facts, one check: another console is typing in the task right now (from
:class:`storage.presence.PresenceTracker`), or another operator's reply was stored in
the task after this operator started typing (from the thread, so it holds even when
presence has not reached us yet). The composer shows both, with the other replies'
text, and sending anyway is one deliberate key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from storage.models import OUTBOUND, to_micros
from storage.presence import PresenceEntry, PresenceTracker
from storage.rows import MessageRow

if TYPE_CHECKING:
    from storage.store import Store

MAX_REPLIES = 20


@dataclass(frozen=True)
class Collision:
    typing: tuple[PresenceEntry, ...] = ()  # other consoles typing in the task now
    replies: tuple[MessageRow, ...] = ()  # other operators' replies since we started

    def __bool__(self) -> bool:
        return bool(self.typing or self.replies)


def collision(store: Store, tracker: PresenceTracker | None, task_id: int, operator_id: int,
              since: datetime, session: str | None = None) -> Collision:
    """What stands between this operator's draft (begun at ``since``) and sending it.

    ``session`` is this console's presence session (its own typing is not a collision);
    replies by this same operator from another console do not count either.
    """
    typing: tuple[PresenceEntry, ...] = ()
    if tracker is not None:
        typing = tuple(e for e in tracker.in_task(task_id, exclude_session=session)
                       if e.typing and e.operator_id != operator_id)
    replies = []
    cursor: tuple[int, int] | None = (to_micros(since), 0)
    while cursor is not None and len(replies) < MAX_REPLIES:
        page = store.thread_after(task_id, cursor, limit=100)
        replies += [m for m in page.items if m.kind == OUTBOUND
                    and m.author_operator_id not in (None, operator_id)]
        cursor = page.next_cursor
    return Collision(typing, tuple(replies[:MAX_REPLIES]))
