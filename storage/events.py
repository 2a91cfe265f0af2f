"""Change events: every change the store commits is published through one interface.

Two transports implement :class:`EventBus`:

* :class:`InProcessBus` (SQLite): subscribers are called right after the commit, in
  the committing thread. Subscribers must be quick and thread-safe (the console
  posts a Textual message; the outbox worker sets an asyncio event thread-safely).
  Given the database file, it also carries events between processes on that file
  (:mod:`storage.wakeup`): each commit is sent to the other processes whose bus has
  subscribers, which dispatch it from a listener thread. So a reply committed by a
  second console or a script wakes the serving process's outbox at once.
* :class:`RelayBus`: the bus of a helper process that commits for another one (the
  gateway's ingest process, :mod:`connectors.ingest_process`). Its events go back to
  that process with the results, which dispatches them to its own subscribers (so
  they arrive once, and as surely as in-process ones), and to every other process on
  the file as usual, tagged with the helper's origin so the host ignores its copy.
* :class:`PostgresBus` (teams): events are sent with ``pg_notify`` *inside* the
  transaction, so PostgreSQL delivers them only if it commits, to every process that
  LISTENs. A listener thread with its own connection dispatches them to subscribers.

Nothing polls a table in a loop: consumers wait on these events.
"""

from __future__ import annotations

import json
import logging
import os
import select
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from storage.listeners import Listeners
from storage.wakeup import Peers

log = logging.getLogger(__name__)

# Event kinds.
MESSAGE_STORED = "message.stored"
MESSAGE_UPDATED = "message.updated"  # delivery state, edit, retry
OUTBOX_QUEUED = "outbox.queued"
TASK_CREATED = "task.created"
TASK_UPDATED = "task.updated"  # status, assignment, read, reopen
TASK_MERGED = "task.merged"
CONTACT_MERGED = "contact.merged"
CONTACT_UPDATED = "contact.updated"
QUICK_REPLIES_CHANGED = "quick_replies.changed"

CHANNEL = "switchboard_events"


@dataclass(frozen=True)
class Event:
    kind: str
    task_id: int | None = None
    message_id: int | None = None
    contact_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The fields as ``asdict`` gives them, without its deep copy (only serialized)."""
        return {name: getattr(self, name) for name in _EVENT_FIELDS}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Event:
        raw = json.loads(text)
        return cls(
            kind=raw["kind"], task_id=raw.get("task_id"), message_id=raw.get("message_id"),
            contact_id=raw.get("contact_id"), data=raw.get("data") or {},
        )


_EVENT_FIELDS = tuple(f.name for f in fields(Event))


Subscriber = Callable[[Event], None]


class EventBus:
    """Publish committed changes; subscribe to them. Base class holds the subscribers."""

    def __init__(self) -> None:
        self._listeners = Listeners("event")

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` for every event; returns a function that unsubscribes."""
        return self._listeners.add(callback)

    def dispatch(self, event: Event) -> None:
        """Hand ``event`` to every subscriber; a broken subscriber must not break the store."""
        self._listeners.call(event)

    # Transport hooks, called by the store.
    def in_transaction(self, db: Any, events: list[Event]) -> None:
        """Called inside the transaction, before commit."""

    def after_commit(self, events: list[Event]) -> None:
        """Called after a successful commit."""

    def adopt(self, origin: str) -> bool:
        """Events committed for this process by a helper process tagged ``origin`` will be
        handed to :meth:`dispatch` directly: ignore their copies from the transport.
        False when the transport cannot tell them apart (the helper must not be used)."""
        return False

    def close(self) -> None:
        pass


