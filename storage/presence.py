"""Presence: who has which task open and who is typing, across every console.

Presence is ephemeral. Nothing is written to a table or to the audit: each console
*announces* its state as bus events (``presence``), and every console *tracks* what
it hears. The events go through the store's transaction hook with no rows in it, so
they travel however the bus carries committed changes: in-process on SQLite,
``pg_notify`` on PostgreSQL (and across processes on SQLite wherever the bus does).

* :class:`PresenceAnnouncer` (one per console): ``view(task_id)`` when the operator
  opens a task, ``typing(task_id)`` on keystrokes in the composer (throttled: one event
  when typing starts, then the heartbeat), ``close()`` on exit. A heartbeat repeats the
  state every ``heartbeat`` seconds; typing fades ``typing_ttl`` seconds after the last
  keystroke.
* :class:`PresenceTracker` (one per console): the live picture. An entry not renewed
  within its ``ttl`` (three heartbeats) expires, so a console that died disappears
  within seconds; a console that quits says so and disappears at once. A new tracker
  asks (``presence.query``) and every announcer answers straight away.

Entries are per console session, so one operator with two consoles shows once per
task they have open. The tracker's timer thread sleeps until the next expiry (or
forever when nobody is present): no polling.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage.events import Event

if TYPE_CHECKING:
    from storage.store import Store

log = logging.getLogger(__name__)

PRESENCE = "presence"
PRESENCE_LEFT = "presence.left"
PRESENCE_QUERY = "presence.query"
HEARTBEAT = 2.0
TYPING_TTL = 5.0


@dataclass(frozen=True)
class PresenceEntry:
    session: str
    operator_id: int
    operator_name: str
    task_id: int | None  # None: the console is open, no task
    typing: bool


def publish(store: Store, kind: str, **data: object) -> None:
    """Send an ephemeral event to every console (no rows are written)."""
    with store.transaction() as tx:
        tx.emit(kind, **data)


class PresenceAnnouncer:
    """This console's presence, announced on the bus and repeated by a heartbeat."""

    def __init__(self, store: Store, operator_id: int, operator_name: str, *,
                 heartbeat: float = HEARTBEAT, typing_ttl: float = TYPING_TTL) -> None:
        self.store = store
        self.operator_id = operator_id
        self.operator_name = operator_name
        self.session = uuid.uuid4().hex
        self.heartbeat = heartbeat
        self.typing_ttl = typing_ttl
        self._task_id: int | None = None
        self._typing_until = 0.0  # monotonic
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def ttl(self) -> float:
        return self.heartbeat * 3

    def start(self) -> None:
        if self._thread is not None:
            return
        self._unsubscribe = self.store.bus.subscribe(self._on_event)
        self._thread = threading.Thread(target=self._run, name="presence", daemon=True)
        self._thread.start()

    def view(self, task_id: int | None) -> None:
        """The operator opened ``task_id`` (None: left it); announced at once."""
        with self._lock:
            if task_id == self._task_id:
                return
            self._task_id = task_id
            self._typing_until = 0.0
        self._wake.set()

    def typing(self, task_id: int) -> None:
        """A keystroke in the composer of ``task_id``. Only a change is announced at once."""
        with self._lock:
            was = self._task_id == task_id and self._is_typing()
            self._task_id = task_id
            self._typing_until = time.monotonic() + self.typing_ttl
        if not was:
            self._wake.set()

    def stop_typing(self) -> None:
        """The draft was sent or cleared."""
        with self._lock:
            was = self._is_typing()
            self._typing_until = 0.0
        if was:
            self._wake.set()

    def _is_typing(self) -> bool:
        return time.monotonic() < self._typing_until

    def _on_event(self, event: Event) -> None:
        if event.kind == PRESENCE_QUERY and event.data.get("session") != self.session:
            self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            with self._lock:
                task_id, typing = self._task_id, self._is_typing()
                typing_left = self._typing_until - time.monotonic()
            try:
                publish(self.store, PRESENCE, session=self.session,
                        operator_id=self.operator_id, operator_name=self.operator_name,
                        task_id=task_id, typing=typing, ttl=self.ttl)
            except Exception:  # the database is away: the next beat tries again
                log.warning("presence: could not announce", exc_info=True)
            wait = self.heartbeat
            if typing:  # wake when typing fades, to say so
                wait = min(wait, max(typing_left, 0.01))
            self._wake.wait(wait)

    def close(self) -> None:
        """Stop announcing and tell everyone this console left."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._thread is None:
            return
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)
        self._thread = None
        try:
            publish(self.store, PRESENCE_LEFT, session=self.session)
        except Exception:  # others expire it instead
            pass


class PresenceTracker:
    """Everyone present, from the bus; ``on_change()`` is called (from any thread) when
    the picture changes, including when an entry expires."""

    def __init__(self, store: Store, on_change: Callable[[], None] | None = None) -> None:
        self.store = store
        self.on_change = on_change
        self.session = uuid.uuid4().hex
        self._entries: dict[str, tuple[PresenceEntry, float]] = {}  # session → (entry, expiry)
        self._cond = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._unsubscribe = self.store.bus.subscribe(self._on_event)
        self._thread = threading.Thread(target=self._expire, name="presence-expiry", daemon=True)
        self._thread.start()
        publish(self.store, PRESENCE_QUERY, session=self.session)

    def _on_event(self, event: Event) -> None:
        data = event.data
        if event.kind == PRESENCE:
            try:
                entry = PresenceEntry(str(data["session"]), int(data["operator_id"]),
                                      str(data["operator_name"]),
                                      None if event.task_id is None else int(event.task_id),
                                      bool(data.get("typing")))
                ttl = float(data.get("ttl") or HEARTBEAT * 3)
            except (KeyError, TypeError, ValueError):
                return
            with self._cond:
                old = self._entries.get(entry.session)
                self._entries[entry.session] = (entry, time.monotonic() + ttl)
                self._cond.notify()
            changed = old is None or old[0] != entry
        elif event.kind == PRESENCE_LEFT:
            with self._cond:
                changed = self._entries.pop(str(data.get("session")), None) is not None
        else:
            return
        if changed:
            self._changed()

    def _expire(self) -> None:
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                gone = [s for s, (_e, until) in self._entries.items() if until <= now]
                for session in gone:
                    del self._entries[session]
                if gone:
                    self._cond.release()
                    try:
                        self._changed()
                    finally:
                        self._cond.acquire()
                    continue
                nearest = min((until for _e, until in self._entries.values()), default=None)
                self._cond.wait(None if nearest is None else nearest - now)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def entries(self) -> list[PresenceEntry]:
        """Everyone present now, by operator name."""
        now = time.monotonic()
        with self._cond:
            alive = [e for e, until in self._entries.values() if until > now]
        return sorted(alive, key=lambda e: (e.operator_name, e.session))

    def in_task(self, task_id: int, exclude_session: str | None = None) -> list[PresenceEntry]:
        """Who has ``task_id`` open (typing or not), except one session (usually ours)."""
        return [e for e in self.entries() if e.task_id == task_id and e.session != exclude_session]

    def by_task(self) -> dict[int, list[PresenceEntry]]:
        """Task id → who has it open: for the task-list rows."""
        out: dict[int, list[PresenceEntry]] = {}
        for entry in self.entries():
            if entry.task_id is not None:
                out.setdefault(entry.task_id, []).append(entry)
        return out

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
