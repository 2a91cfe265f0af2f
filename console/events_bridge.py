"""From the store's change events to one Textual message, thread-safely and coalesced.

The store calls subscribers from the committing thread (a worker, a connector's
writer, the PostgreSQL LISTEN thread, or the event loop itself in tests). The
bridge only appends the event to a pending list under a lock and, if no delivery is
already on its way, posts one :class:`StoreChanged` to the app (``post_message`` is
thread-safe). The app drains everything pending when it handles that message, so a
burst of a thousand inbound messages costs one UI update, not a thousand. Nothing
polls: the UI only reacts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual.message import Message

from storage.events import Event, EventBus


class StoreChanged(Message):
    """Some committed changes; ``events`` is the coalesced batch in commit order."""

    def __init__(self, events: tuple[Event, ...]) -> None:
        super().__init__()
        self.events = events

    @property
    def task_ids(self) -> set[int]:
        return {e.task_id for e in self.events if e.task_id is not None}

    def kinds(self) -> set[str]:
        return {e.kind for e in self.events}


class Wakeup(Message):
    """Tells the target that events are pending; carries nothing itself."""


class EventsBridge:
    """Subscribe to ``bus`` and deliver coalesced batches to ``target`` (an App or widget)."""

    def __init__(self, bus: EventBus, post: Callable[[Message], bool]) -> None:
        self._bus = bus
        self._post = post
        self._lock = threading.Lock()
        self._pending: list[Event] = []
        self._scheduled = False
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        if self._unsubscribe is None:
            self._unsubscribe = self._bus.subscribe(self._on_event)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_event(self, event: Event) -> None:
        """Runs in any thread: record the event, wake the app once per batch."""
        with self._lock:
            self._pending.append(event)
            if self._scheduled:
                return
            self._scheduled = True
        self._post(Wakeup())

    def drain(self) -> tuple[Event, ...]:
        """Everything pending since the last drain (called on the app's thread)."""
        with self._lock:
            events, self._pending = tuple(self._pending), []
            self._scheduled = False
        return events