class InProcessBus(EventBus):
    """``path``: the SQLite file, to share events with other processes on it (None or
    ``:memory:``: this process only)."""

    def __init__(self, path: str | None = None) -> None:
        super().__init__()
        shared = bool(path) and path != ":memory:" and not str(path).startswith("file:")
        self._peers = Peers(str(path)) if shared else None
        self._adopted: frozenset[str] = frozenset()  # helper processes' origins (adopt)

    def adopt(self, origin: str) -> bool:
        if self._peers is None:  # an in-memory database: no other process can write it
            return False
        self._adopted = self._adopted | {origin}
        return True

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        # Listen for other processes only once someone here wants events: a script
        # that writes and exits costs no thread.
        if self._peers is not None:
            self._peers.listen(self._from_peer)
        return super().subscribe(callback)

    def after_commit(self, events: list[Event]) -> None:
        for event in events:
            self.dispatch(event)
        self._to_peers(events)

    def _to_peers(self, events: list[Event], **tag: str) -> None:
        if self._peers is not None and events:
            payloads = [e.as_dict() for e in events]  # fresh dicts: tagged in place
            if tag:
                for payload in payloads:
                    payload.update(tag)
            try:
                self._peers.publish(payloads)
            except Exception:  # a wake-up must never fail a committed write
                log.warning("sending events to other processes failed", exc_info=True)

    def _from_peer(self, items: list[object]) -> None:
        adopted = self._adopted
        for raw in items:
            if not isinstance(raw, dict) or raw.get("origin") in adopted:
                continue  # not an event, or one our helper hands us directly
            try:
                event = Event(kind=raw["kind"], task_id=raw.get("task_id"),
                              message_id=raw.get("message_id"),
                              contact_id=raw.get("contact_id"), data=raw.get("data") or {})
            except (KeyError, TypeError):
                log.warning("ignored a malformed cross-process event")
                continue
            self.dispatch(event)

    def close(self) -> None:
        if self._peers is not None:
            self._peers.close()


class RelayBus(InProcessBus):
    """The bus of a helper process committing for a host process (see the module doc).

    :meth:`take` returns what was committed since it was last called; the helper sends
    it to the host with the results. Nothing is dispatched here: a helper has no
    subscribers of its own, and so no listener either."""

    def __init__(self, path: str, origin: str) -> None:
        super().__init__(path)
        self.origin = origin
        self._committed: list[Event] = []

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        raise TypeError("a relay bus has no subscribers: its host dispatches its events")

    def after_commit(self, events: list[Event]) -> None:
        self._committed.extend(events)
        self._to_peers(events, origin=self.origin)

    def take(self) -> list[Event]:
        taken, self._committed = self._committed, []
        return taken


class PostgresBus(EventBus):
    """LISTEN/NOTIFY transport. ``dsn_factory`` opens a psycopg2 connection to listen on."""

    def __init__(self, connect: Callable[[], Any]) -> None:
        super().__init__()
        self._connect = connect
        self._stop = threading.Event()
        self._ready = threading.Event()
        # Writing to this pipe wakes the listener at once, so close() does not wait
        # for the select timeout (tests open and close hundreds of stores).
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._listen, name="pg-listen", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def in_transaction(self, db: Any, events: list[Event]) -> None:
        for event in events:
            payload = event.to_json()
            if len(payload.encode()) > 7900:  # NOTIFY payloads are capped at 8000 bytes
                payload = Event(event.kind, event.task_id, event.message_id, event.contact_id).to_json()
            db.execute_sql("SELECT pg_notify(%s, %s)", (CHANNEL, payload))

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                conn = self._connect()
                conn.set_isolation_level(0)  # autocommit
                cur = conn.cursor()
                cur.execute(f"LISTEN {CHANNEL}")
                self._ready.set()
                while not self._stop.is_set():
                    readable, _w, _x = select.select([conn, self._wake_r], [], [], 5.0)
                    if conn not in readable:
                        continue
                    conn.poll()
                    while conn.notifies:
                        note = conn.notifies.pop(0)
                        try:
                            event = Event.from_json(note.payload)
                        except (ValueError, KeyError):
                            log.warning("ignored a malformed notification")
                            continue
                        self.dispatch(event)
                conn.close()
            except Exception:
                log.exception("PostgreSQL listener lost its connection; reconnecting")
                self._ready.set()
                self._stop.wait(1.0)

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=2)
        os.close(self._wake_r)
        os.close(self._wake_w)
